"""The tracker's handling of a batch: DLQ, unknown ids, duplicates, suppressions, raw copies,
and the batch's counters written once per item (no AWS: the DynamoDB side is an in-memory
stand-in that honours the write's semantics, exercised for real in tests/e2e/test_tracker.py).
"""

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ems_common.dal.emails import EmailKey
from ems_common.emails import EmailRecord, EmailStatus
from ems_common.metrics import Metric
from ems_common.timeline import minute_key
from ems_tracker.changes import RecordUpdate
from ems_tracker.ingest import BatchSums, Tracker
from ems_tracker.timeline import TimelineWriter

EVENTS = Path(__file__).parents[2] / "events"
CAMPAIGN = "summer-sale-2025"
SEGMENT = "vip-customers"


class FakeEmailEvents:
    """Email records in a dict, keyed as the table is; the update as DynamoDB makes it."""

    def __init__(self, records: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.records = records or {}
        self.by_message_id = {
            str(r["ses_message_id"]): key
            for key, r in self.records.items()
            if "ses_message_id" in r
        }
        self.kept: list[str] = []
        self.unmatched: list[str] = []
        self.broken: set[str] = set()  # recipients whose update fails
        self.writes: list[EmailKey] = []  # the emails of the updates made, in order

    def locate(self, scope: str | None, recipient: str | None, message_id: str) -> Any:
        if scope and recipient:
            return EmailKey(scope, recipient)
        key = self.by_message_id.get(message_id)
        return EmailKey(*key) if key else None

    def update(self, ref: EmailKey, update: RecordUpdate, now: int) -> EmailRecord | None:
        if ref.recipient in self.broken:
            raise RuntimeError("DynamoDB is down")
        self.writes.append(ref)
        key = (ref.scope, ref.recipient.lower())
        before = dict(self.records.get(key, {}))
        digests = set(before.get("engagement_digests", []))
        if update.digest is not None and update.digest in digests:
            return None
        after = {**update.firsts, **before, **update.sets}
        for name, n in update.adds.items():
            after[name] = after.get(name, 0) + n
        if update.digest is not None:
            after["engagement_digests"] = sorted(digests | {update.digest})
        self.records[key] = after
        return EmailRecord.model_validate(before)

    def keep(self, ref: EmailKey, event: Any, body: str, now: int) -> None:
        self.kept.append(str(getattr(event, "event_type", "")))

    def keep_unmatched(self, event: Any, body: str, now: int) -> bool:
        self.unmatched.append(event.message_id)
        return True


class FakeMetrics:
    """The counters' writes, in order."""

    def __init__(self) -> None:
        self.adds: list[tuple[str, str | None, dict[Metric, int]]] = []
        self.fail = False

    def add(self, campaign_id: str, segment: str | None, deltas: Counter[Metric]) -> bool:
        if self.fail:
            raise RuntimeError("throttled")
        self.adds.append((campaign_id, segment, dict(deltas)))
        return True


def _event(
    name: str, address: str = "ann.lee@example.org", tags: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    event["mail"]["destination"] = [address]
    event["mail"]["messageId"] = f"m-{address}"
    event["mail"].setdefault("tags", {}).update(tags or {})
    for section in ("delivery",):
        if section in event:
            event[section]["recipients"] = [address]
    if "bounce" in event:
        event["bounce"]["bouncedRecipients"] = [{"emailAddress": address}]
    return event


def _body(
    name: str, address: str = "ann.lee@example.org", tags: dict[str, list[str]] | None = None
) -> str:
    return json.dumps(_event(name, address, tags))


def _tracker(
    events: FakeEmailEvents | None = None,
) -> tuple[Tracker, FakeEmailEvents, FakeMetrics, MagicMock, MagicMock]:
    events = events or FakeEmailEvents()
    metrics, suppressions, sqs = FakeMetrics(), MagicMock(), MagicMock()
    tracker = Tracker(
        events=events,  # type: ignore[arg-type]
        suppressions=suppressions,
        sqs=sqs,
        dlq_url="https://sqs.local/tracker-dlq",
        metrics=metrics,  # type: ignore[arg-type]
    )
    return tracker, events, metrics, suppressions, sqs


def _sent(address: str, segment: str = SEGMENT) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (CAMPAIGN, address): {
            "state": "SENT",
            "segment_id": segment,
            "ses_message_id": f"m-{address}",
        }
    }


def test_a_delivery_of_a_known_email_is_applied_and_finishes_it() -> None:
    tracker, events, metrics, _, sqs = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))

    outcome = tracker.process_batch([_body("ses_delivery")])

    assert outcome.failed == []
    assert outcome.finished == {CAMPAIGN}
    assert events.records[(CAMPAIGN, "ann.lee@example.org")]["delivered_at"]
    assert metrics.adds == [(CAMPAIGN, SEGMENT, {Metric.DELIVERED: 1, Metric.FINISHED: 1})]
    sqs.send_message.assert_not_called()


