"""`ems-stack`: start, provision, inspect and stop the local AWS stack."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ems_devstack.config import StackConfig
from ems_devstack.infra_checks import (
    DEFAULT_PLAN_ENVIRONMENTS,
    DEFAULT_VALIDATE_JOBS,
    InfraChecks,
    InfraPaths,
    environment_names,
)
from ems_devstack.package import SERVICES, package
from ems_devstack.processes import StackError
from ems_devstack.stack import LocalStackStack


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="ems-stack",
        description=(
            "The local AWS stack EMS runs and is tested on: LocalStack and DynamoDB Local as"
            " processes (or ones already running, e.g. from docker compose), provisioned by"
            " `terraform apply` of terraform/environments/local."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install LocalStack and DynamoDB Local (no start)")
    commands.add_parser(
        "up", help="start (or reuse) the emulators, apply Terraform, write .ems/local.env"
    )
    commands.add_parser("down", help="stop everything `up` started; leaves no process")
    commands.add_parser("status", help="show what runs")
    commands.add_parser("is-up", help="exit 0 if the whole local stack is up, 1 if not (scripts)")
    commands.add_parser("env", help="print .ems/local.env (for `set -a; . .ems/local.env`)")
    packaging = commands.add_parser(
        "package", help="build one reproducible Lambda zip per service, from uv.lock"
    )
    packaging.add_argument("--out", type=Path, help="where the zips go (default: dist/)")
    packaging.add_argument(
        "--service", action="append", choices=SERVICES, help="only this one (repeatable)"
    )
    infra_check = commands.add_parser(
        "infra-check",
        help="terraform fmt/validate of every root; offline plans checked by terraform-compliance",
    )
    infra_check.add_argument(
        "--env",
        action="append",
        default=[],
        help=(
            "also plan and check this AWS environment (its <env>.tfvars in"
            f" terraform/environments/aws; {', '.join(DEFAULT_PLAN_ENVIRONMENTS)} always are);"
            " repeatable"
        ),
    )
    infra_check.add_argument(
        "--jobs", type=int, default=DEFAULT_VALIDATE_JOBS, help="roots validated at a time"
    )
    args = parser.parse_args(argv)

    try:
        stack = LocalStackStack(StackConfig.from_environment())
        match args.command:
            case "install":
                stack.install()
            case "up":
                started = time.monotonic()
                result = stack.up()
                print(
                    f"[ems-stack] ready in {time.monotonic() - started:.0f} s:"
                    f" LocalStack {result.localstack}, DynamoDB Local {result.dynamodb};"
                    f" settings in {stack.config.env_file}"
                )
                print(f"[ems-stack] services: {', '.join(result.services)}")
                print(
                    f"[ems-stack] API: {result.env['EMS_API_URL']} (key: EMS_API_KEY in"
                    f" {stack.config.env_file}); logs in {stack.config.logs_dir}"
                )
            case "down":
                stack.down()
            case "status":
                for name, state in stack.status().items():
                    print(f"{name:15} {state}")
            case "is-up":
                return 0 if stack.is_up() else 1
            case "env":
                if not stack.config.env_file.exists():
                    raise StackError("the stack is not up: run `make up` first")
                sys.stdout.write(stack.config.env_file.read_text())
            case "package":
                root = stack.config.root
                package(root, args.out or root / "dist", args.service or SERVICES)
            case "infra-check":
                InfraChecks(InfraPaths(stack.config.root)).run_all(
                    environment_names(args.env), jobs=args.jobs
                )
    except StackError as exc:
        print(f"ems-stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
