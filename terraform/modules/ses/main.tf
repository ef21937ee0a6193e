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
