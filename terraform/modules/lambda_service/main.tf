# One EMS service as a Lambda function: the function, its own least-privilege role, its log group,
# and optionally its SQS trigger, its asynchronous-failure queue and who may invoke it.

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  log_group_name = "/aws/lambda/${var.name}"
  dlq_name       = "${var.name}-dlq"

  # Built from the names rather than read from the resources, so that the role's policy is
  # complete in the plan (reviewers and terraform/compliance read it there).
  arn_tail      = "${data.aws_region.current.name}:${var.account_id}"
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${local.arn_tail}:log-group:${local.log_group_name}"
  dlq_arn       = "arn:${data.aws_partition.current.partition}:sqs:${local.arn_tail}:${local.dlq_name}"
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts every log group at rest with its own key; the logs hold no recipient address at INFO (the services log counts and ids), so a customer-managed key adds cost and a key policy without protecting anything more.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# Role: its own, and only what this function does
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "Execution role of the ${var.name} function"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  # The log group exists before the function (above), so the function needs no CreateLogGroup.
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  dynamic "statement" {
    for_each = var.sqs_trigger == null ? [] : [var.sqs_trigger.queue_arn]

    content {
      sid = "ConsumeTriggerQueue"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.async_failure_queue ? [local.dlq_arn] : []

    content {
      sid       = "SendFailedInvocations"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

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

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-permissions"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_50: X-Ray tracing is off: every send and event would add a trace at 10 million emails a month; the services report counts and timings in their logs and CloudWatch metrics.
  # checkov:skip=CKV_AWS_117: not in a VPC: the functions call only AWS APIs (SES, SQS, DynamoDB, S3), and a VPC would need NAT or an endpoint per service for no gain.
  # checkov:skip=CKV_AWS_173: the environment holds resource names only (no secret: the API key is read from Secrets Manager), and Lambda encrypts it at rest with its own key.
  # checkov:skip=CKV_AWS_272: code signing needs an AWS Signer profile the deploying team owns; the zips are built reproducibly from uv.lock (make package) and their hash is in the plan.
  # checkov:skip=CKV_AWS_116: failures are kept where the trigger is: an SQS-triggered function's queue has its own DLQ, the API function is called synchronously, and an asynchronously invoked one gets an on-failure queue (async_failure_queue).
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  filename                       = var.package_file
  source_code_hash               = filebase64sha256(var.package_file)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = var.environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tags = var.tags

  # The role's permissions must exist before the function can be triggered.
  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# Trigger, failures, callers
################################################################################

resource "aws_lambda_event_source_mapping" "sqs" {
  count = var.sqs_trigger == null ? 0 : 1

  event_source_arn                   = var.sqs_trigger.queue_arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.sqs_trigger.batch_size
  maximum_batching_window_in_seconds = var.sqs_trigger.batching_window_in_seconds
  # The handlers answer with the messages that failed; the others are deleted.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_trigger.maximum_concurrency
  }

  tags = var.tags
}

resource "aws_sqs_queue" "async_dlq" {
  count = var.async_failure_queue ? 1 : 0

  name                      = local.dlq_name
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_failure_queue ? 1 : 0

  function_name          = aws_lambda_function.this.function_name
  maximum_retry_attempts = var.async_max_retries

  destination_config {
    on_failure {
      destination = aws_sqs_queue.async_dlq[0].arn
    }
  }
}

resource "aws_lambda_permission" "invoke" {
  for_each = var.invoke_permissions

  statement_id  = each.key
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = each.value.principal
  source_arn    = each.value.source_arn
}
