output "arn" {
  description = "ARN of the topic."
  value       = aws_sns_topic.this.arn
}

output "name" {
  description = "Name of the topic."
  value       = aws_sns_topic.this.name
}

output "subscription_arns" {
  description = "ARNs of the SQS subscriptions, in the order of sqs_subscription_arns."
  value       = aws_sns_topic_subscription.sqs[*].arn
}
