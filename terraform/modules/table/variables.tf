variable "name" {
  description = "Name of the DynamoDB table."
  type        = string
}

variable "hash_key" {
  description = "Name of the partition key attribute (type S)."
  type        = string
  default     = "pk"
}

variable "range_key" {
  description = "Name of the sort key attribute (type S), e.g. \"sk\". Null: the table has a partition key only."
  type        = string
  default     = null
}

variable "attributes" {
  description = "Extra attribute definitions, needed only for attributes that key a global secondary index. type is S, N or B."
  type = list(object({
    name = string
    type = string
  }))
  default = []

  validation {
    condition     = alltrue([for a in var.attributes : contains(["S", "N", "B"], a.type)])
    error_message = "Each attribute type must be S, N or B."
  }
}

variable "global_secondary_indexes" {
  description = "Global secondary indexes. Their key attributes must be the table's keys or be listed in attributes. projection_type is ALL, KEYS_ONLY or INCLUDE (INCLUDE needs non_key_attributes)."
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string))
  }))
  default = []
}

variable "ttl_attribute" {
  description = "Name of the attribute holding the item's expiry time (epoch seconds). Null: no time to live."
  type        = string
  default     = null
}

variable "point_in_time_recovery" {
  description = "Whether point-in-time recovery is on. Keep it on in AWS; DynamoDB Local does not support UpdateContinuousBackups, so the local environment turns it off."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for server-side encryption. Null: the AWS-managed key (aws/dynamodb)."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Whether the table is protected from deletion."
  type        = bool
  default     = false
}

variable "dynamodb_local" {
  description = "Whether the table lives in DynamoDB Local (the local environment only). DynamoDB Local implements no tagging and reports no encryption settings, and it describes a PAY_PER_REQUEST table's indexes without ProvisionedThroughput, which the AWS provider reads as nameless indexes (a diff that fails on every later apply). So there the table is created without tags or SSE settings and with PROVISIONED billing, whose capacity DynamoDB Local does not enforce."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to the table."
  type        = map(string)
  default     = {}
}
