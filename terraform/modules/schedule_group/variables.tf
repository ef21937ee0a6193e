variable "name" {
  description = "Name of the EventBridge Scheduler schedule group."
  type        = string
}

variable "tags" {
  description = "Tags applied to the schedule group."
  type        = map(string)
  default     = {}
}
