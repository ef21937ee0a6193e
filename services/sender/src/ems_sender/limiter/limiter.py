"""`SendLimiter`: what the sender calls before each SES send, from any thread.

Each process keeps a small pool of slots per lane, taken from the shared item a block at a
time (a quarter of a second of the whole rate by default), so DynamoDB sees a few writes a
second however many emails go out. Threads share the pool; one of them at a time refills it
(one DynamoDB call in flight per lane and process). A campaign worker tops its pool up before
it runs dry, in the slack before its next slot, so the chain never idles between blocks.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from ems_common.aws import AwsClients
from ems_sender.limiter.budget import BudgetSource
from ems_sender.limiter.clock import Clock, SystemClock
from ems_sender.limiter.dal import LimiterStore, LimiterTable
from ems_sender.limiter.logic import (
    Plan,
    block_size,
    burst_size,
    decayed_rate,
    late_limit_us,
    plan_reservation,
)
from ems_sender.limiter.model import MICROS, Budget, DenyReason, Grant, Lane, LimiterState, Tuning
from ems_sender.limiter.settings import LimiterSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client

# Lost races in a row before a reservation gives up for now (each costs one request).
MAX_CONFLICTS: Final = 8
# A reservation on a cached item older than PEEK_AFTER_S reads the item first when it is
# likely stale: always for transactional email, and for campaigns while other workers
# contend (a campaign write lost within CONTENDED_S). Workers waiting for the same opening
# then lose a read, not a write; a lone campaign worker never reads.
PEEK_AFTER_S: Final = 0.02
CONTENDED_S: Final = 10.0
# Half-life of a process's own transactional demand, which sizes its transactional blocks.
LOCAL_DEMAND_HALF_LIFE_S: Final = 5.0
# A reservation is planned from when its write is expected back (twice the running estimate of
# a write's latency, at most this), not from when it is sent: slots planned from "now" would
# be past their tolerance by the time the write returns, and lapse unused.
MAX_WRITE_LEAD_S: Final = 0.1


@dataclass(frozen=True)
class LimiterStats:
    """What one process's limiter did (for logs and `make bench`)."""

    dynamodb_reads: int
    dynamodb_writes: int
    reservations: int
    conflicts: int
    slots_reserved: int
    slots_granted: int
    slots_forfeited: int

    @property
    def dynamodb_requests(self) -> int:
        """Reads and writes."""
        return self.dynamodb_reads + self.dynamodb_writes


