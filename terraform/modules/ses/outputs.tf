output "configuration_set_name" {
  description = "Name of the configuration set to pass on every send."
  value       = aws_ses_configuration_set.this.name
}

output "configuration_set_arn" {
  description = "ARN of the configuration set (for IAM policies)."
  value       = aws_ses_configuration_set.this.arn
}

output "domain" {
  description = "The sending domain."
  value       = aws_ses_domain_identity.this.domain
}

output "identity_arn" {
  description = "ARN of the domain identity (for IAM policies on ses:SendEmail / ses:SendTemplatedEmail)."
  value       = aws_ses_domain_identity.this.arn
}

output "verification_token" {
  description = "Value of the TXT record _amazonses.<domain> that verifies the domain."
  value       = aws_ses_domain_identity.this.verification_token
}

output "dkim_tokens" {
  description = "DKIM tokens: publish <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com for each."
  value       = aws_ses_domain_dkim.this.dkim_tokens
}

output "mail_from_domain" {
  description = "The custom MAIL FROM domain (null: SES's own)."
  value       = local.mail_from_domain
}

output "dns_records" {
  description = "Every DNS record the sending domain needs, as a list of {name, type, value, purpose}: the _amazonses verification TXT, the three DKIM CNAMEs, the custom MAIL FROM's MX (\"10 feedback-smtp.<region>.amazonses.com\") and SPF TXT, and a DMARC TXT (p=none) at _dmarc.<domain>."
  value       = local.dns_records
}

output "events_role_arn" {
  description = "ARN of the role SES assumes to put the configuration set's events into the Firehose stream."
  value       = aws_iam_role.firehose_events.arn
}

output "events_destination_name" {
  description = "Name of the configuration set's event destination that feeds the tracker (<set>-firehose)."
  value       = aws_sesv2_configuration_set_event_destination.firehose.event_destination_name
}
