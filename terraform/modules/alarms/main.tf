# What an operator watches: an alarm topic, the alarms EMS needs (a dead-letter queue holding
# a message, SES reputation nearing a review, a campaign that paused itself, functions failing,
# the API answering 5xx, SES events stuck in Firehose), and one dashboard for the environment.

data "aws_partition" "current" {}

locals {
  ses_dimensions = { "ses:configuration-set" = var.configuration_set_name }

  # SES events older than this in Firehose raise the delivery alarm: twice its buffering
  # interval leaves room for a slow write (the alarm and its dashboard widget both say it).
  ses_events_alarm_age_s = 2 * var.ses_events_stream.buffer_seconds

  # EMS's own metrics, which the functions log in CloudWatch's embedded metric format:
  # ems_common.lambda_handlers' METRICS_NAMESPACE and PAUSED_METRIC (tests/infra fails if these
  # differ from the code's, or from the dimensions the tracker and sender emit).
  ems_namespace = "EMS"
  paused_metric = "CampaignsPaused"
  # Who pauses a campaign by itself (the metric's one dimension, `by`), and what to do then.
  # An operator's pause (POST /campaigns/{id}/pause) emits nothing: nobody needs telling.
  self_pauses = {
    brake = "A campaign paused itself: its hard-bounce or complaint rate reached the reputation brake's limit before SES reviews the account. `ems campaign list --status PAUSED`, then `ems campaign describe <id>` gives the rate; check where the list came from, then resume or cancel it (docs/sending.md, The brake)."
    ses   = "A campaign was paused because SES refused its sender (identity, MAIL FROM domain or EMS's permission not in order): none of its recipients is failed. `ems campaign describe <id>` gives SES's answer; fix the identity in SES, then `ems campaign resume <id>` (docs/sending.md, SES holds)."
  }
}

################################################################################
# Alarm topic (encrypted; CloudWatch may use the key to publish)
################################################################################

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: a KMS key policy applies only to its own key, and "*" is the only valid resource in it; the account-root statement is the standard one that lets IAM policies govern the key.
  # checkov:skip=CKV_AWS_111: same reason: "*" in a key policy means this key only.
  # checkov:skip=CKV_AWS_356: same reason: "*" in a key policy means this key only.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${var.account_id}:root"]
    }
  }

  # CloudWatch encrypts the notifications it publishes to the topic; SNS decrypts them to deliver.
  statement {
    sid       = "CloudWatchAndSnsUseTheKey"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description             = "Encrypts the ${var.name_prefix}-alarms SNS topic"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${var.name_prefix}-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}

module "topic" {
  source = "../topic"

  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn

  policy_statements = [
    {
      sid     = "CloudWatchAlarmsPublish"
      actions = ["sns:Publish"]
      principals = [{
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }]
      conditions = [{
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.account_id]
      }]
    },
  ]

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = module.topic.arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Alarms
################################################################################

