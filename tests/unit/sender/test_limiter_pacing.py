"""`SendLimiter` on a manual clock and an in-memory store: pools, pacing, lanes, quota.

Two limiters on one store stand for two sender processes sharing the DynamoDB item.
"""

from __future__ import annotations

import itertools
import random

import pytest

from ems_sender.limiter import (
    DenyReason,
    Lane,
    LimiterSettings,
    SendLimiter,
    build_send_limiter,
    tuning_from,
)
from ems_sender.limiter.limiter import MAX_WRITE_LEAD_S
from ems_sender.limiter.logic import block_size, grid_spacing_us
from tests.support.limiter_fakes import InMemoryLimiterStore, ManualClock

RATE = 40.0
# The grid's spacing at RATE with the default settings (room for bursts made): one stripe.
SPACING_S = grid_spacing_us(RATE, tuning_from(LimiterSettings(limiter_worker_send_rate=1000))) / 1e6
LOOKAHEAD_S = LimiterSettings.model_fields["limiter_campaign_lookahead_seconds"].default


def _limiter(
    store: InMemoryLimiterStore,
    clock: ManualClock,
    *,
    quota: int = 1_000_000,
    name: str = "t",
    half_life_s: float = 30,
    worker_rate: float = 1000,
    lookahead_s: float = LOOKAHEAD_S,
) -> SendLimiter:
    settings = LimiterSettings(
        limiter_campaign_lookahead_seconds=lookahead_s,
        limiter_name=name,
        send_rate_override=RATE,
        daily_quota_override=quota,
        transactional_demand_half_life_seconds=half_life_s,
        limiter_worker_send_rate=worker_rate,  # one stripe unless a test says otherwise
    )
    return build_send_limiter(
        settings,
        "unused-table",
        store=store,
        clock=clock,
        rng=random.Random(7),
    )


@pytest.fixture
def store() -> InMemoryLimiterStore:
    return InMemoryLimiterStore()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_a_campaign_takes_a_block_and_hands_it_out_without_more_requests(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock, lookahead_s=0.5)  # blocks of 9 at R = 40
    first = limiter.acquire(Lane.CAMPAIGN, 2, max_wait_s=1)
    # From when the reservation's write is expected back (a few ms), one spacing apart
    assert 0 < first.slots[0] - clock.now() <= MAX_WRITE_LEAD_S
    assert first.slots[1] == pytest.approx(first.slots[0] + SPACING_S, abs=1e-6)
    requests = store.requests
    second = limiter.acquire(Lane.CAMPAIGN, 2, max_wait_s=1)
    assert second.slots[0] == pytest.approx(first.slots[-1] + SPACING_S, abs=1e-6)
    assert store.requests == requests  # from the process's pool
    assert limiter.stats.slots_reserved == block_size(RATE, limiter.tuning)


