"""The campaign API through real HTTP, against the local stack (`make up` runs the API).

Given templates in the assets bucket, each test drives the API the way a client would and
checks what a user would: the answer, the campaign file in S3, the SES templates, the schedule.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.campaign_files import campaign_prefix, manifest_key, part_key
from ems_common.dal.suppressions import SuppressionList
from ems_common.formats import CampaignFileLine
from ems_common.settings import InfraSettings
from ems_common.suppressions import ALL, Suppression, SuppressionReason
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

TEMPLATE_HTML = (
    "<html><head><title>Hello {{name}}</title></head>"
    "<body><p>Hi {{name}}, your offer: {{offer}}</p>{{#if vip}}<p>VIP</p>{{/if}}</body></html>"
)


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/offer-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE_HTML.encode(), ContentType="text/html"
    )
    return f"s3://{settings.assets_bucket}/{key}"


def _in(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")


def _candidate(template_uri: str, campaign_id: str | None = None, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "date": _in(2),
        "templateS3Uri": template_uri,
        "segments": [
            {
                "list_name": "gold",
                "recipients": [
                    {"to_address": "ann@example.org", "name": "Ann", "offer": "20%"},
                    {"to_address": "bob@example.org", "name": "Bob", "offer": "10%", "vip": "y"},
                    {"to_address": "not-an-address", "name": "X", "offer": "1%"},
                ],
            },
            {
                "list_name": "silver",
                "subject": "Silver news for {{name}}",
                "recipients": [
                    {"to_address": "cid@example.org", "name": "Cid", "offer": "5%"},
                    {"to_address": "ANN@example.org", "name": "Ann again", "offer": "5%"},
                    {"to_address": "dee@example.org", "name": "Dee"},
                    {"to_address": "suppressed-e2e@example.org", "name": "S", "offer": "5%"},
                ],
            },
        ],
        **extra,
    }
    if campaign_id:
        document["campaign_id"] = campaign_id
    return document


def _campaign_lines(aws: AwsClients, settings: InfraSettings, campaign_id: str) -> list[str]:
    s3 = aws.client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=settings.campaigns_bucket, Key=manifest_key(campaign_id))[
            "Body"
        ].read()
    )
    lines: list[str] = []
    for part in manifest["parts"]:
        key = part_key(campaign_id, part["index"])
        data = s3.get_object(Bucket=settings.campaigns_bucket, Key=key)["Body"].read()
        part_lines = data.decode().splitlines()
        assert len(part_lines) == part["lines"]
        lines += part_lines
    return lines


def test_health_needs_no_key_and_everything_else_does(api: httpx.Client) -> None:
    base = str(api.base_url)
    assert httpx.get(f"{base}/health").status_code == 200
    missing = httpx.get(f"{base}/campaigns")
    wrong = httpx.get(f"{base}/campaigns", headers={"X-Api-Key": "wrong"})
    assert (missing.status_code, wrong.status_code) == (401, 403)
    assert "X-Api-Key" in missing.json()["message"]


def test_create_compiles_the_campaign_file_and_rejects_bad_recipients_only(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    # Given an address on the suppression list
    SuppressionList(aws.client("dynamodb"), settings.suppressions_table).add(
        Suppression(
            address="suppressed-e2e@example.org",
            scope=ALL,
            reason=SuppressionReason.HARD_BOUNCE,
            source="test",
        )
    )
    campaign_id = f"e2e-{uuid.uuid4().hex[:10]}"

    # When the campaign is created
    response = api.post("/campaigns", json=_candidate(template_uri, campaign_id))

    # Then it is scheduled with the good recipients, and each bad one is listed with its reason
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["campaign_id"] == campaign_id
    assert body["status"] == "SCHEDULED"
    assert body["recipients"] == {"accepted": 3, "rejected": 4}
    reasons = {(r["to_address"], r["reason"]) for r in body["rejections"]}
    assert reasons == {
        ("not-an-address", "invalid_address"),
        ("ANN@example.org", "duplicate"),
        ("dee@example.org", "missing_fields"),
        ("suppressed-e2e@example.org", "suppressed"),
    }

    # And the campaign file holds one line per accepted recipient, in the seed's shape
    lines = _campaign_lines(aws, settings, campaign_id)
    parsed = [CampaignFileLine.from_json_line(line) for line in lines]
    sent = {
        (line.to_address, line.segment_id): json.loads(line.content.template.template_data)
        for line in parsed
    }
    assert sent == {
        ("ann@example.org", "gold"): {"name": "Ann", "offer": "20%"},
        ("bob@example.org", "gold"): {"name": "Bob", "offer": "10%", "vip": "y"},
        ("cid@example.org", "silver"): {"name": "Cid", "offer": "5%"},
    }
    assert {line.campaign_id for line in parsed} == {campaign_id}
    assert {line.configuration_set_name for line in parsed} == {settings.configuration_set_name}
    assert {line.from_email_address for line in parsed} == {settings.default_from}
    assert set(json.loads(lines[0])) == {
        "FromEmailAddress",
        "Destination",
        "Content",
        "EmailTags",
        "ConfigurationSetName",
    }

    # And each segment's SES template exists, with its subject (title or segment's own)
    ses = aws.client("ses")
    subjects = {
        ses.get_template(TemplateName=segment["template_name"])["Template"]["SubjectPart"]
        for segment in body["segments"]
    }
    assert subjects == {"Hello {{name}}", "Silver news for {{name}}"}


def test_rejected_recipients_details_are_kept_apart_and_expire(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    # Given a campaign created with rejected recipients
    campaign_id = f"e2e-{uuid.uuid4().hex[:10]}"
    created = api.post("/campaigns", json=_candidate(template_uri, campaign_id))
    assert created.status_code == 201, created.text
    dynamodb = aws.client("dynamodb")

    def item(sort_key: str) -> dict[str, Any]:
        key = {"pk": {"S": campaign_id}, "sk": {"S": sort_key}}
        return dynamodb.get_item(
            TableName=settings.campaigns_table, Key=key, ConsistentRead=True
        ).get("Item", {})

    # Then the campaign record holds the counts but no rejected address
    record = item("CAMPAIGN")
    assert "not-an-address" not in json.dumps(record)
    assert "dee@example.org" not in json.dumps(record)
    # And the addresses are an item of their own that DynamoDB deletes after about 30 days
    details = item("REJECTIONS")
    assert "dee@example.org" in json.dumps(details)
    expires_at = int(details["expires_at"]["N"])
    month = datetime.now(UTC) + timedelta(days=30)
    assert abs(expires_at - month.timestamp()) < 3600
    # And GET lists them until then
    body = api.get(f"/campaigns/{campaign_id}").json()
    assert len(body["rejections"]) == 4
    assert body["rejections_expired"] is False
    assert abs(datetime.fromisoformat(body["rejections_expire_at"]).timestamp() - expires_at) < 2

    # When their time has passed (DynamoDB may take days to delete the item)
    past = datetime.now(UTC) - timedelta(minutes=1)
    dynamodb.update_item(
        TableName=settings.campaigns_table,
        Key={"pk": {"S": campaign_id}, "sk": {"S": "REJECTIONS"}},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"N": str(int(past.timestamp()))}},
    )
    dynamodb.update_item(
        TableName=settings.campaigns_table,
        Key={"pk": {"S": campaign_id}, "sk": {"S": "CAMPAIGN"}},
        UpdateExpression="SET rejections_expire_at = :t",
        ExpressionAttributeValues={":t": {"S": past.isoformat()}},
    )

    # Then the view says the details expired and keeps the counts
    body = api.get(f"/campaigns/{campaign_id}").json()
    assert body["rejections"] == []
    assert body["rejections_expired"] is True
    assert body["rejections_total"] == 4
    assert sum(body["rejected_by_reason"].values()) == 4

    # And deleting the campaign deletes its details with it
    assert api.delete(f"/campaigns/{campaign_id}").status_code == 204
    assert item("REJECTIONS") == {}


def test_same_id_and_body_is_idempotent_and_another_body_conflicts(
    api: httpx.Client, template_uri: str
) -> None:
    campaign_id = f"e2e-{uuid.uuid4().hex[:10]}"
    candidate = _candidate(template_uri, campaign_id)

    first = api.post("/campaigns", json=candidate)
    again = api.post("/campaigns", json=candidate)
    other = api.post("/campaigns", json={**candidate, "date": _in(3)})

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["campaign_id"] == campaign_id
    assert again.json()["created_at"] == first.json()["created_at"]
    assert "different body" in other.json()["message"]


def test_structural_problems_are_all_listed_with_their_paths(
    api: httpx.Client, settings: InfraSettings
) -> None:
    response = api.post(
        "/campaigns",
        json={
            "date": "2001-01-01T00:00:00+00:00",
            "templateS3Uri": f"s3://{settings.assets_bucket}/templates/missing.html",
            "segments": [
                {"list_name": "a", "recipients": [], "templateS3Uri": "s3://other-bucket/x.html"}
            ],
        },
    )

    assert response.status_code == 400, response.text
    paths = {problem["path"] for problem in response.json()["problems"]}
    assert {"$.date", "$.templateS3Uri", "$.segments[0].templateS3Uri"} <= paths


def test_a_body_that_is_not_json_is_a_400(api: httpx.Client) -> None:
    response = api.post(
        "/campaigns", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$"


def test_list_describe_reschedule_cancel(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    campaign_id = api.post("/campaigns", json=_candidate(template_uri)).json()["campaign_id"]

    listed = api.get("/campaigns", params={"status": "SCHEDULED", "limit": 200}).json()
    assert campaign_id in {c["campaign_id"] for c in listed["campaigns"]}
    assert api.get(f"/campaigns/{campaign_id}").json()["status"] == "SCHEDULED"

    # Reschedule moves the date and the one-time schedule
    new_date = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    moved = api.patch(f"/campaigns/{campaign_id}", json={"date": new_date.isoformat()})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["date"]) == new_date
    schedule = aws.client("scheduler").get_schedule(
        Name=f"campaign-{campaign_id}", GroupName=settings.schedule_group_name
    )
    assert schedule["ScheduleExpression"] == f"at({new_date:%Y-%m-%dT%H:%M:%S})"

    # Cancel stops it and removes the schedule; a cancelled campaign cannot be rescheduled
    cancelled = api.post(f"/campaigns/{campaign_id}/cancel")
    assert cancelled.json()["status"] == "CANCELLED"
    with pytest.raises(aws.client("scheduler").exceptions.ResourceNotFoundException):
        aws.client("scheduler").get_schedule(
            Name=f"campaign-{campaign_id}", GroupName=settings.schedule_group_name
        )
    again = api.patch(f"/campaigns/{campaign_id}", json={"date": _in(5)})
    assert again.status_code == 409
    assert "CANCELLED" in again.json()["message"]


def test_delete_removes_record_files_and_templates(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    created = api.post("/campaigns", json=_candidate(template_uri)).json()
    campaign_id = created["campaign_id"]

    assert api.delete(f"/campaigns/{campaign_id}").status_code == 204

    assert api.get(f"/campaigns/{campaign_id}").status_code == 404
    listed = aws.client("s3").list_objects_v2(
        Bucket=settings.campaigns_bucket, Prefix=campaign_prefix(campaign_id)
    )
    assert listed.get("KeyCount", 0) == 0
    ses = aws.client("ses")
    for segment in created["segments"]:
        with pytest.raises(ses.exceptions.TemplateDoesNotExistException):
            ses.get_template(TemplateName=segment["template_name"])


def test_a_candidate_in_s3_is_verified_in_the_background(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    # Given a candidate of a few thousand recipients uploaded to the assets bucket
    recipients = [
        {"to_address": f"user{i}@example.org", "name": f"U{i}", "offer": f"{i % 50}%"}
        for i in range(3000)
    ]
    document = {
        "date": _in(1),
        "templateS3Uri": template_uri,
        "segments": [
            {"list_name": "first", "recipients": recipients[:2000]},
            {"list_name": "second", "recipients": recipients[2000:]},
        ],
    }
    key = f"{settings.candidates_prefix}{uuid.uuid4().hex}.json"
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket, Key=key, Body=json.dumps(document).encode()
    )

    # When it is created by reference
    response = api.post(
        "/campaigns", json={"candidateS3Uri": f"s3://{settings.assets_bucket}/{key}"}
    )

    # Then the API answers at once, and the campaign becomes SCHEDULED when verified
    assert response.status_code == 202, response.text
    campaign_id = response.json()["campaign_id"]
    assert response.json()["status"] == "VERIFYING"

    def verified() -> dict[str, Any] | None:
        body = api.get(f"/campaigns/{campaign_id}").json()
        return body if body["status"] != "VERIFYING" else None

    body = eventually(verified, deadline_s=120, what=f"campaign {campaign_id} verified")
    assert body["status"] == "SCHEDULED", body
    assert body["recipients"] == {"accepted": 3000, "rejected": 0}
    assert len(_campaign_lines(aws, settings, campaign_id)) == 3000


def test_a_candidate_outside_the_candidates_prefix_is_refused_saying_where(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    # Given a candidate uploaded beside the templates, where uploads do not expire
    key = f"templates/candidate-{uuid.uuid4().hex}.json"
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket, Key=key, Body=json.dumps(_candidate(template_uri)).encode()
    )

    # When a campaign is created from it
    response = api.post(
        "/campaigns", json={"candidateS3Uri": f"s3://{settings.assets_bucket}/{key}"}
    )

    # Then it is a 400 that says where candidates go
    assert response.status_code == 400, response.text
    (problem,) = response.json()["problems"]
    assert problem["path"] == "$.candidateS3Uri"
    assert f"s3://{settings.assets_bucket}/{settings.candidates_prefix}" in problem["message"]


def test_openapi_describes_every_route(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/campaigns",
        "/campaigns/{campaign_id}",
        "/campaigns/{campaign_id}/cancel",
        "/health",
    }
