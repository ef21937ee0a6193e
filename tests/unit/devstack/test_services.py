"""The local service runner: kill (SIGKILL, no grace) and pid, by service name."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ems_devstack import services
from ems_devstack.config import StackConfig
from ems_devstack.services import LocalService, ServiceRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceRunner]:
    # A "service" that ignores SIGTERM and has a child, so only SIGKILL of its group ends it
    sleeper = LocalService("stubborn", ("bash", "-c", "trap '' TERM; sleep 300 & wait"))
    monkeypatch.setattr(services, "local_services", lambda _config: [sleeper])
    runner = ServiceRunner(StackConfig(root=tmp_path))
    yield runner
    runner.stop_all(grace_s=2)


def _group_alive(pgid: int) -> bool:
    listing = subprocess.run(
        ["ps", "-eo", "pgid=,stat="], capture_output=True, text=True, check=True
    ).stdout
    return any(
        int(pgid_text) == pgid and not stat.startswith("Z")
        for pgid_text, stat in (line.split() for line in listing.splitlines())
    )


def test_kill_ends_the_service_and_its_children_at_once(runner: ServiceRunner) -> None:
    # Given a running service
    runner.start("stubborn", {})
    pid = runner.pid("stubborn")
    assert pid is not None
    time.sleep(0.3)  # let bash install its trap

    # When it is killed
    started = time.monotonic()
    assert runner.kill("stubborn") is True

    # Then nothing of it is left, without waiting out any grace period
    assert time.monotonic() - started < 2
    assert not _group_alive(pid)
    assert runner.pid("stubborn") is None
    # And it can be started again, and killing a stopped or unknown service is harmless
    assert runner.kill("stubborn") is False
    assert runner.kill("no-such-service") is False
    runner.start("stubborn", {})
    assert runner.pid("stubborn") not in (None, pid)
