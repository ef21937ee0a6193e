"""Whole-stack smoke test: Terraform applied to the local stack, used through its outputs only.

Given the stack `make up` brings up, each test exercises one piece of the architecture the way
the services will: S3, the send queue's DLQ, SES with the configuration set and its events
through Firehose -> S3 -> SQS, DynamoDB, and the EventBridge rule.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest

from ems_common import keys
from ems_common.aws import AwsClients
from ems_common.formats import CampaignFileLine
from ems_common.settings import InfraSettings
from ems_devstack.ses_events import EventObjectsTap, publish_events
from ems_devstack.stack import LocalStackStack
from ems_devstack.terraform import Terraform
from ems_tracker.ses_events import DeliveryEvent, SendEvent, SesEventBase, parse_ses_event
from tests.e2e.waiting import collect_from_queue, eventually

pytestmark = pytest.mark.e2e


def test_every_setting_the_code_reads_is_a_terraform_output(
    local_stack: LocalStackStack,
) -> None:
    # Given the applied local environment
    outputs = Terraform(local_stack.config).outputs()
    # When its service_settings are compared with the settings model the services use
    service_settings = outputs["service_settings"]
    assert isinstance(service_settings, dict)
    terraform_keys = set(service_settings)
    fields = InfraSettings.model_fields
    required = {name for name, field in fields.items() if field.is_required()}
    # Then every required setting comes from Terraform, and Terraform sets nothing unknown
    assert required <= terraform_keys, f"missing from Terraform: {required - terraform_keys}"
    assert terraform_keys <= set(fields), f"unknown to the code: {terraform_keys - set(fields)}"


def test_assets_bucket_stores_and_returns_an_encrypted_object(
    aws: AwsClients, settings: InfraSettings
) -> None:
    s3 = aws.client("s3")
    key = f"smoke/{uuid.uuid4()}.html"
    s3.put_object(Bucket=settings.assets_bucket, Key=key, Body=b"<p>Hello {{name}}</p>")

    got = s3.get_object(Bucket=settings.assets_bucket, Key=key)

    assert got["Body"].read() == b"<p>Hello {{name}}</p>"
    assert got.get("ServerSideEncryption") in {"AES256", "aws:kms"}


def test_poison_message_lands_in_the_send_dlq_after_max_receive_count(
    aws: AwsClients, settings: InfraSettings, senders_stopped: None
) -> None:
    sqs = aws.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=settings.send_queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    max_receive_count = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
    marker = f"poison-{uuid.uuid4()}"
    sqs.send_message(QueueUrl=settings.send_queue_url, MessageBody=json.dumps({"poison": marker}))

    # When a consumer keeps receiving it and never deletes it (a message it cannot handle)
    receives = 0

    def received_again() -> bool:
        nonlocal receives
        response = sqs.receive_message(
            QueueUrl=settings.send_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            WaitTimeSeconds=1,
        )
        receives += sum(marker in m["Body"] for m in response.get("Messages", []))
        return receives >= max_receive_count

    eventually(received_again, deadline_s=30, what="receiving the poison message")

    # Then the next receive finds it gone: SQS moved it to the DLQ, body intact
    def moved() -> bool:
        response = sqs.receive_message(
            QueueUrl=settings.send_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return not any(marker in m["Body"] for m in response.get("Messages", []))

    eventually(moved, deadline_s=30, what="the poison message leaving the send queue")
    collect_from_queue(
        sqs,
        settings.send_dlq_url,
        lambda payload: isinstance(payload, dict) and payload.get("poison") == marker,
        want=1,
        deadline_s=30,
        what="the poison message in the send DLQ",
    )
    assert receives == max_receive_count


def test_the_events_stream_writes_to_the_bucket_that_notifies_the_tracker_queue(
    aws: AwsClients, settings: InfraSettings, events_tap: EventObjectsTap
) -> None:
    sqs = aws.client("sqs")
    tracker_arn = sqs.get_queue_attributes(
        QueueUrl=settings.tracker_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    # The events bucket tells the tracker's queue of each new object under the events prefix
    notification = aws.client("s3").get_bucket_notification_configuration(
        Bucket=settings.ses_events_bucket
    )
    (queue,) = notification["QueueConfigurations"]
    assert queue["QueueArn"] == tracker_arn
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    rules = queue["Filter"]["Key"]["FilterRules"]
    assert {(r["Name"].lower(), r["Value"]) for r in rules} == {
        ("prefix", settings.ses_events_prefix)
    }

    # And what is put into the stream lands there as newline-delimited JSON
    marker = str(uuid.uuid4())
    publish_events(aws.client("firehose"), settings.ses_events_stream, [{"smoke": marker}] * 2)
    (found,) = {
        key
        for key, _ in events_tap.collect_by_object(
            lambda doc: isinstance(doc, dict) and doc.get("smoke") == marker,
            want=2,
            deadline_s=30,
            what="the published records in the events bucket",
        )
    }
    assert found.startswith(settings.ses_events_prefix)
    record = json.dumps({"smoke": marker}, separators=(",", ":"))
    assert events_tap.read(found).splitlines() == [record, record]


def test_templated_email_goes_out_and_its_events_reach_the_events_bucket(
    aws: AwsClients, settings: InfraSettings, localstack_url: str, events_tap: EventObjectsTap
) -> None:
    ses = aws.client("ses")
    template = f"smoke-{uuid.uuid4().hex[:12]}"
    ses.create_template(
        Template={
            "TemplateName": template,
            "SubjectPart": "Hello {{name}}",
            "HtmlPart": "<p>Hello {{name}}</p>",
            "TextPart": "Hello {{name}}",
        }
    )
    # When a campaign-file line is sent the way the sender sends it: as SES v2 SendEmail
    line = CampaignFileLine.for_recipient(
        from_email_address=settings.default_from,
        to_address="ada@example.org",
        template_name=template,
        template_data={"name": "Ada"},
        campaign_id="smoke",
        segment_id="s1",
        configuration_set_name=settings.configuration_set_name,
    )
    sesv2 = aws.client("sesv2")
    message_id = sesv2.send_email(**line.send_email_request())["MessageId"]

    # Then LocalStack's mailbox holds it, with our template and data
    def sent() -> dict[str, Any] | None:
        with urllib.request.urlopen(f"{localstack_url}/_aws/ses", timeout=5) as response:
            messages = json.loads(response.read())["messages"]
        return next((m for m in messages if m["Id"] == message_id), None)

    mail = eventually(sent, deadline_s=15, what=f"message {message_id} at /_aws/ses")
    assert mail["Source"] == settings.default_from
    assert mail["Template"] == template
    assert json.loads(mail["TemplateData"]) == {"name": "Ada"}
    assert mail["Destination"]["ToAddresses"] == ["ada@example.org"]

    # And the configuration set published its Send and Delivery events through the stream to the
    # events bucket, in a form the event models parse, carrying EMS's tags
    payloads = events_tap.collect(
        lambda payload: (
            isinstance(payload, dict) and payload.get("mail", {}).get("messageId") == message_id
        ),
        want=2,
        deadline_s=30,
        what=f"Send and Delivery events of {message_id}",
    )
    events = [parse_ses_event(json.dumps(payload)) for payload in payloads]
    assert {type(event) for event in events} == {SendEvent, DeliveryEvent}
    assert all(isinstance(event, SesEventBase) for event in events)
    assert {(event.campaign_id, event.segment_id) for event in events} == {("smoke", "s1")}


def _key_schema(description: dict[str, Any]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in description["KeySchema"]}


def test_tables_have_the_keys_and_indexes_the_code_uses(
    aws: AwsClients, settings: InfraSettings
) -> None:
    dynamodb = aws.client("dynamodb")
    with_sort_key = [
        settings.campaigns_table,
        settings.emails_table,
        settings.events_table,
        settings.suppressions_table,  # address, scope
    ]
    hash_only = [settings.rate_limits_table]
    for table in with_sort_key + hash_only:
        description = dynamodb.describe_table(TableName=table)["Table"]
        expected = {"HASH": keys.PARTITION_KEY}
        if table in with_sort_key:
            expected["RANGE"] = keys.SORT_KEY
        assert _key_schema(description) == expected, table  # type: ignore[arg-type]

    indexes = {
        (settings.campaigns_table, settings.campaigns_status_index): {
            "HASH": keys.CAMPAIGN_STATUS,
            "RANGE": keys.CAMPAIGN_SCHEDULED_AT,
        },
        (settings.emails_table, settings.emails_message_id_index): {
            "HASH": keys.EMAIL_SES_MESSAGE_ID
        },
    }
    for (table, index), expected in indexes.items():
        description = dynamodb.describe_table(TableName=table)["Table"]
        by_name = {i["IndexName"]: i for i in description.get("GlobalSecondaryIndexes", [])}
        assert index in by_name, f"{table} has no index {index}"
        assert _key_schema(by_name[index]) == expected  # type: ignore[arg-type]
        if index == settings.emails_message_id_index:
            # Keys only: an index holding the whole record would double the cost of the
            # tracker's update of every event (docs/tracking.md, "What an event costs")
            assert by_name[index]["Projection"]["ProjectionType"] == "KEYS_ONLY"

    tables_with_ttl = (
        settings.campaigns_table,  # rejected recipients' details expire
        settings.emails_table,
        settings.events_table,
        settings.rate_limits_table,
    )
    for table in tables_with_ttl:
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == keys.TTL_ATTRIBUTE, table


def test_dynamodb_writes_and_reads_an_item(aws: AwsClients, settings: InfraSettings) -> None:
    dynamodb = aws.client("dynamodb")
    # An item of its own kind (not a campaign record), so services never mistake it for one
    campaign_id = f"smoke-{uuid.uuid4()}"
    item = {
        keys.PARTITION_KEY: {"S": campaign_id},
        keys.SORT_KEY: {"S": "SMOKE"},
        keys.CAMPAIGN_STATUS: {"S": "SMOKE"},
        keys.CAMPAIGN_SCHEDULED_AT: {"S": "2030-01-01T00:00:00+00:00"},
    }
    dynamodb.put_item(TableName=settings.campaigns_table, Item=item)

    got = dynamodb.get_item(
        TableName=settings.campaigns_table,
        Key={keys.PARTITION_KEY: {"S": campaign_id}, keys.SORT_KEY: {"S": "SMOKE"}},
        ConsistentRead=True,
    )
    by_status = dynamodb.query(
        TableName=settings.campaigns_table,
        IndexName=settings.campaigns_status_index,
        KeyConditionExpression="#s = :s AND #d <= :d",
        ExpressionAttributeNames={"#s": keys.CAMPAIGN_STATUS, "#d": keys.CAMPAIGN_SCHEDULED_AT},
        ExpressionAttributeValues={":s": {"S": "SMOKE"}, ":d": {"S": "2030-01-01T00:00:01"}},
    )
    dynamodb.delete_item(
        TableName=settings.campaigns_table,
        Key={keys.PARTITION_KEY: {"S": campaign_id}, keys.SORT_KEY: {"S": "SMOKE"}},
    )

    assert got["Item"] == item
    assert item in by_status["Items"]


def test_launcher_rule_fires_on_its_schedule(aws: AwsClients, settings: InfraSettings) -> None:
    rule = aws.client("events").describe_rule(Name=settings.launcher_rule_name)
    assert rule["State"] == "ENABLED"
    assert settings.launcher_ticks_queue_url, "the local environment targets a ticks queue"

    # A rate(1 minute) rule: the first firing can take a full minute after apply.
    ticks = collect_from_queue(
        aws.client("sqs"),
        settings.launcher_ticks_queue_url,
        lambda payload: isinstance(payload, dict) and rule["Arn"] in payload.get("resources", []),
        want=1,
        deadline_s=150,
        what=f"a firing of rule {settings.launcher_rule_name}",
    )
    assert ticks[0]["detail-type"] == "Scheduled Event"
