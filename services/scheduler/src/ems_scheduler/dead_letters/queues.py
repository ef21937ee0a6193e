"""The dead-letter queues: how many messages each holds, a peek at them, a redrive.

Each EMS queue has its DLQ (Terraform's redrive policy). Operators look at what landed there
and, once the cause is fixed, move it back with SQS's own message move task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Protocol

from botocore.exceptions import ClientError

from ems_common.dal.dead_letters import REASON_ATTRIBUTE
from ems_common.settings import InfraSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_PEEK: Final = 10  # SQS's ReceiveMessage limit
BODY_SHOWN: Final = 2_000
PEEK_VISIBILITY_S: Final = 1  # peeked messages are back on the DLQ a second later
# StartMessageMoveTask's answer when the DLQ already has a running task.
_TASK_RUNNING_HINTS: Final = ("already", "running", "in progress")


@dataclass(frozen=True)
class QueuePair:
    """A work queue and its dead-letter queue."""

    name: str
    queue_url: str
    dlq_url: str


@dataclass(frozen=True)
class DeadLetter:
    """One message on a DLQ, as peeked (its body cut to `BODY_SHOWN` characters)."""

    message_id: str
    sent_at: datetime | None
    receive_count: int
    reason: str | None
    body: str
    body_truncated: bool


@dataclass(frozen=True)
class RedriveTask:
    """A started move of a DLQ's messages back to its queue."""

    task_handle: str
    source_arn: str
    destination_arn: str
    messages_to_move: int


class UnknownQueueError(LookupError):
    """No queue has this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"there is no queue {name!r}: use one of {', '.join(known)}")
        self.name = name
        self.known = known


class RedriveRunningError(Exception):
    """A move task is already running on this DLQ: SQS allows one at a time."""


class DeadLetterQueues(Protocol):
    """What the API needs of the DLQs (the SQS adapter, or a fake in tests)."""

    def queue_names(self) -> list[str]:
        """The queues, by name."""
        ...

    def counts(self) -> dict[str, int]:
        """Approximate messages in each queue's DLQ."""
        ...

    def peek(self, name: str, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages of a DLQ, left on it."""
        ...

    def redrive(self, name: str) -> RedriveTask:
        """Start moving a DLQ's messages back to its queue."""
        ...


def queue_pairs(settings: InfraSettings) -> dict[str, QueuePair]:
    """Every EMS queue with its DLQ, by name, from Terraform's settings."""
    return {
        "send": QueuePair("send", settings.send_queue_url, settings.send_dlq_url),
        "transactional": QueuePair(
            "transactional", settings.transactional_queue_url, settings.transactional_dlq_url
        ),
        "tracker": QueuePair("tracker", settings.tracker_queue_url, settings.tracker_dlq_url),
        "compile": QueuePair("compile", settings.compile_queue_url, settings.compile_dlq_url),
    }


class SqsDeadLetters:
    """The DLQs on SQS. `sqs` builds the client on first use (none is made at start-up)."""

    def __init__(self, pairs: Mapping[str, QueuePair], sqs: Callable[[], SQSClient]) -> None:
        self._pairs = dict(pairs)
        self._sqs = sqs

    def queue_names(self) -> list[str]:
        """The queues, by name."""
        return list(self._pairs)

    def counts(self) -> dict[str, int]:
        """Approximate messages in each queue's DLQ (visible and in flight)."""
        return {name: self._dlq_count(pair.dlq_url) for name, pair in self._pairs.items()}

    def peek(self, name: str, limit: int) -> list[DeadLetter]:
        """Up to `limit` (at most 10) messages of a DLQ; they reappear after a second."""
        pair = self._pair(name)
        response = self._sqs().receive_message(
            QueueUrl=pair.dlq_url,
            MaxNumberOfMessages=max(1, min(limit, MAX_PEEK)),
            VisibilityTimeout=PEEK_VISIBILITY_S,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            MessageAttributeNames=[REASON_ATTRIBUTE],
        )
        return [_dead_letter(message) for message in response.get("Messages", [])]

    def redrive(self, name: str) -> RedriveTask:
        """Start an SQS message move task from the DLQ back to its queue.

        The task moves the messages visible when it starts: one peeked in the last second (in
        flight) stays on the DLQ, for the next redrive.
        """
        pair = self._pair(name)
        source_arn = self._arn(pair.dlq_url)
        destination_arn = self._arn(pair.queue_url)
        to_move = self._dlq_count(pair.dlq_url)
        sqs = self._sqs()
        running = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)["Results"]
        if any(task.get("Status") == "RUNNING" for task in running):
            raise RedriveRunningError(_running_message(name))
        try:
            handle = sqs.start_message_move_task(
                SourceArn=source_arn, DestinationArn=destination_arn
            )["TaskHandle"]
        except ClientError as error:
            text = str(error.response.get("Error", {}).get("Message", "")).lower()
            if any(hint in text for hint in _TASK_RUNNING_HINTS):
                raise RedriveRunningError(_running_message(name)) from error
            raise
        return RedriveTask(handle, source_arn, destination_arn, to_move)

    def _pair(self, name: str) -> QueuePair:
        pair = self._pairs.get(name)
        if pair is None:
            raise UnknownQueueError(name, self.queue_names())
        return pair

    def _dlq_count(self, url: str) -> int:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def _arn(self, url: str) -> str:
        attributes = self._sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]


def _running_message(name: str) -> str:
    return (
        f"a redrive of the {name} DLQ is already running: wait for it to finish"
        f" (GET /dlq shows the count going down), then redrive again if messages remain"
    )


def _dead_letter(message: Mapping[str, object]) -> DeadLetter:
    attributes = message.get("Attributes")
    system = attributes if isinstance(attributes, dict) else {}
    custom = message.get("MessageAttributes")
    reason_attribute = custom.get(REASON_ATTRIBUTE) if isinstance(custom, dict) else None
    reason = reason_attribute.get("StringValue") if isinstance(reason_attribute, dict) else None
    sent = system.get("SentTimestamp")
    body = str(message.get("Body", ""))
    return DeadLetter(
        message_id=str(message.get("MessageId", "")),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        reason=str(reason) if reason is not None else None,
        body=body[:BODY_SHOWN],
        body_truncated=len(body) > BODY_SHOWN,
    )
