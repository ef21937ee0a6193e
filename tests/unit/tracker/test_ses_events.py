"""SES events from SNS: the seed's Open event, one fixture per type, and malformed input."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from ems_common.formats import CampaignFileLine
from ems_tracker.ses_events import (
    EVENT_TYPES,
    BounceEvent,
    BounceNotification,
    BounceRecord,
    ClickEvent,
    ComplaintEvent,
    ComplaintNotification,
    DeliveryDelayEvent,
    DeliveryEvent,
    DeliveryNotification,
    MalformedEventError,
    OpenEvent,
    RejectEvent,
    RenderingFailureEvent,
    SendEvent,
    SesEvent,
    SesEventBase,
    SubscriptionEvent,
    UnknownEventTypeError,
    parse_ses_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
RECIPIENT = "ann.lee@example.org"


def fixture_text(name: str) -> str:
    return (EVENTS / name).read_text()


def fixture_json(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_text(name))
    return document


def test_seed_open_event_parses_with_its_fields() -> None:
    # Given the seed's Open event as SNS delivers it
    message = fixture_text("seed_event_open.json")

    # When it is parsed
    event = parse_ses_event(message)

    # Then it is an Open event with the seed's values
    assert isinstance(event, OpenEvent)
    assert event.event_type == "Open"
    assert event.message_id == "010f019033564cde-f72f7f27-aee6-44eb-b35b-f501014a6b55-000000"
    assert event.mail.destination == ["user3@example.com"]
    assert event.mail.source == "sre@example.com"
    assert event.mail.sending_account_id == "xxaws-accountxxx"
    assert event.mail.timestamp == datetime(2024, 6, 20, 1, 50, 12, 190000, tzinfo=UTC)
    assert event.mail.headers_truncated is False
    assert [header.name for header in event.mail.headers][:3] == ["Date", "From", "To"]
    assert event.mail.common_headers is not None
    assert event.mail.common_headers.from_ == ["sre@example.com"]
    assert event.mail.common_headers.subject == "Hi sre, this is a test email for AWS SES!"
    assert event.open.user_agent == "Mozilla/5.0"
    assert event.open.ip_address == "104.28.77.146"
    assert event.occurred_at == datetime(2024, 6, 20, 1, 50, 30, 377000, tzinfo=UTC)
    assert event.mail.tags["ses:operation"] == ["SendTemplatedEmail"]


def test_seed_open_event_uses_other_tag_names_than_ems_sends() -> None:
    # The seed's event was tagged by hand with campaign_id/list_name; EMS's sends carry
    # campaignId/segmentId, so the accessors find nothing while the raw tags stay readable.
    event = parse_ses_event(fixture_text("seed_event_open.json"))

    assert event.campaign_id is None
    assert event.segment_id is None
    assert event.mail.tag("campaign_id") == "some_campaign_id"
    assert event.mail.tag("list_name") == "some_list_name"


@pytest.mark.parametrize(
    ("fixture", "model"),
    [
        ("ses_send.json", SendEvent),
        ("ses_delivery.json", DeliveryEvent),
        ("ses_bounce.json", BounceEvent),
        ("ses_complaint.json", ComplaintEvent),
        ("ses_reject.json", RejectEvent),
        ("ses_open.json", OpenEvent),
        ("ses_click.json", ClickEvent),
        ("ses_rendering_failure.json", RenderingFailureEvent),
        ("ses_delivery_delay.json", DeliveryDelayEvent),
        ("ses_subscription.json", SubscriptionEvent),
    ],
)
def test_each_published_event_type_parses_to_its_model(
    fixture: str, model: type[SesEventBase]
) -> None:
    event = parse_ses_event(fixture_text(fixture))

    assert type(event) is model
    assert event.campaign_id == "summer-sale-2025"
    assert event.segment_id == "vip-customers"
    assert event.message_id == "0100019a7e3c21d4-5b6f0c2e-8d41-4a7b-9f13-2c6e8a0d4b71-000000"
    assert event.recipients == [RECIPIENT]
    assert event.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("fixture", "model"),
    [
        ("ses_notification_bounce.json", BounceNotification),
        ("ses_notification_complaint.json", ComplaintNotification),
        ("ses_notification_delivery.json", DeliveryNotification),
    ],
)
def test_each_identity_notification_parses_to_its_model(
    fixture: str, model: type[SesEventBase]
) -> None:
    event = parse_ses_event(fixture_text(fixture).encode())

    assert type(event) is model
    assert event.recipients == [RECIPIENT]
    # Identity notifications carry no tags, so they cannot be tied to a campaign.
    assert event.campaign_id is None
    assert event.mail.caller_identity == "ems-sender"


def test_every_event_type_has_a_fixture() -> None:
    published = {fixture_json(path.name).get("eventType") for path in EVENTS.glob("ses_*.json")}

    assert EVENT_TYPES - {"RenderingFailure"} == published - {None}


def test_bounce_details() -> None:
    event = parse_ses_event(fixture_text("ses_bounce.json"))

    assert isinstance(event, BounceEvent)
    assert isinstance(event, BounceRecord)
    assert event.bounce.bounce_type == "Permanent"
    assert event.bounce.is_permanent
    assert event.bounce.bounce_sub_type == "General"
    recipient = event.bounce.bounced_recipients[0]
    assert (recipient.email_address, recipient.status) == (RECIPIENT, "5.1.1")
    assert recipient.diagnostic_code is not None
    assert recipient.diagnostic_code.startswith("smtp; 550")
    assert event.bounce.reporting_mta == "dns; a7-12.smtp-out.eu-west-1.amazonses.com"
    assert event.occurred_at == datetime(2025, 7, 1, 9, 0, 4, 377000, tzinfo=UTC)


def test_transient_bounce_notification_is_not_permanent() -> None:
    event = parse_ses_event(fixture_text("ses_notification_bounce.json"))

    assert isinstance(event, BounceRecord)
    assert not event.bounce.is_permanent
    assert event.bounce.bounce_sub_type == "MailboxFull"


def test_complaint_details() -> None:
    event = parse_ses_event(fixture_text("ses_complaint.json"))

    assert isinstance(event, ComplaintEvent)
    assert event.complaint.complaint_feedback_type == "abuse"
    assert event.complaint.complaint_sub_type is None
    assert event.complaint.arrival_date == datetime(2025, 7, 1, 9, 0, 4, tzinfo=UTC)


def test_click_details() -> None:
    event = parse_ses_event(fixture_text("ses_click.json"))

    assert isinstance(event, ClickEvent)
    assert event.click.link == "https://shop.example.com/summer?utm_campaign=summer-sale-2025"
    assert event.click.link_tags == {"linkName": ["hero-banner"]}


def test_rendering_failure_details() -> None:
    event = parse_ses_event(fixture_text("ses_rendering_failure.json"))

    assert isinstance(event, RenderingFailureEvent)
    assert event.event_type == "Rendering Failure"
    assert event.failure.template_name == "summer-sale-2025-vip-customers"
    assert "'fname'" in event.failure.error_message
    assert event.mail.headers == []
    assert event.mail.common_headers is None


def test_rendering_failure_spelt_without_a_space_is_accepted() -> None:
    document = fixture_json("ses_rendering_failure.json")
    document["eventType"] = "RenderingFailure"

    assert isinstance(parse_ses_event(json.dumps(document)), RenderingFailureEvent)


def test_delivery_delay_details() -> None:
    event = parse_ses_event(fixture_text("ses_delivery_delay.json"))

    assert isinstance(event, DeliveryDelayEvent)
    assert event.delivery_delay.delay_type == "MailboxFull"
    assert event.delivery_delay.expiration_time == datetime(
        2025, 7, 1, 21, 0, 2, 118000, tzinfo=UTC
    )
    assert event.delivery_delay.delayed_recipients[0].status == "4.2.2"


def test_subscription_details() -> None:
    event = parse_ses_event(fixture_text("ses_subscription.json"))

    assert isinstance(event, SubscriptionEvent)
    assert event.subscription.new_topic_preferences.unsubscribe_all
    assert event.subscription.old_topic_preferences is not None
    assert not event.subscription.old_topic_preferences.unsubscribe_all
    status = event.subscription.new_topic_preferences.topic_subscription_status[0]
    assert (status.topic_name, status.subscription_status) == ("offers", "OptOut")


def test_delivery_details() -> None:
    event = parse_ses_event(fixture_text("ses_delivery.json"))

    assert isinstance(event, DeliveryEvent)
    assert event.delivery.processing_time_millis == 1786
    assert event.delivery.remote_mta_ip == "203.0.113.27"


def test_fields_aws_adds_later_do_not_break_parsing() -> None:
    # Given an event with fields no model knows, at every level
    document = fixture_json("ses_bounce.json")
    document["eventId"] = "new-top-level-field"
    document["mail"]["newMailField"] = {"nested": True}
    document["bounce"]["newBounceField"] = 1
    document["bounce"]["bouncedRecipients"][0]["newRecipientField"] = "x"

    # When it is parsed, Then it parses as before
    event = parse_ses_event(json.dumps(document))

    assert isinstance(event, BounceEvent)
    assert event.recipients == [RECIPIENT]


def test_the_union_is_usable_as_a_pydantic_type() -> None:
    adapter: TypeAdapter[SesEvent] = TypeAdapter(SesEvent)

    event = adapter.validate_json(fixture_text("ses_open.json"))

    assert isinstance(event, OpenEvent)


def test_campaign_file_tags_come_back_on_the_event() -> None:
    # Given the tags a campaign file line sends with, as SES copies them into mail.tags
    line = CampaignFileLine.for_recipient(
        from_email_address="news@mail.example.com",
        to_address=RECIPIENT,
        template_name="t",
        template_data={},
        campaign_id="cmp-1",
        segment_id="seg-1",
        configuration_set_name="ems-campaigns",
    )
    document = fixture_json("ses_delivery.json")
    document["mail"]["tags"] = {tag.name: [tag.value] for tag in line.email_tags}

    # When the event is parsed
    event = parse_ses_event(json.dumps(document))

    # Then the event names the line's campaign and segment
    assert (event.campaign_id, event.segment_id) == (line.campaign_id, line.segment_id)


def _bounce_with(change: dict[str, Any]) -> str:
    document = fixture_json("ses_bounce.json")
    document["bounce"].update(change)
    return json.dumps(document)


def _without_message_id() -> str:
    document = fixture_json("ses_open.json")
    del document["mail"]["messageId"]
    return json.dumps(document)


@pytest.mark.parametrize(
    ("message", "error", "reason", "paths"),
    [
        pytest.param("", MalformedEventError, "not valid JSON", [], id="empty body"),
        pytest.param(
            "{'eventType': 'Open'}", MalformedEventError, "not valid JSON", [], id="not JSON"
        ),
        pytest.param("[1, 2]", MalformedEventError, "must be a JSON object", [], id="JSON array"),
        pytest.param(
            json.dumps({"Type": "Notification", "Message": "{}", "TopicArn": "arn:aws:sns:x"}),
            MalformedEventError,
            "pass its Message field",
            [],
            id="whole SNS envelope",
        ),
        pytest.param(
            json.dumps({"mail": {}}),
            MalformedEventError,
            "neither eventType",
            [],
            id="no type at all",
        ),
        pytest.param(
            json.dumps({"eventType": "Unsubscribe", "mail": {}}),
            UnknownEventTypeError,
            "unknown SES eventType 'Unsubscribe'",
            [],
            id="unknown event type",
        ),
        pytest.param(
            json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded"}),
            UnknownEventTypeError,
            "expected one of Bounce, Complaint, Delivery",
            [],
            id="unknown notification type",
        ),
        pytest.param(
            json.dumps({"eventType": ["Open"]}),
            UnknownEventTypeError,
            "unknown SES eventType ['Open']",
            [],
            id="event type not a string",
        ),
        pytest.param(
            _without_message_id(),
            MalformedEventError,
            "SES eventType 'Open' is malformed",
            ["$.mail.messageId"],
            id="mail without messageId",
        ),
        pytest.param(
            _bounce_with({"bounceType": "Soft"}),
            MalformedEventError,
            "SES eventType 'Bounce' is malformed",
            ["$.bounce.bounceType"],
            id="bounce type outside the documented three",
        ),
        pytest.param(
            json.dumps({"eventType": "Open", "mail": {"messageId": "m"}}),
            MalformedEventError,
            "is malformed",
            [
                "$.mail.timestamp",
                "$.mail.source",
                "$.mail.sendingAccountId",
                "$.mail.destination",
                "$.open",
            ],
            id="every missing field is listed",
        ),
    ],
)
def test_malformed_event_is_refused_with_the_reason(
    message: str, error: type[MalformedEventError], reason: str, paths: list[str]
) -> None:
    with pytest.raises(error) as caught:
        parse_ses_event(message)

    assert reason in str(caught.value)
    assert [problem["path"] for problem in caught.value.problems] == paths
