"""Poison messages: bodies a queue's consumer cannot read, each carrying a marker to find it by.

A consumer must put each one on its queue's DLQ at once with a `reason` attribute (not retry it
until SQS moves it there without one). Three families: what the send and transactional queues
carry (send batches, `ems_common.formats.send_batch`); what the tracker queue carries (S3
notifications of new objects of SES events, `ems_tracker.dal.event_objects`); and the SES event
documents inside those objects (`ems_tracker.ses_events`), which are published into the SES
events stream the way SES publishes events, and dead-lettered one document at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ems_common.formats.send_batch import SEND_BATCH_FORMAT


@dataclass(frozen=True)
class Poison:
    """One poison message for one queue."""

    queue: str  # the work queue's name (the DLQ's reason is looked for on its DLQ)
    kind: str
    marker: str
    body: str
    # Published into the SES events stream as one event document, not sent to the queue: the
    # tracker finds it in an object of events and dead-letters that document alone.
    in_events_stream: bool = False


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# Each builder turns a marker into a body that holds it and that the consumer cannot read.
SEND_BATCH_POISON: Final[dict[str, Callable[[str], str]]] = {
    "not_json": lambda m: f"{m} {{this is not JSON",
    "truncated_json": lambda m: _json({"campaign_id": m, "part": 1, "emails": [{}]})[:-5],
    "json_array": lambda m: _json([m, 1, 2]),
    "json_string": _json,
    "unknown_fields_only": lambda m: _json({"chaos": m}),
    "wrong_format_version": lambda m: _json(
        {"format": "ems-send-batch/99", "campaign_id": m, "part": 1, "first_line": 0, "emails": []}
    ),
    "no_emails": lambda m: _json(
        {"format": SEND_BATCH_FORMAT, "campaign_id": m, "part": 1, "first_line": 0, "emails": []}
    ),
    "wrong_types": lambda m: _json(
        {
            "format": SEND_BATCH_FORMAT,
            "campaign_id": m,
            "part": "one",
            "first_line": -1,
            "emails": "everyone",
        }
    ),
    "email_of_wrong_shape": lambda m: _json(
        {
            "format": SEND_BATCH_FORMAT,
            "campaign_id": m,
            "part": 1,
            "first_line": 0,
            "emails": [{"to": m, "Content": None}],
        }
    ),
}

SES_EVENT_POISON: Final[dict[str, Callable[[str], str]]] = {
    "not_json": lambda m: f"{m} <html>not an event</html>",
    "json_array": lambda m: _json([{"eventType": "Send", "chaos": m}]),
    "truncated_json": lambda m: _json({"eventType": "Send", "chaos": m})[:-1] + ",",
    "no_type": lambda m: _json({"mail": {"messageId": m}}),
    "unknown_event_type": lambda m: _json({"eventType": "Teleport", "mail": {"messageId": m}}),
    "sns_envelope": lambda m: _json(
        {"Type": "Notification", "Message": _json({"eventType": "Send", "chaos": m})}
    ),
    "malformed_send": lambda m: _json(
        {"eventType": "Send", "mail": {"messageId": m, "destination": "nobody"}}
    ),
    "malformed_bounce": lambda m: _json(
        {"eventType": "Bounce", "bounce": {"bounceType": 7}, "mail": {"messageId": m}}
    ),
}


def _s3_record(marker: str, *, bucket: str, key: str, event_name: str) -> dict[str, object]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": event_name,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1, "eTag": marker}},
    }


# What the tracker queue must refuse: anything but a notification of an object of SES events.
TRACKER_MESSAGE_POISON: Final[dict[str, Callable[[str], str]]] = {
    "not_json": lambda m: f"{m} not a notification",
    # What SNS delivered before events went through Firehose: an SES event, not a notification.
    "ses_event_itself": lambda m: _json(
        {"eventType": "Send", "mail": {"messageId": m, "destination": ["a@example.org"]}}
    ),
    "records_not_s3": lambda m: _json({"Records": [{"eventSource": "aws:sns", "chaos": m}]}),
    "other_bucket": lambda m: _json(
        {
            "Records": [
                _s3_record(
                    m,
                    bucket="not-the-events-bucket",
                    key=f"ses-events/{m}",
                    event_name="ObjectCreated:Put",
                )
            ]
        }
    ),
    "object_removed": lambda m: _json(
        {
            "Records": [
                _s3_record(
                    m, bucket="events", key=f"ses-events/{m}", event_name="ObjectRemoved:Delete"
                )
            ]
        }
    ),
}


def poison_messages(
    run_id: str, *, send_batch_queues: Sequence[str], ses_event_queues: Sequence[str]
) -> list[Poison]:
    """Every kind of poison for every queue, each with its own marker.

    For a queue of SES events: its message poison, and the event documents published into the
    SES events stream (kinds prefixed `event_`).
    """
    plan = [(q, SEND_BATCH_POISON, "", False) for q in send_batch_queues]
    for queue in ses_event_queues:
        plan += [
            (queue, TRACKER_MESSAGE_POISON, "", False),
            (queue, SES_EVENT_POISON, "event_", True),
        ]
    return [
        Poison(queue, prefix + kind, marker, build(marker), in_events_stream=streamed)
        for queue, builders, prefix, streamed in plan
        for kind, build in builders.items()
        for marker in [f"chaos-poison-{run_id}-{queue}-{prefix}{kind}"]
    ]
