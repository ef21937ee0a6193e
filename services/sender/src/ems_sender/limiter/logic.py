"""The limiter's arithmetic, as pure functions on `LimiterState` (no clock, no AWS).

One grid of send slots, shared by every sender: slot times are whole multiples of one spacing
`(1 + tolerance) / R`. A send may start only in `[slot, slot + tolerance]` and no slot is ever
handed out twice, so no window of one second can hold more than R sends, whichever worker
holds which slot. Unused slots are simply lost (no credit accumulates): no burst after an idle
spell either.

The grid is dealt out in K interleaved stripes (stripe j owns every K-th slot, from j): a
reservation takes the next `n` slots of one stripe from `max(now, that stripe's next)`. A
worker holding a block therefore has to keep up with R/K, not R: with K = R / (what one
sender process sends a second), every process can spend its blocks and the rate scales with
the number of processes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from ems_common.formats.campaign_file import MAX_BULK_ENTRIES
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

MIN_BLOCK_SLOTS: Final = 8
# Bounds the stripes and the free transactional slots kept in the item (and its size).
MAX_STRIPES: Final = 64
MAX_TRANSACTIONAL_SLOTS: Final = 64
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
    stripe: int | None = None  # the stripe a campaign block came from


def effective_rate(send_rate: float) -> float:
    """Sends per second the windows may hold: whole emails, since a window counts sends."""
    return float(math.floor(send_rate)) if send_rate >= 1 else send_rate


def slot_spacing_us(send_rate: float, tolerance_s: float) -> int:
    """Microseconds between two slots, so that R slots plus lateness fit in one second."""
    if send_rate <= 0:
        msg = f"send rate must be positive, got {send_rate}"
        raise ValueError(msg)
    return math.ceil((1 + tolerance_s) * MICROS / effective_rate(send_rate))


def burst_size(send_rate: float, tuning: Tuning) -> int:
    """Emails one SES call may carry on this grid (a SendBulkEmail call; 1: one email a call).

    A call of k emails is k sends at one instant, made on the last of k slots of one stripe
    (K stripes apart): a one-second window can then hold up to (k - 1) x K sends more than it
    has slots. So k is kept to `burst_fraction` of R over K, and the grid is laid at
    R - (k - 1) x K (`grid_spacing_us`): no window holds more than R sends, and the average
    stays within `burst_fraction` of R. At most SES's 50 destinations a call.
    """
    if tuning.burst_fraction <= 0:
        return 1
    room = tuning.burst_fraction * effective_rate(send_rate) / stripe_count(send_rate, tuning)
    return max(1, min(MAX_BULK_ENTRIES, math.floor(room) + 1))


def grid_spacing_us(send_rate: float, tuning: Tuning) -> int:
    """Microseconds between two slots of the grid, room for bursts made (`burst_size`)."""
    burst = burst_size(send_rate, tuning)
    if burst == 1:
        return slot_spacing_us(send_rate, tuning.pacing_tolerance_s)
    room = (burst - 1) * stripe_count(send_rate, tuning)
    return math.ceil((1 + tuning.pacing_tolerance_s) * MICROS / (effective_rate(send_rate) - room))


def stripe_count(send_rate: float, tuning: Tuning) -> int:
    """Stripes the grid is dealt in: enough that one worker keeps up with one stripe."""
    pace = MICROS / slot_spacing_us(send_rate, tuning.pacing_tolerance_s)
    return max(1, min(MAX_STRIPES, math.ceil(pace / tuning.worker_send_rate - 1e-9)))


def block_size(send_rate: float, tuning: Tuning) -> int:
    """Slots per block, on one stripe: about `block_s` of sending.

    At least MIN_BLOCK_SLOTS (at low rates a quarter second is two or three emails, and every
    block costs requests), but reaching no further than half the campaign lookahead: a worker
    takes its next block on its stripe while it spends the current one.
    """
    stripe_spacing = grid_spacing_us(send_rate, tuning) * stripe_count(send_rate, tuning)
    nominal = math.floor(tuning.block_s * MICROS / stripe_spacing)
    longest = math.floor(tuning.campaign_lookahead_s * MICROS / 2 / stripe_spacing) + 1
    return max(1, min(max(nominal, MIN_BLOCK_SLOTS), longest))


def align(at_us: int, stripe: int, stripes: int, spacing_us: int) -> int:
    """The first slot of `stripe` at or after `at_us`."""
    index = -(-at_us // spacing_us)  # ceil
    return (index + (stripe - index) % stripes) * spacing_us


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
    pace = MICROS / grid_spacing_us(budget.send_rate, tuning)
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


def regrid(state: LimiterState, spacing_us: int, stripes: int) -> LimiterState:
    """The state on this grid: if the rate or the stripes changed, every stripe restarts
    after every slot already handed out, so old and new slots never come closer than that."""
    if state.spacing_us == spacing_us and len(state.stripes_next_us) == stripes:
        return state
    latest = max(state.stripes_next_us, default=0)
    return replace(state, spacing_us=spacing_us, stripes_next_us=(latest,) * stripes)


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
    stripe: int | None = None,
    only_own_stripe: bool = False,
) -> Plan:
    """Reserve up to `wanted` slots for `lane` against `state`.

    Campaigns take a run of slots of one stripe (their own `stripe` if open, or only that one
    with `only_own_stripe`), reaching at most `campaign_lookahead_s` ahead of now, and leave some
    free for the transactional lane; transactional email takes those free slots first, then
    the grid's next ones (pushing campaigns back), as long as its first slot is no later than
    `latest_first_us`; `demand` (default: the slots granted) is the number of
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
    spacing = grid_spacing_us(budget.send_rate, tuning)
    state = regrid(state, spacing, stripe_count(budget.send_rate, tuning))
    if lane is Lane.CAMPAIGN:
        return _plan_campaign(
            state,
            wanted=wanted,
            now_us=now_us,
            budget=budget,
            tuning=tuning,
            draw=draw,
            stripe=stripe,
            only_own_stripe=only_own_stripe,
        )
    return _plan_transactional(
        state,
        wanted=wanted,
        now_us=now_us,
        tuning=tuning,
        latest_first_us=latest_first_us,
        demand=demand,
    )


