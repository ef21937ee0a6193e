"""SQS-triggered (the tracker queue, fed by the SES events topic): apply each SES event.

Lambda's partial-batch contract: records reported in `batchItemFailures` are delivered again
(and reach the DLQ after maxReceiveCount); the others are deleted. After the batch, campaigns
whose emails finished are checked for completion.
"""

import logging
from typing import Any

from ems_common.aws import AwsClients
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.suppressions import SuppressionList
from ems_tracker.dal.emails import EmailEvents
from ems_tracker.ingest import Tracker
from ems_tracker.settings import TrackerSettings

logger = logging.getLogger(__name__)
_state: dict[str, Any] = {}


def build_tracker(
    settings: TrackerSettings, clients: AwsClients | None = None
) -> tuple[Tracker, CampaignRepository, CampaignMetrics]:
    """The tracker and what completes campaigns, wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    dynamodb = clients.client("dynamodb")
    metrics = CampaignMetrics(dynamodb, settings.campaigns_table)
    tracker = Tracker(
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
    )
    campaigns = CampaignRepository(
        dynamodb, settings.campaigns_table, settings.campaigns_status_index
    )
    return tracker, campaigns, metrics


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply a batch of SES events."""
    if "tracker" not in _state:
        _state["tracker"], _state["campaigns"], _state["metrics"] = build_tracker(TrackerSettings())
    tracker: Tracker = _state["tracker"]
    failures = []
    finished: set[str] = set()
    for record in event.get("Records", []):
        try:
            campaign_id = tracker.process(record["body"])
        except Exception:
            logger.exception("event %s failed; it will be retried", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        if campaign_id:
            finished.add(campaign_id)
    for campaign_id in sorted(finished):
        if complete_if_finished(_state["campaigns"], _state["metrics"], campaign_id):
            logger.info("campaign %s COMPLETED: every email reached a final state", campaign_id)
    # Counts by event type only: never an address.
    logger.info("tracker so far: %s", dict(tracker.stats))
    return {"batchItemFailures": failures}
