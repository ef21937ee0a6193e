"""The EMS services as local processes: the same handler code Lambda runs on AWS.

This module runs them by entry point (strings), never imports them: the tool stays
independent of the services it runs. The entry points are read from where Terraform reads them
(terraform/modules/app/handlers.json, and zappa_settings.json for the API: see entry_points).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from ems_devstack.config import StackConfig
from ems_devstack.entry_points import EntryPoints
from ems_devstack.processes import ManagedProcess, wait_until

SERVICE_READY_DEADLINE_S = 60.0
SERVICE_KILL_DEADLINE_S = 10.0


@dataclass(frozen=True)
class LocalService:
    """One long-running process of the local deployment."""

    name: str
    argv: tuple[str, ...]
    health_url: str | None = None


def api_port(config: StackConfig) -> int:
    """Where the local API listens."""
    return config.api_port


def local_services(config: StackConfig) -> list[LocalService]:
    """Every service process `make up` starts, in start order."""
    python = sys.executable  # the workspace venv's interpreter, which has every service
    runtime = (python, "-m", "ems_devstack.runtime")
    entry = EntryPoints.read(config.root)
    return [
        LocalService(
            "scheduler-api",
            (
                python,
                "-m",
                "waitress",
                f"--listen={config.host}:{config.api_port}",
                "--threads=8",
                entry.api_app,
            ),
            health_url=f"{config.api_url}/health",
        ),
        LocalService(
            "scheduler-compiler",
            (
                *runtime,
                "sqs",
                "--handler",
                entry.process_handler("compile"),
                "--queue-url-env",
                "EMS_COMPILE_QUEUE_URL",
                "--batch-size",
                "1",
                "--timeout",
                "900",
            ),
        ),
        LocalService(
            LAUNCHER_NAME,
            (
                *runtime,
                "tick",
                "--handler",
                entry.process_handler("launcher"),
                "--every",
                str(config.launcher_tick_seconds),
            ),
        ),
        LocalService(
            "sender-transactional",
            (
                *runtime,
                "sqs",
                "--handler",
                entry.process_handler("sender_transactional"),
                "--queue-url-env",
                "EMS_TRANSACTIONAL_QUEUE_URL",
                *_SQS_SIZING["sender_transactional"],
            ),
        ),
        *(
            LocalService(
                f"sender-campaign-{worker}",
                (
                    *runtime,
                    "sqs",
                    "--handler",
                    entry.process_handler("sender"),
                    "--queue-url-env",
                    "EMS_SEND_QUEUE_URL",
                    *_SQS_SIZING["sender"],
                ),
            )
            for worker in range(1, CAMPAIGN_SENDERS + 1)
        ),
        LocalService(
            TRACKER_NAME,
            (
                *runtime,
                "sqs",
                "--handler",
                entry.process_handler("tracker"),
                "--queue-url-env",
                "EMS_TRACKER_QUEUE_URL",
                *_SQS_SIZING["tracker"],
            ),
        ),
    ]


TRACKER_NAME = "tracker"
LAUNCHER_NAME = "launcher"

# Messages an invocation takes and its timeout, as Terraform's defaults give each function
# (terraform/modules/app: sender_batch_size, sender_timeout_seconds, the tracker's own):
# the sender's threads and its stop margin work as on AWS. The transactional lane runs as many
# invocations at once as its event source mapping (transactional_max_concurrency): one at a
# time, an email arriving while another waits for its send slot would queue behind it.
# tests/unit/devstack/test_services.py holds these to Terraform's values.
TRANSACTIONAL_CONCURRENCY = 3  # Terraform's transactional_max_concurrency
_SQS_SIZING = {
    "sender": ("--batch-size", "8", "--timeout", "120"),
    "sender_transactional": (
        "--batch-size",
        "1",
        "--timeout",
        "120",
        "--concurrency",
        str(TRANSACTIONAL_CONCURRENCY),
    ),
    "tracker": ("--batch-size", "10", "--timeout", "180"),
}


# Sender processes on the campaign lane locally (Lambda's concurrency on AWS).
CAMPAIGN_SENDERS = 2
CAMPAIGN_SENDER_NAMES = tuple(f"sender-campaign-{w}" for w in range(1, CAMPAIGN_SENDERS + 1))


# Settings the local deployment uses where the defaults are sized for AWS: parts of 2,000
# lines make a campaign of a few thousand recipients span several parts, as a large one does;
# LocalStack's SES answers the send quota with a fixed 1 email/s and 200 a day, so the local
# send rate and quota are set here: R = 140/s, reached as on AWS in SendBulkEmail calls, with the
# limiter sized as on AWS (one stripe, calls of up to 2 emails: docs/sending.md, "Bulk calls").
# R is what 2 cores carry with every service at work: at 200/s the emulators, the tracker and
# the senders kept both cores busy, the senders missed their slots and the campaign ran at
# 0.86 R (docs/benchmarks.md, "Transactional latency under campaign load").
# The tracker's reputation brake judges a campaign after 100 sent emails instead of 500, so that
# a local campaign of a few hundred recipients can trip it (tests publish its Bounce events:
# LocalStack's SES makes none); its rates are AWS's defaults.
LOCAL_SERVICE_SETTINGS = {
    "EMS_PART_LINES": "2000",
    "EMS_SEND_RATE_OVERRIDE": "140",
    "EMS_DAILY_QUOTA_OVERRIDE": "10000000",
    # Held email (a paused campaign, SES's pause) looks again within seconds, not the half
    # minute and minute sized for AWS's cost: resume and SES's un-pause show at once locally.
    "EMS_PAUSED_HOLD_SECONDS": "3",
    "EMS_SES_PAUSED_RETRY_SECONDS": "3",
    "EMS_ACCOUNT_CHECK_SECONDS": "3",
    "EMS_BRAKE_MIN_SENT": "100",
    # A campaign left short of its counters by a killed tracker (the fault suite kills it) is
    # recounted after 20 s without progress, not 5 minutes; local tracker batches take well
    # under a second (no Lambda timeout stops them), so the correction waits 10 s, not 60.
    "EMS_RECOUNT_AFTER_SECONDS": "20",
    "EMS_TRACKER_BATCH_SECONDS": "10",
}


def api_key(config: StackConfig) -> str:
    """The local API key: made once, kept in .ems/api-key (git-ignored)."""
    path = config.state_dir / "api-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class ServiceRunner:
    """Starts and stops the local service processes."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def process(self, service: LocalService) -> ManagedProcess:
        """The managed process of one service."""
        return ManagedProcess(
            service.name,
            self.config.run_dir / f"{service.name}.pid",
            self.config.logs_dir / f"{service.name}.log",
        )

    def start_all(self, env: Mapping[str, str], grace_s: float) -> list[str]:
        """(Re)start every service with `env`; wait until each is healthy."""
        started = []
        for service in local_services(self.config):
            process = self.process(service)
            process.stop(grace_s)  # a second `up` runs the current code
            process.start(service.argv, env={**LOCAL_SERVICE_SETTINGS, **env}, cwd=self.config.root)
            if service.health_url is not None:
                url = service.health_url
                wait_until(
                    lambda url=url: _healthy(url),  # type: ignore[misc]
                    deadline_s=SERVICE_READY_DEADLINE_S,
                    what=f"{service.name} at {url}",
                    alive=process.death_reason,
                )
            started.append(service.name)
        return started

    def stop(self, name: str, grace_s: float) -> bool:
        """Stop one service by name; True if it was running."""
        return any(
            self.process(service).stop(grace_s)
            for service in local_services(self.config)
            if service.name == name
        )

    def kill(self, name: str) -> bool:
        """SIGKILL one service's process group by name, no grace (fault tests).

        True if it was running. Returns once nothing of it is left and its pid file is gone.
        """
        for service in local_services(self.config):
            process = self.process(service)
            pid = process.pid() if service.name == name else None
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                process.stop(SERVICE_KILL_DEADLINE_S)  # only waits for the group, and tidies up
                return True
        return False

    def pid(self, name: str) -> int | None:
        """The pid of one service if it runs."""
        return next(
            (
                self.process(service).pid()
                for service in local_services(self.config)
                if service.name == name
            ),
            None,
        )

    def start(self, name: str, env: Mapping[str, str]) -> None:
        """Start one service by name (not waiting for health)."""
        for service in local_services(self.config):
            if service.name == name:
                self.process(service).start(
                    service.argv, env={**LOCAL_SERVICE_SETTINGS, **env}, cwd=self.config.root
                )

    def stop_all(self, grace_s: float) -> list[str]:
        """Stop every service that runs; returns their names."""
        return [
            service.name
            for service in reversed(local_services(self.config))
            if self.process(service).stop(grace_s)
        ]

    def status(self) -> dict[str, str]:
        """One line per service."""
        lines = {}
        for service in local_services(self.config):
            pid = self.process(service).pid()
            lines[service.name] = f"running (pid {pid})" if pid else "stopped"
        return lines
