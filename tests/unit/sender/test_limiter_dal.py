"""The limiter item's encoding: the state survives a round trip through DynamoDB's format."""

from __future__ import annotations

from types import MappingProxyType

from ems_common.keys import PARTITION_KEY, TTL_ATTRIBUTE
from ems_sender.limiter.dal import ITEM_TTL_S, from_item, item_key, to_item
from ems_sender.limiter.model import MICROS, LimiterState


def test_the_state_round_trips_through_the_item() -> None:
    state = LimiterState(
        version=42,
        spacing_us=25_500,
        stripes_next_us=(1_800_000_000_102_000, 1_800_000_000_127_500),
        transactional_slots_us=(1_800_000_000_100_000, 1_800_000_000_125_500),
        transactional_rate=3.25,
        transactional_rate_at_us=1_799_999_999_000_000,
        sent_by_hour=MappingProxyType({1_799_996_400: 7, 1_800_000_000: 3}),
    )
    now_us = 1_800_000_000 * MICROS
    item = to_item("sender", state, now_us)
    assert item[PARTITION_KEY] == {"S": "send-limiter#sender"}
    # The item outlives its last write by the quota window, then DynamoDB may drop it
    assert item[TTL_ATTRIBUTE] == {"N": str(1_800_000_000 + ITEM_TTL_S)}
    assert from_item(item) == state


def test_an_idle_state_round_trips_too() -> None:
    assert from_item(to_item("x", LimiterState(version=1), 0)) == LimiterState(version=1)


def test_each_limiter_name_has_its_own_item() -> None:
    assert item_key("sender") != item_key("e2e-1234")
