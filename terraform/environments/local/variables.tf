variable "localstack_endpoint" {
  description = "URL of LocalStack, which stands in for every AWS service used except DynamoDB."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "dynamodb_endpoint" {
  description = "URL of DynamoDB Local (DynamoDB inside LocalStack does not work offline)."
  type        = string
  default     = "http://127.0.0.1:8000"
}

variable "region" {
  description = "AWS region the emulators answer for."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "ems-local"
}

variable "sender_domain" {
  description = "Sending domain. LocalStack treats a registered domain identity as verified, so any address under it can send."
  type        = string
  default     = "ems.example.com"
}
