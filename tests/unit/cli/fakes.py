"""A stand-in for the EMS API (an httpx.MockTransport) and a way to run `ems` against it.

The campaign bodies are made by the scheduler's own `CampaignView`, so the CLI is tested against
the shapes the API really sends: a field renamed there fails here.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from ems_cli.main import app
from ems_cli.session import Session
from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Progress,
    RecipientCounts,
    Rejection,
    SegmentSummary,
)
from ems_scheduler.api.campaign_views import CampaignView
from ems_scheduler.api.tracking import RecipientView
from ems_scheduler.tracking.reads import EventHistory, RecordedEvent

URL = "http://ems.test"
KEY = "cli-test-key"
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
# No variable from the developer's shell may leak into a test; wide enough that tables never wrap.
CLEAN_ENV: dict[str, str | None] = {"EMS_API_URL": None, "EMS_API_KEY": None, "COLUMNS": "200"}


def campaign_json(
    campaign_id: str = "summer",
    status: CampaignStatus = CampaignStatus.SCHEDULED,
    *,
    rejected: bool = True,
    progress: tuple[str, int, int | None] | None = None,
    problems: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A campaign exactly as the API renders it."""
    rejections = (
        [Rejection(segment="gold", to_address="not-an-address", reason="invalid_address")]
        if rejected
        else []
    )
    campaign = Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=None if status == CampaignStatus.VERIFYING else NOW + timedelta(hours=3),
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
        recipients=RecipientCounts(accepted=2, rejected=len(rejections)),
        rejected_by_reason={"invalid_address": len(rejections)} if rejections else {},
        rejections=rejections,
        segments=[
            SegmentSummary(
                list_name="gold",
                template_name=f"ems-{campaign_id}-gold",
                from_address="campaigns@ems.example.com",
                configuration_set="ems-local",
                accepted=2,
                rejected=len(rejections),
            )
        ],
        progress=(
            Progress(step=progress[0], done=progress[1], total=progress[2], updated_at=NOW)
            if progress
            else None
        ),
        problems=problems or [],
    )
    return CampaignView.of(campaign).model_dump(mode="json")


def sent_email(
    campaign_id: str, address: str, record: dict[str, Any], then: RecordedEvent
) -> RecipientView:
    """An email as the API shows it: sent at 09:00:02 as SES message m-1, its tracking `record`
    holding more, and `then` the SES event that followed the Send."""
    send = RecordedEvent("Send", "2030-01-01T09:00:02.000+00:00", "m-1", {"eventType": "Send"})
    sent = {"state": "SENT", "ses_message_id": "m-1", "sent_at": "2030-01-01T09:00:02+00:00"}
    history = EventHistory([send, then], older_left_out=False)
    return RecipientView.of(campaign_id, address, {**sent, **record}, history)


def error_json(status: int, kind: str, message: str, *problems: tuple[str, str]) -> httpx.Response:
    """An error answer in the API's shape."""
    body = {
        "error": kind,
        "message": message,
        "problems": [{"path": p, "message": m} for p, m in problems],
    }
    return httpx.Response(status, json=body)


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeApi:
    """Answers each `METHOD /path` from its queue (the last answer repeats); records requests."""

    answers: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, route: str, *answers: Answer) -> FakeApi:
        """Queue answers for a route such as `GET /campaigns/summer`."""
        self.answers[route].extend(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        queue = self.answers.get(route)
        if not queue:
            return error_json(404, "not_found", f"the fake API has no answer for {route}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def sent(self, route: str) -> list[httpx.Request]:
        """The requests made to `METHOD /path`."""
        return [r for r in self.requests if f"{r.method} {r.url.path}" == route]


def run_ems(
    args: Sequence[str],
    api: FakeApi | None = None,
    *,
    cwd: Path,
    options: Sequence[str] = ("--api-url", URL, "--api-key", KEY),
    transport: httpx.BaseTransport | None = None,
    input: str | bytes | None = None,
    env: dict[str, str | None] | None = None,
    monotonic: Callable[[], float] | None = None,
) -> Result:
    """`ems <options> <args>` against `api`, in `cwd`, with a clean environment and no sleeping."""
    session = Session(
        transport=transport or httpx.MockTransport((api or FakeApi()).handle),
        sleep=lambda _seconds: None,
        cwd=lambda: cwd,
    )
    if monotonic is not None:
        session.monotonic = monotonic
    return CliRunner().invoke(
        app, [*options, *args], obj=session, input=input, env={**CLEAN_ENV, **(env or {})}
    )


def json_body(request: httpx.Request) -> Any:
    """The JSON a request carried."""
    return json.loads(request.content)
