variable "name" {
  description = "Name of the HTTP API (and of its access log group /aws/apigateway/<name>)."
  type        = string
}

variable "description" {
  description = "What the API serves."
  type        = string
}

variable "function_name" {
  description = "Name of the Lambda function behind every route (the scheduler API)."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of that function."
  type        = string
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the function (at most 30,000 ms)."
  type        = number
  default     = 29000
}

variable "throttling_rate_limit" {
  description = "Steady requests per second the API accepts before answering 429."
  type        = number
  default     = 50
}

variable "throttling_burst_limit" {
  description = "Requests the API accepts in a burst before answering 429."
  type        = number
  default     = 100
}

variable "log_retention_days" {
  description = "Days the access logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
