"""What a recipient's unsubscribe link does (plain Python over adapters).

The link names the recipient, the campaign (or transactional email) and the list, sealed
(`ems_scheduler.shared.unsubscribe_links`). Opening it shows what it is for; unsubscribing puts
the address on the suppression list for that list, or for every campaign email, at once (the
senders check it at send time, so an unsubscribe made while a campaign sends stops the address's
remaining emails of that list), and counts the unsubscribe once on the email's campaign.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ems_common.campaigns import utc_now
from ems_common.suppressions import CAMPAIGNS, Suppression, SuppressionReason, list_scope
from ems_scheduler.shared.unsubscribe_links import LinkTarget, UnsubscribeLinks, today_utc


class SuppressionAdder(Protocol):
    """Adding one suppression (`SuppressionList`)."""

    def add(self, suppression: Suppression) -> bool: ...


class UnsubscribeCounter(Protocol):
    """Counting an unsubscribe on its email (`UnsubscribeRecords`)."""

    def count(self, scope: str, address: str, list_name: str) -> bool: ...


@dataclass(frozen=True)
class Unsubscribed:
    """What an unsubscribe did."""

    target: LinkTarget
    scope: str  # list:<name>, or campaigns
    new: bool  # False when the address was unsubscribed there already (a second click)


class UnsubscribeService:
    """Opens links and unsubscribes."""

    def __init__(
        self,
        links: Callable[[], UnsubscribeLinks],
        suppressions: Callable[[], SuppressionAdder],
        counter: Callable[[], UnsubscribeCounter],
        *,
        today: Callable[[], date] = today_utc,
    ) -> None:
        # Made on first use: the keys may come from Secrets Manager, the table needs a client.
        self._links = functools.cache(links)
        self._suppressions = functools.cache(suppressions)
        self._counter = functools.cache(counter)
        self._today = today

    def open(self, token: str) -> LinkTarget:
        """What the link is for (InvalidLinkError if EMS did not make it, or it is too old)."""
        return self._links().open(token, self._today())

    def unsubscribe(self, token: str, *, every_campaign: bool, source: str) -> Unsubscribed:
        """Unsubscribe the link's recipient from its list, or from every campaign email."""
        target = self.open(token)
        scope = CAMPAIGNS if every_campaign else list_scope(target.list_name)
        new = self._suppressions().add(
            Suppression(
                address=target.address,
                scope=scope,
                reason=SuppressionReason.UNSUBSCRIBE,
                source=source,
                campaign_id=target.campaign_id,
                suppressed_at=utc_now(),
            )
        )
        # Once per email, whichever way (one click, the page, a scope then the other).
        self._counter().count(target.campaign_id, target.address, target.list_name)
        return Unsubscribed(target=target, scope=scope, new=new)
