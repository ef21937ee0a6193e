"""Nothing stuck: the launcher's tick also reconciles every campaign that is under way.

- A SENDING campaign whose emails all reached a final state is completed (whoever finished the
  last one may have failed to: its check is done here again, every tick).
- A SENDING campaign whose finished count has not moved for `settle_after_seconds` (and whose
  email the sender has not held on SES for as long: `Campaign.held`) is completed with its
  unfinished emails counted `unconfirmed`: SES sent no Delivery or Bounce for them, or they sit
  on a dead-letter queue. Counted, not lost, and the note says where to look.
- Before that, a SENDING campaign quiet for `recount_after_seconds` has its counters recounted
  from its email records, once per quiet spell (docs/tracking.md, "The crash window"): a
  tracker stopped after writing a batch's records and before adding its counters left them
  short. The records are counted (over several ticks if need be), and `tracker_batch_seconds`
  later each segment whose counters differ is set to what its records say, only if its
  counters did not move since they were read before the count (a batch that was under way
  then adds its own; the count already has its records).
- A campaign still VERIFYING past `verification_deadline_seconds` is marked FAILED with the
  reason (the compile worker timed out or died on every attempt).

One campaign that breaks never stops the others: each is tried apart, and logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Recount,
    RecountOutcome,
    utc_iso,
    utc_now,
)
from ems_common.dal.campaigns import LEAVING_VERIFYING, CampaignRepository, StatusConflictError
from ems_common.dal.metrics import (
    NO_SEGMENT,
    CampaignMetrics,
    CampaignNumbers,
    complete_if_finished,
    settle_unfinished,
)
from ems_common.emails import EmailRecord
from ems_common.metrics import Metric
from ems_common.recount import count_records
from ems_launcher.settings import LauncherSettings

logger = logging.getLogger(__name__)


class Reconciled(StrEnum):
    """What a look at one campaign did."""

    WATCHED = "watched"  # still moving (or first seen, or being recounted): noted
    RECOUNTED = "recounted"  # its counters were corrected from its email records
    COMPLETED = "completed"
    SETTLED = "settled"
    FAILED = "failed"
    ERROR = "error"


class EmailRecordPages(Protocol):
    """A campaign's email records, page by page (`ems_launcher.dal.email_records`)."""

    def pages(
        self, campaign_id: str, after: str | None = None
    ) -> Iterator[tuple[list[EmailRecord], str | None]]:
        """Pages of records after `after`, each with the key to go on after (None: the last)."""
        ...


