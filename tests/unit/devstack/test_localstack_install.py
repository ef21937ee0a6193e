"""LocalStack's install: the pinned set and the SES v2 provider, redone when either changes."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

from ems_devstack import emulators
from ems_devstack.config import LOCALSTACK_REQUIREMENTS, StackConfig
from ems_devstack.emulators import LocalStack, parse_stamp, source_digest
from ems_devstack.processes import StackError

REPO = StackConfig.from_environment().root


def _config(tmp_path: Path) -> StackConfig:
    """A checkout in tmp_path with a provider package of its own."""
    (tmp_path / "terraform" / "environments" / "local").mkdir(parents=True)
    (tmp_path / "Makefile").write_text("")
    config = StackConfig(root=tmp_path)
    package = config.localstack_sesv2_provider / "src" / "ems_localstack_sesv2"
    package.mkdir(parents=True)
    (config.localstack_sesv2_provider / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (package / "provider.py").write_text("VERSION = 1\n")
    return config


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command the install runs, recorded instead of run (uv and PyPI are not the unit)."""
    ran: list[list[str]] = []

    def record(argv: Sequence[str], **_: object) -> str:
        ran.append(list(argv))
        if argv[1] == "venv":
            Path(argv[-1]).mkdir(parents=True, exist_ok=True)
        return ""

    monkeypatch.setattr(emulators, "run", record)
    monkeypatch.setenv("UV", "uv")
    return ran


def test_the_provider_pins_the_localstack_the_stack_installs() -> None:
    # One LocalStack version: the provider codes against the internals of the one installed
    provider = tomllib.loads((REPO / "tools" / "localstack-sesv2" / "pyproject.toml").read_text())
    pinned = [r for r in LOCALSTACK_REQUIREMENTS if r.startswith("localstack-core")]
    assert [d.replace("[runtime]", "") for d in pinned] == provider["project"]["dependencies"]
    # And LocalStack finds it under the name it loads for the sesv2 API
    entry_points = provider["project"]["entry-points"]["localstack.aws.provider"]
    assert entry_points == {"sesv2:default": "ems_localstack_sesv2.plugin:sesv2"}


def test_source_digest_follows_the_source_and_ignores_bytecode(tmp_path: Path) -> None:
    config = _config(tmp_path)
    folder = config.localstack_sesv2_provider
    before = source_digest(folder)
    cache = folder / "src" / "ems_localstack_sesv2" / "__pycache__"
    cache.mkdir()
    (cache / "provider.cpython-313.pyc").write_bytes(b"\x00")
    assert source_digest(folder) == before
    (folder / "src" / "ems_localstack_sesv2" / "provider.py").write_text("VERSION = 2\n")
    assert source_digest(folder) != before


def test_a_fresh_install_puts_localstack_and_the_provider_in_one_venv(
    tmp_path: Path, commands: list[list[str]]
) -> None:
    config = _config(tmp_path)
    localstack = LocalStack(config)

    localstack.install()

    venv, install = commands
    assert venv[:2] == ["uv", "venv"]
    assert install[:3] == ["uv", "pip", "install"]
    assert set(LOCALSTACK_REQUIREMENTS) <= set(install)
    assert str(config.localstack_sesv2_provider) in install
    assert localstack.installed()
    # Nothing to do the second time
    localstack.install()
    assert len(commands) == 2


def test_a_provider_change_reinstalls_only_the_provider(
    tmp_path: Path, commands: list[list[str]]
) -> None:
    config = _config(tmp_path)
    localstack = LocalStack(config)
    localstack.install()
    commands.clear()

    (config.localstack_sesv2_provider / "src" / "ems_localstack_sesv2" / "provider.py").write_text(
        "VERSION = 2\n"
    )
    assert not localstack.installed()
    localstack.install()

    (install,) = commands
    assert install[:3] == ["uv", "pip", "install"]
    assert str(config.localstack_sesv2_provider) in install
    assert not set(LOCALSTACK_REQUIREMENTS) & set(install)
    assert "--reinstall-package" in install
    assert localstack.installed()


def test_a_venv_from_before_the_provider_gets_only_the_provider(
    tmp_path: Path, commands: list[list[str]]
) -> None:
    # Given a venv whose stamp is the old one: the requirements' digest alone
    config = _config(tmp_path)
    localstack = LocalStack(config)
    localstack.install()
    stamp = config.localstack_venv / ".ems-requirements"
    stamp.write_text(parse_stamp(stamp.read_text())["requirements"])
    commands.clear()

    localstack.install()

    (install,) = commands
    assert str(config.localstack_sesv2_provider) in install
    assert not set(LOCALSTACK_REQUIREMENTS) & set(install)


def test_a_running_localstack_with_an_older_provider_must_be_restarted(tmp_path: Path) -> None:
    # Given a LocalStack of ours (this live process stands in for it), started with the provider
    config = _config(tmp_path)
    localstack = LocalStack(config)
    config.run_dir.mkdir(parents=True)
    localstack.process.pid_file.write_text(str(os.getpid()))
    (config.run_dir / "localstack-sesv2.digest").write_text(
        source_digest(config.localstack_sesv2_provider)
    )
    assert localstack.runs_current_provider()

    # When the provider's source changes under it
    (config.localstack_sesv2_provider / "src" / "ems_localstack_sesv2" / "provider.py").write_text(
        "VERSION = 2\n"
    )

    # Then the stack is not "up", and `up` says to restart it rather than use it
    assert not localstack.runs_current_provider()
    with pytest.raises(StackError, match=r"make down && make up"):
        localstack.ensure_running()
