output "rule_name" {
  description = "Name of the rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the rule (the aws:SourceArn the target's resource policy should name)."
  value       = aws_cloudwatch_event_rule.this.arn
}
