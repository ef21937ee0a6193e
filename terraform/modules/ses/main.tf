resource "aws_ses_domain_identity" "this" {
  domain = var.domain
}

resource "aws_ses_domain_dkim" "this" {
  domain = aws_ses_domain_identity.this.domain
}

resource "aws_ses_configuration_set" "this" {
  name                       = var.configuration_set_name
  reputation_metrics_enabled = true
  sending_enabled            = true

  dynamic "delivery_options" {
    for_each = var.tls_policy == null ? [] : [var.tls_policy]

    content {
      tls_policy = delivery_options.value
    }
  }
}

resource "aws_ses_event_destination" "cloudwatch" {
  count = var.cloudwatch_destination_enabled ? 1 : 0

  name                   = "${var.configuration_set_name}-cloudwatch"
  configuration_set_name = aws_ses_configuration_set.this.name
  enabled                = true
  matching_types         = var.event_types

  dynamic "cloudwatch_destination" {
    for_each = var.cloudwatch_dimension_tags

    content {
      dimension_name = cloudwatch_destination.key
      default_value  = cloudwatch_destination.value
      value_source   = "messageTag"
    }
  }
}

resource "aws_ses_event_destination" "sns" {
  name                   = "${var.configuration_set_name}-sns"
  configuration_set_name = aws_ses_configuration_set.this.name
  enabled                = true
  matching_types         = var.event_types

  sns_destination {
    topic_arn = var.sns_topic_arn
  }

  # LocalStack (moto) keeps only the last event destination created per
  # configuration set: creating the SNS one last keeps events flowing locally.
  # It also treats destination names as account-wide, hence the set's name in them.
  depends_on = [aws_ses_event_destination.cloudwatch]
}
