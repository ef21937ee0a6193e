"""Page tokens: sealed by the API, opened only for the list and filters they were sealed for."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from pydantic import TypeAdapter

from ems_scheduler.shared.page_tokens import InvalidPageTokenError, PagedList, PageTokens
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys, UnsubscribeLinks
from tests.unit.scheduler.conftest import UNSUBSCRIBE_KEYS

ADDRESS_KEY = TypeAdapter(tuple[str, str])
NAME = TypeAdapter(str)
SUPPRESSIONS = PagedList("suppressions", {"scope": None, "reason": None})


def _tokens(keys: UnsubscribeKeys = UNSUBSCRIBE_KEYS) -> PageTokens:
    return PageTokens(lambda: keys)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_page_tokens_round_trip_and_refuse_junk() -> None:
    tokens = PageTokens(lambda: UNSUBSCRIBE_KEYS)
    listing = PagedList("suppressions")
    token = tokens.seal(listing, "b@example.com")

    assert tokens.open(listing, token, TypeAdapter(str)) == "b@example.com"
    assert tokens.seal(listing, None) is None
    assert tokens.open(listing, None, TypeAdapter(str)) is None
    with pytest.raises(ValueError, match="page token"):
        tokens.open(listing, "%%%", TypeAdapter(str))


def test_a_token_hides_the_address_it_starts_after() -> None:
    tokens = _tokens()
    token = tokens.seal(SUPPRESSIONS, ("ann@example.com", "all"))
    assert token is not None

    assert b"ann" not in _raw(token)
    assert "ann" not in token
    assert tokens.open(SUPPRESSIONS, token, ADDRESS_KEY) == ("ann@example.com", "all")
    # A fresh nonce each time: the same start never gives the same token.
    assert tokens.seal(SUPPRESSIONS, ("ann@example.com", "all")) != token


@pytest.mark.parametrize(
    "other",
    [
        PagedList("templates"),
        PagedList("suppressions", {"scope": "all", "reason": None}),
        PagedList("suppressions", {"scope": None, "reason": "complaint"}),
        PagedList("suppressions", {"scope": None}),
    ],
)
def test_a_token_opens_only_for_its_own_list_and_filters(other: PagedList) -> None:
    tokens = _tokens()
    token = tokens.seal(SUPPRESSIONS, ("ann@example.com", "all"))

    with pytest.raises(InvalidPageTokenError, match="start again without `page`"):
        tokens.open(other, token, ADDRESS_KEY)


def test_the_filters_order_does_not_matter() -> None:
    tokens = _tokens()
    token = tokens.seal(PagedList("suppressions", {"scope": "all", "reason": "complaint"}), "x")

    reordered = PagedList("suppressions", {"reason": "complaint", "scope": "all"})
    assert tokens.open(reordered, token, NAME) == "x"


def test_a_token_sealed_under_other_keys_is_refused() -> None:
    foreign = _tokens(UnsubscribeKeys({1: b"f" * 32}, 1)).seal(SUPPRESSIONS, "x")

    with pytest.raises(InvalidPageTokenError):
        _tokens().open(SUPPRESSIONS, foreign, NAME)


def test_an_unsubscribe_link_token_is_no_page_token() -> None:
    # Same ring, same layout: the derived key alone keeps the two apart.
    link = UnsubscribeLinks(UNSUBSCRIBE_KEYS, base_url="https://x", max_age_days=400)
    token = link.token("ann@example.com", "c1", "news", today=date(2030, 1, 1))

    with pytest.raises(InvalidPageTokenError):
        _tokens().open(SUPPRESSIONS, token, TypeAdapter(list[object]))


def test_adding_a_key_keeps_tokens_and_removing_it_refuses_them() -> None:
    old = _tokens(UnsubscribeKeys({1: b"a" * 32}, 1)).seal(SUPPRESSIONS, "x")
    new_ring = UnsubscribeKeys({1: b"a" * 32, 2: b"b" * 32}, 2)

    assert _tokens(new_ring).open(SUPPRESSIONS, old, NAME) == "x"
    with pytest.raises(InvalidPageTokenError):
        _tokens(UnsubscribeKeys({2: b"b" * 32}, 2)).open(SUPPRESSIONS, old, NAME)


def test_every_truncation_and_every_flipped_bit_is_refused() -> None:
    tokens = _tokens()
    token = tokens.seal(SUPPRESSIONS, ("ann@example.com", "all"))
    assert token is not None
    raw = _raw(token)

    for length in range(1, len(raw)):  # (an empty `page` is no token: the first page)
        with pytest.raises(InvalidPageTokenError):
            tokens.open(SUPPRESSIONS, _token(raw[:length]), ADDRESS_KEY)
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(InvalidPageTokenError):
            tokens.open(SUPPRESSIONS, _token(bytes(flipped)), ADDRESS_KEY)


def test_a_genuine_token_of_another_shape_is_refused() -> None:
    # e.g. one sealed by an older release whose start key had another form
    tokens = _tokens()
    token = tokens.seal(SUPPRESSIONS, {"after": "ann@example.com"})

    with pytest.raises(InvalidPageTokenError):
        tokens.open(SUPPRESSIONS, token, ADDRESS_KEY)


def test_the_keys_are_read_on_first_use_only() -> None:
    reads: list[int] = []

    def keys() -> UnsubscribeKeys:
        reads.append(1)
        return UNSUBSCRIBE_KEYS

    tokens = PageTokens(keys)
    assert reads == []
    token = tokens.seal(SUPPRESSIONS, "x")
    tokens.open(SUPPRESSIONS, token, NAME)
    assert reads == [1]
