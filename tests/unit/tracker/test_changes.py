"""What SES events do to one email's record and its campaign's counters (no AWS)."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ems_common.emails import OPENS, EmailStatus, email_status
from ems_common.metrics import Metric
from ems_tracker.changes import apply_event
from ems_tracker.ses_events import parse_ses_event

EVENTS = Path(__file__).parents[2] / "events"


def _event(name: str, **patch: Any) -> Any:
    body = json.loads((EVENTS / f"{name}.json").read_text())
    for path, value in patch.items():
        target = body
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return parse_ses_event(json.dumps(body))


def _replay(
    names: list[str], record: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Counter[Metric]]:
    """Apply events one after the other, as the tracker does, with their changes written."""
    record = dict(record or {"state": "SENT", "segment_id": "s1"})
    totals: Counter[Metric] = Counter()
    for name in names:
        change = apply_event(record, _event(name))
        record.update(change.set_fields)
        for field, n in change.add_fields.items():
            record[field] = record.get(field, 0) + n
        totals.update(change.metrics)
    return record, totals


@pytest.mark.parametrize(
    ("events", "status", "metrics"),
    [
        ([], EmailStatus.SENT, {}),
        (["ses_send"], EmailStatus.SENT, {Metric.SENT: 1}),
        (
            ["ses_send", "ses_delivery"],
            EmailStatus.DELIVERED,
            {Metric.SENT: 1, Metric.DELIVERED: 1, Metric.FINISHED: 1},
        ),
        (
            ["ses_send", "ses_delivery_delay"],
            EmailStatus.DELIVERY_DELAYED,
            {Metric.SENT: 1, Metric.DELIVERY_DELAYS: 1},
        ),
        (
            ["ses_send", "ses_bounce"],
            EmailStatus.BOUNCED,
            {Metric.SENT: 1, Metric.BOUNCED_HARD: 1, Metric.FINISHED: 1},
        ),
        (
            ["ses_send", "ses_delivery", "ses_complaint"],
            EmailStatus.COMPLAINED,
            {Metric.SENT: 1, Metric.DELIVERED: 1, Metric.COMPLAINED: 1, Metric.FINISHED: 1},
        ),
        (
            ["ses_send", "ses_reject"],
            EmailStatus.REJECTED,
            {Metric.SENT: 1, Metric.REJECTED: 1, Metric.FINISHED: 1},
        ),
        (
            ["ses_rendering_failure"],
            EmailStatus.RENDERING_FAILED,
            {Metric.RENDERING_FAILURES: 1, Metric.FINISHED: 1},
        ),
        (
            ["ses_delivery", "ses_open", "ses_open"],
            EmailStatus.OPENED,
            {
                Metric.DELIVERED: 1,
                Metric.FINISHED: 1,
                Metric.OPENED_TOTAL: 2,
                Metric.OPENED_UNIQUE: 1,
            },
        ),
        (
            ["ses_delivery", "ses_open", "ses_click", "ses_click"],
            EmailStatus.CLICKED,
            {
                Metric.DELIVERED: 1,
                Metric.FINISHED: 1,
                Metric.OPENED_TOTAL: 1,
                Metric.OPENED_UNIQUE: 1,
                Metric.CLICKED_TOTAL: 2,
                Metric.CLICKED_UNIQUE: 1,
            },
        ),
        (
            ["ses_notification_delivery", "ses_notification_bounce"],
            EmailStatus.DELIVERED,
            {Metric.DELIVERED: 1, Metric.BOUNCED_SOFT: 1, Metric.FINISHED: 1},
        ),
    ],
)
def test_events_give_the_status_and_counts_a_user_expects(
    events: list[str], status: EmailStatus, metrics: dict[Metric, int]
) -> None:
    record, totals = _replay(events)

    assert email_status(record) == status
    assert +totals == Counter(metrics)


def test_a_late_send_does_not_undo_a_delivery() -> None:
    record, totals = _replay(["ses_delivery", "ses_send"])

    assert email_status(record) == EmailStatus.DELIVERED
    assert totals[Metric.SENT] == 1
    assert totals[Metric.FINISHED] == 1


def test_hard_bounces_and_complaints_suppress_the_address_soft_bounces_do_not() -> None:
    hard = apply_event({}, _event("ses_bounce"))
    soft = apply_event({}, _event("ses_bounce", bounce__bounceType="Transient"))
    complaint = apply_event({}, _event("ses_complaint"))

    assert [s.address for s in hard.suppress] == ["ann.lee@example.org"]
    # A hard bounce: no email at all again; a complaint: no campaign email (receipts still go)
    assert [(s.scope, s.reason, s.detail) for s in hard.suppress] == [
        ("all", "hard_bounce", "General")
    ]
    assert soft.suppress == []
    assert soft.metrics[Metric.BOUNCED_SOFT] == 1
    assert [(s.scope, s.reason) for s in complaint.suppress] == [("campaigns", "complaint")]


def test_a_soft_bounce_then_a_hard_one_counts_one_hard_bounce() -> None:
    record, _ = _replay([])
    first = apply_event(record, _event("ses_bounce", bounce__bounceType="Transient"))
    record.update(first.set_fields)
    second = apply_event(record, _event("ses_bounce"))
    record.update(second.set_fields)

    assert first.metrics + second.metrics == Counter({Metric.BOUNCED_HARD: 1, Metric.FINISHED: 1})
    assert email_status(record) == EmailStatus.BOUNCED


def test_the_senders_states_show_until_events_arrive() -> None:
    assert email_status(None) == EmailStatus.QUEUED
    assert email_status({"state": "CLAIMED"}) == EmailStatus.SENDING
    assert email_status({"state": "FAILED"}) == EmailStatus.FAILED
    assert email_status({"state": "SUPPRESSED"}) == EmailStatus.SUPPRESSED


ORDERABLE = ["ses_send", "ses_delivery", "ses_open", "ses_click", "ses_delivery_delay"]


@settings(max_examples=60, deadline=None)
@given(st.permutations(ORDERABLE), st.lists(st.sampled_from(ORDERABLE), max_size=3))
def test_any_order_ends_in_the_same_status_and_unique_counts(
    order: list[str], repeated: list[str]
) -> None:
    # Given the same events in any order, some delivered again (SNS is at-least-once) -
    # the duplicates are the tracker's to drop (by digest), so only new opens/clicks repeat.
    record, totals = _replay(order)
    expected, expected_totals = _replay(ORDERABLE)

    assert email_status(record) == email_status(expected) == EmailStatus.CLICKED
    for metric in (
        Metric.SENT,
        Metric.DELIVERED,
        Metric.OPENED_UNIQUE,
        Metric.CLICKED_UNIQUE,
        Metric.FINISHED,
    ):
        assert totals[metric] == expected_totals[metric] == 1
    assert record[OPENS] == 1


def test_every_metric_can_be_moved_by_some_event_or_by_the_sender() -> None:
    moved: set[Metric] = set()
    for name in [p.stem for p in EVENTS.glob("ses_*.json")]:
        moved |= set(apply_event({}, _event(name)).metrics)
    moved |= {Metric.FAILED, Metric.SUPPRESSED, Metric.AMBIGUOUS}  # counted by the sender
    moved |= {Metric.UNCONFIRMED}  # counted by the reconciler
    assert moved | {Metric.UNSUBSCRIBED, Metric.BOUNCED_SOFT} == set(Metric)
