"""The opaque `page` tokens of the API's lists that page by a name (suppressions, templates).

A token wraps the name the next page starts after; one this API did not make is refused with
InvalidPageTokenError (a 400 that says to start again without it).
"""

from __future__ import annotations

import base64
import json
from typing import Final

from ems_common.dal.campaigns import InvalidPageTokenError

_PAGE_START_FIELD: Final = "after"
_UNKNOWN_PAGE: Final = "the page token is not one this API returned: start again without it"


def encode_page_token(start: str | None) -> str | None:
    """The opaque `next_page` token for a page that starts after the address `start`."""
    if not start:
        return None
    return base64.urlsafe_b64encode(json.dumps({_PAGE_START_FIELD: start}).encode()).decode()


def decode_page_token(token: str | None) -> str | None:
    """The address a `page` token starts after; InvalidPageTokenError if we did not make it."""
    if not token:
        return None
    try:
        decoded = json.loads(base64.b64decode(token.encode(), altchars=b"-_", validate=True))
    except ValueError as error:  # not base64, UTF-8 or JSON
        raise InvalidPageTokenError(_UNKNOWN_PAGE) from error
    start = decoded.get(_PAGE_START_FIELD) if isinstance(decoded, dict) else None
    if not isinstance(start, str) or not start:
        raise InvalidPageTokenError(_UNKNOWN_PAGE)
    return start
