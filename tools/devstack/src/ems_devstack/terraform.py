"""Terraform against the local stack, offline where a provider mirror is installed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ems_devstack.config import TERRAFORM_DEADLINE_S, StackConfig
from ems_devstack.processes import StackError, run

MIRROR_FOLDER_NAME = "tf-plugins"
# Where machines without internet keep the provider mirror; searched at run time (like
# `find / -maxdepth 3 -type d -name tf-plugins`), never written into the project.
_MIRROR_GLOBS = ("/*/tf-plugins", "/*/*/tf-plugins")


def find_provider_mirror() -> Path | None:
    """A filesystem mirror of Terraform providers on this machine, if there is one."""
    explicit = os.environ.get("EMS_TF_PROVIDER_MIRROR")
    if explicit:
        return Path(explicit)
    for pattern in _MIRROR_GLOBS:
        for found in sorted(Path("/").glob(pattern.lstrip("/"))):
            if found.is_dir() and (found / "registry.terraform.io").is_dir():
                return found
    return None


def terraform_executable() -> str:
    """The terraform on PATH; a clear error where there is none."""
    found = shutil.which("terraform")
    if found is None:
        msg = "terraform is not installed: install Terraform >= 1.6 and put it on PATH"
        raise StackError(msg)
    return found


def cli_config_text(mirror: Path) -> str:
    """A Terraform CLI config that installs providers from `mirror` only."""
    return f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'


class Terraform:
    """Runs `terraform` for one environment root, with state and data kept under .ems/."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.log_file = config.logs_dir / "terraform.log"

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_DATA_DIR": str(self.config.state_dir / "terraform" / f"{self.config.environment}"),
        }
        mirror = find_provider_mirror()
        if mirror is not None:
            rc = self.config.state_dir / "terraform" / "terraformrc"
            rc.parent.mkdir(parents=True, exist_ok=True)
            rc.write_text(cli_config_text(mirror))
            env["TF_CLI_CONFIG_FILE"] = str(rc)
        return env

    def _terraform(self) -> str:
        return terraform_executable()

    def _run(self, *args: str, what: str) -> str:
        return run(
            [self._terraform(), f"-chdir={self.config.terraform_dir}", *args],
            what=what,
            deadline_s=TERRAFORM_DEADLINE_S,
            env=self._env(),
            log_file=self.log_file,
        )

    def apply(self, variables: dict[str, str]) -> None:
        """`terraform init` and `apply` of the environment root."""
        self.config.terraform_state.parent.mkdir(parents=True, exist_ok=True)
        self._run(
            "init",
            "-input=false",
            "-reconfigure",
            f"-backend-config=path={self.config.terraform_state}",
            what=f"terraform init of {self.config.terraform_dir}",
        )
        print(f"[ems-stack] terraform apply of {self.config.terraform_dir} (about a minute)")
        var_args = [f"-var={key}={value}" for key, value in variables.items()]
        self._run(
            "apply",
            "-input=false",
            "-auto-approve",
            *var_args,
            what=f"terraform apply of {self.config.terraform_dir} (log: {self.log_file})",
        )

    def outputs(self) -> dict[str, object]:
        """The root's outputs, as plain values."""
        raw = json.loads(self._run("output", "-json", what="terraform output"))
        return {name: entry["value"] for name, entry in raw.items()}

    def forget_state(self) -> None:
        """Drop the state: the emulators keep nothing in memory across restarts."""
        self.config.terraform_state.unlink(missing_ok=True)
        Path(f"{self.config.terraform_state}.backup").unlink(missing_ok=True)
