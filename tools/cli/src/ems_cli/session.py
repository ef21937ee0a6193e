"""What every command shares: the API settings, the client, and how errors reach the user.

Exit codes: 0 done; 1 the API refused (an error answer), could not be reached, or the campaign
ended REJECTED/FAILED; 2 a usage problem (bad option, unreadable file, no API URL or key).
"""

from __future__ import annotations

import sys
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


def input_name(file: str) -> str:
    """How messages name a FILE argument: `-` is standard input."""
    return "standard input" if file == "-" else file


def read_input(file: str, what: str) -> bytes:
    """The bytes of `file` (`-`: standard input); exit 2 saying so if it cannot be read."""
    try:
        return sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        fail(f"cannot read {what} {file}: {error.strerror or error}", code=EXIT_USAGE)


def read_text_input(file: str, what: str) -> str:
    """`read_input` as UTF-8 text (a byte-order mark is dropped); exit 2 if it is not."""
    try:
        return read_input(file, what).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        fail(f"{what} {input_name(file)} is not UTF-8 text: {error.reason}", code=EXIT_USAGE)


@contextmanager
def reporting_errors(session: Session) -> Iterator[None]:
    """Turn the client's and the configuration's errors into a message and an exit code.

    Notes a command added to the error (`error.add_note(...)`: what to do next, which request
    of several failed) are printed under the problems.
    """
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
                    f" --api-url / {URL_ENV} at a running API.",
                    *_notes(error),
                ],
            )
        fail(
            f"the EMS API at {error.url}{source} did not answer: {error.reason}",
            details=_notes(error),
        )
    except ApiError as error:
        details = [f"{problem.path}: {problem.message}" for problem in error.problems]
        if error.status in {401, 403}:
            details.append(f"Check --api-key / {KEY_ENV} (after `make up`: .ems/local.env).")
        fail(
            f"{error.message} (HTTP {error.status} {error.kind})",
            details=[*details, *_notes(error)],
        )


def _notes(error: BaseException) -> list[str]:
    return list(getattr(error, "__notes__", []))
