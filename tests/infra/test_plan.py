"""What a deployer relies on, read from the offline plans of the AWS environments.

Complements terraform/compliance/*.feature (terraform-compliance) with what its grammar cannot
say: the functions' settings against the services' own settings classes, queue timeouts
against their consumers', IAM statements whose policy JSON is unknown until apply, and each
function's handler against terraform/modules/app/handlers.json and the zip it is deployed from.
"""

from __future__ import annotations

import ast
import contextlib
import os
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from ems_common.settings import ENV_PREFIX
from ems_devstack.config import find_repo_root
from ems_devstack.entry_points import HANDLERS_FILE, lambda_handlers
from ems_launcher.settings import LauncherSettings
from ems_scheduler.settings import SchedulerSettings
from ems_sender.settings import SenderSettings
from ems_tracker.settings import TrackerSettings
from tests.infra.planfile import (
    UNKNOWN,
    Plan,
    Resource,
    Statement,
    statements_of_document,
    statements_of_policy_json,
)

pytestmark = pytest.mark.infra

# On AWS the scheduler's API key is not in the environment: its functions read it from the
# Secrets Manager secret named by this variable.
API_KEY_SECRET_VARIABLE = "EMS_API_KEY_SECRET_ID"
IDENTITY_POLICY_TYPES = ("aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy")
UNSCOPED_SID_PREFIX = "Unscoped"
UNKNOWN_ENVIRONMENT = "its environment is known only after apply"


def settings_class(handler: str) -> type[BaseSettings] | None:
    """The settings class a function's handler reads its environment into."""
    if handler == "handler.lambda_handler" or handler.startswith("ems_scheduler."):
        return SchedulerSettings  # zappa's handler runs the scheduler's API
    for package, cls in (
        ("ems_launcher.", LauncherSettings),
        ("ems_sender.", SenderSettings),
        ("ems_tracker.", TrackerSettings),
    ):
        if handler.startswith(package):
            return cls
    return None


def function_environment(function: Resource) -> tuple[dict[str, str], list[str]]:
    """The function's variables (unknown values as a placeholder) and any problem reading them."""
    if function.is_unknown("environment", 0, "variables"):
        return {}, [UNKNOWN_ENVIRONMENT]
    blocks = function.values.get("environment") or [{}]
    variables = dict(blocks[0].get("variables") or {})
    unknown = (function.unknown.get("environment") or [{}])[0]
    for name in (unknown.get("variables") or {}) if isinstance(unknown, dict) else {}:
        variables[name] = UNKNOWN
    return {k: str(v) for k, v in variables.items()}, []


@contextlib.contextmanager
def only_environment(variables: dict[str, str]) -> Iterator[None]:
    """os.environ with no EMS_* variable but `variables` (restored afterwards)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    for name in saved:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in variables:
            os.environ.pop(name, None)
        os.environ.update(saved)


def settings_problems(function: Resource) -> list[str]:
    """Why the function's settings class would not accept its environment (empty: it would)."""
    handler = str(function.values.get("handler"))
    cls = settings_class(handler)
    if cls is None:
        return [f"no settings class is known for handler {handler!r}"]
    variables, problems = function_environment(function)
    if problems:
        return problems
    ems = {k: v for k, v in variables.items() if k.startswith(ENV_PREFIX)}
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in cls.model_fields}
    problems += [
        f"{name} is not a setting of {cls.__name__} (misspelt, or set on the wrong function)"
        for name in sorted(set(ems) - fields)
    ]
    if cls is SchedulerSettings:
        if API_KEY_SECRET_VARIABLE not in ems:
            problems.append(f"{API_KEY_SECRET_VARIABLE} is not set (the API key's secret)")
        if f"{ENV_PREFIX}API_KEY" in ems:
            problems.append(f"{ENV_PREFIX}API_KEY is set: the key belongs in Secrets Manager")
    problems += [
        f"{ENV_PREFIX}{name.upper()} is required by {cls.__name__} but not set"
        for name, info in cls.model_fields.items()
        if info.is_required() and f"{ENV_PREFIX}{name.upper()}" not in ems
    ]
    with only_environment(ems):
        try:
            cls()
        except ValidationError as exc:
            problems += [
                f"{cls.__name__} rejects {'.'.join(map(str, error['loc'])) or 'it'}: {error['msg']}"
                for error in exc.errors()
            ]
    return problems


