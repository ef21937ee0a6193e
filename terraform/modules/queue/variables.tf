variable "name" {
  description = "Name of the queue. The dead-letter queue is named \"<name>-dlq\" unless dlq_name is set."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue. Null means \"<name>-dlq\"."
  type        = string
  default     = null
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays invisible to other consumers. Must cover the consumer's processing time (on AWS: at least 6x the Lambda timeout when a Lambda consumes the queue)."
  type        = number
  default     = 30

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be between 0 and 43200 (12 hours)."
  }
}

variable "message_retention_seconds" {
  description = "How long the queue keeps a message that nobody deletes."
  type        = number
  default     = 345600 # 4 days, the SQS default

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message. The maximum, 14 days, leaves the most time to inspect and redrive failures."
  type        = number
  default     = 1209600 # 14 days

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "How many times a message may be received before SQS moves it to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "delay_seconds" {
  description = "Delay before a new message becomes visible."
  type        = number
  default     = 0
}

variable "receive_wait_time_seconds" {
  description = "Default long-polling wait of ReceiveMessage (0 = short polling unless the caller asks for a wait)."
  type        = number
  default     = 0
}

variable "policy_statements" {
  description = "Statements of the queue's resource policy (e.g. letting SNS or EventBridge send). The resource is always this queue's ARN. Empty list: no queue policy."
  type = list(object({
    sid     = string
    effect  = optional(string, "Allow")
    actions = list(string)
    principals = list(object({
      type        = string
      identifiers = list(string)
    }))
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "tags" {
  description = "Tags applied to the queue and its dead-letter queue."
  type        = map(string)
  default     = {}
}

variable "account_id" {
  description = "AWS account id the queue lives in. Null: read from the caller's credentials (STS)."
  type        = string
  default     = null
}
