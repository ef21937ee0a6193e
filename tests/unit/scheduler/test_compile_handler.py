"""The compile worker's handler: partial batches, and FAILED on the last attempt."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ems_scheduler.handlers import compile as compile_handler


class FlakyService:
    """Compiles "ok-*" campaigns, breaks on the others; remembers what it marked FAILED."""

    def __init__(self, max_receives: int) -> None:
        self.max_receives = max_receives
        self.failed: list[tuple[str, str]] = []

    def compile_stored(self, campaign_id: str) -> None:
        if not campaign_id.startswith("ok-"):
            raise TimeoutError("S3 read timed out")

    def is_last_attempt(self, receive_count: int) -> bool:
        return receive_count >= self.max_receives

    def fail_verification(self, campaign_id: str, reason: str) -> None:
        self.failed.append((campaign_id, reason))


def _record(message_id: str, campaign_id: str, receive_count: int) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "body": json.dumps({"campaign_id": campaign_id}),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
    }


@pytest.mark.parametrize(("receive_count", "marked"), [(1, []), (3, [("bad-1", "TimeoutError")])])
def test_failures_are_reported_and_marked_failed_only_on_the_last_attempt(
    monkeypatch: pytest.MonkeyPatch, receive_count: int, marked: list[tuple[str, str]]
) -> None:
    service = FlakyService(max_receives=3)
    monkeypatch.setattr(compile_handler, "warm_service", lambda: service)
    event = {"Records": [_record("m1", "ok-1", 1), _record("m2", "bad-1", receive_count)]}

    response = compile_handler.handler(event, None)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert service.failed == marked
