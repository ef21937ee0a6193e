"""What SES events mean for one email and for its campaign's numbers (plain Python, no AWS).

The tracker keeps, on each email's record, when each kind of event first happened (and how many
opens and clicks there were). An event changes those fields only the first time, so applying
the same event twice, or events in any order, ends in the same record; the record's status is
derived from the fields (`email_status`), so a late Send never undoes a Delivery.

`apply_event` says what an event changes on the record and by how much each campaign metric
moves; the tracker writes both in one DynamoDB transaction, guarded by the record's version.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ems_common.campaigns import utc_iso
from ems_common.formats.ses_event import (
    BounceRecord,
    ClickEvent,
    ComplaintRecord,
    DeliveryDelayEvent,
    DeliveryRecord,
    OpenEvent,
    RejectEvent,
    RenderingFailureEvent,
    SendEvent,
    SesEvent,
    SesNotification,
    SubscriptionEvent,
)


class Metric(StrEnum):
    """The counters kept per campaign and segment (each an attribute of the metrics item)."""

    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED_HARD = "bounced_hard"
    BOUNCED_SOFT = "bounced_soft"
    COMPLAINED = "complained"
    REJECTED = "rejected"
    OPENED_UNIQUE = "opened_unique"
    OPENED_TOTAL = "opened_total"
    CLICKED_UNIQUE = "clicked_unique"
    CLICKED_TOTAL = "clicked_total"
    RENDERING_FAILURES = "rendering_failures"
    DELIVERY_DELAYS = "delivery_delays"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"  # refused by SES for good at the send call (the sender counts it)
    SUPPRESSED = "suppressed"  # skipped, on the suppression list (the sender counts it)
    FINISHED = "finished"  # emails that reached a final sending state


class EmailStatus(StrEnum):
    """One email's status, as the API shows it."""

    QUEUED = "QUEUED"  # no worker has taken it yet
    SENDING = "SENDING"  # a sender holds it
    SENT = "SENT"  # SES accepted it
    DELIVERY_DELAYED = "DELIVERY_DELAYED"
    DELIVERED = "DELIVERED"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    SOFT_BOUNCED = "SOFT_BOUNCED"
    BOUNCED = "BOUNCED"
    COMPLAINED = "COMPLAINED"
    REJECTED = "REJECTED"
    RENDERING_FAILED = "RENDERING_FAILED"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"


# Record fields, one name each (the sender writes `state`, `segment_id`, `ses_message_id`).
SENT_AT: Final = "sent_at"
DELIVERED_AT: Final = "delivered_at"
DELAYED_AT: Final = "delayed_at"
BOUNCED_AT: Final = "bounced_at"
BOUNCE_TYPE: Final = "bounce_type"
COMPLAINED_AT: Final = "complained_at"
REJECTED_AT: Final = "rejected_at"
RENDERING_FAILED_AT: Final = "rendering_failed_at"
OPENED_AT: Final = "opened_at"
OPENS: Final = "opens"
CLICKED_AT: Final = "clicked_at"
CLICKS: Final = "clicks"
UNSUBSCRIBED_AT: Final = "unsubscribed_at"
FINISHED_AT: Final = "finished_at"
VERSION: Final = "tracker_version"
SENDER_STATE: Final = "state"  # the sender's CLAIMED / SENT / FAILED / SUPPRESSED

_SENDER_STATES: Final = {
    "FAILED": EmailStatus.FAILED,
    "SUPPRESSED": EmailStatus.SUPPRESSED,
    "SENT": EmailStatus.SENT,
    "CLAIMED": EmailStatus.SENDING,
}
HARD_BOUNCE: Final = "Permanent"


def email_status(record: dict[str, Any] | None) -> EmailStatus:
    """The status of the email whose record (sender's and tracker's fields) is `record`.

    The most telling event wins, whatever order events came in: a complaint, then a hard
    bounce, a rejection, a rendering failure, a click, an open, a delivery, a soft bounce, a
    delay, and SES accepting the email.
    """
    if not record:
        return EmailStatus.QUEUED
    bounced = BOUNCED_AT in record
    hard = bounced and record.get(BOUNCE_TYPE) == HARD_BOUNCE
    precedence = (
        (COMPLAINED_AT in record, EmailStatus.COMPLAINED),
        (hard, EmailStatus.BOUNCED),
        (REJECTED_AT in record, EmailStatus.REJECTED),
        (RENDERING_FAILED_AT in record, EmailStatus.RENDERING_FAILED),
        (CLICKED_AT in record, EmailStatus.CLICKED),
        (OPENED_AT in record, EmailStatus.OPENED),
        (DELIVERED_AT in record, EmailStatus.DELIVERED),
        (bounced, EmailStatus.SOFT_BOUNCED),
        (DELAYED_AT in record, EmailStatus.DELIVERY_DELAYED),
        (SENT_AT in record, EmailStatus.SENT),
    )
    for present, status in precedence:
        if present:
            return status
    return _SENDER_STATES.get(str(record.get(SENDER_STATE, "")), EmailStatus.QUEUED)


def events_partition(scope: str, recipient: str) -> str:
    """The events table partition holding one email's raw events (one query lists them)."""
    return f"{scope}#{recipient.lower()}"


