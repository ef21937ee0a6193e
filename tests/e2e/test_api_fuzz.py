"""schemathesis drives every operation of /openapi.json with generated requests: no 5xx.

Generated bodies, queries and paths go to the real API on the local stack, with the real key;
every answer must be a deliberate one (2xx, or a 4xx that says what is wrong), never a 500.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from ems_devstack.stack import LocalStackStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api_schema(local_stack: LocalStackStack) -> OpenApiSchema:
    """The API's own OpenAPI document, fetched over HTTP with the key."""
    return schemathesis.openapi.from_url(
        f"{os.environ['EMS_API_URL']}/openapi.json",
        headers={"X-Api-Key": os.environ["EMS_API_KEY"]},
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_server_error(case: Any) -> None:
    case.call_and_validate(
        headers={"X-Api-Key": os.environ["EMS_API_KEY"]},
        checks=[not_a_server_error],
        timeout=30,
    )
