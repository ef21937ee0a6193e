"""The local SQS poller: invocations at once, as an event source mapping's concurrency."""

from __future__ import annotations

import queue
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from ems_devstack.runtime.sqs import SqsPoller


class _Queue:
    """An SQS client's receive, delete and attributes over an in-memory queue (one message a
    receive, long polls of a tenth of a second)."""

    def __init__(self, bodies: list[str]) -> None:
        self.meta = SimpleNamespace(region_name="us-east-1")
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        for n, body in enumerate(bodies):
            self._messages.put({"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": body})
        self.deleted: list[str] = []
        self._lock = threading.Lock()

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"}}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        try:
            return {"Messages": [self._messages.get(timeout=0.1)]}
        except queue.Empty:
            return {}

    def delete_message_batch(self, *, Entries: list[dict[str, str]], **_: Any) -> None:  # noqa: N803 - boto3's name
        with self._lock:
            self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)


def _run(poller: SqsPoller, concurrency: int, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=poller.run, args=(stop,), kwargs={"concurrency": concurrency})
    thread.start()
    return thread


def test_a_message_is_taken_while_another_invocation_is_busy() -> None:
    # Given a queue of three messages, and a handler that holds each invocation until three
    # are under way at once (or gives up after two seconds)
    sqs = _Queue(["a", "b", "c"])
    together = threading.Barrier(3, timeout=2)
    seen: list[str] = []

    def handler(event: dict[str, Any], _context: Any) -> None:
        seen.extend(record["body"] for record in event["Records"])
        together.wait()

    poller = SqsPoller(sqs, "q", handler, function_name="f", batch_size=1)  # type: ignore[arg-type]
    stop = threading.Event()

    # When the poller runs with a concurrency of three
    thread = _run(poller, 3, stop)
    for _ in range(40):
        if len(sqs.deleted) == 3:
            break
        stop.wait(0.1)
    stop.set()
    thread.join(timeout=5)

    # Then the three were handled at the same time, each once, and deleted
    assert not together.broken
    assert sorted(seen) == ["a", "b", "c"]
    assert sorted(sqs.deleted) == ["r0", "r1", "r2"]
    assert not thread.is_alive()


def test_one_at_a_time_a_message_waits_for_the_invocation_before_it() -> None:
    # Given the same queue and handler
    sqs = _Queue(["a", "b", "c"])
    together = threading.Barrier(3, timeout=0.5)

    def handler(_event: dict[str, Any], _context: Any) -> None:
        together.wait()

    poller = SqsPoller(sqs, "q", handler, function_name="f", batch_size=1)  # type: ignore[arg-type]
    stop = threading.Event()

    # When the poller runs one invocation at a time
    thread = _run(poller, 1, stop)
    threading.Event().wait(1.0)
    stop.set()
    thread.join(timeout=5)

    # Then the handler never had company: its first invocation failed, and nothing was deleted
    # for it (left to SQS, as Lambda leaves a failed batch)
    assert together.broken
    assert "r0" not in sqs.deleted


def test_concurrency_below_one_is_refused() -> None:
    poller = SqsPoller(_Queue([]), "q", lambda _e, _c: None, function_name="f")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        poller.run(threading.Event(), concurrency=0)
