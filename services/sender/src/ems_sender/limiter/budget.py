"""The limits in force: SES's send quota (v2 GetAccount, cached), capped and scaled by the settings.

SES's quota changes rarely (a support case raises it), so one GetAccount every few minutes
per process is plenty; the overrides skip SES altogether, for the local stack and tests, where
LocalStack always answers 1 email/s and 200 a day.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ems_sender.limiter.clock import Clock
from ems_sender.limiter.model import Budget
from ems_sender.limiter.settings import LimiterSettings

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import SendQuotaTypeDef

logger = logging.getLogger(__name__)


def budget_from(settings: LimiterSettings, quota: SendQuotaTypeDef | None) -> Budget:
    """Rate = min(MaxSendRate, cap) x fraction; quota = Max24HourSend x fraction; or overrides."""
    if settings.send_rate_override is not None:
        rate = settings.send_rate_override
    else:
        if quota is None:
            msg = "the SES send quota is needed unless EMS_SEND_RATE_OVERRIDE is set"
            raise ValueError(msg)
        ses_rate = float(quota.get("MaxSendRate", 0))
        if settings.send_rate_cap is not None:
            ses_rate = min(ses_rate, settings.send_rate_cap)
        rate = ses_rate * settings.send_rate_fraction
    if settings.daily_quota_override is not None:
        return Budget(send_rate=rate, daily_quota=settings.daily_quota_override)
    if quota is None:
        msg = "the SES send quota is needed unless EMS_DAILY_QUOTA_OVERRIDE is set"
        raise ValueError(msg)
    max_24h = float(quota.get("Max24HourSend", 0))
    daily = None if max_24h < 0 else math.floor(max_24h * settings.daily_quota_fraction)
    return Budget(
        send_rate=rate, daily_quota=daily, sent_last_24h=int(quota.get("SentLast24Hours", 0))
    )


class BudgetSource:
    """The current `Budget`, asking SES at most once per `ses_quota_cache_seconds`.

    Thread-safe. If SES fails after an earlier answer, the earlier answer is kept (and SES
    asked again on the next call); with no answer at all the error propagates.
    """

    def __init__(
        self,
        settings: LimiterSettings,
        ses: Callable[[], SESV2Client] | None,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._ses = ses
        self._clock = clock
        self._lock = threading.Lock()
        self._quota: SendQuotaTypeDef | None = None
        self._fetched_at = -math.inf
        self.ses_requests = 0

    def _needs_ses(self) -> bool:
        return (
            self._settings.send_rate_override is None or self._settings.daily_quota_override is None
        )

    def current(self) -> Budget:
        """The limits to apply now."""
        if not self._needs_ses():
            return budget_from(self._settings, None)
        with self._lock:
            now = self._clock.now()
            if now - self._fetched_at >= self._settings.ses_quota_cache_seconds:
                if self._ses is None:
                    msg = "no SES client to read the send quota from"
                    raise ValueError(msg)
                try:
                    self.ses_requests += 1
                    self._quota = self._ses().get_account()["SendQuota"]
                    self._fetched_at = now
                except Exception:
                    if self._quota is None:
                        raise
                    logger.warning("GetAccount failed; keeping the last quota", exc_info=True)
            return budget_from(self._settings, self._quota)
