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

variable "public_route_keys" {
  description = "Route keys served without an API key (the app lets exactly their paths through), e.g. [\"ANY /u/{token}\"] for EMS's unsubscribe links. Each gets its own throttling (public_throttling_*), apart from the rest of the API's."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for key in var.public_route_keys : can(regex("^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\\S*$", key))])
    error_message = "Each public route key must be \"<METHOD> /<path>\", such as \"ANY /u/{token}\" (METHOD: ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)."
  }
}

variable "public_throttling_rate_limit" {
  description = "Steady requests per second each public route accepts before answering 429."
  type        = number
  default     = 20
}

variable "public_throttling_burst_limit" {
  description = "Requests each public route accepts in a burst before answering 429."
  type        = number
  default     = 40
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
