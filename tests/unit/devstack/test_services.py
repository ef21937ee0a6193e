"""The local service runner: kill (SIGKILL, no grace) and pid, by service name; the settings
the local stack gives its services."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
