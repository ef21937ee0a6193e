output "api_url" {
  description = "EMS_API_URL for the ems CLI."
  value       = module.app.api_url
}

output "api_key_secret" {
  description = "Secret holding the API key: set its value once (docs/deploy.md)."
  value       = module.app.api_key_secret
}

output "unsubscribe_keys_secret" {
  description = "Secret holding the unsubscribe links' keys (EMS fills it; docs/deploy.md)."
  value       = module.app.unsubscribe_keys_secret
}

output "dns_records" {
  description = "Every DNS record the sender domain must publish: {name, type, value, purpose} (docs/deploy.md, Deliverability)."
  value       = module.app.dns_records
}

output "ses_dns" {
  description = "Records the sender domain's DNS must publish."
  value       = module.app.ses_dns
}

output "service_settings" {
  description = "The names the functions read as EMS_<KEY>."
  value       = module.app.service_settings
}

output "functions" {
  description = "The functions, by role."
  value       = module.app.functions
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment."
  value       = module.app.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (subscribe a pager or chat integration)."
  value       = module.app.alarm_topic_arn
}
