"""The tracker's one write per event, checked against what `apply_event` says (no AWS).

The UpdateItem the tracker sends (`ems_tracker.dal.emails.update_request`) is interpreted here
the way DynamoDB evaluates that subset of the expression language (`SET a = if_not_exists(a,
:v)`, `SET a = :v`, `ADD a :n`, `ADD set :s`, `NOT contains(set, :v)`); the e2e tests run the
same requests against DynamoDB Local. What must hold: the record the write leaves is the one
`apply_event`'s fields give, and counting `apply_event(record before, event)` for each write
that DynamoDB accepts counts what the tracker counted before (a read, then a transaction that
refused any event seen before), whatever the order, duplicates included.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ems_common.dal.items import from_item
from ems_common.emails import EmailRecord, EmailStatus
from ems_common.metrics import Metric
from ems_tracker.changes import (
    applied,
    apply_event,
    engagement_digest,
    is_kept_raw,
    merged,
    record_update,
    shares_a_write,
)
from ems_tracker.dal.emails import UpdateRequest, update_request
from ems_tracker.ses_events import SesEvent, SesNotification, parse_ses_event

EVENTS = Path(__file__).parents[2] / "events"
EXPIRES_AT: Final = 1_900_000_000
MESSAGE_ID: Final = json.loads((EVENTS / "ses_send.json").read_text())["mail"]["messageId"]
# The fields the tracker owns on a record: what apply_event sets and adds.
TRACKED: Final = (
    "sent_at",
    "delivered_at",
    "delayed_at",
    "bounced_at",
    "bounce_type",
    "complained_at",
    "rejected_at",
    "rendering_failed_at",
    "opened_at",
    "opens",
    "clicked_at",
    "clicks",
    "unsubscribed_at",
    "finished_at",
)

_SET_FIRST = re.compile(r"(#\w+) = if_not_exists\(\1, (:\w+)\)")
_SET = re.compile(r"(#\w+) = (:\w+)")
_ADD = re.compile(r"(#\w+) (:\w+)")
_NOT_CONTAINS = re.compile(r"NOT contains\((#\w+), (:\w+)\)")


def _clauses(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """`text` as a comma-separated list of `pattern`'s matches (anything else is an error)."""
    found, at = [], 0
    while at < len(text):
        match = pattern.match(text, at)
        assert match is not None, f"not understood: {text[at:]!r}"
        found.append((match[1], match[2]))
        at = match.end()
        if text.startswith(", ", at):
            at += 2
    return found


def simulate(item: Mapping[str, Any], request: UpdateRequest) -> dict[str, Any] | None:
    """The item after DynamoDB applied `request` to it (plain values, as `from_item` gives
    them), or None if its condition fails."""
    names = request.names
    values = {k: from_item({"v": v})["v"] for k, v in request.values.items()}
    if request.condition is not None:
        (found,) = _clauses(request.condition, _NOT_CONTAINS)
        if values[found[1]] in item.get(names[found[0]], []):
            return None
    after = dict(item)
    assert request.expression.startswith("SET ")
    sets, _, adds = request.expression.removeprefix("SET ").partition(" ADD ")
    for part in re.split(r", (?=#)", sets):
        first = _SET_FIRST.fullmatch(part)
        if first is not None:
            after.setdefault(names[first[1]], values[first[2]])
            continue
        ((name, value),) = _clauses(part, _SET)
        after[names[name]] = values[value]
    for name, value in _clauses(adds, _ADD) if adds else []:
        added = values[value]
        if isinstance(added, list):  # a string set: ADD makes the union
            after[names[name]] = sorted(set(after.get(names[name], [])) | set(added))
        else:
            after[names[name]] = after.get(names[name], 0) + added
    return after


def _body(name: str, **patch: Any) -> str:
    body = json.loads((EVENTS / f"{name}.json").read_text())
    for path, value in patch.items():
        target = body
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return json.dumps(body)


# Every kind of event, and a few distinct opens and clicks (the same one repeated is a
# duplicate): the pool sequences are drawn from.
POOL: Final = {
    "send": _body("ses_send"),
    "delivery": _body("ses_delivery"),
    "delivery_notification": _body("ses_notification_delivery"),
    "delay": _body("ses_delivery_delay"),
    "hard_bounce": _body("ses_bounce"),
    "soft_bounce": _body("ses_bounce", bounce__bounceType="Transient"),
    "soft_bounce_later": _body(
        "ses_bounce", bounce__bounceType="Transient", bounce__timestamp="2025-07-04T00:00:00Z"
    ),
    "notification_bounce": _body("ses_notification_bounce"),
    "complaint": _body("ses_complaint"),
    "reject": _body("ses_reject"),
    "rendering_failure": _body("ses_rendering_failure"),
    "subscription": _body("ses_subscription"),
    "open_1": _body("ses_open"),
    "open_2": _body("ses_open", open__timestamp="2025-07-03T08:00:00.000Z"),
    "open_3": _body("ses_open", open__userAgent="Other/1.0"),
    "click_1": _body("ses_click"),
    "click_2": _body("ses_click", click__link="https://example.com/other"),
}
STARTS: Final = [
    {},  # no record: the sender wrote none
    {"state": "SENT", "segment_id": "s1", "ses_message_id": MESSAGE_ID, "expires_at": 5},
    {"state": "CLAIMED", "segment_id": "s1", "claims": 2},
    {"state": "AMBIGUOUS", "segment_id": "s1"},
]


