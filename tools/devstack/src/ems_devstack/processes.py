"""Background processes with pid files, deadlines and a clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A step of the local stack failed; the message says what and what to do."""


def port_is_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    condition: Callable[[], bool],
    *,
    deadline_s: float,
    what: str,
    interval_s: float = 0.5,
    alive: Callable[[], str | None] | None = None,
) -> None:
    """Poll `condition` until true; raise a StackError naming `what` after `deadline_s`.

    `alive` is asked between polls; a string from it (why the process died) fails at once
    instead of waiting out the deadline.
    """
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        if alive is not None and (why := alive()) is not None:
            raise StackError(f"{what}: {why}")
        time.sleep(interval_s)
    raise StackError(f"{what}: not ready after {deadline_s:.0f} s")


@dataclass(frozen=True)
class ManagedProcess:
    """A process started in its own session, known by a pid file, logging to a file."""

    name: str
    pid_file: Path
    log_file: Path

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        niceness: int = 0,
    ) -> int:
        """Start `argv` in the background (at a lower CPU priority by `niceness`, with every
        thread it starts) and record its pid."""
        if niceness:
            argv = ["nice", "-n", str(niceness), *argv]
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,  # its own process group, so stop() reaches children
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def pid(self) -> int | None:
        """The recorded pid if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def death_reason(self) -> str | None:
        """None while running; otherwise a message pointing at the log."""
        if self.pid() is not None:
            return None
        return f"{self.name} exited; its log is {self.log_file} (last lines: {self.tail()!r})"

    def tail(self, lines: int = 5) -> str:
        """The last lines of the log."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, grace_s: float) -> bool:
        """SIGTERM the process group, SIGKILL it after `grace_s`; True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        end = time.monotonic() + grace_s
        while time.monotonic() < end and _group_alive(pid):
            time.sleep(0.2)
        if _group_alive(pid):
            # LocalStack does not always stop on SIGTERM.
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not _group_alive(pid), deadline_s=grace_s, what=f"kill {self.name}")
        self.pid_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        # Reap it if it is our own child, so a zombie does not count as alive.
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in the group.

    Killed children are reparented to PID 1, which may take its time reaping them; a zombie
    holds no port or file, so it counts as gone.
    """
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel about the group as a whole
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may hold spaces, so split after its ')'.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def run(
    argv: Sequence[str],
    *,
    what: str,
    deadline_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_file: Path | None = None,
) -> str:
    """Run a command to completion; raise a StackError with its output's tail on failure."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            timeout=deadline_s,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {argv[0]!r} is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what}: did not finish within {deadline_s:.0f} s") from exc
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a") as log:
            log.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout
