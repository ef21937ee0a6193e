"""The whole local stack: emulators, Terraform, and the environment file the services read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ems_common.settings import ENV_PREFIX
from ems_devstack.config import (
    LOCAL_ACCESS_KEY,
    LOCAL_SECRET_KEY,
    REGION,
    STOP_GRACE_S,
    StackConfig,
)
from ems_devstack.emulators import DynamoDBLocal, LocalStack, Ownership
from ems_devstack.processes import StackError
from ems_devstack.services import ServiceRunner, api_key
from ems_devstack.terraform import Terraform

# Outputs of the local root that become scheduler settings besides service_settings.
SCHEDULER_OUTPUTS = ("unsubscribe_keys_secret_id",)


def render_env_file(
    config: StackConfig,
    service_settings: Mapping[str, object],
    *,
    api_key: str,
    region: str = REGION,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The `.ems/local.env` text: AWS endpoints, the API, every Terraform setting as EMS_<KEY>."""
    lines = [
        "# Written by `make up` (ems-stack); do not edit: it is rewritten on every `up`.",
        f"AWS_REGION={region}",
        f"AWS_DEFAULT_REGION={region}",
        f"AWS_ACCESS_KEY_ID={LOCAL_ACCESS_KEY}",
        f"AWS_SECRET_ACCESS_KEY={LOCAL_SECRET_KEY}",
        f"AWS_ENDPOINT_URL={config.localstack_url}",
        f"AWS_ENDPOINT_URL_DYNAMODB={config.dynamodb_url}",
        f"{ENV_PREFIX}API_URL={config.api_url}",
        f"{ENV_PREFIX}API_KEY={api_key}",
        *(f"{ENV_PREFIX}{key.upper()}={value}" for key, value in sorted((extra or {}).items())),
    ]
    for key, value in sorted(service_settings.items()):
        if not isinstance(value, str) or "\n" in value:
            msg = f"Terraform setting {key!r} must be a one-line string, got {value!r}"
            raise StackError(msg)
        lines.append(f"{ENV_PREFIX}{key.upper()}={value}")
    return "\n".join(lines) + "\n"


def parse_env_file(text: str) -> dict[str, str]:
    """Read back a file written by `render_env_file` (KEY=VALUE lines, # comments)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


@dataclass
class UpResult:
    """What `up` found or started."""

    localstack: Ownership
    dynamodb: Ownership
    env: dict[str, str]
    services: list[str]


class LocalStackStack:
    """Brings the local stack up and down; safe to call repeatedly."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.localstack = LocalStack(config)
        self.dynamodb = DynamoDBLocal(config)
        self.terraform = Terraform(config)
        self.services = ServiceRunner(config)

    def install(self) -> None:
        """Install both emulators without starting them."""
        self.localstack.install()
        self.dynamodb.install()

    def up(self) -> UpResult:
        """Start (or reuse) the emulators, apply Terraform, write `.ems/local.env`."""
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            localstack = self.localstack.ensure_running()
            dynamodb = self.dynamodb.ensure_running()
            if Ownership.STARTED in (localstack, dynamodb):
                # Fresh emulators hold nothing, so the old state describes nothing real.
                self.terraform.forget_state()
            self.terraform.apply(
                {
                    "localstack_endpoint": self.config.localstack_url,
                    "dynamodb_endpoint": self.config.dynamodb_url,
                    "region": REGION,
                }
            )
            outputs = self.terraform.outputs()
            settings = outputs.get("service_settings")
            if not isinstance(settings, dict):
                msg = "terraform output `service_settings` is missing or not a map"
                raise StackError(msg)
            text = render_env_file(
                self.config,
                settings,
                api_key=api_key(self.config),
                region=str(outputs.get("region", REGION)),
                # The scheduler's own settings the local root makes (not platform names).
                extra={key: str(outputs[key]) for key in SCHEDULER_OUTPUTS if key in outputs},
            )
            self.config.env_file.write_text(text)
            env = parse_env_file(text)
            print("[ems-stack] starting the EMS services")
            services = self.services.start_all({**os.environ, **env}, STOP_GRACE_S)
        except BaseException:
            # A half-started stack would be left running; `down` is the one way out.
            self.down(quiet=True)
            raise
        return UpResult(localstack, dynamodb, env, services)

    def is_up(self) -> bool:
        """Whether a stack is up: settings written, both emulators answering, and LocalStack
        running this checkout's SES v2 provider (else `up` says to restart it)."""
        return (
            self.config.env_file.exists()
            and self.localstack.ready()
            and self.localstack.runs_current_provider()
            and self.dynamodb.ready()
        )

    def down(self, *, quiet: bool = False) -> list[str]:
        """Stop what this tool started; leave external emulators alone. Returns what stopped."""
        stopped = self.services.stop_all(STOP_GRACE_S)
        stopped += [
            proc.name
            for proc in (self.dynamodb.process, self.localstack.process)
            if proc.stop(STOP_GRACE_S)
        ]
        self.config.env_file.unlink(missing_ok=True)
        if not quiet:
            print(
                f"[ems-stack] stopped: {', '.join(stopped)}"
                if stopped
                else "[ems-stack] nothing was running"
            )
        return stopped

    def status(self) -> dict[str, str]:
        """One line of state per component."""

        def describe(pid: int | None, ready: bool) -> str:
            if pid is not None:
                return f"running (pid {pid})" + ("" if ready else ", not ready")
            return "external (not started by ems-stack)" if ready else "stopped"

        return {
            **self.services.status(),
            "LocalStack": describe(self.localstack.process.pid(), self.localstack.ready()),
            "DynamoDB Local": describe(self.dynamodb.process.pid(), self.dynamodb.ready()),
            "env file": str(self.config.env_file)
            if self.config.env_file.exists()
            else "absent (run `make up`)",
        }
