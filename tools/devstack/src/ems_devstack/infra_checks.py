"""`ems-stack infra-check`: the Terraform checks CI runs, offline, as one command.

1. `terraform fmt -check` of terraform/.
2. `terraform init -backend=false` + `validate` of every root (environments/* and modules/*).
3. An offline `terraform plan` of some AWS environments (dev, staging and prod by default): the
   one AWS root, environments/aws, with the environment's `<env>.tfvars`, in a copy of
   terraform/ with an override file that swaps the S3 backend for a local one and gives the AWS
   provider dummy credentials, so that no call reaches AWS; the plan is written as JSON to
   `.ems/infra/<env>.plan.json` (tests/infra reads it too).
4. terraform-compliance with the features in terraform/compliance/ on each plan.

Nothing is written into the source tree: validate and plan run on copies under `.ems/infra/`,
each root with its own TF_DATA_DIR there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ems_devstack.config import TERRAFORM_DEADLINE_S
from ems_devstack.processes import StackError, run
from ems_devstack.terraform import cli_config_text, find_provider_mirror, terraform_executable

# Pinned like CHECKOV_VERSION in the Makefile; installed on demand by `uv tool run`.
TERRAFORM_COMPLIANCE_VERSION = "1.16.0"
# The environments planned when none is named (a plan and its compliance run take 10-25 s on
# 2 cores, as busy as they are).
DEFAULT_PLAN_ENVIRONMENTS = ("dev", "staging", "prod")
# The one Terraform root of every AWS environment, under terraform/environments/; an
# environment is its variables file and its backend settings there.
AWS_ROOT = "aws"
TFVARS_SUFFIX = ".tfvars"
BACKEND_CONFIG_SUFFIX = ".s3.tfbackend"
# Passed as var.account_id, so that the AWS root skips the aws_caller_identity data source (STS).
OFFLINE_ACCOUNT_ID = "123456789012"
OVERRIDE_FILE_NAME = "offline_override.tf"
COMPLIANCE_DEADLINE_S = 600.0
# Validate is mostly provider-schema loading (one core each): two at a time on 2 cores.
DEFAULT_VALIDATE_JOBS = 2

Progress = Callable[[str], None]


def _print_progress(line: str) -> None:
    print(f"[infra-check] {line}", flush=True)


@dataclass(frozen=True)
class InfraPaths:
    """Where the checks read from (the checkout) and write to (`.ems/infra/`)."""

    root: Path
    # Where the Lambda zips are (var.package_dir); None: dist/ in the checkout.
    package_dir: Path | None = None

    @property
    def terraform_dir(self) -> Path:
        """The Terraform source tree."""
        return self.root / "terraform"

    @property
    def compliance_dir(self) -> Path:
        """The terraform-compliance features."""
        return self.terraform_dir / "compliance"

    @property
    def dist_dir(self) -> Path:
        """Where `make package` puts the Lambda zips (var.package_dir)."""
        return self.package_dir or self.root / "dist"

    @property
    def work_dir(self) -> Path:
        """Everything the checks write."""
        return self.root / ".ems" / "infra"

    @property
    def cli_config_file(self) -> Path:
        """The generated Terraform CLI config (TF_CLI_CONFIG_FILE)."""
        return self.work_dir / "terraformrc"

    @property
    def validate_dir(self) -> Path:
        """The copy of terraform/ that is validated."""
        return self.work_dir / "validate"

    @property
    def log_file(self) -> Path:
        """Every command's full output."""
        return self.work_dir / "infra-check.log"

    def plan_dir(self, environment: str) -> Path:
        """The scratch copy of terraform/ an environment is planned in."""
        return self.work_dir / f"plan-{environment}"

    def plan_json(self, environment: str) -> Path:
        """The environment's plan as `terraform show -json` writes it."""
        return self.work_dir / f"{environment}.plan.json"

    @property
    def aws_root(self) -> Path:
        """The Terraform root of every AWS environment, in the source tree."""
        return self.terraform_dir / "environments" / AWS_ROOT

    def tfvars(self, environment: str) -> Path:
        """The environment's variables (`-var-file`)."""
        return self.aws_root / f"{environment}{TFVARS_SUFFIX}"

    def backend_config(self, environment: str) -> Path:
        """The environment's S3 backend settings (`init -backend-config`): its state's key."""
        return self.aws_root / f"{environment}{BACKEND_CONFIG_SUFFIX}"

    def guard_dir(self) -> Path:
        """The scratch copy of terraform/ the environment guard is tried in."""
        return self.work_dir / "guard"

    def trial_dir(self) -> Path:
        """The scratch copy of terraform/ where variables are tried (`trial_plan`)."""
        return self.work_dir / "trial"


