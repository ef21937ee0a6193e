"""Turning one SES event (an SQS message from the events topic) into DynamoDB state.

For each event: find its email (by the campaignId tag and recipient, else by SES message id),
work out what it changes (`ems_tracker.changes.apply_event`, plain Python), suppress hard
bounces and complaints, then write the raw event, the email's fields and the campaign's
counters in one transaction. A duplicate changes nothing; an event for an unknown message id
is kept apart and counted; a message that is not an SES event goes to the DLQ with the reason.
"""

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ems_common.campaigns import PAUSABLE, PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.dead_letters import dead_letter
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.suppressions import SuppressionList
from ems_common.dal.timeline import CampaignTimeline
from ems_common.metrics import Metric
from ems_common.transactional import is_transactional_scope
from ems_tracker.brake import BrakeLimits, brake_reason
from ems_tracker.changes import apply_event
from ems_tracker.dal.emails import Applied, EmailEvents, event_name
from ems_tracker.ses_events import MalformedEventError, parse_ses_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)


# A campaign found settled stays so; one found unsettled is looked at again this soon (a late
# event just after the reconciler settled it must not count as finished a second time).
_UNSETTLED_CACHE_SECONDS = 5.0


class ConflictError(RuntimeError):
    """Other workers kept changing the email: the message is retried later."""


@dataclass
class Tracker:
    """Applies SES events."""

    events: EmailEvents
    suppressions: SuppressionList
    sqs: "SQSClient"
    dlq_url: str
    conflict_retries: int = 8
    # To complete a campaign once the events of a batch finished its last emails.
    campaigns: CampaignRepository | None = None
    metrics: CampaignMetrics | None = None
    limits: BrakeLimits = field(default_factory=BrakeLimits)
    # Per-minute counts of each campaign, for its chart (`ems_common.timeline`).
    timeline: CampaignTimeline | None = None
    stats: Counter[str] = field(default_factory=Counter)
    # Campaigns whose bounces or complaints moved in the batch under way (the brake looks).
    reputation_moved: set[str] = field(default_factory=set)
    _settled: dict[str, tuple[float, bool]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def process(self, body: str) -> str | None:
        """Apply one event; the campaign id if it finished an email of it (else None)."""
        try:
            event = parse_ses_event(body)
        except MalformedEventError as error:
            dead_letter(self.sqs, self.dlq_url, body, str(error))
            self.stats["dead_lettered"] += 1
            logger.warning("event dead-lettered: %s", error.reason)
            return None
        now = int(self.clock())
        recipient = event.mail.destination[0] if event.mail.destination else None
        kind = event_name(event)
        for attempt in range(self.conflict_retries):
            found = self.events.find(event.record_scope, recipient, event.message_id)
            if found is None:
                kept = self.events.keep_unmatched(event, body, now)
                self.stats["unmatched" if kept else "duplicates"] += 1
                return None
            ref, record = found
            change = apply_event(record, event)
            if change.metrics[Metric.FINISHED] and self._is_settled(ref.scope):
                # The reconciler counted this email finished (unconfirmed) already.
                del change.metrics[Metric.FINISHED]
            for suppression in change.suppress:
                self.suppressions.add(
                    suppression.model_copy(
                        update={"source": f"ses:{kind}", "campaign_id": event.campaign_id}
                    )
                )
            outcome = self.events.apply(ref, record, change, event=event, body=body, now=now)
            if outcome is Applied.APPLIED:
                self.stats[kind] += 1
                self.add_to_timeline(ref.scope, event.occurred_at, change.metrics)
                if change.metrics[Metric.BOUNCED_HARD] or change.metrics[Metric.COMPLAINED]:
                    self.reputation_moved.add(ref.scope)
                self.stats["suppressed_addresses"] += len(change.suppress)
                return ref.scope if change.finishes else None
            if outcome is Applied.DUPLICATE:
                self.stats["duplicates"] += 1
                return None
            self.stats["conflicts"] += 1
            self.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter
        raise ConflictError(f"{kind} event of {event.message_id}: still conflicting")

    def add_to_timeline(
        self, campaign_id: str, minute: datetime, metrics: Mapping[Metric, int]
    ) -> None:
        """Add a change of `campaign_id`'s counters to its timeline's bucket of `minute`.

        Called where the campaign counters move (today once per applied event; it takes any
        sum of deltas of one minute, so a batch can call it once per campaign and minute). The
        timeline only draws a chart: a failed write is logged and counted, never retried, and
        the event stays applied (the counters, which are the numbers, are already written).
        """
        if self.timeline is None or is_transactional_scope(campaign_id):
            return
        try:
            self.timeline.add(campaign_id, minute, metrics, now=self.clock())
        except (ClientError, BotoCoreError) as error:
            self.stats["timeline_not_added"] += 1
            logger.warning("campaign %s: timeline not added to: %s", campaign_id, error)

    def complete_finished(self, campaign_ids: Iterable[str]) -> list[str]:
        """Mark COMPLETED each campaign (of those whose emails events just finished) whose every
        email reached a final state; returns the ones this call completed."""
        if self.campaigns is None or self.metrics is None:
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
        if self.campaigns is None or self.metrics is None:
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
