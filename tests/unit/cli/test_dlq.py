"""`ems dlq list | show | redrive` against a stand-in API.

The bodies are made by the scheduler's own views, so a field renamed there fails here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ems_scheduler.api.dlq import (
    DeadLetterView,
    DlqCountView,
    DlqListView,
    DlqPeekView,
    RedriveView,
)
from tests.unit.cli.fakes import FakeApi, error_json, run_ems

SENT = datetime(2030, 1, 1, 9, tzinfo=UTC)


def _counts(**counts: int) -> dict[str, Any]:
    queues = [DlqCountView(queue=name, messages=n) for name, n in counts.items()]
    return DlqListView(queues=queues).model_dump(mode="json")


def _peek(queue: str, *reasons: str | None) -> dict[str, Any]:
    messages = [
        DeadLetterView(
            message_id=f"m-{i}",
            sent_at=SENT,
            receive_count=i + 1,
            reason=reason,
            body=json.dumps({"junk": i}),
            body_truncated=False,
        )
        for i, reason in enumerate(reasons)
    ]
    return DlqPeekView(queue=queue, messages=messages).model_dump(mode="json")


def _redrive(queue: str, to_move: int) -> dict[str, Any]:
    return RedriveView(
        queue=queue,
        task_handle="handle-1",
        source_arn=f"arn:{queue}-dlq",
        destination_arn=f"arn:{queue}",
        messages_to_move=to_move,
    ).model_dump(mode="json")


def test_list_shows_every_dlq_and_its_count(tmp_path: Path) -> None:
    # Given DLQs of which one holds messages
    body = _counts(send=0, transactional=0, tracker=1234, compile=0)
    api = FakeApi().on("GET /dlq", httpx.Response(200, json=body))

    # When
    result = run_ems(["dlq", "list"], api, cwd=tmp_path)

    # Then each queue is a row with its count
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()[2:] if line}
    assert rows == {"send": "0", "transactional": "0", "tracker": "1,234", "compile": "0"}


def test_list_json_is_the_api_answer(tmp_path: Path) -> None:
    body = _counts(send=2)
    api = FakeApi().on("GET /dlq", httpx.Response(200, json=body))

    result = run_ems(["dlq", "list", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_show_peeks_with_the_limit_and_shows_the_reasons(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /dlq/send", httpx.Response(200, json=_peek("send", "not a send batch: [x]", None))
    )

    result = run_ems(["dlq", "show", "SEND", "--limit", "2"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert dict(api.sent("GET /dlq/send")[0].url.params) == {"limit": "2"}
    assert "not a send batch: [x]" in result.stdout  # brackets are not rich markup
    assert "m-0" in result.stdout
    assert "m-1" in result.stdout
    assert '{"junk": 1}' in result.stdout
    assert "2030-01-01T09:00:00Z" in result.stdout


def test_show_an_empty_dlq_says_so(tmp_path: Path) -> None:
    api = FakeApi().on("GET /dlq/compile", httpx.Response(200, json=_peek("compile")))

    result = run_ems(["dlq", "show", "compile"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "The compile DLQ shows no message." in result.stdout


def test_show_an_unknown_queue_prints_the_api_message(tmp_path: Path) -> None:
    message = "there is no queue 'sned': use one of send, transactional, tracker, compile"
    api = FakeApi().on("GET /dlq/sned", error_json(404, "not_found", message))

    result = run_ems(["dlq", "show", "sned"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert message in result.stderr


def test_show_limit_above_ten_is_a_usage_error(tmp_path: Path) -> None:
    api = FakeApi()

    result = run_ems(["dlq", "show", "send", "--limit", "11"], api, cwd=tmp_path)

    assert result.exit_code == 2
    assert api.requests == []


def test_redrive_asks_first_and_stops_on_no(tmp_path: Path) -> None:
    api = FakeApi().on("POST /dlq/send/redrive", httpx.Response(202, json=_redrive("send", 3)))

    result = run_ems(["dlq", "redrive", "send"], api, cwd=tmp_path, input="n\n")

    assert result.exit_code == 1
    assert "Move every message of the send DLQ back to the send queue?" in result.output
    assert api.requests == []


def test_redrive_on_yes_starts_the_move(tmp_path: Path) -> None:
    api = FakeApi().on("POST /dlq/send/redrive", httpx.Response(202, json=_redrive("send", 3)))

    result = run_ems(["dlq", "redrive", "send"], api, cwd=tmp_path, input="y\n")

    assert result.exit_code == 0, result.output
    assert len(api.sent("POST /dlq/send/redrive")) == 1
    assert "Redriving about 3 message(s) from the send DLQ" in result.stdout


def test_redrive_yes_json_prints_the_task(tmp_path: Path) -> None:
    body = _redrive("tracker", 7)
    api = FakeApi().on("POST /dlq/tracker/redrive", httpx.Response(202, json=body))

    result = run_ems(["dlq", "redrive", "tracker", "--yes", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_redrive_while_one_runs_says_so(tmp_path: Path) -> None:
    message = "a redrive of the send DLQ is already running: wait for it to finish"
    api = FakeApi().on("POST /dlq/send/redrive", error_json(409, "conflict", message))

    result = run_ems(["dlq", "redrive", "send", "-y"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert f"{message} (HTTP 409 conflict)" in result.stderr
