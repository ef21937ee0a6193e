"""Personal data on AWS, read from the offline plans: what is logged, and how long what is kept.

Recipients' addresses are in request paths (`/suppressions/<address>`,
`/campaigns/<id>/recipients/<address>`) and unsubscribe tokens are paths too (`/u/<token>`):
the API's access log must name neither the path nor the query string.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.planfile import Plan

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
