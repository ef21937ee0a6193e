# The whole product in one AWS account: the platform (buckets, queues, SES and its events stream,
# tables, schedules), the six functions, the HTTP API, and the alarms and dashboard.

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Only when the caller does not give the account (an offline plan cannot call STS).
data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

locals {
  # Each function's Lambda handler by role ("package.module.function"), named once: the local
  # stack (tools/devstack) runs the same entry points as processes, and unit tests check that
  # each exists. The API's is zappa's handler.py (in scheduler.zip), which serves the WSGI app
  # named in services/scheduler/zappa_settings.json (app_function).
  handlers = jsondecode(file("${path.module}/handlers.json"))

  account_id = coalesce(var.account_id, try(data.aws_caller_identity.current[0].account_id, null))
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge(var.tags, {
    Project     = "ems"
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  # Built, not read from the function: the platform's launcher rule and the services' settings
  # need it, and the launcher's settings need the platform's names (a cycle otherwise).
  launcher_name = "${var.name_prefix}-launcher"
  launcher_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.launcher_name}"

  # Every function reads the platform's names as EMS_<KEY>: service_settings, with the values
  # AWS makes up at creation (queue URLs, role ARNs) built from the names instead, so
  # that the functions' environment is complete in the plan (tests/infra checks it against the
  # services' settings). The check block below compares them with the real ones after apply.
  built_settings = merge(
    {
      for role, name in local.queues :
      "${role}${endswith(role, "_dlq") ? "" : "_queue"}_url" => "https://sqs.${local.region}.${data.aws_partition.current.dns_suffix}/${local.account_id}/${name}"
    },
    {
      schedule_role_arn = local.arns.schedule_role
    },
  )
  settings  = merge(module.platform.service_settings, local.built_settings)
  infra_env = { for key, value in local.settings : "EMS_${upper(key)}" => value }

  # ARNs built from the names (known when planning) rather than read from the resources (known
  # only after apply), so that every IAM policy is complete in the plan a reviewer reads and the
  # compliance checks run on (terraform/compliance/).
  names    = module.platform.service_settings
  queues   = module.platform.queue_names
  arn_head = "arn:${local.partition}"
  arns = merge(
    { for role, name in local.queues : role => "${local.arn_head}:sqs:${local.region}:${local.account_id}:${name}" },
    {
      for table in ["campaigns_table", "emails_table", "suppressions_table", "events_table", "rate_limits_table"] :
      table => "${local.arn_head}:dynamodb:${local.region}:${local.account_id}:table/${local.names[table]}"
    },
    {
      assets_bucket     = "${local.arn_head}:s3:::${local.names.assets_bucket}"
      campaigns_bucket  = "${local.arn_head}:s3:::${local.names.campaigns_bucket}"
      ses_events_bucket = "${local.arn_head}:s3:::${local.names.ses_events_bucket}"
      configuration_set = "${local.arn_head}:ses:${local.region}:${local.account_id}:configuration-set/${local.names.configuration_set_name}"
      schedule_role     = "${local.arn_head}:iam::${local.account_id}:role/${module.platform.schedule_role_name}"
      launcher_rule     = "${local.arn_head}:events:${local.region}:${local.account_id}:rule/${local.names.launcher_rule_name}"
      # Secrets Manager appends 6 random characters to a secret's name in its ARN.
      api_key_secret          = "${local.arn_head}:secretsmanager:${local.region}:${local.account_id}:secret:${aws_secretsmanager_secret.api_key.name}-??????"
      unsubscribe_keys_secret = "${local.arn_head}:secretsmanager:${local.region}:${local.account_id}:secret:${aws_secretsmanager_secret.unsubscribe_keys.name}-??????"
    },
  )

  # How long a campaign may take to send after its date: its files must last that long too.
  campaign_sending_days = 30

  # Queues a consumer's visibility timeout must cover: 6 times the consumer's timeout (AWS's advice
  # for Lambda triggers, so a message is not received again while a retry still runs).
  sender_visibility_s = 6 * var.sender_timeout_seconds
  # The tracker takes ten objects of SES events an invocation, each up to ses_events_buffer_mb
  # (1 MB, about 600 events): at about 15 ms an event, some 90 s of work at worst.
  tracker_timeout_s    = 180
  compile_timeout_s    = 300
  compile_max_receives = 3
  # From a compile job's first receive until its last attempt is over: each attempt is received
  # again a visibility timeout after the one before. The reconciler's verification deadline must
  # be later (the output reconciler_settings checks it).
  compile_retry_span_s = local.compile_max_receives * 6 * local.compile_timeout_s
  launcher_timeout_s   = 300
  api_timeout_s        = 29
  packages             = { for service in ["scheduler", "launcher", "sender", "tracker"] : service => "${var.package_dir}/${service}.zip" }
  dynamodb_item_writes = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"]
  dynamodb_reads       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
}

module "platform" {
  # checkov:skip=CKV_AWS_365: TLS is required (ses_tls_policy = "Require" below), but the ses module sets delivery_options in a dynamic block that checkov does not resolve through three module levels; terraform/compliance/ses.feature checks the planned value instead.
  source = "../platform"

  name_prefix             = var.name_prefix
  bucket_name_prefix      = var.bucket_name_prefix
  sender_domain           = var.sender_domain
  default_from_local_part = var.default_from_local_part
  account_id              = local.account_id
  # Mail leaves SES for the recipient's server over TLS only.
  ses_tls_policy          = "Require"
  ses_mail_from_subdomain = var.mail_from_subdomain
  dmarc_report_mailbox    = var.dmarc_report_mailbox

  launcher_target_arn                      = local.launcher_arn
  send_queue_visibility_timeout_seconds    = local.sender_visibility_s
  tracker_queue_visibility_timeout_seconds = 6 * local.tracker_timeout_s
  compile_queue_visibility_timeout_seconds = 6 * local.compile_timeout_s
  compile_queue_max_receive_count          = local.compile_max_receives
  campaign_file_retention_days             = var.campaign_file_retention_days
  candidate_retention_days                 = var.candidate_retention_days
  ses_events_retention_days                = var.ses_events_retention_days
  ses_events_buffer_seconds                = var.ses_events_buffer_seconds
  ses_events_buffer_mb                     = var.ses_events_buffer_mb

  point_in_time_recovery      = var.point_in_time_recovery
  table_deletion_protection   = var.table_deletion_protection
  force_destroy_buckets       = var.force_destroy_buckets
  kms_deletion_window_in_days = var.kms_deletion_window_in_days

  tags = local.tags
}

# A campaign may be scheduled max_days_ahead ahead, and the launcher then reads its compiled
# files: they must not expire before that date plus the time the campaign takes to send.
# (A precondition, not a variable validation, so that modules still run on Terraform 1.6.)
resource "terraform_data" "campaign_file_retention" {
  input = {
    campaign_file_retention_days = var.campaign_file_retention_days
    max_days_ahead               = var.max_days_ahead
  }

  lifecycle {
    precondition {
      condition     = var.campaign_file_retention_days >= var.max_days_ahead + local.campaign_sending_days
      error_message = "campaign_file_retention_days (${var.campaign_file_retention_days}) must be at least max_days_ahead + ${local.campaign_sending_days} (${var.max_days_ahead + local.campaign_sending_days}): compiled campaign files would expire before a campaign scheduled max_days_ahead ahead is launched and sent. Raise campaign_file_retention_days or lower max_days_ahead."
    }
  }
}

check "built_settings_are_the_real_ones" {
  assert {
    condition     = alltrue([for key, value in local.built_settings : module.platform.service_settings[key] == value])
    error_message = "A queue URL or role ARN the functions get (built from names in modules/app, local.built_settings) differs from the real one: compare the functions' EMS_* environment with `terraform output service_settings`, and fix how modules/app builds it."
  }
}

################################################################################
# The API key (the scheduler reads it at start; its value is set once, see docs/deploy.md)
################################################################################

resource "aws_secretsmanager_secret" "api_key" {
  # checkov:skip=CKV_AWS_149: encrypted with Secrets Manager's AWS-managed key; only the API function's role may read it (its policy names this secret), which a customer-managed key would not narrow further.
  # checkov:skip=CKV2_AWS_57: rotation means handing the new key to every API client, which Secrets Manager cannot do; docs/deploy.md gives the rotation steps (put a new value, then update the API function's configuration so every instance reads it, then switch clients).
  name                    = "${var.name_prefix}-api-key"
  description             = "The key EMS API clients send in X-Api-Key. Set its value with: aws secretsmanager put-secret-value --secret-id ${var.name_prefix}-api-key --secret-string \"$(openssl rand -hex 32)\""
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = local.tags
}

################################################################################
# The unsubscribe keys (they seal the unsubscribe links; EMS makes the first one itself)
################################################################################

resource "aws_secretsmanager_secret" "unsubscribe_keys" {
  # checkov:skip=CKV_AWS_149: encrypted with Secrets Manager's AWS-managed key; only the API and compile functions' roles may read or write it (their policies name this secret), which a customer-managed key would not narrow further.
  # checkov:skip=CKV2_AWS_57: no automatic rotation: a key must keep opening the links it sealed for unsubscribe_link_days (over a year), so a new key joins the ring and the old ones stay; docs/deploy.md says how to add one.
  name                    = "${var.name_prefix}-unsubscribe-keys"
  description             = "The keys that seal EMS's unsubscribe links, as a JSON ring {\"current\": id, \"keys\": {id: base64}}. Created empty: the first API or compile function that finds it so stores a key. Never remove a key younger than the links (docs/deploy.md)."
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = local.tags
}

locals {
  # What the API and the compile worker, which make and open unsubscribe links, read besides the
  # platform's names. The optional settings are set only when given (the code's defaults
  # otherwise).
  scheduler_env = merge(
    local.infra_env,
    {
      EMS_API_KEY_SECRET_ID          = aws_secretsmanager_secret.api_key.name
      EMS_UNSUBSCRIBE_KEYS_SECRET_ID = aws_secretsmanager_secret.unsubscribe_keys.name
      EMS_RECORD_TTL_DAYS            = tostring(var.record_ttl_days)
      EMS_REJECTION_DETAILS_DAYS     = tostring(var.rejection_details_days)
      EMS_MAX_DAYS_AHEAD             = tostring(var.max_days_ahead)
    },
    var.public_api_url == null ? {} : { EMS_PUBLIC_API_URL = var.public_api_url },
    var.unsubscribe_mailbox == null ? {} : { EMS_UNSUBSCRIBE_MAILBOX = var.unsubscribe_mailbox },
  )
}

################################################################################
# What each service may do
################################################################################

locals {
  dynamodb_arns = {
    for table in ["campaigns_table", "emails_table", "suppressions_table", "events_table", "rate_limits_table"] :
    table => [local.arns[table], "${local.arns[table]}/index/*"]
  }

  scheduler_statements = [
    {
      sid       = "ReadUploads"
      actions   = ["s3:GetObject"]
      resources = ["${local.arns.assets_bucket}/*"]
    },
    {
      sid       = "WriteCampaignFiles"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${local.arns.campaigns_bucket}/*"]
    },
    {
      sid       = "ListCampaignFiles"
      actions   = ["s3:ListBucket"]
      resources = [local.arns.campaigns_bucket, local.arns.assets_bucket]
    },
    {
      sid     = "CampaignsEmailsSuppressions"
      actions = local.dynamodb_item_writes
      resources = concat(
        local.dynamodb_arns.campaigns_table,
        local.dynamodb_arns.emails_table,
        local.dynamodb_arns.suppressions_table,
      )
    },
    {
      sid       = "ReadRawEvents"
      actions   = local.dynamodb_reads
      resources = local.dynamodb_arns.events_table
    },
    {
      sid       = "QueueWork"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [local.arns.compile, local.arns.transactional]
    },
    {
      # The API shows, peeks at and redrives the dead-letter queues (ems dlq ...).
      sid = "InspectAndRedriveDeadLetters"
      actions = [
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:StartMessageMoveTask",
        "sqs:ListMessageMoveTasks",
      ]
      resources = [local.arns.send_dlq, local.arns.transactional_dlq, local.arns.compile_dlq, local.arns.tracker_dlq]
    },
    {
      sid       = "RedriveBack"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [local.arns.send, local.arns.tracker]
    },
    {
      # SES's template actions (CreateTemplate, UpdateTemplate, GetTemplate, DeleteTemplate) take
      # no resource-level permission: IAM accepts only "*" for them.
      sid       = "UnscopedSesTemplates"
      actions   = ["ses:CreateTemplate", "ses:UpdateTemplate", "ses:GetTemplate", "ses:DeleteTemplate"]
      resources = ["*"]
    },
    {
      # Both make and open unsubscribe links; whichever finds the secret empty stores the first
      # key (PutSecretValue with a fixed request token, so that concurrent starts agree).
      sid       = "KeepUnsubscribeKeys"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
      resources = [local.arns.unsubscribe_keys_secret]
    },
    {
      sid       = "CampaignSchedules"
      actions   = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"]
      resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${local.names.schedule_group_name}/*"]
    },
    {
      sid       = "HandSchedulesTheirRole"
      actions   = ["iam:PassRole"]
      resources = [local.arns.schedule_role]
      conditions = [{
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["scheduler.amazonaws.com"]
      }]
    },
  ]
}

################################################################################
# Functions
################################################################################

module "api" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = "${var.name_prefix}-api"
  description          = "EMS HTTP API (Flask through zappa's handler): campaigns, templates, emails, suppressions"
  package_file         = local.packages.scheduler
  handler              = local.handlers.api
  memory_mb            = 1024
  timeout_seconds      = local.api_timeout_s
  reserved_concurrency = var.api_reserved_concurrency
  log_retention_days   = var.log_retention_days

  environment = local.scheduler_env

  policy_statements = concat(local.scheduler_statements, [
    {
      sid       = "ReadApiKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [local.arns.api_key_secret]
    },
    {
      # The console's presigned uploads of large candidates, under the candidates prefix
      # (the platform's candidates_prefix, EMS_CANDIDATES_PREFIX to the code): S3 takes a
      # browser's POST only if the role that signed it may put the object itself.
      sid       = "SignCandidateUploads"
      actions   = ["s3:PutObject"]
      resources = ["${local.arns.assets_bucket}/${local.names.candidates_prefix}*"]
    },
  ])

  tags = local.tags
}

module "http_api" {
  source = "../http_api"

  name                   = var.name_prefix
  description            = "EMS API (${var.environment})"
  function_name          = module.api.function_name
  function_invoke_arn    = module.api.invoke_arn
  throttling_rate_limit  = var.api_throttling_rate_limit
  throttling_burst_limit = var.api_throttling_burst_limit
  log_retention_days     = var.log_retention_days

  # The unsubscribe links, <api>/u/<token> (UNSUBSCRIBE_PATH in the scheduler's
  # shared/unsubscribe_links.py; tests/infra fails if the two differ): GET shows the page, POST
  # unsubscribes (RFC 8058's one-click). Any method, so that everything under the path the app
  # serves without a key is throttled apart from the keyed API.
  public_route_keys             = ["ANY /u/{token}"]
  public_throttling_rate_limit  = var.unsubscribe_throttling_rate_limit
  public_throttling_burst_limit = var.unsubscribe_throttling_burst_limit

  tags = local.tags
}

module "compile" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = "${var.name_prefix}-compile"
  description          = "EMS compile worker: verifies and compiles large candidate lists (candidateS3Uri)"
  package_file         = local.packages.scheduler
  handler              = local.handlers.compile
  memory_mb            = 2048
  timeout_seconds      = local.compile_timeout_s
  reserved_concurrency = var.compile_max_concurrency
  log_retention_days   = var.log_retention_days

  environment = local.scheduler_env

  # The API key secret's name only satisfies the shared settings: the worker never reads the
  # key (no ReadApiKey statement). It does seal unsubscribe links (KeepUnsubscribeKeys).
  policy_statements = local.scheduler_statements

  sqs_trigger = {
    queue_arn           = local.arns.compile
    batch_size          = 1
    maximum_concurrency = var.compile_max_concurrency
  }

  tags = local.tags
}

module "launcher" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = local.launcher_name
  description          = "EMS launcher: starts due campaigns (every minute, and at each campaign's date) into the send queue"
  package_file         = local.packages.launcher
  handler              = local.handlers.launcher
  memory_mb            = 1024
  timeout_seconds      = local.launcher_timeout_s
  reserved_concurrency = 5
  log_retention_days   = var.log_retention_days

  # Its reconciler: when a quiet campaign is settled, and when a verification is given up on;
  # a recount corrects a campaign's counters once every tracker batch that was under way when
  # it counted the records is over (the tracker's timeout: docs/tracking.md).
  environment = merge(local.infra_env, {
    EMS_SETTLE_AFTER_SECONDS          = tostring(var.settle_after_seconds)
    EMS_VERIFICATION_DEADLINE_SECONDS = tostring(var.verification_deadline_seconds)
    EMS_RECOUNT_AFTER_SECONDS         = tostring(var.recount_after_seconds)
    EMS_TRACKER_BATCH_SECONDS         = tostring(local.tracker_timeout_s)
  })

  policy_statements = [
    {
      sid       = "ReadCampaignFiles"
      actions   = ["s3:GetObject"]
      resources = ["${local.arns.campaigns_bucket}/*"]
    },
    {
      sid       = "Campaigns"
      actions   = local.dynamodb_item_writes
      resources = local.dynamodb_arns.campaigns_table
    },
    {
      # The reconciler's recount of a quiet campaign reads its email records (one partition).
      sid       = "RecountEmailRecords"
      actions   = ["dynamodb:Query"]
      resources = [local.arns.emails_table]
    },
    {
      sid       = "FanOut"
      actions   = ["sqs:SendMessage"]
      resources = [local.arns.send]
    },
  ]

  # Invoked asynchronously (the rule and the campaigns' one-time schedules).
  async_failure_queue = true
  invoke_permissions = {
    EveryMinuteRule = {
      principal  = "events.amazonaws.com"
      source_arn = local.arns.launcher_rule
    }
  }

  tags = local.tags
}

locals {
  sender_statements = [
    {
      # SES authorizes a send against the From identity and the configuration set, and in the
      # sandbox against the recipient's verified identity too, hence identity/* in this account;
      # the condition keeps the From address on the sender domain.
      # SES v2 SendEmail with Template content is authorized as ses:SendEmail, and its use of a
      # template as ses:SendTemplatedEmail (docs/sending.md); templates are EMS's own (ems-*).
      sid     = "SendFromTheDomainThroughTheSet"
      actions = ["ses:SendEmail", "ses:SendTemplatedEmail"]
      resources = [
        "${local.arn_head}:ses:${local.region}:${local.account_id}:identity/*",
        local.arns.configuration_set,
        "${local.arn_head}:ses:${local.region}:${local.account_id}:template/ems-*",
      ]
      conditions = [{
        test     = "StringLike"
        variable = "ses:FromAddress"
        values   = ["*@${local.names.sender_domain}"]
      }]
    },
    {
      # GetAccount (SES v2: the account's rate and 24-hour quota, which the limiter paces to,
      # and its standing: campaign email is held while SES has the account under review or
      # sending paused) is an account-level read: IAM accepts only "*" for it.
      sid       = "UnscopedSesQuota"
      actions   = ["ses:GetAccount"]
      resources = ["*"]
    },
    {
      sid       = "EmailRecordsAndLimiter"
      actions   = local.dynamodb_item_writes
      resources = concat(local.dynamodb_arns.emails_table, local.dynamodb_arns.rate_limits_table, local.dynamodb_arns.campaigns_table)
    },
    {
      sid       = "CheckSuppressions"
      actions   = local.dynamodb_reads
      resources = local.dynamodb_arns.suppressions_table
    },
    {
      # Busy emails are put back with a delay; a message that cannot be sent goes to the DLQ with its reason.
      sid       = "RequeueAndDeadLetter"
      actions   = ["sqs:SendMessage"]
      resources = [local.arns.send, local.arns.send_dlq, local.arns.transactional, local.arns.transactional_dlq]
    },
  ]

  sender_env = merge(local.infra_env, {
    EMS_SEND_RATE_FRACTION   = tostring(var.send_rate_fraction)
    EMS_DAILY_QUOTA_FRACTION = tostring(var.daily_quota_fraction)
    EMS_RECORD_TTL_DAYS      = tostring(var.record_ttl_days)
    # One thread per message of an invocation: each has its SES call in flight at once.
    EMS_SEND_THREADS = tostring(var.sender_batch_size)
  })
}

module "sender" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = "${var.name_prefix}-sender"
  description          = "EMS sender, campaign lane: sends the send queue's emails at the account's SES rate"
  package_file         = local.packages.sender
  handler              = local.handlers.sender
  memory_mb            = var.sender_memory_mb
  timeout_seconds      = var.sender_timeout_seconds
  reserved_concurrency = var.sender_max_concurrency
  log_retention_days   = var.log_retention_days
  environment          = local.sender_env
  policy_statements    = local.sender_statements

  sqs_trigger = {
    queue_arn           = local.arns.send
    batch_size          = var.sender_batch_size
    maximum_concurrency = var.sender_max_concurrency
  }

  tags = local.tags
}

module "sender_transactional" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = "${var.name_prefix}-sender-transactional"
  description          = "EMS sender, transactional lane: sends transactional emails first in line at the shared SES rate"
  package_file         = local.packages.sender
  handler              = local.handlers.sender_transactional
  memory_mb            = var.sender_memory_mb
  timeout_seconds      = var.sender_timeout_seconds
  reserved_concurrency = var.transactional_max_concurrency
  log_retention_days   = var.log_retention_days
  environment          = local.sender_env
  policy_statements    = local.sender_statements

  sqs_trigger = {
    queue_arn           = local.arns.transactional
    batch_size          = 1
    maximum_concurrency = var.transactional_max_concurrency
  }

  tags = local.tags
}

module "tracker" {
  source = "../lambda_service"

  account_id = local.account_id

  name                 = "${var.name_prefix}-tracker"
  description          = "EMS tracker: SES events into each email's status, campaign metrics and the suppression list"
  package_file         = local.packages.tracker
  handler              = local.handlers.tracker
  memory_mb            = 512
  timeout_seconds      = local.tracker_timeout_s
  reserved_concurrency = var.tracker_max_concurrency
  log_retention_days   = var.log_retention_days

  # The reputation brake: a campaign pauses itself at these rates, after this many sent. An
  # email record the tracker creates (the sender wrote none) expires as the sender's would.
  environment = merge(local.infra_env, {
    EMS_EVENT_TTL_DAYS         = tostring(var.event_ttl_days)
    EMS_RECORD_TTL_DAYS        = tostring(var.record_ttl_days)
    EMS_BRAKE_HARD_BOUNCE_RATE = tostring(var.brake_hard_bounce_rate)
    EMS_BRAKE_COMPLAINT_RATE   = tostring(var.brake_complaint_rate)
    EMS_BRAKE_MIN_SENT         = tostring(var.brake_min_sent)
  })

  policy_statements = [
    {
      sid       = "EmailsCampaignsEvents"
      actions   = local.dynamodb_item_writes
      resources = concat(local.dynamodb_arns.emails_table, local.dynamodb_arns.campaigns_table, local.dynamodb_arns.events_table, local.dynamodb_arns.suppressions_table)
    },
    {
      sid       = "DeadLetterWithReason"
      actions   = ["sqs:SendMessage"]
      resources = [local.arns.tracker_dlq]
    },
    {
      # Each tracker queue message names an object of SES events: the tracker reads it, and
      # nothing else in the bucket (Firehose writes, the objects expire).
      sid       = "ReadSesEventObjects"
      actions   = ["s3:GetObject"]
      resources = ["${local.arns.ses_events_bucket}/${local.names.ses_events_prefix}*"]
    },
    {
      sid       = "DecryptSesEventObjects"
      actions   = ["kms:Decrypt"]
      resources = [module.platform.arns.ses_events_kms_key]
      conditions = [{
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }]
    },
  ]

  sqs_trigger = {
    queue_arn                  = local.arns.tracker
    batch_size                 = 10
    batching_window_in_seconds = 1
    maximum_concurrency        = var.tracker_max_concurrency
  }

  tags = local.tags
}

################################################################################
# Alarms and dashboard
################################################################################

module "alarms" {
  source = "../alarms"

  name_prefix            = var.name_prefix
  account_id             = local.account_id
  region                 = local.region
  configuration_set_name = module.platform.service_settings.configuration_set_name
  ses_events_stream = {
    name           = module.platform.ses_events.stream
    buffer_seconds = module.platform.ses_events.buffer_seconds
  }
  api_id    = module.http_api.api_id
  api_stage = module.http_api.stage_name

  dead_letter_queues = {
    send          = module.platform.queue_names.send_dlq
    transactional = module.platform.queue_names.transactional_dlq
    compile       = module.platform.queue_names.compile_dlq
    tracker       = module.platform.queue_names.tracker_dlq
    launcher      = module.launcher.dlq_name
  }
  queues = {
    send          = module.platform.queue_names.send
    transactional = module.platform.queue_names.transactional
    compile       = module.platform.queue_names.compile
    tracker       = module.platform.queue_names.tracker
  }
  functions = {
    api                  = module.api.function_name
    compile              = module.compile.function_name
    launcher             = module.launcher.function_name
    sender               = module.sender.function_name
    sender-transactional = module.sender_transactional.function_name
    tracker              = module.tracker.function_name
  }

  bounce_rate_threshold       = var.bounce_rate_alarm
  complaint_rate_threshold    = var.complaint_rate_alarm
  alarm_emails                = var.alarm_emails
  kms_deletion_window_in_days = var.kms_deletion_window_in_days
  tags                        = local.tags
}
