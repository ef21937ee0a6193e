"""Campaign safety on AWS, read from the offline plans: the brake's and the reconciler's
settings, the alarms on a campaign that paused itself, and what the variables refuse.

The tracker pauses a campaign whose hard-bounce or complaint rate crosses a limit (EMS_BRAKE_*),
and the launcher's reconciler recounts and settles quiet campaigns and gives up on
verifications that never end (EMS_RECOUNT_AFTER_SECONDS, EMS_SETTLE_AFTER_SECONDS,
EMS_VERIFICATION_DEADLINE_SECONDS): each environment sets them through its variables, or gets
the code's defaults. A campaign that paused itself logs
`EMS / CampaignsPaused` with a `by` dimension (tests/unit/common/test_paused_metric.py checks
what the handlers log); an alarm per `by` must watch exactly that.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from ems_common.campaigns import PausedBy
from ems_common.lambda_handlers import METRICS_NAMESPACE, PAUSED_METRIC
from ems_common.settings import ENV_PREFIX
from ems_devstack.config import find_repo_root
from ems_devstack.infra_checks import InfraPaths, variable_trial
from ems_devstack.processes import StackError
from ems_launcher.settings import LauncherSettings
from ems_tracker.settings import TrackerSettings
from tests.infra.planfile import Plan, Resource
from tests.infra.test_plan import function_environment, settings_class

pytestmark = pytest.mark.infra

# The environment variables each service gets from the AWS root's variables of the same name.
PER_ENVIRONMENT = {
    TrackerSettings: ("brake_hard_bounce_rate", "brake_complaint_rate", "brake_min_sent"),
    LauncherSettings: (
        "settle_after_seconds",
        "verification_deadline_seconds",
        "recount_after_seconds",
    ),
}
# Who pauses a campaign by itself, so that someone must be told (an operator's pause emits
# nothing).
SELF_PAUSES = {PausedBy.BRAKE.value, PausedBy.SES.value}
# Powertools adds a `service` dimension to every metric when this is set: the alarms, which
# match the dimensions exactly, would then watch a metric nothing emits.
SERVICE_NAME_VARIABLE = "POWERTOOLS_SERVICE_NAME"


def functions_reading(plan: Plan, cls: type[BaseSettings]) -> list[Resource]:
    """The planned functions whose handler reads its environment into `cls`."""
    return [
        f
        for f in plan.managed("aws_lambda_function")
        if settings_class(str(f.values.get("handler"))) is cls
    ]


def root_variable(plan: Plan, name: str) -> object:
    """The value the plan gave a variable of the AWS root (None: unset or null)."""
    return (plan.document.get("variables", {}).get(name) or {}).get("value")


@pytest.mark.parametrize("cls", list(PER_ENVIRONMENT), ids=lambda cls: cls.__name__)
def test_each_environment_sets_the_brake_and_the_reconciler_or_keeps_the_codes_defaults(
    plan: Plan, cls: type[BaseSettings]
) -> None:
    functions = functions_reading(plan, cls)
    assert len(functions) == 1, f"{plan.name}: not one function reads {cls.__name__}"
    variables, problems = function_environment(functions[0])
    assert not problems, f"{plan.name}: {problems}"
    for field in PER_ENVIRONMENT[cls]:
        name = f"{ENV_PREFIX}{field.upper()}"
        assert name in variables, f"{plan.name}: {functions[0].address} does not set {name}"
        # What the environment's variable says, else what the code would use without it
        wanted = root_variable(plan, field)
        if wanted is None:
            wanted = cls.model_fields[field].default
        assert float(variables[name]) == float(str(wanted)), (
            f"{plan.name}: {name}={variables[name]}, but the root's {field} is"
            f" {root_variable(plan, field)} and {cls.__name__}'s default {wanted}"
        )


def test_a_campaign_that_paused_itself_raises_an_alarm_on_the_metric_the_code_logs(
    plan: Plan,
) -> None:
    alarms = [a for a in plan.managed("aws_cloudwatch_metric_alarm") if a.values.get("metric_name")]
    watching = [
        a
        for a in alarms
        if (a.values.get("namespace"), a.values.get("metric_name"))
        == (METRICS_NAMESPACE, PAUSED_METRIC)
    ]
    by = sorted(str((a.values.get("dimensions") or {}).get("by")) for a in watching)
    assert by == sorted(SELF_PAUSES), (
        f"{plan.name}: alarms on {METRICS_NAMESPACE}/{PAUSED_METRIC} are by {by}, not one per"
        f" way a campaign pauses itself ({sorted(SELF_PAUSES)})"
    )
    for alarm in watching:
        assert set(alarm.values.get("dimensions") or {}) == {"by"}, alarm.address
        assert alarm.values.get("threshold") == 0, alarm.address
        assert alarm.values.get("comparison_operator") == "GreaterThanThreshold", alarm.address
        # it notifies the alarm topic, as every other alarm (known at apply: the topic's ARN)
        assert alarm.is_unknown("alarm_actions") or alarm.values.get("alarm_actions"), (
            f"{plan.name}: {alarm.address} notifies nobody"
        )
        assert any(
            ref.startswith("module.topic")
            for ref in plan.expression_references(alarm, "alarm_actions")
        ), f"{plan.name}: {alarm.address} does not notify the alarm topic"


def test_no_function_adds_a_dimension_to_ems_metrics(plan: Plan) -> None:
    named = [
        f.address
        for f in plan.managed("aws_lambda_function")
        if SERVICE_NAME_VARIABLE in function_environment(f)[0]
    ]
    assert not named, (
        f"{plan.name}: {named} set {SERVICE_NAME_VARIABLE}: Powertools then adds a `service`"
        f" dimension to {METRICS_NAMESPACE}/{PAUSED_METRIC}, which its alarms would not match"
    )


def test_variables_that_would_break_campaign_safety_fail_the_plan_saying_what_to_fix() -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed: install Terraform >= 1.6 and put it on PATH")
    paths = InfraPaths(find_repo_root(Path(__file__).parent))
    try:
        trial = variable_trial(paths)
    except StackError as exc:
        pytest.fail(f"cannot make the variables' scratch root offline: {exc}")

    # A verification deadline within the compile worker's retries: the reconciler would fail
    # campaigns whose verification can still succeed
    error = trial.plan("dev", {"verification_deadline_seconds": "3600"})
    assert error is not None, "a verification deadline of 1 h within 1.5 h of retries planned"
    assert "verification_deadline_seconds is 3600, but a compile job may still be retried" in error
    assert "Set it above 5400" in error

    # A rate given as a percentage, a fractional sample (one at a time: Terraform's error
    # output is kept from its end)
    error = trial.plan("dev", {"brake_hard_bounce_rate": "5"})
    assert error is not None, "a hard-bounce rate of 5 (500 %) planned"
    assert "brake_hard_bounce_rate must be a fraction in (0, 1], such as 0.05 for 5 %" in error
    error = trial.plan("dev", {"brake_min_sent": "99.5"})
    assert error is not None, "a minimum sample of 99.5 emails planned"
    assert "brake_min_sent must be a whole number of emails" in error

    # And the defaults, explicitly given, plan
    assert trial.plan("dev", {"verification_deadline_seconds": "10800"}) is None