def _event(body: str) -> SesEvent | SesNotification:
    return parse_ses_event(body)


def _tracked(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) or None for name in TRACKED}


def _by_apply_event(record: Mapping[str, Any], event: SesEvent | SesNotification) -> Any:
    change = apply_event(record, event)
    after = {**record, **change.set_fields}
    for name, n in change.add_fields.items():
        after[name] = after.get(name, 0) + n
    return after, change


def _before_this_change(start: Mapping[str, Any], bodies: list[str]) -> tuple[Any, Counter[Any]]:
    """The tracker as it was: every event's raw copy kept under its body's digest, in the same
    transaction as the email's fields and the counters, so an event seen before changed
    nothing."""
    record, totals, seen = dict(start), Counter[Metric](), set()
    for body in bodies:
        if body in seen:
            continue
        seen.add(body)
        record, change = _by_apply_event(record, _event(body))
        totals.update(change.metrics)
    return record, totals


def _one_write_per_event(start: Mapping[str, Any], bodies: list[str]) -> tuple[Any, Counter[Any]]:
    """The tracker now: one conditional update per event, counting what it changed."""
    record, totals = dict(start), Counter[Metric]()
    for body in bodies:
        event = _event(body)
        after = simulate(record, update_request(record_update(event), expires_at=EXPIRES_AT))
        if after is None:
            continue
        # The write leaves the record apply_event describes ...
        expected, change = _by_apply_event(record, event)
        assert _tracked(after) == _tracked(expected)
        # ... and the counts are what it changed on the record as it was before
        totals.update(change.metrics)
        record = after
    return record, totals


def _nonzero(totals: Counter[Metric]) -> dict[Metric, int]:
    return {metric: n for metric, n in totals.items() if n}


# A record to start from and a sequence of the pool's events (one drawn twice is a duplicate).
_START_AND_EVENTS: Final = given(
    st.sampled_from(STARTS),
    st.lists(st.sampled_from(sorted(POOL)), min_size=1, max_size=12),
)


@settings(max_examples=300, deadline=None)
@_START_AND_EVENTS
def test_one_write_per_event_counts_and_records_what_the_transaction_did(
    start: dict[str, Any], names: list[str]
) -> None:
    bodies = [POOL[name] for name in names]

    before, before_totals = _before_this_change(start, bodies)
    now, now_totals = _one_write_per_event(start, bodies)

    assert _tracked(now) == _tracked(before)
    assert _nonzero(now_totals) == _nonzero(before_totals)
    assert EmailRecord.of(now).status == EmailRecord.of(before).status
    # The write also leaves what finds and counts a record the tracker created (identity
    # notifications carry no tags: no segment from them)
    tagged = any("notification" not in name for name in names)
    assert now["ses_message_id"] == start.get("ses_message_id", MESSAGE_ID)
    assert now.get("segment_id") == start.get("segment_id", "vip-customers" if tagged else None)
    assert now["expires_at"] == start.get("expires_at", EXPIRES_AT)


@settings(max_examples=100, deadline=None)
@given(st.permutations(sorted(POOL)))
def test_any_order_gives_one_count_per_email_and_every_engagement(order: list[str]) -> None:
    record, totals = _one_write_per_event({}, [POOL[name] for name in order] * 2)

    assert EmailRecord.of(record).status is EmailStatus.COMPLAINED
    assert totals[Metric.SENT] == totals[Metric.DELIVERED] == totals[Metric.FINISHED] == 1
    # Three distinct opens and two clicks, each delivered twice: counted once each
    assert (totals[Metric.OPENED_TOTAL], totals[Metric.OPENED_UNIQUE]) == (3, 1)
    assert (totals[Metric.CLICKED_TOTAL], totals[Metric.CLICKED_UNIQUE]) == (2, 1)
    assert (record["opens"], record["clicks"]) == (3, 2)
    # One bounce, hard (a hard bounce turns an earlier soft one hard, whatever the order)
    assert totals[Metric.BOUNCED_HARD] == 1
    assert totals[Metric.BOUNCED_SOFT] == 0
    assert record["bounce_type"] == "Permanent"