def terraform_roots(terraform_dir: Path) -> list[Path]:
    """Every root to validate: each folder of environments/ and modules/ holding a .tf file."""
    return sorted(
        folder
        for group in ("environments", "modules")
        for folder in (terraform_dir / group).glob("*")
        if folder.is_dir() and any(folder.glob("*.tf"))
    )


def offline_override_text() -> str:
    """The override file that lets a root plan with no AWS account and no network.

    Terraform merges `*_override.tf` into the root: the backend becomes a local one (no S3,
    no DynamoDB lock) and the provider gets dummy credentials and skips every call it would
    make at configuration time (STS, EC2 metadata, region lookup); the account id check
    (allowed_account_ids) goes too, as the account is never asked for.
    """
    return (
        "# Written by `ems-stack infra-check`: an offline plan, no AWS account needed.\n"
        "terraform {\n"
        '  backend "local" {}\n'
        "}\n"
        "\n"
        'provider "aws" {\n'
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  # The account is never asked for (STS), so no account id can be checked either.\n"
        "  allowed_account_ids = null\n"
        "}\n"
    )


def fmt_args(terraform_dir: Path) -> list[str]:
    """`terraform fmt` arguments: check only, whole tree."""
    return ["fmt", "-check", "-recursive", "-no-color", str(terraform_dir)]


def validate_init_args() -> list[str]:
    """`terraform init` arguments for validation: no backend, no prompt."""
    return ["init", "-backend=false", "-input=false", "-no-color"]


def validate_args() -> list[str]:
    """`terraform validate` arguments."""
    return ["validate", "-no-color"]


def plan_init_args() -> list[str]:
    """`terraform init` arguments for the offline plan (the override's local backend)."""
    return ["init", "-input=false", "-no-color"]


def plan_args(environment: str, package_dir: Path, plan_file: str = "plan.bin") -> list[str]:
    """`terraform plan` arguments: no refresh (nothing exists), no lock, the env's tfvars."""
    return [
        "plan",
        "-lock=false",
        f"-out={plan_file}",
        *_offline_variables(environment, package_dir),
    ]


def _offline_variables(environment: str, package_dir: Path) -> list[str]:
    """The environment's tfvars, the dummy account and the Lambda zips' folder."""
    return [
        "-input=false",
        "-refresh=false",
        "-no-color",
        f"-var-file={environment}{TFVARS_SUFFIX}",
        f"-var=account_id={OFFLINE_ACCOUNT_ID}",
        f"-var=package_dir={package_dir.resolve()}",
    ]


def compliance_command(
    uv: str, python: str, plan_json: Path, features_dir: Path, version: str | None = None
) -> list[str]:
    """The terraform-compliance command line, run by `uv tool run` on a given interpreter.

    `--silent` keeps the output to the summary and the failures; `--no-ansi` is radish's
    (terraform-compliance passes unknown options on to it).
    """
    return [
        uv,
        "tool",
        "run",
        "-p",
        python,
        "--from",
        f"terraform-compliance=={version or TERRAFORM_COMPLIANCE_VERSION}",
        "terraform-compliance",
        "--no-ansi",
        "--silent",
        "-p",
        str(plan_json),
        "-f",
        str(features_dir),
    ]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def compliance_failures(output: str) -> list[str]:
    """The failures in terraform-compliance's `--silent` output, each with where it happened.

    Each is "<feature> / <scenario> / <example row>: <message>" (a Scenario Outline's title is
    not printed in silent mode, its example row is).
    """
    failures: list[str] = []
    feature = scenario = example = ""
    for raw in _ANSI.sub("", output).splitlines():
        line = raw.strip()
        if line.startswith("Feature:"):
            feature = line.removeprefix("Feature:").split("  #")[0].strip()
            scenario = example = ""
        elif line.startswith(("Scenario:", "Scenario Outline:")):
            scenario = line.split(":", 1)[1].strip()
            example = ""
        elif line.startswith("|"):
            example = line
        elif line.startswith("Failure:") and (message := line.removeprefix("Failure:").strip()):
            where = " / ".join(part for part in (feature, scenario, example) if part)
            failures.append(f"{where}: {message}" if where else message)
    return list(dict.fromkeys(failures))


def compliance_summary(output: str) -> str:
    """radish's closing counts, e.g. '12 scenarios (12 passed)', on one line."""
    counts = [
        line.strip()
        for line in _ANSI.sub("", output).splitlines()
        if re.match(r"^\s*\d+ (features|scenarios|steps) \(", line)
    ]
    return "; ".join(counts)


class InfraChecks:
    """Runs the checks for one checkout; each step returns or raises a StackError."""

    def __init__(
        self,
        paths: InfraPaths,
        *,
        progress: Progress = _print_progress,
        python: str | None = None,
    ) -> None:
        self.paths = paths
        self.progress = progress
        self.python = python or sys.executable

    # --- tools ------------------------------------------------------------------------

    def terraform(self) -> str:
        """The terraform executable."""
        return terraform_executable()

    def uv(self) -> str:
        """The project's uv (bootstrapped by `make install`), else one on PATH."""
        own = self.paths.root / ".ems" / "tools" / "bin" / "uv"
        if own.is_file():
            return str(own)
        found = shutil.which("uv")
        if found is None:
            raise StackError("uv is not installed: run `make install` first")
        return found

    def env(self, data_dir: Path) -> dict[str, str]:
        """Terraform's environment: no telemetry or prompts, providers from the mirror."""
        env = {
            **os.environ,
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_DATA_DIR": str(data_dir),
        }
        mirror = find_provider_mirror()
        if mirror is not None:
            config = self.paths.cli_config_file
            config.parent.mkdir(parents=True, exist_ok=True)
            # Replaced whole, never rewritten in place: validations read it in parallel.
            staged = config.with_name(f"{config.name}.{threading.get_ident()}")
            staged.write_text(cli_config_text(mirror))
            staged.replace(config)
            env["TF_CLI_CONFIG_FILE"] = str(config)
        return env

    def run_terraform(self, chdir: Path, args: Sequence[str], *, what: str, data_dir: Path) -> str:
        """`terraform -chdir=<chdir> <args>` with its own data dir; its output, or a StackError."""
        return run(
            [self.terraform(), f"-chdir={chdir}", *args],
            what=what,
            deadline_s=TERRAFORM_DEADLINE_S,
            env=self.env(data_dir),
            log_file=self.paths.log_file,
        )

    def _timed(self, label: str, step: Callable[[], str | None]) -> None:
        started = time.monotonic()
        detail = step()
        suffix = f": {detail}" if detail else ""
        self.progress(f"{label} ok in {time.monotonic() - started:.1f} s{suffix}")

    # --- steps ------------------------------------------------------------------------

    def fmt(self) -> None:
        """Step 1: every .tf file is formatted."""

        def step() -> None:
            try:
                run(
                    [self.terraform(), *fmt_args(self.paths.terraform_dir)],
                    what="terraform fmt",
                    deadline_s=TERRAFORM_DEADLINE_S,
                    log_file=self.paths.log_file,
                )
            except StackError as exc:
                msg = f"{exc}\n(these files are not formatted: run `make fmt`)"
                raise StackError(msg) from exc

        self._timed("terraform fmt -check", step)

    def validate(self, jobs: int = DEFAULT_VALIDATE_JOBS) -> None:
        """Step 2: `init -backend=false` and `validate` of every root, on a copy of the tree."""
        started = time.monotonic()
        copy = _fresh_copy(self.paths.terraform_dir, self.paths.validate_dir / "terraform")
        roots = [
            copy / root.relative_to(self.paths.terraform_dir)
            for root in terraform_roots(self.paths.terraform_dir)
        ]
        if not roots:
            raise StackError(f"no Terraform root under {self.paths.terraform_dir}")

        def one(root: Path) -> str | None:
            name = f"terraform/{root.relative_to(copy)}"
            data_dir = self.paths.validate_dir / "data" / name.replace("/", "-")
            began = time.monotonic()
            try:
                self.run_terraform(
                    root, validate_init_args(), what=f"terraform init of {name}", data_dir=data_dir
                )
                self.run_terraform(
                    root, validate_args(), what=f"terraform validate of {name}", data_dir=data_dir
                )
            except StackError as exc:
                return str(exc).replace(str(copy), "terraform")
            self.progress(f"validate {name} ok in {time.monotonic() - began:.1f} s")
            return None

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            problems = [problem for problem in pool.map(one, roots) if problem is not None]
        if problems:
            raise StackError("\n\n".join(problems))
        self.progress(
            f"validate of {len(roots)} roots ok in {time.monotonic() - started:.1f} s"
            f" ({jobs} at a time)"
        )

    def plan(self, environment: str) -> Path:
        """Step 3: the offline plan of one environment, as JSON; returns its path."""
        started = time.monotonic()
        path = plan_environment(self.paths, environment, runner=self)
        self.progress(f"plan {environment} ok in {time.monotonic() - started:.1f} s: {path}")
        return path

    def compliance(self, environment: str) -> None:
        """Step 4: terraform-compliance with terraform/compliance/*.feature on the plan."""
        plan_json = self.paths.plan_json(environment)
        features = self.paths.compliance_dir
        if not any(features.glob("*.feature")):
            raise StackError(f"no terraform-compliance feature in {features}")
        argv = compliance_command(self.uv(), self.python, plan_json, features)
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=COMPLIANCE_DEADLINE_S,
                check=False,
                cwd=self.paths.root,
                # docopt, one of its dependencies, warns about its own regexes on 3.13.
                env={**os.environ, "PYTHONWARNINGS": "ignore", "NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired as exc:
            msg = f"terraform-compliance on {plan_json}: no result in {COMPLIANCE_DEADLINE_S} s"
            raise StackError(msg) from exc
        output = done.stdout + done.stderr
        self.paths.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.paths.log_file.open("a") as log:
            log.write(f"$ {' '.join(argv)}\n{output}\n")
        failures = compliance_failures(output)
        if done.returncode != 0 or failures:
            shown = "\n".join(f"  - {failure}" for failure in failures) or "\n".join(
                output.strip().splitlines()[-25:]
            )
            msg = (
                f"terraform-compliance failed on the {environment} plan ({plan_json}),"
                f" features in {features}:\n{shown}\n(full output: {self.paths.log_file})"
            )
            raise StackError(msg)
        self.progress(
            f"compliance {environment} ok in {time.monotonic() - started:.1f} s:"
            f" {compliance_summary(output)}"
        )

    def run_all(
        self,
        environments: Iterable[str] = DEFAULT_PLAN_ENVIRONMENTS,
        *,
        jobs: int = DEFAULT_VALIDATE_JOBS,
    ) -> None:
        """Every step, in order; stops at the first that fails."""
        self.paths.work_dir.mkdir(parents=True, exist_ok=True)
        self.paths.log_file.write_text("")
        started = time.monotonic()
        self.fmt()
        self.validate(jobs=jobs)
        planned = list(dict.fromkeys(environments))
        for environment in planned:
            self.plan(environment)
        for environment in planned:
            self.compliance(environment)
        self.progress(f"all checks passed in {time.monotonic() - started:.0f} s")


def _fresh_copy(source: Path, target: Path) -> Path:
    """Copy `source` to `target` (replacing it), without Terraform's data or state."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", OVERRIDE_FILE_NAME),
    )
    return target


def require_packages(dist_dir: Path) -> None:
    """The Lambda zips the AWS root reads through var.package_dir must be there."""
    if not any(dist_dir.glob("*.zip")):
        msg = f"no Lambda package in {dist_dir}: run `make package` first"
        raise StackError(msg)


def aws_environments(paths: InfraPaths) -> list[str]:
    """The AWS environments defined: one per variables file in the AWS root."""
    return sorted(
        path.name.removesuffix(TFVARS_SUFFIX) for path in paths.aws_root.glob(f"*{TFVARS_SUFFIX}")
    )


def state_key(environment: str) -> str:
    """Where an environment's state is in the state bucket (its backend settings' `key`)."""
    return f"ems/{environment}/terraform.tfstate"


_BACKEND_KEY = re.compile(r'^\s*key\s*=\s*"([^"]*)"', re.M)


def require_environment(paths: InfraPaths, environment: str) -> None:
    """The environment's files are in the AWS root, and its state key is its own."""
    root = paths.aws_root
    if not root.is_dir():
        raise StackError(f"no Terraform root for the AWS environments at {root}")
    tfvars = paths.tfvars(environment)
    if not tfvars.is_file():
        known = ", ".join(aws_environments(paths)) or "none"
        msg = (
            f"environment {environment!r} has no variables file {tfvars}"
            f" (the AWS environments are: {known})"
        )
        raise StackError(msg)
    backend = paths.backend_config(environment)
    if not backend.is_file():
        msg = (
            f"environment {environment!r} has no backend settings {backend}: write it with"
            f' its state\'s key, key = "{state_key(environment)}"'
        )
        raise StackError(msg)
    keys = _BACKEND_KEY.findall(backend.read_text())
    if keys != [state_key(environment)]:
        msg = (
            f"{backend} must set the {environment} state's key once,"
            f' key = "{state_key(environment)}" (it sets {keys or "none"}): two environments'
            " sharing a key would share one state"
        )
        raise StackError(msg)


def _offline_root(paths: InfraPaths, work: Path) -> Path:
    """A copy of terraform/ under `work`, its AWS root given the offline override; the root."""
    copy = _fresh_copy(paths.terraform_dir, work / "terraform")
    root = copy / "environments" / AWS_ROOT
    (root / OVERRIDE_FILE_NAME).write_text(offline_override_text())
    return root


def _offline_terraform(
    checks: InfraChecks, root: Path, data_dir: Path
) -> Callable[[Sequence[str], str], str]:
    """Runs terraform in an offline copy's root; errors name the source tree, not the copy."""
    copy = root.parents[1]

    def terraform(args: Sequence[str], what: str) -> str:
        try:
            return checks.run_terraform(root, args, what=what, data_dir=data_dir)
        except StackError as exc:
            raise StackError(str(exc).replace(str(copy), "terraform")) from exc

    return terraform


def plan_environment(
    paths: InfraPaths, environment: str, *, runner: InfraChecks | None = None
) -> Path:
    """The offline plan of one AWS environment, as JSON; returns its path.

    Runs in a copy of the whole terraform/ tree under `.ems/infra/plan-<environment>/`, so the
    relative module sources still resolve, with `offline_override.tf` added to the AWS root.
    """
    checks = runner or InfraChecks(paths)
    require_environment(paths, environment)
    require_packages(paths.dist_dir)

    plan_dir = paths.plan_dir(environment)
    root = _offline_root(paths, plan_dir)
    terraform = _offline_terraform(checks, root, plan_dir / "data")
    name = f"terraform/environments/{AWS_ROOT} with {environment}{TFVARS_SUFFIX}"
    terraform(plan_init_args(), f"offline terraform init of {name}")
    terraform(plan_args(environment, paths.dist_dir), f"offline terraform plan of {name}")
    shown = terraform(["show", "-json", "plan.bin"], f"terraform show of the {environment} plan")
    target = paths.plan_json(environment)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(shown)
    return target


