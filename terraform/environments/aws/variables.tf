variable "environment" {
  description = "Environment name (dev, staging, prod): tags every resource, and must match the state's (the root refuses to plan one environment's variables against another's state)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters: lowercase letters, digits, hyphens, starting with a letter (dev, staging, prod)."
  }
}

variable "region" {
  description = "AWS region to deploy to (SES must be available there)."
  type        = string
}

variable "account_id" {
  description = "AWS account id: Terraform refuses other accounts' credentials. Null: any (read from the credentials)."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Folder of the Lambda zips (`make package`). Null: dist/ at the repository root."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "bucket_name_prefix" {
  description = "Prefix of the bucket names, globally unique (e.g. \"acme-ems-prod\"). Null: name_prefix."
  type        = string
  default     = null
}

variable "sender_domain" {
  description = "Domain EMS sends from (verified in SES through the ses_dns records)."
  type        = string
}

variable "send_rate_fraction" {
  description = "Share of the account's SES send rate EMS uses."
  type        = number
}

variable "daily_quota_fraction" {
  description = "Share of the account's SES 24-hour quota EMS uses."
  type        = number
}

variable "sender_max_concurrency" {
  description = "Campaign senders running at once."
  type        = number
}

variable "transactional_max_concurrency" {
  description = "Transactional senders running at once."
  type        = number
}

variable "tracker_max_concurrency" {
  description = "Trackers running at once."
  type        = number
}

variable "log_retention_days" {
  description = "Days logs are kept."
  type        = number
}

variable "record_ttl_days" {
  description = "Days email records are kept."
  type        = number
}

variable "event_ttl_days" {
  description = "Days raw SES events are kept."
  type        = number
}

variable "table_deletion_protection" {
  description = "Whether the tables are protected from deletion."
  type        = bool
}

variable "force_destroy_buckets" {
  description = "Whether destroy deletes the buckets' objects."
  type        = bool
}

variable "kms_deletion_window_in_days" {
  description = "Days a destroyed KMS key waits before deletion (7-30)."
  type        = number
}

variable "secret_recovery_window_in_days" {
  description = "Days a destroyed API key secret can be restored (0: deleted at once, so the name is free again)."
  type        = number
}

variable "api_throttling_rate_limit" {
  description = "Steady API requests per second."
  type        = number
}

variable "api_throttling_burst_limit" {
  description = "API burst."
  type        = number
}

variable "unsubscribe_throttling_rate_limit" {
  description = "Steady requests per second to the unsubscribe links (no API key), throttled apart from the API."
  type        = number
  default     = 20
}

variable "unsubscribe_throttling_burst_limit" {
  description = "Unsubscribe links' burst."
  type        = number
  default     = 40
}

variable "alarm_emails" {
  description = "Addresses the alarms notify."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Extra tags (e.g. CostCenter)."
  type        = map(string)
  default     = {}
}

variable "public_api_url" {
  description = "Base URL of the unsubscribe links (a custom domain mapped to the API, say). Null: the API's own URL."
  type        = string
  default     = null
}

variable "unsubscribe_mailbox" {
  description = "Address offered as a mailto in List-Unsubscribe next to the https link; someone must read it. Null: the link only."
  type        = string
  default     = null
}

variable "dmarc_report_mailbox" {
  description = "Address for DMARC aggregate reports (rua) in the DMARC record of dns_records. Null: none asked for."
  type        = string
  default     = null
}

variable "brake_hard_bounce_rate" {
  description = "Hard-bounce rate (a fraction: 0.05 is 5 %) at which a campaign pauses itself. Null: modules/app's default, SES's review level of 5 %."
  type        = number
  default     = null
}

variable "brake_complaint_rate" {
  description = "Complaint rate (a fraction: 0.001 is 0.1 %) at which a campaign pauses itself. Null: modules/app's default, SES's review level of 0.1 %."
  type        = number
  default     = null
}

variable "brake_min_sent" {
  description = "Emails a campaign sends before those rates can pause it. Null: modules/app's default (500)."
  type        = number
  default     = null
}

variable "settle_after_seconds" {
  description = "A SENDING campaign without progress for this long is completed, its emails without a final event counted unconfirmed. Null: modules/app's default (6 hours)."
  type        = number
  default     = null
}

variable "recount_after_seconds" {
  description = "A SENDING campaign without progress for this long has its counters recounted from its email records (once per quiet spell). Null: modules/app's default (5 minutes)."
  type        = number
  default     = null
}

variable "verification_deadline_seconds" {
  description = "A campaign still VERIFYING this long after it was accepted is marked FAILED; more than the compile worker's retries take. Null: modules/app's default (3 hours)."
  type        = number
  default     = null
}
