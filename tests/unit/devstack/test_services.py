"""The local service runner: kill (SIGKILL, no grace) and pid, by service name; the settings
the local stack gives its services."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cost import LambdaSizing, terraform_block_setting
from ems_common.settings import ENV_PREFIX, InfraSettings
from ems_devstack import services
from ems_devstack.config import StackConfig
from ems_devstack.services import LocalService, ServiceRunner
from ems_launcher.settings import LauncherSettings
from ems_scheduler.settings import SchedulerSettings
from ems_sender.settings import SenderSettings
from ems_tracker.settings import TrackerSettings


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


def test_every_local_setting_is_read_by_a_service_that_accepts_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the services' settings classes (the infrastructure names filled in, as on the stack)
    classes = (SchedulerSettings, LauncherSettings, SenderSettings, TrackerSettings)
    for name in InfraSettings.model_fields:
        monkeypatch.setenv(f"{ENV_PREFIX}{name.upper()}", f"value-of-{name}")
    monkeypatch.setenv("EMS_SENDER_DOMAIN", "ems.example.com")
    monkeypatch.setenv("EMS_DEFAULT_FROM", "campaigns@ems.example.com")
    monkeypatch.setenv("EMS_API_KEY", "local-key")
    monkeypatch.setenv("EMS_UNSUBSCRIBE_KEYS_SECRET_ID", "ems-local-unsubscribe-keys")

    # When the local stack's overrides are set too
    for variable, value in services.LOCAL_SERVICE_SETTINGS.items():
        monkeypatch.setenv(variable, value)

    # Then each one is a field of some service's settings, which reads it as given
    for variable, value in services.LOCAL_SERVICE_SETTINGS.items():
        field = variable.removeprefix(ENV_PREFIX).lower()
        readers = [cls for cls in classes if field in cls.model_fields]
        assert readers, f"{variable} is no service's setting (misspelt?)"
        for cls in readers:
            assert str(getattr(cls(), field)) in {value, str(float(value))}, (cls, variable)
    # And the tracker's brake judges a local campaign of a few hundred recipients
    assert TrackerSettings().brake_min_sent == 100


def _option(command: tuple[str, ...], option: str) -> int:
    return int(command[command.index(option) + 1])


def test_local_pollers_are_sized_as_terraform_sizes_the_functions_triggers() -> None:
    # Given Terraform's sizing of the functions and their SQS triggers (the app module)
    root = Path(__file__).parents[3]
    app = root / "terraform" / "modules" / "app"
    sizing = LambdaSizing.from_terraform(app)
    variables = (app / "variables.tf").read_text()
    locals_text = (app / "main.tf").read_text()
    tracker_timeout = re.search(r"^\s*tracker_timeout_s\s*=\s*(\d+)\s*$", locals_text, re.M)
    assert tracker_timeout is not None

    # When the local stack's pollers are laid out
    commands = {s.name: s.argv for s in services.local_services(StackConfig(root=root))}

    # Then each takes the batch, the timeout and the concurrency its function has on AWS
    sender_timeout = terraform_block_setting(
        variables, "variable", "sender_timeout_seconds", "default"
    )
    for name in services.CAMPAIGN_SENDER_NAMES:
        assert _option(commands[name], "--batch-size") == sizing.sender_batch_size
        assert SenderSettings.model_fields["send_threads"].default == sizing.sender_batch_size
        assert _option(commands[name], "--timeout") == sender_timeout
    transactional = commands["sender-transactional"]
    assert _option(transactional, "--batch-size") == 1
    assert _option(transactional, "--timeout") == sender_timeout
    assert _option(transactional, "--concurrency") == terraform_block_setting(
        variables, "variable", "transactional_max_concurrency", "default"
    )
    tracker = commands[services.TRACKER_NAME]
    assert _option(tracker, "--batch-size") == sizing.tracker_batch_size
    assert _option(tracker, "--timeout") == int(tracker_timeout[1])
    # And the campaign lane runs as many senders as its event source mapping allows at least
    assert len(services.CAMPAIGN_SENDER_NAMES) == sizing.sender_max_concurrency
