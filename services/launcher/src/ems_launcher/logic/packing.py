"""Packing campaign-file lines into send-queue messages, and messages into batch calls."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from ems_common.formats.send_batch import send_batch_body

SQS_BATCH_ENTRIES: Final = 10  # SendMessageBatch's limit
SQS_BATCH_BYTES: Final = 262_144  # ... and the payload limit of the whole call
_BODY_OVERHEAD: Final = 200  # the batch's own JSON around the lines


@dataclass(frozen=True)
class Message:
    """One send-queue message: `count` emails starting at `first_line` of a part."""

    body: bytes
    first_line: int
    count: int


def pack_messages(
    campaign_id: str,
    part: int,
    lines: Iterable[bytes],
    *,
    start_line: int,
    emails_per_message: int,
    max_bytes: int,
) -> Iterator[Message]:
    """Group consecutive lines into messages of at most `emails_per_message` and `max_bytes`."""
    group: list[bytes] = []
    size = _BODY_OVERHEAD
    first = start_line
    for index, line in enumerate(lines, start=start_line):
        if len(line) + _BODY_OVERHEAD > max_bytes:
            msg = f"line {index} of part {part} is {len(line)} bytes: too large for a message"
            raise ValueError(msg)
        if group and (len(group) >= emails_per_message or size + len(line) + 1 > max_bytes):
            yield Message(send_batch_body(campaign_id, part, first, group), first, len(group))
            group, size, first = [], _BODY_OVERHEAD, index
        group.append(line)
        size += len(line) + 1
    if group:
        yield Message(send_batch_body(campaign_id, part, first, group), first, len(group))


def batch_calls(messages: Iterable[Message]) -> Iterator[list[Message]]:
    """Group messages into SendMessageBatch calls (10 entries, 256 KiB in all at most)."""
    call: list[Message] = []
    size = 0
    for message in messages:
        if call and (len(call) == SQS_BATCH_ENTRIES or size + len(message.body) > SQS_BATCH_BYTES):
            yield call
            call, size = [], 0
        call.append(message)
        size += len(message.body)
    if call:
        yield call
