"""The API's `page` tokens: where a list's next page starts, sealed so no client can craft one.

Every list that pages (campaigns, campaigns by status, suppressions, templates) hands out
`next_page` and takes it back as `page`. The token is the store's own start key (a DynamoDB
key, an address and scope, a template name), encrypted and authenticated with AES-GCM. So a
client can neither read it (a suppressions page ends on an address: personal data) nor make
one (a start key of its own choosing would go to DynamoDB as it is). The list's name and the
request's filters are the associated data: a token opens only for the list, and the filters,
it was sealed for. Anything else (garbled, truncated, forged, sealed under another key, another
list's, other filters) is `InvalidPageTokenError`, which the API answers with a 400 that says
to start again without it. The routes seal and open; the stores take and return plain keys.

The keys are derived (`shared.derived_keys`: HKDF-SHA256 under the label of
`KeyPurpose.PAGE_TOKENS`) from each key of the unsubscribe key ring (`UnsubscribeKeys`), a
secret EMS keeps and no client holds. Not from the API key: every client has that one, and
could seal start keys of its own with it. The label makes the derived keys independent of the
link keys and of the console's: a page token never opens as an unsubscribe link, nor the other
way round. A key added to the ring leaves every token valid; a key removed from it
turns its tokens into that 400, and the client lists again from the start.

Layout (then base64url without padding): version (1 byte) | key id (1 byte) | nonce (12 bytes)
| ciphertext of the JSON start key with its 16-byte tag.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import TypeAdapter, ValidationError

from ems_scheduler.shared.derived_keys import KeyPurpose, derive_keys
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

PAGE_TOKEN_VERSION: Final = 1
_NONCE_BYTES: Final = 12
_HEADER_BYTES: Final = 2
_TAG_BYTES: Final = 16
UNKNOWN_PAGE: Final = (
    "the page token is not one this API returned for this list and these filters:"
    " start again without `page`"
)


class InvalidPageTokenError(ValueError):
    """A `page` token this API did not hand out for this list (a 400: start again without it)."""

    def __init__(self, message: str = UNKNOWN_PAGE) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class PagedList:
    """A list's identity in its tokens: its name, and the filters of the request being paged.

    A token sealed for one `PagedList` opens for an equal one only.
    """

    name: str
    filters: Mapping[str, str | None] = field(default_factory=dict)

    def associated_data(self, header: bytes) -> bytes:
        """What the token authenticates besides its content: its header, this list, its filters."""
        return header + orjson.dumps([self.name, dict(self.filters)], option=orjson.OPT_SORT_KEYS)


class PageTokens:
    """Seals the start of a list's next page into a `next_page` token, and opens `page` tokens."""

    def __init__(self, keys: Callable[[], UnsubscribeKeys]) -> None:
        """`keys` is called on first use (on AWS it reads a secret)."""
        self._keys = functools.cache(keys)

    @functools.cached_property
    def _ciphers(self) -> tuple[int, dict[int, AESGCM]]:
        ring = self._keys()
        keys = derive_keys(ring, KeyPurpose.PAGE_TOKENS)
        ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        return ring.current, ciphers

    def seal(self, listing: PagedList, start: Any) -> str | None:
        """The `next_page` token of a page of `listing` whose successor starts at `start` (JSON:
        a dict, a list, a string); None when there is no next page."""
        if start is None:
            return None
        current, ciphers = self._ciphers
        header = bytes((PAGE_TOKEN_VERSION, current))
        nonce = os.urandom(_NONCE_BYTES)
        sealed = ciphers[current].encrypt(
            nonce, orjson.dumps(start), listing.associated_data(header)
        )
        return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode()

    def open[T](self, listing: PagedList, token: str | None, shape: TypeAdapter[T]) -> T | None:
        """The start key sealed in `token` for `listing`, as `shape`; None without a token.

        InvalidPageTokenError unless this API sealed it for this very list and filters.
        """
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as error:
            raise InvalidPageTokenError from error
        if len(raw) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES or raw[0] != PAGE_TOKEN_VERSION:
            raise InvalidPageTokenError
        _, ciphers = self._ciphers
        cipher = ciphers.get(raw[1])
        if cipher is None:  # sealed under a key no longer in the ring, or never in it
            raise InvalidPageTokenError
        header = raw[:_HEADER_BYTES]
        nonce = raw[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        try:
            plain = cipher.decrypt(
                nonce, raw[_HEADER_BYTES + _NONCE_BYTES :], listing.associated_data(header)
            )
            # Sealed by this API, yet checked: a token of an older release may hold another shape.
            return shape.validate_python(orjson.loads(plain))
        except (InvalidTag, orjson.JSONDecodeError, ValidationError) as error:
            raise InvalidPageTokenError from error
