"""The sender against the local stack: what really went out, read at LocalStack's /_aws/ses.

`make up` runs sender workers on both lanes; campaigns launched by the background launcher
are sent by them. Tests that need a message in a given state enqueue it themselves.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.campaign_files import part_key
from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.formats import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.settings import InfraSettings
from ems_devstack.ses_outbox import sent_emails
from ems_launcher.logic.packing import pack_messages
from ems_launcher.settings import LauncherSettings
from tests.e2e.waiting import eventually, take_dead_letter

pytestmark = pytest.mark.e2e

TEMPLATE = "<html><head><title>Hi {{name}}</title></head><body>Hi {{name}}, {{code}}</body></html>"


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/send-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE.encode())
    return f"s3://{settings.assets_bucket}/{key}"


@pytest.fixture
def repo(aws: AwsClients, settings: InfraSettings) -> CampaignRepository:
    return CampaignRepository(
        aws.client("dynamodb"), settings.campaigns_table, settings.campaigns_status_index
    )


def _outbox(localstack_url: str) -> list[dict[str, Any]]:
    """Everything LocalStack's SES sent."""
    return sent_emails(localstack_url)


def _sent_to(localstack_url: str, templates: set[str]) -> Counter[str]:
    """How many emails each address got with one of `templates`."""
    return Counter(
        address
        for message in _outbox(localstack_url)
        if message.get("Template") in templates
        for address in message["Destination"]["ToAddresses"]
    )


