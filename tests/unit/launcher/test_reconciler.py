"""The reconciler's decisions: what it completes, settles, fails, and what it leaves alone.

The stand-ins keep campaigns and counters in memory and honour the one condition the
reconciler relies on (a campaign moves only from the status it expects); DynamoDB's own
transactions are exercised by the e2e tests (tests/e2e/test_reconciler.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Held,
    RecipientCounts,
    SegmentSummary,
)
from ems_common.dal.campaigns import StatusConflictError
from ems_common.dal.metrics import CampaignNumbers, TransactionCancelledError
from ems_common.metrics import Metric
from ems_launcher.reconciler import Reconciled, Reconciler
from ems_launcher.settings import LauncherSettings

T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Store:
    """Campaigns and their per-segment counters."""

    campaigns: dict[str, Campaign] = field(default_factory=dict)
    counters: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # reading these raises (a bad item, say)

    # CampaignRepository
    def get(self, campaign_id: str) -> Campaign | None:
        if campaign_id in self.broken:
            raise RuntimeError("unreadable item")
        return self.campaigns.get(campaign_id)

    def require(self, campaign_id: str) -> Campaign:
        return self.campaigns[campaign_id]

    def due(self, now: datetime, *, status: CampaignStatus, limit: int = 100) -> list[Campaign]:
        def at(c: Campaign) -> datetime | None:
            # VERIFYING campaigns are indexed by when they were accepted
            return c.created_at if status is CampaignStatus.VERIFYING else c.scheduled_at

        found = []
        for campaign in self.campaigns.values():
            when = at(campaign)
            if campaign.status is status and when is not None and when <= now:
                found.append(campaign)
        return found[:limit]

    def update(self, campaign_id: str, changes: Mapping[str, Any]) -> None:
        campaign = self.campaigns[campaign_id]
        self.campaigns[campaign_id] = Campaign.model_validate(
            {**campaign.model_dump(mode="json"), **changes}
        )

    def transition(
        self,
        campaign_id: str,
        *,
        expected: Iterable[CampaignStatus],
        to: CampaignStatus,
        action: str,
        changes: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> Campaign:
        campaign = self.campaigns[campaign_id]
        if campaign.status not in set(expected):
            raise StatusConflictError(campaign, expected, action)
        kept = {k: v for k, v in (changes or {}).items() if k in Campaign.model_fields}
        self.update(campaign_id, {"status": to.value, **kept})
        return self.campaigns[campaign_id]

    def transition_step(self, campaign_id: str, **request: Any) -> dict[str, Any]:
        return {"campaign": campaign_id, **request}

    # CampaignMetrics
    def read(self, campaign_id: str) -> CampaignNumbers:
        numbers = CampaignNumbers()
        for segment, counts in self.counters.get(campaign_id, {}).items():
            numbers.segments[segment] = Counter(counts)
            numbers.total.update(counts)
        return numbers

    def add_step(
        self, campaign_id: str, segment: str | None, deltas: Mapping[Metric, int]
    ) -> dict[str, Any] | None:
        return {"add": (campaign_id, segment, dict(deltas))}

    def transact(self, steps: list[Any]) -> None:
        for step in steps:
            if "Update" in step and "campaign" in step["Update"]:
                update = step["Update"]
                if self.campaigns[update["campaign"]].status not in set(update["expected"]):
                    raise TransactionCancelledError("ConditionalCheckFailed")
        for step in steps:
            if "add" in step:
                campaign_id, segment, deltas = step["add"]
                counts = self.counters.setdefault(campaign_id, {}).setdefault(segment, Counter())
                counts.update({m.value: n for m, n in deltas.items()})
            else:
                update = step["Update"]
                self.update(
                    update["campaign"],
                    {"status": update["to"].value, **(update.get("changes") or {})},
                )


def _campaign(
    campaign_id: str,
    status: CampaignStatus = CampaignStatus.SENDING,
    *,
    segments: Mapping[str, int] | None = None,
    created_at: datetime = T0,
) -> Campaign:
    segments = segments or {"news": 6, "vip": 4}
    return Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=None if status is CampaignStatus.VERIFYING else T0,
        created_at=created_at,
        updated_at=created_at,
        request_hash="h",
        recipients=RecipientCounts(accepted=sum(segments.values())),
        segments=[
            SegmentSummary(
                list_name=name,
                template_name="t",
                from_address="news@example.com",
                configuration_set="ems",
                accepted=n,
                rejected=0,
            )
            for name, n in segments.items()
        ],
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _reconciler(store: Store) -> tuple[Reconciler, Clock]:
    clock = Clock()
    reconciler = Reconciler(
        settings=LauncherSettings.model_construct(
            settle_after_seconds=6 * 3600,
            verification_deadline_seconds=3 * 3600,
            reconcile_limit=100,
            stop_margin_seconds=30,
        ),
        campaigns=store,  # type: ignore[arg-type]
        metrics=store,  # type: ignore[arg-type]
        clock=clock,
    )
    return reconciler, clock


def _finish(store: Store, campaign_id: str, segment: str, n: int) -> None:
    counts = store.counters.setdefault(campaign_id, {}).setdefault(segment, Counter())
    counts.update({Metric.FINISHED.value: n, Metric.DELIVERED.value: n})


def test_a_campaign_whose_every_email_finished_is_completed_on_the_next_tick() -> None:
    # Given a campaign whose last event's worker died before completing it
    store = Store(campaigns={"c1": _campaign("c1")})
    _finish(store, "c1", "news", 6)
    _finish(store, "c1", "vip", 4)
    reconciler, _ = _reconciler(store)

    assert reconciler.run() == {"c1": Reconciled.COMPLETED}
    assert store.campaigns["c1"].status is CampaignStatus.COMPLETED
    assert store.campaigns["c1"].settled is None


def test_emails_without_a_final_event_are_settled_unconfirmed_after_a_quiet_spell() -> None:
    # Given a campaign of 10 whose last 3 emails' events never come
    store = Store(campaigns={"c1": _campaign("c1")})
    _finish(store, "c1", "news", 4)
    _finish(store, "c1", "vip", 3)
    reconciler, clock = _reconciler(store)

    # While its count moves, or until it has been quiet for 6 h, it is left alone
    assert reconciler.run() == {}
    clock.now += 5 * HOUR
    assert reconciler.run() == {}
    assert store.campaigns["c1"].status is CampaignStatus.SENDING

    # Then it is completed, the missing ones counted unconfirmed per segment, with a note
    clock.now += 2 * HOUR
    assert reconciler.run() == {"c1": Reconciled.SETTLED}
    campaign = store.campaigns["c1"]
    assert campaign.status is CampaignStatus.COMPLETED
    assert campaign.settled is not None
    assert "3 of 10 emails had no final outcome" in campaign.settled
    assert "dead-letter" in campaign.settled
    numbers = store.read("c1")
    assert numbers.segments["news"][Metric.UNCONFIRMED.value] == 2
    assert numbers.segments["vip"][Metric.UNCONFIRMED.value] == 1
    assert numbers.total[Metric.FINISHED.value] == 10

    # And a second reconciler's look changes nothing
    assert reconciler.run() == {}
    assert store.read("c1").total[Metric.UNCONFIRMED.value] == 3


def test_progress_restarts_the_quiet_spell() -> None:
    store = Store(campaigns={"c1": _campaign("c1")})
    _finish(store, "c1", "news", 1)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * HOUR
    _finish(store, "c1", "news", 1)  # an event came
    reconciler.run()
    clock.now += 5 * HOUR
    assert reconciler.run() == {}  # 5 h since it last moved
    assert store.campaigns["c1"].status is CampaignStatus.SENDING


def test_email_that_only_waits_on_ses_is_never_settled() -> None:
    # Given a campaign whose email the sender holds (SES paused the account's sending)
    store = Store(campaigns={"c1": _campaign("c1")})
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 7 * HOUR
    store.update("c1", {"held": Held(reason="SES paused sending", at=clock.now).model_dump()})

    assert reconciler.run() == {}
    assert store.campaigns["c1"].status is CampaignStatus.SENDING


def test_a_campaign_verifying_past_the_deadline_fails_with_the_reason() -> None:
    store = Store(
        campaigns={
            "old": _campaign("old", CampaignStatus.VERIFYING, created_at=T0 - 4 * HOUR),
            "new": _campaign("new", CampaignStatus.VERIFYING, created_at=T0 - HOUR),
        }
    )
    reconciler, _ = _reconciler(store)

    assert reconciler.run() == {"old": Reconciled.FAILED}

    old = store.campaigns["old"]
    assert old.status is CampaignStatus.FAILED
    assert old.error is not None
    assert "verification did not finish within 4.0 h" in old.error
    assert store.campaigns["new"].status is CampaignStatus.VERIFYING


def test_one_campaign_that_breaks_never_stops_the_others() -> None:
    store = Store(campaigns={"bad": _campaign("bad"), "c1": _campaign("c1")})
    _finish(store, "c1", "news", 6)
    _finish(store, "c1", "vip", 4)
    store.broken.add("bad")
    reconciler, _ = _reconciler(store)

    assert reconciler.run() == {"bad": Reconciled.ERROR, "c1": Reconciled.COMPLETED}


def test_paused_campaigns_are_left_alone_however_long_they_wait() -> None:
    store = Store(campaigns={"c1": _campaign("c1", CampaignStatus.PAUSED)})
    reconciler, clock = _reconciler(store)
    for _ in range(3):
        clock.now += 7 * HOUR
        assert reconciler.run() == {}
    assert store.campaigns["c1"].status is CampaignStatus.PAUSED


def test_it_stops_looking_near_the_invocations_end() -> None:
    store = Store(campaigns={f"c{i}": _campaign(f"c{i}") for i in range(3)})
    for i in range(3):
        _finish(store, f"c{i}", "news", 6)
        _finish(store, f"c{i}", "vip", 4)
    reconciler, _ = _reconciler(store)
    left = iter([100.0, 10.0, 10.0])

    assert reconciler.run(time_left=lambda: next(left)) == {"c0": Reconciled.COMPLETED}
