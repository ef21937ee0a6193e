"""Send-time suppression checks: what was suppressed since a campaign's compile, kept in the
process and read again every 20 s; older campaigns checked against the table itself."""

from __future__ import annotations

from datetime import timedelta

from ems_common.campaigns import utc_now
from ems_common.suppressions import ALL, Suppression, SuppressionReason, list_scope
from ems_sender.recent_suppressions import RecentSuppressions
from tests.support.suppressions import InMemorySuppressions


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _suppress(
    table: InMemorySuppressions, address: str, scope: str = ALL, *, ago_s: float = 0
) -> None:
    table.add(
        Suppression(
            address=address,
            scope=scope,
            reason=SuppressionReason.UNSUBSCRIBE,
            suppressed_at=utc_now() - timedelta(seconds=ago_s),
        )
    )


def _recent(table: InMemorySuppressions, clock: Clock) -> RecentSuppressions:
    return RecentSuppressions(table, "day", clock=clock)  # type: ignore[arg-type]


def test_an_address_suppressed_after_the_compile_is_blocked_in_its_scopes_only() -> None:
    # Given a campaign compiled an hour ago, and unsubscribes made since (one from its list)
    table, clock = InMemorySuppressions(), Clock()
    compiled = utc_now() - timedelta(hours=1)
    _suppress(table, "Ann@Example.org", ago_s=60)
    _suppress(table, "bob@example.org", list_scope("news"), ago_s=60)
    recent = _recent(table, clock)

    blocked = recent.blocking(
        [("ann@example.org", "offers"), ("bob@example.org", "offers"), ("bob@example.org", "news")],
        since=compiled,
    )

    # Then Ann is blocked everywhere, Bob only on the list he left
    assert set(blocked) == {("ann@example.org", "offers"), ("bob@example.org", "news")}
    assert blocked[("bob@example.org", "news")][0].reason is SuppressionReason.UNSUBSCRIBE


def test_the_list_is_read_once_per_refresh_and_a_new_unsubscribe_shows_after_it() -> None:
    table, clock = InMemorySuppressions(), Clock()
    since = utc_now() - timedelta(minutes=5)
    recent = _recent(table, clock)
    pair = ("carol@example.org", "news")

    assert recent.blocking([pair], since=since) == {}
    _suppress(table, "carol@example.org")
    clock.now = 10.0
    assert recent.blocking([pair], since=since) == {}  # read 10 s ago: not yet
    assert table.day_queries == 1
    clock.now = 20.0
    assert pair in recent.blocking([pair], since=since)  # 20 s on: read again
    assert table.day_queries == 2


def test_an_earlier_campaign_reads_again_from_its_own_compile() -> None:
    table, clock = InMemorySuppressions(), Clock()
    _suppress(table, "dan@example.org", ago_s=3600)
    recent = _recent(table, clock)
    pair = ("dan@example.org", "news")

    assert recent.blocking([pair], since=utc_now() - timedelta(minutes=5)) == {}
    assert pair in recent.blocking([pair], since=utc_now() - timedelta(hours=2))
    assert table.day_queries == 2


def test_a_campaign_compiled_long_ago_or_unknown_is_checked_against_the_table() -> None:
    # Given a suppression made long before: the day index is not read for such campaigns
    table, clock = InMemorySuppressions(), Clock()
    _suppress(table, "eve@example.org", ago_s=30 * 86_400)
    recent = _recent(table, clock)
    pair = ("eve@example.org", "news")

    assert pair in recent.blocking([pair], since=utc_now() - timedelta(days=8))
    assert pair in recent.blocking([pair], since=None)
    assert table.day_queries == 0
