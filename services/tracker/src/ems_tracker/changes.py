"""What SES events mean for one email and for its campaign's numbers (plain Python, no AWS).

The tracker keeps, on each email's record (`ems_common.emails.EmailRecord`), when each kind of
event first happened (and how many opens and clicks there were). An event changes those fields
only the first time, so applying the same event twice, or events in any order, ends in the same
record; the record's status is derived from the fields, so a late Send never undoes a Delivery.

`apply_event` says what an event changes on the record and by how much each campaign metric
moves; the tracker writes both in one DynamoDB transaction, guarded by the record's version.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ems_common.campaigns import utc_iso
from ems_common.emails import (
    BOUNCE_TYPE,
    BOUNCED_AT,
    CLICKED_AT,
    CLICKS,
    COMPLAINED_AT,
    DELAYED_AT,
    DELIVERED_AT,
    FINISHED_AT,
    HARD_BOUNCE,
    OPENED_AT,
    OPENS,
    REJECTED_AT,
    RENDERING_FAILED_AT,
    SENT_AT,
    UNSUBSCRIBED_AT,
    EmailRecord,
)
from ems_common.metrics import Metric
from ems_common.suppressions import ALL, CAMPAIGNS, Suppression, SuppressionReason
from ems_tracker.ses_events import (
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


def _first(record: EmailRecord, change: Change, name: str, at: datetime) -> bool:
    """Set `name` to `at` unless the record has it; True if this is the first time."""
    if record.has(name):
        return False
    change.set_fields[name] = utc_iso(at)
    return True


def _finish(record: EmailRecord, change: Change, at: datetime) -> None:
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


def apply_event(
    current: EmailRecord | Mapping[str, Any], event: SesEvent | SesNotification
) -> Change:
    """What `event` changes on the email whose current record is `current`."""
    record = EmailRecord.of(current)
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
        # A complaint is about marketing mail: it stops every campaign email, not receipts.
        change.suppress.extend(
            Suppression(address=a, scope=CAMPAIGNS, reason=SuppressionReason.COMPLAINT)
            for a in event.recipients
        )
    if (
        isinstance(event, SubscriptionEvent)
        and event.subscription.new_topic_preferences.unsubscribe_all
    ):
        if _first(record, change, UNSUBSCRIBED_AT, at):
            change.metrics[Metric.UNSUBSCRIBED] += 1
        change.suppress.extend(
            Suppression(address=a, scope=CAMPAIGNS, reason=SuppressionReason.UNSUBSCRIBE)
            for a in event.recipients
        )
    return change


def _bounce(record: EmailRecord, change: Change, event: BounceRecord) -> None:
    hard = event.bounce.is_permanent
    # A soft bounce followed by a hard one: the hard one is what counts from then on.
    if not record.has(BOUNCED_AT) or (hard and record.bounce_type != HARD_BOUNCE):
        if record.has(BOUNCED_AT):
            change.metrics[Metric.BOUNCED_SOFT] -= 1
        change.set_fields[BOUNCED_AT] = utc_iso(event.occurred_at)
        change.set_fields[BOUNCE_TYPE] = event.bounce.bounce_type
        change.metrics[Metric.BOUNCED_HARD if hard else Metric.BOUNCED_SOFT] += 1
    _finish(record, change, event.occurred_at)
    if hard:  # the address does not take mail: nothing at all goes to it again
        change.suppress.extend(
            Suppression(
                address=a,
                scope=ALL,
                reason=SuppressionReason.HARD_BOUNCE,
                detail=event.bounce.bounce_sub_type,
            )
            for a in event.recipients
        )
