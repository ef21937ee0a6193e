"""X-Api-Key on every route but the public ones: 401 without a key, 403 with a wrong one.

Public: `/health`, and exactly `/u/<token>` (unsubscribe links, whose token is the capability).
The console's pages (`/console/...`) take the key once, at its sign-in page, and then need the
session it starts instead of the header: `console_gate` answers for them. Only the sign-in page
and the console's static files (its scripts and style sheet) are served without either.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

from flask import Flask, request
from pydantic import SecretStr
from werkzeug.wrappers import Response

from ems_scheduler.api.errors import ApiError
from ems_scheduler.console.paths import SIGN_IN_PATH, STATIC_PATTERN, is_console

API_KEY_HEADER = "X-Api-Key"
PUBLIC_PATHS = frozenset({"/health", SIGN_IN_PATH})
PUBLIC_PATTERN = re.compile(r"/u/[^/]+")  # an unsubscribe link: one segment, nothing below


def is_public(path: str) -> bool:
    """Whether `path` is served without the API key or a console session."""
    return (
        path in PUBLIC_PATHS
        or PUBLIC_PATTERN.fullmatch(path) is not None
        or STATIC_PATTERN.fullmatch(path) is not None
    )


def require_api_key(
    app: Flask, key: SecretStr, console_gate: Callable[[], Response | None] | None = None
) -> None:
    """Install the check before every request.

    `console_gate` decides for console pages: None lets a signed-in session through, a
    response (the way to the sign-in page) turns the others away. Without it, console paths
    need the header like any other.
    """
    expected = key.get_secret_value().encode()
    if not expected:
        msg = "EMS_API_KEY is empty: set a key before serving the API"
        raise ValueError(msg)

    @app.before_request
    def _check() -> Response | None:
        if is_public(request.path):
            return None
        if console_gate is not None and is_console(request.path):
            return console_gate()
        given = request.headers.get(API_KEY_HEADER)
        if not given:
            raise ApiError(401, "unauthorized", f"send your API key in the {API_KEY_HEADER} header")
        # Constant-time comparison: the key must not leak through response timing.
        if not hmac.compare_digest(given.encode(), expected):
            raise ApiError(403, "forbidden", f"the {API_KEY_HEADER} header holds a wrong key")
        return None
