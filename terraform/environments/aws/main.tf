# The AWS root of every environment (dev, staging, prod): the provider and one call to
# modules/app. An environment is a pair of files here, <env>.tfvars and <env>.s3.tfbackend
# (terraform/README.md says why one root rather than one per environment).

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
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "app" {
  source = "../../modules/app"

  environment        = var.environment
  name_prefix        = var.name_prefix
  bucket_name_prefix = var.bucket_name_prefix
  sender_domain      = var.sender_domain
  account_id         = var.account_id
  package_dir        = coalesce(var.package_dir, "${path.root}/../../../dist")

  dmarc_report_mailbox = var.dmarc_report_mailbox

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

  alarm_emails = var.alarm_emails

  # Campaign safety (docs/sending.md): the reputation brake and the reconciler. Null keeps
  # modules/app's value.
  brake_hard_bounce_rate        = var.brake_hard_bounce_rate
  brake_complaint_rate          = var.brake_complaint_rate
  brake_min_sent                = var.brake_min_sent
  settle_after_seconds          = var.settle_after_seconds
  recount_after_seconds         = var.recount_after_seconds
  verification_deadline_seconds = var.verification_deadline_seconds

  # Unsubscribe links: where they point, the mailto beside them, their own throttling.
  public_api_url                     = var.public_api_url
  unsubscribe_mailbox                = var.unsubscribe_mailbox
  unsubscribe_throttling_rate_limit  = var.unsubscribe_throttling_rate_limit
  unsubscribe_throttling_burst_limit = var.unsubscribe_throttling_burst_limit

  tags = local.tags
}

# One root serves every environment, so nothing in the configuration ties a state to its
# variables: `-var-file=prod.tfvars` against dev's state would turn dev into prod (replacing
# most of it). This resource keeps, in each state, the environment it was first applied with
# (ignore_changes: a later apply never overwrites it), and the plan fails when the variables
# name another one. On the first apply its output is unknown at plan, so the check waits for
# the apply, where it holds.
resource "terraform_data" "environment" {
  input = var.environment

  lifecycle {
    ignore_changes = [input]

    postcondition {
      condition     = self.output == var.environment
      error_message = "This state belongs to the ${self.output} environment, but the variables are ${var.environment}'s (environment = \"${var.environment}\"). Nothing was changed. To deploy ${var.environment}, point the root at its state: terraform -chdir=terraform/environments/aws init -reconfigure -backend-config=${var.environment}.s3.tfbackend -backend-config=bucket=<state bucket> -backend-config=region=<region>. To deploy ${self.output}, use -var-file=${self.output}.tfvars."
    }
  }
}
