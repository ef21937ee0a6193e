output "api_url" {
  description = "Base URL of the EMS API (EMS_API_URL for the ems CLI)."
  value       = module.http_api.url
}

output "api_key_secret" {
  description = "Secrets Manager secret holding the API key (X-Api-Key): set its value once after the first apply (docs/deploy.md)."
  value       = aws_secretsmanager_secret.api_key.name
}

output "unsubscribe_keys_secret" {
  description = "Secrets Manager secret holding the keys that seal unsubscribe links: EMS fills it; add a key as docs/deploy.md says, never remove one younger than the links."
  value       = aws_secretsmanager_secret.unsubscribe_keys.name
}

output "dns_records" {
  description = "Every DNS record the sender domain must publish, as a list of {name, type, value, purpose}: the SES verification TXT, three DKIM CNAMEs, the custom MAIL FROM's MX and SPF TXT, and a DMARC TXT (p=none) (docs/deploy.md, Deliverability)."
  value       = module.platform.dns_records
}

output "ses_dns" {
  description = "DNS records the sender domain must publish: TXT _amazonses.<domain> = verification_token, and <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com for each DKIM token."
  value       = module.platform.ses_dns
}

output "service_settings" {
  description = "The names every function reads as EMS_<KEY>."
  value       = module.platform.service_settings
}

output "functions" {
  description = "The functions, by role."
  value = {
    api                  = module.api.function_name
    compile              = module.compile.function_name
    launcher             = module.launcher.function_name
    sender               = module.sender.function_name
    sender_transactional = module.sender_transactional.function_name
    tracker              = module.tracker.function_name
  }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = module.alarms.topic_arn
}

output "dashboard_name" {
  description = "The environment's CloudWatch dashboard."
  value       = module.alarms.dashboard_name
}

output "reconciler_settings" {
  description = "What the launcher's reconciler works to: a SENDING campaign quiet for settle_after_seconds is completed (its emails without a final event counted unconfirmed); one VERIFYING for verification_deadline_seconds is FAILED, after the compile worker's last attempt (compile_retry_span_seconds) is over. One quiet for recount_after_seconds has its counters recounted from its email records, corrected recount_correction_wait_seconds (the tracker's timeout) after the count."
  value = {
    settle_after_seconds            = var.settle_after_seconds
    recount_after_seconds           = var.recount_after_seconds
    recount_correction_wait_seconds = local.tracker_timeout_s
    verification_deadline_seconds   = var.verification_deadline_seconds
    compile_retry_span_seconds      = local.compile_retry_span_s
  }

  precondition {
    condition     = var.verification_deadline_seconds > local.compile_retry_span_s
    error_message = "verification_deadline_seconds is ${var.verification_deadline_seconds}, but a compile job may still be retried until ${local.compile_retry_span_s} s after it was queued (${local.compile_max_receives} attempts, each received again after the compile queue's visibility timeout of ${6 * local.compile_timeout_s} s, 6 times the worker's ${local.compile_timeout_s} s timeout): the reconciler would fail campaigns whose verification can still succeed. Set it above ${local.compile_retry_span_s} (the default is 10800)."
  }
}
