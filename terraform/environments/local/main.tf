provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch     = var.localstack_endpoint
    dynamodb       = var.dynamodb_endpoint
    events         = var.localstack_endpoint
    firehose       = var.localstack_endpoint
    iam            = var.localstack_endpoint
    kms            = var.localstack_endpoint
    logs           = var.localstack_endpoint
    s3             = var.localstack_endpoint
    scheduler      = var.localstack_endpoint
    secretsmanager = var.localstack_endpoint
    ses            = var.localstack_endpoint
    sesv2          = var.localstack_endpoint
    sqs            = var.localstack_endpoint
    sts            = var.localstack_endpoint
  }
}

module "platform" {
  # checkov:skip=CKV_AWS_28: point-in-time recovery is off only here: DynamoDB Local does not implement UpdateContinuousBackups (on by default in the platform module).
  # checkov:skip=CKV2_AWS_16: tables are PROVISIONED only here, on DynamoDB Local, which enforces no capacity (PAY_PER_REQUEST everywhere else), so there is nothing to autoscale.
  # checkov:skip=CKV_AWS_365: TLS policy unset only here: LocalStack does not implement PutConfigurationSetDeliveryOptions ("Require" by default in the platform module).
  source = "../../modules/platform"

  name_prefix   = var.name_prefix
  sender_domain = var.sender_domain

  # DynamoDB Local implements no UpdateContinuousBackups, and the tables must
  # be shaped for what it does implement (see the table module's dynamodb_local).
  point_in_time_recovery = false
  dynamodb_local         = true
  # LocalStack does not implement PutConfigurationSetDeliveryOptions.
  ses_tls_policy = null
  # LocalStack's SES publishes no metrics to CloudWatch (the SES v2 provider of
  # tools/localstack-sesv2 serves the Firehose event destination the tracker needs).
  ses_cloudwatch_destination_enabled = false
  # LocalStack's Firehose implements no stream encryption: a second apply would wait for it.
  # (The events bucket is encrypted with the key all the same.)
  ses_events_stream_encryption = false

  # A throwaway environment: destroy must always succeed.
  force_destroy_buckets       = true
  kms_deletion_window_in_days = 7

  tags = {
    Project     = "ems"
    Environment = "local"
    ManagedBy   = "terraform"
  }
}

# The keys that seal unsubscribe links, as on AWS (modules/app): created empty; the API or
# compile worker that first finds it empty makes the first key, so the local stack runs the same
# code path.
resource "aws_secretsmanager_secret" "unsubscribe_keys" {
  # checkov:skip=CKV_AWS_149: the local stack's throwaway secret (LocalStack); AWS's is in modules/app.
  # checkov:skip=CKV2_AWS_57: no rotation: a rotated key would break every link sent in the last year (docs/deploy.md).
  name                    = "${var.name_prefix}-unsubscribe-keys"
  description             = "EMS's unsubscribe link keys (local stack)"
  recovery_window_in_days = 0
}
