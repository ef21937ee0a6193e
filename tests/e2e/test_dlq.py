"""The DLQ routes on the local stack: a dead letter is seen with its reason, redriven, and back.

The message is junk to the sender on purpose: after the redrive the running sender reads it,
finds it is no send batch and dead-letters it again with its own reason. Seeing that reason
proves the message really went back to the send queue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

PROBE_REASON = "e2e: put here by test_dlq"


@pytest.fixture
def dead_letter(aws: AwsClients, settings: InfraSettings) -> Iterator[str]:
    """A junk message on the send DLQ (its body's tag); removed from the DLQ afterwards."""
    sqs = aws.client("sqs")
    tag = uuid.uuid4().hex
    sqs.send_message(
        QueueUrl=settings.send_dlq_url,
        MessageBody=json.dumps({"redrive-test": tag}),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": PROBE_REASON}},
    )
    yield tag

    def removed() -> bool:
        messages = sqs.receive_message(
            QueueUrl=settings.send_dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            if tag in message["Body"]:
                sqs.delete_message(
                    QueueUrl=settings.send_dlq_url, ReceiptHandle=message["ReceiptHandle"]
                )
                return True
        return False

    eventually(removed, deadline_s=30, what=f"the dead letter {tag} to clean up", interval_s=0)


def _ours(api: httpx.Client, tag: str) -> dict[str, Any] | None:
    """Our message among the peeked ones (a peek shows up to 10 of the DLQ's messages)."""
    response = api.get("/dlq/send", params={"limit": 10})
    assert response.status_code == 200, response.text
    for message in response.json()["messages"]:
        if tag in message["body"]:
            return dict(message)
    return None


def test_a_dead_letter_is_shown_redriven_and_dead_lettered_again(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, dead_letter: str
) -> None:
    # Given a junk message on the send DLQ, which the list counts
    counts = {q["queue"]: q["messages"] for q in api.get("/dlq").json()["queues"]}
    assert set(counts) == {"send", "transactional", "tracker", "compile"}
    assert counts["send"] >= 1

    # When peeking, it is shown with its reason, and stays on the DLQ
    before = eventually(
        lambda: _ours(api, dead_letter), deadline_s=20, what="the dead letter in a peek"
    )
    assert before["reason"] == PROBE_REASON
    assert before["sent_at"]
    assert before["receive_count"] >= 1
    assert not before["body_truncated"]

    # A move task only moves visible messages: wait until the peek's 1 s has passed
    sqs = aws.client("sqs")
    eventually(
        lambda: (
            sqs.get_queue_attributes(
                QueueUrl=settings.send_dlq_url,
                AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
            == "0"
        ),
        deadline_s=20,
        what="the peeked messages visible again",
    )

    # And redriving it
    response = api.post("/dlq/send/redrive")
    assert response.status_code == 202, response.text
    task = response.json()
    assert task["queue"] == "send"
    assert task["task_handle"]
    assert task["source_arn"].endswith(settings.send_dlq_url.rsplit("/", 1)[-1])
    assert task["destination_arn"].endswith(settings.send_queue_url.rsplit("/", 1)[-1])
    assert task["messages_to_move"] >= 1

    # Then it went back to the send queue, and the sender dead-lettered it again, as a new
    # message with its own reason
    def redelivered() -> dict[str, Any] | None:
        message = _ours(api, dead_letter)
        return message if message and message["message_id"] != before["message_id"] else None

    after = eventually(redelivered, deadline_s=60, what="the dead letter back from the sender")
    assert after["reason"].startswith("not a send batch")


def test_an_unknown_queue_is_a_404_naming_the_queues(api: httpx.Client) -> None:
    for response in (api.get("/dlq/sendd"), api.post("/dlq/sendd/redrive")):
        assert response.status_code == 404
        assert "send, transactional, tracker, compile" in response.json()["message"]
