output "topic_arn" {
  description = "SNS topic every alarm notifies (subscribe a pager or chat integration to it)."
  value       = module.topic.arn
}

output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Every alarm of the environment."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.dlq : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.campaign_paused : alarm.alarm_name],
    [
      aws_cloudwatch_metric_alarm.bounce_rate.alarm_name,
      aws_cloudwatch_metric_alarm.complaint_rate.alarm_name,
      aws_cloudwatch_metric_alarm.api_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.ses_events_delivery.alarm_name,
    ],
  )
}
