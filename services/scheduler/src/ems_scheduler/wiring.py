"""The composition root: every adapter and service of the scheduler, built from its settings.

The one place that knows which boto3 client each adapter gets. Nothing is made at import, and
creating a service or the app makes no client: each service builds its adapters on first use,
so tests and the local runtime choose the endpoints first. `clients` defaults to an `AwsClients`
reading the environment (AWS, or the local stack by the AWS_ENDPOINT_URL* variables).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from ems_common.aws import AwsClients
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.send_queue import SendQueue
from ems_common.dal.suppressions import SuppressionList
from ems_scheduler.api.app import create_app as create_api_app
from ems_scheduler.api_key import read_api_key
from ems_scheduler.campaigns.compile_jobs import CompileJobs
from ems_scheduler.campaigns.files import CampaignFiles, CandidateUploads, S3Objects, S3PartSink
from ems_scheduler.campaigns.rejections import RejectionDetails
from ems_scheduler.campaigns.schedules import CampaignSchedules
from ems_scheduler.campaigns.service import CampaignAdapters, CampaignService
from ems_scheduler.dead_letters.queues import DeadLetterQueues, SqsDeadLetters, queue_pairs
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.page_tokens import PageTokens
from ems_scheduler.shared.ses_template_store import SesTemplates
from ems_scheduler.shared.template_source import S3TemplateSource
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys, UnsubscribeLinks
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.tracking.reads import DynamoTrackingReads, TrackingReads
from ems_scheduler.transactional.request_store import TransactionalStore
from ems_scheduler.transactional.service import (
    TransactionalAdapters,
    TransactionalDefaults,
    TransactionalService,
)
from ems_scheduler.transactional.template_records import TemplateRecords
from ems_scheduler.unsubscribe.records import UnsubscribeRecords
from ems_scheduler.unsubscribe.service import UnsubscribeService
from ems_scheduler.unsubscribe_keys import load_unsubscribe_keys

if TYPE_CHECKING:
    from flask_openapi3 import OpenAPI


def _lazy(clients: AwsClients | None) -> Callable[[], AwsClients]:
    """`clients`, or one `AwsClients` from the environment made on first use."""
    return functools.cache(lambda: clients or AwsClients())


def campaign_service(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> CampaignService:
    """The campaign service over the tables, buckets, schedules and queue named in `settings`."""
    aws = _lazy(clients)

    def adapters() -> CampaignAdapters:
        s3 = aws().client("s3")
        return CampaignAdapters(
            campaigns=CampaignRepository(
                aws().client("dynamodb"), settings.campaigns_table, settings.campaigns_status_index
            ),
            rejections=RejectionDetails(aws().client("dynamodb"), settings.campaigns_table),
            suppressions=SuppressionList(aws().client("dynamodb"), settings.suppressions_table),
            objects=S3Objects(s3),
            files=CampaignFiles(s3, settings.campaigns_bucket),
            ses_templates=SesTemplates(aws().client("ses")),
            schedules=CampaignSchedules(
                aws().client("scheduler"),
                group=settings.schedule_group_name,
                target_arn=settings.launcher_target_arn,
                role_arn=settings.schedule_role_arn,
            ),
            compile_jobs=CompileJobs(aws().client("sqs"), settings.compile_queue_url),
            template_source=S3TemplateSource(s3),
            part_sink=lambda campaign_id: S3PartSink(s3, settings.campaigns_bucket, campaign_id),
            unsubscribe_links=lambda public_url: unsubscribe_links(
                settings, settings.public_api_url or public_url, aws()
            ),
            uploads=CandidateUploads(s3, settings.assets_bucket, settings.candidates_prefix),
            metrics=CampaignMetrics(aws().client("dynamodb"), settings.campaigns_table),
        )

    return CampaignService(settings, adapters)


def transactional_service(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> TransactionalService:
    """The transactional service over the tables, queue, S3 and SES named in `settings`."""
    aws = _lazy(clients)

    def adapters() -> TransactionalAdapters:
        dynamodb = aws().client("dynamodb")
        return TransactionalAdapters(
            templates=TemplateRecords(dynamodb, settings.campaigns_table),
            ses_templates=SesTemplates(aws().client("ses")),
            objects=S3TemplateSource(aws().client("s3")),
            suppressions=SuppressionList(dynamodb, settings.suppressions_table),
            requests=TransactionalStore(
                dynamodb, settings.emails_table, record_ttl_days=settings.record_ttl_days
            ),
            queue=SendQueue(aws().client("sqs"), settings.transactional_queue_url),
            unsubscribe_links=lambda public_url: unsubscribe_links(
                settings, settings.public_api_url or public_url, aws()
            ),
        )

    defaults = TransactionalDefaults(
        default_from=settings.default_from,
        configuration_set=settings.configuration_set_name,
        template_buckets=settings.template_buckets(),
        sender_domain=settings.sender_domain,
        configuration_sets=settings.configuration_sets(),
    )
    return TransactionalService(defaults, adapters)


def tracking_reads(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> DynamoTrackingReads:
    """The emails, events and metrics tables named in `settings`."""
    aws = _lazy(clients)
    return DynamoTrackingReads(
        lambda: aws().client("dynamodb"),
        campaigns_table=settings.campaigns_table,
        emails_table=settings.emails_table,
        events_table=settings.events_table,
    )


def unsubscribe_links(
    settings: SchedulerSettings, public_url: str, clients: AwsClients
) -> UnsubscribeLinks:
    """Unsubscribe links pointing at `public_url`, sealed with the keys of `settings` (locally)
    or of their secret (AWS, read once per process and made on first use)."""
    return UnsubscribeLinks(
        _unsubscribe_keys(settings, clients),
        base_url=public_url,
        max_age_days=settings.unsubscribe_link_days,
        mailbox=settings.unsubscribe_mailbox,
    )


def _unsubscribe_keys(settings: SchedulerSettings, clients: AwsClients) -> UnsubscribeKeys:
    if settings.unsubscribe_keys is not None:
        return UnsubscribeKeys.from_json(settings.unsubscribe_keys.get_secret_value())
    secret_id = settings.unsubscribe_keys_secret_id
    if secret_id is None:  # SchedulerSettings refuses this; here for the type checker
        msg = "no unsubscribe keys: set EMS_UNSUBSCRIBE_KEYS or EMS_UNSUBSCRIBE_KEYS_SECRET_ID"
        raise ValueError(msg)
    return _stored_keys(secret_id, clients)


@functools.cache
def _stored_keys(secret_id: str, clients: AwsClients) -> UnsubscribeKeys:
    """The keys in their secret, read once per warm Lambda environment."""
    return load_unsubscribe_keys(clients.client("secretsmanager"), secret_id)


def keyring(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> Callable[[], UnsubscribeKeys]:
    """EMS's unsubscribe keys of `settings` (or of their secret), read on first use: the API's
    page tokens and the console's session and CSRF keys are derived from them."""
    aws = _lazy(clients)
    return functools.cache(lambda: _unsubscribe_keys(settings, aws()))


