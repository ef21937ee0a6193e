# Only when the caller does not give the account (an offline plan cannot call STS).
data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

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
# SES events: SES -> Firehose -> S3 (events bucket) -> S3 notification -> tracker queue
################################################################################

# SES publishes every event of the configuration set into a Firehose stream; Firehose buffers
# them (ses_events_buffer_seconds / _mb) and writes each buffer as one object of newline-delimited
# SES event JSON under ses_events_prefix in the events bucket; each new object is an S3 event
# notification on the tracker queue, and the tracker reads the object and applies its events as
# one batch. Firehose bills per GB (each record rounded up to 5 KB) and retries delivery to S3
# for up to 24 hours; the tracker pays per object, not per event (bench/cost.py).
locals {
  ses_events_prefix = "ses-events/"
  ses_events_stream = "${var.name_prefix}-ses-events"
}

data "aws_iam_policy_document" "ses_events_key" {
  # checkov:skip=CKV_AWS_109: a KMS key policy applies only to its own key, and "*" is the only valid resource in it; the account-root statement is the standard one that lets IAM policies govern the key.
  # checkov:skip=CKV_AWS_111: same reason: "*" in a key policy means this key only.
  # checkov:skip=CKV_AWS_356: same reason: "*" in a key policy means this key only.
  # Only the account-root statement: who may use the key is said by IAM policies, each naming
  # this key (the Firehose role writes with it through S3, the tracker reads with it).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "ses_events" {
  description             = "Encrypts the SES events (the ${local.ses_events_stream} Firehose stream and the events bucket)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.ses_events_key.json

  tags = var.tags
}

resource "aws_kms_alias" "ses_events" {
  name          = "alias/${var.name_prefix}-ses-events"
  target_key_id = aws_kms_key.ses_events.key_id
}

# Raw SES events as Firehose writes them: kept ses_events_retention_days for an operator to look
# into (the tracker has applied them by then), then they expire.
module "ses_events_bucket" {
  source = "../bucket"

  name              = "${local.bucket_name_prefix}-ses-events"
  kms_key_arn       = aws_kms_key.ses_events.arn
  expiration_days   = var.ses_events_retention_days
  expiration_prefix = local.ses_events_prefix
  force_destroy     = var.force_destroy_buckets
  tags              = var.tags
}

# Firehose's role: write objects under the prefix of the events bucket, encrypted with the key.
data "aws_iam_policy_document" "ses_events_delivery_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # Firehose passes the account id as the external id (its documented trust policy).
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "ses_events_delivery" {
  statement {
    sid       = "FindTheBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [module.ses_events_bucket.arn]
  }

  statement {
    sid       = "WriteEventObjects"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${module.ses_events_bucket.arn}/${local.ses_events_prefix}*"]
  }

  # Through S3 only, for this bucket's objects (with an S3 Bucket Key the encryption context is
  # the bucket's ARN, else the object's).
  statement {
    sid       = "EncryptEventObjects"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.ses_events.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [module.ses_events_bucket.arn, "${module.ses_events_bucket.arn}/${local.ses_events_prefix}*"]
    }
  }
}

resource "aws_iam_role" "ses_events_delivery" {
  name               = "${var.name_prefix}-ses-events-delivery"
  description        = "Assumed by Firehose to write the SES events to ${local.bucket_name_prefix}-ses-events/${local.ses_events_prefix}"
  assume_role_policy = data.aws_iam_policy_document.ses_events_delivery_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "ses_events_delivery" {
  name   = "write-ses-events"
  role   = aws_iam_role.ses_events_delivery.id
  policy = data.aws_iam_policy_document.ses_events_delivery.json
}

resource "aws_kinesis_firehose_delivery_stream" "ses_events" {
  name        = local.ses_events_stream
  destination = "extended_s3"

  # Encrypted at rest with the events key while Firehose buffers the records.
  dynamic "server_side_encryption" {
    for_each = var.ses_events_stream_encryption ? [1] : []

    content {
      enabled  = true
      key_type = "CUSTOMER_MANAGED_CMK"
      key_arn  = aws_kms_key.ses_events.arn
    }
  }

  extended_s3_configuration {
    role_arn   = aws_iam_role.ses_events_delivery.arn
    bucket_arn = module.ses_events_bucket.arn
    # Firehose adds the UTC hour (YYYY/MM/DD/HH/) after a prefix without expressions.
    prefix             = local.ses_events_prefix
    buffering_interval = var.ses_events_buffer_seconds
    buffering_size     = var.ses_events_buffer_mb
    compression_format = "UNCOMPRESSED"
    kms_key_arn        = aws_kms_key.ses_events.arn
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.ses_events_delivery]
}

module "tracker_queue" {
  source = "../queue"

  account_id = local.account_id

  name                       = "${var.name_prefix}-tracker"
  visibility_timeout_seconds = var.tracker_queue_visibility_timeout_seconds

  # S3 tells the tracker about each new object of events, from the events bucket only.
  policy_statements = [
    {
      sid     = "SesEventObjectsNotify"
      actions = ["sqs:SendMessage"]
      principals = [{
        type        = "Service"
        identifiers = ["s3.amazonaws.com"]
      }]
      conditions = [
        {
          test     = "ArnEquals"
          variable = "aws:SourceArn"
          values   = [module.ses_events_bucket.arn]
        },
        {
          test     = "StringEquals"
          variable = "aws:SourceAccount"
          values   = [local.account_id]
        },
      ]
    },
  ]

  tags = var.tags
}

resource "aws_s3_bucket_notification" "ses_events" {
  bucket = module.ses_events_bucket.name

  queue {
    id            = "tracker"
    queue_arn     = module.tracker_queue.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.ses_events_prefix
  }

  # S3 checks that it may send to the queue when the notification is set.
  depends_on = [module.tracker_queue]
}

module "ses" {
  source = "../ses"

  domain                         = var.sender_domain
  configuration_set_name         = var.name_prefix
  account_id                     = local.account_id
  tls_policy                     = var.ses_tls_policy
  firehose_stream_arn            = aws_kinesis_firehose_delivery_stream.ses_events.arn
  cloudwatch_destination_enabled = var.ses_cloudwatch_destination_enabled
  mail_from_subdomain            = var.ses_mail_from_subdomain
  dmarc_report_mailbox           = var.dmarc_report_mailbox
  tags                           = var.tags

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
