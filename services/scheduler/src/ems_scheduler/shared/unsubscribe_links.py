"""Unsubscribe links: whom, which campaign and which list a link is for, sealed in its URL.

A link is `<public API URL>/u/<token>`. The token is the recipient's address, the campaign id,
the list name and the day it was made, encrypted and authenticated with AES-GCM under a key EMS
keeps (`UnsubscribeKeys`): proxies and API Gateway's access logs keep URLs, so the address must
not be readable in one, and nobody but EMS can make a link that unsubscribes someone. A garbled,
forged (another key), re-signed or too old token opens to nothing (`InvalidLinkError`), which the
endpoint answers with a 4xx page that reveals nothing.

Layout (then base64url without padding): version (1 byte) | key id (1 byte) | nonce (12 bytes) |
ciphertext of the JSON `[address, campaign_id, list_name, day]` with its 16-byte tag. The
version and key id are authenticated too (associated data), so a new key can be added while the
links made with the old one still open (`UnsubscribeKeys.current` makes, every key opens).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Self

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, ValidationError

TOKEN_VERSION: Final = 1
KEY_BYTES: Final = 32  # AES-256
_NONCE_BYTES: Final = 12
_HEADER_BYTES: Final = 2
_TAG_BYTES: Final = 16
_EPOCH: Final = date(1970, 1, 1)
UNSUBSCRIBE_PATH: Final = "/u/"
UNSUBSCRIBE_URL_FIELD: Final = "unsubscribe_url"
"""The template field EMS fills with the recipient's link (`{{unsubscribe_url}}`)."""
LIST_UNSUBSCRIBE: Final = "List-Unsubscribe"
LIST_UNSUBSCRIBE_POST: Final = "List-Unsubscribe-Post"
ONE_CLICK_POST: Final = "List-Unsubscribe=One-Click"
"""The List-Unsubscribe-Post header's value RFC 8058 prescribes, and the body mail clients POST."""


def list_unsubscribe_value(url: str, mailto: str | None = None) -> str:
    """The List-Unsubscribe header's value (RFC 2369): the https link, then a mailto if any."""
    return f"<{url}>" if mailto is None else f"<{url}>, <{mailto}>"


UNSUBSCRIBE_HEADER_NAMES: Final = frozenset({LIST_UNSUBSCRIBE, LIST_UNSUBSCRIBE_POST})
"""Headers EMS writes itself on list mail: a caller's own of these names are dropped."""


def unsubscribe_headers(list_unsubscribe: str) -> list[tuple[str, str]]:
    """The two headers of RFC 8058's one-click unsubscribe, given the List-Unsubscribe value
    (`list_unsubscribe_value`, or the second item of `UnsubscribeLinks.link`)."""
    return [(LIST_UNSUBSCRIBE, list_unsubscribe), (LIST_UNSUBSCRIBE_POST, ONE_CLICK_POST)]


class InvalidLinkError(ValueError):
    """The token is no link EMS made, or it is too old: nothing is revealed about why."""


class KeyRing(BaseModel):
    """The stored form of the keys: `{"current": 2, "keys": {"1": "<base64>", "2": "..."}}`."""

    model_config = ConfigDict(frozen=True)

    current: int = Field(ge=0, le=255)
    keys: dict[int, str] = Field(min_length=1)


@dataclass(frozen=True)
class UnsubscribeKeys:
    """The AES keys by id; `current` makes new links."""

    keys: dict[int, bytes]
    current: int

    @classmethod
    def generate(cls) -> Self:
        """A ring of one fresh key (EMS makes the first key itself: see `docs/deploy.md`)."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Read a stored ring; ValueError saying what is wrong with it."""
        try:
            ring = KeyRing.model_validate_json(text)
            keys = {
                key_id: base64.b64decode(value, validate=True)
                for key_id, value in ring.keys.items()
            }
        except (ValidationError, binascii.Error, ValueError) as error:
            msg = (
                "the unsubscribe keys are not a JSON object like"
                ' {"current": 1, "keys": {"1": "<32 bytes in base64>"}}'
            )
            raise ValueError(msg) from error
        if ring.current not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            msg = f"the unsubscribe keys need the current key, and every key {KEY_BYTES} bytes long"
            raise ValueError(msg)
        return cls(keys, ring.current)

    def to_json(self) -> str:
        """The stored form."""
        ring = KeyRing(
            current=self.current,
            keys={key_id: base64.b64encode(key).decode() for key_id, key in self.keys.items()},
        )
        return ring.model_dump_json()


@dataclass(frozen=True)
class LinkTarget:
    """What an unsubscribe link is for."""

    address: str
    campaign_id: str
    list_name: str
    made_on: date


class UnsubscribeLinks:
    """Makes and opens unsubscribe links."""

    def __init__(
        self,
        keys: UnsubscribeKeys,
        *,
        base_url: str,
        max_age_days: int,
        mailbox: str | None = None,
    ) -> None:
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}
        self._current = keys.current
        self._base = base_url.rstrip("/") + UNSUBSCRIBE_PATH
        self._max_age_days = max_age_days
        self._mailbox = mailbox

    def url(self, address: str, campaign_id: str, list_name: str, today: date) -> str:
        """The https URL that unsubscribes `address` from `list_name` (one recipient's link)."""
        return self._base + self.token(address, campaign_id, list_name, today)

    def link(self, address: str, campaign_id: str, list_name: str, today: date) -> tuple[str, str]:
        """One recipient's link and the List-Unsubscribe value that carries it (with a mailto
        naming the same token where an unsubscribe mailbox is configured)."""
        token = self.token(address, campaign_id, list_name, today)
        url = self._base + token
        mailto = f"mailto:{self._mailbox}?subject=unsubscribe%20{token}" if self._mailbox else None
        return url, list_unsubscribe_value(url, mailto)

    def token(self, address: str, campaign_id: str, list_name: str, today: date) -> str:
        """The sealed token of a link."""
        header = bytes((TOKEN_VERSION, self._current))
        nonce = os.urandom(_NONCE_BYTES)
        day = (today - _EPOCH).days
        plain = orjson.dumps([address.lower(), campaign_id, list_name, day])
        sealed = self._ciphers[self._current].encrypt(nonce, plain, header)
        return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode()

    def open(self, token: str, today: date) -> LinkTarget:
        """What `token` is for; InvalidLinkError if EMS did not make it or it is too old."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as error:
            raise InvalidLinkError from error
        if len(raw) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES or raw[0] != TOKEN_VERSION:
            raise InvalidLinkError
        cipher = self._ciphers.get(raw[1])
        if cipher is None:
            raise InvalidLinkError
        header, nonce = raw[:_HEADER_BYTES], raw[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        try:
            plain = cipher.decrypt(nonce, raw[_HEADER_BYTES + _NONCE_BYTES :], header)
            address, campaign_id, list_name, day = orjson.loads(plain)
        except (InvalidTag, orjson.JSONDecodeError, ValueError, TypeError) as error:
            raise InvalidLinkError from error
        if not all(isinstance(v, str) and v for v in (address, campaign_id, list_name)):
            raise InvalidLinkError
        if not isinstance(day, int) or not 0 <= (today - _EPOCH).days - day <= self._max_age_days:
            raise InvalidLinkError
        return LinkTarget(
            address, campaign_id, list_name, date.fromordinal(_EPOCH.toordinal() + day)
        )


def today_utc() -> date:
    """Today's date in UTC (the day links are made on and checked against)."""
    return datetime.now(UTC).date()
