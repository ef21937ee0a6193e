resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: no server access logging: it needs a dedicated log bucket per account; auditing S3 requests belongs to account-level CloudTrail data events, not to this module.
  # checkov:skip=CKV_AWS_144: no cross-region replication: assets and compiled campaigns can be re-uploaded or recompiled; a second region is not worth the cost.
  # checkov:skip=CKV2_AWS_62: no event notifications: nothing reacts to object creation; services are told about objects through queues and tables.
  # checkov:skip=CKV_AWS_145: SSE-S3 (AES256) by default so readers need no KMS grants; SSE-KMS is available through kms_key_arn.
  bucket        = var.name
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = var.versioning ? "Enabled" : "Disabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # checkov:skip=CKV_AWS_300: false positive: the "housekeeping" rule always aborts incomplete multipart uploads for the whole bucket; checkov loses it when a dynamic "rule" block sits beside it.
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.expiration_days == null ? [] : [var.expiration_days]

    content {
      id     = "expire-objects"
      status = "Enabled"

      filter {
        prefix = var.expiration_prefix
      }

      expiration {
        days = rule.value
      }
    }
  }

  # Lifecycle rules on noncurrent versions need the versioning state settled first.
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  # Public access block first, so the bucket is never briefly open to a policy change.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
