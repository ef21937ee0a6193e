"""The tracker's handling of one message: DLQ, unknown ids, conflicts, suppressions (no AWS:
the DynamoDB side is faked here and exercised for real in tests/e2e/test_tracker.py)."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ems_common.dal.emails import EmailKey
from ems_common.timeline import minute_key
from ems_tracker.changes import Change
from ems_tracker.dal.emails import Applied
from ems_tracker.ingest import ConflictError, Tracker

EVENTS = Path(__file__).parents[2] / "events"


class FakeEmailEvents:
    """Emails in a dict; `apply` answers from a script (APPLIED unless told otherwise)."""

    def __init__(self, known: dict[str, dict[str, Any]], answers: list[Applied] | None = None):
        self.known = known
        self.answers = list(answers or [])
        self.applied: list[tuple[EmailKey, Change]] = []
        self.unmatched: list[str] = []

    def find(self, scope: str | None, recipient: str | None, message_id: str) -> Any:
        record = self.known.get(message_id)
        if record is None:
            return None
        return EmailKey(str(scope or "by-index"), str(recipient)), dict(record)

    def keep_unmatched(self, event: Any, body: str, now: int) -> bool:
        self.unmatched.append(event.message_id)
        return True

    def apply(self, ref: EmailKey, record: dict[str, Any], change: Change, **_: Any) -> Applied:
        answer = self.answers.pop(0) if self.answers else Applied.APPLIED
        if answer is Applied.APPLIED:
            self.applied.append((ref, change))
        return answer


def _body(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text()


def _message_id(name: str) -> str:
    return str(json.loads(_body(name))["mail"]["messageId"])


def _tracker(events: FakeEmailEvents) -> tuple[Tracker, MagicMock, MagicMock]:
    suppressions, sqs = MagicMock(), MagicMock()
    tracker = Tracker(
        events=events,  # type: ignore[arg-type]
        suppressions=suppressions,
        sqs=sqs,
        dlq_url="https://sqs.local/tracker-dlq",
        sleep=lambda _: None,
    )
    return tracker, suppressions, sqs


def test_a_delivery_of_a_known_email_is_applied_and_finishes_it() -> None:
    events = FakeEmailEvents({_message_id("ses_delivery"): {"state": "SENT"}})
    tracker, _, sqs = _tracker(events)

    finished = tracker.process(_body("ses_delivery"))

    assert finished == "summer-sale-2025"
    ((ref, change),) = events.applied
    assert ref.recipient == "ann.lee@example.org"
    assert change.finishes
    sqs.send_message.assert_not_called()


def test_a_hard_bounce_suppresses_the_address_with_its_reason() -> None:
    events = FakeEmailEvents({_message_id("ses_bounce"): {"state": "SENT"}})
    tracker, suppressions, _ = _tracker(events)

    tracker.process(_body("ses_bounce"))

    suppressions.add.assert_called_once()
    (suppression,) = suppressions.add.call_args.args
    assert suppression.address == "ann.lee@example.org"
    assert (suppression.scope, suppression.reason) == ("all", "hard_bounce")
    assert suppression.source == "ses:Bounce"


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
    tracker, _, sqs = _tracker(FakeEmailEvents({}))

    assert tracker.process(body) is None

    sqs.send_message.assert_called_once()
    sent = sqs.send_message.call_args.kwargs
    assert sent["QueueUrl"] == "https://sqs.local/tracker-dlq"
    assert sent["MessageBody"] == body
    assert in_reason in sent["MessageAttributes"]["reason"]["StringValue"]
    assert tracker.stats["dead_lettered"] == 1


def test_an_event_for_an_unknown_message_id_is_kept_not_dead_lettered() -> None:
    events = FakeEmailEvents({})
    tracker, _, sqs = _tracker(events)

    tracker.process(_body("ses_open"))

    assert events.unmatched == [_message_id("ses_open")]
    assert tracker.stats["unmatched"] == 1
    sqs.send_message.assert_not_called()


def test_a_conflict_is_retried_with_a_fresh_read_and_a_duplicate_is_dropped() -> None:
    known = {_message_id("ses_open"): {"state": "SENT"}}
    retried = FakeEmailEvents(known, [Applied.CONFLICT, Applied.CONFLICT])
    duplicate = FakeEmailEvents(known, [Applied.DUPLICATE])

    tracker, _, _ = _tracker(retried)
    tracker.process(_body("ses_open"))
    other, _, _ = _tracker(duplicate)
    other.process(_body("ses_open"))

    assert len(retried.applied) == 1
    assert tracker.stats["conflicts"] == 2
    assert duplicate.applied == []
    assert other.stats["duplicates"] == 1


def test_endless_conflicts_fail_the_message_so_sqs_retries_it() -> None:
    events = FakeEmailEvents({_message_id("ses_open"): {}}, [Applied.CONFLICT] * 20)
    tracker, _, _ = _tracker(events)

    with pytest.raises(ConflictError):
        tracker.process(_body("ses_open"))


def test_a_transactional_email_is_found_by_its_email_id_tag() -> None:
    event = json.loads(_body("ses_delivery"))
    event["mail"]["tags"] = {
        "campaignId": ["transactional"],
        "segmentId": ["receipt"],
        "emailId": ["tx-20261123-0123456789ab-4"],
    }
    events = FakeEmailEvents({event["mail"]["messageId"]: {"state": "SENT"}})
    tracker, _, _ = _tracker(events)

    finished = tracker.process(json.dumps(event))

    ((ref, _),) = events.applied
    assert ref.scope == "tx-20261123-0123456789ab-4"
    assert finished == "tx-20261123-0123456789ab-4"


class FakeTimeline:
    """Records each addition to a campaign's timeline; fails when told to."""

    def __init__(self, *, fail: bool = False) -> None:
        self.added: list[tuple[str, Any, dict[str, int]]] = []
        self.fail = fail

    def add(self, campaign_id: str, minute: Any, metrics: Any, **_: Any) -> None:
        if self.fail:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "x")
        self.added.append((campaign_id, minute, {str(m): n for m, n in metrics.items() if n}))


def test_an_applied_event_adds_its_counters_to_the_campaigns_timeline_at_its_minute() -> None:
    events = FakeEmailEvents({_message_id("ses_delivery"): {"state": "SENT"}})
    tracker, _, _ = _tracker(events)
    timeline = FakeTimeline()
    tracker.timeline = timeline  # type: ignore[assignment]

    tracker.process(_body("ses_delivery"))

    ((campaign_id, minute, counts),) = timeline.added
    delivered_at = json.loads(_body("ses_delivery"))["delivery"]["timestamp"]
    assert campaign_id == "summer-sale-2025"
    assert minute_key(minute) == minute_key(datetime.fromisoformat(delivered_at))
    assert counts == {"delivered": 1, "finished": 1}


def test_a_duplicate_adds_nothing_to_the_timeline_and_a_failed_write_keeps_the_event() -> None:
    known = {_message_id("ses_open"): {"state": "SENT"}}
    duplicate = FakeEmailEvents(known, [Applied.DUPLICATE])
    tracker, _, _ = _tracker(duplicate)
    timeline = FakeTimeline()
    tracker.timeline = timeline  # type: ignore[assignment]
    tracker.process(_body("ses_open"))
    assert timeline.added == []

    applied = FakeEmailEvents(known)
    failing, _, _ = _tracker(applied)
    failing.timeline = FakeTimeline(fail=True)  # type: ignore[assignment]
    failing.process(_body("ses_open"))
    assert len(applied.applied) == 1
    assert failing.stats["timeline_not_added"] == 1
