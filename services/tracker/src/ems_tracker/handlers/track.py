"""SQS-triggered (the tracker queue, fed by the SES events topic): apply each SES event.

Lambda's partial-batch contract: records reported in `batchItemFailures` are delivered again
(and reach the DLQ after maxReceiveCount); the others are deleted. After the batch, campaigns
whose emails finished are checked for completion.
"""

import functools
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ems_common.aws import AwsClients
from ems_common.campaigns import PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.dal.timeline import CampaignTimeline
from ems_common.formats.tags import CAMPAIGN_ID_TAG
from ems_common.lambda_handlers import (
    METRICS_NAMESPACE,
    PAUSED_METRIC,
    process_sqs_batch,
    service_logger,
)
from ems_tracker.brake import BrakeLimits
from ems_tracker.dal.emails import EmailEvents
from ems_tracker.ingest import Tracker
from ems_tracker.settings import TrackerSettings


def build_tracker(settings: TrackerSettings, clients: AwsClients | None = None) -> Tracker:
    """The tracker, wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    dynamodb = clients.client("dynamodb")
    metrics = CampaignMetrics(dynamodb, settings.campaigns_table)
    return Tracker(
        events=EmailEvents(
            dynamodb,
            emails_table=settings.emails_table,
            message_id_index=settings.emails_message_id_index,
            events_table=settings.events_table,
            metrics=metrics,
            event_ttl_days=settings.event_ttl_days,
        ),
        suppressions=SuppressionList(dynamodb, settings.suppressions_table),
        sqs=clients.client("sqs"),
        dlq_url=settings.tracker_dlq_url,
        conflict_retries=settings.conflict_retries,
        campaigns=CampaignRepository(
            dynamodb, settings.campaigns_table, settings.campaigns_status_index
        ),
        metrics=metrics,
        timeline=CampaignTimeline(dynamodb, settings.events_table),
        limits=BrakeLimits(
            hard_bounce_rate=settings.brake_hard_bounce_rate,
            complaint_rate=settings.brake_complaint_rate,
            min_sent=settings.brake_min_sent,
        ),
    )


@functools.cache
def warm_tracker() -> Tracker:
    """The tracker, built on the first invocation and kept while the environment is warm."""
    return build_tracker(TrackerSettings())


def _campaign_id(body: str) -> str | None:
    return str(orjson.loads(body)["mail"]["tags"][CAMPAIGN_ID_TAG][0])


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Apply a batch of SES events."""
    tracker = warm_tracker()
    logger = service_logger("ems-tracker")
    finished: set[str] = set()

    def track(message: SQSRecord) -> None:
        campaign_id = tracker.process(message.body)
        if campaign_id:
            finished.add(campaign_id)

    response = process_sqs_batch(event, context, track, logger=logger, campaign_id_of=_campaign_id)
    tracker.complete_finished(finished)
    for campaign_id in tracker.brake():
        # A metric the alarms watch (EMS / CampaignsPaused): someone must look at the list.
        with single_metric(
            name=PAUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("by", PausedBy.BRAKE.value)
        logger.warning("campaign %s paused by the reputation brake", campaign_id)
    # Counts by event type only: never an address.
    logger.info("tracker so far: %s", dict(tracker.stats))
    return response
