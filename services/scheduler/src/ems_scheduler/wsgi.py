"""The WSGI entry point, for zappa on AWS and waitress locally.

zappa needs a module attribute (`app_function: ems_scheduler.wsgi.app`), but building the app
reads settings and makes AWS clients, which must not happen at import time. So `app` builds the
real app on its first request, once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app_from_environment() -> Flask:
    """The API wired to AWS, configured from EMS_* variables."""
    from ems_scheduler.api.app import create_app  # noqa: PLC0415 - deferred on purpose
    from ems_scheduler.service import build_service  # noqa: PLC0415
    from ems_scheduler.settings import SchedulerSettings  # noqa: PLC0415

    settings = SchedulerSettings()  # every field from the environment
    return create_app(settings, build_service(settings))


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
                    self._app = self._factory()
        return self._app(environ, start_response)


app = LazyApp(create_app_from_environment)
