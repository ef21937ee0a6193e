variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"ems-local\" or \"ems-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it is used in S3 bucket names)."
  }
}

variable "bucket_name_prefix" {
  description = "Prefix of the S3 bucket names, which must be globally unique on AWS (e.g. \"acme-ems-prod\"). Null: name_prefix."
  type        = string
  default     = null
}

variable "sender_domain" {
  description = "Domain campaigns are sent from; registered as the SES domain identity."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.sender_domain))
    error_message = "sender_domain must be a lowercase domain name such as \"mail.example.com\"."
  }
}

variable "default_from_local_part" {
  description = "Local part of the default From address: default_from is \"<default_from_local_part>@<sender_domain>\"."
  type        = string
  default     = "campaigns"
}

variable "point_in_time_recovery" {
  description = "Whether the DynamoDB tables have point-in-time recovery (false only where DynamoDB Local stands in for DynamoDB)."
  type        = bool
  default     = true
}

variable "dynamodb_local" {
  description = "Whether DynamoDB Local stands in for DynamoDB. The tables are then adapted to what it implements (see the table module's dynamodb_local); otherwise every apply after the first fails."
  type        = bool
  default     = false
}

variable "table_deletion_protection" {
  description = "Whether the DynamoDB tables are protected from deletion."
  type        = bool
  default     = false
}

variable "force_destroy_buckets" {
  description = "Whether destroying the environment deletes the buckets' objects too (for throwaway environments only)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the SES events KMS key (events bucket and stream) is deleted after a destroy."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}

variable "send_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the send queue: must cover sending one batch (on AWS: at least 6x the sender Lambda's timeout)."
  type        = number
  default     = 60
}

variable "send_queue_max_receive_count" {
  description = "Receives of a send message before it moves to the send DLQ."
  type        = number
  default     = 5
}

variable "tracker_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the tracker queue: must cover processing one batch of S3 notifications (each an object of SES events)."
  type        = number
  default     = 60
}

variable "candidate_retention_days" {
  description = "Days candidates uploaded under candidates/ in the assets bucket (candidateS3Uri: recipients' addresses) are kept before they expire."
  type        = number
  default     = 30

  validation {
    condition     = var.candidate_retention_days >= 1
    error_message = "candidate_retention_days must be at least 1."
  }
}

variable "campaign_file_retention_days" {
  description = "Days compiled campaign files are kept in the campaigns bucket before they expire. They must outlive the furthest date a campaign may be scheduled for plus its sending: the launcher reads them at the campaign's date (modules/app checks this against max_days_ahead)."
  type        = number
  default     = 400

  validation {
    condition     = var.campaign_file_retention_days >= 1
    error_message = "campaign_file_retention_days must be at least 1."
  }
}

variable "campaign_file_prefix" {
  description = "Key prefix of the compiled campaign files the retention applies to (\"\" = the whole campaigns bucket)."
  type        = string
  default     = ""
}

variable "ses_tls_policy" {
  description = "TLS policy of the SES configuration set (\"Require\" or \"Optional\"). Null leaves it unset; needed on LocalStack, which does not implement PutConfigurationSetDeliveryOptions."
  type        = string
  default     = "Require"
}

variable "ses_cloudwatch_destination_enabled" {
  description = "Whether SES also publishes event metrics to CloudWatch, with the campaignId and segmentId message tags and the configuration set as dimensions. Turn it off only on LocalStack, whose SES publishes no metrics to CloudWatch."
  type        = bool
  default     = true
}

variable "launcher_schedule_expression" {
  description = "How often the EventBridge rule wakes the campaign launcher."
  type        = string
  default     = "rate(1 minute)"
}

variable "launcher_target_arn" {
  description = "ARN the launcher rule targets (the launcher Lambda on AWS; its aws_lambda_permission is the caller's). Null: this module creates the SQS queue \"<name_prefix>-launcher-ticks\" as the target, so the rule's firing can be observed where Lambda cannot run."
  type        = string
  default     = null
}

variable "compile_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the compile queue: at least 6 times the compile worker's timeout (a million recipients take about half a minute)."
  type        = number
  default     = 1800
}

variable "compile_queue_max_receive_count" {
  description = "Compile attempts before a job goes to the compile DLQ."
  type        = number
  default     = 3
}

variable "account_id" {
  description = "AWS account id. Null: read from the caller's credentials (STS); set it to plan without credentials."
  type        = string
  default     = null
}

variable "ses_events_buffer_seconds" {
  description = "How long Firehose buffers SES events before it writes them to the events bucket as one object (60-900 s): the tracker sees an event up to this late, and pays per object. AWS's default is 300; 60 keeps the tracker near real time."
  type        = number
  default     = 60

  validation {
    condition     = var.ses_events_buffer_seconds >= 60 && var.ses_events_buffer_seconds <= 900
    error_message = "ses_events_buffer_seconds must be 60 to 900 (Firehose's limits for an S3 destination)."
  }
}

variable "ses_events_buffer_mb" {
  description = "How many MB of SES events Firehose buffers before it writes an object (1-128), whichever of this and ses_events_buffer_seconds comes first. 1 MB is about 600 events: the tracker takes ten objects an invocation and must apply them within its timeout; objects cost next to nothing (bench/cost.py)."
  type        = number
  default     = 1

  validation {
    condition     = var.ses_events_buffer_mb >= 1 && var.ses_events_buffer_mb <= 128
    error_message = "ses_events_buffer_mb must be 1 to 128 (Firehose's limits for an S3 destination)."
  }
}

variable "ses_events_retention_days" {
  description = "Days the raw SES event objects (ses-events/ in the events bucket) are kept before they expire. The tracker applies them within minutes; they stay for an operator to look into."
  type        = number
  default     = 30

  validation {
    condition     = var.ses_events_retention_days >= 1
    error_message = "ses_events_retention_days must be at least 1."
  }
}

variable "ses_events_stream_encryption" {
  description = "Whether the Firehose stream encrypts buffered events with the events KMS key. Off only on LocalStack, whose Firehose implements no stream encryption (a second apply would wait for it forever)."
  type        = bool
  default     = true
}

variable "ses_mail_from_subdomain" {
  description = "Subdomain of the sender domain used as SES's custom MAIL FROM domain (<this>.<sender_domain>), so that SPF aligns for DMARC. Null: SES's own MAIL FROM domain."
  type        = string
  default     = "bounce"
}

variable "dmarc_report_mailbox" {
  description = "Address the DMARC record in dns_records asks aggregate reports to be sent to (rua). Null: no reports asked for."
  type        = string
  default     = null
}
