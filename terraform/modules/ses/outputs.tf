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
