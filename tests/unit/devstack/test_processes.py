"""Background processes: started, found, and stopped with nothing left behind."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ems_devstack.processes import ManagedProcess, StackError, port_is_open, run, wait_until


def _group_alive(pgid: int) -> bool:
    """Any process of the group still running, as `ps` sees it (zombies are gone)."""
    listing = subprocess.run(
        ["ps", "-eo", "pgid=,stat="], capture_output=True, text=True, check=True
    ).stdout
    return any(
        int(pgid_text) == pgid and not stat.startswith("Z")
        for pgid_text, stat in (line.split() for line in listing.splitlines())
    )


@pytest.fixture
def process(tmp_path: Path) -> Iterator[ManagedProcess]:
    proc = ManagedProcess("sleeper", tmp_path / "run" / "p.pid", tmp_path / "logs" / "p.log")
    yield proc
    proc.stop(grace_s=2)


def test_stop_ends_the_process_and_its_children(process: ManagedProcess) -> None:
    # Given a process that started a child of its own, as LocalStack does
    pid = process.start(["bash", "-c", "sleep 300 & sleep 300"])
    assert process.pid() == pid

    # When it is stopped
    assert process.stop(grace_s=5) is True

    # Then nothing of its group is left, and the pid file is gone
    assert not _group_alive(pid)
    assert not process.pid_file.exists()
    assert process.pid() is None


def test_a_process_that_ignores_sigterm_is_killed(process: ManagedProcess) -> None:
    pid = process.start(["bash", "-c", "trap '' TERM; sleep 300 & wait"])
    time.sleep(0.3)  # let bash install its trap before we signal it

    started = time.monotonic()
    assert process.stop(grace_s=1) is True

    assert not _group_alive(pid)
    assert time.monotonic() - started < 10


def test_stopping_twice_is_harmless(process: ManagedProcess) -> None:
    process.start(["sleep", "300"])
    assert process.stop(grace_s=2) is True
    assert process.stop(grace_s=2) is False


def test_death_reason_points_at_the_log(process: ManagedProcess) -> None:
    process.start(["bash", "-c", "echo boom-from-the-process; exit 3"])
    reason = wait_until_value(process.death_reason)
    assert str(process.log_file) in reason
    assert "boom-from-the-process" in reason


def wait_until_value(probe: object) -> str:
    end = time.monotonic() + 10
    while time.monotonic() < end:
        value = probe()  # type: ignore[operator]
        if value:
            return str(value)
        time.sleep(0.05)
    raise AssertionError("no value within 10 s")


def test_wait_until_names_what_was_not_ready() -> None:
    with pytest.raises(StackError, match=r"the thing: not ready after 0 s"):
        wait_until(lambda: False, deadline_s=0.2, what="the thing", interval_s=0.05)


def test_wait_until_fails_at_once_when_the_process_died() -> None:
    started = time.monotonic()
    with pytest.raises(StackError, match="it crashed"):
        wait_until(lambda: False, deadline_s=30, what="x", alive=lambda: "it crashed")
    assert time.monotonic() - started < 5


def test_run_reports_a_missing_program() -> None:
    with pytest.raises(StackError, match="'no-such-program-ems' is not installed"):
        run(["no-such-program-ems"], what="running it", deadline_s=5)


def test_run_reports_the_failing_output() -> None:
    with pytest.raises(StackError, match=r"(?s)listing failed \(exit 2\).*the-error-text"):
        run(["bash", "-c", "echo the-error-text >&2; exit 2"], what="listing", deadline_s=5)


def test_port_is_open_sees_a_listener() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_is_open("127.0.0.1", port)
    assert not port_is_open("127.0.0.1", port)
