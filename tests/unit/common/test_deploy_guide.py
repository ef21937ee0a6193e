"""docs/deploy.md's table of settings gives each environment's value: a test fails if a tfvars
file says otherwise (the guide is what an operator sizes an environment by)."""

import re
from pathlib import Path

from ems_devstack.config import find_repo_root
from ems_devstack.infra_checks import DEFAULT_PLAN_ENVIRONMENTS, InfraPaths

ROOT = find_repo_root(Path(__file__).parent)
GUIDE = ROOT / "docs" / "deploy.md"
# The tfvars hold plain `name = value  # comment` lines; python-hcl2 as locked cannot be
# imported (tests/unit/common/test_terraform_names.py), so the scalars are read with a pattern.
_SCALAR = re.compile(r'^\s*(\w+)\s*=\s*("[^"]*"|[-\w.]+)\s*(?:#.*)?$', re.MULTILINE)
# A row of the settings table: | `name` | what it does | value / value / value |
_ROW = re.compile(r"^\| `(\w+)` \| .* \| ([^|]+) \|$", re.MULTILINE)
_PLAIN = re.compile(r"[-\w.]+")


def _tfvars(environment: str) -> dict[str, str]:
    text = InfraPaths(ROOT).tfvars(environment).read_text()
    return {name: value.strip('"') for name, value in _SCALAR.findall(text)}


def _documented() -> dict[str, tuple[str, ...]]:
    """The rows that give one plain value per environment (`a / b / c`)."""
    rows = {}
    for name, values in _ROW.findall(GUIDE.read_text()):
        parts = tuple(part.strip() for part in values.split(" / "))
        if len(parts) == len(DEFAULT_PLAN_ENVIRONMENTS) and all(_PLAIN.fullmatch(p) for p in parts):
            rows[name] = parts
    return rows


def test_the_deploy_guide_gives_each_environments_value_as_its_tfvars_do() -> None:
    documented = _documented()
    assert "sender_max_concurrency" in documented, "docs/deploy.md's settings table not found"
    tfvars = {environment: _tfvars(environment) for environment in DEFAULT_PLAN_ENVIRONMENTS}
    differ = {
        name: {"guide": values, "tfvars": planned}
        for name, values in documented.items()
        if values != (planned := tuple(tfvars[e].get(name) for e in DEFAULT_PLAN_ENVIRONMENTS))
    }
    assert not differ, f"docs/deploy.md (dev / staging / prod) differs from the tfvars: {differ}"
