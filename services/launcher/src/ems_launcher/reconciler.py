"""Nothing stuck: the launcher's tick also reconciles every campaign that is under way.

- A SENDING campaign whose emails all reached a final state is completed (whoever finished the
  last one may have failed to: its check is done here again, every tick).
- A SENDING campaign whose finished count has not moved for `settle_after_seconds` (and whose
  email the sender has not held on SES for as long: `Campaign.held`) is completed with its
  unfinished emails counted `unconfirmed`: SES sent no Delivery or Bounce for them, or they sit
  on a dead-letter queue. Counted, not lost, and the note says where to look.
- A campaign still VERIFYING past `verification_deadline_seconds` is marked FAILED with the
  reason (the compile worker timed out or died on every attempt).

One campaign that breaks never stops the others: each is tried apart, and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ems_common.campaigns import Campaign, CampaignStatus, utc_iso, utc_now
from ems_common.dal.campaigns import LEAVING_VERIFYING, CampaignRepository, StatusConflictError
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished, settle_unfinished
from ems_common.metrics import Metric
from ems_launcher.settings import LauncherSettings

logger = logging.getLogger(__name__)


class Reconciled(StrEnum):
    """What a look at one campaign did."""

    WATCHED = "watched"  # still moving (or first seen): noted
    COMPLETED = "completed"
    SETTLED = "settled"
    FAILED = "failed"
    ERROR = "error"


@dataclass
class Reconciler:
    """Finishes what would otherwise stay under way forever."""

    settings: LauncherSettings
    campaigns: CampaignRepository
    metrics: CampaignMetrics
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
                results[campaign.campaign_id] = look(campaign, now)
            except Exception:
                logger.exception("campaign %s: reconciling broke", campaign.campaign_id)
                results[campaign.campaign_id] = Reconciled.ERROR
        return {k: v for k, v in results.items() if v != Reconciled.WATCHED}

    def _sending(self, campaign: Campaign, now: datetime) -> Reconciled:
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

    def _verifying(self, campaign: Campaign, now: datetime) -> Reconciled:
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
