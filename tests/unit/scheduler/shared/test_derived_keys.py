"""Keys derived from the unsubscribe ring: one per purpose and ring key, stable across releases."""

from __future__ import annotations

from pydantic import TypeAdapter

from ems_scheduler.shared.derived_keys import KeyPurpose, derive_keys
from ems_scheduler.shared.page_tokens import PagedList, PageTokens
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

RING = UnsubscribeKeys({1: b"a" * 32, 2: b"b" * 32}, 2)
# Sealed by the release before page tokens, the console's session and its CSRF tokens shared
# one derivation (`shared.derived_keys`): a client's token must still open after the upgrade.
EARLIER_SUPPRESSIONS_TOKEN = (
    "AQJyZBByJg5nsho34_bzIPmVsweZmXgTl647FBz6zCcakT_c54ptg9Ol6WdmMs3QRtx0L0a3Kw"
)
EARLIER_TEMPLATES_TOKEN = "AQGQeZdynARs4aK45t7Oleg6_xxiTf47XG7TTL-TR4oNHysAGlvh"


def test_each_purpose_gets_its_own_key_from_each_ring_key_the_current_last() -> None:
    derived = {purpose: derive_keys(RING, purpose) for purpose in KeyPurpose}

    for keys in derived.values():
        assert list(keys) == [1, 2]  # the older first, the current (signing) one last
        assert all(len(key) == 32 for key in keys.values())
    every_key = [key for keys in derived.values() for key in keys.values()]
    assert len(set(every_key)) == len(KeyPurpose) * 2
    assert not set(every_key) & set(RING.keys.values())  # never a ring key itself


def test_a_page_token_sealed_before_the_shared_derivation_still_opens() -> None:
    tokens = PageTokens(lambda: RING)
    suppressions = PagedList("suppressions", {"scope": "all", "reason": None})

    start = tokens.open(suppressions, EARLIER_SUPPRESSIONS_TOKEN, TypeAdapter(tuple[str, str]))
    templates = PageTokens(lambda: UnsubscribeKeys({1: b"a" * 32}, 1)).open(
        PagedList("templates"), EARLIER_TEMPLATES_TOKEN, TypeAdapter(str)
    )

    assert start == ("ann@example.com", "all")
    assert templates == "receipt"
