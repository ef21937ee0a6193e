"""The services' entry points are named once, exist, and are what the local processes run.

terraform/modules/app/handlers.json names each Lambda handler (Terraform reads it; tests/infra
checks the planned functions against it); services/scheduler/zappa_settings.json names the
API's WSGI app. These tests import what they name, which the devstack itself never does.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest

from ems_devstack.config import StackConfig, find_repo_root
from ems_devstack.entry_points import (
    API_ROLE,
    HANDLERS_FILE,
    ZAPPA_SETTINGS_FILE,
    EntryPoints,
    lambda_handlers,
    process_target,
    wsgi_app,
)
from ems_devstack.processes import StackError
from ems_devstack.services import local_services

ROOT = find_repo_root(Path(__file__).parent)
# "package.module:attribute" in a process's argv (not "--listen=127.0.0.1:8080").
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _problem(target: str) -> str | None:
    """Why "module:attribute" is not an importable callable (None: it is)."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return f"{target}: cannot import {module_name} ({exc})"
    if not callable(getattr(module, attribute, None)):
        return f"{target}: {module_name} has no callable {attribute!r}"
    return None


def test_every_lambda_handler_named_is_an_importable_function() -> None:
    handlers = lambda_handlers(ROOT)
    assert set(handlers) >= {API_ROLE, "compile", "launcher", "sender", "tracker"}
    # The API's handler is zappa's handler.py, generated into scheduler.zip (tests/infra looks
    # for it there); the app it serves is checked below.
    assert handlers[API_ROLE] == "handler.lambda_handler"
    problems = [
        problem
        for role, handler in handlers.items()
        if role != API_ROLE and (problem := _problem(process_target(handler)))
    ]
    assert not problems, f"{HANDLERS_FILE} names handlers that do not exist: {problems}"


def test_the_app_zappa_serves_on_aws_is_an_importable_wsgi_app() -> None:
    target = wsgi_app(ROOT)
    assert _problem(target) is None


def test_the_local_processes_run_exactly_the_entry_points_named() -> None:
    # Given the entry points named for AWS
    handlers = lambda_handlers(ROOT)
    named = {process_target(h) for role, h in handlers.items() if role != API_ROLE}
    named.add(wsgi_app(ROOT))

    # When the local stack's processes are listed
    services = local_services(StackConfig(root=ROOT))

    # Then each runs one of them, and together they run every one
    targets = {s.name: [arg for arg in s.argv if _TARGET.match(arg)] for s in services}
    assert all(len(found) == 1 for found in targets.values()), targets
    assert {found[0] for found in targets.values()} == named
    api = next(s for s in services if s.health_url is not None)
    assert api.argv[-1] == wsgi_app(ROOT)


def test_handlers_become_module_colon_function() -> None:
    assert process_target("ems_sender.handlers.send.campaign_handler") == (
        "ems_sender.handlers.send:campaign_handler"
    )
    with pytest.raises(StackError, match="is not"):
        process_target("handler")


def _checkout(tmp_path: Path) -> Path:
    for path in (HANDLERS_FILE, ZAPPA_SETTINGS_FILE):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    return tmp_path


def test_a_missing_file_or_role_says_what_to_fix(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    (root / HANDLERS_FILE).write_text(json.dumps({"api": "handler.lambda_handler"}))
    with pytest.raises(StackError, match=r"handlers\.json names no handler for 'tracker'"):
        EntryPoints.read(root).process_handler("tracker")

    (root / HANDLERS_FILE).write_text(json.dumps({"tracker": "nodots"}))
    with pytest.raises(StackError, match=r'role -> "package\.module\.function"'):
        EntryPoints.read(root)

    (root / ZAPPA_SETTINGS_FILE).write_text(json.dumps({"dev": {}}))
    with pytest.raises(StackError, match=r"has no lambda\.app_function"):
        wsgi_app(root)

    (root / HANDLERS_FILE).unlink()
    with pytest.raises(StackError, match=r"handlers\.json is missing"):
        EntryPoints.read(root)
