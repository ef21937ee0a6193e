"""Turning a batch of SES events into DynamoDB state.

For each event: find its email (by the campaignId/emailId tag and recipient, else by SES
message id), suppress the addresses a hard bounce, complaint or unsubscribe-all names, keep the
raw JSON of the rare kinds (`ems_tracker.changes.is_kept_raw`), then write the event to the
email's record in one conditional update (`ems_tracker.changes.record_update`) that returns the
record as it was: what the event changed on it (`apply_event`) is what it adds to the counters.
An email's events in the batch that only set first times (its Send and Delivery, mostly) share
one update (`merged`), each counting what it changed on the record the events before it left.
The batch's counters are summed per metrics item and written once each at the end of the batch
(and any other per-batch sums, through `batch_writers`); then the campaigns whose emails
finished are checked for completion and the brake looks at those whose bounces or complaints
moved.

A duplicate changes nothing; an event for an unknown message id is kept apart and counted; a
body that is not an SES event goes to the DLQ with the reason. Where the events come from (SQS
today) is the handler's business: `process_batch` takes their JSON bodies.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ems_common.campaigns import PAUSABLE, PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.dead_letters import dead_letter
from ems_common.dal.emails import EmailKey
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.suppressions import SuppressionList
from ems_common.metrics import Metric
from ems_common.transactional import is_transactional_scope, metrics_partition
from ems_tracker.brake import BrakeLimits, brake_reason
from ems_tracker.changes import (
    RecordUpdate,
    applied,
    apply_event,
    is_kept_raw,
    merged,
    record_update,
    shares_a_write,
    suppressions_of,
)
from ems_tracker.dal.emails import EmailEvents, event_name
from ems_tracker.ses_events import MalformedEventError, SesEvent, SesNotification, parse_ses_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)


# A campaign found settled stays so; one found unsettled is looked at again this soon (a late
# event just after the reconciler settled it must not count as finished a second time).
_UNSETTLED_CACHE_SECONDS = 5.0

type MetricsItem = tuple[str, str | None]
"""A metrics item: its partition (a campaign id, or `template#<name>`) and segment."""


@dataclass
class BatchSums:
    """What a batch's events changed, summed to be written once per item after the batch."""

    counters: dict[MetricsItem, Counter[Metric]] = field(default_factory=dict)
    # The same deltas per metrics partition and the minute the events happened (UTC, floored):
    # for a per-minute series (`Tracker.batch_writers`), one write per (partition, minute).
    by_minute: dict[tuple[str, datetime], Counter[Metric]] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)  # scopes whose emails finished
    reputation_moved: set[str] = field(default_factory=set)  # their hard bounces or complaints

    def add(self, scope: str, segment: str | None, at: datetime, deltas: Counter[Metric]) -> None:
        """Count one event's `deltas` for the email of `scope` and `segment`, happened `at`."""
        # Zeros dropped; negative moves kept (a soft bounce that turned hard: bounced_soft -1).
        moved = Counter({metric: n for metric, n in deltas.items() if n})
        if not moved:
            return
        item = metrics_partition(scope, segment)
        self.counters.setdefault(item, Counter()).update(moved)
        minute = (item[0], at.replace(second=0, microsecond=0))
        self.by_minute.setdefault(minute, Counter()).update(moved)
        if moved[Metric.FINISHED]:
            self.finished.add(scope)
        if moved[Metric.BOUNCED_HARD] or moved[Metric.COMPLAINED]:
            self.reputation_moved.add(scope)


type BatchWriter = Callable[[BatchSums], None]
"""Writes some per-batch sums (after the counters): e.g. one ADD per (campaign, minute)."""


@dataclass(frozen=True)
class BatchOutcome:
    """What became of a batch."""

    failed: list[int]  # positions of the bodies to deliver again (the rest is done)
    finished: set[str]  # scopes (campaigns, transactional emails) whose emails finished
    completed: list[str]  # campaigns this batch completed
    paused: list[str]  # campaigns the brake paused


