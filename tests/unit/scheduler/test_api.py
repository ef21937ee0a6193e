"""The API's contract around the service: keys, error shapes, limits, the OpenAPI document.

The campaign service is replaced by a small in-memory fake: what is under test here is the HTTP
layer (auth, status codes, JSON errors), not the use cases, which the e2e suite drives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from ems_common.campaigns import (
    PAUSABLE,
    Campaign,
    CampaignStatus,
    Pause,
    PausedBy,
    RecipientCounts,
    Rejection,
)
from ems_common.dal.campaigns import CampaignNotFoundError, StatusConflictError
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.service import CampaignConflictError, CreateOutcome
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.wiring import create_app
from tests.unit.scheduler.conftest import API_KEY

KEY = API_KEY
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _campaign(
    campaign_id: str = "c1", status: CampaignStatus = CampaignStatus.SCHEDULED
) -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
    )


class FakeService:
    """Answers from a dict; raises the domain's errors where the real service would."""

    def __init__(self) -> None:
        self.campaigns = {"c1": _campaign()}
        self.rejections: dict[str, list[Rejection]] = {}
        self.bodies: list[bytes] = []
        self.public_urls: list[str] = []

    def create(self, body: bytes, *, public_url: str) -> CreateOutcome:
        self.bodies.append(body)
        self.public_urls.append(public_url)
        if body.startswith(b"bad"):
            raise InvalidCandidateError(
                [{"path": "$.date", "message": "x"}, {"path": "$.segments", "message": "y"}]
            )
        if body.startswith(b"taken"):
            raise CampaignConflictError("campaign c1 already exists with a different body")
        return CreateOutcome(self.campaigns["c1"], 201)

    def get(self, campaign_id: str) -> Campaign:
        if campaign_id not in self.campaigns:
            raise CampaignNotFoundError(campaign_id)
        return self.campaigns[campaign_id]

    def rejections_of(self, campaign: Campaign) -> list[Rejection]:
        return self.rejections.get(campaign.campaign_id, [])

    def list(self, **_: Any) -> tuple[list[Campaign], str | None]:
        return list(self.campaigns.values()), None

    def reschedule(self, campaign_id: str, date_text: str) -> Campaign:
        campaign = self.get(campaign_id)
        raise StatusConflictError(campaign, {CampaignStatus.SCHEDULED}, "reschedule")

    def cancel(self, campaign_id: str) -> Campaign:
        return self.get(campaign_id)

    def delete(self, campaign_id: str) -> None:
        self.get(campaign_id)

    def pause(self, campaign_id: str) -> Campaign:
        campaign = self.get(campaign_id)
        if campaign.status not in PAUSABLE:
            raise StatusConflictError(campaign, PAUSABLE, "pause")
        pause = Pause(by=PausedBy.OPERATOR, reason="paused by an operator", paused_at=NOW)
        self.campaigns[campaign_id] = campaign.model_copy(
            update={"status": CampaignStatus.PAUSED, "pause": pause}
        )
        return self.campaigns[campaign_id]

    def resume(self, campaign_id: str) -> Campaign:
        campaign = self.get(campaign_id)
        if campaign.status is not CampaignStatus.PAUSED:
            raise StatusConflictError(campaign, {CampaignStatus.PAUSED}, "resume")
        self.campaigns[campaign_id] = campaign.model_copy(
            update={"status": CampaignStatus.SENDING, "pause": None}
        )
        return self.campaigns[campaign_id]

    def boom(self) -> None:
        raise RuntimeError("unexpected")


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def client(service: FakeService, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    app = create_app(settings, service)  # type: ignore[arg-type]
    with app.test_client() as test_client:
        yield test_client


AUTH = {"X-Api-Key": KEY}


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Api-Key": "nope"}, 403), ({"X-Api-Key": ""}, 401), (AUTH, 200)],
)
def test_every_route_but_health_needs_the_key(
    client: FlaskClient, headers: dict[str, str], status: int
) -> None:
    assert client.get("/campaigns", headers=headers).status_code == status
    assert client.get("/openapi.json", headers=headers).status_code == status
    assert client.get("/health", headers=headers).status_code == 200


def test_candidate_problems_are_a_400_listing_every_path(client: FlaskClient) -> None:
    response = client.post("/campaigns", data=b"bad", headers=AUTH)
    assert response.status_code == 400
    assert [p["path"] for p in response.json["problems"]] == ["$.date", "$.segments"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("post", "/campaigns", b"taken", 409, "conflict"),
        ("get", "/campaigns/nope", None, 404, "not_found"),
        ("patch", "/campaigns/c1", {"date": "2031-01-01T00:00:00+00:00"}, 409, "conflict"),
        ("patch", "/campaigns/c1", {"when": "tomorrow"}, 400, "bad_request"),
        ("get", "/campaigns?limit=0", None, 400, "bad_request"),
        ("get", "/campaigns?status=SLEEPING", None, 400, "bad_request"),
        ("get", "/campaigns/has%20space", None, 400, "bad_request"),
        ("put", "/campaigns/c1", None, 405, "method_not_allowed"),
        ("get", "/nowhere", None, 404, "not_found"),
    ],
)
def test_errors_are_json_with_a_status_and_a_message(
    client: FlaskClient, method: str, path: str, body: Any, status: int, kind: str
) -> None:
    kwargs: dict[str, Any] = {"headers": AUTH}
    if isinstance(body, bytes):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.json["error"] == kind
    assert response.json["message"]


