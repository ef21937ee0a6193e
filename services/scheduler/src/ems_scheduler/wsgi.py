"""The WSGI entry point, for zappa on AWS and waitress locally.

zappa needs a module attribute (`app_function: ems_scheduler.wsgi.app`), but building the app
reads settings, which must not happen at import time. So `app` builds the real app
(`ems_scheduler.wiring.create_app_from_environment`) on its first request, once. On AWS the API
key is read then from Secrets Manager; while the secret has no value, every request gets a 503
that says the API is not configured yet, and the next request tries again. Only the log names
the secret and the command that sets it: callers without a key learn nothing of the account.

Request paths stay out of the logs: they hold recipients' addresses
(`/suppressions/<address>`, `/campaigns/<id>/recipients/<address>`) and unsubscribe tokens
(`/u/<token>`). zappa's handler writes a line per request with the path and query string at
INFO, so its request logger is quieted when the app is built; API Gateway's access log keeps
the route, method, status and latencies instead (`terraform/modules/http_api`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from ems_scheduler.api_key import ApiKeyNotSetError

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

ZAPPA_REQUEST_LOGGER: Final = "zappa.wsgi"
"""The logger of zappa's per-request line (`common_log`: Common Log Format, path included)."""
NOT_CONFIGURED: Final = (
    "the API is not configured yet: its operator must set the API key (see the deployment"
    ' guide, docs/deploy.md, "The API key"). Retry later.'
)


def _create_app() -> Flask:
    # Imported here so that importing this module stays cheap and side-effect free.
    from ems_scheduler.wiring import create_app_from_environment  # noqa: PLC0415

    return create_app_from_environment()


class LazyApp:
    """A WSGI callable that creates the real app on first use."""

    def __init__(self, factory: Callable[[], Flask]) -> None:
        self._factory = factory
        self._app: Flask | None = None
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    quiet_request_log()
                    try:
                        self._app = self._factory()
                    except ApiKeyNotSetError as error:
                        logger.error("the API answers 503 until it has a key: %s", error)
                        return _not_ready(start_response)
        return self._app(environ, start_response)


def quiet_request_log() -> None:
    """Keep zappa's per-request line, which holds the path and query string, out of the logs."""
    logging.getLogger(ZAPPA_REQUEST_LOGGER).setLevel(logging.WARNING)


def _not_ready(start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({"error": "not_configured", "message": NOT_CONFIGURED}).encode()
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


app = LazyApp(_create_app)
