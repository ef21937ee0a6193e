"""Poison messages: bodies a queue's consumer cannot read, each carrying a marker to find it by.

A consumer must put each one on its queue's DLQ at once with a `reason` attribute (not retry it
until SQS moves it there without one). Two families: what the send and transactional queues
carry (send batches, `ems_common.formats.send_batch`) and what the tracker queue carries (SES
events, `ems_tracker.ses_events`).
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


def poison_messages(
    run_id: str, *, send_batch_queues: Sequence[str], ses_event_queues: Sequence[str]
) -> list[Poison]:
    """Every kind of poison for every queue, each with its own marker."""
    plan = [(q, SEND_BATCH_POISON) for q in send_batch_queues] + [
        (q, SES_EVENT_POISON) for q in ses_event_queues
    ]
    return [
        Poison(queue, kind, marker, build(marker))
        for queue, builders in plan
        for kind, build in builders.items()
        for marker in [f"chaos-poison-{run_id}-{queue}-{kind}"]
    ]