def test_every_function_environment_is_accepted_by_its_settings(plan: Plan) -> None:
    functions = plan.managed("aws_lambda_function")
    assert functions, f"{plan.name} plans no aws_lambda_function"
    problems = {f.address: found for f in functions if (found := settings_problems(f))}
    why = ""
    if any(UNKNOWN_ENVIRONMENT in found for found in problems.values()):
        # The AWS provider plans a map holding one unknown value as wholly unknown.
        why = (
            "\nAn environment known only after apply cannot be checked before deploying: every"
            " EMS_* value must be known when planning (build queue URLs and ARNs from the names,"
            " as modules/app does for the IAM policies). Unknown when planning, in the"
            f" service_settings output: {unknown_output_keys(plan, 'service_settings')}"
        )
    assert not problems, f"{plan.name}: functions whose settings would not load: {problems}{why}"


def unknown_output_keys(plan: Plan, output: str) -> list[str]:
    """The keys of a root output whose values are known only after apply."""
    unknown = plan.document.get("output_changes", {}).get(output, {}).get("after_unknown", {})
    return sorted(unknown) if isinstance(unknown, dict) else ["(the whole output)"]


def test_every_function_logs_to_a_managed_log_group(plan: Plan) -> None:
    groups = {g.values.get("name"): g for g in plan.managed("aws_cloudwatch_log_group")}
    problems = []
    for function in plan.managed("aws_lambda_function"):
        logging = (function.values.get("logging_config") or [{}])[0]
        name = logging.get("log_group") or f"/aws/lambda/{function.values.get('function_name')}"
        group = groups.get(name)
        if group is None:
            problems.append(f"{function.address} logs to {name}, which Terraform does not manage")
        elif not group.values.get("retention_in_days"):
            problems.append(f"{function.address} logs to {group.address}, kept forever")
    assert not problems, f"{plan.name}: {problems}"


def consumer_of(plan: Plan, mapping: Resource) -> Resource | None:
    """The function an event source mapping invokes: by name if known, else its module's."""
    target = mapping.values.get("function_name")
    functions = plan.managed("aws_lambda_function")
    if isinstance(target, str):
        for function in functions:
            name = function.values.get("function_name")
            if name and (target == name or target.endswith(f":function:{name}")):
                return function
    same_module = [f for f in functions if f.module_address == mapping.module_address]
    return same_module[0] if len(same_module) == 1 else None


