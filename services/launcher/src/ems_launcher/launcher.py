"""Launching campaigns: exactly once, resumable, and stopping when cancelled.

1. Claim: `SCHEDULED -> LAUNCHING` is a conditional write, so of two launchers (the minute
   rule and the campaign's own schedule firing together) one wins. A `LAUNCHING` campaign
   whose holder stopped renewing its lease is taken over, also conditionally.
2. Fan out: the manifest's parts are read in order and their lines packed into send-queue
   messages (many emails each), 10 messages per SendMessageBatch.
3. Checkpoint after every batch call: where to resume, emails enqueued, the lease renewed, on
   the condition that this launcher still holds the launch. A cancelled campaign fails that
   condition, so at most the batch in flight is enqueued after a cancel. A launcher killed
   between a batch call and its checkpoint enqueues that one batch again on resume; the
   sender's once-per-(campaign, recipient) record keeps those emails from going out twice.
4. `LAUNCHING -> SENDING` with the number of emails enqueued.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ems_common import keys
from ems_common.campaigns import Campaign, CampaignStatus, LaunchCheckpoint, utc_iso, utc_now
from ems_common.dal.campaigns import CampaignRepository, StatusConflictError
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.send_queue import SendQueue
from ems_launcher.dal.campaign_files import (
    CampaignFileMissingError,
    CampaignFileReader,
    CorruptPartError,
)
from ems_launcher.logic.packing import batch_calls, pack_messages
from ems_launcher.settings import LauncherSettings

logger = logging.getLogger(__name__)


class LaunchResult(StrEnum):
    """What one launch attempt did."""

    NOT_DUE = "not_due"
    NOT_OURS = "not_ours"  # someone else holds it, or it is in no state to launch
    MISSED = "missed"
    PAUSED = "paused"  # out of time in this invocation; the next tick resumes
    STOPPED = "stopped"  # cancelled, or taken over, while launching
    FAILED = "failed"
    SENT_TO_QUEUE = "sent_to_queue"
    ERROR = "error"  # broke on EMS's side this time: logged, retried by the next sweep


@dataclass
class Launcher:
    """Launches campaigns into the send queue."""

    settings: LauncherSettings
    campaigns: CampaignRepository
    files: CampaignFileReader
    queue: SendQueue
    clock: Callable[[], datetime] = utc_now
    holder: str = ""
    # To complete a campaign whose every email finished before it was marked SENDING.
    metrics: CampaignMetrics | None = None

    def __post_init__(self) -> None:
        self.holder = self.holder or f"launcher-{uuid.uuid4().hex[:12]}"

    def sweep(self, time_left: Callable[[], float] = lambda: float("inf")) -> dict[str, str]:
        """Launch every due campaign, and resume launches whose holder died (index queries)."""
        now = self.clock()
        results: dict[str, str] = {}
        due = self.campaigns.due(
            now, status=CampaignStatus.SCHEDULED, limit=self.settings.sweep_limit
        )
        stuck = self.campaigns.due(
            now, status=CampaignStatus.LAUNCHING, limit=self.settings.sweep_limit
        )
        for campaign in [*stuck, *due]:
            if time_left() <= self.settings.stop_margin_seconds:
                break
            # One campaign that breaks must not stop the sweep for the others.
            try:
                results[campaign.campaign_id] = self.launch(campaign.campaign_id, time_left)
            except Exception:
                logger.exception("campaign %s: the launch broke; the next sweep retries it",
                                 campaign.campaign_id)  # fmt: skip
                results[campaign.campaign_id] = LaunchResult.ERROR
        return results

    def launch(
        self, campaign_id: str, time_left: Callable[[], float] = lambda: float("inf")
    ) -> LaunchResult:
        """Launch one campaign if it is due and nobody else is launching it."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            return LaunchResult.NOT_OURS
        claimed = self._claim(campaign)
        if not isinstance(claimed, Campaign):
            return claimed
        return self._fan_out(claimed, time_left)

    def _lease(self, next_part: int = 1, next_line: int = 0) -> LaunchCheckpoint:
        return LaunchCheckpoint(
            owner=self.holder,
            lease_until=self.clock() + timedelta(seconds=self.settings.lease_seconds),
            next_part=next_part,
            next_line=next_line,
        )

    def _claim(self, campaign: Campaign) -> Campaign | LaunchResult:
        if campaign.status is CampaignStatus.SCHEDULED:
            return self._claim_scheduled(campaign)
        if campaign.status is CampaignStatus.LAUNCHING and campaign.launch is not None:
            return self._take_over(campaign, campaign.launch)
        return LaunchResult.NOT_OURS

    def _claim_scheduled(self, campaign: Campaign) -> Campaign | LaunchResult:
        now = self.clock()
        if campaign.scheduled_at is None or campaign.scheduled_at > now:
            return LaunchResult.NOT_DUE
        late = now - campaign.scheduled_at
        if late > timedelta(minutes=self.settings.missed_after_minutes):
            return self._mark_missed(campaign, late)
        try:
            return self.campaigns.transition(
                campaign.campaign_id,
                expected={CampaignStatus.SCHEDULED},
                to=CampaignStatus.LAUNCHING,
                action="launch",
                changes={
                    "launch": self._lease().model_dump(mode="json"),
                    "launched_at": utc_iso(now),
                    "emails_enqueued": 0,
                },
                # Only at the date it was read with: a reschedule that got in between wins
                # (the claim fails, and the campaign launches at its new date).
                where={keys.CAMPAIGN_SCHEDULED_AT: utc_iso(campaign.scheduled_at)},
            )
        except StatusConflictError:
            return LaunchResult.NOT_OURS

    def _take_over(self, campaign: Campaign, held: LaunchCheckpoint) -> Campaign | LaunchResult:
        if held.lease_until > self.clock():
            return LaunchResult.NOT_OURS
        resumed = self._lease(held.next_part, held.next_line)
        if not self.campaigns.take_over_launch(
            campaign.campaign_id, dead_holder=held.owner, checkpoint=resumed
        ):
            return LaunchResult.NOT_OURS
        logger.info(
            "campaign %s: took over the launch at part %d line %d",
            campaign.campaign_id,
            resumed.next_part,
            resumed.next_line,
        )
        return campaign.model_copy(update={"launch": resumed})

    def _mark_missed(self, campaign: Campaign, late: timedelta) -> LaunchResult:
        hours = late.total_seconds() / 3600
        try:
            self.campaigns.transition(
                campaign.campaign_id,
                expected={CampaignStatus.SCHEDULED},
                to=CampaignStatus.FAILED,
                action="mark missed",
                changes={
                    "error": (
                        f"missed: nothing launched it within {self.settings.missed_after_minutes}"
                        f" minutes of its date ({hours:.1f} h late); reschedule it to send it"
                    )
                },
            )
        except StatusConflictError:
            return LaunchResult.NOT_OURS
        logger.warning("campaign %s missed its date by %.1f h", campaign.campaign_id, hours)
        return LaunchResult.MISSED

    def _fan_out(self, campaign: Campaign, time_left: Callable[[], float]) -> LaunchResult:
        campaign_id = campaign.campaign_id
        checkpoint = campaign.launch
        assert checkpoint is not None
        enqueued = campaign.emails_enqueued
        try:
            manifest = self.files.manifest(campaign_id)
            for entry in manifest.parts[checkpoint.next_part - 1 :]:
                start = checkpoint.next_line if entry.index == checkpoint.next_part else 0
                lines = self.files.part_lines(campaign_id, entry)
                messages = pack_messages(
                    campaign_id,
                    entry.index,
                    lines[start:],
                    start_line=start,
                    emails_per_message=self.settings.emails_per_message,
                    max_bytes=self.settings.message_max_bytes,
                )
                for call in batch_calls(messages):
                    if time_left() <= self.settings.stop_margin_seconds:
                        return LaunchResult.PAUSED
                    self.queue.send([message.body for message in call])
                    enqueued += sum(message.count for message in call)
                    last = call[-1]
                    next_line = last.first_line + last.count
                    position = (
                        (entry.index, next_line)
                        if next_line < entry.lines
                        else (entry.index + 1, 0)
                    )
                    if not self.campaigns.hold_launch(
                        campaign_id,
                        holder=self.holder,
                        checkpoint=self._lease(*position),
                        emails_enqueued=enqueued,
                    ):
                        logger.info(
                            "campaign %s: launch stopped (cancelled or taken over)", campaign_id
                        )
                        return LaunchResult.STOPPED
        except CorruptPartError as error:
            self._fail(campaign_id, str(error))
            return LaunchResult.FAILED
        except CampaignFileMissingError as error:
            self._fail(campaign_id, str(error))
            return LaunchResult.FAILED
        try:
            self.campaigns.transition(
                campaign_id,
                expected={CampaignStatus.LAUNCHING},
                to=CampaignStatus.SENDING,
                action="finish launching",
                changes={"emails_enqueued": enqueued},
            )
        except StatusConflictError:
            return LaunchResult.STOPPED
        logger.info("campaign %s: %d emails enqueued", campaign_id, enqueued)
        if self.metrics is not None:
            complete_if_finished(self.campaigns, self.metrics, campaign_id)
        return LaunchResult.SENT_TO_QUEUE

    def _fail(self, campaign_id: str, reason: str) -> None:
        logger.error("campaign %s failed to launch: %s", campaign_id, reason)
        try:
            self.campaigns.transition(
                campaign_id,
                expected={CampaignStatus.LAUNCHING},
                to=CampaignStatus.FAILED,
                action="fail",
                changes={"error": reason},
            )
        except StatusConflictError:
            return
