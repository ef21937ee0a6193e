"""What every command shares: the API settings, the client, and how errors reach the user.

Exit codes: 0 done; 1 the API refused (an error answer), could not be reached, or the campaign
ended REJECTED/FAILED; 2 a usage problem (bad option, unreadable file, no API URL or key).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NoReturn

import httpx
import typer

from ems_cli.client import ApiError, ApiUnreachableError, EmsClient
from ems_cli.config import KEY_ENV, URL_ENV, ApiSettings, ConfigError, resolve_api_settings
from ems_cli.render import make_console

EXIT_API_ERROR: Final = 1
EXIT_USAGE: Final = 2


@dataclass
class Session:
    """The root options, and the seams tests use (an `httpx.MockTransport`, a no-op sleep).

    Tests pass one as `CliRunner().invoke(app, args, obj=Session(transport=...))`.
    """

    api_url: str | None = None
    api_key: str | None = None
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    cwd: Callable[[], Path] = Path.cwd
    poll_interval_s: float = 2.0
    settings: ApiSettings | None = field(default=None, init=False)

    def client(self) -> EmsClient:
        """A client for the configured API; raises ConfigError when the URL or key is missing."""
        self.settings = resolve_api_settings(self.api_url, self.api_key, self.cwd())
        return EmsClient(self.settings.url, self.settings.key, transport=self.transport)


def session_of(ctx: typer.Context) -> Session:
    """The session the root callback stored (a default one when a command runs alone)."""
    if not isinstance(ctx.obj, Session):
        ctx.obj = Session()
    return ctx.obj


def fail(message: str, *, details: list[str] | None = None, code: int = EXIT_API_ERROR) -> NoReturn:
    """Print `ems: message` (and indented details) on stderr and exit with `code`."""
    console = make_console(stderr=True)
    console.print(f"ems: {message}", style="red", markup=False)
    for line in details or []:
        console.print(f"  {line}", markup=False)
    raise typer.Exit(code)


@contextmanager
def reporting_errors(session: Session) -> Iterator[None]:
    """Turn the client's and the configuration's errors into a message and an exit code."""
    try:
        yield
    except ConfigError as error:
        fail(str(error), code=EXIT_USAGE)
    except ApiUnreachableError as error:
        source = f" (URL from {session.settings.url_source})" if session.settings else ""
        if error.refused:
            fail(
                f"the EMS API is not running at {error.url}{source}: {error.reason}",
                details=[
                    "Start the local stack with `make up` (in the EMS repository), or point"
                    f" --api-url / {URL_ENV} at a running API."
                ],
            )
        fail(f"the EMS API at {error.url}{source} did not answer: {error.reason}")
    except ApiError as error:
        details = [f"{problem.path}: {problem.message}" for problem in error.problems]
        if error.status in {401, 403}:
            details.append(f"Check --api-key / {KEY_ENV} (after `make up`: .ems/local.env).")
        fail(f"{error.message} (HTTP {error.status} {error.kind})", details=details)
