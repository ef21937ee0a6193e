"""The services' entry points, read from where they are named once, never imported.

Terraform names each Lambda function's handler in terraform/modules/app/handlers.json (role ->
"package.module.function"); the local stack runs the same handlers as processes, which take
them as "package.module:function". The API is the exception: on AWS its handler is zappa's
(`handler.lambda_handler`, generated into scheduler.zip), which serves the WSGI app that
services/scheduler/zappa_settings.json names (`app_function`); locally waitress serves that
same app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ems_devstack.package import ZAPPA_SERVICE, ZAPPA_STAGE
from ems_devstack.processes import StackError

HANDLERS_FILE = Path("terraform/modules/app/handlers.json")
ZAPPA_SETTINGS_FILE = Path(f"services/{ZAPPA_SERVICE}/zappa_settings.json")
# The role whose Lambda handler is zappa's: it has no local process of its own (see wsgi_app).
API_ROLE = "api"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StackError(f"{path} is missing: it names {what}") from exc
    except json.JSONDecodeError as exc:
        raise StackError(f"{path} is not valid JSON ({exc}): it names {what}") from exc


def lambda_handlers(root: Path) -> dict[str, str]:
    """Each Lambda function's handler by role, as Terraform reads it: "package.module.function"."""
    path = root / HANDLERS_FILE
    handlers = _read_json(path, "each Lambda function's handler by role")
    if not isinstance(handlers, dict) or not all(
        isinstance(role, str) and isinstance(handler, str) and "." in handler
        for role, handler in handlers.items()
    ):
        msg = f'{path} must be one object of role -> "package.module.function" strings'
        raise StackError(msg)
    return handlers


def process_target(handler: str) -> str:
    """A Lambda handler ("pkg.module.function") as a process takes it ("pkg.module:function")."""
    module, dot, attribute = handler.rpartition(".")
    if not (dot and module and attribute):
        raise StackError(f'handler {handler!r} is not "package.module.function"')
    return f"{module}:{attribute}"


def wsgi_app(root: Path) -> str:
    """The API's WSGI app, the one zappa serves on AWS (its `app_function`), as "module:app"."""
    path = root / ZAPPA_SETTINGS_FILE
    settings = _read_json(path, "the API's WSGI app (app_function)")
    try:
        app_function = settings[ZAPPA_STAGE]["app_function"]
    except (KeyError, TypeError) as exc:
        msg = f"{path} has no {ZAPPA_STAGE}.app_function: it names the API's WSGI app"
        raise StackError(msg) from exc
    return process_target(str(app_function))


@dataclass(frozen=True)
class EntryPoints:
    """Every entry point the local processes run, as read from the checkout."""

    handlers: dict[str, str]  # role -> "package.module.function" (handlers.json)
    api_app: str  # "module:attribute" (zappa_settings.json)
    handlers_file: Path

    @classmethod
    def read(cls, root: Path) -> EntryPoints:
        """Read both files of the checkout at `root`."""
        return cls(lambda_handlers(root), wsgi_app(root), root / HANDLERS_FILE)

    def process_handler(self, role: str) -> str:
        """The handler of one role's function as its local process takes it ("module:function")."""
        if role not in self.handlers:
            known = ", ".join(sorted(self.handlers))
            msg = f"{self.handlers_file} names no handler for {role!r} (it names: {known})"
            raise StackError(msg)
        return process_target(self.handlers[role])
