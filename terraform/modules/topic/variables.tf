variable "name" {
  description = "Name of the SNS topic."
  type        = string
}

variable "kms_master_key_id" {
  description = "ARN (or alias) of the KMS key that encrypts the topic at rest. Publishers such as SES need kms:GenerateDataKey* and kms:Decrypt on a customer-managed key. Null: no encryption."
  type        = string
  default     = "alias/aws/sns"
}

variable "sqs_subscription_arns" {
  description = "ARNs of the SQS queues subscribed to the topic. Each queue's policy must let this topic send (sqs:SendMessage with aws:SourceArn = the topic ARN)."
  type        = list(string)
  default     = []
}

variable "raw_message_delivery" {
  description = "Whether the SQS subscriptions deliver the published message as is (true) or wrapped in the SNS JSON envelope (false)."
  type        = bool
  default     = false
}

variable "policy_statements" {
  description = "Statements of the topic's resource policy (e.g. letting SES publish). The resource is always this topic's ARN. Empty list: the default topic policy."
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
  description = "Tags applied to the topic."
  type        = map(string)
  default     = {}
}
