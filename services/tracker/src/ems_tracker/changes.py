"""What SES events mean for one email and for its campaign's numbers (plain Python, no AWS).

The tracker keeps, on each email's record (`ems_common.emails.EmailRecord`), when each kind of
event first happened (and how many opens and clicks there were). An event changes those fields
only the first time, so applying the same event twice, or events in any order, ends in the same
record; the record's status is derived from the fields, so a late Send never undoes a Delivery.

`record_update` says, from the event alone, how one conditional write makes that change on
whatever the record holds (first-time fields with `if_not_exists`, counters added, an open's or
click's digest that must not be there yet); `apply_event` says what the event changes on a given
record and by how much each campaign metric moves. The tracker writes the first and, from the
record as it was just before (the write returns it), counts the second: concurrent events of
one email each see the state before their own write, so nothing is counted twice.
"""

import base64
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson

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
    SEGMENT_ID,
    SENT_AT,
    SES_MESSAGE_ID,
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
    SesEventBase,
    SesNotification,
    SubscriptionEvent,
)

# Events kept raw (with a TTL) besides their effect on the record: the rare ones, which say
# why an email failed or what its recipient did about it. Send, Delivery, Open and Click (all
# but a few percent of events) are only what they leave on the record: times and counts.
_KEPT_RAW: Final[tuple[type, ...]] = (
    BounceRecord,
    ComplaintRecord,
    RejectEvent,
    RenderingFailureEvent,
    SubscriptionEvent,
    DeliveryDelayEvent,
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
    else:
        change.suppress.extend(suppressions_of(event))
    if (
        isinstance(event, SubscriptionEvent)
        and event.subscription.new_topic_preferences.unsubscribe_all
        and _first(record, change, UNSUBSCRIBED_AT, at)
    ):
        change.metrics[Metric.UNSUBSCRIBED] += 1
    return change


def _bounce(record: EmailRecord, change: Change, event: BounceRecord) -> None:
    hard = event.bounce.is_permanent
    if _first(record, change, BOUNCED_AT, event.occurred_at):
        change.set_fields[BOUNCE_TYPE] = event.bounce.bounce_type
        change.metrics[Metric.BOUNCED_HARD if hard else Metric.BOUNCED_SOFT] += 1
    elif hard and record.bounce_type != HARD_BOUNCE:
        # A soft bounce, then a hard one: the hard one is what counts from then on
        # (`bounced_at` stays the first bounce's time).
        change.set_fields[BOUNCE_TYPE] = HARD_BOUNCE
        change.metrics[Metric.BOUNCED_SOFT] -= 1
        change.metrics[Metric.BOUNCED_HARD] += 1
    _finish(record, change, event.occurred_at)
    change.suppress.extend(suppressions_of(event))


def suppressions_of(event: SesEventBase) -> list[Suppression]:
    """The addresses an event puts on the suppression list (whatever the email's record says):
    a hard bounce's everywhere, a complaint's and an unsubscribe-all's from campaign email."""
    if isinstance(event, BounceRecord) and event.bounce.is_permanent:
        # The address does not take mail: nothing at all goes to it again.
        return [
            Suppression(
                address=a,
                scope=ALL,
                reason=SuppressionReason.HARD_BOUNCE,
                detail=event.bounce.bounce_sub_type,
            )
            for a in event.recipients
        ]
    if isinstance(event, ComplaintRecord):
        # A complaint is about marketing mail: it stops every campaign email, not receipts.
        return [
            Suppression(address=a, scope=CAMPAIGNS, reason=SuppressionReason.COMPLAINT)
            for a in event.recipients
        ]
    if (
        isinstance(event, SubscriptionEvent)
        and event.subscription.new_topic_preferences.unsubscribe_all
    ):
        return [
            Suppression(address=a, scope=CAMPAIGNS, reason=SuppressionReason.UNSUBSCRIBE)
            for a in event.recipients
        ]
    return []


# --- the record's one write per event -------------------------------------------------------

ENGAGEMENT_DIGEST_LENGTH: Final = 8
"""Characters of an open's or click's digest on the record (48 bits: two of one email's opens
collide with a chance of about n^2 / 5.6e14, and the digests keep the record small)."""


def engagement_digest(event: SesEvent | SesNotification) -> str | None:
    """A short digest of an Open or Click event (its message id, type and own object: time,
    address, user agent, link), the same however the event was delivered; None for others."""
    detail: Any
    if isinstance(event, OpenEvent):
        detail = event.open
    elif isinstance(event, ClickEvent):
        detail = event.click
    else:
        return None
    identity = orjson.dumps(
        [event.message_id, event.event_type, detail.model_dump(mode="json", by_alias=True)],
        option=orjson.OPT_SORT_KEYS,
    )
    digest = hashlib.sha256(identity).digest()
    return base64.urlsafe_b64encode(digest).decode()[:ENGAGEMENT_DIGEST_LENGTH]


@dataclass(frozen=True)
class RecordUpdate:
    """One event's write to its email's record, derived from the event alone.

    `firsts` are set only where the record has no value yet (`if_not_exists`), `sets` always,
    `adds` are added; an open or click adds its `digest` to the record's digests, on the
    condition that it is not there yet (the same event delivered twice counts once).
    """

    firsts: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, Any] = field(default_factory=dict)
    adds: dict[str, int] = field(default_factory=dict)
    digest: str | None = None


