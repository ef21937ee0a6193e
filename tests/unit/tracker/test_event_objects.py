"""The tracker's queue messages: S3 notifications of objects of SES events (no AWS: S3 is an
in-memory fake, DynamoDB the fake of test_ingest; the whole path runs for real in
tests/e2e/test_tracker.py).
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ems_common.dal.emails import EmailKey
from ems_common.emails import EmailRecord
from ems_tracker.changes import RecordUpdate
from ems_tracker.dal.event_objects import (
    EventObject,
    EventObjects,
    NotificationError,
    UnreadableObjectError,
    split_documents,
)
from ems_tracker.handlers import track
from ems_tracker.handlers.track import EventsNotAppliedError, track_message
from ems_tracker.ingest import Tracker
from tests.unit.tracker.test_ingest import FakeEmailEvents, _tracker

EVENTS = Path(__file__).parents[2] / "events"
BUCKET = "ems-prod-ses-events"
PREFIX = "ses-events/"
KEY = "ses-events/2026/12/06/08/ems-prod-ses-events-1-2026-12-06-08-18-02-b33b17b1"
DLQ = "https://sqs.local/tracker-dlq"
# The fixtures of every kind SES publishes, as the configuration set publishes them
KINDS = [
    "send", "delivery", "bounce", "complaint", "reject", "open", "click",
    "rendering_failure", "delivery_delay", "subscription",
]  # fmt: skip


def _event(kind: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"ses_{kind}.json").read_text())
    return event


def _line(event: dict[str, Any]) -> str:
    """One event as SES puts it into Firehose: compact JSON and a newline."""
    return json.dumps(event, separators=(",", ":")) + "\n"


def _notification(bucket: str = BUCKET, key: str = KEY, **object_fields: Any) -> str:
    body: dict[str, Any] = json.loads((EVENTS / "s3_notification_object_created.json").read_text())
    record = body["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"]["key"] = key
    record["s3"]["object"].pop("versionId")
    record["s3"]["object"].update(object_fields)
    return json.dumps(body)


class FakeS3:
    """Objects in a dict; get_object answers S3's errors for missing and forbidden ones."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str | None], bytes] = {}
        self.denied: set[str] = set()
        self.reads: list[tuple[str, str, str | None]] = []

    def put(self, key: str, data: str, version: str | None = None) -> None:
        self.objects[(BUCKET, key, version)] = data.encode()

    def get_object(self, *, Bucket: str, Key: str, VersionId: str | None = None) -> Any:  # noqa: N803
        self.reads.append((Bucket, Key, VersionId))
        if Key in self.denied:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
        data = self.objects.get((Bucket, Key, VersionId))
        if data is None:
            code = "NoSuchVersion" if VersionId else "NoSuchKey"
            raise ClientError({"Error": {"Code": code, "Message": "gone"}}, "GetObject")
        body = MagicMock()
        body.read.return_value = data
        return {"Body": body}


def _objects(s3: FakeS3) -> EventObjects:
    return EventObjects(s3, bucket=BUCKET, prefix=PREFIX)  # type: ignore[arg-type]


