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

locals {
  # SES auto-tags every message with its configuration set: as a dimension the auto-tag takes its
  # full name, and the set's name as default (SES developer guide, CloudWatch event destinations).
  cloudwatch_dimensions = merge(
    var.cloudwatch_dimension_tags,
    { "ses:configuration-set" = var.configuration_set_name },
  )
}

# SES v2 resource on the v1 configuration set (SES shares them): the v1 API has no
# DELIVERY_DELAY or SUBSCRIPTION event types. Never created on LocalStack, which emulates no SES v2.
resource "aws_sesv2_configuration_set_event_destination" "cloudwatch" {
  count = var.cloudwatch_destination_enabled ? 1 : 0

  configuration_set_name = aws_ses_configuration_set.this.name
  event_destination_name = "${var.configuration_set_name}-cloudwatch"

  event_destination {
    enabled              = true
    matching_event_types = var.cloudwatch_event_types

    cloud_watch_destination {
      dynamic "dimension_configuration" {
        for_each = local.cloudwatch_dimensions

        content {
          dimension_name          = dimension_configuration.key
          default_dimension_value = dimension_configuration.value
          dimension_value_source  = "MESSAGE_TAG"
        }
      }
    }
  }
}

# What the tracker reads. On AWS the SES v2 resource, the only one that can publish all ten event
# types (the v1 API has no DELIVERY_DELAY or SUBSCRIPTION).
resource "aws_sesv2_configuration_set_event_destination" "sns" {
  count = var.sns_destination_v2 ? 1 : 0

  configuration_set_name = aws_ses_configuration_set.this.name
  event_destination_name = "${var.configuration_set_name}-sns"

  event_destination {
    enabled              = true
    matching_event_types = var.sns_event_types_v2

    sns_destination {
      topic_arn = var.sns_topic_arn
    }
  }
}

# The v1 resource, for LocalStack (moto), which emulates no SES v2; it carries eight event types.
resource "aws_ses_event_destination" "sns" {
  count = var.sns_destination_v2 ? 0 : 1

  name                   = "${var.configuration_set_name}-sns"
  configuration_set_name = aws_ses_configuration_set.this.name
  enabled                = true
  matching_types         = var.event_types

  sns_destination {
    topic_arn = var.sns_topic_arn
  }

  # The only destination on LocalStack (moto), which keeps one per configuration set and
  # treats destination names as account-wide, hence the set's name in them.
}

moved {
  from = aws_ses_event_destination.sns
  to   = aws_ses_event_destination.sns[0]
}
