"""Addresses: the fast path is email-validator's answer, faster; the duplicate table."""

import string
from collections.abc import Callable

import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ems_scheduler.shared.recipients import (
    AddressChecker,
    SeenAddresses,
    checked_sendable_address,
    fast_sendable_address,
    sendable_address,
)


def authority(address: str) -> str | None:
    """What email-validator sends for ``address`` (its ASCII form), or None if it refuses it."""
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError:
        return None


def assert_fast_path_agrees(address: str) -> None:
    fast = fast_sendable_address(address)
    if fast is not None:
        assert authority(address) == fast, address


# Characters around every rule's edge: atext, dots, hyphens, specials, case, digits, and
# non-ASCII look-alikes, combining marks, spaces and controls.
_ATEXT_SPECIALS = "!#$%&'*+/=?^_`{|}~-"
_EDGE = (
    string.ascii_letters[:6]
    + "XYZxyz019"
    + _ATEXT_SPECIALS
    + ".@-"
    + ' "\\<>[](),;:'
    + "éßİKﬀ\uff20\uff0e。\u0301\u200b\u00a0\t\n\x00"  # full-width @ and .
)
_LOCAL_WORD = st.text(
    alphabet=string.ascii_letters + string.digits + _ATEXT_SPECIALS, min_size=1
) | st.text(alphabet='aZ9.-_ "\\@éß', min_size=1, max_size=6)
_LABEL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?", fullmatch=True) | (
    # around the 63-character label limit
    st.integers(58, 66).map(lambda length: "l" * length)
    # and with characters a host name may not hold, or only in some places
    | st.text(alphabet="aZ9-_.éK\u0301", min_size=1, max_size=6)
)
_TLD = st.sampled_from(
    [
        *("com", "ORG", "Net", "io", "c", "museum"),
        *("test", "local", "localhost", "onion", "arpa", "invalid"),
        *("xn--p1ai", "c0m", "co1", "a-b"),
    ]
)
_ROLE = st.sampled_from(["info", "INFO", "Postmaster", "sales", "www", "abuse", "noc", "ann"])


@st.composite
def plausible_addresses(draw: st.DrawFn) -> str:
    """Addresses shaped like real ones, with an occasional twist."""
    words = draw(st.lists(_LOCAL_WORD | _ROLE, min_size=1, max_size=4))
    local = ".".join(words)
    labels = draw(st.lists(_LABEL, min_size=1, max_size=4))
    domain = ".".join([*labels, draw(_TLD)])
    address = f"{local}@{domain}"
    twist = draw(st.integers(0, 9))
    if twist == 0:
        position = draw(st.integers(0, len(address)))
        address = address[:position] + draw(st.sampled_from(_EDGE)) + address[position:]
    elif twist == 1:
        address = address.upper()
    elif twist == 2:
        address = draw(st.sampled_from(["a" * 230, "b" * 64, "c" * 65])) + "." + address
    return address


@settings(max_examples=3000, deadline=None)
@given(plausible_addresses())
def test_fast_path_agrees_with_email_validator_on_plausible_addresses(address: str) -> None:
    assert_fast_path_agrees(address)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_EDGE, max_size=40))
@example("a@b.co")
@example("a@b.co\n")
def test_fast_path_agrees_with_email_validator_on_any_text(address: str) -> None:
    assert_fast_path_agrees(address)


