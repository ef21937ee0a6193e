"""Personal data on AWS, read from the offline plans: what is logged, and how long what is kept.

Recipients' addresses are in request paths (`/suppressions/<address>`,
`/campaigns/<id>/recipients/<address>`) and unsubscribe tokens are paths too (`/u/<token>`):
the API's access log must name neither the path nor the query string. Uploaded candidates
(every recipient's address) expire, and so do the rejected recipients' details beside a
campaign's record.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ems_common import keys
from tests.infra.planfile import Plan
from tests.infra.test_plan import function_environment

pytestmark = pytest.mark.infra

# HTTP API access-log variables that carry the request's path or query string.
_PATH_OR_QUERY = re.compile(
    r"\$(context\.(path|requestOverride\.path|customDomain\.basePathMatched)|request\.(path|querystring))",
    re.IGNORECASE,
)


def test_the_api_access_log_names_neither_the_path_nor_the_query_string(plan: Plan) -> None:
    stages = plan.managed("aws_apigatewayv2_stage")
    assert stages, f"{plan.name}: no API stage planned"
    for stage in stages:
        (settings,) = stage.values.get("access_log_settings") or [{}]
        text = str(settings.get("format") or "")
        assert text, f"{plan.name}: {stage.address} keeps no access log"
        assert not _PATH_OR_QUERY.search(text), (
            f"{plan.name}: {stage.address}'s access log format names the request's path or query"
            f" string, which hold recipients' addresses and unsubscribe tokens: {text}"
        )
        fields = json.loads(text)
        # What the log is for stays: which route, how, what answer, how fast.
        for variable in ("$context.routeKey", "$context.httpMethod", "$context.status"):
            assert variable in fields.values(), f"{plan.name}: the access log lost {variable}"


def _function_variable(plan: Plan, variable: str) -> str:
    """The one value the planned functions give `variable` (the platform's names are shared)."""
    values = {function_environment(f)[0].get(variable) for f in plan.managed("aws_lambda_function")}
    values.discard(None)
    assert len(values) == 1, f"{plan.name}: the functions' {variable} is not one value: {values}"
    return str(values.pop())


def expiry_rules(plan: Plan, bucket_module: str) -> list[dict[str, Any]]:
    """The expiring lifecycle rules of a bucket the platform module makes (by module name)."""
    (lifecycle,) = [
        r
        for r in plan.managed("aws_s3_bucket_lifecycle_configuration")
        if r.module_address.endswith(f"module.{bucket_module}")
    ]
    return [rule for rule in lifecycle.values.get("rule") or [] if rule.get("expiration")]


def test_uploaded_candidates_expire_under_the_prefix_the_api_requires(plan: Plan) -> None:
    prefix = _function_variable(plan, "EMS_CANDIDATES_PREFIX")
    assert prefix.endswith("/"), f"{plan.name}: the candidates prefix {prefix!r} is no folder"
    expiring = {
        (rule.get("filter") or [{}])[0].get("prefix"): rule["expiration"][0]["days"]
        for rule in expiry_rules(plan, "assets_bucket")
    }
    assert prefix in expiring, (
        f"{plan.name}: nothing expires the candidates under {prefix!r} in the assets bucket"
        f" (expiring prefixes: {expiring})"
    )
    assert 1 <= expiring[prefix] <= 90, f"{plan.name}: candidates kept {expiring[prefix]} days"
    assert "" not in expiring, f"{plan.name}: the whole assets bucket expires, templates too"


def test_the_campaigns_table_expires_the_rejected_recipients_details(plan: Plan) -> None:
    (table,) = [
        t
        for t in plan.managed("aws_dynamodb_table")
        if t.values.get("name") == _function_variable(plan, "EMS_CAMPAIGNS_TABLE")
    ]
    (ttl,) = table.values.get("ttl") or [{}]
    assert ttl.get("enabled") is True, f"{plan.name}: the campaigns table has no TTL"
    assert ttl.get("attribute_name") == keys.TTL_ATTRIBUTE
