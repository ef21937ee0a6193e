"""SQS-triggered (the tracker queue): each message is an S3 notification of new objects of SES
events (SES -> Firehose -> the events bucket); read each object and apply its events as one batch.

Lambda's partial-batch contract: records reported in `batchItemFailures` are delivered again
(and reach the DLQ after maxReceiveCount); the others are deleted. A message is:

- an S3 notification: each object it names is read and split into its SES event documents;
  the valid ones are applied together, then each document that is not a valid SES event goes
  alone to the tracker DLQ with its reason (only once the others are in, so that a retry never
  dead-letters it twice). If an object cannot be read, or some of its events could not be
  applied, the message fails and SQS delivers it again: events are idempotent, so applying an
  object a second time changes nothing;
- S3's test event (sent when the notification is set up): nothing to do;
- anything else: to the tracker DLQ at once, with the reason.

After the batch, campaigns whose emails finished are checked for completion, and the brake
looks at campaigns whose bounces or complaints moved.
"""

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ems_common.aws import AwsClients
from ems_common.campaigns import PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.dead_letters import dead_letter
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.lambda_handlers import (
    METRICS_NAMESPACE,
    PAUSED_METRIC,
    process_sqs_batch,
    service_logger,
)
from ems_tracker.brake import BrakeLimits
from ems_tracker.dal.emails import EmailEvents
from ems_tracker.dal.event_objects import (
    EventObject,
    EventObjects,
    NotificationError,
    UnreadableObjectError,
    split_documents,
)
from ems_tracker.ingest import Tracker
from ems_tracker.ses_events import MalformedEventError, parse_ses_event
from ems_tracker.settings import TrackerSettings

logger = logging.getLogger(__name__)


class EventsNotAppliedError(RuntimeError):
    """Some events of an object could not be applied now: its message is delivered again."""


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
        limits=BrakeLimits(
            hard_bounce_rate=settings.brake_hard_bounce_rate,
            complaint_rate=settings.brake_complaint_rate,
            min_sent=settings.brake_min_sent,
        ),
    )


def build_event_objects(
    settings: TrackerSettings, clients: AwsClients | None = None
) -> EventObjects:
    """The reader of the SES event objects the stack's events stream writes."""
    clients = clients or AwsClients()
    return EventObjects(
        clients.client("s3"), bucket=settings.ses_events_bucket, prefix=settings.ses_events_prefix
    )


@functools.cache
def warm_tracker() -> Tracker:
    """The tracker, built on the first invocation and kept while the environment is warm."""
    return build_tracker(TrackerSettings())


@functools.cache
def warm_event_objects() -> EventObjects:
    """The reader of SES event objects, built when first needed and kept while warm."""
    return build_event_objects(TrackerSettings())


def apply_events(tracker: Tracker, bodies: Sequence[str], finished: set[str]) -> list[str]:
    """Apply SES events as one batch; the bodies that could not be applied now.

    Adds to `finished` the campaigns whose emails they finished.
    """
    # One event at a time until the tracker applies a batch at once (Tracker.process_batch).
    failed = []
    for body in bodies:
        try:
            campaign_id = tracker.process(body)
        except Exception:
            logger.exception("an SES event was not applied; its object is read again later")
            failed.append(body)
            continue
        if campaign_id:
            finished.add(campaign_id)
    return failed


def apply_object(tracker: Tracker, found: EventObject, text: str, finished: set[str]) -> None:
    """Apply the SES events of one object, then dead-letter its documents that are not events.

    EventsNotAppliedError if some events could not be applied: nothing is dead-lettered then,
    and the whole object is applied again when its message comes back.
    """
    events: list[str] = []
    malformed: list[tuple[str, str]] = []
    for document in split_documents(text):
        try:
            parse_ses_event(document)
        except MalformedEventError as error:
            malformed.append((document, f"{error} (in {found})"))
            continue
        events.append(document)
    failed = apply_events(tracker, events, finished)
    if failed:
        msg = f"{len(failed)} of the {len(events)} events of {found} not applied: read again later"
        raise EventsNotAppliedError(msg)
    for document, reason in malformed:
        dead_letter(tracker.sqs, tracker.dlq_url, document, reason)
        tracker.stats["dead_lettered"] += 1
        logger.warning("a document of %s dead-lettered: %s", found, reason[:200])
    tracker.stats["objects"] += 1


def track_message(
    tracker: Tracker,
    objects: EventObjects,
    body: str,
    finished: set[str],
    texts: Mapping[EventObject, str | UnreadableObjectError] | None = None,
) -> None:
    """Handle one tracker queue message (see the module's docstring).

    `texts`: objects already read (`read_batch`); any other is read here.
    """
    try:
        named = objects.named_by(body)
    except NotificationError as error:
        dead_letter(tracker.sqs, tracker.dlq_url, body, str(error))
        tracker.stats["dead_lettered"] += 1
        logger.warning("message dead-lettered: %s", str(error)[:200])
        return
    for found in named:
        text = texts.get(found) if texts else None
        if isinstance(text, UnreadableObjectError):
            raise text
        apply_object(tracker, found, objects.read(found) if text is None else text, finished)


def read_batch(
    objects: EventObjects, bodies: Sequence[str]
) -> dict[EventObject, str | UnreadableObjectError]:
    """Read, all at once, every object the notifications among `bodies` name.

    A busy stream writes an object a minute or more, LocalStack's one per PutRecordBatch: a
    batch of notifications is then many small objects, whose reads would otherwise wait in turn.
    What is not a notification is left to `track_message` (it dead-letters it).
    """
    named: list[EventObject] = []
    for body in bodies:
        try:
            named += objects.named_by(body)
        except NotificationError:
            continue
    return objects.read_all(named)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Apply the SES events of the objects a batch of S3 notifications names."""
    tracker = warm_tracker()
    service = service_logger("ems-tracker")
    finished: set[str] = set()

    bodies = [str(record.get("body", "")) for record in event.get("Records", [])]
    # The S3 reader is built only when there is something to read (warm_event_objects is cached)
    texts = read_batch(warm_event_objects(), bodies) if bodies else {}

    def track(message: SQSRecord) -> None:
        track_message(tracker, warm_event_objects(), message.body, finished, texts)

    response = process_sqs_batch(event, context, track, logger=service)
    tracker.complete_finished(finished)
    for campaign_id in tracker.brake():
        # A metric the alarms watch (EMS / CampaignsPaused): someone must look at the list.
        with single_metric(
            name=PAUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("by", PausedBy.BRAKE.value)
        service.warning("campaign %s paused by the reputation brake", campaign_id)
    # Counts by event type only: never an address.
    service.info("tracker so far: %s", dict(tracker.stats))
    return response
