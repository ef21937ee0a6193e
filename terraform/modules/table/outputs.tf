output "name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "index_names" {
  description = "Names of the table's global secondary indexes."
  value       = [for gsi in var.global_secondary_indexes : gsi.name]
}

output "index_arns" {
  description = "ARNs of the table's global secondary indexes, by index name (for IAM policies)."
  value       = { for gsi in var.global_secondary_indexes : gsi.name => "${aws_dynamodb_table.this.arn}/index/${gsi.name}" }
}