_LABEL_63 = "d" * 63
CORPUS = [
    # plain, case, tags, quotes in atext
    "ann@example.com",
    "Ann.Lee@Example.COM",
    "user+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "{weird}|~#$%&*=?^`@example.com",
    "_under@example.com",
    "-dash@example.com",
    "a@b.c",
    "a@123.example.com",
    "a@1-2.example.museum",
    # RFC 2142 role names, which email-validator lower-cases
    "INFO@Example.com",
    "Postmaster@example.org",
    "info.desk@example.org",
    # dots
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example..com",
    "a@.example.com",
    "a@example.com.",
    # hyphens and host-name rules
    "a@-example.com",
    "a@example-.com",
    "a@ex--ample.com",
    "a@xn--bcher-kva.com",
    "a@XN--BCHER-KVA.com",
    "a@example.xn--p1ai",
    "a@ex_ample.com",
    "a@example.c0m",
    "a@example.com-",
    # no dot, special-use names
    "a@localhost",
    "a@example",
    "a@example.test",
    "a@example.local",
    "a@example.onion",
    "a@1.in-addr.arpa",
    "a@example.invalid",
    "a@Example.TEST",
    # forms email-validator refuses by default
    '"ann lee"@example.com',
    "ann lee@example.com",
    "Ann <ann@example.com>",
    "a@[192.0.2.1]",
    "a@[IPv6:2001:db8::1]",
    # whitespace and controls
    "ann@example.com\n",
    " ann@example.com",
    "ann@example.com ",
    "ann@exa\tmple.com",
    "ann\x00@example.com",
    # international: local part needs SMTPUTF8 (refused), domain goes to Punycode
    "zoë@example.com",
    "ann@exämple.com",
    "ann@bücher.de",
    "ann@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",  # full-width EXAMPLE
    "ann\uff20example.com",  # full-width @
    "ann@example。com",
    "ann@e\u0301xample.com",
    "ann@\u200bexample.com",
    # lengths: the domain, a label, the whole address
    f"a@{_LABEL_63}.com",
    f"a@{'d' * 64}.com",
    f"a@{_LABEL_63}.{_LABEL_63}.{_LABEL_63}.com",
    f"a@{_LABEL_63}.{_LABEL_63}.{_LABEL_63}.{'d' * 62}",
    f"{'l' * 64}@example.com",
    f"{'l' * 65}@example.com",
    f"{'l' * 242}@example.com",
    f"{'l' * 243}@example.com",
    "",
    "@",
    "a@",
    "@example.com",
    "a@b@example.com",
]


@pytest.mark.parametrize("address", CORPUS)
def test_fast_path_agrees_with_email_validator_on_the_corpus(address: str) -> None:
    assert_fast_path_agrees(address)


@pytest.mark.parametrize(
    ("address", "sent"),
    [
        ("Ann.Lee@Example.COM", "Ann.Lee@example.com"),
        ("INFO@Example.com", "info@example.com"),
        ("user+tag@sub.example.co.uk", "user+tag@sub.example.co.uk"),
        (f"{'l' * 242}@example.com", f"{'l' * 242}@example.com"),
    ],
)
def test_fast_path_takes_plain_addresses(address: str, sent: str) -> None:
    assert fast_sendable_address(address) == sent
    assert authority(address) == sent


@pytest.mark.parametrize(
    "address",
    ["ann@bücher.de", "a@xn--bcher-kva.com", "a@example.test", f"{'l' * 243}@example.com"],
)
def test_fast_path_leaves_the_rest_to_email_validator(address: str) -> None:
    assert fast_sendable_address(address) is None


def test_international_domains_are_sent_in_punycode() -> None:
    # SES takes 7-bit ASCII only: the domain goes in Punycode, whichever way it was written.
    assert sendable_address("Ann@Bücher.de") == "Ann@xn--bcher-kva.de"
    assert sendable_address("Ann@xn--bcher-kva.de") == "Ann@xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("zoë@example.com", "Internationalized characters before the @-sign"),
        ("ann@example", "It should have a period"),
        ("Ann <ann@example.com>", "display name"),
        ("not an address", "must have an @-sign"),
    ],
)
def test_email_validator_says_why_an_address_is_refused(address: str, reason: str) -> None:
    with pytest.raises(EmailNotValidError, match=reason):
        sendable_address(address)
    with pytest.raises(EmailNotValidError):
        checked_sendable_address(address)


