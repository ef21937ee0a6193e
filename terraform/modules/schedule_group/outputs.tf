output "name" {
  description = "Name of the schedule group."
  value       = aws_scheduler_schedule_group.this.name
}

output "arn" {
  description = "ARN of the schedule group (schedules in it are arn:...:schedule/<group>/<name>)."
  value       = aws_scheduler_schedule_group.this.arn
}