def test_an_oversized_body_is_a_413_that_says_what_to_do(
    client: FlaskClient, service: FakeService
) -> None:
    response = client.post("/campaigns", data=b"x" * 4096, headers=AUTH)
    assert response.status_code == 413
    assert "candidateS3Uri" in response.json["message"]  # type: ignore[index]
    assert service.bodies == []


def test_an_unexpected_failure_is_a_json_500_without_details(
    client: FlaskClient, service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "get", lambda _id: service.boom())
    response = client.get("/campaigns/c1", headers=AUTH)
    assert response.status_code == 500
    assert response.json["error"] == "internal"  # type: ignore[index]
    assert "unexpected" not in response.json["message"]  # type: ignore[index]


def test_describe_shows_the_campaign(client: FlaskClient) -> None:
    body = client.get("/campaigns/c1", headers=AUTH).json
    assert body["campaign_id"] == "c1"  # type: ignore[index]
    assert body["status"] == "SCHEDULED"  # type: ignore[index]
    assert body["date"].startswith("2030-01-01T00:00:00")  # type: ignore[index]


def test_describe_lists_the_rejected_recipients_while_they_are_kept(
    client: FlaskClient, service: FakeService
) -> None:
    # Given a campaign whose rejected recipients' details are kept for another month
    expire_at = datetime.now(UTC) + timedelta(days=30)
    service.campaigns["c2"] = _campaign("c2").model_copy(
        update={
            "recipients": RecipientCounts(accepted=5, rejected=2),
            "rejected_by_reason": {"invalid_address": 1, "duplicate": 1},
            "rejections_expire_at": expire_at,
        }
    )
    service.rejections["c2"] = [
        Rejection(segment="gold", to_address="not-an-address", reason="invalid_address"),
        Rejection(segment="gold", to_address="ann@example.org", reason="duplicate"),
    ]

    body = client.get("/campaigns/c2", headers=AUTH).json
    assert body is not None

    # Then they are listed, with the counts and when they go
    assert [r["to_address"] for r in body["rejections"]] == ["not-an-address", "ann@example.org"]
    assert body["rejections_total"] == 2
    assert body["rejected_by_reason"] == {"invalid_address": 1, "duplicate": 1}
    assert datetime.fromisoformat(body["rejections_expire_at"]) == expire_at
    assert body["rejections_expired"] is False


def test_after_the_details_expire_the_view_says_so_and_keeps_the_counts(
    client: FlaskClient, service: FakeService
) -> None:
    # Given a campaign whose rejected recipients' details were deleted yesterday
    service.campaigns["c3"] = _campaign("c3").model_copy(
        update={
            "recipients": RecipientCounts(accepted=5, rejected=2),
            "rejected_by_reason": {"invalid_address": 2},
            "rejections_expire_at": datetime.now(UTC) - timedelta(days=1),
        }
    )

    body = client.get("/campaigns/c3", headers=AUTH).json
    assert body is not None

    assert body["rejections"] == []
    assert body["rejections_expired"] is True
    assert body["rejections_total"] == 2
    assert body["rejected_by_reason"] == {"invalid_address": 2}


def test_openapi_lists_the_campaign_routes_and_the_key(client: FlaskClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json
    assert {"/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/cancel"} <= set(
        spec["paths"]  # type: ignore[index]
    )
    assert spec["components"]["securitySchemes"]["api_key"]["name"] == "X-Api-Key"  # type: ignore[index]


def test_pause_and_resume_answer_the_campaign_and_409_in_any_other_state(
    client: FlaskClient, service: FakeService
) -> None:
    # A scheduled campaign has nothing to pause: 409 naming the states that can be
    refused = client.post("/campaigns/c1/pause", headers=AUTH)
    assert refused.status_code == 409
    assert "SENDING" in (refused.json or {})["message"]

    service.campaigns["c1"] = _campaign(status=CampaignStatus.SENDING)
    paused = client.post("/campaigns/c1/pause", headers=AUTH)
    assert paused.status_code == 200
    body = paused.json or {}
    assert body["status"] == "PAUSED"
    assert (body["pause"]["by"], body["pause"]["reason"]) == ("operator", "paused by an operator")

    resumed = client.post("/campaigns/c1/resume", headers=AUTH)
    assert resumed.status_code == 200
    assert ((resumed.json or {})["status"], (resumed.json or {})["pause"]) == ("SENDING", None)
    assert client.post("/campaigns/nope/pause", headers=AUTH).status_code == 404
    assert client.post("/campaigns/c1/pause").status_code == 401


def test_openapi_lists_pause_and_resume(client: FlaskClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json or {}
    assert {"/campaigns/{campaign_id}/pause", "/campaigns/{campaign_id}/resume"} <= set(
        spec["paths"]
    )