def test_seen_addresses_tells_repeats_and_grows() -> None:
    seen = SeenAddresses(expected=10)
    addresses = [f"user{index}@example.com" for index in range(5000)]

    assert all(seen.add(address) for address in addresses)
    assert not any(seen.add(address) for address in addresses)
    assert len(seen) == 5000
    assert seen.add("another@example.com")


def test_seen_addresses_sized_for_the_expected_count_does_not_grow() -> None:
    seen = SeenAddresses(expected=100_000)
    size = len(seen._slots)

    for index in range(100_000):
        seen.add(str(index))

    assert len(seen._slots) == size
    assert size * 8 <= 4 * 1024 * 1024  # 8 bytes a slot, at most 2/3 full


# --- the campaign's checker: fast path, then email-validator with domains remembered ----------


def outcome(check: Callable[[str], str], address: str) -> tuple[str, str]:
    """("ok", address sent) or (error class, message): what a check answers, in full."""
    try:
        return ("ok", check(address))
    except EmailNotValidError as error:
        return (type(error).__name__, str(error))


def authority_outcome(address: str) -> tuple[str, str]:
    return outcome(checked_sendable_address, address)


_DOMAIN_CHARACTERS = "abcXYZ019-._" + "äöüßéİKﬀ\u0301\u200b\uff0e。" + "@[]<> "
_DOMAINS = st.sampled_from(
    [
        "bücher.de",
        "BÜCHER.de",
        "xn--bcher-kva.de",
        "xn--bcher-kva.DE",
        "xn--bcher.de",
        "ex--ample.com",
        "example",
        "example.test",
        "Example.COM",
        "例え.テスト",
        "例え.jp",
        "\uff25xample.com",
        "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",  # full-width, 3 bytes each
        # Punycode shorter than the UTF-8 of the name it stands for
        idna.encode("ä" * 20 + ".de").decode(),
        idna.encode("例" * 15 + ".jp").decode(),
        "example。com",
        "[192.0.2.1]",
        "münchen.xn--p1ai",
        "d" * 64 + ".com",
        "ü" * 60 + ".de",
        ("ä" * 20 + ".") * 11 + "de",
    ]
) | st.text(alphabet=_DOMAIN_CHARACTERS, min_size=1, max_size=24)


@st.composite
def addresses_for_the_checker(draw: st.DrawFn) -> str:
    local = draw(
        _LOCAL_WORD
        | _ROLE
        | st.sampled_from(["a.b", "zoë", '"q"'])
        # near the 254-byte limit, where the domain's forms differ in length
        | st.integers(200, 250).map(lambda length: "l" * length)
    )
    return f"{local}@{draw(_DOMAINS)}"


@settings(max_examples=3000, deadline=None)
@given(st.lists(addresses_for_the_checker(), min_size=1, max_size=4))
def test_the_checker_answers_exactly_as_email_validator(addresses: list[str]) -> None:
    checker = AddressChecker()
    for address in addresses * 2:  # the second time from what it remembers
        assert outcome(checker.sendable, address) == authority_outcome(address), address


@pytest.mark.parametrize("address", CORPUS)
def test_the_checker_agrees_with_email_validator_on_the_corpus(address: str) -> None:
    checker = AddressChecker()
    assert outcome(checker.sendable, address) == authority_outcome(address)
    assert outcome(checker.sendable, address) == authority_outcome(address)


def test_the_checker_remembers_domains_up_to_its_limit() -> None:
    checker = AddressChecker(cache_limit=2)

    assert checker.sendable("Ann@bücher.de") == "Ann@xn--bcher-kva.de"
    assert checker.sendable("INFO@bücher.de") == "info@xn--bcher-kva.de"
    with pytest.raises(EmailNotValidError, match="It should have a period"):
        checker.sendable("ann@example")
    assert checker.sendable("cy@münchen.de") == "cy@xn--mnchen-3ya.de"

    assert list(checker._domains) == ["bücher.de", "example"]