def test_a_hard_bounce_suppresses_the_address_with_its_reason() -> None:
    tracker, events, _, suppressions, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))

    tracker.process_batch([_body("ses_bounce")])

    suppressions.add.assert_called_once()
    (suppression,) = suppressions.add.call_args.args
    assert suppression.address == "ann.lee@example.org"
    assert (suppression.scope, suppression.reason) == ("all", "hard_bounce")
    assert suppression.source == "ses:Bounce"
    # and the bounce itself is kept raw: it says why the email failed
    assert events.kept == ["Bounce"]


@pytest.mark.parametrize(
    ("body", "in_reason"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"hello": "world"}), "neither eventType"),
        (json.dumps({"eventType": "Bounce", "mail": {}}), "malformed"),
        (json.dumps({"eventType": "Teleport", "mail": {}}), "unknown SES eventType"),
    ],
)
def test_what_is_not_an_ses_event_goes_to_the_dlq_with_its_reason(
    body: str, in_reason: str
) -> None:
    tracker, _, metrics, _, sqs = _tracker()

    assert tracker.process_batch([body]).failed == []

    sqs.send_message.assert_called_once()
    sent = sqs.send_message.call_args.kwargs
    assert sent["QueueUrl"] == "https://sqs.local/tracker-dlq"
    assert sent["MessageBody"] == body
    assert in_reason in sent["MessageAttributes"]["reason"]["StringValue"]
    assert tracker.stats["dead_lettered"] == 1
    assert metrics.adds == []


def test_an_event_for_an_unknown_message_id_is_kept_not_dead_lettered() -> None:
    # An email sent outside EMS through the same configuration set: none of EMS's tags
    untagged = _event("ses_open")
    untagged["mail"]["tags"] = {}
    tracker, events, metrics, _, sqs = _tracker()

    tracker.process_batch([json.dumps(untagged)])

    assert events.unmatched == [untagged["mail"]["messageId"]]
    assert tracker.stats["unmatched"] == 1
    assert metrics.adds == []
    sqs.send_message.assert_not_called()


def test_an_identity_notification_finds_its_email_by_message_id() -> None:
    tracker, events, metrics, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))

    tracker.process_batch([_body("ses_notification_delivery")])

    assert events.records[(CAMPAIGN, "ann.lee@example.org")]["delivered_at"]
    assert metrics.adds == [(CAMPAIGN, SEGMENT, {Metric.DELIVERED: 1, Metric.FINISHED: 1})]


def test_an_open_delivered_twice_counts_once_and_a_late_send_counts_nothing() -> None:
    tracker, _, metrics, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))
    opened = _body("ses_open")

    tracker.process_batch([_body("ses_send"), _body("ses_delivery"), opened, opened])
    tracker.process_batch([opened, _body("ses_send")])

    (first,) = [adds for adds in metrics.adds if adds[0] == CAMPAIGN]
    assert first[2] == {
        Metric.SENT: 1,
        Metric.DELIVERED: 1,
        Metric.FINISHED: 1,
        Metric.OPENED_UNIQUE: 1,
        Metric.OPENED_TOTAL: 1,
    }
    assert len(metrics.adds) == 1  # the second batch changed nothing: nothing written
    assert tracker.stats["duplicates"] == 2


def test_a_batch_writes_one_counter_update_per_segment() -> None:
    # Given 10 events of 4 emails in two segments (and a transactional one)
    records = {
        **_sent("a@example.org", "gold"),
        **_sent("b@example.org", "gold"),
        **_sent("c@example.org", "silver"),
    }
    tracker, _, metrics, _, _ = _tracker(FakeEmailEvents(records))
    bodies = [
        _body(kind, address)
        for address in ("a@example.org", "b@example.org", "c@example.org")
        for kind in ("ses_send", "ses_delivery", "ses_open")
    ]
    tx = {
        "campaignId": ["transactional"],
        "segmentId": ["receipt"],
        "emailId": ["tx-20261123-0123456789ab-4"],
    }
    bodies.append(_body("ses_delivery", "d@example.org", tags=tx))

    outcome = tracker.process_batch(bodies)

    assert outcome.failed == []
    assert outcome.finished == {CAMPAIGN, "tx-20261123-0123456789ab-4"}
    three = {Metric.SENT: 1, Metric.DELIVERED: 1, Metric.FINISHED: 1, Metric.OPENED_UNIQUE: 1,
             Metric.OPENED_TOTAL: 1}  # fmt: skip
    assert sorted(metrics.adds) == [
        (CAMPAIGN, "gold", {m: 2 * n for m, n in three.items()}),
        (CAMPAIGN, "silver", three),
        # a transactional email counts in its template's item of the day
        ("template#receipt", "2026-11-23", {Metric.DELIVERED: 1, Metric.FINISHED: 1}),
    ]