def queue_of(plan: Plan, mapping: Resource) -> Resource | None:
    """The queue an event source mapping reads, by the name at the end of its ARN."""
    arn = mapping.values.get("event_source_arn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or ":sqs:" not in arn:
        return None
    name = arn.rsplit(":", 1)[1]
    found = [q for q in plan.managed("aws_sqs_queue") if q.values.get("name") == name]
    return found[0] if len(found) == 1 else None


def test_consumed_queues_outlast_their_consumer_six_times(plan: Plan) -> None:
    # AWS's advice for SQS-triggered functions: a visibility timeout of at least 6 times the
    # function's timeout, or a message is received again while its batch is still retried.
    problems = []
    for mapping in plan.managed("aws_lambda_event_source_mapping"):
        arn = mapping.values.get("event_source_arn")
        if isinstance(arn, str) and ":sqs:" not in arn:
            continue  # not an SQS trigger
        queue, function = queue_of(plan, mapping), consumer_of(plan, mapping)
        if queue is None or function is None:
            problems.append(
                f"{mapping.address}: cannot tell its queue ({arn or 'ARN unknown at plan'}) or"
                " its function from the plan (build the queue ARN from its name, as"
                " modules/app does, and keep the mapping in its function's module)"
            )
            continue
        visibility = int(queue.values.get("visibility_timeout_seconds") or 30)
        timeout = int(function.values.get("timeout") or 3)
        if visibility < 6 * timeout:
            problems.append(
                f"{queue.address} ({queue.values.get('name')}): visibility timeout {visibility} s"
                f" < 6 x {timeout} s, the timeout of its consumer {function.address}"
            )
    assert not problems, f"{plan.name}: {problems}"


def identity_statements(plan: Plan) -> tuple[list[Statement], list[str]]:
    """Every identity-policy statement in the plan, and the policies that cannot be read."""
    statements: list[Statement] = []
    unreadable: list[str] = []
    for resource_type in IDENTITY_POLICY_TYPES:
        for policy in plan.managed(resource_type):
            text = policy.values.get("policy")
            if isinstance(text, str):
                statements += statements_of_policy_json(text, policy.address)
                continue
            references = plan.expression_references(policy, "policy")
            if not any(ref.startswith("data.aws_iam_policy_document.") for ref in references):
                unreadable.append(
                    f"{policy.address}: its policy is known only after apply and not built by an"
                    f" aws_iam_policy_document (refers to {references or 'nothing'}), so the"
                    " plan cannot show its statements"
                )
    # Documents whose JSON is unknown until apply still have their statements in the plan;
    # those with a principal are resource or trust policies (key, bucket, queue, topic, role).
    for document in plan.data("aws_iam_policy_document"):
        statements += statements_of_document(document)
    return [s for s in statements if not s.has_principal], unreadable


def test_ses_events_firehose_cannot_deliver_raise_an_alarm(plan: Plan) -> None:
    # SES events stuck in Firehose reach no tracker (statuses, metrics and suppressions stop),
    # and Firehose drops them after 24 h of retries: an alarm on the age of the oldest one
    # waiting, above the buffering interval (AWS's advice), must tell someone
    alarms = plan.managed("aws_cloudwatch_metric_alarm")
    streams = plan.managed("aws_kinesis_firehose_delivery_stream")
    assert streams, f"{plan.name}: no Firehose stream for the SES events"
    for stream in streams:
        name = stream.values["name"]
        interval = stream.values["extended_s3_configuration"][0]["buffering_interval"]
        watching = [
            a
            for a in alarms
            if a.values.get("namespace") == "AWS/Firehose"
            and a.values.get("metric_name") == "DeliveryToS3.DataFreshness"
            and (a.values.get("dimensions") or {}).get("DeliveryStreamName") == name
        ]
        assert len(watching) == 1, f"{plan.name}: no alarm on the SES events waiting in {name}"
        alarm = watching[0]
        # above what a buffered event waits normally, well before Firehose gives up (24 h)
        assert interval < alarm.values["threshold"] <= 3_600, (
            f"{plan.name}: {alarm.address} fires above {alarm.values['threshold']} s; the"
            f" stream buffers events for {interval} s"
        )
        assert alarm.values.get("comparison_operator") == "GreaterThanThreshold", alarm.address
        assert alarm.values.get("treat_missing_data") == "notBreaching", alarm.address
        assert alarm.is_unknown("alarm_actions") or alarm.values.get("alarm_actions"), (
            f"{plan.name}: {alarm.address} notifies nobody"
        )


def test_identity_policies_use_no_unscoped_wildcard(plan: Plan) -> None:
    statements, unreadable = identity_statements(plan)
    wildcards = [
        f"{s.where}: statement {s.sid or '(no Sid)'} allows {', '.join(s.wildcards())}"
        for s in statements
        if s.effect == "Allow" and s.wildcards() and not s.sid.startswith(UNSCOPED_SID_PREFIX)
    ]
    assert not unreadable, f"{plan.name}: {unreadable}"
    assert not wildcards, (
        f"{plan.name}: wildcards in IAM statements whose Sid does not start with"
        f" {UNSCOPED_SID_PREFIX!r} (scope them, or name the statement Unscoped<Why> and say why"
        f" in a comment and an inline checkov skip): {wildcards}"
    )


# What the architecture is made of (docs/architecture): at least this many of each.
ARCHITECTURE = {
    "aws_apigatewayv2_api": 1,
    "aws_apigatewayv2_stage": 1,
    "aws_lambda_function": 6,
    "aws_lambda_event_source_mapping": 1,
    "aws_sqs_queue": 1,
    "aws_sns_topic": 1,  # the alarms'
    # SES events: SES -> Firehose -> the events bucket -> S3 notification -> tracker queue
    "aws_kinesis_firehose_delivery_stream": 1,
    "aws_s3_bucket_notification": 1,
    "aws_dynamodb_table": 5,
    "aws_s3_bucket": 3,
    "aws_ses_domain_identity": 1,
    "aws_ses_domain_dkim": 1,
    "aws_sesv2_configuration_set_event_destination": 1,
    "aws_cloudwatch_event_rule": 1,
    "aws_scheduler_schedule_group": 1,
    "aws_cloudwatch_metric_alarm": 1,
    "aws_cloudwatch_dashboard": 1,
    "aws_secretsmanager_secret": 1,
    "aws_kms_key": 1,
}
# The six functions, by handler: the scheduler API (zappa), the compile worker, the launcher,
# the sender's campaign and transactional lanes, the tracker.
HANDLERS = {
    "scheduler API": ("handler.lambda_handler", 1),  # zappa's handler
    "compile worker": ("ems_scheduler.", 1),
    "launcher": ("ems_launcher.", 1),
    "sender, campaign and transactional lanes": ("ems_sender.", 2),
    "tracker": ("ems_tracker.", 1),
}


def _handled_by(handler: str, pattern: str) -> bool:
    return handler.startswith(pattern) if pattern.endswith(".") else handler == pattern


def test_prod_has_every_part_of_the_architecture(prod_plan: Plan) -> None:
    counts = Counter(r.type for r in prod_plan.resources if r.mode == "managed")
    missing = {t: f"{counts[t]} < {n}" for t, n in ARCHITECTURE.items() if counts[t] < n}
    if not counts["aws_ses_configuration_set"] + counts["aws_sesv2_configuration_set"]:
        missing["aws_ses_configuration_set or aws_sesv2_configuration_set"] = "none"
    handlers = [str(f.values.get("handler")) for f in prod_plan.managed("aws_lambda_function")]
    for role, (pattern, wanted) in HANDLERS.items():
        found = sum(1 for h in handlers if _handled_by(h, pattern))
        if found < wanted:
            missing[f"functions with handler {pattern}* ({role})"] = f"{found} < {wanted}"
    assert not missing, f"prod plans too few of: {missing}"


def _top_level_names(node: ast.stmt) -> list[str]:
    """The names a module-level statement binds: a def, an assignment, an import."""
    match node:
        case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
            return [name]
        case ast.Assign(targets=targets):
            return [target.id for target in targets if isinstance(target, ast.Name)]
        case ast.AnnAssign(target=ast.Name(id=name)):
            return [name]
        case ast.Import(names=aliases) | ast.ImportFrom(names=aliases):
            return [alias.asname or alias.name.partition(".")[0] for alias in aliases]
    return []


def handler_problems(function: Resource) -> list[str]:
    """Why the function's zip does not define its handler at its module's top level."""
    handler = str(function.values.get("handler"))
    module, _, attribute = handler.rpartition(".")
    package = Path(str(function.values.get("filename")))
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        source = next(
            (
                archive.read(name)
                for name in (
                    f"{module.replace('.', '/')}.py",
                    f"{module.replace('.', '/')}/__init__.py",
                )
                if name in names
            ),
            None,
        )
    if source is None:
        return [f"{package.name} has no module {module} (handler {handler})"]
    defined = {name for node in ast.parse(source).body for name in _top_level_names(node)}
    return [] if attribute in defined else [f"{package.name}: {module} defines no {attribute}"]


def test_every_function_runs_the_handler_named_once_and_its_zip_has_it(plan: Plan) -> None:
    named = lambda_handlers(find_repo_root(Path(__file__).parent))
    functions = plan.managed("aws_lambda_function")
    planned = {f.module_address.rpartition(".")[2]: f.values.get("handler") for f in functions}
    assert planned == named, f"{plan.name}: the functions' handlers are not {HANDLERS_FILE}'s"
    problems = {f.address: found for f in functions if (found := handler_problems(f))}
    assert not problems, f"{plan.name}: handlers missing from their zips: {problems}"
