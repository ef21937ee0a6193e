"""The reputation brake: when a campaign's own numbers pause it, and what it says."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from unittest.mock import MagicMock

import pytest

from ems_common.campaigns import PAUSABLE, Campaign, CampaignStatus, Pause, PausedBy
from ems_common.dal.metrics import CampaignNumbers
from ems_common.metrics import Metric
from ems_tracker.brake import BrakeLimits, brake_reason
from ems_tracker.ingest import Tracker

LIMITS = BrakeLimits(hard_bounce_rate=0.05, complaint_rate=0.001, min_sent=500)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _counts(sent: int, bounced: int = 0, complained: int = 0) -> dict[str, int]:
    return {
        Metric.SENT.value: sent,
        Metric.BOUNCED_HARD.value: bounced,
        Metric.COMPLAINED.value: complained,
    }


@pytest.mark.parametrize(
    ("sent", "bounced", "complained", "pauses"),
    [
        (1000, 49, 0, False),  # 4.9 %
        (1000, 50, 0, True),  # 5 %: SES's review level
        (1000, 0, 0, False),
        (1000, 0, 1, True),  # 0.1 %
        (2000, 0, 1, False),  # 0.05 %
        (499, 100, 10, False),  # too few sent to tell
        (500, 25, 0, True),
    ],
)
def test_the_brake_trips_at_ses_review_levels_after_a_minimum_sample(
    sent: int, bounced: int, complained: int, pauses: bool
) -> None:
    assert (brake_reason(_counts(sent, bounced, complained), LIMITS) is not None) is pauses


def test_the_reason_says_which_rate_what_it_was_and_what_to_do() -> None:
    reason = brake_reason(_counts(1000, 60, 2), LIMITS)
    assert reason is not None
    assert "Hard-bounce rate 6.0% (60 of 1000 sent) reached the limit of 5.0%" in reason
    assert "complaint rate 0.20% (2 of 1000 sent) reached the limit of 0.10%" in reason
    assert "then resume or cancel" in reason


def test_the_limits_are_per_environment() -> None:
    strict = BrakeLimits(hard_bounce_rate=0.02, complaint_rate=0.0005, min_sent=100)
    assert brake_reason(_counts(100, 2), strict) is not None
    assert brake_reason(_counts(100, 2), LIMITS) is None


class Campaigns:
    def __init__(self, status: CampaignStatus, baseline: dict[str, int] | None = None) -> None:
        self.status = status
        self.baseline = baseline
        self.pause_record: Pause | None = None

    def get(self, campaign_id: str) -> Campaign:
        return Campaign(
            campaign_id=campaign_id,
            status=self.status,
            created_at=NOW,
            updated_at=NOW,
            request_hash="h",
            brake_baseline=self.baseline,
        )

    def pause(self, campaign_id: str, *, by: PausedBy, reason: str) -> Campaign | None:
        """As `CampaignRepository.pause`: from LAUNCHING or SENDING only."""
        if self.status not in PAUSABLE:
            return None
        self.status = CampaignStatus.PAUSED
        self.pause_record = Pause(by=by, reason=reason, paused_at=NOW)
        return self.get(campaign_id)


class Metrics:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def read(self, campaign_id: str) -> CampaignNumbers:
        return CampaignNumbers(total=Counter(self.counts))


def _tracker(
    status: CampaignStatus, counts: dict[str, int], baseline: dict[str, int] | None = None
) -> tuple[Tracker, Campaigns]:
    campaigns = Campaigns(status, baseline)
    tracker = Tracker(
        events=MagicMock(),
        suppressions=MagicMock(),
        sqs=MagicMock(),
        dlq_url="dlq",
        campaigns=campaigns,  # type: ignore[arg-type]
        metrics=Metrics(counts),  # type: ignore[arg-type]
        limits=LIMITS,
    )
    return tracker, campaigns


def test_a_sending_campaign_over_the_limit_is_paused_by_the_brake_once() -> None:
    tracker, campaigns = _tracker(CampaignStatus.SENDING, _counts(1000, 60))
    tracker.reputation_moved.add("c1")

    assert tracker.brake() == ["c1"]

    assert campaigns.status is CampaignStatus.PAUSED
    assert campaigns.pause_record is not None
    assert campaigns.pause_record.by is PausedBy.BRAKE
    assert "Hard-bounce rate 6.0%" in campaigns.pause_record.reason
    # The next batch's bounces find it paused already: no second pause, no second alarm
    tracker.reputation_moved.add("c1")
    assert tracker.brake() == []


def test_the_brake_looks_only_at_campaigns_whose_bounces_or_complaints_moved() -> None:
    tracker, campaigns = _tracker(CampaignStatus.SENDING, _counts(1000, 60))
    assert tracker.brake() == []
    assert campaigns.status is CampaignStatus.SENDING


@pytest.mark.parametrize("status", [CampaignStatus.COMPLETED, CampaignStatus.CANCELLED])
def test_a_campaign_that_is_over_is_not_paused(status: CampaignStatus) -> None:
    tracker, campaigns = _tracker(status, _counts(1000, 60))
    tracker.reputation_moved.add("c1")
    assert tracker.brake() == []
    assert campaigns.status is status


def test_transactional_email_never_trips_a_campaign_brake() -> None:
    tracker, campaigns = _tracker(CampaignStatus.SENDING, _counts(1000, 60))
    tracker.reputation_moved.add("tx-20261123-aaaaaaaaaaaa-0")
    assert tracker.brake() == []
    assert campaigns.status is CampaignStatus.SENDING


def test_a_resumed_campaign_is_judged_on_what_it_sent_since() -> None:
    # Given a campaign the brake paused at 60 bounces of 1,000, resumed (its baseline kept)
    baseline = _counts(1000, 60)
    # When 1,000 more go out with 10 more bounces (1%): it goes on
    tracker, campaigns = _tracker(CampaignStatus.SENDING, _counts(2000, 70), baseline)
    tracker.reputation_moved.add("c1")
    assert tracker.brake() == []
    # But 500 more with 30 bounces (6%) since the resume pause it again, saying so
    tracker, campaigns = _tracker(CampaignStatus.SENDING, _counts(1500, 90), baseline)
    tracker.reputation_moved.add("c1")
    assert tracker.brake() == ["c1"]
    assert campaigns.pause_record is not None
    assert "(30 of 500 sent)" in campaigns.pause_record.reason
    assert "since its last resume" in campaigns.pause_record.reason
