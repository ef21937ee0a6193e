"""Reading the local stack: LocalStack's SES outbox, queue depths, the DLQs, the services' logs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chaos.accounting import DeadLetterSeen
from ems_common.dal.dead_letters import REASON_ATTRIBUTE
from ems_devstack.faults import INJECTED_LOG_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_OUTBOX_ATTEMPTS: Final = 10
_DLQ_HOLD_S: Final = 20  # long enough to read a whole DLQ once; given back right after
_DLQ_MAX_ROUNDS: Final = 200
_DEPTH_ATTRIBUTES: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def outbox(localstack_url: str, templates: set[str]) -> Counter[str]:
    """How many emails each address got with one of `templates`, from LocalStack's /_aws/ses.

    Its listing fails now and then while mail is being sent (a race inside LocalStack); it is
    asked again.
    """
    for attempt in range(_OUTBOX_ATTEMPTS):
        try:
            with urllib.request.urlopen(f"{localstack_url}/_aws/ses", timeout=30) as response:  # noqa: S310 - local URL
                messages: list[dict[str, Any]] = json.loads(response.read())["messages"]
        except (urllib.error.HTTPError, urllib.error.URLError, TimeoutError):
            time.sleep(0.2 * (attempt + 1))
            continue
        return Counter(
            address
            for message in messages
            if message.get("Template") in templates
            for address in message["Destination"]["ToAddresses"]
        )
    msg = f"LocalStack's {localstack_url}/_aws/ses kept failing"
    raise RuntimeError(msg)


def queue_depth(sqs: SQSClient, queue_url: str) -> int:
    """Messages in a queue: visible, in flight and delayed."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=list(_DEPTH_ATTRIBUTES),
    )["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in _DEPTH_ATTRIBUTES)


@dataclass(frozen=True)
class HeldLetter:
    """A DLQ message as read, with what it takes to delete it."""

    seen: DeadLetterSeen
    queue_url: str
    receipt_handle: str


def read_dead_letters(sqs: SQSClient, dlq_urls: Mapping[str, str]) -> list[HeldLetter]:
    """Every message on the DLQs (`dlq_urls`: queue name -> its DLQ), each once.

    Messages are held while the DLQ is read, then made visible again at once: the DLQs stay
    as they were for operators and later reads.
    """
    letters: list[HeldLetter] = []
    for name, url in dlq_urls.items():
        held: dict[str, HeldLetter] = {}
        empty = 0
        for _ in range(_DLQ_MAX_ROUNDS):
            response = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=_DLQ_HOLD_S,
                WaitTimeSeconds=0,
                MessageAttributeNames=[REASON_ATTRIBUTE],
            )
            batch = response.get("Messages", [])
            if not batch:
                empty += 1
                if empty >= 2:
                    break
                continue
            for message in batch:
                attribute = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE)
                reason = attribute.get("StringValue") if attribute else None
                held[message["MessageId"]] = HeldLetter(
                    DeadLetterSeen(name, message["Body"], reason),
                    url,
                    message["ReceiptHandle"],
                )
        _give_back(sqs, url, [letter.receipt_handle for letter in held.values()])
        letters.extend(held.values())
    return letters


def _give_back(sqs: SQSClient, url: str, handles: list[str]) -> None:
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(handles[start : start + 10])
            ],
        )


def delete_letters(sqs: SQSClient, letters: Iterable[HeldLetter]) -> int:
    """Delete DLQ messages (the run's own poison, once counted); how many were deleted.

    They were given back after reading, so they are received again first, by body.
    """
    wanted: dict[str, set[str]] = {}
    for letter in letters:
        wanted.setdefault(letter.queue_url, set()).add(letter.seen.body)
    deleted = 0
    for url, bodies in wanted.items():
        others: list[str] = []
        empty = 0
        for _ in range(_DLQ_MAX_ROUNDS):
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=_DLQ_HOLD_S
            ).get("Messages", [])
            if not batch:
                empty += 1
                if empty >= 2:
                    break
                continue
            for message in batch:
                if message["Body"] in bodies:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    deleted += 1
                else:
                    others.append(message["ReceiptHandle"])
        _give_back(sqs, url, others)
    return deleted


@dataclass(frozen=True)
class LogMark:
    """Where a service's log ended when the run started."""

    path: Path
    offset: int


def mark_log(path: Path) -> LogMark:
    """Remember the end of `path`, to read only what is written after."""
    return LogMark(path, path.stat().st_size if path.exists() else 0)


def injected_faults(marks: Iterable[LogMark]) -> Counter[str]:
    """Faults the services logged as injected since their marks, by "service code"."""
    counts: Counter[str] = Counter()
    for mark in marks:
        if not mark.path.exists():
            continue
        with mark.path.open("rb") as log:
            log.seek(mark.offset)
            for raw in log:
                line = raw.decode(errors="replace")
                if INJECTED_LOG_PREFIX in line:
                    counts[line.split(INJECTED_LOG_PREFIX, 1)[1].strip()] += 1
    return counts
