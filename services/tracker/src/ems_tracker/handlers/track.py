"""SQS-triggered (the tracker queue, fed by the SES events topic): apply a batch of SES events.

Lambda's partial-batch contract: records reported in `batchItemFailures` are delivered again
(and reach the DLQ after maxReceiveCount); the others are deleted. The tracker takes the batch's
event bodies (`Tracker.process_batch`), whatever carried them, and says which failed.
"""

import functools
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from ems_common.aws import AwsClients
from ems_common.campaigns import PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.lambda_handlers import METRICS_NAMESPACE, PAUSED_METRIC, service_logger
from ems_tracker.brake import BrakeLimits
from ems_tracker.dal.emails import EmailEvents
from ems_tracker.ingest import Tracker
from ems_tracker.settings import TrackerSettings


def build_tracker(settings: TrackerSettings, clients: AwsClients | None = None) -> Tracker:
    """The tracker, wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    dynamodb = clients.client("dynamodb")
    return Tracker(
        events=EmailEvents(
            dynamodb,
            emails_table=settings.emails_table,
            message_id_index=settings.emails_message_id_index,
            events_table=settings.events_table,
            event_ttl_days=settings.event_ttl_days,
            record_ttl_days=settings.record_ttl_days,
        ),
        suppressions=SuppressionList(dynamodb, settings.suppressions_table),
        sqs=clients.client("sqs"),
        dlq_url=settings.tracker_dlq_url,
        metrics=CampaignMetrics(dynamodb, settings.campaigns_table),
        campaigns=CampaignRepository(
            dynamodb, settings.campaigns_table, settings.campaigns_status_index
        ),
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


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Apply a batch of SES events (one SQS batch)."""
    tracker = warm_tracker()
    logger = service_logger("ems-tracker")
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(function_request_id=request_id)
    records: list[dict[str, Any]] = list(event.get("Records", []))
    outcome = tracker.process_batch([str(record["body"]) for record in records])
    for campaign_id in outcome.paused:
        # A metric the alarms watch (EMS / CampaignsPaused): someone must look at the list.
        with single_metric(
            name=PAUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("by", PausedBy.BRAKE.value)
        logger.warning("campaign %s paused by the reputation brake", campaign_id)
    # Counts by event type only: never an address.
    logger.info("tracker so far: %s", dict(tracker.stats))
    return {
        "batchItemFailures": [
            {"itemIdentifier": str(records[position]["messageId"])} for position in outcome.failed
        ]
    }