def _shared_writes(
    start: Mapping[str, Any], bodies: list[str]
) -> tuple[Any, Counter[Any], list[str]]:
    """The tracker with one email's events in a batch: those that share a write
    (`shares_a_write`) in one, at the first one's place, the others one each; each event counts
    what it changed on the record as the events before it in its write left it (`applied`).
    Also the order the events were applied in."""
    events = [_event(body) for body in bodies]
    updates = [record_update(event) for event in events]
    shared = [n for n, update in enumerate(updates) if shares_a_write(update)]
    writes = [
        shared if shares_a_write(update) else [n]
        for n, update in enumerate(updates)
        if not shares_a_write(update) or n == shared[0]
    ]
    record, totals = dict(start), Counter[Metric]()
    for write in writes:
        update = merged([updates[n] for n in write]) if len(write) > 1 else updates[write[0]]
        after = simulate(record, update_request(update, expires_at=EXPIRES_AT))
        if after is None:
            continue
        state = EmailRecord.of(record)
        for n in write:
            totals.update(apply_event(state, events[n]).metrics)
            state = applied(state, updates[n])
        # What `applied` says the write left is what DynamoDB left
        assert _tracked(state.model_dump()) == _tracked(after)
        assert (state.segment_id, state.ses_message_id) == (
            after.get("segment_id"),
            after.get("ses_message_id"),
        )
        record = after
    return record, totals, [bodies[n] for write in writes for n in write]


@settings(max_examples=300, deadline=None)
@_START_AND_EVENTS
def test_events_that_share_a_write_count_and_record_what_a_write_each_does(
    start: dict[str, Any], names: list[str]
) -> None:
    bodies = [POOL[name] for name in names]

    shared, shared_totals, order = _shared_writes(start, bodies)
    # A write each, in the order the shared write put them in (a batch's order is SES's and
    # Firehose's anyway: events come in any order)
    each, each_totals = _one_write_per_event(start, order)

    assert _tracked(shared) == _tracked(each)
    assert _nonzero(shared_totals) == _nonzero(each_totals)
    for name in ("ses_message_id", "segment_id", "expires_at", "engagement_digests"):
        assert shared.get(name) == each.get(name)


def test_an_emails_send_and_delivery_share_one_write() -> None:
    send, delivery = (record_update(_event(POOL[name])) for name in ("send", "delivery"))

    write = merged([send, delivery])
    after = simulate({}, update_request(write, expires_at=EXPIRES_AT))

    assert after is not None
    assert EmailRecord.of(after).status is EmailStatus.DELIVERED
    assert after["sent_at"] < after["delivered_at"] == after["finished_at"]


@pytest.mark.parametrize("name", ["hard_bounce", "open_1", "click_1"])
def test_a_hard_bounce_an_open_or_a_click_is_written_alone(name: str) -> None:
    update = record_update(_event(POOL[name]))

    assert not shares_a_write(update)
    with pytest.raises(ValueError, match="written alone"):
        merged([record_update(_event(POOL["send"])), update])


def test_a_soft_bounce_then_a_hard_one_keeps_the_first_bounce_time() -> None:
    record, totals = _one_write_per_event({}, [POOL["soft_bounce_later"], POOL["hard_bounce"]])

    assert record["bounced_at"] == "2025-07-04T00:00:00+00:00"
    assert record["bounce_type"] == "Permanent"
    assert _nonzero(totals) == {Metric.BOUNCED_HARD: 1, Metric.FINISHED: 1}


def test_only_opens_and_clicks_carry_a_digest_and_the_same_event_gives_the_same_one() -> None:
    digests = {name: engagement_digest(_event(body)) for name, body in POOL.items()}

    assert {name for name, d in digests.items() if d} == {
        "open_1",
        "open_2",
        "open_3",
        "click_1",
        "click_2",
    }
    # The digest is the event's, not its text's: a re-encoded copy is the same event
    reencoded = json.dumps(json.loads(POOL["open_1"]), indent=2, sort_keys=True)
    assert engagement_digest(_event(reencoded)) == digests["open_1"]
    assert len({d for d in digests.values() if d}) == 5


@pytest.mark.parametrize(
    ("name", "transactional", "kept"),
    [
        ("send", False, False),
        ("delivery", False, False),
        ("open_1", False, False),
        ("click_1", False, False),
        ("hard_bounce", False, True),
        ("notification_bounce", False, True),
        ("complaint", False, True),
        ("reject", False, True),
        ("rendering_failure", False, True),
        ("subscription", False, True),
        ("delay", False, True),
        ("send", True, True),  # a transactional email's Send: its caller's tags, shown by the API
        ("delivery", True, False),
    ],
)
def test_only_the_rare_events_are_kept_raw(name: str, transactional: bool, kept: bool) -> None:
    assert is_kept_raw(_event(POOL[name]), transactional=transactional) is kept
