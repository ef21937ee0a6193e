"""Transactional email: templates, sends, idempotency and reading back, over in-memory adapters.

The service and the routes are the code under test; only the AWS adapters are fakes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from ems_common.dal.metrics import CampaignNumbers
from ems_common.formats.send_batch import SendBatch
from ems_common.formats.tags import CAMPAIGN_ID_TAG, EMAIL_ID_TAG, SEGMENT_ID_TAG
from ems_common.suppressions import Suppression
from ems_common.transactional import EMAILS_PER_QUEUE_MESSAGE, MAX_BULK_RECIPIENTS, EmailId
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.template_source import TemplateNotFoundError
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys, UnsubscribeLinks
from ems_scheduler.tracking.reads import EventHistory
from ems_scheduler.transactional.models import SendAnswer, TemplateRecord
from ems_scheduler.transactional.request_store import Remembered, StoredRequest
from ems_scheduler.transactional.service import (
    TransactionalAdapters,
    TransactionalDefaults,
    TransactionalService,
)
from ems_scheduler.transactional.template_records import TemplateExistsError
from ems_scheduler.wiring import create_app
from tests.support.suppressions import InMemorySuppressions
from tests.unit.scheduler.conftest import API_KEY

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
AUTH = {"X-Api-Key": API_KEY}
RECEIPT = {
    "name": "receipt",
    "subject": "Your order {{order}}",
    "html": "<p>Hi {{fname}}, {{#if note}}{{note}}{{/if}}</p>",
    "text": "Hi {{fname}}",
}


class FakeTemplates:
    def __init__(self) -> None:
        self.records: dict[str, TemplateRecord] = {}

    def create(self, record: TemplateRecord) -> None:
        if record.name in self.records:
            raise TemplateExistsError(record.name)
        self.records[record.name] = record

    def put(self, record: TemplateRecord) -> None:
        self.records[record.name] = record

    def get(self, name: str) -> TemplateRecord | None:
        return self.records.get(name)

    def delete(self, name: str) -> bool:
        return self.records.pop(name, None) is not None

    def page(self, *, limit: int, start: str | None) -> tuple[list[TemplateRecord], str | None]:
        names = sorted(name for name in self.records if start is None or name > start)
        window = names[:limit]
        return [self.records[n] for n in window], (window[-1] if len(names) > limit else None)


class FakeSes:
    def __init__(self) -> None:
        self.templates: dict[str, tuple[str, str, str | None]] = {}
        self.fail = False

    def put(self, name: str, *, subject: str, html: str, text: str | None = None) -> None:
        if self.fail:
            raise RuntimeError("SES is down")
        self.templates[name] = (subject, html, text)

    def get(self, name: str) -> tuple[str, str, str | None] | None:
        return self.templates.get(name)

    def delete(self, name: str) -> None:
        self.templates.pop(name, None)

    def render(self, name: str, data: str) -> str:
        self.rendered = (name, json.loads(data))
        subject, html, _ = self.templates[name]
        return f"Subject: {subject}\n\n{html}"


class FakeObjects:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def read_template(self, uri: str, limit: int) -> bytes:
        if uri not in self.objects:
            raise TemplateNotFoundError(uri)
        return self.objects[uri][: limit + 1]


class FakeRequests:
    def __init__(self) -> None:
        self.requests: dict[str, SendAnswer] = {}
        self.keys: dict[str, Remembered] = {}

    def put_request(self, answer: SendAnswer) -> None:
        self.requests[answer.request_id] = answer

    def get_request(self, request_id: str) -> StoredRequest | None:
        answer = self.requests.get(request_id)
        if answer is None:
            return None
        addresses = {email.index: email.to for email in answer.emails}
        return StoredRequest(request_id, answer.template, addresses)

    def remember(self, key: str, digest: str, status: int, answer: SendAnswer) -> Remembered | None:
        if key in self.keys:
            return self.keys[key]
        self.keys[key] = Remembered(digest, status, answer, queued=False)
        return None

    def recall(self, key: str) -> Remembered | None:
        return self.keys.get(key)

    def mark_queued(self, key: str) -> None:
        prior = self.keys[key]
        self.keys[key] = Remembered(prior.digest, prior.status, prior.answer, queued=True)


class FakeQueue:
    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []

    def send(self, bodies: Sequence[bytes]) -> None:
        assert len(bodies) <= 10, "SQS takes at most 10 entries a call"
        self.calls.append(list(bodies))

    @property
    def batches(self) -> list[SendBatch]:
        return [SendBatch.from_body(body) for call in self.calls for body in call]

    @property
    def lines(self) -> list[Any]:
        return [email for batch in self.batches for email in batch.emails]


class FakeReads:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.numbers = CampaignNumbers()
        self.metrics_asked: list[str] = []

    def metrics(self, campaign_id: str) -> CampaignNumbers:
        self.metrics_asked.append(campaign_id)
        return self.numbers

    def email(self, campaign_id: str, address: str) -> dict[str, Any] | None:
        return self.records.get((campaign_id, address))

    def events(self, campaign_id: str, address: str, *, limit: int = 100) -> EventHistory:
        return EventHistory(events=[], older_left_out=False)

    def timeline(self, campaign_id: str, *, since: Any) -> tuple[list[Any], bool]:
        return [], False


DEFAULTS = TransactionalDefaults(
    default_from="EMS <noreply@mail.example.com>",
    configuration_set="ems-local",
    template_buckets=frozenset({"assets"}),
)


class World:
    def __init__(self, defaults: TransactionalDefaults = DEFAULTS) -> None:
        self.templates = FakeTemplates()
        self.ses = FakeSes()
        self.objects = FakeObjects()
        self.suppressions = InMemorySuppressions("gone@example.com")
        self.requests = FakeRequests()
        self.queue = FakeQueue()
        self.reads = FakeReads()
        adapters = TransactionalAdapters(
            templates=self.templates,
            ses_templates=self.ses,
            objects=self.objects,
            suppressions=self.suppressions,
            requests=self.requests,
            queue=self.queue,
            unsubscribe_links=lambda public_url: UnsubscribeLinks(
                UnsubscribeKeys({1: b"k" * 32}, 1), base_url=public_url, max_age_days=400
            ),
        )
        self.service = TransactionalService(
            defaults,
            lambda: adapters,
            clock=lambda: NOW,
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    app = create_app(
        settings.model_copy(update={"max_request_bytes": 1_000_000}),
        object(),  # type: ignore[arg-type]
        tracking=world.reads,
        transactional=world.service,
    )
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def receipt(client: FlaskClient) -> dict[str, Any]:
    response = client.post("/templates", json=RECEIPT, headers=AUTH)
    assert response.status_code == 201, response.json
    return dict(response.json or {})


# --- templates --------------------------------------------------------------------------------


def test_a_template_is_stored_in_ses_with_its_fields(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    assert receipt["fields"] == {"required": ["fname", "order"], "conditional": ["note"]}
    assert receipt["ses_template_name"] == "ems-tx-receipt"
    assert world.ses.templates["ems-tx-receipt"] == (
        RECEIPT["subject"],
        RECEIPT["html"],
        RECEIPT["text"],
    )
    shown = client.get("/templates/receipt", headers=AUTH).json or {}
    assert (shown["html"], shown["text"], shown["has_text"]) == (
        RECEIPT["html"],
        RECEIPT["text"],
        True,
    )
    listed = client.get("/templates", headers=AUTH).json or {}
    assert [t["name"] for t in listed["templates"]] == ["receipt"]


def test_a_preview_is_what_ses_renders_of_the_stored_template_with_the_data(
    world: World, receipt: dict[str, Any]
) -> None:
    mime = world.service.preview_template("receipt", {"fname": "Ann", "order": "A-1"})

    assert world.ses.rendered == ("ems-tx-receipt", {"fname": "Ann", "order": "A-1"})
    assert mime.startswith(f"Subject: {RECEIPT['subject']}")


def test_a_second_post_of_the_name_is_a_conflict_and_put_replaces(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    again = client.post("/templates", json=RECEIPT, headers=AUTH)
    assert again.status_code == 409
    assert "PUT" in (again.json or {})["message"]
    body = {"subject": "Order {{order}}", "html": "<p>{{total}}</p>"}
    replaced = client.put("/templates/receipt", json=body, headers=AUTH)
    assert replaced.status_code == 200
    assert (replaced.json or {})["fields"]["required"] == ["order", "total"]
    assert (replaced.json or {})["created_at"] == receipt["created_at"]
    created = client.put("/templates/fresh", json=body, headers=AUTH)
    assert created.status_code == 201


def test_a_template_ses_cannot_render_is_refused_with_its_line(client: FlaskClient) -> None:
    body = {**RECEIPT, "html": "<p>\n{{#if x}}never closed</p>", "subject": "Hi {{"}
    response = client.post("/templates", json=body, headers=AUTH)
    assert response.status_code == 400
    problems = {p["path"]: p["message"] for p in (response.json or {})["problems"]}
    assert set(problems) == {"$.subject", "$.html"}
    assert "line 2" in problems["$.html"] or "line 1" in problems["$.html"]


def test_template_body_problems_are_listed_by_path(client: FlaskClient) -> None:
    body = {"name": "bad name!", "subject": "a\nb", "html": "x", "htmlS3Uri": "s3://assets/t"}
    response = client.post("/templates", json=body, headers=AUTH)
    assert response.status_code == 400
    paths = {p["path"] for p in (response.json or {})["problems"]}
    assert {"$.name", "$.subject"} <= paths
    both = {**RECEIPT, "htmlS3Uri": "s3://assets/t"}
    response = client.post("/templates", json=both, headers=AUTH)
    assert response.status_code == 400
    assert "exactly one" in (response.json or {})["problems"][0]["message"]


def test_html_from_s3_must_be_in_an_allowed_bucket_and_exist(
    client: FlaskClient, world: World
) -> None:
    body = {"name": "t", "subject": "s", "htmlS3Uri": "s3://elsewhere/t.html"}
    refused = client.post("/templates", json=body, headers=AUTH)
    assert refused.status_code == 400
    assert (refused.json or {})["problems"][0]["path"] == "$.htmlS3Uri"
    missing = client.post(
        "/templates", json={**body, "htmlS3Uri": "s3://assets/t.html"}, headers=AUTH
    )
    assert "does not exist" in (missing.json or {})["problems"][0]["message"]
    world.objects.objects["s3://assets/t.html"] = b"<p>{{x}}</p>"
    made = client.post("/templates", json={**body, "htmlS3Uri": "s3://assets/t.html"}, headers=AUTH)
    assert made.status_code == 201
    assert world.ses.templates["ems-tx-t"][1] == "<p>{{x}}</p>"


def test_a_template_ses_refuses_leaves_no_record(world: World) -> None:
    from ems_scheduler.transactional.models import TemplateBody  # noqa: PLC0415

    world.ses.fail = True
    with pytest.raises(RuntimeError):
        world.service.create_template(TemplateBody.model_validate(RECEIPT))
    assert world.templates.records == {}


def test_deleting_a_template_removes_it_from_ses(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    assert client.delete("/templates/receipt", headers=AUTH).status_code == 204
    assert world.ses.templates == {}
    assert client.delete("/templates/receipt", headers=AUTH).status_code == 404
    assert client.get("/templates/receipt", headers=AUTH).status_code == 404


def test_template_metrics_read_the_template_partition_per_day(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    from collections import Counter  # noqa: PLC0415

    day = Counter({"sent": 3, "delivered": 2, "failed": 1, "finished": 3})
    world.reads.numbers = CampaignNumbers(total=Counter(day), segments={"2026-11-23": day})
    response = client.get("/templates/receipt/metrics", headers=AUTH)
    assert response.status_code == 200
    body = response.json or {}
    assert world.reads.metrics_asked == ["template#receipt"]
    assert (body["total"], body["sent"], body["delivered"], body["failed"]) == (4, 3, 2, 1)
    assert [d["day"] for d in body["days"]] == ["2026-11-23"]
    assert client.get("/templates/nope/metrics", headers=AUTH).status_code == 404


# --- sending ----------------------------------------------------------------------------------


def test_one_email_is_queued_on_the_transactional_lane(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    body = {
        "to": "Ann@Example.com",
        "template": "receipt",
        "data": {"fname": "Ann", "order": "A-1", "items": [{"sku": 1}]},
        "tags": {"kind": "receipt"},
    }
    response = client.post("/emails", json=body, headers=AUTH)
    assert response.status_code == 202, response.json
    answer = response.json or {}
    assert answer["status"] == "QUEUED"
    parsed = EmailId.parse(answer["email_id"])
    assert parsed is not None
    assert (parsed.day.isoformat(), parsed.index) == ("2026-11-23", 0)
    [batch] = world.queue.batches
    assert batch.campaign_id == "transactional"
    [line] = batch.emails
    assert line.to_address == "Ann@example.com"
    assert line.content.template.template_name == "ems-tx-receipt"
    assert orjson.loads(line.content.template.template_data) == body["data"]
    assert line.from_email_address == "EMS <noreply@mail.example.com>"
    assert line.configuration_set_name == "ems-local"
    assert line.tag(CAMPAIGN_ID_TAG) == "transactional"
    assert line.tag(SEGMENT_ID_TAG) == "receipt"
    assert line.tag(EMAIL_ID_TAG) == answer["email_id"] == line.record_scope
    assert line.tag("kind") == "receipt"


def test_an_email_carries_the_headers_it_was_sent_with(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    body = {
        "to": "ann@example.com",
        "template": "receipt",
        "data": {"fname": "Ann", "order": "A-1"},
        "headers": {"X-Entity-Ref-ID": "order-A-1"},
    }
    assert client.post("/emails", json=body, headers=AUTH).status_code == 202
    [batch] = world.queue.batches
    [line] = batch.emails
    # The line is the SES v2 SendEmail request: the header goes to SES with the email
    assert line.send_email_request()["Content"]["Template"]["Headers"] == [
        {"Name": "X-Entity-Ref-ID", "Value": "order-A-1"}
    ]


def test_a_header_ses_would_refuse_is_a_400_by_path(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/emails",
        json={"to": "a@example.com", "template": "receipt", "headers": {"Bad Name": "x"}},
        headers=AUTH,
    )
    assert response.status_code == 400
    [problem] = (response.json or {})["problems"]
    assert problem["path"].startswith('$.headers["Bad Name"]')
    assert "is no header name SES accepts" in problem["message"]
    assert world.queue.calls == []


@pytest.mark.parametrize(
    ("to", "data", "kind", "path"),
    [
        ("not-an-address", {"fname": "A", "order": "1"}, "invalid_address", "$.to"),
        ("GONE@example.com", {"fname": "A", "order": "1"}, "suppressed", "$.to"),
        ("ann@example.com", {"fname": "A"}, "missing_fields", "$.data"),
    ],
)
def test_a_recipient_who_cannot_be_sent_to_is_a_400_with_the_reason(
    client: FlaskClient,
    world: World,
    receipt: dict[str, Any],
    to: str,
    data: dict[str, str],
    kind: str,
    path: str,
) -> None:
    response = client.post(
        "/emails", json={"to": to, "template": "receipt", "data": data}, headers=AUTH
    )
    assert response.status_code == 400
    body = response.json or {}
    assert body["error"] == kind
    assert [p["path"] for p in body["problems"]] == [path]
    assert world.queue.calls == []


def test_an_unknown_template_or_bad_body_is_a_400_by_path(client: FlaskClient) -> None:
    unknown = client.post("/emails", json={"to": "a@example.com", "template": "nope"}, headers=AUTH)
    assert unknown.status_code == 400
    assert (unknown.json or {})["problems"][0]["path"] == "$.template"
    bad = client.post(
        "/emails/bulk",
        json={
            "template": "x",
            "recipients": [{"to": "a@example.com"}, 7],
            "tags": {"emailId": "x"},
        },
        headers=AUTH,
    )
    assert bad.status_code == 400
    paths = {p["path"] for p in (bad.json or {})["problems"]}
    assert "$.recipients[1]" in paths
    assert "$.tags" in paths


def test_bulk_lists_rejections_and_queues_the_rest_in_small_messages(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    good = [
        {"to": f"r{i}@example.com", "data": {"fname": "R", "order": str(i)}} for i in range(120)
    ]
    recipients = [
        *good[:2],
        {"to": "bad@@example.com", "data": {"fname": "x", "order": "1"}},
        {"to": "R1@example.com", "data": {"fname": "x", "order": "1"}},
        {"to": "gone@example.com", "data": {"fname": "x", "order": "1"}},
        {"to": "nofields@example.com"},
        *good[2:],
    ]
    response = client.post(
        "/emails/bulk", json={"template": "receipt", "recipients": recipients}, headers=AUTH
    )
    assert response.status_code == 202
    body = response.json or {}
    assert (body["accepted"], body["rejected"]) == (120, 4)
    assert [(r["index"], r["reason"]) for r in body["rejections"]] == [
        (2, "invalid_address"),
        (3, "duplicate"),
        (4, "suppressed"),
        (5, "missing_fields"),
    ]
    assert [len(b.emails) for b in world.queue.batches] == [EMAILS_PER_QUEUE_MESSAGE] * 2 + [20]
    queued = [line.record_scope for line in world.queue.lines]
    assert queued == [email["email_id"] for email in body["emails"]]
    assert len(set(queued)) == 120


def test_bulk_with_no_sendable_recipient_is_a_400_listing_each(
    client: FlaskClient, receipt: dict[str, Any]
) -> None:
    body = {"template": "receipt", "recipients": [{"to": "x"}, {"to": "gone@example.com"}]}
    response = client.post("/emails/bulk", json=body, headers=AUTH)
    assert response.status_code == 400
    problems = (response.json or {})["problems"]
    assert [p["path"] for p in problems] == ["$.recipients[0].to", "$.recipients[1].to"]
    assert problems[1]["message"].startswith("suppressed:")


def test_bulk_is_bounded(client: FlaskClient) -> None:
    recipients = [{"to": f"r{i}@example.com"} for i in range(MAX_BULK_RECIPIENTS + 1)]
    response = client.post(
        "/emails/bulk", json={"template": "receipt", "recipients": recipients}, headers=AUTH
    )
    assert response.status_code in {400, 413}


# --- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_answer_and_queues_nothing(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    body = {"to": "ann@example.com", "template": "receipt", "data": {"fname": "A", "order": "1"}}
    headers = {**AUTH, "Idempotency-Key": "order-1"}
    first = client.post("/emails", json=body, headers=headers)
    again = client.post("/emails", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(world.queue.lines) == 1
    other = client.post("/emails", json={**body, "to": "bob@example.com"}, headers=headers)
    assert other.status_code == 409
    assert (other.json or {})["error"] == "idempotency_key_reused"


def test_a_retry_after_a_failure_mid_request_queues_the_same_ids_again(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    body = {"to": "ann@example.com", "template": "receipt", "data": {"fname": "A", "order": "1"}}
    headers = {**AUTH, "Idempotency-Key": "order-2"}
    broken = world.queue.send

    def fail(bodies: Sequence[bytes]) -> None:
        raise RuntimeError("SQS is down")

    world.queue.send = fail  # type: ignore[method-assign]
    assert client.post("/emails", json=body, headers=headers).status_code == 500
    world.queue.send = broken  # type: ignore[method-assign]
    retried = client.post("/emails", json=body, headers=headers)
    assert retried.status_code == 202
    [line] = world.queue.lines
    assert line.record_scope == (retried.json or {})["email_id"]
    assert world.requests.keys["order-2"].queued
    client.post("/emails", json=body, headers=headers)
    assert len(world.queue.lines) == 1


def test_a_malformed_idempotency_key_is_a_400(client: FlaskClient) -> None:
    response = client.post(
        "/emails",
        json={"to": "a@example.com", "template": "receipt"},
        headers={**AUTH, "Idempotency-Key": "has space"},
    )
    assert response.status_code == 400
    assert (response.json or {})["problems"][0]["path"] == "header Idempotency-Key"


# --- reading ----------------------------------------------------------------------------------


def test_an_email_is_queued_until_its_record_exists_then_shows_its_status(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    body = {"to": "ann@example.com", "template": "receipt", "data": {"fname": "A", "order": "1"}}
    email_id = (client.post("/emails", json=body, headers=AUTH).json or {})["email_id"]
    queued = client.get(f"/emails/{email_id}", headers=AUTH).json or {}
    assert (queued["status"], queued["to"], queued["template"]) == (
        "QUEUED",
        "ann@example.com",
        "receipt",
    )
    world.reads.records[(email_id, "ann@example.com")] = {
        "state": "SENT",
        "sent_at": "2026-11-23T09:30:01.000Z",
        "delivered_at": "2026-11-23T09:30:02.000Z",
    }
    assert (client.get(f"/emails/{email_id}", headers=AUTH).json or {})["status"] == "DELIVERED"


@pytest.mark.parametrize("email_id", ["nope", "tx-20261123-000000000000-0", "tx-20261399-abc-1"])
def test_an_unknown_email_is_a_404(client: FlaskClient, email_id: str) -> None:
    response = client.get(f"/emails/{email_id}", headers=AUTH)
    assert response.status_code == 404
    assert (response.json or {})["error"] == "not_found"


def test_the_routes_need_the_key(client: FlaskClient) -> None:
    assert client.get("/templates").status_code == 401
    assert client.post("/emails", json={}).status_code == 401


NOTICE = {
    "name": "notices",
    "subject": "News for {{fname}}",
    "html": "<p>Hi {{fname}}</p><a href='{{unsubscribe_url}}'>unsubscribe</a>",
    "marketing": True,
}


def test_a_marketing_template_sends_list_mail_with_one_click_unsubscribe(
    client: FlaskClient, world: World
) -> None:
    created = client.post("/templates", json=NOTICE, headers=AUTH)
    assert created.status_code == 201, created.json
    # {{unsubscribe_url}} is EMS's to fill: not a field the caller must send
    assert (created.json or {})["fields"]["required"] == ["fname"]
    assert (created.json or {})["marketing"] is True

    response = client.post(
        "/emails",
        json={"to": "ann@example.com", "template": "notices", "data": {"fname": "Ann"}},
        headers={**AUTH, "X-Forwarded-Proto": "https", "Host": "mail-api.example.com"},
    )
    assert response.status_code == 202, response.json
    [batch] = world.queue.batches
    [line] = batch.emails
    headers = dict(line.headers)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert link.startswith("https://mail-api.example.com/u/")
    assert orjson.loads(line.content.template.template_data)["unsubscribe_url"] == link


def test_a_marketing_template_is_not_sent_to_who_left_its_list_a_receipt_is(
    client: FlaskClient, world: World, receipt: dict[str, Any]
) -> None:
    assert client.post("/templates", json=NOTICE, headers=AUTH).status_code == 201
    world.suppressions.add(
        Suppression(address="ann@example.com", scope="list:notices", reason="unsubscribe")
    )
    notice = client.post(
        "/emails",
        json={"to": "ann@example.com", "template": "notices", "data": {"fname": "Ann"}},
        headers=AUTH,
    )
    assert notice.status_code == 400
    assert (notice.json or {})["error"] == "unsubscribed"
    receipt_sent = client.post(
        "/emails",
        json={"to": "ann@example.com", "template": "receipt", "data": {"fname": "A", "order": "1"}},
        headers=AUTH,
    )
    assert receipt_sent.status_code == 202


def test_a_from_off_the_sender_domain_or_an_unknown_configuration_set_is_a_400_by_path(
    settings: SchedulerSettings,
) -> None:
    # Given a deployment that sends from mail.example.com through its own configuration sets
    world = World(
        dataclasses.replace(
            DEFAULTS, sender_domain="mail.example.com", configuration_sets=frozenset({"ems-tx"})
        )
    )
    app = create_app(settings, object(), transactional=world.service)  # type: ignore[arg-type]
    with app.test_client() as client:
        assert client.post("/templates", json=RECEIPT, headers=AUTH).status_code == 201
        data = {"fname": "Ann", "order": "A-1"}
        body = {"to": "a@example.com", "template": "receipt", "data": data}

        # When a request names another domain's sender and a set EMS does not track
        refused = client.post(
            "/emails",
            json={**body, "from": "shop@elsewhere.example", "configuration_set": "other"},
            headers=AUTH,
        )
        # Then it is a 400 naming both, and nothing is queued
        assert refused.status_code == 400
        problems = {p["path"]: p["message"] for p in (refused.json or {})["problems"]}
        assert "not on the sender domain mail.example.com" in problems["$.from"]
        assert "ems-local, ems-tx" in problems["$.configuration_set"]
        assert world.queue.batches == []

        # And the deployment's own are accepted
        accepted = client.post(
            "/emails",
            json={**body, "from": "Shop <shop@mail.example.com>", "configuration_set": "ems-tx"},
            headers=AUTH,
        )
        assert accepted.status_code == 202, accepted.json
