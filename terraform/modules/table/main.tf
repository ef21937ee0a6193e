locals {
  key_attributes = concat(
    [{ name = var.hash_key, type = "S" }],
    var.range_key == null ? [] : [{ name = var.range_key, type = "S" }],
  )
  billing_mode = var.dynamodb_local ? "PROVISIONED" : "PAY_PER_REQUEST"
  # Capacity is required with PROVISIONED billing, which only DynamoDB Local gets; it does not enforce it.
  local_capacity = var.dynamodb_local ? 5 : null

  # One definition per attribute name: a key may also appear in var.attributes.
  attributes = {
    for a in concat(local.key_attributes, var.attributes) : a.name => a.type...
  }
}

resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV_AWS_119: encrypted at rest with the AWS-managed key by default; a customer-managed key is available through kms_key_arn where a compliance rule asks for it.
  name                        = var.name
  billing_mode                = local.billing_mode
  read_capacity               = local.local_capacity
  write_capacity              = local.local_capacity
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.attributes

    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes

    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.non_key_attributes
      read_capacity      = local.local_capacity
      write_capacity     = local.local_capacity
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute == null ? [] : [var.ttl_attribute]

    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  dynamic "server_side_encryption" {
    for_each = var.dynamodb_local ? [] : [var.kms_key_arn]

    content {
      enabled     = true
      kms_key_arn = server_side_encryption.value
    }
  }

  tags = var.dynamodb_local ? {} : var.tags
}
