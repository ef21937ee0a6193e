"""The tracker against the local stack: SES events into status, metrics and suppressions.

LocalStack's SES publishes Send and Delivery through the configuration set; everything else
(bounces, complaints, opens, clicks) it never produces, so these tests publish realistic ones
into the same Firehose stream (SES -> Firehose -> events bucket -> S3 notification -> tracker
queue), built from the fixtures in tests/events with a real email's message id
and tags. What is checked is what a user reads: the API's metrics, an email's status and
events, the suppression list, and the next campaign's verification.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ems_common import keys
from ems_common.aws import AwsClients
from ems_common.dal.emails import is_batch_sort_key
from ems_common.dal.items import to_item
from ems_common.settings import InfraSettings
from ems_devstack.ses_events import publish_events
from tests.e2e.test_sender import TEMPLATE, _create
from tests.e2e.waiting import eventually, take_dead_letter

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).parents[1] / "events"
RECIPIENTS = 40


@pytest.fixture(scope="module")
def sent_campaign(api: httpx.Client, aws: AwsClients, settings: InfraSettings) -> dict[str, Any]:
    """A campaign sent by the running senders and tracked to COMPLETED by the running tracker."""
    key = f"templates/track-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE.encode())
    template_uri = f"s3://{settings.assets_bucket}/{key}"
    created = _create(api, template_uri, RECIPIENTS, seconds_ahead=2)
    created["template_uri"] = template_uri
    campaign_id = created["campaign_id"]

    def completed() -> dict[str, Any] | None:
        campaign: dict[str, Any] = api.get(f"/campaigns/{campaign_id}").json()
        return campaign if campaign["status"] == "COMPLETED" else None

    eventually(completed, deadline_s=240, what=f"{campaign_id} COMPLETED", interval_s=2)
    return created


def _addresses(campaign_id: str, aws: AwsClients, table: str) -> list[str]:
    response = aws.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": keys.PARTITION_KEY},
        ExpressionAttributeValues=to_item({":pk": campaign_id}),
        ConsistentRead=True,
    )
    # The campaign's partition also holds its send-batch records (`#batch#...`): not recipients.
    sort_keys = (item[keys.SORT_KEY]["S"] for item in response["Items"])
    return sorted(key for key in sort_keys if not is_batch_sort_key(key))


def _recipient(api: httpx.Client, campaign_id: str, address: str) -> dict[str, Any]:
    response = api.get(f"/campaigns/{campaign_id}/recipients/{address}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _metrics(api: httpx.Client, campaign_id: str) -> dict[str, Any]:
    response = api.get(f"/campaigns/{campaign_id}/metrics")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _event(kind: str, email: dict[str, Any], *, seconds_later: float = 60) -> dict[str, Any]:
    """A fixture event of `kind`, made about `email` (its message id, recipient and tags)."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"ses_{kind}.json").read_text()))
    address = email["address"]
    at = (datetime.now(UTC) + timedelta(seconds=seconds_later)).isoformat(timespec="milliseconds")
    mail = event["mail"]
    mail["messageId"] = email["ses_message_id"]
    mail["destination"] = [address]
    mail["tags"]["campaignId"] = [email["campaign_id"]]
    mail["tags"]["segmentId"] = [email["segment_id"]]
    for name in ("bounce", "complaint", "open", "click", "delivery"):
        if name in event:
            event[name]["timestamp"] = at
    if "bounce" in event:
        event["bounce"]["bouncedRecipients"] = [{"emailAddress": address}]
        event["bounce"]["feedbackId"] = uuid.uuid4().hex
    if "complaint" in event:
        event["complaint"]["complainedRecipients"] = [{"emailAddress": address}]
        event["complaint"]["feedbackId"] = uuid.uuid4().hex
    if "delivery" in event:
        event["delivery"]["recipients"] = [address]
    return event


def _publish(aws: AwsClients, settings: InfraSettings, *events: dict[str, Any] | str) -> None:
    """Publish events as SES does: into the configuration set's Firehose stream."""
    publish_events(aws.client("firehose"), settings.ses_events_stream, events)


