"""The limiter's arithmetic: slot spacing, blocks, lane reservation and quota windows.

Pure functions on `LimiterState`, driven with explicit times: no clock, no network.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ems_sender.limiter.logic import (
    MAX_STRIPES,
    MAX_TRANSACTIONAL_SLOTS,
    QUOTA_RECHECK_S,
    Plan,
    add_to_rate,
    align,
    block_size,
    burst_size,
    decayed_rate,
    effective_rate,
    free_positions,
    free_slot_count,
    grid_spacing_us,
    hour_of,
    late_limit_us,
    plan_reservation,
    quota_used,
    regrid,
    slot_spacing_us,
    stripe_count,
)
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

# On the hour and on the grid of R = 40 (25.5 ms): 1_800_014_400 s = 58_824 x 30_600 s
T0 = 1_800_014_400 * MICROS
SPACING = 25_500
TUNING = Tuning(worker_send_rate=1000)  # one stripe: one worker keeps up with R = 40
BUDGET = Budget(send_rate=40, daily_quota=None)


def _reserve(
    state: LimiterState,
    lane: Lane,
    wanted: int,
    now_us: int,
    budget: Budget = BUDGET,
    tuning: Tuning = TUNING,
    draw: float = 0.0,
    latest_first_us: int | None = None,
    stripe: int | None = None,
    only_own_stripe: bool = False,
) -> Plan:
    return plan_reservation(
        state,
        lane,
        wanted,
        now_us=now_us,
        budget=budget,
        tuning=tuning,
        draw=lambda: draw,
        latest_first_us=latest_first_us,
        stripe=stripe,
        only_own_stripe=only_own_stripe,
    )


def max_in_window(times_s: Sequence[float], window_s: float = 1.0) -> int:
    """The most sends in any half-open window [t, t + window_s)."""
    ordered = sorted(times_s)
    best, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


# -- spacing and blocks ---------------------------------------------------------------------


def test_slots_are_spaced_so_that_late_sends_still_fit_the_rate() -> None:
    # R = 40 with a 20 ms tolerance: 40 slots and 20 ms of lateness fit in one second
    assert slot_spacing_us(40, 0.02) == 25_500


@pytest.mark.parametrize(
    ("rate", "expected"), [(40.0, 40.0), (12.6, 12.0), (1.0, 1.0), (0.9, 0.9), (0.25, 0.25)]
)
def test_a_window_counts_whole_emails(rate: float, expected: float) -> None:
    # 12.6/s (14/s x 0.9) cannot put 12.6 sends in a window: 12 is the most that never exceeds
    assert effective_rate(rate) == expected


def test_a_block_is_a_fraction_of_a_second_of_the_whole_rate() -> None:
    assert block_size(40, TUNING) == 9  # 0.25 s / 25.5 ms
    assert block_size(1000, TUNING) == 245


def test_at_low_rates_a_block_holds_a_few_emails_within_half_the_lookahead() -> None:
    # A worker holds its block and the next one within the 0.5 s lookahead
    assert block_size(20, TUNING) == 5  # 5 x 51 ms, rather than 4 per quarter second
    assert block_size(10, TUNING) == 3  # slots 102 ms apart: 0.2 s
    assert block_size(1, TUNING) == 1  # never zero, even below one email per lookahead


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="send rate must be positive"):
        slot_spacing_us(0, 0.02)


# -- the chain ------------------------------------------------------------------------------


def test_a_campaign_block_starts_now_and_moves_the_chain_past_it() -> None:
    plan = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0)
    assert plan.slots_us == tuple(T0 + i * 25_500 for i in range(9))
    assert plan.state is not None
    assert plan.state.stripes_next_us[0] == T0 + 9 * 25_500
    assert plan.state.version == 1


def test_consecutive_blocks_continue_the_chain_without_a_gap() -> None:
    first = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0)
    assert first.state is not None
    second = _reserve(first.state, Lane.CAMPAIGN, 9, T0 + 1_000)
    assert second.slots_us[0] == first.slots_us[-1] + 25_500


def test_no_credit_builds_up_while_idle() -> None:
    first = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0)
    assert first.state is not None
    later = T0 + 60 * MICROS + 1
    second = _reserve(first.state, Lane.CAMPAIGN, 9, later)
    # After a minute idle the next block starts at the next slot from now: no burst
    assert later <= second.slots_us[0] < later + 25_500
    assert second.slots_us[1] - second.slots_us[0] == 25_500


def test_campaigns_reserve_no_further_ahead_than_the_lookahead() -> None:
    ahead = T0 + 16 * SPACING  # the grid is taken 0.41 s ahead
    state = LimiterState(version=3, spacing_us=SPACING, stripes_next_us=(ahead,))
    plan = _reserve(state, Lane.CAMPAIGN, 9, T0)
    assert plan.slots_us == ()
    assert plan.reason is DenyReason.RATE_LIMITED
    # Retry when the block's last slot (8 x 25.5 ms on) would be within the lookahead (0.5 s)
    assert plan.retry_at_us == ahead + 8 * SPACING - 500_000
    assert _reserve(state, Lane.CAMPAIGN, 9, plan.retry_at_us).slots_us[0] == ahead


def test_a_block_with_its_free_slots_never_outgrows_the_lookahead() -> None:
    state = LimiterState(version=1, transactional_rate=1000.0, transactional_rate_at_us=T0)
    plan = _reserve(state, Lane.CAMPAIGN, 20, T0)  # 20 + 20 free would reach 1 s
    assert plan.state is not None
    # The lookahead holds 20 slots: shared half and half, as the share says
    assert max((*plan.slots_us, *plan.state.transactional_slots_us)) - T0 <= 500_000
    assert len(plan.slots_us) == len(plan.state.transactional_slots_us) == 10


def test_transactional_email_is_not_held_by_the_campaign_lookahead() -> None:
    ahead = T0 + 20 * SPACING
    state = LimiterState(version=3, spacing_us=SPACING, stripes_next_us=(ahead,))
    plan = _reserve(state, Lane.TRANSACTIONAL, 1, T0)
    assert plan.slots_us == (ahead,)


def test_transactional_email_is_refused_when_its_first_slot_is_later_than_it_can_wait() -> None:
    ahead = T0 + 20 * SPACING  # 0.51 s
    state = LimiterState(version=3, spacing_us=SPACING, stripes_next_us=(ahead,))
    plan = _reserve(state, Lane.TRANSACTIONAL, 1, T0, latest_first_us=T0 + 200_000)
    assert plan.reason is DenyReason.RATE_LIMITED
    # Asking again 0.31 s later with the same 0.2 s wait finds the slot in reach
    assert plan.retry_at_us == ahead - 200_000


def test_wanted_must_be_positive() -> None:
    with pytest.raises(ValueError, match="wanted must be at least 1"):
        _reserve(LimiterState(), Lane.CAMPAIGN, 0, T0)


# -- transactional priority -----------------------------------------------------------------


def test_without_transactional_demand_campaigns_get_every_slot() -> None:
    plan = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0, draw=0.99)
    assert plan.state is not None
    assert len(plan.slots_us) == 9
    assert plan.state.transactional_slots_us == ()


def test_campaigns_leave_free_slots_in_proportion_to_transactional_demand() -> None:
    # Given transactional demand of 10/s measured just now, at R = 40 (pace 39.2/s)
    state = LimiterState(version=1, transactional_rate=10.0, transactional_rate_at_us=T0)
    # When a campaign takes a 9-slot block
    plan = _reserve(state, Lane.CAMPAIGN, 9, T0)
    assert plan.state is not None
    free = plan.state.transactional_slots_us
    # Then 1.5 x 10 / 39.2 = 38 % of the block's slots are left free (9 x .38/.62 = 5.6 -> 5)
    assert len(free) == 5
    assert len(plan.slots_us) == 9
    # Spread among the campaign's slots, all on one chain
    every = sorted((*plan.slots_us, *free))
    assert every == [T0 + i * 25_500 for i in range(14)]
    assert free[0] < plan.slots_us[-1]
    assert plan.state.stripes_next_us[0] == T0 + 14 * 25_500


def test_the_share_left_free_is_capped() -> None:
    state = LimiterState(version=1, transactional_rate=1000.0, transactional_rate_at_us=T0)
    plan = _reserve(state, Lane.CAMPAIGN, 9, T0)
    assert plan.state is not None
    assert len(plan.state.transactional_slots_us) == 9  # max share 0.5: as many free as taken


def test_free_slot_rounding_is_right_on_average() -> None:
    # 0.1 expected free slots: left in one block of ten
    draws = [i / 10 for i in range(10)]
    assert sum(free_slot_count(9, 0.011, d) for d in draws) == 1
    assert free_slot_count(9, 0.0, 0.99) == 0


def test_free_positions_are_spread_evenly() -> None:
    assert free_positions(10, 2) == frozenset({2, 7})
    assert free_positions(3, 3) == frozenset({0, 1, 2})


def test_transactional_email_takes_the_free_slots_first_then_the_chain() -> None:
    ahead = T0 + 16 * SPACING
    held = (T0 + 2 * SPACING, T0 + 6 * SPACING)
    state = LimiterState(
        version=4, spacing_us=SPACING, stripes_next_us=(ahead,), transactional_slots_us=held
    )
    plan = _reserve(state, Lane.TRANSACTIONAL, 3, T0)
    assert plan.slots_us == (*held, ahead)
    assert plan.state is not None
    assert plan.state.transactional_slots_us == ()
    assert plan.state.stripes_next_us[0] == ahead + SPACING  # pushed the campaigns back


def test_past_free_slots_are_dropped() -> None:
    state = LimiterState(
        version=4,
        spacing_us=SPACING,
        stripes_next_us=(T0,),
        transactional_slots_us=(T0 - 50_000, T0 + 10_000),
    )
    plan = _reserve(state, Lane.TRANSACTIONAL, 1, T0)
    assert plan.slots_us == (T0 + 10_000,)


def test_free_slots_kept_are_bounded() -> None:
    held = tuple(T0 + 1_000 + i for i in range(MAX_TRANSACTIONAL_SLOTS))
    state = LimiterState(
        version=1,
        spacing_us=SPACING,
        stripes_next_us=(T0 + 1_700_000,),
        transactional_slots_us=held,
        transactional_rate=1000.0,
        transactional_rate_at_us=T0,
    )
    plan = _reserve(state, Lane.CAMPAIGN, 9, T0 + 1_700_000)
    assert plan.state is not None
    assert len(plan.state.transactional_slots_us) <= MAX_TRANSACTIONAL_SLOTS


def test_transactional_demand_is_learned_and_decays() -> None:
    # Steady 10/s for a while: the estimate settles on 10/s
    rate, at = 0.0, T0
    for i in range(1, 3000):
        rate = add_to_rate(rate, at, T0 + i * 100_000, 1, half_life_s=30)
        at = T0 + i * 100_000
    assert rate == pytest.approx(10, rel=0.02)
    # Then it halves every half-life without traffic
    assert decayed_rate(rate, at, at + 30 * MICROS, 30) == pytest.approx(rate / 2)
    # And a transactional reservation records its sends
    plan = _reserve(LimiterState(), Lane.TRANSACTIONAL, 2, T0)
    assert plan.state is not None
    assert plan.state.transactional_rate == pytest.approx(2 * math.log(2) / 30)
    assert plan.state.transactional_rate_at_us == T0


# -- the daily quota ------------------------------------------------------------------------


def test_granted_sends_are_counted_in_the_current_hour() -> None:
    now = T0 + 1_234 * MICROS
    plan = _reserve(LimiterState(), Lane.CAMPAIGN, 9, now)
    assert plan.state is not None
    assert hour_of(now) == T0 // MICROS
    assert dict(plan.state.sent_by_hour) == {T0 // MICROS: 9}


def test_the_rolling_window_sums_every_hour_that_overlaps_the_last_24h() -> None:
    hour = T0 // MICROS
    state = LimiterState(
        sent_by_hour={
            hour - 25 * HOUR_S: 1000,  # ended more than 24 h ago: no longer counted
            hour - 24 * HOUR_S: 7,  # partly within the last 24 h: counted (erring high)
            hour - HOUR_S: 5,
            hour: 3,
        }
    )
    budget = Budget(send_rate=40, daily_quota=100)
    assert quota_used(state, budget, T0 + 1) == 15
    # SES's own count wins when higher (mail sent outside EMS)
    assert quota_used(state, Budget(40, 100, sent_last_24h=40), T0 + 1) == 40


def test_a_spent_quota_refuses_until_the_oldest_hour_leaves_the_window() -> None:
    hour = T0 // MICROS
    state = LimiterState(version=9, sent_by_hour={hour - 20 * HOUR_S: 60, hour: 40})
    budget = Budget(send_rate=40, daily_quota=100)
    plan = _reserve(state, Lane.TRANSACTIONAL, 1, T0 + 10 * MICROS, budget=budget)
    assert plan.slots_us == ()
    assert plan.reason is DenyReason.QUOTA_EXHAUSTED
    # The 60 sent 20 h ago stop counting when their hour is wholly older than 24 h
    assert plan.retry_at_us == (hour - 20 * HOUR_S + HOUR_S + DAY_S) * MICROS


def test_the_last_sends_of_the_quota_are_granted_in_part() -> None:
    budget = Budget(send_rate=40, daily_quota=100)
    state = LimiterState(version=1, sent_by_hour={T0 // MICROS: 95})
    plan = _reserve(state, Lane.TRANSACTIONAL, 9, T0, budget=budget)
    assert len(plan.slots_us) == 5


def test_campaigns_leave_the_transactional_share_of_the_quota() -> None:
    budget = Budget(send_rate=40, daily_quota=1000)  # campaigns may reach 980 (2 % reserve)
    state = LimiterState(version=1, sent_by_hour={T0 // MICROS: 980})
    campaign = _reserve(state, Lane.CAMPAIGN, 9, T0, budget=budget)
    assert campaign.reason is DenyReason.QUOTA_EXHAUSTED
    transactional = _reserve(state, Lane.TRANSACTIONAL, 9, T0, budget=budget)
    assert len(transactional.slots_us) == 9


def test_when_ses_count_spends_the_quota_ses_is_asked_again_later() -> None:
    budget = Budget(send_rate=40, daily_quota=100, sent_last_24h=100)
    plan = _reserve(LimiterState(), Lane.TRANSACTIONAL, 1, T0, budget=budget)
    assert plan.reason is DenyReason.QUOTA_EXHAUSTED
    assert plan.retry_at_us == T0 + QUOTA_RECHECK_S * MICROS


def test_old_hours_are_pruned_from_the_item() -> None:
    hour = T0 // MICROS
    state = LimiterState(version=1, sent_by_hour={hour - 30 * HOUR_S: 10, hour - HOUR_S: 2})
    plan = _reserve(state, Lane.CAMPAIGN, 1, T0, budget=Budget(40, 100))
    assert plan.state is not None
    assert dict(plan.state.sent_by_hour) == {hour - HOUR_S: 2, hour: 1}


# -- stripes: one worker keeps up with one stripe -------------------------------------------

STRIPED = Tuning(worker_send_rate=20)  # at R = 40 (39.2/s on the grid): 2 stripes


def test_the_grid_is_dealt_in_as_many_stripes_as_workers_need() -> None:
    assert stripe_count(40, STRIPED) == 2
    assert stripe_count(100, STRIPED) == 5  # 98/s on the grid, 20/s per worker
    assert stripe_count(40, TUNING) == 1
    assert stripe_count(100_000, STRIPED) == MAX_STRIPES


def test_a_stripe_owns_every_kth_slot_of_the_grid() -> None:
    assert align(T0, 0, 2, SPACING) == T0  # T0 is slot 70_588_800_000 (even)
    assert align(T0, 1, 2, SPACING) == T0 + SPACING
    assert align(T0 + 1, 0, 2, SPACING) == T0 + 2 * SPACING


def test_two_workers_take_interleaved_blocks_and_together_fill_the_grid() -> None:
    first = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0, tuning=STRIPED)
    assert first.state is not None
    second = _reserve(first.state, Lane.CAMPAIGN, 9, T0 + 1_000, tuning=STRIPED)
    assert second.state is not None
    assert {first.stripe, second.stripe} == {0, 1}
    # Each worker's slots are two spacings apart: it sends at R/2
    assert all(b - a == 2 * SPACING for a, b in itertools.pairwise(first.slots_us))
    # Together every slot of the grid is used, none twice
    every = sorted((*first.slots_us, *second.slots_us))
    assert all(b - a == SPACING for a, b in itertools.pairwise(every))


def test_a_worker_continues_its_own_stripe_or_waits_for_it() -> None:
    first = _reserve(LimiterState(), Lane.CAMPAIGN, 9, T0, tuning=STRIPED)
    assert first.state is not None
    # Its stripe reaches 0.46 s ahead: another block there would pass the lookahead
    again = _reserve(
        first.state,
        Lane.CAMPAIGN,
        9,
        T0,
        tuning=STRIPED,
        stripe=first.stripe,
        only_own_stripe=True,
    )
    assert again.reason is DenyReason.RATE_LIMITED
    # (while the other stripe is open to anyone, and to it when it runs dry)
    assert _reserve(first.state, Lane.CAMPAIGN, 9, T0, tuning=STRIPED).stripe != first.stripe
    assert _reserve(first.state, Lane.CAMPAIGN, 9, T0, tuning=STRIPED, stripe=0).stripe == 1
    # Once its block is half spent, it continues where its block ends
    later = _reserve(
        first.state,
        Lane.CAMPAIGN,
        9,
        again.retry_at_us,
        tuning=STRIPED,
        stripe=first.stripe,
        only_own_stripe=True,
    )
    assert later.slots_us[0] == first.slots_us[-1] + 2 * SPACING


def test_transactional_email_takes_the_earliest_slots_of_any_stripe() -> None:
    state = LimiterState(
        version=2, spacing_us=SPACING, stripes_next_us=(T0 + 10 * SPACING, T0 + 3 * SPACING)
    )
    plan = _reserve(state, Lane.TRANSACTIONAL, 3, T0, tuning=STRIPED)
    assert plan.slots_us == (T0 + 3 * SPACING, T0 + 5 * SPACING, T0 + 7 * SPACING)


def test_a_new_rate_or_stripe_count_restarts_every_stripe_after_the_slots_handed_out() -> None:
    state = LimiterState(
        version=2, spacing_us=SPACING, stripes_next_us=(T0 + 4 * SPACING, T0 + 9 * SPACING)
    )
    assert regrid(state, SPACING, 2) is state
    assert regrid(state, SPACING, 3).stripes_next_us == (T0 + 9 * SPACING,) * 3
    assert regrid(state, 20_400, 2).stripes_next_us == (T0 + 9 * SPACING,) * 2


# -- the one-second windows, whoever holds the slots ----------------------------------------

_steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400_000),  # µs until the next request
        st.sampled_from([Lane.CAMPAIGN, Lane.TRANSACTIONAL]),
        st.integers(min_value=1, max_value=12),  # wanted
        st.floats(min_value=0, max_value=0.999),  # draw for free-slot rounding
        st.one_of(st.none(), st.integers(min_value=0, max_value=5)),  # a worker's own stripe
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(
    steps=_steps,
    rate=st.sampled_from([1.0, 5.0, 12.6, 40.0, 150.0]),
    worker_rate=st.sampled_from([1000.0, 20.0, 7.0]),
    lateness=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=50),
)
def test_no_one_second_window_ever_holds_more_than_the_rate(
    steps: list[tuple[int, Lane, int, float, int | None]],
    rate: float,
    worker_rate: float,
    lateness: list[float],
) -> None:
    # Given any mix of campaign blocks (on any stripe) and transactional requests over time
    budget = Budget(send_rate=rate, daily_quota=None)
    tuning = Tuning(worker_send_rate=worker_rate)
    state, now = LimiterState(), T0
    granted: list[int] = []
    for gap, lane, wanted, draw, stripe in steps:
        now += gap
        plan = _reserve(
            state, lane, wanted, now, budget=budget, tuning=tuning, draw=draw, stripe=stripe
        )
        if plan.state is not None:
            state = plan.state
            granted.extend(plan.slots_us)
    # Every slot is at least one spacing from every other
    spacing = slot_spacing_us(rate, TUNING.pacing_tolerance_s)
    ordered = sorted(granted)
    assert all(b - a >= spacing for a, b in itertools.pairwise(ordered))
    # And however late (within the tolerance) each send starts, no 1 s window exceeds R
    tolerance_us = TUNING.pacing_tolerance_s * MICROS
    sends = [
        (slot + late * tolerance_us) / MICROS
        for slot, late in zip(ordered, itertools.cycle(lateness), strict=False)
    ]
    assert max_in_window(sends) <= effective_rate(rate)


def test_the_late_limit_leaves_part_of_the_tolerance_for_the_call_itself() -> None:
    assert late_limit_us(TUNING) == 15_000


def test_max_in_window_counts_a_half_open_second() -> None:
    assert max_in_window([0.0, 0.5, 1.0]) == 2
    assert max_in_window([0.0, 0.5, 0.999]) == 3
    assert max_in_window([]) == 0


# --- bursts: SendBulkEmail calls ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "worker_rate", "burst"),
    [
        (14, 300, 1),  # a new account: one email a call
        (200, 300, 9),  # the local stack
        (300, 300, 13),
        (1000, 300, 11),  # 4 stripes: each call's slots are 4 apart
        (1000, 1000, 41),
        (5000, 5000, 50),  # SES's most destinations a call
    ],
)
def test_a_call_carries_a_fraction_of_the_rate_over_the_stripes(
    rate: float, worker_rate: float, burst: int
) -> None:
    tuning = Tuning(worker_send_rate=worker_rate, burst_fraction=0.04)
    assert burst_size(rate, tuning) == burst


def test_without_burst_room_the_grid_is_unchanged() -> None:
    assert burst_size(40, TUNING) == 1
    assert grid_spacing_us(40, TUNING) == slot_spacing_us(40, TUNING.pacing_tolerance_s)


def _busiest_second(sends: Sequence[tuple[int, int]]) -> int:
    """Most sends (time_us, how many) in any one-second window [t, t + 1 s)."""
    ordered = sorted(sends)
    most, total, left = 0, 0, 0
    for at, count in ordered:
        total += count
        while ordered[left][0] <= at - MICROS:
            total -= ordered[left][1]
            left += 1
        most = max(most, total)
    return most


@given(
    rate=st.integers(min_value=20, max_value=2000),
    worker_rate=st.sampled_from([50, 300, 1000]),
    sizes=st.lists(st.integers(min_value=1, max_value=60), min_size=40, max_size=200),
)
@settings(max_examples=150, deadline=None)
def test_calls_on_their_last_slot_never_put_more_than_r_sends_in_a_second(
    rate: int, worker_rate: int, sizes: list[int]
) -> None:
    # Given every stripe's slots taken in runs, each run sent as one call on its last slot
    tuning = Tuning(worker_send_rate=worker_rate, burst_fraction=0.04)
    burst = burst_size(rate, tuning)
    stripes = stripe_count(rate, tuning)
    spacing = grid_spacing_us(rate, tuning)
    sends: list[tuple[int, int]] = []
    next_slot = list(range(stripes))  # slot indexes: stripe j owns j, j + K, j + 2K ...
    for turn, wanted in enumerate(sizes):
        stripe = turn % stripes
        k = min(wanted, burst)
        slots = [next_slot[stripe] + i * stripes for i in range(k)]
        next_slot[stripe] = slots[-1] + stripes
        sends.append((slots[-1] * spacing, k))
    # Then no second holds more than R, and the grid keeps (1 - burst_fraction) of R at least
    assert _busiest_second(sends) <= rate
    # (the spacing is rounded up to a whole microsecond)
    floor_rate = (1 - tuning.burst_fraction) * rate / (1 + tuning.pacing_tolerance_s)
    assert MICROS / (spacing - 1) >= floor_rate