class _Pool:
    """A lane's reserved slots (µs, ascending), shared by the process's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slots: list[int] = []

    def take(
        self, wanted: int, *, now_us: int, late_us: int, latest_first_us: int
    ) -> tuple[tuple[int, ...], int, int | None]:
        """Up to `wanted` slots whose first is due by `latest_first_us`.

        Returns (slots, stale slots dropped, the first slot if it is due too late).
        """
        with self.lock:
            stale = 0
            while stale < len(self.slots) and self.slots[stale] + late_us < now_us:
                stale += 1
            del self.slots[:stale]
            if not self.slots:
                return (), stale, None
            if self.slots[0] > latest_first_us:
                return (), stale, self.slots[0]
            taken = tuple(self.slots[:wanted])
            del self.slots[:wanted]
            return taken, stale, None

    def give_back(self, slots: list[int]) -> None:
        """Return unused slots (still usable) for other threads."""
        with self.lock:
            self.slots = sorted((*self.slots, *slots))

    def __len__(self) -> int:
        with self.lock:
            return len(self.slots)


@dataclass(frozen=True)
class _Outcome:
    reserved: bool
    reason: DenyReason | None = None
    retry_at_us: int = 0


class SendLimiter:
    """The shared limiter: rate, 24 h quota and transactional priority across all senders.

    - `acquire(lane, wanted, max_wait_s=...)` returns a `Grant` of up to `wanted` slots (epoch
      seconds), the first due within `max_wait_s`; empty with a reason and `retry_after_s`
      when the rate or the quota allows none in time.
    - `pace(grant)` yields once per slot, when it is due, and skips a slot the caller is too
      late for (sending then could overfill a one-second window).
    - `take(lane, max_wait_s=...)` is both for one email: it returns when the caller may send.

    AWS and DynamoDB errors propagate: the sender then leaves the messages on the queue.
    """

    def __init__(
        self,
        *,
        table: LimiterStore,
        name: str,
        budgets: BudgetSource,
        tuning: Tuning,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._table = table
        self._name = name
        self._budgets = budgets
        self._tuning = tuning
        self._clock = clock
        # Not for security: jitter and rounding of free slots only.
        self._rng = rng or random.Random()  # noqa: S311
        self._late_us = late_limit_us(tuning)
        self._pools = {lane: _Pool() for lane in Lane}
        self._reserve_locks = {lane: threading.Lock() for lane in Lane}
        self._not_before_us = dict.fromkeys(Lane, 0)
        self._stripe: int | None = None  # the stripe of this process's last campaign block
        self._state = LimiterState()
        self._state_seen_us = 0  # when `_state` was last known to be the item's
        self._contended_until_us = 0
        self._state_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._counts = dict.fromkeys(
            ("reservations", "conflicts", "reserved", "granted", "forfeited"), 0
        )
        self._local_demand = 0.0
        self._local_demand_at_us = 0
        # Transactional sends asked for since the last reservation reported them: the shared
        # demand estimate counts requests, not slots reserved (which would feed on itself).
        self._unreported_demand = 0
        self._save_latency_us = 5_000.0  # running estimate, decides when a top-up is safe
        # Campaign sends the process's callers said are still to come (`expect`); None until
        # one says: blocks are then always whole.
        self._campaign_backlog: int | None = None

    # -- public -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The limiter's namespace (its item in the table)."""
        return self._name

    @property
    def clock(self) -> Clock:
        """The limiter's time (a test's clock in tests)."""
        return self._clock

    @property
    def tuning(self) -> Tuning:
        """How slots are taken and spent."""
        return self._tuning

    def budget(self) -> Budget:
        """The limits in force (SES's quota, cached, or the overrides)."""
        return self._budgets.current()

    @property
    def stats(self) -> LimiterStats:
        """Counters since this limiter was built."""
        with self._stats_lock:
            counts = dict(self._counts)
        return LimiterStats(
            dynamodb_reads=self._table.reads,
            dynamodb_writes=self._table.writes,
            reservations=counts["reservations"],
            conflicts=counts["conflicts"],
            slots_reserved=counts["reserved"],
            slots_granted=counts["granted"],
            slots_forfeited=counts["forfeited"],
        )

    def acquire(self, lane: Lane, wanted: int, *, max_wait_s: float = 0.0) -> Grant:
        """Up to `wanted` send slots for `lane`, the first due within `max_wait_s`.

        Blocks at most `max_wait_s` (waiting for the chain to reach the campaign lookahead, or
        for a block), never for the quota: an exhausted quota answers at once with
        `QUOTA_EXHAUSTED` and the time until the oldest counted hour leaves the window.
        """
        if wanted < 1:
            msg = f"wanted must be at least 1, got {wanted}"
            raise ValueError(msg)
        pool = self._pools[lane]
        deadline_us = self._now_us() + int(max(0.0, max_wait_s) * MICROS)
        if lane is Lane.TRANSACTIONAL:
            self._note_local_demand(wanted)
        while True:
            now_us = self._now_us()
            taken, stale, too_late = pool.take(
                wanted, now_us=now_us, late_us=self._late_us, latest_first_us=deadline_us
            )
            self._add(forfeited=stale)
            if taken:
                self._add(granted=len(taken))
                if lane is Lane.CAMPAIGN:
                    self._owe(-len(taken))
                    self._top_up(taken[0], now_us)
                return Grant(lane, tuple(s / MICROS for s in taken))
            if too_late is not None:
                return self._denied(lane, DenyReason.RATE_LIMITED, too_late - deadline_us)
            outcome = self._reserve(lane, wanted, latest_first_us=deadline_us, blocking=True)
            if outcome.reserved:
                continue
            now_us = self._now_us()
            if outcome.reason is DenyReason.QUOTA_EXHAUSTED or lane is Lane.TRANSACTIONAL:
                # The quota frees up in hours; a transactional denial already says when its
                # first slot would be due within max_wait_s.
                return self._denied(
                    lane, outcome.reason or DenyReason.RATE_LIMITED, outcome.retry_at_us - now_us
                )
            retry_at_us = outcome.retry_at_us
            if retry_at_us > deadline_us:
                return self._denied(lane, DenyReason.RATE_LIMITED, retry_at_us - now_us)
            self._clock.sleep((retry_at_us - now_us) / MICROS)

    def expect(self, lane: Lane, count: int) -> None:
        """`count` more sends of `lane` are coming from this process (negative: that many fewer
        than said before); each slot granted (and sent on) counts as one of them.

        Campaign blocks are then sized to what is still to come, not reserved whole: slots
        reserved beyond the process's work (its invocation's last messages) would lapse unused
        while another process could have sent on them. Transactional blocks are sized by the
        process's recent demand already.
        """
        if lane is Lane.CAMPAIGN:
            with self._stats_lock:
                self._campaign_backlog = (self._campaign_backlog or 0) + count

    def _owe(self, count: int) -> None:
        with self._stats_lock:
            if self._campaign_backlog is not None:
                self._campaign_backlog += count

    def pace(self, grant: Grant) -> Turns:
        """The grant's turns: iterate to send one email per yielded slot, when it is due.

        Use it as a context manager so that slots left when the loop stops early go back to
        the process's pool for other threads.
        """
        return Turns(self, grant)

    def take(self, lane: Lane, *, max_wait_s: float) -> Grant:
        """One send for `lane`, due now: returns when the caller may call SES.

        An empty grant (reason, retry_after_s) if none comes within `max_wait_s`.
        """
        deadline = self._clock.now() + max(0.0, max_wait_s)
        while True:
            grant = self.acquire(lane, 1, max_wait_s=max(0.0, deadline - self._clock.now()))
            if not grant:
                return grant
            with self.pace(grant) as turns:
                for _ in turns:
                    return grant
            if self._clock.now() >= deadline:
                return self._denied(lane, DenyReason.RATE_LIMITED, 0)

    def burst_size(self, lane: Lane) -> int:
        """Emails one SES call of `lane` may carry now (`logic.burst_size`): campaign email goes
        out in SendBulkEmail calls of that many; a transactional email alone."""
        if lane is Lane.TRANSACTIONAL:
            return 1
        return burst_size(self.budget().send_rate, self._tuning)

    def wait_for_burst(self, grant: Grant) -> bool:
        """Wait for the grant's last slot, when its sends may go out in one call; False (its
        slots forfeited) if that slot is past its tolerance by then."""
        if not grant:
            return False
        if self._wait_for(grant.slots[-1]):
            return True
        self._add(forfeited=grant.count - 1)  # the last one is counted by _wait_for
        if grant.lane is Lane.CAMPAIGN:
            self._owe(grant.count)  # its sends are still to come
        return False

    # -- for Turns --------------------------------------------------------------------------

    def _wait_for(self, slot_s: float) -> bool:
        """Sleep until `slot_s`; False if it is by then too late to send on it."""
        while (delay := slot_s - self._clock.now()) > 0:
            self._clock.sleep(delay)
        if self._now_us() > round(slot_s * MICROS) + self._late_us:
            self._add(forfeited=1)
            return False
        return True

    def _give_back(self, lane: Lane, slots: tuple[float, ...]) -> None:
        now_us = self._now_us()
        usable = [us for s in slots if (us := round(s * MICROS)) + self._late_us >= now_us]
        self._add(granted=-len(usable), forfeited=len(slots) - len(usable))
        if lane is Lane.CAMPAIGN:
            self._owe(len(slots))  # their sends are still to come
        if usable:
            self._pools[lane].give_back(usable)

    # -- internals --------------------------------------------------------------------------

    def _now_us(self) -> int:
        return round(self._clock.now() * MICROS)

    def _add(self, **counts: int) -> None:
        with self._stats_lock:
            for key, value in counts.items():
                self._counts[key] += value

    def _denied(self, lane: Lane, reason: DenyReason, retry_after_us: float) -> Grant:
        return Grant(lane, (), reason, max(0.0, retry_after_us / MICROS))

    def _note_local_demand(self, wanted: int) -> None:
        now_us = self._now_us()
        with self._stats_lock:
            tau_s = LOCAL_DEMAND_HALF_LIFE_S / math.log(2)
            self._local_demand = (
                decayed_rate(
                    self._local_demand,
                    self._local_demand_at_us,
                    now_us,
                    LOCAL_DEMAND_HALF_LIFE_S,
                )
                + wanted / tau_s
            )
            self._local_demand_at_us = now_us
            self._unreported_demand += wanted

    def _block(self, lane: Lane, wanted: int, budget: Budget) -> int:
        full = block_size(budget.send_rate, self._tuning)
        if lane is Lane.CAMPAIGN:
            # A whole block, or what the process still has to send if that is less.
            return max(wanted, min(full, self._unreserved_backlog(full)))
        # Transactional: what this process is likely to use within a block (rounded, so that
        # light traffic takes one slot at a time and none lapse).
        with self._stats_lock:
            expected = round(self._local_demand * self._tuning.block_s)
        return min(full, max(wanted, expected))

    def _unreserved_backlog(self, full: int) -> int:
        """Campaign sends still to come beyond the slots in hand (`full` if nobody said)."""
        with self._stats_lock:
            backlog = self._campaign_backlog
        if backlog is None:
            return full
        return backlog - len(self._pools[Lane.CAMPAIGN])

    def _top_up(self, first_taken_us: int, now_us: int) -> None:
        """Reserve the next campaign block early, if it is due and the caller has time."""
        lane = Lane.CAMPAIGN
        if now_us < self._not_before_us[lane]:
            return
        if first_taken_us - now_us < 2 * self._save_latency_us:
            return  # the caller's slot is too close: another call will top up
        full = block_size(self.budget().send_rate, self._tuning)
        if len(self._pools[lane]) * 2 >= full:
            return
        if self._unreserved_backlog(full) <= 0:
            return  # the slots in hand cover what the process has left to send
        # The same stripe only: a block on another would overlap the one being spent, and the
        # process would have to send twice as fast.
        self._reserve(lane, full, latest_first_us=None, blocking=False, own_stripe=True)

    def _reserve(
        self,
        lane: Lane,
        wanted: int,
        *,
        latest_first_us: int | None,
        blocking: bool,
        own_stripe: bool = False,
    ) -> _Outcome:
        lock = self._reserve_locks[lane]
        if not lock.acquire(blocking=blocking):
            return _Outcome(reserved=False)
        try:
            if blocking and len(self._pools[lane]) > 0:
                return _Outcome(reserved=True)  # another thread refilled the pool meanwhile
            budget = self._budgets.current()
            size = self._block(lane, wanted, budget)
            fresh = False  # the state in hand was read from the table during this call
            for _ in range(MAX_CONFLICTS):
                now_us = self._now_us()
                with self._state_lock:
                    state, seen_us = self._state, self._state_seen_us
                with self._stats_lock:
                    reported = self._unreported_demand
                plan = plan_reservation(
                    state,
                    lane,
                    size,
                    now_us=now_us + self._write_lead_us(),
                    budget=budget,
                    tuning=self._tuning,
                    draw=self._rng.random,
                    latest_first_us=latest_first_us if lane is Lane.TRANSACTIONAL else None,
                    demand=reported if lane is Lane.TRANSACTIONAL else None,
                    stripe=self._stripe,
                    only_own_stripe=own_stripe,
                )
                if plan.state is None:
                    if lane is Lane.TRANSACTIONAL and not fresh:
                        # Campaigns may have left free slots since this process last looked:
                        # a refusal on a cached item is only final for the chain and quota.
                        fresh = True
                        self._set_state(self._table.load(self._name))
                        continue
                    # Campaigns: the chain and the hour counts only grow, so a refusal on a
                    # cached item stands, at no request.
                    return self._deny(lane, plan, own_stripe=own_stripe)
                if (
                    not fresh
                    and now_us - seen_us > PEEK_AFTER_S * MICROS
                    and (lane is Lane.TRANSACTIONAL or now_us < self._contended_until_us)
                ):
                    # Others may have moved the item: a read costs less than a lost write, and
                    # the item takes more reads than writes. Transactional email always looks
                    # (campaigns leave it new free slots with every block); campaigns look
                    # while other workers wait for the same openings.
                    fresh = True
                    self._set_state(self._table.load(self._name))
                    continue
                current = self._save(plan.state, state.version, now_us)
                if current is None:
                    self._set_state(plan.state)
                    if plan.stripe is not None:
                        self._stripe = plan.stripe
                    if lane is Lane.TRANSACTIONAL:
                        with self._stats_lock:
                            self._unreported_demand -= reported
                    self._pools[lane].give_back(list(plan.slots_us))
                    self._add(reservations=1, reserved=len(plan.slots_us))
                    return _Outcome(reserved=True)
                self._add(conflicts=1)
                if lane is Lane.CAMPAIGN:
                    self._contended_until_us = now_us + int(CONTENDED_S * MICROS)
                fresh = True
                self._set_state(current)
            return _Outcome(False, DenyReason.RATE_LIMITED, self._now_us() + self._jitter_us())
        finally:
            lock.release()

    def _set_state(self, state: LimiterState) -> None:
        with self._state_lock:
            self._state = state
            self._state_seen_us = self._now_us()

    def _save(self, state: LimiterState, expected_version: int, now_us: int) -> LimiterState | None:
        started = self._clock.now()
        current = self._table.save(
            self._name, state, expected_version=expected_version, now_us=now_us
        )
        elapsed_us = (self._clock.now() - started) * MICROS
        self._save_latency_us = 0.8 * self._save_latency_us + 0.2 * elapsed_us
        return current

    def _write_lead_us(self) -> int:
        return int(min(2 * self._save_latency_us, MAX_WRITE_LEAD_S * MICROS))

    def _jitter_us(self) -> int:
        # Spreads workers that wait for the same moment, so that one wins and the rest
        # find the chain moved instead of all colliding.
        return int(self._rng.random() * self._tuning.block_s * MICROS / 2)

    def _deny(self, lane: Lane, plan: Plan, *, own_stripe: bool) -> _Outcome:
        retry_at_us = plan.retry_at_us
        if plan.reason is DenyReason.RATE_LIMITED and lane is Lane.CAMPAIGN:
            retry_at_us += self._jitter_us()
            if own_stripe:  # no top-up before then
                self._not_before_us[lane] = retry_at_us
        return _Outcome(False, plan.reason, retry_at_us)


