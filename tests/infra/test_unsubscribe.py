"""Unsubscribe links on AWS, read from the offline plans: their keys' secret and their route.

The API and the compile worker make and open the links with keys kept in a Secrets Manager
secret that Terraform creates empty (EMS stores the first key itself); the links reach the API
function without an API key through their own API Gateway route, throttled apart from the API.
"""

from __future__ import annotations

import re

import pytest

from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.unsubscribe_links import UNSUBSCRIBE_PATH
from tests.infra.planfile import Plan, Resource, Statement, statements_of_document
from tests.infra.test_plan import API_KEY_SECRET_VARIABLE, function_environment, settings_class

pytestmark = pytest.mark.infra

KEYS_SECRET_VARIABLE = "EMS_UNSUBSCRIBE_KEYS_SECRET_ID"
KEEP_KEYS_ACTIONS = {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}
DEFAULT_ROUTE = "$default"
_ROUTE_KEY = re.compile(r"(?P<method>[A-Z]+) (?P<path>/\S*)")


def role_statements(plan: Plan, function: Resource) -> list[Statement]:
    """The statements of the function's own role policy (the documents in its module)."""
    return [
        statement
        for document in plan.data("aws_iam_policy_document")
        if document.module_address == function.module_address
        for statement in statements_of_document(document)
        if not statement.has_principal
    ]


def link_makers(plan: Plan) -> list[Resource]:
    """The functions that run the scheduler's code: the API and the compile worker."""
    return [
        function
        for function in plan.managed("aws_lambda_function")
        if settings_class(str(function.values.get("handler"))) is SchedulerSettings
    ]


def test_the_unsubscribe_keys_secret_is_created_without_a_value(plan: Plan) -> None:
    secrets = {s.values.get("name"): s for s in plan.managed("aws_secretsmanager_secret")}
    makers = link_makers(plan)
    assert len(makers) >= 2, f"{plan.name}: no API and compile functions planned"
    environments = [function_environment(f)[0] for f in makers]
    named = {environment.get(KEYS_SECRET_VARIABLE) for environment in environments}
    assert len(named) == 1, f"{plan.name}: the link makers name different secrets: {named}"
    (name,) = named
    assert name in secrets, f"{plan.name}: {KEYS_SECRET_VARIABLE}={name!r} is no planned secret"
    # A value set by Terraform would sit in its state: EMS makes the first key itself.
    assert not plan.managed("aws_secretsmanager_secret_version"), (
        f"{plan.name}: a secret value is planned, so it would be kept in the Terraform state"
    )
    # Restorable as long as the API key is: deleting the keys breaks every link ever sent.
    api_key = secrets[environments[0][API_KEY_SECRET_VARIABLE]]
    window = secrets[name].values.get("recovery_window_in_days")
    assert window == api_key.values.get("recovery_window_in_days"), (
        f"{plan.name}: {name} is restorable for {window} days, the API key for"
        f" {api_key.values.get('recovery_window_in_days')}"
    )


def test_only_the_link_makers_may_read_and_store_the_unsubscribe_keys(plan: Plan) -> None:
    makers = link_makers(plan)
    name = function_environment(makers[0])[0][KEYS_SECRET_VARIABLE]
    # Secrets Manager appends "-" and 6 random characters to the name in the secret's ARN.
    arn = re.compile(
        rf"arn:aws:secretsmanager:[a-z0-9-]+:\d{{12}}:secret:{re.escape(name)}-\?{{6}}"
    )
    problems = []
    for function in makers:
        keeping = [
            s
            for s in role_statements(plan, function)
            if s.effect == "Allow" and set(s.actions) >= KEEP_KEYS_ACTIONS
        ]
        if len(keeping) != 1 or not all(arn.fullmatch(r) for r in keeping[0].resources):
            problems.append(
                f"{function.address}: wanted one statement allowing {sorted(KEEP_KEYS_ACTIONS)}"
                f" on the secret {name} alone, found {keeping}"
            )
    maker_addresses = {f.address for f in makers}
    for function in plan.managed("aws_lambda_function"):
        if function.address in maker_addresses:
            continue
        touching = [
            s
            for s in role_statements(plan, function)
            if any(a.startswith("secretsmanager:") for a in s.actions)
        ]
        if touching:
            problems.append(f"{function.address} may use Secrets Manager: {touching}")
    assert not problems, f"{plan.name}: {problems}"