def test_a_campaign_worker_reserves_no_more_than_it_said_it_has_left_to_send(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    # Given a worker with 3 emails left to send (less than a block) and another worker
    a, b = _limiter(store, clock), _limiter(store, clock)
    assert block_size(RATE, a.tuning) > 3
    a.expect(Lane.CAMPAIGN, 3)

    # When it sends 2 of them, then the other worker asks for slots
    first = a.acquire(Lane.CAMPAIGN, 2, max_wait_s=1)
    writes = store.requests
    last = a.acquire(Lane.CAMPAIGN, 1, max_wait_s=1)
    a_writes = store.requests - writes
    other = b.acquire(Lane.CAMPAIGN, 2, max_wait_s=1)

    # Then the first reserved 3 slots, no top-up for its last email, and the other worker's
    # slots follow at once: none reserved beyond the first worker's work lapse between them
    assert a.stats.slots_reserved == 3
    assert a_writes == 0
    assert last.slots[0] == pytest.approx(first.slots[-1] + SPACING_S, abs=1e-6)
    assert other.slots[0] - last.slots[0] <= SPACING_S + MAX_WRITE_LEAD_S


def test_pace_yields_each_slot_when_it_is_due(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock)
    grant = limiter.acquire(Lane.CAMPAIGN, 5, max_wait_s=1)
    seen = []
    with limiter.pace(grant) as turns:
        for slot in turns:
            seen.append((slot, clock.now()))
    assert [s for s, _ in seen] == list(grant.slots)
    assert all(now == slot for slot, now in seen)  # not a moment early


def test_pace_skips_a_slot_the_caller_is_too_late_for(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock)
    grant = limiter.acquire(Lane.CAMPAIGN, 3, max_wait_s=1)
    sent = []
    with limiter.pace(grant) as turns:
        for slot in turns:
            sent.append(slot)
            clock.advance(0.045)  # an SES call slower than the spacing plus the tolerance
    # slot 0 sent; slot 1 was 20 ms late (more than the 15 ms allowed): skipped; slot 2 on time
    assert sent == [grant.slots[0], grant.slots[2]]
    assert limiter.stats.slots_forfeited == 1


def test_slots_left_when_a_loop_stops_early_go_back_to_the_pool(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock)
    grant = limiter.acquire(Lane.CAMPAIGN, 5, max_wait_s=1)
    with limiter.pace(grant) as turns:
        next(turns)
    again = limiter.acquire(Lane.CAMPAIGN, 4, max_wait_s=1)
    assert again.slots == grant.slots[1:]


def test_a_campaign_worker_takes_its_next_block_before_the_pool_runs_dry(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock)
    block = block_size(RATE, limiter.tuning)
    sent = []
    for _ in range(3 * block):
        grant = limiter.take(Lane.CAMPAIGN, max_wait_s=1)
        assert grant
        sent.append(clock.now())
    # Three blocks' worth sent back to back, one spacing apart, none lost between blocks
    assert len(sent) == 3 * block
    assert limiter.stats.slots_forfeited == 0
    assert sent[-1] == pytest.approx(sent[0] + (3 * block - 1) * SPACING_S, abs=1e-6)


def test_a_second_worker_waits_for_the_lookahead_then_continues_the_chain(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    a, b = _limiter(store, clock), _limiter(store, clock)
    start = clock.now()
    # Worker A holds the chain the lookahead ahead (two blocks)
    a.acquire(Lane.CAMPAIGN, 1, max_wait_s=1)
    a.acquire(Lane.CAMPAIGN, 20, max_wait_s=1)
    while len(a._pools[Lane.CAMPAIGN]) < 9:  # top up to the lookahead
        a._reserve(Lane.CAMPAIGN, 9, latest_first_us=None, blocking=False)
        if store.peek("t").stripes_next_us[0] > (start + LOOKAHEAD_S) * 1e6:
            break
    chain_end = store.peek("t").stripes_next_us[0] / 1e6
    # B may not wait: told when to come back
    refused = b.acquire(Lane.CAMPAIGN, 5, max_wait_s=0)
    assert refused.reason is DenyReason.RATE_LIMITED
    assert refused.retry_after_s > 0
    # B may wait: it sleeps until the chain is within the lookahead and takes the next slots
    granted = b.acquire(Lane.CAMPAIGN, 5, max_wait_s=2)
    assert granted.slots[0] == pytest.approx(chain_end, abs=1e-6)
    assert granted.slots[0] - clock.now() <= LOOKAHEAD_S + 1e-6
    # Its cached item was stale: one lost race (a write that returned the item as it is)
    assert b.stats.conflicts == 1
    # While contended, B reads the item before writing instead of losing more writes
    clock.advance(0.3)
    version = store.peek("t").version
    a._reserve(Lane.CAMPAIGN, 9, latest_first_us=None, blocking=False)
    assert store.peek("t").version == version + 1  # A moved the chain: B's copy is stale
    reads = store.reads
    b.acquire(Lane.CAMPAIGN, 4, max_wait_s=2)  # the rest of its block
    assert b.acquire(Lane.CAMPAIGN, 5, max_wait_s=2)
    assert b.stats.conflicts == 1
    assert store.reads > reads


def test_transactional_email_gets_a_slot_within_the_lookahead_while_a_campaign_saturates(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    campaign = _limiter(store, clock, half_life_s=2)
    transactional = _limiter(store, clock, half_life_s=2)
    waits = []
    campaign_sent = 0
    for i in range(800):  # 20 s of a campaign sending flat out, a transactional email in 5
        if i % 5 == 0:
            asked = clock.now()
            grant = transactional.acquire(Lane.TRANSACTIONAL, 1, max_wait_s=1)
            assert grant
            waits.append(grant.slots[0] - asked)
        elif campaign.take(Lane.CAMPAIGN, max_wait_s=2):
            campaign_sent += 1
    # Never behind more than the campaign lookahead
    assert max(waits) <= LOOKAHEAD_S + SPACING_S
    # Once the demand is known, campaigns leave free slots and transactional waits shrink
    early, late = waits[:5], waits[-40:]
    assert sum(late) / len(late) < 0.5 * sum(early) / len(early)
    assert store.peek("t").transactional_rate > 3


def test_a_spent_quota_answers_at_once_with_when_to_retry(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    limiter = _limiter(store, clock, quota=20)
    taken = 0
    while grant := limiter.acquire(Lane.TRANSACTIONAL, 5, max_wait_s=5):
        taken += grant.count
    assert taken == 20
    assert grant.reason is DenyReason.QUOTA_EXHAUSTED
    assert 24 * 3600 <= grant.retry_after_s <= 25 * 3600
    # Campaigns stop at 98 % of the quota, before transactional email
    campaign = limiter.acquire(Lane.CAMPAIGN, 1, max_wait_s=5)
    assert campaign.reason is DenyReason.QUOTA_EXHAUSTED
    assert clock.slept < 1  # never slept on the quota


def test_transactional_refusal_looks_at_the_item_again_before_it_is_final(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    campaign, transactional = _limiter(store, clock), _limiter(store, clock)
    transactional.acquire(Lane.TRANSACTIONAL, 1, max_wait_s=0)  # learns demand, caches item
    clock.advance(0.1)
    campaign.acquire(Lane.CAMPAIGN, 1, max_wait_s=0)  # the chain moves ahead
    # The transactional process's cached item is stale; the real one may hold free slots
    grant = transactional.acquire(Lane.TRANSACTIONAL, 1, max_wait_s=0.5)
    assert grant
    assert grant.slots[0] >= clock.now()


def test_wanted_must_be_positive(store: InMemoryLimiterStore, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="wanted must be at least 1"):
        _limiter(store, clock).acquire(Lane.CAMPAIGN, 0)


def test_with_stripes_each_worker_sends_its_share_at_its_own_pace(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    # Given workers that send 20/s each at R = 40: two stripes
    a = _limiter(store, clock, worker_rate=20)
    b = _limiter(store, clock, worker_rate=20)
    start = clock.now()
    sent: dict[str, list[float]] = {"a": [], "b": []}
    # When both take slots in turn for two seconds
    while clock.now() < start + 2:
        for name, limiter in (("a", a), ("b", b)):
            grant = limiter.acquire(Lane.CAMPAIGN, 1, max_wait_s=1)
            if grant:
                sent[name].append(grant.slots[0])
        clock.sleep(min(s[-1] for s in sent.values() if s) - clock.now())
    # Then each worker's own slots come no faster than 20/s (every other slot of the grid)
    spacing_s = grid_spacing_us(RATE, a.tuning) / 1e6
    for slots in sent.values():
        gaps = [b - a for a, b in itertools.pairwise(slots)]
        assert min(gaps) >= 2 * spacing_s - 1e-6
    # And together they use the whole grid
    together = sorted(sent["a"] + sent["b"])
    assert len(together) >= 0.95 * 2 * 39.2


def test_limiters_with_different_names_do_not_share(
    store: InMemoryLimiterStore, clock: ManualClock
) -> None:
    a, b = _limiter(store, clock, name="a"), _limiter(store, clock, name="b")
    first_a = a.acquire(Lane.CAMPAIGN, 1, max_wait_s=0)
    first_b = b.acquire(Lane.CAMPAIGN, 1, max_wait_s=0)
    assert first_a.slots == first_b.slots
