provider "aws" {
  region              = var.region
  allowed_account_ids = var.account_id == null ? null : [var.account_id]

  default_tags {
    tags = local.tags
  }
}

locals {
  tags = merge(var.tags, {
    Project     = "ems"
    Environment = "staging"
    ManagedBy   = "terraform"
  })
}

module "app" {
  source = "../../modules/app"

  environment        = "staging"
  name_prefix        = var.name_prefix
  bucket_name_prefix = var.bucket_name_prefix
  sender_domain      = var.sender_domain
  account_id         = var.account_id
  package_dir        = coalesce(var.package_dir, "${path.root}/../../../dist")

  send_rate_fraction            = var.send_rate_fraction
  daily_quota_fraction          = var.daily_quota_fraction
  sender_max_concurrency        = var.sender_max_concurrency
  transactional_max_concurrency = var.transactional_max_concurrency
  tracker_max_concurrency       = var.tracker_max_concurrency

  log_retention_days        = var.log_retention_days
  record_ttl_days           = var.record_ttl_days
  event_ttl_days            = var.event_ttl_days
  table_deletion_protection = var.table_deletion_protection
  force_destroy_buckets     = var.force_destroy_buckets

  kms_deletion_window_in_days    = var.kms_deletion_window_in_days
  secret_recovery_window_in_days = var.secret_recovery_window_in_days

  api_throttling_rate_limit  = var.api_throttling_rate_limit
  api_throttling_burst_limit = var.api_throttling_burst_limit
  alarm_emails               = var.alarm_emails

  tags = local.tags
}