@dataclass
class Suppression:
    """An address to put on the suppression list, and why."""

    address: str
    reason: str


@dataclass
class Change:
    """What one event does: fields to set on the email record, counters to add to it and to
    the campaign's metrics, addresses to suppress."""

    set_fields: dict[str, Any] = field(default_factory=dict)
    add_fields: dict[str, int] = field(default_factory=dict)
    metrics: Counter[Metric] = field(default_factory=Counter)
    suppress: list[Suppression] = field(default_factory=list)

    @property
    def finishes(self) -> bool:
        """Whether the email reached its final sending state with this event."""
        return self.metrics[Metric.FINISHED] > 0


def _first(record: dict[str, Any], change: Change, name: str, at: datetime) -> bool:
    """Set `name` to `at` unless the record has it; True if this is the first time."""
    if name in record:
        return False
    change.set_fields[name] = utc_iso(at)
    return True


def _finish(record: dict[str, Any], change: Change, at: datetime) -> None:
    if _first(record, change, FINISHED_AT, at):
        change.metrics[Metric.FINISHED] += 1


# Events that set a field the first time they happen, count once, and maybe finish the email.
_FIRSTS: Final[tuple[tuple[type, str, Metric, bool], ...]] = (
    (SendEvent, SENT_AT, Metric.SENT, False),
    (DeliveryRecord, DELIVERED_AT, Metric.DELIVERED, True),
    (ComplaintRecord, COMPLAINED_AT, Metric.COMPLAINED, True),
    (RejectEvent, REJECTED_AT, Metric.REJECTED, True),
    (RenderingFailureEvent, RENDERING_FAILED_AT, Metric.RENDERING_FAILURES, True),
    (DeliveryDelayEvent, DELAYED_AT, Metric.DELIVERY_DELAYS, False),
)
# Engagement: every one counts in the total, the email's first in the unique count.
_ENGAGEMENTS: Final[tuple[tuple[type, str, str, Metric, Metric], ...]] = (
    (OpenEvent, OPENED_AT, OPENS, Metric.OPENED_UNIQUE, Metric.OPENED_TOTAL),
    (ClickEvent, CLICKED_AT, CLICKS, Metric.CLICKED_UNIQUE, Metric.CLICKED_TOTAL),
)


def apply_event(record: dict[str, Any], event: SesEvent | SesNotification) -> Change:
    """What `event` changes on the email whose current record is `record`."""
    change = Change()
    at = event.occurred_at
    for kind, name, metric, finishes in _FIRSTS:
        if isinstance(event, kind):
            if _first(record, change, name, at):
                change.metrics[metric] += 1
            if finishes:
                _finish(record, change, at)
    for kind, name, counter, unique, total in _ENGAGEMENTS:
        if isinstance(event, kind):
            change.add_fields[counter] = 1
            change.metrics[total] += 1
            if _first(record, change, name, at):
                change.metrics[unique] += 1
    if isinstance(event, BounceRecord):
        _bounce(record, change, event)
    if isinstance(event, ComplaintRecord):
        change.suppress.extend(Suppression(a, "complaint") for a in event.recipients)
    if (
        isinstance(event, SubscriptionEvent)
        and event.subscription.new_topic_preferences.unsubscribe_all
    ):
        if _first(record, change, UNSUBSCRIBED_AT, at):
            change.metrics[Metric.UNSUBSCRIBED] += 1
        change.suppress.extend(Suppression(a, "unsubscribed") for a in event.recipients)
    return change


def _bounce(record: dict[str, Any], change: Change, event: BounceRecord) -> None:
    hard = event.bounce.is_permanent
    # A soft bounce followed by a hard one: the hard one is what counts from then on.
    if BOUNCED_AT not in record or (hard and record.get(BOUNCE_TYPE) != HARD_BOUNCE):
        if BOUNCED_AT in record:
            change.metrics[Metric.BOUNCED_SOFT] -= 1
        change.set_fields[BOUNCED_AT] = utc_iso(event.occurred_at)
        change.set_fields[BOUNCE_TYPE] = event.bounce.bounce_type
        change.metrics[Metric.BOUNCED_HARD if hard else Metric.BOUNCED_SOFT] += 1
    _finish(record, change, event.occurred_at)
    if hard:
        reason = f"hard bounce ({event.bounce.bounce_sub_type})"
        change.suppress.extend(Suppression(a, reason) for a in event.recipients)


def rates(counts: dict[str, int], total: int) -> dict[str, float | None]:
    """The usual rates: delivery, bounce and complaint per sent; open and click per delivered."""

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    sent = counts.get(Metric.SENT, 0)
    delivered = counts.get(Metric.DELIVERED, 0)
    bounced = counts.get(Metric.BOUNCED_HARD, 0) + counts.get(Metric.BOUNCED_SOFT, 0)
    return {
        "delivery_rate": ratio(delivered, sent),
        "bounce_rate": ratio(bounced, sent),
        "complaint_rate": ratio(counts.get(Metric.COMPLAINED, 0), sent),
        "open_rate": ratio(counts.get(Metric.OPENED_UNIQUE, 0), delivered),
        "click_rate": ratio(counts.get(Metric.CLICKED_UNIQUE, 0), delivered),
        "progress": ratio(counts.get(Metric.FINISHED, 0), total),
    }