class KnownEvents(FakeEmailEvents):
    """test_ingest's email records, noting each update that changed one."""

    def __init__(self, records: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        super().__init__(records)
        self.applied: list[tuple[EmailKey, RecordUpdate]] = []

    def update(self, ref: EmailKey, update: RecordUpdate, now: int) -> EmailRecord | None:
        before = super().update(ref, update, now)
        if before is not None:
            self.applied.append((ref, update))
        return before


# The names the tracker counts applied events under (`event_name`: SES's eventType).
EVENT_NAMES = {
    "Send", "Delivery", "Bounce", "Complaint", "Reject", "Open", "Click",
    "Rendering Failure", "DeliveryDelay", "Subscription",
}  # fmt: skip


def _applied(tracker: Tracker) -> int:
    """How many events the tracker applied to emails' records (events of one email may share
    a write, so this is not the number of writes)."""
    return sum(n for name, n in tracker.stats.items() if name in EVENT_NAMES)


def _known(*kinds: str) -> KnownEvents:
    """Records of emails EMS sent, one for each kind's fixture event (found by message id
    when the event carries no campaign tag)."""
    return KnownEvents(
        {
            (f"known-{kind}", "recipient@example.org"): {
                "state": "SENT",
                "ses_message_id": _event(kind)["mail"]["messageId"],
            }
            for kind in kinds
        }
    )


def _dead_letters(sqs: MagicMock) -> list[tuple[str, str]]:
    return [
        (c.kwargs["MessageBody"], c.kwargs["MessageAttributes"]["reason"]["StringValue"])
        for c in sqs.send_message.call_args_list
        if c.kwargs["QueueUrl"] == DLQ
    ]


# -- the documents of an object ----------------------------------------------------------------


def test_an_object_splits_into_its_newline_delimited_events() -> None:
    events = [_event(kind) for kind in KINDS]
    text = "".join(_line(event) for event in events)

    documents = split_documents(text)

    assert [json.loads(d) for d in documents] == events
    assert all("\n" not in d for d in documents)


def test_back_to_back_pretty_printed_and_blank_separated_documents_are_found() -> None:
    send, delivery, bounce = _event("send"), _event("delivery"), _event("bounce")
    text = (
        json.dumps(send)
        + json.dumps(delivery)  # no separator at all
        + "\n\n  \n"
        + json.dumps(bounce, indent=2)  # spread over lines
        + "\r\n"
    )

    assert [json.loads(d) for d in split_documents(text)] == [send, delivery, bounce]
    assert split_documents("") == split_documents(" \n\n") == []


def test_text_that_is_not_json_is_one_document_up_to_its_line_s_end() -> None:
    send, open_ = _line(_event("send")), _line(_event("open"))
    truncated = _line(_event("delivery"))[:40] + "\n"

    documents = split_documents(send + "<html>not an event</html>\n" + truncated + open_)

    assert documents[1] == "<html>not an event</html>"
    assert documents[2] == truncated.rstrip("\n")
    assert [json.loads(documents[i]) for i in (0, 3)] == [_event("send"), _event("open")]


# -- what a notification names -----------------------------------------------------------------


def test_a_notification_names_its_object_with_the_key_decoded_and_its_version() -> None:
    objects = _objects(FakeS3())
    body = json.loads((EVENTS / "s3_notification_object_created.json").read_text())

    (found,) = objects.named_by(json.dumps(body))

    assert found == EventObject(
        BUCKET, body["Records"][0]["s3"]["object"]["key"], "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    )
    # S3 URL-encodes keys in notifications
    (spaced,) = objects.named_by(_notification(key="ses-events/a+b%2Bc%C3%A9.json"))
    assert spaced.key == "ses-events/a b+cé.json"


def test_s3_s_test_event_names_nothing() -> None:
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-12-06T08:19:02.170Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    assert _objects(FakeS3()).named_by(json.dumps(test_event)) == []


@pytest.mark.parametrize(
    ("body", "in_reason"),
    [
        ("chaos <html>", "not valid JSON"),
        (json.dumps([1, 2]), "a JSON list"),
        (json.dumps(_event("send")), "an SES event without Records"),
        (json.dumps({"Records": []}), "without Records"),
        (json.dumps({"Records": [{"eventSource": "aws:sqs"}]}), "not an S3 event record"),
        (
            _notification().replace("ObjectCreated:Put", "ObjectRemoved:Delete"),
            "'ObjectRemoved:Delete', not an object created",
        ),
        (_notification(bucket="someone-else"), "s3://someone-else/"),
        (_notification(key="elsewhere/x.json"), "not an object of SES events"),
        (json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}),
         "names no object"),
    ],
    ids=["not-json", "array", "ses-event", "no-records", "not-s3", "removed", "other-bucket",
         "other-prefix", "no-object"],
)  # fmt: skip
def test_anything_else_is_not_a_notification_and_says_what_it_is(body: str, in_reason: str) -> None:
    with pytest.raises(NotificationError) as raised:
        _objects(FakeS3()).named_by(body)
    assert in_reason in str(raised.value)


# -- a message, end to end ---------------------------------------------------------------------


def test_every_event_of_an_object_is_applied_and_nothing_dead_lettered() -> None:
    s3 = FakeS3()
    s3.put(KEY, "".join(_line(_event(kind)) for kind in KINDS))
    events = _known(*KINDS)
    tracker, _, _, _, sqs = _tracker(events)
    outcome = track_message(tracker, _objects(s3), _notification())

    assert _applied(tracker) + len(events.unmatched) == len(KINDS)
    assert _dead_letters(sqs) == []
    assert outcome is not None
    assert "summer-sale-2025" in outcome.finished  # its Delivery finished an email
    assert tracker.stats["objects"] == 1