def _create(
    api: httpx.Client, template_uri: str, recipients: int, seconds_ahead: float
) -> dict[str, Any]:
    response = api.post(
        "/campaigns",
        json={
            "date": (datetime.now(UTC) + timedelta(seconds=seconds_ahead)).isoformat(),
            "templateS3Uri": template_uri,
            "segments": [
                {
                    "list_name": "all",
                    "recipients": [
                        {
                            "to_address": f"r{i}-{uuid.uuid4().hex[:6]}@example.org",
                            "name": f"N{i}",
                            "code": f"C{i}",
                        }
                        for i in range(recipients)
                    ],
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_campaign_sends_one_email_per_accepted_recipient_with_its_data(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    localstack_url: str,
) -> None:
    created = _create(api, template_uri, recipients=2000, seconds_ahead=3)
    campaign_id = created["campaign_id"]
    templates = {segment["template_name"] for segment in created["segments"]}

    def all_sent() -> Counter[str] | None:
        counts = _sent_to(localstack_url, templates)
        return counts if sum(counts.values()) >= 2000 else None

    sent = eventually(
        all_sent, deadline_s=300, what=f"2,000 emails of {campaign_id} at /_aws/ses", interval_s=3
    )

    assert len(sent) == 2000
    assert max(sent.values()) == 1
    # Each recipient got its own data
    lines = (
        aws.client("s3")
        .get_object(Bucket=settings.campaigns_bucket, Key=part_key(campaign_id, 1))["Body"]
        .read()
        .splitlines()
    )
    expected = {
        CampaignFileLine.from_json_line(line).to_address: json.loads(
            CampaignFileLine.from_json_line(line).content.template.template_data
        )
        for line in lines
    }
    for message in _outbox(localstack_url):
        if message.get("Template") in templates:
            (address,) = message["Destination"]["ToAddresses"]
            if address in expected:
                assert json.loads(message["TemplateData"]) == expected[address]


def test_the_same_messages_delivered_twice_send_nothing_twice(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    localstack_url: str,
) -> None:
    created = _create(api, template_uri, recipients=300, seconds_ahead=3)
    campaign_id = created["campaign_id"]
    templates = {segment["template_name"] for segment in created["segments"]}
    eventually(
        lambda: sum(_sent_to(localstack_url, templates).values()) >= 300,
        deadline_s=120,
        what="the first sending",
        interval_s=2,
    )

    # When each of the launcher's messages is delivered again, twice (packed as it packs them)
    lines = (
        aws.client("s3")
        .get_object(Bucket=settings.campaigns_bucket, Key=part_key(campaign_id, 1))["Body"]
        .read()
        .splitlines()
    )
    packing = LauncherSettings()
    messages = list(
        pack_messages(
            campaign_id,
            1,
            lines,
            start_line=0,
            emails_per_message=packing.emails_per_message,
            max_bytes=packing.message_max_bytes,
        )
    )
    assert len(messages) > 1
    sqs = aws.client("sqs")
    for message in messages * 2:
        sqs.send_message(QueueUrl=settings.send_queue_url, MessageBody=message.body.decode())
    # ... and a message of all its emails at once, which is no batch the launcher makes
    not_a_batch = SendBatch(
        campaign_id=campaign_id,
        part=1,
        first_line=0,
        emails=[CampaignFileLine.from_json_line(line) for line in lines],
    ).model_dump_json(by_alias=True)
    sqs.send_message(QueueUrl=settings.send_queue_url, MessageBody=not_a_batch)

    # Then the queue drains (nothing waiting, nothing being handled) and nobody got a second
    # email; the message that is not a launcher batch is on the DLQ, saying why
    def drained() -> bool:
        counts = sqs.get_queue_attributes(
            QueueUrl=settings.send_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(count) for count in counts.values()) == 0

    eventually(drained, deadline_s=60, what="the send queue drained")
    sent = _sent_to(localstack_url, templates)
    assert len(sent) == 300
    assert max(sent.values()) == 1
    _, reason = take_dead_letter(
        sqs, settings.send_dlq_url, campaign_id, what="the message that is not a launcher batch"
    )
    assert reason.startswith(
        f"not a launcher batch: the record of part 1 line 0 has {messages[0].count} emails,"
        f" this message says {len(lines)}"
    )


def test_a_template_ses_lacks_pauses_the_campaign_with_the_reason_and_resume_sends_the_rest(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    repo: CampaignRepository,
    localstack_url: str,
) -> None:
    # Given a sending campaign whose batch holds one email with a template SES does not have
    campaign_id = f"perm-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    repo.create(
        Campaign(
            campaign_id=campaign_id,
            status=CampaignStatus.SENDING,
            scheduled_at=now,
            created_at=now,
            updated_at=now,
            request_hash="t",
        )
    )
    template = f"perm-{uuid.uuid4().hex[:8]}"
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    ses = aws.client("ses")
    ses.create_template(
        Template={"TemplateName": template, "SubjectPart": "Hi", "HtmlPart": "<p>{{name}}</p>"}
    )

    def line(address: str, template_name: str) -> CampaignFileLine:
        return CampaignFileLine.for_recipient(
            from_email_address=settings.default_from,
            to_address=address,
            template_name=template_name,
            template_data={"name": "X"},
            campaign_id=campaign_id,
            segment_id="s",
            configuration_set_name=settings.configuration_set_name,
        )

    batch = SendBatch(
        campaign_id=campaign_id,
        part=1,
        first_line=0,
        emails=[
            line("ok1@example.org", template),
            line("broken@example.org", missing),
            line("ok2@example.org", template),
        ],
    )
    aws.client("sqs").send_message(
        QueueUrl=settings.send_queue_url, MessageBody=batch.model_dump_json(by_alias=True)
    )

    # Then the campaign is PAUSED with SES's answer, instead of failing every such email
    def paused() -> Campaign | None:
        campaign = repo.require(campaign_id)
        return campaign if campaign.status is CampaignStatus.PAUSED else None

    campaign = eventually(paused, deadline_s=60, what="the campaign PAUSED by SES's answer")
    assert campaign.pause is not None
    assert campaign.pause.by == "ses"
    assert f"NotFoundException: Template {missing} does not exist" in campaign.pause.reason
    assert set(_sent_to(localstack_url, {template, missing})) == {"ok1@example.org"}
    numbers = CampaignMetrics(aws.client("dynamodb"), settings.campaigns_table).read(campaign_id)
    assert numbers.total["failed"] == 0

    # When the template is made and the campaign resumed, the held emails go out once each
    ses.create_template(
        Template={"TemplateName": missing, "SubjectPart": "Hi", "HtmlPart": "<p>{{name}}</p>"}
    )
    assert api.post(f"/campaigns/{campaign_id}/resume").status_code == 200

    def all_sent() -> Counter[str] | None:
        counts = _sent_to(localstack_url, {template, missing})
        return counts if len(counts) == 3 else None

    sent = eventually(all_sent, deadline_s=60, what="the held emails after the resume")
    assert sent == Counter({"ok1@example.org": 1, "broken@example.org": 1, "ok2@example.org": 1})


def test_a_message_that_is_not_a_batch_goes_to_the_dlq_with_its_reason(
    aws: AwsClients, settings: InfraSettings
) -> None:
    marker = uuid.uuid4().hex
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=settings.send_queue_url, MessageBody=json.dumps({"junk": marker}))

    _, reason = take_dead_letter(
        sqs, settings.send_dlq_url, marker, what="the junk message in the send DLQ"
    )
    assert "not a send batch" in reason
