"""What the Lambda zips hold: each service's code and ems-common, never test or fault code.

Fault injection, crash points, the local runtime and test fakes live in the devstack and the
tests (`ems_devstack.faults`, `tests/support`); a zip that carried them could misbehave on AWS
the day someone set the wrong variable. Reads the zips `make package` wrote to dist/.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ems_devstack.config import find_repo_root

pytestmark = pytest.mark.infra

SERVICES = ("scheduler", "launcher", "sender", "tracker")
# Top-level packages no deployed function may carry: the local stack tool and the tests.
FORBIDDEN_PACKAGES = ("ems_devstack", "ems_cli", "tests", "bench", "chaos", "demo")
# Module names that mean fault injection or test doubles, wherever they sit.
FORBIDDEN_MODULES = ("faults.py", "testing.py", "fakes.py", "limiter_fakes.py", "conftest.py")


def _zip(service: str) -> Path:
    path = find_repo_root(Path(__file__).parent) / "dist" / f"{service}.zip"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make package` first (make infra does)")
    return path


@pytest.mark.parametrize("service", SERVICES)
def test_a_zip_carries_its_service_and_the_shared_library(service: str) -> None:
    names = zipfile.ZipFile(_zip(service)).namelist()
    assert any(name.startswith(f"ems_{service}/") for name in names)
    assert "ems_common/emails.py" in names


@pytest.mark.parametrize("service", SERVICES)
def test_no_zip_carries_fault_injection_the_local_runtime_or_test_fakes(service: str) -> None:
    names = zipfile.ZipFile(_zip(service)).namelist()
    ours = [name for name in names if name.startswith("ems_")]
    assert not [name for name in names if name.split("/", 1)[0] in FORBIDDEN_PACKAGES]
    assert not [name for name in ours if name.rsplit("/", 1)[-1] in FORBIDDEN_MODULES]
    assert not [name for name in ours if "/runtime/" in name]
