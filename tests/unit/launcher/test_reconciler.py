"""The reconciler's decisions: what it completes, settles, fails, and what it leaves alone.

The stand-ins keep campaigns, counters and email records in memory and honour the conditions
the reconciler relies on (a campaign moves only from the status it expects; a recount corrects
counters only if they still hold what it read); DynamoDB's own transactions and conditions are
exercised by the e2e tests.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Held,
    RecipientCounts,
    RecountOutcome,
    SegmentSummary,
)
from ems_common.dal.campaigns import StatusConflictError
from ems_common.dal.metrics import CampaignNumbers, TransactionCancelledError
from ems_common.emails import EmailRecord
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
    # email records: campaign -> recipient (the sort key) -> record
    records: dict[str, dict[str, EmailRecord]] = field(default_factory=dict)
    page_items: int = 2
    queries: int = 0

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

    def correct(
        self,
        campaign_id: str,
        segment: str,
        *,
        stored: Mapping[str, int],
        counted: Mapping[Metric, int],
    ) -> bool:
        counts = self.counters.setdefault(campaign_id, {}).setdefault(segment, Counter())
        if dict(counts) != dict(stored):
            return False
        counts.update({m.value: n - counts[m.value] for m, n in counted.items()})
        return True

    # CampaignEmailRecords
    def pages(
        self, campaign_id: str, after: str | None = None
    ) -> Iterator[tuple[list[EmailRecord], str | None]]:
        keys = sorted(k for k in self.records.get(campaign_id, {}) if after is None or k > after)
        while True:
            self.queries += 1
            page, keys = keys[: self.page_items], keys[self.page_items :]
            last = page[-1] if keys else None
            yield [self.records[campaign_id][k] for k in page], last
            if last is None:
                return

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
            recount_after_seconds=300,
            tracker_batch_seconds=60,
        ),
        campaigns=store,  # type: ignore[arg-type]
        metrics=store,  # type: ignore[arg-type]
        records=store,
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


MINUTE = timedelta(minutes=1)
AT = "2030-01-01T12:00:00.000Z"


def _deliver(store: Store, campaign_id: str, segment: str, n: int, *, opens: int = 0) -> None:
    """`n` more emails of `segment` delivered (their records, as the tracker leaves them)."""
    records = store.records.setdefault(campaign_id, {})
    first = len(records)
    for i in range(first, first + n):
        records[f"r{i:04d}@example.com"] = EmailRecord(
            segment_id=segment,
            sent_at=AT,
            delivered_at=AT,
            finished_at=AT,
            opened_at=AT if opens else None,
            opens=opens,
        )


def _count(store: Store, campaign_id: str, segment: str, n: int, *, opens: int = 0) -> None:
    """The tracker's counters for `n` emails `_deliver` wrote."""
    counts = store.counters.setdefault(campaign_id, {}).setdefault(segment, Counter())
    counts.update(
        {
            Metric.SENT.value: n,
            Metric.DELIVERED.value: n,
            Metric.FINISHED.value: n,
            Metric.OPENED_UNIQUE.value: n if opens else 0,
            Metric.OPENED_TOTAL.value: n * opens,
        }
    )


def test_counters_a_stopped_tracker_left_short_are_recounted_from_the_records() -> None:
    # Given a campaign of 10 whose last tracker batch wrote 2 records and stopped before its
    # counters (news: 6 records, 4 counted)
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 4, opens=2)
    _count(store, "c1", "news", 4, opens=2)
    _deliver(store, "c1", "vip", 4)
    _count(store, "c1", "vip", 4)
    _deliver(store, "c1", "news", 2, opens=1)
    reconciler, clock = _reconciler(store)

    # It is not recounted while it may still move
    assert reconciler.run() == {}
    clock.now += 4 * MINUTE
    assert reconciler.run() == {}
    assert store.queries == 0
    # Quiet for 5 minutes: its records are counted, but the counters wait for the batches
    # under way to add theirs
    clock.now += MINUTE
    assert reconciler.run() == {}
    assert store.read("c1").total[Metric.FINISHED.value] == 8
    # Then the counters are set to what the records say, and the campaign is complete
    clock.now += MINUTE
    assert reconciler.run() == {"c1": Reconciled.COMPLETED}
    news = store.read("c1").segments["news"]
    assert news[Metric.FINISHED.value] == 6
    assert news[Metric.DELIVERED.value] == 6
    assert news[Metric.SENT.value] == 6
    assert news[Metric.OPENED_UNIQUE.value] == 6
    assert news[Metric.OPENED_TOTAL.value] == 4 * 2 + 2 * 1
    assert store.read("c1").segments["vip"][Metric.FINISHED.value] == 4
    campaign = store.campaigns["c1"]
    assert campaign.status is CampaignStatus.COMPLETED
    assert campaign.settled is None
    assert campaign.recount is not None
    assert campaign.recount.outcome is RecountOutcome.CORRECTED


