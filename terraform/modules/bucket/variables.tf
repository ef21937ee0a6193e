variable "name" {
  description = "Name of the S3 bucket (globally unique on AWS)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for default encryption (SSE-KMS). Null: SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "versioning" {
  description = "Whether object versioning is enabled."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (only matters with versioning)."
  type        = number
  default     = 30
}

variable "expiration_days" {
  description = "Days after which objects under expiration_prefix are deleted. Null: objects do not expire."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= 1, false)
    error_message = "expiration_days must be at least 1, or null."
  }
}

variable "expiration_prefix" {
  description = "Key prefix the expiration rule applies to (\"\" = the whole bucket)."
  type        = string
  default     = ""
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which unfinished multipart uploads are aborted (and their parts deleted)."
  type        = number
  default     = 7
}

variable "force_destroy" {
  description = "Whether destroying the bucket deletes its objects first. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to the bucket."
  type        = map(string)
  default     = {}
}
