variable "domain" {
  description = "Sending domain registered as an SES identity (DKIM included). Its DNS needs the verification TXT record and the three DKIM CNAME records (see outputs)."
  type        = string
}

variable "configuration_set_name" {
  description = "Name of the SES configuration set that sends publish their events through. Also prefixes the event destination names."
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

variable "sns_topic_arn" {
  description = "ARN of the SNS topic that receives the configuration set's sending events."
  type        = string
}

variable "event_types" {
  description = "SES event types published to the SNS topic by the v1 destination (sns_destination_v2 = false), in v1 spelling."
  type        = list(string)
  default     = ["send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure"]
}

variable "cloudwatch_destination_enabled" {
  description = "Whether the configuration set also publishes event metrics to CloudWatch (dimensions: cloudwatch_dimension_tags plus ses:configuration-set). Off only where LocalStack stands in for SES: it keeps one event destination per configuration set (that one must be SNS) and emulates no SES v2, which this destination uses."
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

variable "sns_destination_v2" {
  description = "Whether the SNS event destination is the SES v2 resource (all of sns_event_types_v2). False only on LocalStack, which emulates no SES v2: then the v1 resource publishes event_types."
  type        = bool
  default     = true
}

variable "sns_event_types_v2" {
  description = "SES event types published to the SNS topic when sns_destination_v2 is true (what the tracker reads), in SES v2 spelling."
  type        = list(string)
  default     = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]
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