def test_a_recount_that_leaves_the_campaign_short_says_so() -> None:
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 3)
    _count(store, "c1", "news", 2)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * MINUTE
    reconciler.run()
    clock.now += MINUTE

    assert reconciler.run() == {"c1": Reconciled.RECOUNTED}
    assert store.read("c1").total[Metric.FINISHED.value] == 3
    assert store.campaigns["c1"].status is CampaignStatus.SENDING


def test_counters_that_move_during_the_recount_are_left_to_the_batch_that_moved_them() -> None:
    # Given a batch of opens that wrote its records before the count and adds its counters
    # after it (finished does not move: the spell goes on)
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 4)
    _count(store, "c1", "news", 4)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * MINUTE
    records = store.records["c1"]
    for key in list(records)[:2]:  # records written...
        records[key] = records[key].model_copy(update={"opened_at": AT, "opens": 1})
    reconciler.run()  # ...and counted
    news = store.counters["c1"]["news"]  # then its counters added
    news.update({Metric.OPENED_UNIQUE.value: 2, Metric.OPENED_TOTAL.value: 2})
    clock.now += MINUTE

    # The correction is dropped: the records' count and the batch's own add are not summed
    assert reconciler.run() == {}
    counted = store.read("c1").segments["news"]
    assert counted[Metric.OPENED_UNIQUE.value] == 2
    assert counted[Metric.OPENED_TOTAL.value] == 2
    assert counted[Metric.FINISHED.value] == 4
    recount = store.campaigns["c1"].recount
    assert recount is not None
    assert recount.outcome is RecountOutcome.MOVED


def test_a_batch_that_finishes_emails_during_the_recount_is_not_counted_twice() -> None:
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 4)
    _count(store, "c1", "news", 4)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * MINUTE
    _deliver(store, "c1", "news", 1)  # records written...
    reconciler.run()  # ...and counted
    _count(store, "c1", "news", 1)  # then its counters added
    for _ in range(3):
        clock.now += MINUTE
        reconciler.run()

    assert store.read("c1").total[Metric.FINISHED.value] == 5
    assert store.read("c1").total[Metric.DELIVERED.value] == 5


def test_a_campaign_is_recounted_once_per_quiet_spell() -> None:
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 4)
    _count(store, "c1", "news", 4)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * MINUTE
    reconciler.run()
    clock.now += MINUTE
    reconciler.run()
    recount = store.campaigns["c1"].recount
    assert recount is not None
    assert recount.outcome is RecountOutcome.MATCHED
    queries = store.queries

    # More quiet ticks read no records again
    for _ in range(5):
        clock.now += 10 * MINUTE
        assert reconciler.run() == {}
    assert store.queries == queries

    # Progress starts another spell, recounted once it is quiet
    _deliver(store, "c1", "vip", 1)
    _count(store, "c1", "vip", 1)
    reconciler.run()
    clock.now += 5 * MINUTE
    reconciler.run()
    assert store.queries > queries


def test_a_large_campaign_is_counted_over_several_ticks() -> None:
    # Given 10 records, 2 a page, and time for one page a tick
    store = Store(campaigns={"c1": _campaign("c1")})
    _deliver(store, "c1", "news", 6)
    _deliver(store, "c1", "vip", 4)
    _count(store, "c1", "news", 5)
    _count(store, "c1", "vip", 4)
    reconciler, clock = _reconciler(store)
    reconciler.run()
    clock.now += 5 * MINUTE

    for _ in range(5):
        left = iter([100.0, 10.0])
        assert reconciler.run(time_left=functools.partial(next, left)) == {}
        clock.now += timedelta(seconds=10)
    assert store.queries == 5
    recount = store.campaigns["c1"].recount
    assert recount is not None
    assert recount.counted_at is not None

    clock.now += MINUTE
    assert reconciler.run() == {"c1": Reconciled.COMPLETED}
    assert store.read("c1").total[Metric.FINISHED.value] == 10


def test_settling_counts_unconfirmed_only_what_the_records_say_never_finished() -> None:
    # Given a campaign of 10: 7 delivered on the records, 5 counted, 3 never delivered
    store = Store(campaigns={"c1": _campaign("c1", segments={"news": 10})})
    _deliver(store, "c1", "news", 7)
    _count(store, "c1", "news", 5)
    reconciler, clock = _reconciler(store)
    reconciler.run()

    # When it stands still long past the settle time, ticks apart
    results: list[str] = []
    for _ in range(6):
        clock.now += 7 * HOUR
        results.extend(reconciler.run().values())

    # Then its lost deliveries were recounted first, and only the 3 were settled unconfirmed
    assert results == [Reconciled.RECOUNTED, Reconciled.SETTLED]
    numbers = store.read("c1").total
    assert numbers[Metric.DELIVERED.value] == 7
    assert numbers[Metric.UNCONFIRMED.value] == 3
    assert numbers[Metric.FINISHED.value] == 10
    settled = store.campaigns["c1"].settled
    assert settled is not None
    assert "3 of 10 emails" in settled