def test_a_sent_campaign_shows_every_email_sent_and_delivered_and_completes(
    api: httpx.Client, sent_campaign: dict[str, Any], aws: AwsClients, settings: InfraSettings
) -> None:
    campaign_id = sent_campaign["campaign_id"]

    metrics = _metrics(api, campaign_id)

    assert metrics["status"] == "COMPLETED"
    assert metrics["total"] == RECIPIENTS
    counts = metrics
    assert (counts["sent"], counts["delivered"], counts["finished"]) == (RECIPIENTS,) * 3
    assert counts["bounced"] == counts["failed"] == counts["suppressed"] == 0
    assert metrics["rates"]["delivery_rate"] == 1.0
    (segment,) = metrics["segments"]
    assert (segment["segment_id"], segment["total"], segment["delivered"]) == (
        "all",
        RECIPIENTS,
        RECIPIENTS,
    )
    # And each email shows DELIVERED with when it was sent and delivered; Send and Delivery are
    # kept only as those times, not as raw events (docs/tracking.md, "Raw events")
    address = _addresses(campaign_id, aws, settings.emails_table)[0]
    email = _recipient(api, campaign_id, address)
    assert email["status"] == "DELIVERED"
    assert email["sent_at"] is not None
    assert email["delivered_at"] is not None
    assert email["sent_at"] <= email["delivered_at"] <= email["finished_at"]
    assert email["events"] == []


def test_bounce_complaint_open_and_click_update_status_metrics_and_suppressions(
    api: httpx.Client, sent_campaign: dict[str, Any], aws: AwsClients, settings: InfraSettings
) -> None:
    campaign_id = sent_campaign["campaign_id"]
    bouncer, complainer, reader = (
        _recipient(api, campaign_id, a)
        for a in _addresses(campaign_id, aws, settings.emails_table)[1:4]
    )
    before = _metrics(api, campaign_id)

    # in one batch, as one object of the stream's buffer holds many events
    _publish(
        aws,
        settings,
        _event("bounce", bouncer),
        _event("complaint", complainer),
        _event("open", reader),
        _event("click", reader, seconds_later=90),
    )

    def all_applied() -> dict[str, Any] | None:
        counts = _metrics(api, campaign_id)
        done = counts["clicked"] > before["clicked"] and counts["bounced"] > before["bounced"]
        return counts if done and counts["complained"] > before["complained"] else None

    counts = eventually(all_applied, deadline_s=60, what="the four events applied")
    assert counts["bounced"] - before["bounced"] == 1
    assert counts["bounced_hard"] - before["bounced_hard"] == 1
    assert counts["complained"] - before["complained"] == 1
    assert counts["opened"] - before["opened"] == 1
    assert counts["clicked"] - before["clicked"] == 1
    assert _recipient(api, campaign_id, bouncer["address"])["status"] == "BOUNCED"
    assert _recipient(api, campaign_id, complainer["address"])["status"] == "COMPLAINED"
    assert _recipient(api, campaign_id, reader["address"])["status"] == "CLICKED"

    # The bounced and the complaining addresses are suppressed ...
    suppressed: dict[str, dict[str, Any]] = {}
    page: str | None = None
    while True:
        listing = api.get(
            "/suppressions", params={"limit": 100, **({"page": page} if page else {})}
        )
        assert listing.status_code == 200, listing.text
        body = listing.json()
        suppressed.update({item["address"]: item for item in body["suppressions"]})
        page = body.get("next_page")
        if not page:
            break
    # A hard bounce stops every email; a complaint stops campaign email (receipts still go)
    bounced = suppressed[bouncer["address"]]
    assert (bounced["scope"], bounced["reason"], bounced["detail"]) == (
        "all",
        "hard_bounce",
        "General",
    )
    complained = suppressed[complainer["address"]]
    assert (complained["scope"], complained["reason"]) == ("campaigns", "complaint")
    assert reader["address"] not in suppressed

    # ... so a later campaign that includes the bounced address leaves it out, saying why
    later = api.post(
        "/campaigns",
        json={
            "date": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "templateS3Uri": sent_campaign["template_uri"],
            "segments": [
                {
                    "list_name": "again",
                    "recipients": [
                        {"to_address": bouncer["address"], "name": "B", "code": "1"},
                        {"to_address": f"new-{uuid.uuid4().hex[:6]}@example.org", "name": "N",
                         "code": "2"},
                    ],
                }
            ],
        },
    )  # fmt: skip
    assert later.status_code == 201, later.text
    created = later.json()
    assert created["recipients"]["accepted"] == 1
    assert created["rejected_by_reason"] == {"suppressed": 1}
    assert api.delete(f"/campaigns/{created['campaign_id']}").status_code == 204

    # And lifting a suppression takes the address off the list
    assert api.delete(f"/suppressions/{bouncer['address']}").status_code == 204
    assert api.delete(f"/suppressions/{bouncer['address']}").status_code == 404


