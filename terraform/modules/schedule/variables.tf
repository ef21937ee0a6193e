variable "name" {
  description = "Name of the EventBridge rule."
  type        = string
}

variable "description" {
  description = "Description of the rule."
  type        = string
  default     = null
}

variable "schedule_expression" {
  description = "When the rule fires: rate(...) or cron(...), e.g. \"rate(1 minute)\"."
  type        = string

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(...) or cron(...)."
  }
}

variable "enabled" {
  description = "Whether the rule fires."
  type        = bool
  default     = true
}

variable "target_arn" {
  description = "ARN of the rule's single target (a Lambda function, an SQS queue...). The target's resource policy must let events.amazonaws.com invoke or send from this rule."
  type        = string
}

variable "target_id" {
  description = "ID of the target within the rule."
  type        = string
  default     = "target"
}

variable "input" {
  description = "JSON text passed to the target instead of the scheduled event. Null: the event itself."
  type        = string
  default     = null
}

variable "target_role_arn" {
  description = "ARN of the role EventBridge assumes to reach the target, for targets that need one. Null for Lambda and SQS, which use resource policies."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to the rule."
  type        = map(string)
  default     = {}
}
