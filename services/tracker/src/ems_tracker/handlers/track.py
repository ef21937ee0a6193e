"""SQS-triggered (the tracker queue): each message is an S3 notification of new objects of SES
events (SES -> Firehose -> the events bucket); the batch's objects are read and all their events
applied as one batch (`Tracker.process_batch`: one update per event, the counters once).

Lambda's partial-batch contract: records reported in `batchItemFailures` are delivered again
(and reach the DLQ after maxReceiveCount); the others are deleted. A message is:

- an S3 notification: each object it names is read and split into its SES event documents;
  the valid ones are applied with the batch's others, then each document that is not a valid
  SES event goes alone to the tracker DLQ with its reason (only once the message's events are
  in, so that a retry never dead-letters it twice). If an object cannot be read, or some of its
  events could not be applied, the message fails and SQS delivers it again: events are
  idempotent, so applying an object a second time changes nothing;
- S3's test event (sent when the notification is set up): nothing to do;
- anything else: to the tracker DLQ at once, with the reason.

The batch's counters are written once, then the campaigns whose emails finished are checked for
completion, and the brake looks at campaigns whose bounces or complaints moved.
"""

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from ems_common.aws import AwsClients
from ems_common.campaigns import PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.dead_letters import dead_letter
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.dal.timeline import CampaignTimeline
from ems_common.lambda_handlers import METRICS_NAMESPACE, PAUSED_METRIC, service_logger
from ems_tracker.brake import BrakeLimits
from ems_tracker.dal.emails import EmailEvents
from ems_tracker.dal.event_objects import (
    EventObject,
    EventObjects,
    NotificationError,
    UnreadableObjectError,
    split_documents,
)
from ems_tracker.ingest import BatchOutcome, Tracker
from ems_tracker.ses_events import MalformedEventError, parse_ses_event
from ems_tracker.settings import TrackerSettings
from ems_tracker.timeline import TimelineWriter

logger = logging.getLogger(__name__)

type Texts = Mapping[EventObject, str | UnreadableObjectError]


class EventsNotAppliedError(RuntimeError):
    """Some events of a message could not be applied now: it is delivered again."""


def build_tracker(settings: TrackerSettings, clients: AwsClients | None = None) -> Tracker:
    """The tracker, wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    dynamodb = clients.client("dynamodb")
    tracker = Tracker(
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
    # The campaign's per-minute chart, written once per campaign and minute of a batch.
    tracker.batch_writers.append(
        TimelineWriter(CampaignTimeline(dynamodb, settings.events_table), stats=tracker.stats)
    )
    return tracker


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


@dataclass
class MessageEvents:
    """What one notification brought: its objects' SES events, and the documents that are not."""

    objects: list[EventObject] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (document, reason)


def events_of(
    tracker: Tracker, objects: EventObjects, body: str, texts: Texts | None = None
) -> MessageEvents | None:
    """The SES events of the objects a message names (None: it is no notification, and was
    dead-lettered). `texts`: objects already read (`read_batch`); any other is read here.
    Raises UnreadableObjectError if an object cannot be read."""
    try:
        named = objects.named_by(body)
    except NotificationError as error:
        dead_letter(tracker.sqs, tracker.dlq_url, body, str(error))
        tracker.stats["dead_lettered"] += 1
        logger.warning("message dead-lettered: %s", str(error)[:200])
        return None
    found = MessageEvents()
    for named_object in named:
        text = texts.get(named_object) if texts else None
        if isinstance(text, UnreadableObjectError):
            raise text
        text = objects.read(named_object) if text is None else text
        for document in split_documents(text):
            try:
                parse_ses_event(document)
            except MalformedEventError as error:
                found.malformed.append((document, f"{error} (in {named_object})"))
                continue
            found.events.append(document)
        found.objects.append(named_object)
    return found


def apply_messages(
    tracker: Tracker, messages: Mapping[int, MessageEvents]
) -> tuple[set[int], BatchOutcome]:
    """Apply the events of `messages` (by position in the batch) as one batch; the positions
    whose events did not all apply (to deliver again), and the batch's outcome. The malformed
    documents of the others are dead-lettered."""
    documents: list[str] = []
    owners: list[int] = []
    for position, message in messages.items():
        documents += message.events
        owners += [position] * len(message.events)
    outcome = tracker.process_batch(documents)
    again = {owners[index] for index in outcome.failed}
    for position, message in messages.items():
        if position in again:
            continue
        for document, reason in message.malformed:
            dead_letter(tracker.sqs, tracker.dlq_url, document, reason)
            tracker.stats["dead_lettered"] += 1
            logger.warning("a document dead-lettered: %s", reason[:200])
        tracker.stats["objects"] += len(message.objects)
    return again, outcome


def track_message(
    tracker: Tracker, objects: EventObjects, body: str, texts: Texts | None = None
) -> BatchOutcome | None:
    """Handle one tracker queue message alone (see the module's docstring); its outcome, or
    None if it was no notification. EventsNotAppliedError if some events did not apply."""
    found = events_of(tracker, objects, body, texts)
    if found is None:
        return None
    again, outcome = apply_messages(tracker, {0: found})
    if again:
        msg = f"{len(outcome.failed)} of the {len(found.events)} events not applied: read again"
        raise EventsNotAppliedError(msg)
    return outcome


def read_batch(objects: EventObjects, bodies: Sequence[str]) -> dict[EventObject, Any]:
    """Read, all at once, every object the notifications among `bodies` name.

    A busy stream writes an object a minute or more, LocalStack's one per PutRecordBatch: a
    batch of notifications is then many small objects, whose reads would otherwise wait in turn.
    What is not a notification is left to `events_of` (it dead-letters it).
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
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        service.append_keys(function_request_id=request_id)
    records: list[dict[str, Any]] = list(event.get("Records", []))
    bodies = [str(record.get("body", "")) for record in records]
    messages: dict[int, MessageEvents] = {}
    again: set[int] = set()
    if bodies:  # the S3 reader is built only when there is something to read
        objects = warm_event_objects()
        texts = read_batch(objects, bodies)
        for position, body in enumerate(bodies):
            try:
                found = events_of(tracker, objects, body, texts)
            except UnreadableObjectError as error:
                service.warning("an object cannot be read now: %s", str(error)[:300])
                again.add(position)
                continue
            if found is not None:
                messages[position] = found
    not_applied, outcome = apply_messages(tracker, messages)
    again |= not_applied
    for campaign_id in outcome.paused:
        # A metric the alarms watch (EMS / CampaignsPaused): someone must look at the list.
        with single_metric(
            name=PAUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("by", PausedBy.BRAKE.value)
        service.warning("campaign %s paused by the reputation brake", campaign_id)
    # Counts by event type only: never an address.
    service.info("tracker so far: %s", dict(tracker.stats))
    return {
        "batchItemFailures": [
            {"itemIdentifier": str(records[position]["messageId"])} for position in sorted(again)
        ]
    }