@dataclass(frozen=True)
class _Located:
    """An event of the batch whose email is known: what its write is, and its place in the
    batch (to retry it if the write fails)."""

    position: int
    event: SesEvent | SesNotification
    ref: EmailKey
    update: RecordUpdate

    @property
    def write_key(self) -> tuple[str, str, int]:
        """Events of one email with the same key share a write (`shares_a_write`); any other
        event has a key of its own (its position)."""
        alone = -1 if shares_a_write(self.update) else self.position
        return self.ref.scope, self.ref.recipient.lower(), alone


@dataclass
class Tracker:
    """Applies SES events."""

    events: EmailEvents
    suppressions: SuppressionList
    sqs: "SQSClient"
    dlq_url: str
    metrics: CampaignMetrics
    # To complete a campaign once the events of a batch finished its last emails.
    campaigns: CampaignRepository | None = None
    limits: BrakeLimits = field(default_factory=BrakeLimits)
    batch_writers: list[BatchWriter] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)
    # Campaigns whose bounces or complaints moved in the batch under way (the brake looks).
    reputation_moved: set[str] = field(default_factory=set)
    _settled: dict[str, tuple[float, bool]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def process_batch(self, bodies: Sequence[str]) -> BatchOutcome:
        """Apply a batch of SES events (their JSON bodies), write its counters, then complete
        and brake the campaigns it moved. The positions of the bodies that failed come back:
        their events are to be delivered again (what they wrote is not counted twice)."""
        sums = BatchSums()
        failed: list[int] = []
        writes: dict[tuple[str, str, int], list[_Located]] = {}
        for position, body in enumerate(bodies):
            try:
                located = self._locate(position, body)
            except Exception:
                logger.exception("event %d of the batch failed; it will be retried", position)
                failed.append(position)
                continue
            if located is not None:
                writes.setdefault(located.write_key, []).append(located)
        for events in writes.values():
            try:
                self._apply(events, sums)
            except Exception:
                positions = [located.position for located in events]
                logger.exception("events %s of the batch failed; they will be retried", positions)
                failed.extend(positions)
        self.stats["failed"] += len(failed)
        self._write(sums)
        completed = self.complete_finished(sums.finished)
        self.reputation_moved |= sums.reputation_moved
        paused = self.brake()
        return BatchOutcome(
            failed=sorted(failed), finished=set(sums.finished), completed=completed, paused=paused
        )

    def _locate(self, position: int, body: str) -> _Located | None:
        """Parse one event and find its email; suppress the addresses it names and keep it raw
        if it is of a rare kind. None when there is nothing to write: a malformed body
        (dead-lettered) or an event of no known email (kept apart)."""
        try:
            event = parse_ses_event(body)
        except MalformedEventError as error:
            dead_letter(self.sqs, self.dlq_url, body, str(error))
            self.stats["dead_lettered"] += 1
            logger.warning("event dead-lettered: %s", error.reason)
            return None
        now = int(self.clock())
        kind = event_name(event)
        recipient = event.mail.destination[0] if event.mail.destination else None
        ref = self.events.locate(event.record_scope, recipient, event.message_id)
        if ref is None:
            kept = self.events.keep_unmatched(event, body, now)
            self.stats["unmatched" if kept else "duplicates"] += 1
            return None
        suppress = suppressions_of(event)
        for suppression in suppress:
            self.suppressions.add(
                suppression.model_copy(
                    update={"source": f"ses:{kind}", "campaign_id": event.campaign_id}
                )
            )
        self.stats["suppressed_addresses"] += len(suppress)
        if is_kept_raw(event, transactional=is_transactional_scope(ref.scope)):
            self.events.keep(ref, event, body, now)
        return _Located(position, event, ref, record_update(event))

    def _apply(self, events: Sequence[_Located], sums: BatchSums) -> None:
        """Write the events of one email (one event, or several that share a write) to its
        record, and count into `sums` what each changed, in the batch's order, from the record
        as it was before it (the write returns the record before them all)."""
        ref = events[0].ref
        update = merged([e.update for e in events]) if len(events) > 1 else events[0].update
        record = self.events.update(ref, update, int(self.clock()))
        if record is None:  # this open or click was applied before
            self.stats["duplicates"] += 1
            return
        for located in events:
            event = located.event
            change = apply_event(record, event)
            if change.metrics[Metric.FINISHED] and self._is_settled(ref.scope):
                # The reconciler counted this email finished (unconfirmed) already.
                del change.metrics[Metric.FINISHED]
            self.stats[event_name(event)] += 1
            segment = record.segment_id or event.segment_id
            sums.add(ref.scope, segment, event.occurred_at, change.metrics)
            record = applied(record, located.update)

    def _write(self, sums: BatchSums) -> None:
        """One ADD per metrics item, then the other writers. A write that fails is logged and
        left to the reconciler's recount: the records it summed are written already, and
        their events delivered again would change nothing (docs/tracking.md)."""
        for (partition, segment), deltas in sorted(sums.counters.items(), key=_item_order):
            try:
                self.metrics.add(partition, segment, deltas)
            except Exception:
                self.stats["counters_lost"] += 1
                logger.exception(
                    "counters of %s (%s) not written: the reconciler's recount corrects them",
                    partition,
                    segment,
                )
        for writer in self.batch_writers:
            try:
                writer(sums)
            except Exception:
                logger.exception("a per-batch writer failed")

    def complete_finished(self, campaign_ids: Iterable[str]) -> list[str]:
        """Mark COMPLETED each campaign (of those whose emails events just finished) whose every
        email reached a final state; returns the ones this call completed."""
        if self.campaigns is None:
            return []
        completed = [
            campaign_id
            for campaign_id in sorted(set(campaign_ids))
            if complete_if_finished(self.campaigns, self.metrics, campaign_id)
        ]
        for campaign_id in completed:
            logger.info("campaign %s COMPLETED: every email reached a final state", campaign_id)
        return completed

    def _is_settled(self, scope: str) -> bool:
        """Whether the campaign was completed by the reconciler (unsettled: looked up again after
        a few seconds)."""
        if self.campaigns is None or is_transactional_scope(scope):
            return False
        cached = self._settled.get(scope)
        if cached is not None and (
            cached[1] or self.clock() - cached[0] < _UNSETTLED_CACHE_SECONDS
        ):
            return cached[1]
        campaign = self.campaigns.get(scope)
        settled = campaign is not None and campaign.settled is not None
        self._settled[scope] = (self.clock(), settled)
        return settled

    def brake(self) -> list[str]:
        """Pause each campaign of the batch whose bounce or complaint rate crossed its limit
        (`ems_tracker.brake`); returns the ones this call paused."""
        moved, self.reputation_moved = self.reputation_moved, set()
        if self.campaigns is None:
            return []
        paused = []
        for campaign_id in sorted(moved):
            if is_transactional_scope(campaign_id):
                continue
            campaign = self.campaigns.get(campaign_id)
            if campaign is None or campaign.status not in PAUSABLE:
                continue
            totals = self.metrics.read(campaign_id).total
            reason = brake_reason(totals, self.limits, campaign.brake_baseline)
            if reason is None:
                continue
            if self.campaigns.pause(campaign_id, by=PausedBy.BRAKE, reason=reason) is None:
                continue  # paused, cancelled or completed meanwhile
            logger.warning("campaign %s PAUSED by the brake: %s", campaign_id, reason)
            paused.append(campaign_id)
        return paused


def _item_order(entry: tuple[MetricsItem, Counter[Metric]]) -> tuple[str, str]:
    (partition, segment), _ = entry
    return partition, segment or ""
