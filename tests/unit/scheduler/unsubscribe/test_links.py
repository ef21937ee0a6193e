"""Unsubscribe links: they open to what they were made for, and to nothing else."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest

from ems_scheduler.shared.unsubscribe_links import (
    InvalidLinkError,
    UnsubscribeKeys,
    UnsubscribeLinks,
)

TODAY = date(2026, 12, 6)
ANN = "Ann.Lee@Example.org"


def _links(keys: UnsubscribeKeys | None = None, max_age_days: int = 400) -> UnsubscribeLinks:
    return UnsubscribeLinks(
        keys or UnsubscribeKeys({7: b"k" * 32}, 7),
        base_url="https://api.example.com/",
        max_age_days=max_age_days,
    )


def _flip(token: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_a_link_opens_to_its_recipient_campaign_and_list() -> None:
    links = _links()
    url = links.url(ANN, "spring-sale", "customers", TODAY)
    assert url.startswith("https://api.example.com/u/")
    target = links.open(url.removeprefix("https://api.example.com/u/"), TODAY)
    assert (target.address, target.campaign_id, target.list_name) == (
        "ann.lee@example.org",
        "spring-sale",
        "customers",
    )
    assert target.made_on == TODAY


def test_the_address_is_not_readable_in_the_link() -> None:
    token = _links().token(ANN, "spring-sale", "customers", TODAY)
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ann.lee" not in decoded.lower()
    assert "ann" not in token.lower()
    # And two links to the same recipient differ (a fresh nonce each)
    assert token != _links().token(ANN, "spring-sale", "customers", TODAY)


@pytest.mark.parametrize("at", [0, 1, 5, 20, -1])
def test_a_changed_byte_anywhere_opens_to_nothing(at: int) -> None:
    token = _links().token(ANN, "spring-sale", "customers", TODAY)
    with pytest.raises(InvalidLinkError):
        _links().open(_flip(token, at), TODAY)


@pytest.mark.parametrize(
    "token",
    ["", "x", "not base64 !!", "AAAA", "A" * 200, "%2F..%2F", "AQc" + "A" * 40],
)
def test_garbage_opens_to_nothing(token: str) -> None:
    with pytest.raises(InvalidLinkError):
        _links().open(token, TODAY)


def test_a_truncated_link_opens_to_nothing() -> None:
    token = _links().token(ANN, "spring-sale", "customers", TODAY)
    for length in (len(token) - 1, len(token) - 10, 20):
        with pytest.raises(InvalidLinkError):
            _links().open(token[:length], TODAY)


def test_a_link_sealed_with_another_key_opens_to_nothing() -> None:
    forged = _links(UnsubscribeKeys({7: b"x" * 32}, 7)).token(ANN, "c", "l", TODAY)
    with pytest.raises(InvalidLinkError):
        _links().open(forged, TODAY)


def test_links_of_an_older_key_still_open_after_a_new_key_is_added() -> None:
    old = _links(UnsubscribeKeys({7: b"k" * 32}, 7)).token(ANN, "c", "l", TODAY)
    rotated = _links(UnsubscribeKeys({7: b"k" * 32, 8: b"n" * 32}, 8))
    assert rotated.open(old, TODAY).list_name == "l"
    assert rotated.token(ANN, "c", "l", TODAY) != old


def test_a_link_is_valid_for_its_age_limit_and_no_longer() -> None:
    token = _links().token(ANN, "c", "l", TODAY)
    assert _links().open(token, TODAY + timedelta(days=400)).campaign_id == "c"
    with pytest.raises(InvalidLinkError):
        _links().open(token, TODAY + timedelta(days=401))
    with pytest.raises(InvalidLinkError):  # from the future: not one EMS made
        _links().open(token, TODAY - timedelta(days=1))


def test_a_key_ring_survives_storage_and_refuses_what_is_not_one() -> None:
    ring = UnsubscribeKeys.generate()
    assert UnsubscribeKeys.from_json(ring.to_json()) == ring
    for text in (
        "",
        "{}",
        '{"current": 2, "keys": {"1": "AAAA"}}',
        '{"current": 1, "keys": {"1": "!"}}',
    ):
        with pytest.raises(ValueError, match="unsubscribe keys"):
            UnsubscribeKeys.from_json(text)
