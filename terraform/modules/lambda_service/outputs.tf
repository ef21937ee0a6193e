output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway integrations use to invoke the function."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "dlq_arn" {
  description = "ARN of the asynchronous-invocation dead-letter queue (null without async_failure_queue)."
  value       = try(aws_sqs_queue.async_dlq[0].arn, null)
}

output "dlq_name" {
  description = "Name of the asynchronous-invocation dead-letter queue (null without async_failure_queue)."
  value       = try(aws_sqs_queue.async_dlq[0].name, null)
}
