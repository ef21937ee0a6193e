variable "name_prefix" {
  description = "Prefix of the alarm, topic and dashboard names."
  type        = string
}

variable "account_id" {
  description = "AWS account id (for the alarm topic's key policy)."
  type        = string
}

variable "region" {
  description = "Region the dashboard's widgets read."
  type        = string
}

variable "dead_letter_queues" {
  description = "Dead-letter queues, by what they hold (e.g. send = the send queue's DLQ) => queue name. Each gets an alarm when it holds a message."
  type        = map(string)
}

variable "queues" {
  description = "Work queues, by role => queue name: their depth and oldest message are on the dashboard."
  type        = map(string)
}

variable "functions" {
  description = "Lambda functions, by role => function name: errors and throttles are alarmed, and they are on the dashboard."
  type        = map(string)
}

variable "configuration_set_name" {
  description = "SES configuration set whose reputation metrics (bounce and complaint rates) are alarmed."
  type        = string
}

variable "ses_events_stream" {
  description = "The Firehose stream SES events go through (name) and how long it buffers them (buffer_seconds): its alarm fires when events wait more than twice that."
  type = object({
    name           = string
    buffer_seconds = number
  })
}

variable "bounce_rate_threshold" {
  description = "Bounce rate that raises the alarm. SES reviews an account at 5 % and may pause it at 10 %."
  type        = number
  default     = 0.05
}

variable "complaint_rate_threshold" {
  description = "Complaint rate that raises the alarm. SES reviews an account at 0.1 % and may pause it at 0.5 %."
  type        = number
  default     = 0.001
}

variable "function_error_threshold" {
  description = "Errors of one function within 5 minutes that raise its alarm."
  type        = number
  default     = 5
}

variable "api_id" {
  description = "Id of the HTTP API (for its 5xx alarm and dashboard widget)."
  type        = string
}

variable "api_stage" {
  description = "Stage of the HTTP API."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the alarm topic's KMS key is deleted after a destroy."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