def test_a_bad_document_goes_alone_to_the_dlq_with_its_reason_and_the_rest_is_applied() -> None:
    s3 = FakeS3()
    malformed = {"eventType": "Bounce", "bounce": {"bounceType": 7}, "mail": {"messageId": "m"}}
    bad_line = json.dumps(malformed, separators=(",", ":"))
    s3.put(KEY, _line(_event("send")) + bad_line + "\nnot json at all\n" + _line(_event("open")))
    events = _known("send", "open")
    tracker, _, _, _, sqs = _tracker(events)

    track_message(tracker, _objects(s3), _notification())

    assert _applied(tracker) == 2
    (first, first_reason), (second, second_reason) = _dead_letters(sqs)
    assert (first, second) == (bad_line, "not json at all")  # each document as written
    assert "malformed" in first_reason
    assert "bounce" in first_reason  # names what is wrong
    assert "not valid JSON" in second_reason
    assert f"s3://{BUCKET}/{KEY}" in first_reason  # and where it came from
    assert tracker.stats["dead_lettered"] == 2


def test_when_some_events_fail_nothing_is_dead_lettered_until_the_retry_applies_them() -> None:
    s3 = FakeS3()
    s3.put(KEY, _line(_event("send")) + "garbage\n" + _line(_event("delivery")))
    events = _known("send", "delivery")
    tracker, _, _, _, sqs = _tracker(events)
    broken = FailingOnce(events)
    tracker.events = broken  # type: ignore[assignment]

    # The first delivery: the email's write fails (DynamoDB throttled it, say); its Send and
    # Delivery share that write, so both are to be retried
    with pytest.raises(EventsNotAppliedError, match="2 of the 2 events"):
        track_message(tracker, _objects(s3), _notification())
    assert _dead_letters(sqs) == []

    # SQS delivers the message again: all applied, the bad document dead-lettered once
    track_message(tracker, _objects(s3), _notification())
    assert [body for body, _ in _dead_letters(sqs)] == ["garbage"]


class FailingOnce:
    """The fake email events, whose first `apply` raises (as a throttled DynamoDB call)."""

    def __init__(self, events: KnownEvents) -> None:
        self.events = events
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)

    def update(self, ref: EmailKey, update: RecordUpdate, now: int) -> EmailRecord | None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("ProvisionedThroughputExceededException")
        return self.events.update(ref, update, now)


def test_a_notification_that_is_not_one_goes_to_the_dlq_as_it_came() -> None:
    tracker, _, _, _, sqs = _tracker(KnownEvents())
    body = json.dumps(_event("send"))  # an SES event itself: the old path's message

    track_message(tracker, _objects(FakeS3()), body)

    ((dead, reason),) = _dead_letters(sqs)
    assert dead == body
    assert "not an S3 event notification" in reason


@pytest.mark.parametrize(
    ("key", "version", "in_reason"),
    [
        (f"{PREFIX}expired", None, "NoSuchKey: it is gone"),
        (KEY, "v2", "NoSuchVersion: it is gone"),  # KEY is there, but not that version
        (f"{PREFIX}forbidden", None, "AccessDenied: access denied: the tracker's role needs"),
    ],
    ids=["gone", "version-gone", "denied"],
)
def test_an_object_that_cannot_be_read_fails_its_message_saying_why(
    key: str, version: str | None, in_reason: str
) -> None:
    s3 = FakeS3()
    s3.put(KEY, _line(_event("send")))
    s3.put(f"{PREFIX}forbidden", _line(_event("send")))
    s3.denied.add(f"{PREFIX}forbidden")
    tracker, _, _, _, sqs = _tracker(_known("send"))
    fields = {"versionId": version} if version else {}

    with pytest.raises(UnreadableObjectError) as raised:
        track_message(tracker, _objects(s3), _notification(key=key, **fields))

    assert in_reason in str(raised.value)
    assert f"s3://{BUCKET}/{key}" in str(raised.value)
    assert _dead_letters(sqs) == []
    assert s3.reads == [(BUCKET, key, version)]  # the version S3 named, no other


def test_the_handler_reports_only_the_unreadable_message_for_another_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = FakeS3()
    s3.put(KEY, _line(_event("send")) + _line(_event("delivery")))
    events = _known("send", "delivery")
    tracker, _, _, _, sqs = _tracker(events)
    monkeypatch.setattr(track, "warm_tracker", lambda: tracker)
    monkeypatch.setattr(track, "warm_event_objects", lambda: _objects(s3))
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    bodies = {
        "good": _notification(),
        "gone": _notification(key=f"{PREFIX}gone"),
        "test": test_event,
        "poison": "chaos poison",
    }
    records = [_sqs_record(message_id, body) for message_id, body in bodies.items()]

    response = track.handler({"Records": records}, None)

    assert response["batchItemFailures"] == [{"itemIdentifier": "gone"}]
    assert _applied(tracker) == 2
    assert [body for body, _ in _dead_letters(sqs)] == ["chaos poison"]


