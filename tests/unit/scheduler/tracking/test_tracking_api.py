"""The tracking routes around fakes (metrics, a recipient's email, the suppression list), and
the DynamoDB read adapter against a stubbed client."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from flask.testing import FlaskClient

from ems_common.campaigns import Campaign, CampaignStatus, RecipientCounts, SegmentSummary
from ems_common.dal.campaigns import CampaignNotFoundError
from ems_common.dal.items import to_item
from ems_common.dal.metrics import CampaignNumbers
from ems_common.dal.timeline import TimelineMinute
from ems_common.timeline import Series
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.tracking.reads import (
    DynamoTrackingReads,
    EventHistory,
    RecordedEvent,
)
from ems_scheduler.wiring import create_app
from tests.unit.scheduler.conftest import API_KEY

KEY = API_KEY
AUTH = {"X-Api-Key": KEY}
NOW = datetime(2030, 1, 1, tzinfo=UTC)
ANN = "ann@example.com"


def _campaign(campaign_id: str, status: CampaignStatus) -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
        recipients=RecipientCounts(accepted=100, rejected=2),
        segments=[
            SegmentSummary(
                list_name=name,
                template_name=f"t-{name}",
                from_address="news@example.com",
                configuration_set="ems",
                accepted=accepted,
                rejected=1,
            )
            for name, accepted in (("gold", 80), ("silver", 20))
        ],
    )


class FakeService:
    """Only `get` is used by the tracking routes."""

    def __init__(self) -> None:
        self.campaigns = {
            "c1": _campaign("c1", CampaignStatus.SENDING),
            "done": _campaign("done", CampaignStatus.COMPLETED),
        }

    def get(self, campaign_id: str) -> Campaign:
        if campaign_id not in self.campaigns:
            raise CampaignNotFoundError(campaign_id)
        return self.campaigns[campaign_id]


class FakeTracking:
    """Numbers, records and events in dicts, keyed as the tables are (addresses lower-cased)."""

    def __init__(self) -> None:
        gold = Counter(
            sent=78,
            delivered=70,
            bounced_hard=3,
            bounced_soft=2,
            complained=1,
            opened_unique=35,
            opened_total=50,
            clicked_unique=7,
            clicked_total=9,
            failed=1,
            suppressed=1,
            finished=76,
        )
        stray = Counter(sent=1, finished=1)
        self.numbers = {
            "c1": CampaignNumbers(total=gold + stray, segments={"gold": gold, "-": stray})
        }
        self.records: dict[tuple[str, str], dict[str, Any]] = {
            ("c1", ANN): {
                "pk": "c1",
                "sk": ANN,
                "state": "SENT",
                "segment_id": "gold",
                "ses_message_id": "m-1",
                "claimed_at": "2030-01-01T00:00:01+00:00",
                "completed_at": "2030-01-01T00:00:02+00:00",
                "sent_at": "2030-01-01T00:00:02+00:00",
                "delivered_at": "2030-01-01T00:00:03+00:00",
                "opened_at": "2030-01-01T01:00:00+00:00",
                "opens": 2,
                "clicked_at": "2030-01-01T01:00:05+00:00",
                "clicks": 1,
                "finished_at": "2030-01-01T00:00:03+00:00",
                "tracker_version": 5,
            }
        }
        self.history = EventHistory(
            events=[
                RecordedEvent(
                    "Send",
                    "2030-01-01T00:00:02.000+00:00",
                    "m-1",
                    {"eventType": "Send", "mail": {"messageId": "m-1"}},
                ),
                RecordedEvent(
                    "Click",
                    "2030-01-01T01:00:05.120+00:00",
                    "m-1",
                    {"eventType": "Click", "click": {"link": "https://example.com/sale"}},
                ),
            ],
            older_left_out=False,
        )
        self.minutes = {
            "c1": [
                TimelineMinute(NOW, {Series.SENT: 50, Series.DELIVERED: 40}),
                TimelineMinute(NOW + timedelta(minutes=3), {Series.SENT: 29, Series.OPENED: 2}),
            ]
        }
        self.timeline_since: datetime | None = None

    def metrics(self, campaign_id: str) -> CampaignNumbers:
        return self.numbers.get(campaign_id, CampaignNumbers())

    def email(self, campaign_id: str, address: str) -> dict[str, Any] | None:
        return self.records.get((campaign_id, address.lower()))

    def events(self, campaign_id: str, address: str, *, limit: int = 100) -> EventHistory:
        return self.history

    def timeline(
        self, campaign_id: str, *, since: datetime | None
    ) -> tuple[list[TimelineMinute], bool]:
        self.timeline_since = since
        return self.minutes.get(campaign_id, []), False


@pytest.fixture
def tracking() -> FakeTracking:
    return FakeTracking()


@pytest.fixture
def client(tracking: FakeTracking, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    app = create_app(
        settings,
        FakeService(),  # type: ignore[arg-type]
        tracking=tracking,
    )
    with app.test_client() as test_client:
        yield test_client


# --- keys ------------------------------------------------------------------------------------

ROUTES = [
    ("get", "/campaigns/c1/metrics"),
    ("get", "/campaigns/c1/timeline"),
    ("get", f"/campaigns/c1/recipients/{ANN}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_tracking_route_needs_the_key(client: FlaskClient, method: str, path: str) -> None:
    assert getattr(client, method)(path).status_code == 401
    assert getattr(client, method)(path, headers={"X-Api-Key": "nope"}).status_code == 403


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_show_the_campaign_numbers_and_rates(client: FlaskClient) -> None:
    # Given a sending campaign of 100 with events counted in segment gold (and one stray)
    # When
    response = client.get("/campaigns/c1/metrics", headers=AUTH)

    # Then the total sums the segments, bounces add up, opens and clicks are unique
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["campaign_id"] == "c1"
    assert body["status"] == "SENDING"
    expected = {
        "total": 100,
        "sent": 79,
        "delivered": 70,
        "bounced": 5,
        "bounced_hard": 3,
        "bounced_soft": 2,
        "complained": 1,
        "rejected": 0,
        "opened": 35,
        "opened_total": 50,
        "clicked": 7,
        "clicked_total": 9,
        "rendering_failures": 0,
        "delivery_delays": 0,
        "unsubscribed": 0,
        "failed": 1,
        "suppressed": 1,
        "finished": 77,
    }
    assert {name: body[name] for name in expected} == expected
    assert body["rates"] == {
        "delivery_rate": round(70 / 79, 4),
        "bounce_rate": round(5 / 79, 4),
        "complaint_rate": round(1 / 79, 4),
        "open_rate": 0.5,
        "click_rate": 0.1,
        "progress": 0.77,
    }


def test_metrics_list_every_segment_with_its_own_total(client: FlaskClient) -> None:
    body = client.get("/campaigns/c1/metrics", headers=AUTH).json
    assert body is not None

    segments = {s["segment_id"]: s for s in body["segments"]}

    # the compiled segments first, in their order, then any other that has numbers
    assert [s["segment_id"] for s in body["segments"]] == ["gold", "silver", "-"]
    assert segments["gold"]["total"] == 80
    assert segments["gold"]["sent"] == 78
    assert segments["gold"]["bounced"] == 5
    assert segments["gold"]["rates"]["progress"] == round(76 / 80, 4)
    # a segment with no event yet: zeros, and no rate to divide by
    assert segments["silver"]["total"] == 20
    assert segments["silver"]["sent"] == 0
    assert segments["silver"]["rates"]["delivery_rate"] is None
    assert segments["silver"]["rates"]["progress"] == 0.0
    assert segments["-"]["total"] == 0
    assert segments["-"]["sent"] == 1


def test_metrics_of_a_campaign_without_events_are_zeros(client: FlaskClient) -> None:
    body = client.get("/campaigns/done/metrics", headers=AUTH).json
    assert body is not None

    assert body["total"] == 100
    assert body["sent"] == 0
    assert body["rates"]["open_rate"] is None


@pytest.mark.parametrize("path", ["/campaigns/nope/metrics", "/campaigns/nope/recipients/" + ANN])
def test_an_unknown_campaign_is_a_404(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=AUTH)

    assert response.status_code == 404
    assert response.json == {
        "error": "not_found",
        "message": "there is no campaign 'nope'",
        "problems": [],
    }


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/has%20space/metrics",
        "/campaigns/c1/recipients/no-at-sign",
        "/campaigns/c1/recipients/%20%20@%20",
        f"/campaigns/c1/recipients/{'a' * 250}@example.com",
    ],
)
def test_a_malformed_campaign_id_or_address_is_a_400(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=AUTH)

    assert response.status_code == 400
    assert response.json["error"] == "bad_request"  # type: ignore[index]


# --- timeline --------------------------------------------------------------------------------


def test_timeline_lists_each_minute_with_events_since_the_launch(
    tracking: FakeTracking, settings: SchedulerSettings
) -> None:
    # Given a campaign launched a minute before its first events
    launched = NOW - timedelta(minutes=1)
    service = FakeService()
    service.campaigns["c1"].launched_at = launched
    app = create_app(settings, service, tracking=tracking)  # type: ignore[arg-type]

    # When
    body = app.test_client().get("/campaigns/c1/timeline", headers=AUTH).json

    assert body is not None
    assert tracking.timeline_since == launched
    assert body["campaign_id"] == "c1"
    assert body["launched_at"] == "2029-12-31T23:59:00Z"
    assert body["truncated"] is False
    assert body["minutes"] == [
        {
            "minute": "2030-01-01T00:00:00Z",
            "sent": 50,
            "delivered": 40,
            "opened": 0,
            "clicked": 0,
            "bounced": 0,
            "complained": 0,
        },
        {
            "minute": "2030-01-01T00:03:00Z",
            "sent": 29,
            "delivered": 0,
            "opened": 2,
            "clicked": 0,
            "bounced": 0,
            "complained": 0,
        },
    ]


# --- one recipient ---------------------------------------------------------------------------


def test_recipient_shows_status_fields_and_events(client: FlaskClient) -> None:
    # The address is matched however it is capitalised.
    response = client.get("/campaigns/c1/recipients/Ann@Example.COM", headers=AUTH)

    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["campaign_id"] == "c1"
    assert body["address"] == ANN
    assert body["status"] == "CLICKED"
    assert body["segment_id"] == "gold"
    assert body["ses_message_id"] == "m-1"
    assert body["sent_at"] == "2030-01-01T00:00:02Z"
    assert body["delivered_at"] == "2030-01-01T00:00:03Z"
    assert body["opens"] == 2
    assert body["clicks"] == 1
    assert body["bounced_at"] is None
    assert body["reason"] is None
    assert body["older_events_left_out"] is False
    assert body["events"] == [
        {
            "event_type": "Send",
            "occurred_at": "2030-01-01T00:00:02Z",
            "ses_message_id": "m-1",
            "event": {"eventType": "Send", "mail": {"messageId": "m-1"}},
        },
        {
            "event_type": "Click",
            "occurred_at": "2030-01-01T01:00:05.120000Z",
            "ses_message_id": "m-1",
            "event": {"eventType": "Click", "click": {"link": "https://example.com/sale"}},
        },
    ]


def test_a_failed_email_shows_why(client: FlaskClient, tracking: FakeTracking) -> None:
    tracking.records[("c1", "bob@example.com")] = {
        "state": "FAILED",
        "segment_id": "silver",
        "reason": "MessageRejected: Email address is not verified",
    }
    tracking.history = EventHistory([], older_left_out=False)

    body = client.get("/campaigns/c1/recipients/bob@example.com", headers=AUTH).json

    assert body is not None
    assert body["status"] == "FAILED"
    assert body["reason"] == "MessageRejected: Email address is not verified"
    assert body["opens"] == 0
    assert body["events"] == []


def test_a_non_recipient_of_a_completed_campaign_is_a_404_saying_so(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    response = client.get("/campaigns/done/recipients/zed@example.com", headers=AUTH)

    assert response.status_code == 404
    assert response.json == {
        "error": "not_found",
        "message": "zed@example.com is not a recipient of campaign 'done'",
        "problems": [],
    }
    assert "zed@example.com" not in caplog.text  # addresses stay out of the logs


def test_a_missing_email_of_a_sending_campaign_may_be_queued(client: FlaskClient) -> None:
    response = client.get("/campaigns/c1/recipients/zed@example.com", headers=AUTH)

    assert response.status_code == 404
    message = response.json["message"]  # type: ignore[index]
    assert "zed@example.com is not a recipient of campaign 'c1'" in message
    assert "no SES event of an email to it has arrived yet (the campaign is SENDING" in message


def test_openapi_documents_the_tracking_routes(client: FlaskClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json
    assert spec is not None
    paths = spec["paths"]

    assert {
        "/campaigns/{campaign_id}/metrics",
        "/campaigns/{campaign_id}/recipients/{address}",
        "/suppressions",
        "/suppressions/{address}",
    } <= set(paths)
    assert paths["/suppressions/{address}"]["delete"]["security"] == [{"api_key": []}]
    metrics = paths["/campaigns/{campaign_id}/metrics"]["get"]["responses"]
    assert {"200", "401", "404"} <= set(metrics)
    schemas = spec["components"]["schemas"]
    assert {"sent", "delivered", "bounced", "opened", "clicked", "segments", "rates"} <= set(
        schemas["CampaignMetricsView"]["properties"]
    )


# --- the DynamoDB adapter --------------------------------------------------------------------


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _reads(client: Any) -> DynamoTrackingReads:
    return DynamoTrackingReads(
        lambda: client, campaigns_table="campaigns", emails_table="emails", events_table="events"
    )


def test_adapter_gets_the_email_by_campaign_and_lower_cased_address(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    record = {"pk": "c1", "sk": ANN, "state": "SENT", "opens": 3}
    stubber.add_response(
        "get_item",
        {"Item": to_item(record)},
        {"TableName": "emails", "Key": to_item({"pk": "c1", "sk": ANN}), "ConsistentRead": True},
    )
    stubber.add_response("get_item", {}, None)

    assert _reads(client).email("c1", "Ann@Example.com") == record
    assert _reads(client).email("c1", "zed@example.com") is None


def _event_item(at: str, kind: str, body: str) -> dict[str, Any]:
    return to_item(
        {
            "pk": f"c1#{ANN}",
            "sk": f"{at}#{kind}#d",
            "event_type": kind,
            "ses_message_id": "m-1",
            "occurred_at": at,
            "body": body,
        }
    )


def test_adapter_lists_the_newest_events_oldest_first_with_bodies_decoded(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    newest_first = [
        _event_item("2030-01-01T00:00:03.000+00:00", "Open", json.dumps({"eventType": "Open"})),
        _event_item("2030-01-01T00:00:02.000+00:00", "Delivery", "not json"),
        _event_item("2030-01-01T00:00:01.000+00:00", "Send", json.dumps({"eventType": "Send"})),
    ]
    stubber.add_response(
        "query",
        {"Items": newest_first},
        {
            "TableName": "events",
            "KeyConditionExpression": ANY,
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":pk": {"S": f"c1#{ANN}"}},
            "ScanIndexForward": False,
            "Limit": 3,
        },
    )

    history = _reads(client).events("c1", "ANN@example.com", limit=2)

    assert history.older_left_out
    assert [e.event_type for e in history.events] == ["Delivery", "Open"]
    assert history.events[0].event == "not json"
    assert history.events[1].event == {"eventType": "Open"}
    assert history.events[1].occurred_at == "2030-01-01T00:00:03.000+00:00"


def test_adapter_reads_the_metrics_items_per_segment(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    items = [
        to_item({"pk": "c1", "sk": "METRICS#gold", "sent": 3, "delivered": 2}),
        to_item({"pk": "c1", "sk": "METRICS#silver", "sent": 1}),
    ]
    stubber.add_response("query", {"Items": items}, None)

    numbers = _reads(client).metrics("c1")

    assert numbers.total == Counter(sent=4, delivered=2)
    assert numbers.segments["silver"] == Counter(sent=1)


def test_adapter_reads_the_timeline_from_the_launch_minute_oldest_first(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    stubber.add_response(
        "query",
        {
            "Items": [
                to_item({"pk": "timeline#c1", "sk": "2030-01-01T00:00Z", "sent": 3, "opened": 1}),
                to_item({"pk": "timeline#c1", "sk": "2030-01-01T00:07Z", "bounced": 2}),
            ]
        },
        {
            "TableName": "events",
            "KeyConditionExpression": "#pk = :pk AND #sk >= :since",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": to_item(
                {":pk": "timeline#c1", ":since": "2030-01-01T00:00Z"}
            ),
            "ScanIndexForward": True,
        },
    )

    minutes, truncated = _reads(client).timeline("c1", since=NOW + timedelta(seconds=42))

    assert truncated is False
    assert [(m.minute, m.counts[Series.SENT], m.counts[Series.BOUNCED]) for m in minutes] == [
        (NOW, 3, 0),
        (NOW + timedelta(minutes=7), 0, 2),
    ]
