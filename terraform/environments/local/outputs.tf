output "service_settings" {
  description = "Names the services read as environment variables EMS_<KEY uppercased>."
  value       = module.platform.service_settings
}

output "region" {
  description = "Region of the local stack (AWS_DEFAULT_REGION for the services)."
  value       = var.region
}

output "dns_records" {
  description = "The DNS records the sender domain would need on AWS (LocalStack verifies nothing: for a look at what an AWS deploy prints)."
  value       = module.platform.dns_records
}

output "unsubscribe_keys_secret_id" {
  description = "The secret EMS keeps its unsubscribe link keys in (EMS_UNSUBSCRIBE_KEYS_SECRET_ID of the scheduler)."
  value       = aws_secretsmanager_secret.unsubscribe_keys.name
}