class Turns(Iterator[float]):
    """Iterates a grant's slots as they come due (see `SendLimiter.pace`)."""

    def __init__(self, limiter: SendLimiter, grant: Grant) -> None:
        self._limiter = limiter
        self._grant = grant
        self._next = 0
        self.sent = 0

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> float:
        slots = self._grant.slots
        while self._next < len(slots):
            slot = slots[self._next]
            self._next += 1
            if self._limiter._wait_for(slot):
                self.sent += 1
                return slot
        raise StopIteration

    def close(self) -> None:
        """Give the unused slots back to the process's pool."""
        rest = self._grant.slots[self._next :]
        self._next = len(self._grant.slots)
        if rest:
            self._limiter._give_back(self._grant.lane, rest)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def tuning_from(settings: LimiterSettings) -> Tuning:
    """The limiter's tuning, from its settings."""
    return Tuning(
        block_s=settings.limiter_block_seconds,
        campaign_lookahead_s=settings.limiter_campaign_lookahead_seconds,
        pacing_tolerance_s=settings.limiter_pacing_tolerance_seconds,
        transactional_headroom=settings.transactional_headroom,
        transactional_max_share=settings.transactional_max_share,
        transactional_half_life_s=settings.transactional_demand_half_life_seconds,
        transactional_quota_reserve_fraction=settings.transactional_quota_reserve_fraction,
        worker_send_rate=settings.limiter_worker_send_rate,
        burst_fraction=settings.limiter_burst_fraction,
    )


def build_send_limiter(
    settings: LimiterSettings,
    table_name: str,
    *,
    clients: AwsClients | None = None,
    dynamodb: DynamoDBClient | None = None,
    store: LimiterStore | None = None,
    ses: Callable[[], SESV2Client] | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> SendLimiter:
    """A limiter on `table_name` (`InfraSettings().rate_limits_table`).

    Clients come from `clients` (an `AwsClients`, built lazily) unless given; SES is only
    asked when a limit is not overridden. `store` replaces the table (tests: an in-memory
    store from `tests.support.limiter_fakes`).
    """
    aws = clients or AwsClients()
    clock = clock or SystemClock()
    return SendLimiter(
        table=store or LimiterTable(dynamodb or aws.client("dynamodb"), table_name),
        name=settings.limiter_name,
        budgets=BudgetSource(settings, ses or (lambda: aws.client("sesv2")), clock),
        tuning=tuning_from(settings),
        clock=clock,
        rng=rng,
    )
