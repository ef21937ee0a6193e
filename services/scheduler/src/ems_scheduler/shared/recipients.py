"""Per-recipient checks: the address SES is given, duplicates, and why a recipient is left out.

Addresses: email-validator is the authority (``check_deliverability=False``). SES takes 7-bit
ASCII addresses only (no SMTPUTF8; an international domain must be sent in Punycode), so
EMS validates with ``allow_smtputf8=False`` and sends email-validator's ``ascii_email``: the
normalized address with the domain in Punycode (for an all-ASCII address, exactly its
``normalized`` form). Display names, quoted local parts and IP-literal domains are refused,
as email-validator does by default.

email-validator takes tens of microseconds an address, most of a million-recipient compile.
``fast_sendable_address`` answers for the plain addresses that make up nearly every list
(ASCII dot-atom local part, lower-case-able ASCII host name with a letters-only top-level
domain) in about a microsecond, and returns None for anything else, which then goes to
email-validator. For every address the fast path accepts it returns exactly what
email-validator returns: tests/unit/scheduler/shared/test_recipients.py checks that with
hypothesis property tests and a corpus of tricky cases (and each condition below, removed or
loosened, makes them fail). Each condition mirrors one email-validator rule:

- local part: RFC 5322 dot-atom of ASCII atext (email-validator's DOT_ATOM_TEXT), returned
  unchanged, except the RFC 2142 role names (info@, postmaster@, ...), lower-cased as it does;
- domain: dot-separated LDH labels without "--" anywhere (so no Punycode "xn--" and no R-LDH
  label, which email-validator decodes or refuses), at least one dot, a top-level domain of
  letters only (it requires one ending in a letter) that is not a special-use name (arpa,
  invalid, local, localhost, onion, test); lower-cased, as its UTS-46 mapping does;
- lengths: at most 63 characters after the @ (so no label or domain is too long) and 254 in
  all (the address length limit; ASCII, so characters are bytes).

What is left goes to ``AddressChecker``, which remembers email-validator's verdict on each
domain for the campaign (an international domain costs it some 200 us an address).
"""

import re
from array import array
from enum import StrEnum
from typing import Final

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

ADDRESS_MAX_LENGTH: Final = 254
_FAST_DOMAIN_MAX_LENGTH: Final = 63
_SPECIAL_USE_TOP_LEVEL: Final = frozenset(
    {"arpa", "invalid", "local", "localhost", "onion", "test"}
)
_ROLE_NAMES: Final = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_ATEXT: Final = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_PLAIN_LOCAL: Final = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_PLAIN_ADDRESS: Final = re.compile(
    rf"(?P<local>[{_ATEXT}]+(?:\.[{_ATEXT}]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+(?P<tld>[A-Za-z]+))"
)


class RejectionReason(StrEnum):
    """Why a recipient was left out of the campaign (the others still go out)."""

    INVALID_ADDRESS = "invalid_address"
    """email-validator refuses the address, or SES could not send to it (non-ASCII local part)."""
    SUPPRESSED = "suppressed"
    """The address is on the suppression list (it bounced or complained before, or an operator
    put it there)."""
    UNSUBSCRIBED = "unsubscribed"
    """The recipient unsubscribed from the segment's list, or from all campaign email."""
    MISSING_FIELDS = "missing_fields"
    """The recipient lacks a field the segment's template (or subject) prints."""
    DUPLICATE = "duplicate"
    """An earlier recipient of the campaign (any segment) has the same address, ignoring case."""


def fast_sendable_address(address: str) -> str | None:
    """The address to send to, if ``address`` is a plain one; None means "ask email-validator".

    Never returns an address email-validator would refuse or normalize differently.
    """
    if len(address) > ADDRESS_MAX_LENGTH:  # first, so the regex's work stays bounded
        return None
    match = _PLAIN_ADDRESS.fullmatch(address)
    if (
        match is None
        or len(match["domain"]) > _FAST_DOMAIN_MAX_LENGTH
        or match["tld"].lower() in _SPECIAL_USE_TOP_LEVEL
    ):
        return None
    local = match["local"]
    if local.lower() in _ROLE_NAMES:
        local = local.lower()
    return f"{local}@{match['domain'].lower()}"