def suppressions_service(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> SuppressionsService:
    """The suppression list's use cases over the suppressions table named in `settings`."""
    aws = _lazy(clients)
    return SuppressionsService(
        lambda: SuppressionList(aws().client("dynamodb"), settings.suppressions_table)
    )


def unsubscribe_service(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> UnsubscribeService:
    """What unsubscribe links do, over the suppressions, emails and metrics named in `settings`."""
    aws = _lazy(clients)
    return UnsubscribeService(
        # Opening a link needs no public URL: only making one does.
        lambda: unsubscribe_links(settings, settings.public_api_url or "", aws()),
        lambda: SuppressionList(aws().client("dynamodb"), settings.suppressions_table),
        lambda: UnsubscribeRecords(
            aws().client("dynamodb"),
            emails_table=settings.emails_table,
            campaigns_table=settings.campaigns_table,
        ),
    )


def dead_letter_queues(
    settings: SchedulerSettings, clients: AwsClients | None = None
) -> SqsDeadLetters:
    """Every EMS queue and its DLQ, as named in `settings`."""
    aws = _lazy(clients)
    return SqsDeadLetters(queue_pairs(settings), lambda: aws().client("sqs"))


def create_app(
    settings: SchedulerSettings,
    campaigns: CampaignService | None = None,
    *,
    dead_letters: DeadLetterQueues | None = None,
    tracking: TrackingReads | None = None,
    suppressions: SuppressionsService | None = None,
    unsubscribe: UnsubscribeService | None = None,
    transactional: TransactionalService | None = None,
    tokens: PageTokens | None = None,
    clients: AwsClients | None = None,
) -> OpenAPI:
    """The API app; each service not given is the one wired to the AWS resources in `settings`.

    Tests give fakes for the services they look at and leave the others to this (no client is
    made until one is used).
    """
    keys = keyring(settings, clients)
    return create_api_app(
        settings,
        campaigns=campaigns or campaign_service(settings, clients),
        transactional=transactional or transactional_service(settings, clients),
        tracking=tracking or tracking_reads(settings, clients),
        suppressions=suppressions or suppressions_service(settings, clients),
        unsubscribe=unsubscribe or unsubscribe_service(settings, clients),
        dead_letters=dead_letters or dead_letter_queues(settings, clients),
        page_tokens=tokens or PageTokens(keys),
        keyring=keys,
    )


def create_app_from_environment() -> OpenAPI:
    """The API wired to AWS, configured from EMS_* variables.

    On AWS the API key is read from Secrets Manager here (`ApiKeyNotSetError` while the secret
    has no value).
    """
    settings = SchedulerSettings()  # every field from the environment
    clients = AwsClients()
    if settings.api_key is None and settings.api_key_secret_id:
        key = read_api_key(clients.client("secretsmanager"), settings.api_key_secret_id)
        settings = settings.model_copy(update={"api_key": key})
    return create_app(settings, clients=clients)
