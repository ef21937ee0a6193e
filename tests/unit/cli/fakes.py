"""A stand-in for the EMS API (an httpx.MockTransport) and a way to run `ems` against it.

The campaign bodies are made by the scheduler's own `CampaignView`, so the CLI is tested against
the shapes the API really sends: a field renamed there fails here.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from typer.testing import CliRunner, Result

from ems_cli.main import app
from ems_cli.session import Session
from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Pause,
    Progress,
    RecipientCounts,
    Rejection,
    SegmentSummary,
)
from ems_common.dal.metrics import CampaignNumbers
from ems_common.suppressions import Suppression, SuppressionReason, suppression_key
from ems_scheduler.api.campaign_views import CampaignView
from ems_scheduler.api.tracking import CampaignMetricsView, RecipientView
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
    pause: Pause | None = None,
    settled: str | None = None,
) -> dict[str, Any]:
    """A campaign exactly as the API renders it."""
    campaign = _campaign(
        campaign_id,
        status,
        rejected=rejected,
        progress=progress,
        problems=problems,
        pause=pause,
        settled=settled,
    )
    return CampaignView.of(campaign, _rejections(rejected=rejected)).model_dump(mode="json")


def _rejections(*, rejected: bool) -> list[Rejection]:
    if not rejected:
        return []
    return [Rejection(segment="gold", to_address="not-an-address", reason="invalid_address")]


def _campaign(
    campaign_id: str,
    status: CampaignStatus,
    *,
    rejected: bool = True,
    progress: tuple[str, int, int | None] | None = None,
    problems: list[dict[str, str]] | None = None,
    pause: Pause | None = None,
    settled: str | None = None,
) -> Campaign:
    rejections = _rejections(rejected=rejected)
    return Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=None if status == CampaignStatus.VERIFYING else NOW + timedelta(hours=3),
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
        recipients=RecipientCounts(accepted=2, rejected=len(rejections)),
        rejected_by_reason={"invalid_address": len(rejections)} if rejections else {},
        rejections_expire_at=NOW + timedelta(days=30) if rejections else None,
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
        pause=pause,
        settled=settled,
    )


def metrics_json(
    campaign_id: str = "summer", status: CampaignStatus = CampaignStatus.SENDING, **counts: int
) -> dict[str, Any]:
    """A campaign's numbers exactly as GET /campaigns/{id}/metrics renders them: one segment,
    gold, of 2 recipients, holding `counts` (the stored counter names: sent, unconfirmed ...)."""
    campaign = _campaign(campaign_id, status, rejected=False)
    gold = Counter(counts)
    numbers = CampaignNumbers(total=Counter(gold), segments={"gold": gold})
    return CampaignMetricsView.of(campaign, numbers).model_dump(mode="json")


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


_ADDRESS = re.compile(r"^[^\s@]+@[^\s@]+$")  # the API's check of an address


@dataclass
class FakeSuppressions:
    """The /suppressions routes over a list kept in memory, as the API contract says: pages of
    `limit` items filtered afterwards (so a filtered page may hold fewer), POST refusing the
    whole request with a problem per bad address, DELETE per scope. Records its requests."""

    items: dict[tuple[str, str], Suppression] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    fail_page: str | None = None  # a page token answered with a 500

    def add(self, address: str, scope: str = "all", **values: Any) -> FakeSuppressions:
        """Suppress `address` in `scope` (reason manual unless given)."""
        values.setdefault("reason", SuppressionReason.MANUAL)
        values.setdefault("suppressed_at", NOW)
        self.items[(suppression_key(address), scope)] = Suppression(
            address=suppression_key(address), scope=scope, **values
        )
        return self

    def rows(self) -> set[tuple[str, str, str, str | None]]:
        """(address, scope, reason, detail) of every suppression."""
        return {(s.address, s.scope, s.reason.value, s.detail) for s in self.items.values()}

    def transport(self) -> httpx.MockTransport:
        """A transport that answers with this fake."""
        return httpx.MockTransport(self.handle)

    def sent(self, method: str) -> list[httpx.Request]:
        """The requests made with `method` to /suppressions."""
        return [r for r in self.requests if r.method == method]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/suppressions" and request.method == "GET":
            return self._page(request)
        if path == "/suppressions" and request.method == "POST":
            return self._add(json_body(request))
        if path.startswith("/suppressions/"):
            address = suppression_key(unquote(path.removeprefix("/suppressions/")))
            if request.method == "GET":
                return self._of(address)
            if request.method == "DELETE":
                return self._remove(address, request.url.params.get("scope"))
        return error_json(404, "not_found", f"the fake API has no route {request.method} {path}")

    def _page(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        token = params.get("page")
        if token is not None and token == self.fail_page:
            return error_json(500, "internal", "the fake failed on purpose")
        start, limit = int(token or 0), int(params.get("limit", 50))
        scanned = sorted(self.items.values(), key=lambda s: (s.address, s.scope))
        found = [
            s.model_dump(mode="json")
            for s in scanned[start : start + limit]
            if params.get("scope") in {None, s.scope}
            and params.get("reason") in {None, s.reason.value}
        ]
        more = start + limit < len(scanned)
        return httpx.Response(
            200, json={"suppressions": found, "next_page": str(start + limit) if more else None}
        )

    def _add(self, body: dict[str, Any]) -> httpx.Response:
        addresses = body["addresses"]
        if not 1 <= len(addresses) <= 10_000:
            return error_json(400, "invalid", "1 to 10,000 addresses", ("$.addresses", "size"))
        bad = [
            (f"$.addresses[{i}]", f"{a!r} is not an email address")
            for i, a in enumerate(addresses)
            if not _ADDRESS.match(a)
        ]
        if bad:
            return error_json(400, "invalid", f"{len(bad)} addresses are wrong", *bad)
        scope, reason = body.get("scope", "all"), body.get("reason", "manual")
        added = 0
        for address in addresses:
            if (suppression_key(address), scope) not in self.items:
                self.add(address, scope, reason=reason, detail=body.get("detail"), source="api")
                added += 1
        answer = {
            "added": added,
            "already_suppressed": len(addresses) - added,
            "scope": scope,
            "reason": reason,
        }
        return httpx.Response(200, json=answer)

    def _of(self, address: str) -> httpx.Response:
        found = [s.model_dump(mode="json") for (a, _), s in self.items.items() if a == address]
        if not found:
            return error_json(404, "not_found", f"{address} is not suppressed")
        return httpx.Response(200, json={"address": address, "suppressions": found})

    def _remove(self, address: str, scope: str | None) -> httpx.Response:
        keys = [k for k in self.items if k[0] == address and scope in {None, k[1]}]
        if not keys:
            where = f" in scope {scope}" if scope else ""
            return error_json(404, "not_found", f"{address} is not suppressed{where}")
        for key in keys:
            del self.items[key]
        return httpx.Response(204)
