"""SES's standing of the account (v2 GetAccount), read at most once a minute per process.

When SES puts the account under review (`EnforcementStatus` PROBATION, or SHUTDOWN), every
campaign email is held, so that bulk mail does not push a bad reputation further while the
sender looks into it; transactional email goes on. `SendingEnabled` false is SES's own pause
(its sends answer SendingPausedException and are held too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

logger = logging.getLogger(__name__)

HEALTHY: Final = "HEALTHY"


@dataclass(frozen=True)
class Standing:
    """What SES says of the account."""

    enforcement: str = HEALTHY
    sending_enabled: bool = True

    @property
    def campaigns_may_send(self) -> bool:
        """Whether bulk mail may go out now."""
        return self.enforcement == HEALTHY and self.sending_enabled

    def describe(self) -> str:
        """Why campaign email waits, in words an operator can act on."""
        if not self.sending_enabled:
            return (
                "SES has sending paused for the account (GetAccount SendingEnabled false):"
                " campaign email waits and goes on by itself when sending is enabled again"
            )
        return (
            f"SES has the account under review (EnforcementStatus {self.enforcement}):"
            " campaign email waits, transactional email goes on; see the SES console's"
            " reputation page, and campaign email goes on by itself once SES says HEALTHY"
        )


class AccountStanding:
    """The account's standing, cached; a failed read keeps the last answer (or assumes good)."""

    def __init__(
        self,
        ses: Callable[[], SESV2Client],
        *,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ses = ses
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._standing = Standing()
        self._read_at = -float("inf")

    def current(self) -> Standing:
        """The account's standing, at most `cache_seconds` old."""
        with self._lock:
            now = self._clock()
            if now - self._read_at >= self._cache_seconds:
                self._read_at = now
                try:
                    answer = self._ses().get_account()
                except Exception:
                    logger.warning("GetAccount failed: keeping the last standing", exc_info=True)
                else:
                    self._standing = Standing(
                        enforcement=str(answer.get("EnforcementStatus") or HEALTHY),
                        sending_enabled=bool(answer.get("SendingEnabled", True)),
                    )
                    if not self._standing.campaigns_may_send:
                        logger.warning("SES account standing: %s", self._standing)
            return self._standing
