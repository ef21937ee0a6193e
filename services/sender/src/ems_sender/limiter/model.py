"""The limiter's vocabulary: lanes, grants, the limits in force and the shared state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

MICROS: Final = 1_000_000
HOUR_S: Final = 3600
DAY_S: Final = 24 * HOUR_S


class Lane(StrEnum):
    """Who is sending: transactional email goes first, campaigns use what it leaves."""

    TRANSACTIONAL = "transactional"
    CAMPAIGN = "campaign"


class DenyReason(StrEnum):
    """Why a grant holds fewer sends than wanted (none at all, or none yet)."""

    RATE_LIMITED = "rate_limited"  # no slot within max_wait_s; retry_after_s says when
    QUOTA_EXHAUSTED = "quota_exhausted"  # the rolling 24 h quota is spent


@dataclass(frozen=True)
class Grant:
    """Sends the caller may make: one per slot, each no earlier than its slot time.

    `slots` are epoch seconds, spaced so that all senders together stay within the rate; use
    `SendLimiter.pace` (or `take`) to send on them. An empty grant carries a `reason` and
    `retry_after_s`, the time after which asking again can succeed.
    """

    lane: Lane
    slots: tuple[float, ...] = ()
    reason: DenyReason | None = None
    retry_after_s: float = 0.0

    @property
    def count(self) -> int:
        """How many sends are allowed."""
        return len(self.slots)

    def __bool__(self) -> bool:
        return bool(self.slots)


@dataclass(frozen=True)
class Budget:
    """The limits in force: rate R in emails/s and the rolling 24 h quota.

    `daily_quota` None means unlimited (SES answers Max24HourSend -1). `sent_last_24h` is what
    SES itself counted (mail sent outside EMS included); 0 when the quota is overridden.
    """

    send_rate: float
    daily_quota: int | None
    sent_last_24h: int = 0


@dataclass(frozen=True)
class Tuning:
    """How the limiter takes and spends slots (from `LimiterSettings`)."""

    block_s: float = 0.25
    campaign_lookahead_s: float = 0.5
    pacing_tolerance_s: float = 0.02
    transactional_headroom: float = 1.5
    transactional_max_share: float = 0.5
    transactional_half_life_s: float = 30.0
    transactional_quota_reserve_fraction: float = 0.02
    worker_send_rate: float = 20.0
    burst_fraction: float = 0.0  # room for SendBulkEmail calls (`logic.burst_size`); 0: none


def _no_hours() -> Mapping[int, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class LimiterState:
    """The shared item, as plain values (times in integer microseconds since the epoch).

    - `spacing_us` and `stripes_next_us`: the grid (slots are whole multiples of the spacing)
      and, per stripe, the first slot nobody holds yet; stripe j owns every K-th slot from j.
    - `transactional_slots_us`: slots campaigns left free inside their blocks, held for the
      transactional lane.
    - `transactional_rate` (emails/s, at `transactional_rate_at_us`): decaying estimate of
      transactional demand, which sets how many slots campaigns leave free.
    - `sent_by_hour`: sends granted per hour (hour start, epoch seconds), for the 24 h quota.
    """

    version: int = 0
    spacing_us: int = 0
    stripes_next_us: tuple[int, ...] = ()
    transactional_slots_us: tuple[int, ...] = ()
    transactional_rate: float = 0.0
    transactional_rate_at_us: int = 0
    sent_by_hour: Mapping[int, int] = field(default_factory=_no_hours)
