variable "domain" {
  description = "Sending domain registered as an SES identity (DKIM included). Its DNS needs the verification TXT record and the three DKIM CNAME records (see outputs)."
  type        = string
}

variable "configuration_set_name" {
  description = "Name of the SES configuration set that sends publish their events through. Also prefixes the event destination names and names the SES events role (<name>-ses-events)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,52}$", var.configuration_set_name))
    error_message = "configuration_set_name must be 1-52 letters, digits, hyphens or underscores (event destination names add up to 12 characters, limit 64)."
  }
}

variable "tls_policy" {
  description = "delivery_options TLS policy of the configuration set: \"Require\" or \"Optional\". Null leaves delivery options unset (LocalStack does not implement PutConfigurationSetDeliveryOptions)."
  type        = string
  default     = "Require"

  validation {
    condition     = var.tls_policy == null || contains(["Require", "Optional"], coalesce(var.tls_policy, "Require"))
    error_message = "tls_policy must be \"Require\", \"Optional\" or null."
  }
}

variable "account_id" {
  description = "AWS account id: the SES role's trust policy allows only this account's configuration set (aws:SourceAccount, aws:SourceArn)."
  type        = string
}

variable "firehose_stream_arn" {
  description = "ARN of the Firehose stream that receives the configuration set's events (the event destination <set>-firehose); SES may put records into it and nothing else."
  type        = string
}

variable "event_types" {
  description = "SES event types published to the Firehose stream (what the tracker reads), in SES v2 spelling."
  type        = list(string)
  default     = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]

  validation {
    condition = length(var.event_types) > 0 && alltrue([
      for t in var.event_types : contains(["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"], t)
    ])
    error_message = "event_types must name at least one SES v2 event type: SEND, REJECT, BOUNCE, COMPLAINT, DELIVERY, OPEN, CLICK, RENDERING_FAILURE, DELIVERY_DELAY or SUBSCRIPTION."
  }
}

variable "tags" {
  description = "Tags applied to the taggable resources (the SES role)."
  type        = map(string)
  default     = {}
}

variable "cloudwatch_destination_enabled" {
  description = "Whether the configuration set also publishes event metrics to CloudWatch (dimensions: cloudwatch_dimension_tags plus ses:configuration-set). Off only where LocalStack stands in for SES, which publishes no SES metrics to CloudWatch."
  type        = bool
  default     = true
}

variable "cloudwatch_event_types" {
  description = "SES event types published as CloudWatch metrics when cloudwatch_destination_enabled is true, in SES v2 spelling (the v1 API has no DELIVERY_DELAY or SUBSCRIPTION)."
  type        = list(string)
  default     = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]
}

variable "cloudwatch_dimension_tags" {
  description = "Message tags that become CloudWatch dimensions, each mapped to the value published when a message lacks the tag. The configuration set's auto-tag ses:configuration-set is always added."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name, default_value in var.cloudwatch_dimension_tags :
      can(regex("^[A-Za-z0-9_:-]{1,256}$", name)) && can(regex("^[A-Za-z0-9_.@-]{1,256}$", default_value))
    ])
    error_message = "cloudwatch_dimension_tags: tag names may use only letters, digits, '_', '-' and ':', default values only letters, digits, '_', '-', '.' and '@' (1-256 characters each)."
  }
}

variable "mail_from_subdomain" {
  description = "Subdomain of the custom MAIL FROM domain (<this>.<domain>), whose MX and SPF records dns_records lists: SPF then aligns with the From domain for DMARC. Null: SES's own MAIL FROM domain (amazonses.com), where only DKIM aligns."
  type        = string
  default     = "bounce"

  validation {
    condition     = var.mail_from_subdomain == null || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.mail_from_subdomain, "x")))
    error_message = "mail_from_subdomain must be one DNS label (lowercase letters, digits, hyphens), such as \"bounce\", or null."
  }
}

variable "dmarc_report_mailbox" {
  description = "Address DMARC aggregate reports go to (rua=mailto:<this> in the DMARC record of dns_records). Null: a DMARC record without reports."
  type        = string
  default     = null

  validation {
    condition     = var.dmarc_report_mailbox == null || can(regex("^[^@\\s;,]+@[^@\\s;,]+\\.[^@\\s;,]+$", coalesce(var.dmarc_report_mailbox, "a@b.c")))
    error_message = "dmarc_report_mailbox must be one email address, such as \"dmarc-reports@example.com\" (without mailto:)."
  }
}