def _starts(state: LimiterState, now_us: int) -> list[int]:
    """Each stripe's first free slot from now."""
    stripes = len(state.stripes_next_us)
    return [
        align(max(now_us, nxt), j, stripes, state.spacing_us)
        for j, nxt in enumerate(state.stripes_next_us)
    ]


def _plan_campaign(
    state: LimiterState,
    *,
    wanted: int,
    now_us: int,
    budget: Budget,
    tuning: Tuning,
    draw: Callable[[], float],
    stripe: int | None,
    only_own_stripe: bool,
) -> Plan:
    stripes = len(state.stripes_next_us)
    step = state.spacing_us * stripes  # between two slots of one stripe
    # The whole block, free slots included, lies within the lookahead: that bounds how long
    # a transactional email can find the grid taken ahead of it.
    lookahead_us = int(tuning.campaign_lookahead_s * MICROS)
    longest = lookahead_us // step + 1
    share = transactional_share(state, budget, tuning, now_us)
    free = min(
        free_slot_count(wanted, share, draw()),
        MAX_TRANSACTIONAL_SLOTS - len(state.transactional_slots_us),
    )
    if wanted + free > longest:  # shrink both, keeping the share
        free = min(longest - 1, round(longest * free / (wanted + free)))
        wanted = longest - free
    total = wanted + free
    starts = _starts(state, now_us)
    last_slot = [start + (total - 1) * step for start in starts]
    own = stripe if stripe is not None and stripe < stripes else None
    candidates = [own] if own is not None and only_own_stripe else range(stripes)
    open_stripes = [j for j in candidates if last_slot[j] <= now_us + lookahead_us]
    if not open_stripes:
        return Plan(
            reason=DenyReason.RATE_LIMITED,
            retry_at_us=min(last_slot[j] for j in candidates) - lookahead_us,
        )
    # The worker's own stripe if it can (its blocks then follow one another), else the one
    # whose slots come soonest: the one nobody may be serving.
    stripe = own if own in open_stripes else min(open_stripes, key=starts.__getitem__)
    start = starts[stripe]
    left_free = free_positions(total, free) if free > 0 else frozenset()
    campaign: list[int] = []
    transactional: list[int] = []
    for index in range(total):
        (transactional if index in left_free else campaign).append(start + index * step)
    nexts = list(state.stripes_next_us)
    nexts[stripe] = start + total * step
    new_state = replace(
        state,
        version=state.version + 1,
        stripes_next_us=tuple(nexts),
        transactional_slots_us=tuple(sorted((*state.transactional_slots_us, *transactional))),
        sent_by_hour=_count_sends(state, now_us, wanted),
    )
    return Plan(slots_us=tuple(campaign), state=new_state, stripe=stripe)


def _plan_transactional(
    state: LimiterState,
    *,
    wanted: int,
    now_us: int,
    tuning: Tuning,
    latest_first_us: int | None,
    demand: int | None,
) -> Plan:
    held = state.transactional_slots_us  # sorted
    from_held = held[:wanted]
    # The rest: the earliest free slots of any stripe, ahead of campaigns still to come.
    starts = _starts(state, now_us)
    step = state.spacing_us * len(starts)
    nexts = list(state.stripes_next_us)
    from_grid: list[int] = []
    for _ in range(wanted - len(from_held)):
        stripe = min(range(len(starts)), key=starts.__getitem__)
        from_grid.append(starts[stripe])
        starts[stripe] += step
        nexts[stripe] = starts[stripe]
    slots = tuple(sorted((*from_held, *from_grid)))
    if latest_first_us is not None and slots[0] > latest_first_us:
        return Plan(
            reason=DenyReason.RATE_LIMITED, retry_at_us=slots[0] - (latest_first_us - now_us)
        )
    new_state = replace(
        state,
        version=state.version + 1,
        stripes_next_us=tuple(nexts),
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
