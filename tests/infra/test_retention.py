"""Compiled campaign files outlive every campaign that needs them, read from the offline plans.

A campaign may be scheduled up to the API's EMS_MAX_DAYS_AHEAD ahead; at its date the launcher
reads its compiled files from the campaigns bucket, and the campaign then sends for a while. So
the bucket's expiry must cover the horizon plus the sending time (modules/app also refuses to
plan otherwise).
"""

from __future__ import annotations

import pytest

from ems_scheduler.settings import SchedulerSettings
from tests.infra.planfile import Plan
from tests.infra.test_personal_data import expiry_rules
from tests.infra.test_plan import function_environment, settings_class

pytestmark = pytest.mark.infra

SENDING_DAYS = 30  # modules/app's local.campaign_sending_days


def test_campaign_files_outlive_the_scheduling_horizon_plus_sending(plan: Plan) -> None:
    horizons = {
        function_environment(f)[0].get("EMS_MAX_DAYS_AHEAD")
        for f in plan.managed("aws_lambda_function")
        if settings_class(str(f.values.get("handler"))) is SchedulerSettings
    }
    # Set explicitly by Terraform, so that the horizon and the retention live in one place
    assert len(horizons) == 1, f"{plan.name}: the API and compile worker disagree: {horizons}"
    (horizon,) = horizons
    assert horizon is not None, f"{plan.name}: EMS_MAX_DAYS_AHEAD is left to the code's default"
    retention = {
        (rule.get("filter") or [{}])[0].get("prefix"): rule["expiration"][0]["days"]
        for rule in expiry_rules(plan, "campaigns_bucket")
    }
    assert retention, f"{plan.name}: the campaigns bucket has no expiry at all"
    for prefix, days in retention.items():
        assert days >= int(horizon) + SENDING_DAYS, (
            f"{plan.name}: campaign files under {prefix!r} expire after {days} days, but a"
            f" campaign may be scheduled {horizon} days ahead and then send for {SENDING_DAYS}"
        )
