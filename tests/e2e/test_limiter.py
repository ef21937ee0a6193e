"""The shared send limiter on the real rate-limits table (DynamoDB Local).

Each `SendLimiter` instance stands for one sender process; each test uses its own limiter
name, so its item is its own (and is deleted at the end).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from ems_common.aws import AwsClients
from ems_common.keys import PARTITION_KEY, TTL_ATTRIBUTE
from ems_common.settings import InfraSettings
from ems_devstack.stack import LocalStackStack
from ems_sender.limiter import (
    DenyReason,
    Lane,
    LimiterSettings,
    SendLimiter,
    build_send_limiter,
)
from ems_sender.limiter.dal import item_key

pytestmark = pytest.mark.e2e

RATE = 30.0


def max_in_window(stamps: list[float], window_s: float = 1.0) -> int:
    """The most timestamps in any half-open window [t, t + window_s)."""
    ordered = sorted(stamps)
    best, first = 0, 0
    for last, stamp in enumerate(ordered):
        while stamp - ordered[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


@pytest.fixture
def limiter_name(aws: AwsClients, settings: InfraSettings) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:10]}"
    yield name
    aws.client("dynamodb").delete_item(
        TableName=settings.rate_limits_table, Key={PARTITION_KEY: {"S": item_key(name)}}
    )


@pytest.fixture
def new_limiter(
    local_stack: LocalStackStack, settings: InfraSettings, limiter_name: str
) -> Callable[..., SendLimiter]:
    """A new limiter on the shared item, as a new sender process would build it."""

    def build(*, rate: float = RATE, quota: int = 1_000_000) -> SendLimiter:
        limiter_settings = LimiterSettings(
            limiter_name=limiter_name,
            send_rate_override=rate,
            daily_quota_override=quota,
            transactional_demand_half_life_seconds=3,
        )
        return build_send_limiter(limiter_settings, settings.rate_limits_table)

    return build


def _send_flat_out(
    limiter: SendLimiter, lane: Lane, until: float, stamps: list[float], lock: threading.Lock
) -> None:
    while time.time() < until:
        grant = limiter.take(lane, max_wait_s=max(0.0, until - time.time()))
        now = time.time()
        if grant and now < until:
            with lock:
                stamps.append(now)


def test_workers_sharing_the_table_stay_within_the_rate_and_each_gets_slots(
    new_limiter: Callable[..., SendLimiter],
    aws: AwsClients,
    settings: InfraSettings,
    limiter_name: str,
) -> None:
    # Given three sender "processes" with two sending threads each, on one limiter
    limiters = [new_limiter() for _ in range(3)]
    stamps: list[float] = []
    lock = threading.Lock()
    seconds = 6.0
    start = time.time() + 0.3
    until = start + seconds
    threads = [
        threading.Thread(target=_send_flat_out, args=(limiter, Lane.CAMPAIGN, until, stamps, lock))
        for limiter in limiters
        for _ in range(2)
    ]
    # When they all send flat out
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then no one-second window holds more than R sends, though there were enough sends for
    # one to (how close together they come to R is a benchmark figure, not asserted here: on 2
    # busy cores it varies; `make bench`, "Send rate, 4 workers: average over the run / R")
    assert len(stamps) > 2 * RATE
    assert max_in_window(stamps) <= RATE
    # And every process was granted slots
    assert all(limiter.stats.slots_granted > 0 for limiter in limiters)
    # And the item, keyed and expiring as the table expects, took few writes
    item = aws.client("dynamodb").get_item(
        TableName=settings.rate_limits_table,
        Key={PARTITION_KEY: {"S": item_key(limiter_name)}},
        ConsistentRead=True,
    )["Item"]
    expires_at = int(item[TTL_ATTRIBUTE]["N"])
    assert time.time() + 24 * 3600 < expires_at < time.time() + 27 * 3600
    writes = sum(limiter.stats.dynamodb_writes for limiter in limiters)
    assert writes / seconds < 15


def test_a_spent_quota_stops_grants_and_says_when_to_retry(
    new_limiter: Callable[..., SendLimiter],
) -> None:
    # Given a daily quota of 25, shared by two senders
    first, second = new_limiter(quota=25), new_limiter(quota=25)
    # When campaigns send all they may: 98 % of it, leaving the rest for transactional email
    campaign_sent = 0
    while grant := first.acquire(Lane.CAMPAIGN, 5, max_wait_s=2):
        campaign_sent += grant.count
    assert campaign_sent == 24
    assert grant.reason is DenyReason.QUOTA_EXHAUSTED
    # Then transactional email still gets the last one, from the other sender
    assert second.acquire(Lane.TRANSACTIONAL, 5, max_wait_s=2).count == 1
    # And after that both lanes are refused at once, told to come back when the oldest sends
    # leave the 24 h window
    for limiter, lane in ((first, Lane.TRANSACTIONAL), (second, Lane.CAMPAIGN)):
        asked = time.monotonic()
        refused = limiter.acquire(lane, 1, max_wait_s=5)
        assert time.monotonic() - asked < 1
        assert refused.reason is DenyReason.QUOTA_EXHAUSTED
        assert 23 * 3600 < refused.retry_after_s <= 25 * 3600


def test_transactional_email_is_served_promptly_while_a_campaign_saturates(
    new_limiter: Callable[..., SendLimiter],
) -> None:
    # Given two campaign senders sending flat out
    campaign = [new_limiter(), new_limiter()]
    transactional = new_limiter()
    stamps: list[float] = []
    lock = threading.Lock()
    until = time.time() + 7
    senders = [
        threading.Thread(target=_send_flat_out, args=(c, Lane.CAMPAIGN, until, stamps, lock))
        for c in campaign
        for _ in range(2)
    ]
    for thread in senders:
        thread.start()
    started = time.time()
    time.sleep(1)  # the campaign has the whole rate
    # When transactional emails arrive, five a second
    waits = []
    while time.time() < until - 0.7:
        asked = time.time()
        grant = transactional.take(Lane.TRANSACTIONAL, max_wait_s=2)
        assert grant, grant
        waits.append(time.time() - asked)
        with lock:
            stamps.append(time.time())
        time.sleep(max(0.0, asked + 0.2 - time.time()))
    for thread in senders:
        thread.join()
    # Then each is sent within the campaign lookahead (0.5 s): never behind the campaign's
    # backlog, only behind the slots it already holds
    assert max(waits) < 0.65, waits
    # And the campaign used the rest: together they still reach the rate, and stay within it
    assert len(stamps) / (until - started) >= 0.85 * RATE
    assert max_in_window(stamps) <= RATE