def test_an_email_without_a_record_gets_one_and_counts_in_its_tagged_segment() -> None:
    # The sender writes no record for a sent campaign email: the first event makes it
    tracker, events, metrics, _, _ = _tracker()

    tracker.process_batch([_body("ses_delivery", "new@example.org")])

    record = events.records[(CAMPAIGN, "new@example.org")]
    assert record["segment_id"] == SEGMENT
    assert record["ses_message_id"] == "m-new@example.org"
    assert metrics.adds == [(CAMPAIGN, SEGMENT, {Metric.DELIVERED: 1, Metric.FINISHED: 1})]


def test_only_the_rare_events_are_kept_raw() -> None:
    tracker, events, _, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))

    tracker.process_batch(
        [_body(k) for k in ("ses_send", "ses_delivery", "ses_open", "ses_click",
                            "ses_delivery_delay", "ses_complaint", "ses_reject")]
    )  # fmt: skip

    assert events.kept == ["DeliveryDelay", "Complaint", "Reject"]


def test_a_failing_event_is_retried_alone_and_the_others_are_counted() -> None:
    records = {**_sent("a@example.org"), **_sent("b@example.org")}
    events = FakeEmailEvents(records)
    events.broken.add("b@example.org")
    tracker, _, metrics, _, _ = _tracker(events)

    outcome = tracker.process_batch(
        [_body("ses_delivery", "a@example.org"), _body("ses_delivery", "b@example.org")]
    )

    assert outcome.failed == [1]
    assert metrics.adds == [(CAMPAIGN, SEGMENT, {Metric.DELIVERED: 1, Metric.FINISHED: 1})]
    assert tracker.stats["failed"] == 1


def test_an_emails_send_and_delivery_in_one_batch_share_a_write_and_each_counts() -> None:
    # Given two emails' Sends and Deliveries in one batch, and an Open of the first
    a, b = "a@example.org", "b@example.org"
    tracker, events, metrics, _, _ = _tracker(FakeEmailEvents({**_sent(a), **_sent(b)}))
    bodies = [
        _body("ses_send", a), _body("ses_send", b), _body("ses_delivery", a),
        _body("ses_delivery", b), _body("ses_open", a),
    ]  # fmt: skip

    outcome = tracker.process_batch(bodies)

    # Then each email's Send and Delivery took one write; the Open (conditional) its own
    assert outcome.failed == []
    assert [ref.recipient for ref in events.writes] == [a, b, a]
    assert tracker.stats["Send"] == tracker.stats["Delivery"] == 2
    assert tracker.stats["Open"] == 1
    # ... and every event counted what it changed, as a write each would have
    assert metrics.adds == [
        (
            CAMPAIGN,
            SEGMENT,
            {
                Metric.SENT: 2,
                Metric.DELIVERED: 2,
                Metric.FINISHED: 2,
                Metric.OPENED_TOTAL: 1,
                Metric.OPENED_UNIQUE: 1,
            },
        )
    ]
    assert EmailRecord.of(events.records[(CAMPAIGN, a)]).status is EmailStatus.OPENED
    assert EmailRecord.of(events.records[(CAMPAIGN, b)]).status is EmailStatus.DELIVERED


def test_a_shared_write_that_fails_retries_each_of_its_events() -> None:
    a, b = "a@example.org", "b@example.org"
    events = FakeEmailEvents({**_sent(a), **_sent(b)})
    events.broken.add(b)
    tracker, _, metrics, _, _ = _tracker(events)
    bodies = [
        _body("ses_send", a), _body("ses_send", b), _body("ses_delivery", a),
        _body("ses_delivery", b),
    ]  # fmt: skip

    outcome = tracker.process_batch(bodies)

    assert outcome.failed == [1, 3]
    assert tracker.stats["failed"] == 2
    assert metrics.adds == [
        (CAMPAIGN, SEGMENT, {Metric.SENT: 1, Metric.DELIVERED: 1, Metric.FINISHED: 1})
    ]


def test_counters_that_cannot_be_written_are_left_to_the_recount_not_retried() -> None:
    # Retrying the events would change nothing (their records are written): the reconciler's
    # recount corrects the counters instead (docs/tracking.md, "The crash window")
    tracker, events, metrics, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))
    metrics.fail = True

    outcome = tracker.process_batch([_body("ses_delivery")])

    assert outcome.failed == []
    assert events.records[(CAMPAIGN, "ann.lee@example.org")]["delivered_at"]
    assert tracker.stats["counters_lost"] == 1


