"""X-Api-Key on every route but the public ones: 401 without a key, 403 with a wrong one.

Public: `/health`, and exactly `/u/<token>` (unsubscribe links, whose token is the capability).
"""

from __future__ import annotations

import hmac
import re

from flask import Flask, request
from pydantic import SecretStr

from ems_scheduler.api.errors import ApiError

API_KEY_HEADER = "X-Api-Key"
PUBLIC_PATHS = frozenset({"/health"})
PUBLIC_PATTERN = re.compile(r"/u/[^/]+")  # an unsubscribe link: one segment, nothing below


def require_api_key(app: Flask, key: SecretStr) -> None:
    """Install the check before every request."""
    expected = key.get_secret_value().encode()
    if not expected:
        msg = "EMS_API_KEY is empty: set a key before serving the API"
        raise ValueError(msg)

    @app.before_request
    def _check() -> None:
        if request.path in PUBLIC_PATHS or PUBLIC_PATTERN.fullmatch(request.path):
            return
        given = request.headers.get(API_KEY_HEADER)
        if not given:
            raise ApiError(401, "unauthorized", f"send your API key in the {API_KEY_HEADER} header")
        # Constant-time comparison: the key must not leak through response timing.
        if not hmac.compare_digest(given.encode(), expected):
            raise ApiError(403, "forbidden", f"the {API_KEY_HEADER} header holds a wrong key")