def record_update(event: SesEvent | SesNotification) -> RecordUpdate:
    """How one conditional write applies `event` to its email's record, whatever the record
    holds, even none: the record it leaves is the one `apply_event`'s fields would give.

    Its message id and segment (from the tags) are written too where the record has none, so
    a record the tracker creates can be found by message id and counted in its segment.
    """
    firsts: dict[str, Any] = {SES_MESSAGE_ID: event.message_id}
    if event.segment_id:
        firsts[SEGMENT_ID] = event.segment_id
    sets: dict[str, Any] = {}
    adds: dict[str, int] = {}
    at = utc_iso(event.occurred_at)
    for kind, name, _metric, finishes in _FIRSTS:
        if isinstance(event, kind):
            firsts[name] = at
            if finishes:
                firsts[FINISHED_AT] = at
    for kind, name, counter, _unique, _total in _ENGAGEMENTS:
        if isinstance(event, kind):
            firsts[name] = at
            adds[counter] = 1
    if isinstance(event, BounceRecord):
        firsts[BOUNCED_AT] = at
        firsts[FINISHED_AT] = at
        if event.bounce.is_permanent:
            sets[BOUNCE_TYPE] = HARD_BOUNCE  # whatever came before: hard from now on
        else:
            firsts[BOUNCE_TYPE] = event.bounce.bounce_type
    if (
        isinstance(event, SubscriptionEvent)
        and event.subscription.new_topic_preferences.unsubscribe_all
    ):
        firsts[UNSUBSCRIBED_AT] = at
    return RecordUpdate(firsts=firsts, sets=sets, adds=adds, digest=engagement_digest(event))


def shares_a_write(update: RecordUpdate) -> bool:
    """Whether `update` may be written together with other events of its email (`merged`): it
    only sets first times, as Send, Delivery and most other kinds do. An open's or click's write
    is conditional on its digest, and a hard bounce sets its type whatever came before, so
    those are written alone."""
    return update.digest is None and not update.sets and not update.adds


def merged(updates: Sequence[RecordUpdate]) -> RecordUpdate:
    """One write that leaves any record as `updates` (each `shares_a_write`) written one after
    the other would: each first-time field takes its first value, as `if_not_exists` keeps
    it. An email's Send and Delivery, which SES publishes within seconds and so mostly arrive
    in one batch, then cost one write instead of two."""
    firsts: dict[str, Any] = {}
    for update in updates:
        if not shares_a_write(update):
            msg = f"an update with sets, adds or a digest is written alone: {update}"
            raise ValueError(msg)
        for name, value in update.firsts.items():
            firsts.setdefault(name, value)
    return RecordUpdate(firsts=firsts)


def applied(record: EmailRecord, update: RecordUpdate) -> EmailRecord:
    """`record` as `update`'s write leaves it, as DynamoDB applies it (`update_request`): what
    the next event of a shared write finds, to count what that event changed."""
    fields = {name: value for name, value in update.firsts.items() if not record.has(name)}
    fields |= update.sets
    fields |= {name: getattr(record, name) + n for name, n in update.adds.items()}
    if update.digest is not None:
        fields["engagement_digests"] = record.engagement_digests | {update.digest}
    return record.model_copy(update=fields)


def is_kept_raw(event: SesEvent | SesNotification, *, transactional: bool) -> bool:
    """Whether the event's raw JSON is kept (events table, with a TTL): the rare kinds that
    explain an email's fate, and a transactional email's Send (it carries the caller's tags and
    the headers, which `GET /emails/{id}` shows)."""
    return isinstance(event, _KEPT_RAW) or (transactional and isinstance(event, SendEvent))
