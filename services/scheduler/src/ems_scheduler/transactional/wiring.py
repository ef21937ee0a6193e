"""The transactional service wired to AWS (or the local stack)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ems_common.aws import AwsClients
from ems_common.dal.send_queue import SendQueue
from ems_common.dal.suppressions import SuppressionList
from ems_scheduler.shared.ses_template_store import SesTemplates
from ems_scheduler.shared.template_source import S3TemplateSource
from ems_scheduler.transactional.request_store import TransactionalStore
from ems_scheduler.transactional.service import (
    TransactionalAdapters,
    TransactionalDefaults,
    TransactionalService,
)
from ems_scheduler.transactional.template_records import TemplateRecords

if TYPE_CHECKING:
    from ems_scheduler.settings import SchedulerSettings


def build_transactional_service(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> TransactionalService:
    """The service over the tables, queue, S3 and SES named in `settings`.

    The clients are made on the service's first use, so creating the app makes none.
    """

    def adapters() -> TransactionalAdapters:
        aws = clients or AwsClients()
        dynamodb = aws.client("dynamodb")
        return TransactionalAdapters(
            templates=TemplateRecords(dynamodb, settings.campaigns_table),
            ses_templates=SesTemplates(aws.client("ses")),
            objects=S3TemplateSource(aws.client("s3")),
            suppressions=SuppressionList(dynamodb, settings.suppressions_table),
            requests=TransactionalStore(
                dynamodb, settings.emails_table, record_ttl_days=settings.record_ttl_days
            ),
            queue=SendQueue(aws.client("sqs"), settings.transactional_queue_url),
        )

    defaults = TransactionalDefaults(
        default_from=settings.default_from,
        configuration_set=settings.configuration_set_name,
        template_buckets=settings.template_buckets(),
    )
    return TransactionalService(defaults, adapters)