def test_duplicate_and_out_of_order_events_count_once_and_keep_the_latest_status(
    api: httpx.Client, sent_campaign: dict[str, Any], aws: AwsClients, settings: InfraSettings
) -> None:
    campaign_id = sent_campaign["campaign_id"]
    email = _recipient(api, campaign_id, _addresses(campaign_id, aws, settings.emails_table)[5])
    before = _metrics(api, campaign_id)
    click = _event("click", email, seconds_later=120)
    opened = _event("open", email, seconds_later=60)
    late_send = _event("send", email, seconds_later=-600)

    # The click before the open, each delivered twice, and a Send replayed after all of them
    for event in (click, click, opened, opened, late_send):
        _publish(aws, settings, event)

    def applied() -> dict[str, Any] | None:
        got = _recipient(api, campaign_id, email["address"])
        return got if got["opens"] and got["clicks"] else None

    got = eventually(applied, deadline_s=60, what="the open and the click applied")
    eventually(
        lambda: _metrics(api, campaign_id)["opened_total"] > before["opened_total"],
        deadline_s=30,
        what="the open counted",
    )
    counts = _metrics(api, campaign_id)
    assert got["status"] == "CLICKED"
    assert (got["opens"], got["clicks"]) == (1, 1)
    assert got["opened_at"] is not None
    assert got["clicked_at"] is not None
    assert counts["clicked_total"] - before["clicked_total"] == 1
    assert counts["opened_total"] - before["opened_total"] == 1
    assert counts["sent"] == before["sent"]  # the replayed Send counted nothing


def _unmatched(aws: AwsClients, settings: InfraSettings, message_id: str) -> list[dict[str, Any]]:
    """The events kept for a message id EMS did not send, once there are some."""

    def kept() -> list[dict[str, Any]] | None:
        items = aws.client("dynamodb").query(
            TableName=settings.events_table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.PARTITION_KEY},
            ExpressionAttributeValues=to_item({":pk": f"unmatched#{message_id}"}),
        )["Items"]
        return items or None

    return eventually(kept, deadline_s=60, what=f"the unmatched event of {message_id} kept")


def test_a_malformed_event_goes_to_the_tracker_dlq_with_its_reason_and_its_batch_is_applied(
    aws: AwsClients, settings: InfraSettings
) -> None:
    marker, line_marker = uuid.uuid4().hex, uuid.uuid4().hex
    neighbour = json.loads((EVENTS / "ses_notification_delivery.json").read_text())
    neighbour["mail"]["messageId"] = f"unknown-{uuid.uuid4().hex}"

    # A malformed event between a good one and a line that is not JSON, in one object
    _publish(
        aws,
        settings,
        neighbour,
        {"eventType": "Bounce", "mail": {"messageId": marker}},
        f"not json {line_marker}",
    )

    _, reason = take_dead_letter(
        aws.client("sqs"), settings.tracker_dlq_url, marker, what="the event in the tracker DLQ"
    )
    assert "malformed" in reason
    assert "bounce" in reason  # names what is missing
    _, reason = take_dead_letter(
        aws.client("sqs"), settings.tracker_dlq_url, line_marker, what="the line in the DLQ"
    )
    assert "not valid JSON" in reason
    (item,) = _unmatched(aws, settings, neighbour["mail"]["messageId"])
    assert item["event_type"]["S"] == "Delivery"


def test_an_event_for_an_unknown_message_is_kept_and_nothing_breaks(
    aws: AwsClients, settings: InfraSettings
) -> None:
    event = json.loads((EVENTS / "ses_notification_delivery.json").read_text())
    unknown = f"unknown-{uuid.uuid4().hex}"
    event["mail"]["messageId"] = unknown
    _publish(aws, settings, event)

    (item,) = _unmatched(aws, settings, unknown)
    assert item["event_type"]["S"] == "Delivery"