# What the root records of the environment it is applied with: the guard that refuses to plan
# one environment's variables against another's state (environments/aws/main.tf).
GUARD_ADDRESS = "terraform_data.environment"


@dataclass(frozen=True)
class GuardTrial:
    """The AWS root in a scratch copy whose local state holds what applying one environment
    records for the guard, and nothing else (made by `seed_guard_state`)."""

    paths: InfraPaths
    state_environment: str
    terraform: Callable[[Sequence[str], str], str]

    def plan(self, environment: str) -> str | None:
        """A whole plan of `environment`'s variables against that state, as a deployer runs it:
        None if it succeeds, else Terraform's error with its wrapped lines joined."""
        require_environment(self.paths, environment)
        try:
            self.terraform(
                ["plan", "-lock=false", *_offline_variables(environment, self.paths.dist_dir)],
                f"plan of {environment}{TFVARS_SUFFIX} against {self.state_environment}'s state",
            )
        except StackError as exc:
            return " ".join(str(exc).split())
        return None


def seed_guard_state(
    paths: InfraPaths, environment: str, *, runner: InfraChecks | None = None
) -> GuardTrial:
    """A scratch AWS root (`.ems/infra/guard/`) whose state is what applying `environment`
    leaves of the guard: `apply -target` of that one built-in resource, which calls no AWS API.
    """
    checks = runner or InfraChecks(paths)
    require_environment(paths, environment)
    require_packages(paths.dist_dir)
    work = paths.guard_dir()
    terraform = _offline_terraform(checks, _offline_root(paths, work), work / "data")
    terraform(plan_init_args(), "offline terraform init of the guard's scratch root")
    terraform(
        [
            "apply",
            "-auto-approve",
            f"-target={GUARD_ADDRESS}",
            *_offline_variables(environment, paths.dist_dir),
        ],
        f"apply of {GUARD_ADDRESS} alone with {environment}{TFVARS_SUFFIX}",
    )
    return GuardTrial(paths, environment, terraform)


