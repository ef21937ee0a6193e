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
  description = "SES event types published to the SNS topic (and to CloudWatch when enabled)."
  type        = list(string)
  default     = ["send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure"]
}

variable "cloudwatch_destination_enabled" {
  description = "Whether the configuration set also publishes event metrics to CloudWatch, with the campaignId and segmentId message tags as dimensions."
  type        = bool
  default     = false
}

variable "cloudwatch_dimension_tags" {
  description = "Message tags used as CloudWatch dimensions when cloudwatch_destination_enabled is true, with the value used when a message lacks the tag."
  type        = map(string)
  default = {
    campaignId = "none"
    segmentId  = "none"
  }
}