def test_per_batch_writers_get_the_sums_by_campaign_and_minute() -> None:
    records = {**_sent("a@example.org"), **_sent("b@example.org")}
    tracker, _, _, _, _ = _tracker(FakeEmailEvents(records))
    seen: list[BatchSums] = []
    tracker.batch_writers.append(seen.append)
    later = _event("ses_open", "b@example.org")
    later["open"]["timestamp"] = "2025-07-03T07:09:59.999Z"

    tracker.process_batch(
        [_body("ses_open", "a@example.org"), _body("ses_delivery", "b@example.org"),
         json.dumps(later)]
    )  # fmt: skip

    (sums,) = seen
    opened = {Metric.OPENED_UNIQUE: 1, Metric.OPENED_TOTAL: 1}
    at = {minute: counts for (_, minute), counts in sums.by_minute.items()}
    assert {campaign for campaign, _ in sums.by_minute} == {CAMPAIGN}
    assert dict(at[datetime(2025, 7, 3, 7, 9, tzinfo=UTC)]) == opened
    assert sum(at.values(), Counter()) == Counter(
        {**{m: 2 * n for m, n in opened.items()}, Metric.DELIVERED: 1, Metric.FINISHED: 1}
    )


def test_a_transactional_email_is_found_by_its_email_id_tag() -> None:
    tx = {
        "campaignId": ["transactional"],
        "segmentId": ["receipt"],
        "emailId": ["tx-20261123-0123456789ab-4"],
    }
    tracker, events, _, _, _ = _tracker()

    outcome = tracker.process_batch([_body("ses_send", tags=tx), _body("ses_delivery", tags=tx)])

    assert outcome.finished == {"tx-20261123-0123456789ab-4"}
    assert ("tx-20261123-0123456789ab-4", "ann.lee@example.org") in events.records
    # its Send is kept raw: GET /emails/{id} shows the caller's tags on it
    assert events.kept == ["Send"]


class FakeTimeline:
    """Records each addition to a campaign's timeline; fails when told to."""

    def __init__(self, *, fail: bool = False) -> None:
        self.added: list[tuple[str, Any, dict[str, int]]] = []
        self.fail = fail

    def add(self, campaign_id: str, minute: Any, metrics: Any, **_: Any) -> None:
        if self.fail:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "x")
        self.added.append((campaign_id, minute, {str(m): n for m, n in metrics.items() if n}))


def _with_timeline(tracker: Tracker, timeline: FakeTimeline) -> None:
    tracker.batch_writers.append(
        TimelineWriter(timeline, stats=tracker.stats)  # type: ignore[arg-type]
    )


def test_an_applied_event_adds_its_counters_to_the_campaigns_timeline_at_its_minute() -> None:
    tracker, _, _, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))
    timeline = FakeTimeline()
    _with_timeline(tracker, timeline)

    tracker.process_batch([_body("ses_delivery")])

    ((campaign_id, minute, counts),) = timeline.added
    delivered_at = json.loads(_body("ses_delivery"))["delivery"]["timestamp"]
    assert campaign_id == "summer-sale-2025"
    assert minute_key(minute) == minute_key(datetime.fromisoformat(delivered_at))
    assert counts == {"delivered": 1, "finished": 1}


def test_a_duplicate_adds_nothing_to_the_timeline_and_a_failed_write_keeps_the_event() -> None:
    tracker, _, _, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))
    timeline = FakeTimeline()
    _with_timeline(tracker, timeline)
    tracker.process_batch([_body("ses_open")])
    timeline.added.clear()
    tracker.process_batch([_body("ses_open")])  # the same open, delivered again
    assert timeline.added == []

    failing, events, metrics, _, _ = _tracker(FakeEmailEvents(_sent("ann.lee@example.org")))
    _with_timeline(failing, FakeTimeline(fail=True))
    outcome = failing.process_batch([_body("ses_open")])
    assert outcome.failed == []
    assert events.records[(CAMPAIGN, "ann.lee@example.org")]["opens"] == 1
    assert metrics.adds == [(CAMPAIGN, SEGMENT, {Metric.OPENED_UNIQUE: 1, Metric.OPENED_TOTAL: 1})]
    assert failing.stats["timeline_not_added"] == 1


def test_transactional_email_has_no_timeline() -> None:
    tx = {
        "campaignId": ["transactional"],
        "segmentId": ["receipt"],
        "emailId": ["tx-20261123-0123456789ab-4"],
    }
    tracker, _, metrics, _, _ = _tracker()
    timeline = FakeTimeline()
    _with_timeline(tracker, timeline)

    tracker.process_batch([_body("ses_send", tags=tx), _body("ses_delivery", tags=tx)])

    assert metrics.adds  # counted in its template's item, not charted
    assert timeline.added == []
