variable "environment" {
  description = "Environment name (dev, staging, prod): tags every resource."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"ems-prod\"."
  type        = string
}

variable "bucket_name_prefix" {
  description = "Prefix of the S3 bucket names, which must be globally unique (e.g. \"acme-ems-prod\"). Null: name_prefix."
  type        = string
  default     = null
}

variable "sender_domain" {
  description = "Domain EMS sends from (the SES domain identity; its DNS gets the records in the ses_dns output)."
  type        = string
}

variable "mail_from_subdomain" {
  description = "SES's custom MAIL FROM domain is <this>.<sender_domain> (its MX and SPF records are in the dns_records output), so that SPF aligns for DMARC. Null: SES's own MAIL FROM domain, where only DKIM aligns."
  type        = string
  default     = "bounce"
}

variable "dmarc_report_mailbox" {
  description = "Address for DMARC aggregate reports (rua) in the DMARC record of the dns_records output. Null: the record asks for no reports."
  type        = string
  default     = null
}

variable "default_from_local_part" {
  description = "Local part of the default From address (<this>@<sender_domain>)."
  type        = string
  default     = "campaigns"
}

variable "account_id" {
  description = "AWS account id. Null: read from the credentials (STS). Set it to plan without credentials."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Folder holding the Lambda zips `make package` builds: scheduler.zip, launcher.zip, sender.zip, tracker.zip."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

################################################################################
# Sending: how much of the SES account EMS may use
################################################################################

variable "send_rate_fraction" {
  description = "Share of the account's SES maximum send rate the senders use together (the rest is headroom for other senders on the account)."
  type        = number
  default     = 0.9

  validation {
    condition     = var.send_rate_fraction > 0 && var.send_rate_fraction <= 1
    error_message = "send_rate_fraction must be in (0, 1]."
  }
}

variable "daily_quota_fraction" {
  description = "Share of the account's SES 24-hour quota the senders may use."
  type        = number
  default     = 0.95

  validation {
    condition     = var.daily_quota_fraction > 0 && var.daily_quota_fraction <= 1
    error_message = "daily_quota_fraction must be in (0, 1]."
  }
}

variable "sender_max_concurrency" {
  description = "Campaign senders running at once (the send queue trigger's maximum concurrency, and the function's reserved concurrency). Each sends up to EMS_LIMITER_WORKER_SEND_RATE (300) emails a second in SendBulkEmail calls, several in flight; while a campaign sends, each running sender is billed for its whole time, waiting on the limiter included, so more senders than the rate needs cost Lambda time for nothing (docs/sending.md, \"Cost\")."
  type        = number
  default     = 2

  validation {
    condition     = var.sender_max_concurrency >= 2 && floor(var.sender_max_concurrency) == var.sender_max_concurrency
    error_message = "sender_max_concurrency must be a whole number, at least 2 (the least maximum concurrency an SQS event source mapping takes)."
  }
}

variable "sender_memory_mb" {
  description = "Memory of each sender function. The sender mostly waits on the limiter and on SES; 256 MB holds its threads' work with room."
  type        = number
  default     = 256

  validation {
    condition     = var.sender_memory_mb >= 128 && var.sender_memory_mb <= 10240
    error_message = "sender_memory_mb must be from 128 to 10240 (Lambda's range)."
  }
}

variable "transactional_max_concurrency" {
  description = "Transactional senders running at once."
  type        = number
  default     = 3
}

variable "tracker_max_concurrency" {
  description = "Trackers running at once (SES events are written to DynamoDB)."
  type        = number
  default     = 5
}

variable "compile_max_concurrency" {
  description = "Large-candidate compile workers running at once."
  type        = number
  default     = 2
}

variable "api_reserved_concurrency" {
  description = "Concurrent executions reserved for the API function."
  type        = number
  default     = 20
}

variable "sender_timeout_seconds" {
  description = "Longest one sender invocation runs; the send queues' visibility timeout is 6 times this. The sender claims no new email in its last 45 s (EMS_STOP_MARGIN_SECONDS: the limiter's wait of up to 10 s, then SES's 5 s connect and 30 s read timeouts), so that an invocation never times out mid-send."
  type        = number
  default     = 120

  validation {
    condition     = var.sender_timeout_seconds >= 60 && var.sender_timeout_seconds <= 900 && floor(var.sender_timeout_seconds) == var.sender_timeout_seconds
    error_message = "sender_timeout_seconds must be a whole number of seconds from 60 to 900: the sender stops claiming email 45 s before its timeout (so 60 leaves 15 s to send), and Lambda allows at most 900."
  }
}

variable "sender_batch_size" {
  description = "Send-queue messages (50 emails each) one sender invocation takes; it handles them on as many threads at once (EMS_SEND_THREADS), so that an SES call is always in flight while the others wait for their slots (with 4, a sender short of CPU for a moment let 8 % of its slots lapse on the local stack; with 8, 5 %)."
  type        = number
  default     = 8

  validation {
    condition     = var.sender_batch_size >= 1 && var.sender_batch_size <= 10 && floor(var.sender_batch_size) == var.sender_batch_size
    error_message = "sender_batch_size must be a whole number from 1 to 10 (the sender's threads, EMS_SEND_THREADS, follow it): an SQS trigger takes more than 10 messages only with a batching window, which would hold campaign email back, and Lambda refuses the trigger without one."
  }
}

################################################################################
# Retention
################################################################################

variable "log_retention_days" {
  description = "Days the functions' and the API's logs are kept."
  type        = number
  default     = 365
}

variable "record_ttl_days" {
  description = "Days an email's record (status, times) is kept."
  type        = number
  default     = 400
}

variable "rejection_details_days" {
  description = "Days the first rejected recipients of a campaign (their addresses, which GET /campaigns/{id} lists) are kept; the counts by reason stay with the campaign."
  type        = number
  default     = 30

  validation {
    condition     = var.rejection_details_days >= 1
    error_message = "rejection_details_days must be at least 1."
  }
}

variable "event_ttl_days" {
  description = "Days the tracker keeps each raw SES event in the events table (DynamoDB TTL)."
  type        = number
  default     = 90
}

variable "ses_events_retention_days" {
  description = "Days the objects of raw SES events Firehose writes (the events bucket's ses-events/) are kept before they expire."
  type        = number
  default     = 30
}

variable "ses_events_buffer_seconds" {
  description = "How long Firehose buffers SES events before writing them as one object (60-900): the tracker sees an event up to this late; fewer, larger objects cost less (bench/cost.py)."
  type        = number
  default     = 60
}

variable "ses_events_buffer_mb" {
  description = "How many MB of SES events Firehose buffers before writing an object (1-128), whichever of this and ses_events_buffer_seconds comes first. 1 MB (about 600 events) is what the tracker applies well within its timeout, ten objects an invocation."
  type        = number
  default     = 1
}

variable "candidate_retention_days" {
  description = "Days candidates uploaded under candidates/ in the assets bucket (recipients' addresses) are kept."
  type        = number
  default     = 30
}

variable "max_days_ahead" {
  description = "How many days ahead a campaign may be scheduled (EMS_MAX_DAYS_AHEAD of the API): campaign_file_retention_days must cover it plus a month of sending."
  type        = number
  default     = 365

  validation {
    condition     = var.max_days_ahead >= 1
    error_message = "max_days_ahead must be at least 1."
  }
}

variable "campaign_file_retention_days" {
  description = "Days compiled campaign files are kept: at least max_days_ahead plus 30 (a campaign scheduled that far ahead is launched from them, then sends for up to a month)."
  type        = number
  default     = 400
}

variable "point_in_time_recovery" {
  description = "Whether the tables have point-in-time recovery."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Whether the tables are protected from deletion (turn off before a teardown)."
  type        = bool
  default     = true
}

variable "force_destroy_buckets" {
  description = "Whether a destroy also deletes the buckets' objects (throwaway environments only)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the environment's KMS keys are deleted after a destroy."
  type        = number
  default     = 30
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted secret (the API key, the unsubscribe keys) can be restored (0 deletes it at once)."
  type        = number
  default     = 30
}

################################################################################
# API and alarms
################################################################################

variable "api_throttling_rate_limit" {
  description = "Steady API requests per second before 429."
  type        = number
  default     = 50
}

variable "api_throttling_burst_limit" {
  description = "API requests in a burst before 429."
  type        = number
  default     = 100
}

variable "unsubscribe_throttling_rate_limit" {
  description = "Steady requests per second to the unsubscribe links (/u/<token>, no API key) before 429, counted apart from the API's: clicks, one-click POSTs and mail scanners' GETs."
  type        = number
  default     = 20
}

variable "unsubscribe_throttling_burst_limit" {
  description = "Requests to the unsubscribe links in a burst before 429."
  type        = number
  default     = 40
}

variable "alarm_emails" {
  description = "Addresses the alarms notify (each confirms its subscription by email)."
  type        = list(string)
  default     = []
}

variable "bounce_rate_alarm" {
  description = "Bounce rate that raises the alarm (SES reviews at 5 %)."
  type        = number
  default     = 0.05
}

variable "complaint_rate_alarm" {
  description = "Complaint rate that raises the alarm (SES reviews at 0.1 %)."
  type        = number
  default     = 0.001
}

################################################################################
# Unsubscribe links
################################################################################

variable "public_api_url" {
  description = "Base URL of the unsubscribe links in campaign email (EMS_PUBLIC_API_URL), e.g. a custom domain mapped to the API: https://email.example.com. Null: the URL the request that creates the campaign came to (the execute-api URL, which changes if the API is ever recreated)."
  type        = string
  default     = null

  validation {
    condition     = var.public_api_url == null || can(regex("^https://[^/?#\\s]+(/[^?#\\s]*)?$", coalesce(var.public_api_url, "https://x")))
    error_message = "public_api_url must be an https URL without query or fragment, such as \"https://email.example.com\"."
  }
}

variable "unsubscribe_mailbox" {
  description = "An address whose mail someone reads, offered in List-Unsubscribe as a mailto next to the https link (EMS_UNSUBSCRIBE_MAILBOX). EMS does not read it. Null: the https link only."
  type        = string
  default     = null

  validation {
    condition     = var.unsubscribe_mailbox == null || can(regex("^[^@\\s<>,]+@[^@\\s<>,]+\\.[^@\\s<>,]+$", coalesce(var.unsubscribe_mailbox, "a@b.c")))
    error_message = "unsubscribe_mailbox must be one email address, such as \"unsubscribe@mail.example.com\"."
  }
}

################################################################################
# Campaign safety: the reputation brake, and the reconciler that leaves nothing stuck
################################################################################

variable "brake_hard_bounce_rate" {
  description = "A campaign pauses itself (the tracker's reputation brake) when its hard bounces reach this share of its sent emails (EMS_BRAKE_HARD_BOUNCE_RATE). SES reviews an account at 5 %."
  type        = number
  default     = 0.05
  nullable    = false

  validation {
    condition     = var.brake_hard_bounce_rate > 0 && var.brake_hard_bounce_rate <= 1
    error_message = "brake_hard_bounce_rate must be a fraction in (0, 1], such as 0.05 for 5 % (SES reviews an account at 5 %): not a percentage."
  }
}

variable "brake_complaint_rate" {
  description = "A campaign pauses itself when its complaints reach this share of its sent emails (EMS_BRAKE_COMPLAINT_RATE). SES reviews an account at 0.1 %."
  type        = number
  default     = 0.001
  nullable    = false

  validation {
    condition     = var.brake_complaint_rate > 0 && var.brake_complaint_rate <= 1
    error_message = "brake_complaint_rate must be a fraction in (0, 1], such as 0.001 for 0.1 % (SES reviews an account at 0.1 %): not a percentage."
  }
}

variable "brake_min_sent" {
  description = "Emails a campaign sends before its rates can pause it (EMS_BRAKE_MIN_SENT): below this, one bounce says too little."
  type        = number
  default     = 500
  nullable    = false

  validation {
    condition     = var.brake_min_sent >= 1 && floor(var.brake_min_sent) == var.brake_min_sent
    error_message = "brake_min_sent must be a whole number of emails, at least 1 (500 by default: at 5 %, 25 hard bounces)."
  }
}

variable "settle_after_seconds" {
  description = "The launcher's reconciler completes a SENDING campaign whose finished emails have not moved for this long, counting the ones without a final event (delivery, bounce ...) unconfirmed (EMS_SETTLE_AFTER_SECONDS). Events that come later still count."
  type        = number
  default     = 21600
  nullable    = false

  validation {
    condition     = var.settle_after_seconds >= 1 && floor(var.settle_after_seconds) == var.settle_after_seconds
    error_message = "settle_after_seconds must be a whole number of seconds, at least 1 (21600, 6 hours, by default): a campaign is settled after that long without progress."
  }
}

variable "recount_after_seconds" {
  description = "The launcher's reconciler recounts the counters of a SENDING campaign whose finished emails have not moved for this long from its email records, once per quiet spell (EMS_RECOUNT_AFTER_SECONDS): a tracker stopped between a batch's records and its counters left them short (docs/tracking.md, \"The crash window\"). Each recount reads the campaign's records once."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.recount_after_seconds >= 1 && floor(var.recount_after_seconds) == var.recount_after_seconds
    error_message = "recount_after_seconds must be a whole number of seconds, at least 1 (300, 5 minutes, by default): a campaign is recounted after that long without progress."
  }
}

variable "verification_deadline_seconds" {
  description = "The launcher's reconciler marks a campaign still VERIFYING this long after it was accepted FAILED (EMS_VERIFICATION_DEADLINE_SECONDS). It must exceed the compile worker's whole retry span (its attempts times its queue's visibility timeout): the plan fails otherwise, saying by how much."
  type        = number
  default     = 10800
  nullable    = false

  validation {
    condition     = var.verification_deadline_seconds >= 1 && floor(var.verification_deadline_seconds) == var.verification_deadline_seconds
    error_message = "verification_deadline_seconds must be a whole number of seconds (10800, 3 hours, by default), more than the compile worker's whole retry span."
  }
}
