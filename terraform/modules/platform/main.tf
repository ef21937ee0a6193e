# Only when the caller does not give the account (an offline plan cannot call STS).
data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

data "aws_partition" "current" {}

locals {
  account_id         = coalesce(var.account_id, try(data.aws_caller_identity.current[0].account_id, null))
  bucket_name_prefix = coalesce(var.bucket_name_prefix, var.name_prefix)
  default_from       = "${var.default_from_local_part}@${var.sender_domain}"
  create_ticks_queue = var.launcher_target_arn == null

  # Where users upload large candidates (candidateS3Uri) in the assets bucket: they expire
  # there (candidate_retention_days), and the API refuses a candidate anywhere else.
  candidates_prefix = "candidates/"

  campaigns_status_index  = "status-date"
  emails_message_id_index = "message-id"
  suppressions_day_index  = "day"

  # The SES message tags every campaign send carries. The code's names are CAMPAIGN_ID_TAG and
  # SEGMENT_ID_TAG in libs/common/src/ems_common/formats/tags.py: change both places together
  # (tests/unit/common/test_terraform_names.py fails when they differ).
  ses_campaign_id_tag = "campaignId"
  ses_segment_id_tag  = "segmentId"
}

################################################################################
# Buckets
################################################################################

# Templates and large candidate lists uploaded by users. Candidates hold recipients' addresses
# (personal data) and are needed only until the campaign is verified: they expire. Templates
# stay. (The bucket has a lifecycle configuration either way, so this rule costs the local
# stack's LocalStack no extra wait.)
module "assets_bucket" {
  source = "../bucket"

  name              = "${local.bucket_name_prefix}-assets"
  expiration_days   = var.candidate_retention_days
  expiration_prefix = local.candidates_prefix
  force_destroy     = var.force_destroy_buckets
  tags              = var.tags
}

# Compiled campaign files: derived data, so they expire.
module "campaigns_bucket" {
  source = "../bucket"

  name              = "${local.bucket_name_prefix}-campaigns"
  expiration_days   = var.campaign_file_retention_days
  expiration_prefix = var.campaign_file_prefix
  force_destroy     = var.force_destroy_buckets
  tags              = var.tags
}

################################################################################
# SES events: KMS key, SNS topic, tracker queue
################################################################################

