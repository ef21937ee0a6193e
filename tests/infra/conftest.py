"""The offline plans of the AWS environments, for tests that check what a deployer relies on.

`.ems/infra/<env>.plan.json` is what `make infra` writes; it is planned again here when it is
missing or older than anything under terraform/ or dist/. No AWS account is needed, but
Terraform and the Lambda zips (`make package`) are: without them these tests fail, saying so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ems_devstack.config import find_repo_root
from ems_devstack.infra_checks import (
    DEFAULT_PLAN_ENVIRONMENTS,
    InfraPaths,
    plan_environment,
    plan_is_stale,
)
from ems_devstack.processes import StackError
from tests.infra.planfile import Plan

# The ones `make infra` plans: dev, staging and prod.
PLANNED_ENVIRONMENTS = DEFAULT_PLAN_ENVIRONMENTS
_plans: dict[str, Plan] = {}


def load_plan(environment: str) -> Plan:
    """The environment's offline plan, planned first if missing or stale (once a session)."""
    if environment in _plans:
        return _plans[environment]
    paths = InfraPaths(find_repo_root(Path(__file__).parent))
    if plan_is_stale(paths, environment):
        if shutil.which("terraform") is None:
            pytest.fail(
                f"terraform is not installed, and tests/infra need the offline plan of"
                f" {environment} ({paths.plan_json(environment)} is missing or stale):"
                " install Terraform >= 1.6 and put it on PATH"
            )
        try:
            plan_environment(paths, environment)
        except StackError as exc:
            pytest.fail(f"cannot plan {environment} offline: {exc}")
    plan = Plan.from_json(paths.plan_json(environment).read_text(), environment)
    _plans[environment] = plan
    return plan


@pytest.fixture(scope="session", params=PLANNED_ENVIRONMENTS)
def plan(request: pytest.FixtureRequest) -> Plan:
    """Each planned environment in turn."""
    return load_plan(str(request.param))


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    """The prod plan."""
    return load_plan("prod")
