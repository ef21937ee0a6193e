"""One root, every AWS environment: one's variables must not plan against another's state.

terraform/environments/aws records in each state the environment it was applied with (the
resource terraform_data.environment); a plan whose variables name another environment fails,
saying what to run instead. Tried offline: a scratch state holding only that resource, as an
apply of dev leaves it, then whole plans of prod's and dev's variables against it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ems_devstack.config import find_repo_root
from ems_devstack.infra_checks import GUARD_ADDRESS, InfraPaths, seed_guard_state
from ems_devstack.processes import StackError
from tests.infra.planfile import Plan

pytestmark = pytest.mark.infra


def test_prod_variables_against_dev_state_fail_at_plan_saying_what_to_do() -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed: install Terraform >= 1.10 and put it on PATH")
    paths = InfraPaths(find_repo_root(Path(__file__).parent))
    # Given a state that dev's apply made
    try:
        trial = seed_guard_state(paths, "dev")
    except StackError as exc:
        pytest.fail(f"cannot make dev's scratch state offline: {exc}")

    # When prod's variables are planned against it, the plan fails, naming both ways out
    error = trial.plan("prod")
    assert error is not None, "a plan of prod.tfvars against dev's state succeeded"
    assert "This state belongs to the dev environment, but the variables are prod's" in error
    assert "Nothing was changed." in error
    assert "init -reconfigure -backend-config=prod.s3.tfbackend" in error
    assert "use -var-file=dev.tfvars" in error

    # And dev's own variables still plan
    assert trial.plan("dev") is None


def test_each_plan_records_the_environment_its_variables_name(plan: Plan) -> None:
    guards = [r for r in plan.managed("terraform_data") if r.address == GUARD_ADDRESS]
    assert [g.values.get("input") for g in guards] == [plan.name], (
        f"{plan.name}.tfvars does not set environment = {plan.name!r} for {GUARD_ADDRESS}"
    )