data "aws_iam_policy_document" "ses_events_key" {
  # checkov:skip=CKV_AWS_109: a KMS key policy applies only to its own key, and "*" is the only valid resource in it; the account-root statement is the standard one that lets IAM policies govern the key.
  # checkov:skip=CKV_AWS_111: same reason: "*" in a key policy means this key only.
  # checkov:skip=CKV_AWS_356: same reason: "*" in a key policy means this key only.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  # SES encrypts the events it publishes to the topic; SNS decrypts them to deliver.
  statement {
    sid       = "SesAndSnsUseTheKey"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com", "sns.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "ses_events" {
  description             = "Encrypts the ${var.name_prefix}-ses-events SNS topic"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.ses_events_key.json

  tags = var.tags
}

resource "aws_kms_alias" "ses_events" {
  name          = "alias/${var.name_prefix}-ses-events"
  target_key_id = aws_kms_key.ses_events.key_id
}

module "ses_events_topic" {
  source = "../topic"

  name              = "${var.name_prefix}-ses-events"
  kms_master_key_id = aws_kms_key.ses_events.arn

  # The tracker reads the SES event JSON itself, not the SNS envelope.
  sqs_subscription_arns = [module.tracker_queue.arn]
  raw_message_delivery  = true

  policy_statements = [
    {
      sid     = "SesPublishesEvents"
      actions = ["sns:Publish"]
      principals = [{
        type        = "Service"
        identifiers = ["ses.amazonaws.com"]
      }]
      conditions = [{
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }]
    },
  ]

  tags = var.tags
}

module "tracker_queue" {
  source = "../queue"

  account_id = local.account_id

  name                       = "${var.name_prefix}-tracker"
  visibility_timeout_seconds = var.tracker_queue_visibility_timeout_seconds

  policy_statements = [
    {
      sid     = "SesEventsTopicSends"
      actions = ["sqs:SendMessage"]
      principals = [{
        type        = "Service"
        identifiers = ["sns.amazonaws.com"]
      }]
      conditions = [{
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [module.ses_events_topic.arn]
      }]
    },
  ]

  tags = var.tags
}

module "ses" {
  source = "../ses"

  domain                         = var.sender_domain
  configuration_set_name         = var.name_prefix
  tls_policy                     = var.ses_tls_policy
  sns_topic_arn                  = module.ses_events_topic.arn
  cloudwatch_destination_enabled = var.ses_cloudwatch_destination_enabled
  sns_destination_v2             = var.ses_events_v2
  mail_from_subdomain            = var.ses_mail_from_subdomain
  dmarc_report_mailbox           = var.dmarc_report_mailbox

  # Metrics split per campaign and per segment; "none" for a message without the tag.
  cloudwatch_dimension_tags = {
    (local.ses_campaign_id_tag) = "none"
    (local.ses_segment_id_tag)  = "none"
  }
}

################################################################################
# Send queue
################################################################################

module "send_queue" {
  source = "../queue"

  account_id = local.account_id

  name                       = "${var.name_prefix}-send"
  visibility_timeout_seconds = var.send_queue_visibility_timeout_seconds
  max_receive_count          = var.send_queue_max_receive_count

  tags = var.tags
}

# The transactional lane: single and bulk transactional emails, sent before campaign traffic.
module "transactional_queue" {
  source = "../queue"

  account_id = local.account_id

  name                       = "${var.name_prefix}-transactional"
  visibility_timeout_seconds = var.send_queue_visibility_timeout_seconds
  max_receive_count          = var.send_queue_max_receive_count

  tags = var.tags
}

# Large candidates (candidateS3Uri) are verified by the scheduler's compile worker, one
# message per campaign, so the API can answer within API Gateway's 29 s.
module "compile_queue" {
  source = "../queue"

  account_id = local.account_id

  name                       = "${var.name_prefix}-compile"
  visibility_timeout_seconds = var.compile_queue_visibility_timeout_seconds
  max_receive_count          = var.compile_queue_max_receive_count

  tags = var.tags
}

################################################################################
# Tables
################################################################################

module "campaigns_table" {
  source = "../table"

  name      = "${var.name_prefix}-campaigns"
  range_key = "sk"
  # Campaign records never expire; the rejected recipients' details kept beside them
  # (sk = REJECTIONS: addresses, personal data) carry an expiry time here.
  ttl_attribute = "expires_at"

  attributes = [
    { name = "status", type = "S" },
    { name = "scheduled_at", type = "S" },
  ]
  global_secondary_indexes = [
    {
      name      = local.campaigns_status_index
      hash_key  = "status"
      range_key = "scheduled_at"
    },
  ]

  point_in_time_recovery = var.point_in_time_recovery
  dynamodb_local         = var.dynamodb_local
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

module "emails_table" {
  source = "../table"

  name      = "${var.name_prefix}-emails"
  range_key = "sk"

  attributes = [
    { name = "ses_message_id", type = "S" },
  ]
  # Keys only, and the id written once: the tracker's update of every event (which sets the
  # id only where it is missing) then never writes the index, whose item a copy of the record's
  # would otherwise double each write's cost. An event without tags finds its email's key here.
  global_secondary_indexes = [
    {
      name            = local.emails_message_id_index
      hash_key        = "ses_message_id"
      projection_type = "KEYS_ONLY"
    },
  ]
  ttl_attribute = "expires_at"

  point_in_time_recovery = var.point_in_time_recovery
  dynamodb_local         = var.dynamodb_local
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

# Keyed by address and scope (libs/common/src/ems_common/suppressions.py): pk is the address in
# lower case, sk the scope ("all", "campaigns" or "list:<name>"), so that one address may be
# suppressed for one list, for every campaign and for all email, each with its own reason.
module "suppressions_table" {
  source = "../table"

  name      = "${var.name_prefix}-suppressions"
  range_key = "sk"

  # The senders look up only what was suppressed since a campaign was compiled (its compile
  # left out the rest): the day's suppressions, in time order (ems_common.dal.suppressions).
  attributes = [
    { name = "suppressed_day", type = "S" },
    { name = "suppressed_at", type = "S" },
  ]
  global_secondary_indexes = [
    {
      name            = local.suppressions_day_index
      hash_key        = "suppressed_day"
      range_key       = "suppressed_at"
      projection_type = "ALL"
    },
  ]

  point_in_time_recovery = var.point_in_time_recovery
  dynamodb_local         = var.dynamodb_local
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

module "events_table" {
  source = "../table"

  name          = "${var.name_prefix}-events"
  range_key     = "sk"
  ttl_attribute = "expires_at"

  point_in_time_recovery = var.point_in_time_recovery
  dynamodb_local         = var.dynamodb_local
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

module "rate_limits_table" {
  source = "../table"

  name          = "${var.name_prefix}-rate-limits"
  ttl_attribute = "expires_at"

  point_in_time_recovery = var.point_in_time_recovery
  dynamodb_local         = var.dynamodb_local
  deletion_protection    = var.table_deletion_protection
  tags                   = var.tags
}

################################################################################
# Launcher schedule and the Scheduler group
################################################################################

# Stands in for the launcher Lambda where none is given: each firing of the
# rule lands here as a message, which is how it is observed on the local stack.
module "launcher_ticks_queue" {
  source = "../queue"

  account_id = local.account_id
  count      = local.create_ticks_queue ? 1 : 0

  name = "${var.name_prefix}-launcher-ticks"

  policy_statements = [
    {
      sid     = "LauncherRuleSends"
      actions = ["sqs:SendMessage"]
      principals = [{
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }]
      conditions = [{
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [module.launcher_schedule.rule_arn]
      }]
    },
  ]

  tags = var.tags
}

module "launcher_schedule" {
  source = "../schedule"

  name                = "${var.name_prefix}-launcher"
  description         = "Wakes the campaign launcher, which starts the campaigns that are due"
  schedule_expression = var.launcher_schedule_expression
  target_id           = "launcher"
  target_arn          = local.launcher_target_arn

  tags = var.tags
}

# The group that holds the EventBridge Scheduler schedules the services create at run time.
module "schedule_group" {
  source = "../schedule_group"

  name = var.name_prefix
  tags = var.tags
}

# The role EventBridge Scheduler assumes to start the launcher at a campaign's date: allowed
# to invoke that one target and nothing else.
locals {
  launcher_target_arn = local.create_ticks_queue ? module.launcher_ticks_queue[0].arn : var.launcher_target_arn
}

data "aws_iam_policy_document" "schedules_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "schedules_invoke" {
  statement {
    sid       = "InvokeTheLauncher"
    actions   = local.create_ticks_queue ? ["sqs:SendMessage"] : ["lambda:InvokeFunction"]
    resources = [local.launcher_target_arn]
  }
}

resource "aws_iam_role" "schedules" {
  name               = "${var.name_prefix}-schedules"
  description        = "Assumed by EventBridge Scheduler to launch campaigns at their date"
  assume_role_policy = data.aws_iam_policy_document.schedules_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "schedules" {
  name   = "invoke-launcher"
  role   = aws_iam_role.schedules.id
  policy = data.aws_iam_policy_document.schedules_invoke.json
}