class SlowS3(FakeS3):
    """Each read waits until `together` reads are under way at once (or fails after 5 s)."""

    def __init__(self, together: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(together, timeout=5)

    def get_object(self, **kwargs: Any) -> Any:
        self.barrier.wait()  # BrokenBarrierError if the reads come one after another
        return super().get_object(**kwargs)


def test_many_small_objects_of_a_batch_are_read_at_once_each_once_and_all_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given ten notifications, each of a small object (LocalStack's Firehose writes one a call)
    s3 = SlowS3(together=10)
    keys = [f"{KEY}-{n}" for n in range(10)]
    for key in keys:
        s3.put(key, _line(_event("send")) + _line(_event("delivery")))
    events = _known("send", "delivery")
    tracker, _, _, _, sqs = _tracker(events)
    monkeypatch.setattr(track, "warm_tracker", lambda: tracker)
    monkeypatch.setattr(track, "warm_event_objects", lambda: _objects(s3))
    records = [_sqs_record(str(n), _notification(key=key)) for n, key in enumerate(keys)]

    # When the handler takes the batch
    response = track.handler({"Records": records}, None)

    # Then the ten reads were under way together, each object was read once, all applied
    assert response["batchItemFailures"] == []
    assert sorted(key for _, key, _ in s3.reads) == sorted(keys)
    assert _applied(tracker) == 20
    assert _dead_letters(sqs) == []
    assert tracker.stats["objects"] == 10


def test_read_all_says_why_an_object_cannot_be_read_and_reads_the_others() -> None:
    s3 = FakeS3()
    s3.put(KEY, "x")
    objects = _objects(s3)
    good, gone = EventObject(BUCKET, KEY), EventObject(BUCKET, f"{PREFIX}gone")

    texts = objects.read_all([good, gone, good])

    assert texts[good] == "x"
    assert isinstance(texts[gone], UnreadableObjectError)
    assert "gone" in str(texts[gone])
    assert len(s3.reads) == 2  # the object named twice is read once


def _sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return copy.deepcopy(
        {
            "messageId": message_id,
            "receiptHandle": f"handle-{message_id}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ems-prod-tracker",
            "awsRegion": "us-east-1",
        }
    )


# -- AWS's own examples ------------------------------------------------------------------------

# The ten records of AWS's page "Examples of event data that Amazon SES publishes to Amazon SNS",
# as AWS published them (the same JSON SES puts into Firehose, one record per line).
AWS_EXAMPLES = EVENTS / "aws_ses_event_examples.json"


def test_all_ten_of_aws_s_example_events_for_an_email_ems_sent_are_applied_from_one_object() -> (
    None
):
    # Given AWS's examples, each made about one email EMS sent (its message id and tags)
    examples: dict[str, dict[str, Any]] = json.loads(AWS_EXAMPLES.read_text())
    message_id = "0100019ems-sent-0000-0000-0000-000000000001-000000"
    for example in examples.values():
        example["mail"]["messageId"] = message_id
        example["mail"].setdefault("tags", {}).update(
            {"campaignId": ["spring-2026"], "segmentId": ["all"]}
        )
    s3 = FakeS3()
    s3.put(KEY, "".join(_line(example) for example in examples.values()))
    events = KnownEvents()
    tracker, _, _, _, sqs = _tracker(events)

    # When S3 tells the tracker of the object Firehose wrote
    track_message(tracker, _objects(s3), _notification())

    # Then every one of the ten types is applied to that email, none kept apart or refused
    assert sorted(examples) == sorted(
        ["Bounce", "Complaint", "Delivery", "Send", "Reject", "Open", "Click",
         "Rendering Failure", "DeliveryDelay", "Subscription"]
    )  # fmt: skip
    assert _applied(tracker) == len(examples) == 10
    assert {ref.scope for ref, _ in events.applied} == {"spring-2026"}
    # ... and the records show each (AWS's Reject example went to another address)
    recipient = events.records[("spring-2026", "recipient@example.com")]
    assert all(
        recipient.get(field)
        for field in ("sent_at", "delivered_at", "bounced_at", "complained_at",
                      "rendering_failed_at", "delayed_at", "opened_at", "clicked_at",
                      "unsubscribed_at")
    )  # fmt: skip
    assert events.records[("spring-2026", "sender@example.com")].get("rejected_at")
    # Send, Delivery, Complaint, Rendering Failure, DeliveryDelay and Subscription share one
    # write; the Bounce (it sets its type), the Open and the Click are written alone
    assert len(events.applied) == 5
    assert events.unmatched == []
    assert _dead_letters(sqs) == []
