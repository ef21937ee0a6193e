"""Transactional email against the local stack: through the API, the transactional lane and the
tracker, checked where a user would look (LocalStack's /_aws/ses, GET /emails/{id}, metrics).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.dal.suppressions import SuppressionList
from ems_common.settings import InfraSettings
from ems_common.suppressions import ALL, Suppression, SuppressionReason
from tests.e2e.test_sender import _outbox
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

HTML = "<p>Hello {{fname}}, your order {{order}} ships {{#if when}}{{when}}{{/if}}</p>"


@pytest.fixture(scope="module")
def template(api: httpx.Client) -> str:
    """A fresh template, registered through the API (and so in SES)."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "subject": "Order {{order}}", "html": HTML, "text": "Order {{order}}"}
    response = api.post("/templates", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["fields"] == {"required": ["fname", "order"], "conditional": ["when"]}
    return name


def _address(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def _received(localstack_url: str, template: str) -> dict[str, list[dict[str, Any]]]:
    """Every email sent with `template` (SES name ems-tx-<name>), by recipient."""
    found: dict[str, list[dict[str, Any]]] = {}
    for message in _outbox(localstack_url):
        if message.get("Template") == f"ems-tx-{template}":
            for address in message["Destination"]["ToAddresses"]:
                found.setdefault(address, []).append(message)
    return found


@pytest.fixture(scope="module")
def suppressions(aws: AwsClients, settings: InfraSettings) -> SuppressionList:
    """The suppression list, to suppress an address as the tracker does on a hard bounce
    (LocalStack's SES never publishes one)."""
    return SuppressionList(aws.client("dynamodb"), settings.suppressions_table)


def _email(api: httpx.Client, email_id: str) -> dict[str, Any]:
    response = api.get(f"/emails/{email_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_single_email_arrives_with_its_data_and_shows_its_status(
    api: httpx.Client, template: str, localstack_url: str
) -> None:
    to = _address("single")
    data = {"fname": "Ann", "order": "A-17", "when": "today"}
    response = api.post(
        "/emails", json={"to": to, "template": template, "data": data, "tags": {"kind": "order"}}
    )
    assert response.status_code == 202, response.text
    email_id = response.json()["email_id"]

    messages = eventually(
        lambda: _received(localstack_url, template).get(to),
        deadline_s=60,
        what=f"the email to {to} at /_aws/ses",
        interval_s=0.5,
    )
    assert len(messages) == 1
    assert json.loads(messages[0]["TemplateData"]) == data

    delivered = eventually(
        lambda: (e := _email(api, email_id))["status"] == "DELIVERED" and e,
        deadline_s=60,
        what=f"{email_id} DELIVERED",
        interval_s=0.5,
    )
    assert delivered["to"] == to
    assert delivered["template"] == template
    send = next(e for e in delivered["events"] if e["event_type"] == "Send")
    assert send["event"]["mail"]["tags"]["emailId"] == [email_id]
    assert send["event"]["mail"]["tags"]["kind"] == ["order"]


def test_a_bulk_request_sends_each_accepted_recipient_once_and_lists_the_rejected(
    api: httpx.Client, template: str, localstack_url: str, suppressions: SuppressionList
) -> None:
    suppressed = _address("suppressed")
    suppressions.add(
        Suppression(
            address=suppressed, scope=ALL, reason=SuppressionReason.HARD_BOUNCE, source="e2e"
        )
    )
    good = [_address(f"bulk{i}") for i in range(30)]
    recipients: list[dict[str, Any]] = [
        {"to": address, "data": {"fname": f"F{i}", "order": f"B-{i}"}}
        for i, address in enumerate(good)
    ]
    recipients += [
        {"to": "not an address", "data": {"fname": "x", "order": "x"}},
        {"to": suppressed, "data": {"fname": "x", "order": "x"}},
        {"to": _address("nofields"), "data": {"fname": "x"}},
        {"to": good[0].upper(), "data": {"fname": "x", "order": "x"}},
    ]
    response = api.post("/emails/bulk", json={"template": template, "recipients": recipients})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (30, 4)
    assert [(r["index"], r["reason"]) for r in answer["rejections"]] == [
        (30, "invalid_address"),
        (31, "suppressed"),
        (32, "missing_fields"),
        (33, "duplicate"),
    ]

    def all_arrived() -> dict[str, list[dict[str, Any]]] | None:
        received = _received(localstack_url, template)
        return received if all(address in received for address in good) else None

    received = eventually(all_arrived, deadline_s=90, what="30 bulk emails", interval_s=1)
    assert Counter(len(received[a]) for a in good) == Counter({1: 30})
    for i, address in enumerate(good):
        assert json.loads(received[address][0]["TemplateData"]) == recipients[i]["data"]
    assert suppressed not in received

    last = answer["emails"][-1]["email_id"]
    eventually(
        lambda: _email(api, last)["status"] in {"SENT", "DELIVERED"},
        deadline_s=60,
        what=f"{last} sent",
        interval_s=0.5,
    )


def test_a_retried_request_with_the_same_idempotency_key_sends_once(
    api: httpx.Client, template: str, localstack_url: str
) -> None:
    to = _address("retry")
    body = {"to": to, "template": template, "data": {"fname": "R", "order": "R-1"}}
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = api.post("/emails", json=body, headers=key)
    second = api.post("/emails", json=body, headers=key)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    eventually(
        lambda: _received(localstack_url, template).get(to),
        deadline_s=60,
        what=f"the email to {to}",
        interval_s=0.5,
    )
    third = api.post("/emails", json=body, headers=key)
    assert third.json() == first.json()
    other = api.post("/emails", json={**body, "to": _address("other")}, headers=key)
    assert other.status_code == 409
    eventually(
        lambda: _email(api, first.json()["email_id"])["status"] == "DELIVERED",
        deadline_s=60,
        what="the retried email DELIVERED",
        interval_s=0.5,
    )
    assert len(_received(localstack_url, template)[to]) == 1


@pytest.mark.parametrize(
    ("to", "reason"),
    [("no-at-sign.example.com", "invalid_address"), ("suppressed", "suppressed")],
)
def test_a_recipient_who_cannot_be_sent_to_is_rejected_with_the_reason(
    api: httpx.Client, template: str, suppressions: SuppressionList, to: str, reason: str
) -> None:
    if to == "suppressed":
        to = _address("gone")
        suppressions.add(
            Suppression(address=to, scope=ALL, reason=SuppressionReason.MANUAL, source="e2e")
        )
    response = api.post(
        "/emails", json={"to": to, "template": template, "data": {"fname": "x", "order": "y"}}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == reason
    assert response.json()["problems"][0]["path"] == "$.to"


def test_template_metrics_count_the_emails_sent_with_it(api: httpx.Client, template: str) -> None:
    recipients = [
        {"to": _address(f"metrics{i}"), "data": {"fname": "M", "order": f"M-{i}"}} for i in range(3)
    ]
    sent = api.post("/emails/bulk", json={"template": template, "recipients": recipients})
    assert sent.status_code == 202, sent.text
    ids = [email["email_id"] for email in sent.json()["emails"]]
    eventually(
        lambda: all(_email(api, i)["status"] == "DELIVERED" for i in ids),
        deadline_s=90,
        what="3 emails DELIVERED",
        interval_s=1,
    )

    def settled() -> dict[str, Any] | None:
        metrics: dict[str, Any] = api.get(f"/templates/{template}/metrics").json()
        return metrics if metrics["sent"] == metrics["delivered"] >= 3 else None

    metrics = eventually(settled, deadline_s=60, what=f"{template} metrics", interval_s=1)
    assert metrics["total"] == metrics["sent"] + metrics["failed"] + metrics["suppressed"]
    assert metrics["finished"] == metrics["sent"]
    assert sum(day["sent"] for day in metrics["days"]) == metrics["sent"]