def _routes(plan: Plan) -> dict[str, Resource]:
    return {str(r.values.get("route_key")): r for r in plan.managed("aws_apigatewayv2_route")}


def test_unsubscribe_links_have_their_own_route_to_the_api_function(plan: Plan) -> None:
    routes = _routes(plan)
    assert DEFAULT_ROUTE in routes, f"{plan.name}: no $default route"
    public = {key: route for key, route in routes.items() if key != DEFAULT_ROUTE}
    methods: set[str] = set()
    for key in public:
        match = _ROUTE_KEY.fullmatch(key)
        assert match, f"{plan.name}: route key {key!r} is not '<METHOD> /<path>'"
        path = match["path"]
        # The app serves exactly its unsubscribe path without a key; a link's token is one
        # path segment (base64url), so the route's path is the prefix and one parameter.
        assert path.startswith(UNSUBSCRIBE_PATH), (
            f"{plan.name}: route {key!r} is not under the app's unsubscribe path"
            f" {UNSUBSCRIBE_PATH!r} (ems_scheduler.shared.unsubscribe_links.UNSUBSCRIBE_PATH)"
        )
        assert re.fullmatch(r"\{[A-Za-z_]+\}", path.removeprefix(UNSUBSCRIBE_PATH)), key
        methods.add(match["method"])
    assert "ANY" in methods or {"GET", "POST"} <= methods, (
        f"{plan.name}: the unsubscribe route must take GET (the page) and POST (one-click),"
        f" routes planned: {sorted(public)}"
    )
    target = sorted(plan.expression_references(routes[DEFAULT_ROUTE], "target"))
    for key, route in public.items():
        assert sorted(plan.expression_references(route, "target")) == target, (
            f"{plan.name}: {key!r} does not go to the integration $default goes to ({target})"
        )


def test_unsubscribe_routes_are_throttled_apart_from_the_api(plan: Plan) -> None:
    public = [key for key in _routes(plan) if key != DEFAULT_ROUTE]
    (stage,) = plan.managed("aws_apigatewayv2_stage")
    settings = {s.get("route_key"): s for s in stage.values.get("route_settings") or []}
    (default,) = stage.values.get("default_route_settings") or [{}]
    for key in public:
        own = settings.get(key)
        assert own is not None, f"{plan.name}: {key!r} has no throttling of its own"
        rate = float(own.get("throttling_rate_limit") or 0)
        burst = int(own.get("throttling_burst_limit") or 0)
        assert rate > 0, f"{plan.name}: {key!r} is not rate-limited ({rate})"
        assert burst >= rate, f"{plan.name}: {key!r} burst {burst} < rate {rate}"
    assert default.get("throttling_rate_limit"), f"{plan.name}: the API itself is not throttled"


def test_only_the_api_may_sign_candidate_uploads_and_only_under_their_prefix(plan: Plan) -> None:
    # The console's presigned POST is authorised by the API's role: it must be allowed to put
    # exactly where the code signs for (its EMS_CANDIDATES_PREFIX), and nowhere else.
    puts = {
        str(function.values.get("function_name")): [
            resource
            for statement in role_statements(plan, function)
            if "s3:PutObject" in statement.actions
            for resource in statement.resources
            if ":s3:::" in resource and "-assets" in resource
        ]
        for function in link_makers(plan)
    }
    api = [name for name in puts if name.endswith("-api")]
    assert len(api) == 1, f"{plan.name}: no API function among {sorted(puts)}"
    (api_function,) = [f for f in link_makers(plan) if str(f.values.get("function_name")) == api[0]]
    prefix = function_environment(api_function)[0].get("EMS_CANDIDATES_PREFIX")
    assert prefix, f"{plan.name}: the API function has no EMS_CANDIDATES_PREFIX"
    assert [r.split(":::", 1)[1].split("/", 1)[1] for r in puts[api[0]]] == [f"{prefix}*"], (
        f"{plan.name}: the API may put {puts[api[0]]} in the assets bucket"
    )
    assert all(not found for name, found in puts.items() if name not in api), puts
