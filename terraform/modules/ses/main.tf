resource "aws_ses_domain_identity" "this" {
  domain = var.domain
}

resource "aws_ses_domain_dkim" "this" {
  domain = aws_ses_domain_identity.this.domain
}

data "aws_region" "current" {}

locals {
  mail_from_domain = var.mail_from_subdomain == null ? null : "${var.mail_from_subdomain}.${var.domain}"
  # SES's Easy DKIM always makes three tokens. Counted rather than iterated, so that the plan
  # already lists every record with its name pattern, type and purpose (the tokens themselves are
  # known only after apply).
  dkim_token_count = 3
  dmarc_value = join("; ", concat(
    ["v=DMARC1", "p=none"],
    var.dmarc_report_mailbox == null ? [] : ["rua=mailto:${var.dmarc_report_mailbox}"],
  ))

  # Every record the sender domain's DNS needs, as a DNS provider asks for them (an MX value is
  # "<priority> <host>"; TXT values unquoted).
  dns_records = concat(
    [{
      name    = "_amazonses.${var.domain}"
      type    = "TXT"
      value   = aws_ses_domain_identity.this.verification_token
      purpose = "SES domain verification: proves to SES that the domain is yours"
    }],
    [for i in range(local.dkim_token_count) : {
      name    = "${aws_ses_domain_dkim.this.dkim_tokens[i]}._domainkey.${var.domain}"
      type    = "CNAME"
      value   = "${aws_ses_domain_dkim.this.dkim_tokens[i]}.dkim.amazonses.com"
      purpose = "DKIM key ${i + 1} of ${local.dkim_token_count}: SES signs every message for the domain, which aligns DKIM for DMARC"
    }],
    local.mail_from_domain == null ? [] : [
      {
        name    = local.mail_from_domain
        type    = "MX"
        value   = "10 feedback-smtp.${data.aws_region.current.name}.amazonses.com"
        purpose = "Custom MAIL FROM: bounces and complaints return to SES through the domain's own subdomain"
      },
      {
        name    = local.mail_from_domain
        type    = "TXT"
        value   = "v=spf1 include:amazonses.com ~all"
        purpose = "SPF of the MAIL FROM domain: SES may send for it, so SPF passes and aligns with the From domain for DMARC"
      },
    ],
    [{
      name    = "_dmarc.${var.domain}"
      type    = "TXT"
      value   = local.dmarc_value
      purpose = "DMARC policy: p=none only reports (rua) and changes no delivery; move to quarantine, then reject, once the reports show only your own mail"
    }],
  )
}

# The envelope sender (Return-Path) on the domain's own subdomain rather than amazonses.com, so
# that SPF passes for a domain aligned with the From address. Should its MX record be missing,
# SES falls back to its own MAIL FROM domain (UseDefaultValue) rather than refusing to send.
resource "aws_ses_domain_mail_from" "this" {
  count = local.mail_from_domain == null ? 0 : 1

  domain                 = aws_ses_domain_identity.this.domain
  mail_from_domain       = local.mail_from_domain
  behavior_on_mx_failure = "UseDefaultValue"
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
# DELIVERY_DELAY or SUBSCRIPTION event types. Off on the local stack, whose SES publishes no
# metrics to CloudWatch.
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

# What the tracker reads: every event of every type, into the Firehose stream that writes them to
# the events bucket. The SES v2 resource, the only one that publishes all ten event types (the v1
# API has no DELIVERY_DELAY or SUBSCRIPTION); the local stack's SES v2 provider serves it too.
resource "aws_sesv2_configuration_set_event_destination" "firehose" {
  configuration_set_name = aws_ses_configuration_set.this.name
  event_destination_name = "${var.configuration_set_name}-firehose"

  event_destination {
    enabled              = true
    matching_event_types = var.event_types

    kinesis_firehose_destination {
      delivery_stream_arn = var.firehose_stream_arn
      iam_role_arn        = aws_iam_role.firehose_events.arn
    }
  }
}

# The role SES assumes to put the configuration set's events into the stream: only for this
# account's configuration set (SourceArn), and only PutRecord(Batch) on that one stream.
data "aws_iam_policy_document" "firehose_events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.configuration_set_arn]
    }
  }
}

data "aws_iam_policy_document" "firehose_events_put" {
  statement {
    sid       = "PutEventsIntoTheStream"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [var.firehose_stream_arn]
  }
}

resource "aws_iam_role" "firehose_events" {
  name               = "${var.configuration_set_name}-ses-events"
  description        = "Assumed by SES to publish configuration set ${var.configuration_set_name}'s events to its Firehose stream"
  assume_role_policy = data.aws_iam_policy_document.firehose_events_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "firehose_events" {
  name   = "put-ses-events"
  role   = aws_iam_role.firehose_events.id
  policy = data.aws_iam_policy_document.firehose_events_put.json
}

# Built rather than read from the configuration set, so that the role's trust policy is complete
# in the plan (the arn attribute is known only after apply).
data "aws_partition" "current" {}

locals {
  configuration_set_arn = "arn:${data.aws_partition.current.partition}:ses:${data.aws_region.current.name}:${var.account_id}:configuration-set/${var.configuration_set_name}"
}
