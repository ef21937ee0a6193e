"""The stack's configuration: env file, Terraform CLI config, taken ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig
from ems_devstack.emulators import DynamoDBLocal, LocalStack
from ems_devstack.processes import StackError
from ems_devstack.stack import parse_env_file, render_env_file
from ems_devstack.terraform import cli_config_text, find_provider_mirror

SETTINGS = {name: f"value-of-{name}" for name, field in InfraSettings.model_fields.items()}


def _config(tmp_path: Path, localstack_port: int = 4566, dynamodb_port: int = 8000) -> StackConfig:
    (tmp_path / "terraform" / "environments" / "local").mkdir(parents=True)
    (tmp_path / "Makefile").write_text("")
    return StackConfig(root=tmp_path, localstack_port=localstack_port, dynamodb_port=dynamodb_port)


def test_env_file_round_trips_into_the_settings_the_services_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Terraform's service_settings
    config = _config(tmp_path)
    # When they are written as the env file and read back into the environment
    env = parse_env_file(render_env_file(config, SETTINGS, api_key="k"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # Then the services' settings model sees every value, and the endpoints are the stack's
    settings = InfraSettings()
    assert settings.model_dump() == SETTINGS
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8000"
    assert env["AWS_REGION"] == "us-east-1"


def test_env_file_refuses_a_value_that_is_not_one_line(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="'bad' must be a one-line string"):
        render_env_file(_config(tmp_path), {"bad": "two\nlines"}, api_key="k")


def test_terraform_cli_config_points_at_the_mirror(tmp_path: Path) -> None:
    text = cli_config_text(tmp_path)
    assert "provider_installation" in text
    assert f'path = "{tmp_path}"' in text


def test_explicit_provider_mirror_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_TF_PROVIDER_MIRROR", str(tmp_path))
    assert find_provider_mirror() == tmp_path


def test_repo_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    config = _config(tmp_path)
    nested = tmp_path / "terraform" / "environments" / "local"
    assert StackConfig.from_environment(root=None).root.is_dir()  # the real checkout
    assert config.terraform_dir == nested
    assert config.env_file == tmp_path / ".ems" / "local.env"


@pytest.mark.parametrize(
    ("emulator", "port_field", "variable"),
    [
        (LocalStack, "localstack_port", "EMS_LOCALSTACK_PORT"),
        (DynamoDBLocal, "dynamodb_port", "EMS_DYNAMODB_PORT"),
    ],
)
def test_a_port_taken_by_another_program_is_reported(
    tmp_path: Path,
    emulator: type[LocalStack] | type[DynamoDBLocal],
    port_field: str,
    variable: str,
) -> None:
    # Given a program that is not the emulator listening on its port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        config = _config(tmp_path, **{port_field: port})
        # When the stack tries to use it, Then it says which port and how to move
        with pytest.raises(StackError, match=rf"port {port} is taken .*{variable}"):
            emulator(config).ensure_running()