def checked_sendable_address(address: str) -> str:
    """The address to send to, by email-validator; raise EmailNotValidError saying why not."""
    validated = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    if validated.ascii_email is None:  # pragma: no cover - allow_smtputf8=False always sets it
        raise EmailNotValidError("The email address cannot be written in ASCII.")
    return validated.ascii_email


def sendable_address(address: str) -> str:
    """The normalized ASCII address SES is given for ``address``; raise EmailNotValidError."""
    return fast_sendable_address(address) or checked_sendable_address(address)


class AddressChecker:
    """``sendable_address`` for a whole campaign, remembering what it learnt about domains.

    Addresses the fast path leaves over are mostly at a few domains it cannot judge: an
    international one (email-validator's IDNA work takes some 200 us), a Punycode or
    special-use one, or a malformed one repeated down the list. email-validator checks the
    local part and the domain each on its own, then the lengths; so for an address whose local
    part is plain (the fast path's rule) and whose length is within bounds, the domain's
    verdict is cached: email-validator's answer for ``x@<domain>``. What is returned or raised
    stays exactly email-validator's (the tests compare both on generated addresses).
    """

    __slots__ = ("_cache_limit", "_domains")

    def __init__(self, cache_limit: int = 50_000) -> None:
        self._domains: dict[str, tuple[str, str] | EmailNotValidError] = {}
        self._cache_limit = cache_limit

    def sendable(self, address: str) -> str:
        """The normalized ASCII address SES is given for ``address``; raise EmailNotValidError."""
        fast = fast_sendable_address(address)
        if fast is not None:
            return fast
        local, at, domain = address.partition("@")
        if at and len(address.encode()) <= ADDRESS_MAX_LENGTH and _PLAIN_LOCAL.fullmatch(local):
            verdict = self._domain(domain)
            if isinstance(verdict, EmailNotValidError):
                raise type(verdict)(*verdict.args)
            ascii_domain, display_domain = verdict
            if local.lower() in _ROLE_NAMES:
                local = local.lower()
            # email-validator's length rule on the normalized and the ASCII forms (the original
            # form was checked above); past it, let email-validator word the error itself.
            if max(
                len(f"{local}@{display_domain}".encode()), len(local) + 1 + len(ascii_domain)
            ) <= (ADDRESS_MAX_LENGTH):
                return f"{local}@{ascii_domain}"
        return checked_sendable_address(address)

    def _domain(self, domain: str) -> tuple[str, str] | EmailNotValidError:
        verdict = self._domains.get(domain)
        if verdict is None:
            try:
                validated = validate_email(
                    f"x@{domain}", check_deliverability=False, allow_smtputf8=False
                )
                verdict = (validated.ascii_domain, validated.domain)
            except EmailNotValidError as error:
                verdict = error
            if len(self._domains) < self._cache_limit:
                self._domains[domain] = verdict
        return verdict


class SeenAddresses:
    """The addresses already in the campaign, as 64-bit hashes in an open-addressing table.

    8 bytes an address (16 MB for a million at most 2/3 full), where a set of Python strings
    takes about 100 MB and a set of ints 75 MB. Hashes are Python's own str hash (SipHash,
    64 bits, keyed per process, which is fine: the table lives in one process). Two different
    addresses share a hash with probability about n^2 / 2^65: 3 in 100 million for a campaign
    of a million, and then the later one is wrongly rejected as a duplicate.
    """

    __slots__ = ("_count", "_limit", "_mask", "_slots")

    def __init__(self, expected: int = 0) -> None:
        size = 1024
        while size * 2 < expected * 3:
            size *= 2
        self._allocate(size)
        self._count = 0

    def _allocate(self, size: int) -> None:
        self._slots = array("Q", [0]) * size
        self._mask = size - 1
        self._limit = size * 2 // 3

    def __len__(self) -> int:
        return self._count

    def add(self, key: str) -> bool:
        """Remember ``key``; False if it was there already."""
        digest = hash(key) & 0xFFFF_FFFF_FFFF_FFFF or 1  # 0 marks an empty slot
        slots, mask = self._slots, self._mask
        index = digest & mask
        while (found := slots[index]) != 0:
            if found == digest:
                return False
            index = (index + 1) & mask
        slots[index] = digest
        self._count += 1
        if self._count > self._limit:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._allocate(len(old) * 2)
        slots, mask = self._slots, self._mask
        for digest in old:
            if digest:
                index = digest & mask
                while slots[index]:
                    index = (index + 1) & mask
                slots[index] = digest