@dataclass
class Reconciler:
    """Finishes what would otherwise stay under way forever."""

    settings: LauncherSettings
    campaigns: CampaignRepository
    metrics: CampaignMetrics
    records: EmailRecordPages
    clock: Callable[[], datetime] = utc_now

    def run(self, time_left: Callable[[], float] = lambda: float("inf")) -> dict[str, str]:
        """Reconcile the campaigns under way; what became of each one looked at."""
        now = self.clock()
        results: dict[str, str] = {}
        sending = self.campaigns.due(
            now, status=CampaignStatus.SENDING, limit=self.settings.reconcile_limit
        )
        deadline = now - timedelta(seconds=self.settings.verification_deadline_seconds)
        verifying = self.campaigns.due(
            deadline, status=CampaignStatus.VERIFYING, limit=self.settings.reconcile_limit
        )
        for campaign, look in [
            *((c, self._sending) for c in sending),
            *((c, self._verifying) for c in verifying),
        ]:
            if time_left() <= self.settings.stop_margin_seconds:
                break
            try:
                results[campaign.campaign_id] = look(campaign, now, time_left)
            except Exception:
                logger.exception("campaign %s: reconciling broke", campaign.campaign_id)
                results[campaign.campaign_id] = Reconciled.ERROR
        return {k: v for k, v in results.items() if v != Reconciled.WATCHED}

    def _sending(
        self, campaign: Campaign, now: datetime, time_left: Callable[[], float]
    ) -> Reconciled:
        if complete_if_finished(self.campaigns, self.metrics, campaign.campaign_id):
            logger.info("campaign %s COMPLETED (reconciled)", campaign.campaign_id)
            return Reconciled.COMPLETED
        numbers = self.metrics.read(campaign.campaign_id)
        finished = numbers.total[Metric.FINISHED.value]
        seen = campaign.watched
        if seen is None or seen[0] != finished:
            # Moving (or first seen): note where it is, to see whether it moves again.
            self.campaigns.update(campaign.campaign_id, {"watched": [finished, utc_iso(now)]})
            return Reconciled.WATCHED
        recount = campaign.recount if campaign.recount and campaign.recount.spell == seen else None
        if now - seen[1] >= timedelta(seconds=self.settings.recount_after_seconds) and (
            recount is None or recount.outcome is None
        ):
            # Settling waits for the spell's recount: it counts what the records say is left.
            recounting = self._recount(campaign, seen, recount, numbers, time_left)
            if recounting is not None:
                return recounting
        # Email that waits on SES (sending paused, quota spent) is not lost: the quiet counts
        # from the last time the sender held it.
        quiet = now - max(seen[1], campaign.held.at if campaign.held else seen[1])
        if quiet < timedelta(seconds=self.settings.settle_after_seconds):
            return Reconciled.WATCHED
        left = campaign.recipients.accepted - finished
        note = (
            f"{left} of {campaign.recipients.accepted} emails had no final outcome"
            f" {quiet.total_seconds() / 3600:.1f} h after the last one did: counted unconfirmed"
            " (SES sent no delivery or bounce report for them, or they are on a dead-letter"
            " queue: see GET /dlq)"
        )
        settled = settle_unfinished(self.campaigns, self.metrics, campaign, numbers, note)
        if not settled:
            return Reconciled.WATCHED
        logger.warning("campaign %s COMPLETED with %d unconfirmed", campaign.campaign_id, settled)
        return Reconciled.SETTLED

    def _recount(
        self,
        campaign: Campaign,
        spell: tuple[int, datetime],
        recount: Recount | None,
        numbers: CampaignNumbers,
        time_left: Callable[[], float],
    ) -> Reconciled | None:
        """One step of the spell's recount: count (on) the records, or correct the counters
        once the tracker batches under way at the count's end are over. None once it is over
        and the counters read stand (they agreed, or moved meanwhile): the look goes on."""
        campaign_id = campaign.campaign_id
        if recount is None:
            recount = Recount(
                spell=spell,
                started_at=self.clock(),
                counters={segment: dict(counts) for segment, counts in numbers.segments.items()},
            )
        if recount.counted_at is None:
            self._count(campaign_id, recount, time_left)
            self.campaigns.update(campaign_id, {"recount": recount.model_dump(mode="json")})
            return Reconciled.WATCHED
        wait = timedelta(seconds=self.settings.tracker_batch_seconds)
        if self.clock() - recount.counted_at < wait:
            return Reconciled.WATCHED
        recount.outcome = self._correct(campaign_id, recount)
        self.campaigns.update(campaign_id, {"recount": recount.model_dump(mode="json")})
        if recount.outcome is not RecountOutcome.CORRECTED:
            return None
        if complete_if_finished(self.campaigns, self.metrics, campaign_id):
            logger.info("campaign %s COMPLETED (recounted)", campaign_id)
            return Reconciled.COMPLETED
        return Reconciled.RECOUNTED

    def _count(self, campaign_id: str, recount: Recount, time_left: Callable[[], float]) -> None:
        """Count the records from where `recount` left off, until the last or the time runs
        out (`recount.after` says where to go on)."""
        counts: dict[str | None, Counter[Metric]] = {
            None if segment == NO_SEGMENT else segment: Counter(
                {Metric(m): n for m, n in counted.items()}
            )
            for segment, counted in recount.records.items()
        }
        for records, after in self.records.pages(campaign_id, recount.after):
            count_records(records, into=counts)
            recount.after = after
            if after is not None and time_left() <= self.settings.stop_margin_seconds:
                break
        recount.records = {
            segment or NO_SEGMENT: {m.value: n for m, n in counted.items()}
            for segment, counted in counts.items()
        }
        if recount.after is None:
            recount.counted_at = self.clock()

    def _correct(self, campaign_id: str, recount: Recount) -> RecountOutcome:
        """Set each segment's counters that differ from its records' count, if they did not
        move since the count began."""
        moved = corrected = False
        # A segment the records no longer show (expired) keeps its counters: only a record
        # proves a count wrong.
        for segment, counted in recount.records.items():
            stored = recount.counters.get(segment, {})
            wrong = {m: n for m, n in counted.items() if stored.get(m, 0) != n}
            if not wrong:
                continue
            if not self.metrics.correct(
                campaign_id,
                segment,
                stored=stored,
                counted={Metric(m): n for m, n in counted.items()},
            ):
                # A batch under way added its own: this segment's records were not quiet.
                logger.info("campaign %s segment %s: counters moved", campaign_id, segment)
                moved = True
                continue
            corrected = True
            logger.warning(
                "campaign %s segment %s: counters corrected from its email records: %s",
                campaign_id,
                segment,
                _changes(stored, wrong),
            )
        if corrected:
            return RecountOutcome.CORRECTED
        return RecountOutcome.MOVED if moved else RecountOutcome.MATCHED

    def _verifying(
        self, campaign: Campaign, now: datetime, time_left: Callable[[], float]
    ) -> Reconciled:
        hours = (now - campaign.created_at).total_seconds() / 3600
        try:
            self.campaigns.transition(
                campaign.campaign_id,
                expected={CampaignStatus.VERIFYING},
                to=CampaignStatus.FAILED,
                action="give up verifying",
                changes={
                    "error": (
                        f"verification did not finish within {hours:.1f} h (its compile job timed"
                        " out or died on every attempt, and is on the compile DLQ, or waited"
                        " behind others that long): POST the same request again to retry, or"
                        " split the candidate"
                    ),
                    "progress": None,
                    **LEAVING_VERIFYING,
                },
            )
        except StatusConflictError:
            return Reconciled.WATCHED
        logger.warning("campaign %s FAILED: verification never finished", campaign.campaign_id)
        return Reconciled.FAILED


def _changes(stored: Mapping[str, int], wrong: Mapping[str, int]) -> str:
    return ", ".join(f"{m} {stored.get(m, 0)} -> {n}" for m, n in sorted(wrong.items()))
