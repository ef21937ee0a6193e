variable "name" {
  description = "Function name; also names its role (<name>) and log group (/aws/lambda/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, hyphens or underscores (the role and DLQ names add up to 8 characters)."
  }
}

variable "account_id" {
  description = "AWS account id the function lives in (its role's policy names its own log group)."
  type        = string
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "package_file" {
  description = "Path of the deployment zip built by `make package` (dist/<service>.zip)."
  type        = string
}

variable "handler" {
  description = "Handler, module.function (e.g. ems_tracker.handlers.track.handler)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime; the packages are built for it (make package)."
  type        = string
  default     = "python3.13"
}

variable "architecture" {
  description = "Instruction set the packages are built for (make package builds x86_64 wheels)."
  type        = string
  default     = "x86_64"
}

variable "memory_mb" {
  description = "Memory (MB); CPU grows with it."
  type        = number
  default     = 512
}

variable "timeout_seconds" {
  description = "Longest one invocation may run. A queue this function consumes needs a visibility timeout of at least 6 times this."
  type        = number
  default     = 60
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and the most allowed to) this function. With an SQS trigger it must be at least the trigger's maximum_concurrency."
  type        = number

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1 (0 would stop the function; -1, unreserved, lets it starve the account's other functions)."
  }
}

variable "environment" {
  description = "Environment variables (names only: no secret belongs here)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Days the function's CloudWatch logs are kept."
  type        = number
  default     = 365
}

variable "log_level" {
  description = "Log level of the function's logs (recipients' addresses appear only at DEBUG)."
  type        = string
  default     = "INFO"
}

variable "policy_statements" {
  description = "What the function may do, beyond writing its own logs and consuming its trigger queue (added here). A statement whose resources must be \"*\" (an action with no resource-level permission) carries a Sid starting with \"Unscoped\" and the reason in a comment."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "sqs_trigger" {
  description = "SQS queue the function consumes (partial batch responses: ReportBatchItemFailures). Null: no trigger."
  type = object({
    queue_arn                  = string
    batch_size                 = number
    batching_window_in_seconds = optional(number, 0)
    maximum_concurrency        = number
  })
  default = null

  validation {
    condition     = var.sqs_trigger == null || try(var.sqs_trigger.maximum_concurrency >= 2 && var.sqs_trigger.maximum_concurrency <= 1000, false)
    error_message = "sqs_trigger.maximum_concurrency must be 2-1000 (the SQS event source's limits)."
  }
}

variable "async_failure_queue" {
  description = "Whether asynchronous invocations (EventBridge, Scheduler) that fail after Lambda's retries go to an SQS dead-letter queue <name>-dlq."
  type        = bool
  default     = false
}

variable "async_max_retries" {
  description = "Retries of a failed asynchronous invocation (0-2)."
  type        = number
  default     = 2
}

variable "invoke_permissions" {
  description = "Who may invoke the function: AWS service principal and the ARN of the resource that calls (e.g. the EventBridge rule, the API's execution ARN). Keyed by a statement id."
  type = map(object({
    principal  = string
    source_arn = string
  }))
  default = {}
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
