"""The limits in force: SES's quota (cached), cap and fractions, overrides, settings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ems_sender.limiter.budget import BudgetSource, budget_from
from ems_sender.limiter.limiter import tuning_from
from ems_sender.limiter.model import Budget
from ems_sender.limiter.settings import LimiterSettings
from tests.support.limiter_fakes import ManualClock

SES_QUOTA: Any = {"MaxSendRate": 50.0, "Max24HourSend": 100_000.0, "SentLast24Hours": 1234.0}


class FakeSes:
    """Answers SES v2 GetAccount with the send quotas of a list; an exception in it is raised."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def get_account(self) -> Any:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return {"SendQuota": answer, "SendingEnabled": True, "ProductionAccessEnabled": True}


def _settings(**values: Any) -> LimiterSettings:
    return LimiterSettings.model_validate(values)


def test_rate_and_quota_come_from_ses_scaled_by_the_fractions() -> None:
    budget = budget_from(_settings(), SES_QUOTA)
    assert budget == Budget(send_rate=45.0, daily_quota=95_000, sent_last_24h=1234)


def test_the_cap_bounds_ses_rate_before_the_fraction() -> None:
    budget = budget_from(_settings(send_rate_cap=20, send_rate_fraction=0.5), SES_QUOTA)
    assert budget.send_rate == 10.0


def test_unlimited_ses_quota_means_no_daily_limit() -> None:
    unlimited: Any = {**SES_QUOTA, "Max24HourSend": -1.0}
    budget = budget_from(_settings(), unlimited)
    assert budget.daily_quota is None


def test_overrides_replace_ses_and_are_used_as_is() -> None:
    settings = _settings(send_rate_override=40, daily_quota_override=1_000_000)
    assert budget_from(settings, None) == Budget(send_rate=40, daily_quota=1_000_000)


def test_without_an_override_the_ses_quota_is_required() -> None:
    with pytest.raises(ValueError, match="EMS_SEND_RATE_OVERRIDE"):
        budget_from(_settings(), None)
    with pytest.raises(ValueError, match="EMS_DAILY_QUOTA_OVERRIDE"):
        budget_from(_settings(send_rate_override=5), None)


def test_ses_is_asked_once_per_cache_period() -> None:
    clock, ses = ManualClock(), FakeSes(SES_QUOTA)
    source = BudgetSource(_settings(ses_quota_cache_seconds=300), lambda: ses, clock)  # type: ignore[arg-type,return-value]
    source.current()
    clock.advance(299)
    source.current()
    assert ses.calls == 1
    clock.advance(2)
    source.current()
    assert ses.calls == 2


def test_with_both_overrides_ses_is_never_asked() -> None:
    ses = FakeSes(SES_QUOTA)
    settings = _settings(send_rate_override=40, daily_quota_override=10)
    BudgetSource(settings, lambda: ses, ManualClock()).current()  # type: ignore[arg-type,return-value]
    assert ses.calls == 0


def test_a_failing_ses_keeps_the_last_answer_and_is_asked_again() -> None:
    clock = ManualClock()
    ses = FakeSes(SES_QUOTA, RuntimeError("SES down"), {**SES_QUOTA, "MaxSendRate": 100.0})
    source = BudgetSource(_settings(ses_quota_cache_seconds=60), lambda: ses, clock)  # type: ignore[arg-type,return-value]
    assert source.current().send_rate == 45.0
    clock.advance(61)
    assert source.current().send_rate == 45.0  # failed: the last answer holds
    assert source.current().send_rate == 90.0  # and the next call asks again
    assert ses.calls == 3


def test_a_failing_ses_with_no_earlier_answer_raises() -> None:
    ses = FakeSes(RuntimeError("SES down"))
    source = BudgetSource(_settings(), lambda: ses, ManualClock())  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError, match="SES down"):
        source.current()


def test_settings_are_read_from_ems_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_SEND_RATE_OVERRIDE", "40")
    monkeypatch.setenv("EMS_DAILY_QUOTA_OVERRIDE", "500000")
    monkeypatch.setenv("EMS_LIMITER_NAME", "bench-1")
    monkeypatch.setenv("EMS_LIMITER_BLOCK_SECONDS", "0.1")
    settings = LimiterSettings()
    assert settings.send_rate_override == 40
    assert settings.daily_quota_override == 500_000
    assert settings.limiter_name == "bench-1"
    assert tuning_from(settings).block_s == 0.1


def test_a_lookahead_shorter_than_a_block_is_refused_with_what_to_fix() -> None:
    with pytest.raises(ValidationError, match="EMS_LIMITER_CAMPAIGN_LOOKAHEAD_SECONDS"):
        _settings(limiter_block_seconds=0.5, limiter_campaign_lookahead_seconds=0.2)


@pytest.mark.parametrize(
    "values",
    [
        {"send_rate_override": 0},
        {"send_rate_fraction": 1.5},
        {"daily_quota_override": -1},
        {"transactional_max_share": 1},
    ],
)
def test_impossible_settings_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _settings(**values)
