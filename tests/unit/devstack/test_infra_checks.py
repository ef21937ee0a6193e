"""`ems-stack infra-check`'s pure parts: override file, command lines, roots, output parsing."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from ems_devstack.config import find_repo_root
from ems_devstack.infra_checks import (
    DEFAULT_PLAN_ENVIRONMENTS,
    OFFLINE_ACCOUNT_ID,
    TERRAFORM_COMPLIANCE_VERSION,
    InfraPaths,
    aws_environments,
    compliance_command,
    compliance_failures,
    compliance_summary,
    environment_names,
    fmt_args,
    offline_override_text,
    plan_args,
    plan_environment,
    plan_is_stale,
    require_environment,
    require_packages,
    state_key,
    terraform_roots,
    validate_init_args,
)
from ems_devstack.processes import StackError

# What terraform-compliance 1.16.0 prints with --silent --no-ansi (trimmed from a real run).
SILENT_OUTPUT = """\
terraform_compliance v1.16.0 initiated

> Features\t: /repo/terraform/compliance/
> Plan File\t: /repo/.ems/infra/prod.plan.json
> Suppressing output enabled.
* Running in non-interactive mode.
Feature: Every resource carries the project's tags  # /repo/terraform/compliance/tags.feature
        | Project     |
          Failure: aws_sns_topic.partly_tagged (resource that supports tags_all) does not have \
Project property.

Feature: DynamoDB tables can be restored and are encrypted at rest  # /repo/dynamodb.feature

    Scenario: every table has point-in-time recovery
        Given I have aws_dynamodb_table defined
        Then it must have point_in_time_recovery
        Then it must have enabled
        And its value must be true
          Failure: enabled property in aws_dynamodb_table.pitr_off resource does not match \
with ^true$ case insensitive regex. It is set to False.
          Failure:

4 features (0 passed, 4 failed)
13 scenarios (6 passed, 7 failed)
48 steps (38 passed, 7 failed, 3 skipped)
"""


def test_override_swaps_the_backend_and_makes_the_provider_ask_aws_nothing() -> None:
    text = offline_override_text()
    blocks = dict(re.findall(r'^(terraform|provider "aws") \{\n(.*?)^\}', text, re.S | re.M))
    assert blocks["terraform"].split() == ["backend", '"local"', "{}"]
    provider = dict(re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", blocks['provider "aws"'], re.M))
    assert provider == {
        "access_key": '"test"',
        "secret_key": '"test"',
        "skip_credentials_validation": "true",
        "skip_requesting_account_id": "true",
        "skip_metadata_api_check": "true",
        "skip_region_validation": "true",
        # An environment pinning its account could not plan: the account is never asked for.
        "allowed_account_ids": "null",
    }


def test_plan_arguments_are_offline_and_name_the_env_files(tmp_path: Path) -> None:
    args = plan_args("prod", tmp_path / "dist")
    assert args[0] == "plan"
    assert {"-input=false", "-refresh=false", "-lock=false", "-out=plan.bin"} <= set(args)
    assert "-var-file=prod.tfvars" in args
    assert f"-var=account_id={OFFLINE_ACCOUNT_ID}" in args
    assert f"-var=package_dir={(tmp_path / 'dist').resolve()}" in args


def test_validate_init_has_no_backend_and_fmt_only_checks(tmp_path: Path) -> None:
    assert validate_init_args()[:3] == ["init", "-backend=false", "-input=false"]
    assert fmt_args(tmp_path)[:3] == ["fmt", "-check", "-recursive"]
    assert fmt_args(tmp_path)[-1] == str(tmp_path)


def test_compliance_runs_the_pinned_version_on_the_given_interpreter(tmp_path: Path) -> None:
    argv = compliance_command("/uv", "/py/python3.13", tmp_path / "p.json", tmp_path / "f")
    assert argv[:5] == ["/uv", "tool", "run", "-p", "/py/python3.13"]
    assert f"terraform-compliance=={TERRAFORM_COMPLIANCE_VERSION}" in argv
    assert argv[argv.index("-p", 5) + 1] == str(tmp_path / "p.json")
    assert argv[argv.index("-f") + 1] == str(tmp_path / "f")
    assert {"--silent", "--no-ansi"} <= set(argv)


def test_failures_name_feature_scenario_and_resource() -> None:
    failures = compliance_failures(SILENT_OUTPUT)
    assert failures == [
        "Every resource carries the project's tags / | Project     |:"
        " aws_sns_topic.partly_tagged (resource that supports tags_all) does not have Project"
        " property.",
        "DynamoDB tables can be restored and are encrypted at rest / every table has"
        " point-in-time recovery: enabled property in aws_dynamodb_table.pitr_off resource does"
        " not match with ^true$ case insensitive regex. It is set to False.",
    ]
    assert compliance_summary(SILENT_OUTPUT) == (
        "4 features (0 passed, 4 failed); 13 scenarios (6 passed, 7 failed);"
        " 48 steps (38 passed, 7 failed, 3 skipped)"
    )


def test_ansi_colours_do_not_hide_failures() -> None:
    coloured = "\x1b[1m\x1b[31mFailure: \x1b[0maws_sqs_queue.x does not have redrive_policy.\n"
    assert compliance_failures(coloured) == ["aws_sqs_queue.x does not have redrive_policy."]


def _tree(root: Path) -> InfraPaths:
    for folder in ("environments/aws", "environments/local", "modules/queue", "modules/empty"):
        (root / "terraform" / folder).mkdir(parents=True)
    for folder in ("environments/aws", "environments/local", "modules/queue"):
        (root / "terraform" / folder / "main.tf").write_text("")
    (root / "terraform" / "README.md").write_text("")
    return InfraPaths(root)


def _environment(paths: InfraPaths, name: str, key: str | None = None) -> None:
    paths.tfvars(name).write_text(f'environment = "{name}"\n')
    key = state_key(name) if key is None else key
    paths.backend_config(name).write_text(f'# its state\nkey = "{key}"\n')


def test_roots_are_every_environment_and_module_with_terraform(tmp_path: Path) -> None:
    paths = _tree(tmp_path)
    names = [str(r.relative_to(paths.terraform_dir)) for r in terraform_roots(paths.terraform_dir)]
    assert names == ["environments/aws", "environments/local", "modules/queue"]


def test_environments_are_dev_staging_and_prod_plus_the_named_ones_once() -> None:
    assert environment_names([]) == list(DEFAULT_PLAN_ENVIRONMENTS) == ["dev", "staging", "prod"]
    assert environment_names(["qa", "prod", "qa"]) == ["dev", "staging", "prod", "qa"]


def test_plan_needs_the_lambda_packages(tmp_path: Path) -> None:
    paths = _tree(tmp_path)
    _environment(paths, "prod")
    with pytest.raises(StackError, match=r"run `make package` first"):
        plan_environment(paths, "prod")
    with pytest.raises(StackError, match="make package"):
        require_packages(tmp_path / "nowhere")


def test_plan_names_a_missing_environment_or_tfvars(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no Terraform root for the AWS environments"):
        plan_environment(InfraPaths(tmp_path), "dev")
    paths = _tree(tmp_path)
    _environment(paths, "prod")
    with pytest.raises(
        StackError, match=r"environment 'qa' has no variables file .*qa\.tfvars .*are: prod\)"
    ):
        plan_environment(paths, "qa")
    with pytest.raises(StackError, match=r"has no variables file .*dev\.tfvars"):
        plan_environment(paths, "dev")


def test_an_environment_is_its_tfvars_and_its_own_state_key(tmp_path: Path) -> None:
    # Given the AWS root with two environments
    paths = _tree(tmp_path)
    _environment(paths, "dev")
    _environment(paths, "prod")
    assert aws_environments(paths) == ["dev", "prod"]
    require_environment(paths, "prod")
    # When one has no backend settings, or a key copied from another: it is refused
    paths.backend_config("prod").unlink()
    with pytest.raises(StackError, match=r'no backend settings .*prod\.s3\.tfbackend.*"ems/prod/'):
        require_environment(paths, "prod")
    _environment(paths, "prod", key=state_key("dev"))
    with pytest.raises(StackError, match=r"would share one state"):
        require_environment(paths, "prod")


def test_a_plan_is_stale_when_missing_or_older_than_terraform_or_dist(tmp_path: Path) -> None:
    paths = _tree(tmp_path)
    paths.dist_dir.mkdir()
    (paths.dist_dir / "sender.zip").write_bytes(b"")
    assert plan_is_stale(paths, "prod")  # never planned

    paths.plan_json("prod").parent.mkdir(parents=True)
    paths.plan_json("prod").write_text("{}")
    later = time.time() + 10
    os.utime(paths.plan_json("prod"), (later, later))
    assert not plan_is_stale(paths, "prod")

    (paths.dist_dir / "sender.zip").touch()
    os.utime(paths.dist_dir / "sender.zip", (later + 5, later + 5))
    assert plan_is_stale(paths, "prod")


def test_the_repository_defines_dev_staging_and_prod_each_with_its_own_state() -> None:
    paths = InfraPaths(find_repo_root(Path(__file__).parent))
    assert aws_environments(paths) == sorted(DEFAULT_PLAN_ENVIRONMENTS)
    for environment in aws_environments(paths):
        require_environment(paths, environment)
        assert f'environment        = "{environment}"' in paths.tfvars(environment).read_text()


def test_package_dir_can_be_moved(tmp_path: Path) -> None:
    assert InfraPaths(tmp_path).dist_dir == tmp_path / "dist"
    assert InfraPaths(tmp_path, package_dir=tmp_path / "zips").dist_dir == tmp_path / "zips"