@dataclass(frozen=True)
class VariableTrial:
    """The AWS root in a scratch copy (`.ems/infra/trial/`), initialised, where an
    environment's plan is tried with some variables changed (made by `variable_trial`)."""

    paths: InfraPaths
    terraform: Callable[[Sequence[str], str], str]

    def plan(self, environment: str, variables: Mapping[str, str]) -> str | None:
        """A plan of `environment` with `variables` set over its tfvars, as a deployer's
        `-var` would: None if it succeeds, else Terraform's error with its wrapped lines
        joined (what the variables' validations and the modules' preconditions say)."""
        require_environment(self.paths, environment)
        settings = [f"-var={name}={value}" for name, value in variables.items()]
        try:
            self.terraform(
                [
                    "plan",
                    "-lock=false",
                    *_offline_variables(environment, self.paths.dist_dir),
                    *settings,
                ],
                f"plan of {environment}{TFVARS_SUFFIX} with {' '.join(settings)}",
            )
        except StackError as exc:
            return " ".join(str(exc).split())
        return None


def variable_trial(paths: InfraPaths, *, runner: InfraChecks | None = None) -> VariableTrial:
    """A fresh offline copy of the AWS root, initialised, to try variables in."""
    checks = runner or InfraChecks(paths)
    require_packages(paths.dist_dir)
    work = paths.trial_dir()
    terraform = _offline_terraform(checks, _offline_root(paths, work), work / "data")
    terraform(plan_init_args(), "offline terraform init of the variables' scratch root")
    return VariableTrial(paths, terraform)


def plan_is_stale(paths: InfraPaths, environment: str) -> bool:
    """Whether the plan JSON is missing or older than a file under terraform/ or dist/."""
    plan_json = paths.plan_json(environment)
    if not plan_json.is_file():
        return True
    written = plan_json.stat().st_mtime
    return any(
        path.stat().st_mtime > written
        for folder in (paths.terraform_dir, paths.dist_dir)
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file() and ".terraform" not in path.parts
    )


def environment_names(
    extra: Sequence[str], defaults: Sequence[str] = DEFAULT_PLAN_ENVIRONMENTS
) -> list[str]:
    """The environments to plan: the defaults plus any named, each once, in order."""
    return list(dict.fromkeys([*defaults, *extra]))
