output "service_settings" {
  description = "Every name the services need, keyed by setting: each key is read as the environment variable EMS_<KEY uppercased>. launcher_ticks_queue_url is present only when the module created the ticks queue."
  value = merge(
    {
      assets_bucket           = module.assets_bucket.name
      candidates_prefix       = local.candidates_prefix
      campaigns_bucket        = module.campaigns_bucket.name
      send_queue_url          = module.send_queue.url
      send_dlq_url            = module.send_queue.dlq_url
      transactional_queue_url = module.transactional_queue.url
      transactional_dlq_url   = module.transactional_queue.dlq_url
      compile_queue_url       = module.compile_queue.url
      compile_dlq_url         = module.compile_queue.dlq_url
      tracker_queue_url       = module.tracker_queue.url
      tracker_dlq_url         = module.tracker_queue.dlq_url
      ses_events_bucket       = module.ses_events_bucket.name
      ses_events_prefix       = local.ses_events_prefix
      ses_events_stream       = aws_kinesis_firehose_delivery_stream.ses_events.name
      configuration_set_name  = module.ses.configuration_set_name
      sender_domain           = module.ses.domain
      default_from            = local.default_from
      campaigns_table         = module.campaigns_table.name
      campaigns_status_index  = local.campaigns_status_index
      emails_table            = module.emails_table.name
      emails_message_id_index = local.emails_message_id_index
      suppressions_table      = module.suppressions_table.name
      suppressions_day_index  = local.suppressions_day_index
      events_table            = module.events_table.name
      rate_limits_table       = module.rate_limits_table.name
      launcher_rule_name      = module.launcher_schedule.rule_name
      schedule_group_name     = module.schedule_group.name
      launcher_target_arn     = local.launcher_target_arn
      schedule_role_arn       = aws_iam_role.schedules.arn
    },
    local.create_ticks_queue ? { launcher_ticks_queue_url = module.launcher_ticks_queue[0].url } : {},
  )
}

output "arns" {
  description = "ARNs for the services' IAM policies. launcher_ticks_queue is present only when the module created the ticks queue."
  value = merge(
    {
      assets_bucket           = module.assets_bucket.arn
      campaigns_bucket        = module.campaigns_bucket.arn
      send_queue              = module.send_queue.arn
      send_dlq                = module.send_queue.dlq_arn
      transactional_queue     = module.transactional_queue.arn
      transactional_dlq       = module.transactional_queue.dlq_arn
      compile_queue           = module.compile_queue.arn
      compile_dlq             = module.compile_queue.dlq_arn
      schedule_role           = aws_iam_role.schedules.arn
      tracker_queue           = module.tracker_queue.arn
      tracker_dlq             = module.tracker_queue.dlq_arn
      ses_events_bucket       = module.ses_events_bucket.arn
      ses_events_stream       = aws_kinesis_firehose_delivery_stream.ses_events.arn
      ses_events_kms_key      = aws_kms_key.ses_events.arn
      ses_identity            = module.ses.identity_arn
      configuration_set       = module.ses.configuration_set_arn
      campaigns_table         = module.campaigns_table.arn
      campaigns_status_index  = module.campaigns_table.index_arns[local.campaigns_status_index]
      emails_table            = module.emails_table.arn
      emails_message_id_index = module.emails_table.index_arns[local.emails_message_id_index]
      suppressions_table      = module.suppressions_table.arn
      events_table            = module.events_table.arn
      rate_limits_table       = module.rate_limits_table.arn
      launcher_rule           = module.launcher_schedule.rule_arn
      schedule_group          = module.schedule_group.arn
    },
    local.create_ticks_queue ? { launcher_ticks_queue = module.launcher_ticks_queue[0].arn } : {},
  )
}

output "ses_dns" {
  description = "What the sender domain's DNS must publish on AWS: the _amazonses TXT verification token and the DKIM tokens (<token>._domainkey CNAME <token>.dkim.amazonses.com)."
  value = {
    verification_token = module.ses.verification_token
    dkim_tokens        = module.ses.dkim_tokens
  }
}

output "dns_records" {
  description = "Every DNS record the sender domain needs, as a list of {name, type, value, purpose}: SES verification, DKIM, the custom MAIL FROM's MX and SPF, DMARC (p=none)."
  value       = module.ses.dns_records
}

output "queue_names" {
  description = "Name of every queue, by role: the work queues and their dead-letter queues (for alarms and dashboards)."
  value = {
    send              = module.send_queue.name
    send_dlq          = module.send_queue.dlq_name
    transactional     = module.transactional_queue.name
    transactional_dlq = module.transactional_queue.dlq_name
    compile           = module.compile_queue.name
    compile_dlq       = module.compile_queue.dlq_name
    tracker           = module.tracker_queue.name
    tracker_dlq       = module.tracker_queue.dlq_name
  }
}

output "schedule_role_name" {
  description = "Name of the role EventBridge Scheduler assumes to start the launcher."
  value       = aws_iam_role.schedules.name
}

output "ses_events" {
  description = "The SES events path, for IAM policies and alarms: the Firehose stream's name, the events bucket's name and prefix, the key both are encrypted with, the roles SES and Firehose assume, and how Firehose buffers."
  value = {
    stream             = aws_kinesis_firehose_delivery_stream.ses_events.name
    bucket             = module.ses_events_bucket.name
    prefix             = local.ses_events_prefix
    kms_key_arn        = aws_kms_key.ses_events.arn
    ses_role_arn       = module.ses.events_role_arn
    delivery_role_name = aws_iam_role.ses_events_delivery.name
    buffer_seconds     = var.ses_events_buffer_seconds
    buffer_mb          = var.ses_events_buffer_mb
    retention_days     = var.ses_events_retention_days
  }
}
