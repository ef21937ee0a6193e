"""Publishing SES events as SES does (into Firehose) and the S3 notification the chaos suite
sends a second time: both in the shapes the tracker reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ems_devstack.ses_events import (
    MAX_RECORDS_PER_CALL,
    firehose_record,
    publish_events,
    s3_notification,
)
from ems_tracker.dal.event_objects import EventObject, EventObjects, split_documents


class FakeFirehose:
    """Records each PutRecordBatch; refuses `refuse` records of each call."""

    def __init__(self, refuse: int = 0) -> None:
        self.calls: list[list[bytes]] = []
        self.refuse = refuse

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[Any]) -> Any:  # noqa: N803
        assert DeliveryStreamName == "ems-ses-events"
        self.calls.append([record["Data"] for record in Records])
        return {"FailedPutCount": self.refuse, "RequestResponses": []}


def test_a_record_is_the_event_s_json_and_a_newline() -> None:
    assert firehose_record({"eventType": "Send"}) == b'{"eventType":"Send"}\n'
    assert firehose_record("not json") == b"not json\n"


def test_events_go_in_as_few_calls_as_firehose_takes_and_split_back_as_they_went_in() -> None:
    firehose = FakeFirehose()
    events = [{"eventType": "Open", "n": i} for i in range(MAX_RECORDS_PER_CALL + 1)]

    publish_events(firehose, "ems-ses-events", events)  # type: ignore[arg-type]

    assert [len(call) for call in firehose.calls] == [MAX_RECORDS_PER_CALL, 1]
    # What Firehose writes is the records back to back: the tracker finds each event again
    written = b"".join(firehose.calls[0]).decode()
    assert [json.loads(doc) for doc in split_documents(written)] == events[:MAX_RECORDS_PER_CALL]


def test_refused_records_are_an_error_not_a_silent_loss() -> None:
    firehose = FakeFirehose(refuse=1)
    with pytest.raises(RuntimeError, match="refused 1 of 2"):
        publish_events(firehose, "ems-ses-events", [{}, {}])  # type: ignore[arg-type]


def test_the_notification_names_the_object_as_the_tracker_reads_it() -> None:
    body = s3_notification(
        "ems-ses-events-bucket",
        "ses-events/2026/12/06/09/ems-ses-events-1-2026-12-06-09-00-00-a+b c",
        region="us-east-1",
        size=42,
        etag='"abc"',
    )
    objects = EventObjects(
        None,  # type: ignore[arg-type]
        bucket="ems-ses-events-bucket",
        prefix="ses-events/",
    )

    assert objects.named_by(body) == [
        EventObject(
            "ems-ses-events-bucket",
            "ses-events/2026/12/06/09/ems-ses-events-1-2026-12-06-09-00-00-a+b c",
        )
    ]
