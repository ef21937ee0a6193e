"""The API's public URL, as the caller reached it: where unsubscribe links point.

`EMS_PUBLIC_API_URL` (a custom domain, say) wins where it is set. Otherwise the URL comes from
the request: API Gateway passes the scheme it was reached by in X-Forwarded-Proto and its host
in Host (zappa's stage prefix in SCRIPT_NAME is no part of the public URL of an HTTP API's
`$default` stage, so it is left out).
"""

from __future__ import annotations

from typing import Final

from flask import current_app, request

_SCHEMES: Final = frozenset({"http", "https"})
SETTING_KEY: Final = "EMS_PUBLIC_API_URL"


def public_url() -> str:
    """The base URL (scheme and host, no trailing slash) of the API as the public reaches it."""
    configured = current_app.config.get(SETTING_KEY)
    if configured:
        return str(configured).rstrip("/")
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    scheme = forwarded if forwarded in _SCHEMES else request.scheme
    return f"{scheme}://{request.host}"
