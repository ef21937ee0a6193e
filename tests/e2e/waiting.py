"""Waiting on conditions with a deadline (never fixed sleeps), and reading queues."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def eventually[T](
    probe: Callable[[], T | None], *, deadline_s: float, what: str, interval_s: float = 0.5
) -> T:
    """Call `probe` until it returns something other than None/False; fail after the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"{what}: not seen within {deadline_s:.0f} s")
        time.sleep(interval_s)


def sqs_body(message: Mapping[str, object]) -> Any:
    """A queue message's JSON payload, unwrapping an SNS envelope if delivery is not raw."""
    body = json.loads(str(message["Body"]))
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        return json.loads(body["Message"])
    return body


def collect_from_queue(
    sqs: SQSClient,
    queue_url: str,
    matches: Callable[[Any], bool],
    *,
    want: int,
    deadline_s: float,
    what: str,
) -> list[Any]:
    """Receive until `want` payloads match; delete those, leave the others for their owners."""
    found: list[Any] = []

    def probe() -> list[Any] | None:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=2
        )
        for message in response.get("Messages", []):
            payload = sqs_body(message)
            if matches(payload):
                found.append(payload)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found if len(found) >= want else None

    return eventually(probe, deadline_s=deadline_s, what=what, interval_s=0)


def take_dead_letter(sqs: SQSClient, dlq_url: str, marker: str, *, what: str) -> tuple[str, str]:
    """Wait for the DLQ message whose body holds `marker`; delete it; (body, its reason)."""

    def probe() -> dict[str, Any] | None:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        )
        found = (dict(m) for m in response.get("Messages", []) if marker in m["Body"])
        return next(found, None)

    message = eventually(probe, deadline_s=60, what=what, interval_s=0)
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
    return message["Body"], message["MessageAttributes"]["reason"]["StringValue"]
