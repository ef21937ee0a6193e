"""What a sender looks at before each send: the email's campaign and SES's standing of the
account, and what it writes when they say stop (shared by both lanes' senders).

- The campaign's status, read at most once a second per process: a pause or a cancel stops
  sending within about a second.
- SES's standing (`AccountStanding`): campaign email waits while SES has the account under
  review or its sending disabled; the campaign says why (`Campaign.held`, at most once a
  minute), so that the reconciler does not settle email that only waits.
- A campaign SES refuses (its sender, its template or configuration set gone) is paused, by
  `ses`, with SES's answer; the handler logs the alarm's metric for each (`paused`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ems_common.campaigns import Campaign, CampaignStatus, Held, PausedBy, utc_now
from ems_common.dal.campaigns import CampaignRepository
from ems_common.transactional import is_transactional_scope
from ems_sender.dal.account import AccountStanding

logger = logging.getLogger(__name__)

# A pause or a cancel stops a campaign's sending within about this (each email looks).
CAMPAIGN_CACHE_SECONDS = 1.0
# A campaign whose email waits on SES says so (`Campaign.held`) at most this often per process.
HELD_NOTE_SECONDS = 60.0


@dataclass(frozen=True)
class Hold:
    """Why the rest of a batch waits, and for how long."""

    why: str
    delay_s: float


@dataclass(frozen=True)
class Timing:
    """How long the sender holds and stops."""

    paused_hold_s: float = 30.0  # a PAUSED campaign's email comes back this often
    ses_paused_retry_s: float = 60.0  # SES paused sending: ask again this often
    refused_hold_s: float = 300.0  # a transactional email whose sender SES refuses
    stop_margin_s: float = 45.0  # claim nothing new this close to the invocation's end


@dataclass
class CampaignWatch:
    """A process's view of its campaigns (thread-safe: the sender's threads share it)."""

    campaigns: CampaignRepository
    account: AccountStanding | None = None  # SES's standing: campaign email waits while bad
    timing: Timing = field(default_factory=Timing)
    clock: Callable[[], float] = time.monotonic
    # Campaigns this process paused because SES refused them (the handler reports them).
    paused: list[str] = field(default_factory=list)
    _cache: dict[str, tuple[float, Campaign | None]] = field(default_factory=dict)
    _held_noted: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def campaign(self, campaign_id: str) -> Campaign | None:
        """The campaign's record, at most a second old; None if there is no such campaign."""
        with self._lock:
            cached = self._cache.get(campaign_id)
        if cached is not None and self.clock() - cached[0] < CAMPAIGN_CACHE_SECONDS:
            return cached[1]
        campaign = self.campaigns.get(campaign_id)
        with self._lock:
            self._cache[campaign_id] = (self.clock(), campaign)
        return campaign

    def status(self, campaign_id: str) -> CampaignStatus | None:
        """The campaign's status, at most a second old; None if there is no such campaign."""
        campaign = self.campaign(campaign_id)
        return campaign.status if campaign else None

    def suppressions_as_of(self, campaign_id: str) -> datetime | None:
        """When the campaign's compile read the suppression list (None: not known)."""
        campaign = self.campaign(campaign_id)
        return campaign.suppressions_as_of if campaign else None

    def gate(self, campaign_id: str) -> Hold | bool | None:
        """Whether the campaign's next email may go now: None (go), a Hold, or False (the
        campaign is cancelled or gone: drop the rest). Transactional email is never held."""
        if is_transactional_scope(campaign_id):
            return None  # no campaign; the account's standing holds bulk mail only
        status = self.status(campaign_id)
        if status is None or status is CampaignStatus.CANCELLED:
            return False
        if status is CampaignStatus.PAUSED:
            return Hold("the campaign is paused", self.timing.paused_hold_s)
        standing = self.account.current() if self.account is not None else None
        if standing is not None and not standing.campaigns_may_send:
            why = standing.describe()
            self.note_held(campaign_id, why)
            return Hold(why, self.timing.ses_paused_retry_s)
        return None

    def note_held(self, campaign_id: str, why: str) -> None:
        """Say on the campaign that its email waits on SES, and why (at most once a minute):
        the reconciler does not settle a campaign that only waits, and the operator sees why."""
        if is_transactional_scope(campaign_id):
            return
        with self._lock:
            last = self._held_noted.get(campaign_id)
            if last is not None and self.clock() - last < HELD_NOTE_SECONDS:
                return
            self._held_noted[campaign_id] = self.clock()
        try:
            self.campaigns.update(
                campaign_id, {"held": Held(reason=why, at=utc_now()).model_dump(mode="json")}
            )
        except Exception:  # a note, not the send: never let it stop the hold itself
            logger.warning("could not note the hold on campaign %s", campaign_id, exc_info=True)

    def pause_for_ses(self, campaign_id: str, reason: str) -> None:
        """Every email of the campaign would get SES's answer: pause it with the reason (its
        email is then held, not failed); the alarm's metric is logged through `paused`."""
        if self.campaigns.pause(campaign_id, by=PausedBy.SES, reason=reason) is not None:
            with self._lock:
                self.paused.append(campaign_id)
        # Paused (or cancelled) meanwhile by someone else: the hold applies all the same.
        with self._lock:
            self._cache.pop(campaign_id, None)
        logger.warning("campaign %s PAUSED: %s", campaign_id, reason)

    def take_paused(self) -> list[str]:
        """The campaigns paused since the last call (for the handler's metric)."""
        with self._lock:
            paused, self.paused = self.paused, []
        return paused


def refused_reason(error: str) -> str:
    """The pause reason when SES refuses a campaign's sender: SES's answer and what to do."""
    return (
        f"SES refused the campaign's sender: {error}. Verify the From address's domain"
        " (and its MAIL FROM), or EMS's permission to send from it, then resume"
    )


def missing_reason(error: str) -> str:
    """The pause reason when SES cannot find a campaign's template or configuration set."""
    return (
        f"SES cannot find what the campaign's emails use: {error}. Create it again"
        " (its template or configuration set), or cancel the campaign; then resume"
    )
