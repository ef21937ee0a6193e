"""The limiter's arithmetic, as pure functions on `LimiterState` (no clock, no AWS).

One chain of send slots, shared by every sender: a reservation takes the next `n` slots from
`max(now, next_slot)`, each one spacing apart, and moves `next_slot` past them. Every slot ever
handed out is therefore at least one spacing from every other, and a send may start only in
`[slot, slot + tolerance]`; with spacing `(1 + tolerance) / R` no window of one second can
hold more than R sends, whichever worker holds which slot. Unused slots are simply lost (no
credit accumulates), so there is no burst after an idle spell either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from ems_sender.limiter.model import (
    DAY_S,
    HOUR_S,
    MICROS,
    Budget,
    DenyReason,
    Lane,
    LimiterState,
    Tuning,
)

# Bounds the free transactional slots kept in the item (and so the item's size).
MAX_TRANSACTIONAL_SLOTS: Final = 256
# When SES's own count is what exhausts the quota, ask SES again after this long.
QUOTA_RECHECK_S: Final = 300


@dataclass(frozen=True)
class Plan:
    """A reservation worked out against one version of the state.

    `slots_us` are granted if `state` (the new item) is written; otherwise the reservation is
    refused with `reason`, and may succeed from `retry_at_us` on.
    """

    slots_us: tuple[int, ...] = ()
    state: LimiterState | None = None
    reason: DenyReason | None = None
    retry_at_us: int = 0


def effective_rate(send_rate: float) -> float:
    """Sends per second the windows may hold: whole emails, since a window counts sends."""
    return float(math.floor(send_rate)) if send_rate >= 1 else send_rate


def slot_spacing_us(send_rate: float, tolerance_s: float) -> int:
    """Microseconds between two slots, so that R slots plus lateness fit in one second."""
    if send_rate <= 0:
        msg = f"send rate must be positive, got {send_rate}"
        raise ValueError(msg)
    return math.ceil((1 + tolerance_s) * MICROS / effective_rate(send_rate))


def block_size(send_rate: float, tuning: Tuning) -> int:
    """Slots per block: `block_s` of sending at the full rate, at least one."""
    spacing = slot_spacing_us(send_rate, tuning.pacing_tolerance_s)
    return max(1, math.floor(tuning.block_s * MICROS / spacing))


def late_limit_us(tuning: Tuning) -> int:
    """How late a send may start after its slot.

    Three quarters of the tolerance: the rest covers the moment between the limiter's check
    and the SES call's start.
    """
    return int(tuning.pacing_tolerance_s * MICROS * 3 / 4)


def decayed_rate(rate: float, at_us: int, now_us: int, half_life_s: float) -> float:
    """An exponentially decaying rate estimate, brought forward from `at_us` to `now_us`."""
    elapsed_s = max(0, now_us - at_us) / MICROS
    return rate * math.pow(0.5, elapsed_s / half_life_s)


def add_to_rate(rate: float, at_us: int, now_us: int, events: int, half_life_s: float) -> float:
    """The estimate after `events` more sends at `now_us` (settles on the true steady rate)."""
    tau_s = half_life_s / math.log(2)
    return decayed_rate(rate, at_us, now_us, half_life_s) + events / tau_s


def hour_of(now_us: int) -> int:
    """The hour bucket (its start, epoch seconds) a send at `now_us` is counted in."""
    seconds = now_us // MICROS
    return seconds - seconds % HOUR_S


def _counts_at(hour: int, now_us: int) -> bool:
    # An hour is counted while any of it lies within the last 24 h: over-counting by at most
    # one hour's sends, never under-counting.
    return (hour + HOUR_S + DAY_S) * MICROS > now_us


def recent_hours(sent_by_hour: Mapping[int, int], now_us: int) -> dict[int, int]:
    """The hour buckets that still count towards the rolling 24 h."""
    return {h: n for h, n in sent_by_hour.items() if n > 0 and _counts_at(h, now_us)}


def quota_used(state: LimiterState, budget: Budget, now_us: int) -> int:
    """Sends in the rolling 24 h: EMS's own count, or SES's if that is higher."""
    return max(sum(recent_hours(state.sent_by_hour, now_us).values()), budget.sent_last_24h)


def quota_limit(budget: Budget, lane: Lane, tuning: Tuning) -> int | None:
    """The 24 h count a lane may reach; campaigns stop short of the transactional reserve."""
    if budget.daily_quota is None:
        return None
    if lane is Lane.TRANSACTIONAL:
        return budget.daily_quota
    return math.floor(budget.daily_quota * (1 - tuning.transactional_quota_reserve_fraction))


def quota_frees_at_us(state: LimiterState, budget: Budget, limit: int, now_us: int) -> int:
    """When at least one send fits under `limit` again, as the oldest hours leave the window."""
    hours = recent_hours(state.sent_by_hour, now_us)
    own = sum(hours.values())
    if own < limit:  # SES's count is the one over the limit: ask SES again later
        return now_us + QUOTA_RECHECK_S * MICROS
    for hour in sorted(hours):
        own -= hours[hour]
        if own < limit:
            return (hour + HOUR_S + DAY_S) * MICROS
    return now_us  # pragma: no cover - own < limit once every hour has left


def transactional_share(state: LimiterState, budget: Budget, tuning: Tuning, now_us: int) -> float:
    """Share of the slots campaigns leave free: recent transactional demand with headroom."""
    pace = MICROS / slot_spacing_us(budget.send_rate, tuning.pacing_tolerance_s)
    demand = decayed_rate(
        state.transactional_rate,
        state.transactional_rate_at_us,
        now_us,
        tuning.transactional_half_life_s,
    )
    return min(tuning.transactional_max_share, tuning.transactional_headroom * demand / pace)


def free_slot_count(campaign_slots: int, share: float, draw: float) -> int:
    """Slots to leave free beside `campaign_slots`, so that they are `share` of the block.

    Rounded at random (`draw` in [0, 1)) so that small shares are left exactly on average.
    """
    if share <= 0:
        return 0
    expected = campaign_slots * share / (1 - share)
    return math.floor(expected + draw)


def free_positions(total: int, free: int) -> frozenset[int]:
    """Which of `total` slots to leave free: `free` of them spread evenly (short waits)."""
    return frozenset(math.floor((j + 0.5) * total / free) for j in range(free))


def _prune(state: LimiterState, now_us: int) -> LimiterState:
    return replace(
        state,
        transactional_slots_us=tuple(s for s in state.transactional_slots_us if s >= now_us),
        sent_by_hour=MappingProxyType(recent_hours(state.sent_by_hour, now_us)),
    )


def _count_sends(state: LimiterState, now_us: int, sends: int) -> Mapping[int, int]:
    hours = dict(state.sent_by_hour)
    hour = hour_of(now_us)
    hours[hour] = hours.get(hour, 0) + sends
    return MappingProxyType(hours)


def plan_reservation(
    state: LimiterState,
    lane: Lane,
    wanted: int,
    *,
    now_us: int,
    budget: Budget,
    tuning: Tuning,
    draw: Callable[[], float],
    latest_first_us: int | None = None,
    demand: int | None = None,
) -> Plan:
    """Reserve up to `wanted` slots for `lane` against `state`.

    Campaigns take a run of slots from the chain, at most `campaign_lookahead_s` ahead of now,
    leaving some free for the transactional lane; transactional email takes those free slots
    first, then the chain's next ones (pushing campaigns back), as long as its first slot is
    no later than `latest_first_us`; `demand` (default: the slots granted) is the number of
    transactional sends asked for since the last report, which feeds the shared estimate.
    Both lanes count against the 24 h quota as slots are granted.
    """
    if wanted < 1:
        msg = f"wanted must be at least 1, got {wanted}"
        raise ValueError(msg)
    state = _prune(state, now_us)
    limit = quota_limit(budget, lane, tuning)
    if limit is not None:
        remaining = limit - quota_used(state, budget, now_us)
        if remaining <= 0:
            return Plan(
                reason=DenyReason.QUOTA_EXHAUSTED,
                retry_at_us=quota_frees_at_us(state, budget, limit, now_us),
            )
        wanted = min(wanted, remaining)
    spacing = slot_spacing_us(budget.send_rate, tuning.pacing_tolerance_s)
    start = max(now_us, state.next_slot_us)
    if lane is Lane.CAMPAIGN:
        return _plan_campaign(
            state,
            wanted=wanted,
            start=start,
            now_us=now_us,
            spacing=spacing,
            budget=budget,
            tuning=tuning,
            draw=draw,
        )
    return _plan_transactional(
        state,
        wanted=wanted,
        start=start,
        now_us=now_us,
        spacing=spacing,
        tuning=tuning,
        latest_first_us=latest_first_us,
        demand=demand,
    )


def _plan_campaign(
    state: LimiterState,
    *,
    wanted: int,
    start: int,
    now_us: int,
    spacing: int,
    budget: Budget,
    tuning: Tuning,
    draw: Callable[[], float],
) -> Plan:
    lookahead_us = int(tuning.campaign_lookahead_s * MICROS)
    if start > now_us + lookahead_us:
        return Plan(reason=DenyReason.RATE_LIMITED, retry_at_us=start - lookahead_us)
    share = transactional_share(state, budget, tuning, now_us)
    free = min(
        free_slot_count(wanted, share, draw()),
        MAX_TRANSACTIONAL_SLOTS - len(state.transactional_slots_us),
    )
    total = wanted + free
    left_free = free_positions(total, free) if free > 0 else frozenset()
    campaign: list[int] = []
    transactional: list[int] = []
    for index in range(total):
        (transactional if index in left_free else campaign).append(start + index * spacing)
    new_state = replace(
        state,
        version=state.version + 1,
        next_slot_us=start + total * spacing,
        transactional_slots_us=(*state.transactional_slots_us, *transactional),
        sent_by_hour=_count_sends(state, now_us, wanted),
    )
    return Plan(slots_us=tuple(campaign), state=new_state)


def _plan_transactional(
    state: LimiterState,
    *,
    wanted: int,
    start: int,
    now_us: int,
    spacing: int,
    tuning: Tuning,
    latest_first_us: int | None,
    demand: int | None,
) -> Plan:
    held = state.transactional_slots_us  # sorted: campaigns append later blocks at the end
    from_held = held[:wanted]
    from_chain = tuple(start + i * spacing for i in range(wanted - len(from_held)))
    slots = (*from_held, *from_chain)
    if latest_first_us is not None and slots[0] > latest_first_us:
        return Plan(
            reason=DenyReason.RATE_LIMITED, retry_at_us=slots[0] - (latest_first_us - now_us)
        )
    new_state = replace(
        state,
        version=state.version + 1,
        next_slot_us=start + len(from_chain) * spacing if from_chain else state.next_slot_us,
        transactional_slots_us=held[len(from_held) :],
        transactional_rate=add_to_rate(
            state.transactional_rate,
            state.transactional_rate_at_us,
            now_us,
            len(slots) if demand is None else demand,
            tuning.transactional_half_life_s,
        ),
        transactional_rate_at_us=now_us,
        sent_by_hour=_count_sends(state, now_us, len(slots)),
    )
    return Plan(slots_us=slots, state=new_state)
