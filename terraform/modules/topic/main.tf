resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_master_key_id

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  count = length(var.policy_statements) > 0 ? 1 : 0

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = [aws_sns_topic.this.arn]

      dynamic "principals" {
        for_each = statement.value.principals

        content {
          type        = principals.value.type
          identifiers = principals.value.identifiers
        }
      }

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count = length(var.policy_statements) > 0 ? 1 : 0

  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.this[0].json
}

# count, not for_each: the queue ARNs are usually unknown until apply.
resource "aws_sns_topic_subscription" "sqs" {
  count = length(var.sqs_subscription_arns)

  topic_arn            = aws_sns_topic.this.arn
  protocol             = "sqs"
  endpoint             = var.sqs_subscription_arns[count.index]
  raw_message_delivery = var.raw_message_delivery
}