# A message in a dead-letter queue is work EMS gave up on: someone must look (`ems dlq`, docs/sending.md).
resource "aws_cloudwatch_metric_alarm" "dlq" {
  for_each = var.dead_letter_queues

  alarm_name          = "${var.name_prefix}-dlq-${each.key}"
  alarm_description   = "The ${each.key} dead-letter queue (${each.value}) holds messages EMS could not process: read their reason, fix, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "bounce_rate" {
  alarm_name          = "${var.name_prefix}-ses-bounce-rate"
  alarm_description   = "The configuration set's bounce rate is above ${var.bounce_rate_threshold * 100} %: SES reviews accounts at 5 % and may pause sending at 10 %. Check the lists the latest campaigns used."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.BounceRate"
  dimensions          = local.ses_dimensions
  statistic           = "Maximum"
  period              = 900
  evaluation_periods  = 1
  threshold           = var.bounce_rate_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "complaint_rate" {
  alarm_name          = "${var.name_prefix}-ses-complaint-rate"
  alarm_description   = "The configuration set's complaint rate is above ${var.complaint_rate_threshold * 100} %: SES reviews accounts at 0.1 % and may pause sending at 0.5 %. Check consent and unsubscribe links."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.ComplaintRate"
  dimensions          = local.ses_dimensions
  statistic           = "Maximum"
  period              = 900
  evaluation_periods  = 1
  threshold           = var.complaint_rate_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

# One notification per pause: the alarm marks the moment a campaign paused itself, not its
# state (it stays PAUSED until someone resumes or cancels it), so it notifies on ALARM only and
# goes back to OK quietly a minute later, ready for the next one.
resource "aws_cloudwatch_metric_alarm" "campaign_paused" {
  for_each = local.self_pauses

  alarm_name          = "${var.name_prefix}-campaign-paused-${each.key}"
  alarm_description   = each.value
  namespace           = local.ems_namespace
  metric_name         = local.paused_metric
  dimensions          = { by = each.key }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.functions

  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "The ${each.key} function (${each.value}) failed ${var.function_error_threshold} or more times in 5 minutes: its log group says why."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.function_error_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

# SES events that Firehose cannot write to the events bucket wait in the stream: the tracker sees
# none of them (statuses, metrics and suppressions stop moving, campaigns do not complete), and
# Firehose drops them after retrying for 24 hours. AWS's advice is an alarm on the age of the
# oldest record waiting (DeliveryToS3.DataFreshness) beyond the buffering interval
# (https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html).
resource "aws_cloudwatch_metric_alarm" "ses_events_delivery" {
  alarm_name          = "${var.name_prefix}-ses-events-delivery"
  alarm_description   = "SES events have waited in the Firehose stream ${var.ses_events_stream.name} more than twice its ${var.ses_events_stream.buffer_seconds} s buffer: S3 refuses its writes (the delivery role, the events key or the bucket policy). The tracker sees none of them meanwhile, and Firehose drops them after 24 hours of retries. The dashboard's SES events widget shows since when."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.DataFreshness"
  dimensions          = { DeliveryStreamName = var.ses_events_stream.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = local.ses_events_alarm_age_s
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The HTTP API answered 5xx: the API function's log group says why (EMS answers every bad request with a 4xx)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.api_id, Stage = var.api_stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.topic.arn]
  ok_actions          = [module.topic.arn]
  tags                = var.tags
}

################################################################################
# Dashboard
################################################################################

locals {

  widgets = [
    {
      title   = "SES: sends and outcomes"
      stat    = "Sum"
      metrics = [for name in ["Send", "Delivery", "Bounce", "Complaint", "Reject", "RenderingFailure"] : ["AWS/SES", name, "ses:configuration-set", var.configuration_set_name]]
    },
    {
      title   = "SES: reputation (alarms at ${var.bounce_rate_threshold * 100} % bounces, ${var.complaint_rate_threshold * 100} % complaints)"
      stat    = "Maximum"
      metrics = [for name in ["Reputation.BounceRate", "Reputation.ComplaintRate"] : ["AWS/SES", name, "ses:configuration-set", var.configuration_set_name]]
    },
    {
      title   = "Campaigns that paused themselves (brake, SES)"
      stat    = "Sum"
      metrics = [for by in keys(local.self_pauses) : [local.ems_namespace, local.paused_metric, "by", by, { label = by }]]
    },
    {
      title   = "Queues: messages waiting"
      stat    = "Maximum"
      metrics = [for role, queue in var.queues : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = role }]]
    },
    {
      title   = "Queues: age of the oldest message (s)"
      stat    = "Maximum"
      metrics = [for role, queue in var.queues : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { label = role }]]
    },
    {
      title   = "Dead-letter queues (should stay at 0)"
      stat    = "Maximum"
      metrics = [for role, queue in var.dead_letter_queues : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = role }]]
    },
    {
      title   = "Functions: errors"
      stat    = "Sum"
      metrics = [for role, fn in var.functions : ["AWS/Lambda", "Errors", "FunctionName", fn, { label = role }]]
    },
    {
      title   = "Functions: throttles"
      stat    = "Sum"
      metrics = [for role, fn in var.functions : ["AWS/Lambda", "Throttles", "FunctionName", fn, { label = role }]]
    },
    {
      title   = "Functions: concurrent executions"
      stat    = "Maximum"
      metrics = [for role, fn in var.functions : ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", fn, { label = role }]]
    },
    {
      title   = "API: requests, 4xx, 5xx"
      stat    = "Sum"
      metrics = [for name in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", name, "ApiId", var.api_id, "Stage", var.api_stage]]
    },
    {
      title   = "SES events: oldest waiting in Firehose, s (alarm above ${local.ses_events_alarm_age_s})"
      stat    = "Maximum"
      metrics = [["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", var.ses_events_stream.name]]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          stat    = widget.stat
          period  = 300
          view    = "timeSeries"
          metrics = widget.metrics
        }
      }
    ]
  })
}
