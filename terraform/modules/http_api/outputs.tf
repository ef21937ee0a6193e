output "url" {
  description = "Base URL of the API (the ems CLI's EMS_API_URL)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "api_id" {
  description = "Id of the API (the ApiId dimension of its CloudWatch metrics)."
  value       = aws_apigatewayv2_api.this.id
}

output "stage_name" {
  description = "Name of the stage (the Stage dimension of its CloudWatch metrics)."
  value       = aws_apigatewayv2_stage.default.name
}
