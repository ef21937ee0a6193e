"""The console around fakes of the API's services (the suppression list is the real service over
an in-memory table): a signed-in test client, and what it takes to post a form."""

from __future__ import annotations

import re
from collections import Counter
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
    SegmentSummary,
    utc_now,
)
from ems_common.dal.campaigns import CampaignNotFoundError, StatusConflictError
from ems_common.dal.metrics import CampaignNumbers
from ems_common.dal.timeline import TimelineMinute
from ems_common.timeline import Series
from ems_scheduler.campaigns.files import UploadForm
from ems_scheduler.campaigns.service import CreateOutcome
from ems_scheduler.dead_letters.queues import DeadLetter, RedriveTask
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.tracking.reads import EventHistory, RecordedEvent
from ems_scheduler.transactional.models import TemplateRecord
from ems_scheduler.transactional.service import TemplateNotFound
from ems_scheduler.wiring import create_app
from tests.support.suppressions import InMemorySuppressions
from tests.unit.scheduler.conftest import API_KEY

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
# Every campaign's first rejected recipients, kept apart from its record (as the service does).
REJECTIONS = [
    Rejection(segment="gold", to_address="not-an-address", reason="invalid_address"),
    Rejection(segment="silver", to_address="ann@example.com", reason="duplicate"),
]


def campaign(
    campaign_id: str, status: CampaignStatus, *, at: datetime = NOW, **extra: Any
) -> Campaign:
    """A compiled campaign of two segments (gold 80, silver 20), two rejected (their details
    kept until 30 days after `at`: `REJECTIONS`)."""
    extra.setdefault("rejections_expire_at", at + timedelta(days=30))
    return Campaign(
        campaign_id=campaign_id,
        status=status,
        scheduled_at=at,
        created_at=at,
        updated_at=at,
        request_hash="h",
        recipients=RecipientCounts(accepted=100, rejected=2),
        rejected_by_reason={"invalid_address": 1, "duplicate": 1},
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
        launched_at=at if status is not CampaignStatus.SCHEDULED else None,
        **extra,
    )


class FakeCampaigns:
    """Campaigns in a dict; changes follow the service's rules on status."""

    def __init__(self) -> None:
        self.campaigns = {
            "spring": campaign("spring", CampaignStatus.SENDING),
            "winter": campaign("winter", CampaignStatus.COMPLETED, at=NOW - timedelta(days=90)),
            "later": campaign("later", CampaignStatus.SCHEDULED, at=NOW + timedelta(days=30)),
        }
        self.created: list[bytes] = []
        self.rescheduled: list[str] = []

    def get(self, campaign_id: str) -> Campaign:
        if campaign_id not in self.campaigns:
            raise CampaignNotFoundError(campaign_id)
        return self.campaigns[campaign_id]

    def rejections_of(self, campaign: Campaign) -> list[Rejection]:
        # As the service: none once their expiry has passed (the store's TTL deletes them).
        expire_at = campaign.rejections_expire_at
        return list(REJECTIONS) if expire_at is not None and expire_at > utc_now() else []

    def list(
        self, *, status: CampaignStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        # By id, from the plain start key the API's page token sealed (as DynamoDB pages).
        after = start["pk"]["S"] if start else ""
        found = sorted(
            (c for c in self.campaigns.values() if status is None or c.status is status),
            key=lambda c: c.campaign_id,
        )
        found = [c for c in found if c.campaign_id > after]
        more = len(found) > limit
        return found[:limit], {"pk": {"S": found[limit - 1].campaign_id}} if more else None

    def pause(self, campaign_id: str) -> Campaign:
        current = self.get(campaign_id)
        if current.status not in PAUSABLE:
            raise StatusConflictError(current, PAUSABLE, "pause")
        current.status = CampaignStatus.PAUSED
        current.pause = Pause(by=PausedBy.OPERATOR, reason="paused by an operator", paused_at=NOW)
        return current

    def resume(self, campaign_id: str) -> Campaign:
        current = self.get(campaign_id)
        if current.status is not CampaignStatus.PAUSED:
            raise StatusConflictError(current, {CampaignStatus.PAUSED}, "resume")
        current.status, current.pause = CampaignStatus.SENDING, None
        return current

    def cancel(self, campaign_id: str) -> Campaign:
        current = self.get(campaign_id)
        current.status = CampaignStatus.CANCELLED
        return current

    def reschedule(self, campaign_id: str, date_text: str) -> Campaign:
        self.rescheduled.append(date_text)
        return self.get(campaign_id)

    def create(self, body: bytes, *, public_url: str) -> CreateOutcome:
        self.created.append(body)
        return CreateOutcome(self.campaigns["later"], 201)

    def upload_form(self, *, redirect: str) -> UploadForm:
        return UploadForm(
            url="https://assets.s3.amazonaws.com/",
            fields={"key": "candidates/x.json", "success_action_redirect": redirect},
            s3_uri="s3://assets/candidates/x.json",
        )


class FakeTracking:
    """Numbers and a timeline for spring; nothing for the others."""

    def __init__(self) -> None:
        gold = Counter(
            sent=78,
            delivered=70,
            bounced_hard=3,
            bounced_soft=2,
            complained=1,
            opened_unique=35,
            clicked_unique=7,
            finished=76,
        )
        silver = Counter(sent=1, finished=1)
        self.numbers = {
            "spring": CampaignNumbers(
                total=gold + silver, segments={"gold": gold, "silver": silver}
            )
        }
        self.minutes = {
            "spring": [
                TimelineMinute(NOW, {Series.SENT: 50, Series.DELIVERED: 40}),
                TimelineMinute(NOW + timedelta(minutes=2), {Series.SENT: 29, Series.OPENED: 3}),
            ]
        }
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        # The raw events the tracker kept (the rare kinds only: docs/tracking.md).
        self.kept: dict[tuple[str, str], list[RecordedEvent]] = {}

    def metrics(self, campaign_id: str) -> CampaignNumbers:
        return self.numbers.get(campaign_id, CampaignNumbers())

    def email(self, campaign_id: str, address: str) -> dict[str, Any] | None:
        return self.records.get((campaign_id, address.lower()))

    def events(self, campaign_id: str, address: str, *, limit: int = 100) -> EventHistory:
        kept = self.kept.get((campaign_id, address.lower()), [])
        return EventHistory(events=kept[-limit:], older_left_out=len(kept) > limit)

    def timeline(
        self, campaign_id: str, *, since: datetime | None
    ) -> tuple[list[TimelineMinute], bool]:
        return self.minutes.get(campaign_id, []), False


class FakeTransactional:
    """One template, `receipt`, rendered by a stand-in for SES."""

    def __init__(self) -> None:
        self.record = TemplateRecord(
            name="receipt",
            subject="Your receipt {{order}}",
            has_text=False,
            required_fields=["order"],
            conditional_fields=[],
            ses_template_name="ems-tx-receipt",
            size_bytes=100,
            created_at=NOW,
            updated_at=NOW,
        )

    def list_templates(self, *, limit: int, start: str | None) -> tuple[list[Any], str | None]:
        return [self.record], None

    def require_template(self, name: str) -> TemplateRecord:
        if name != "receipt":
            raise TemplateNotFound(name)
        return self.record

    def preview_template(self, name: str, data: dict[str, Any]) -> str:
        return (
            f"Subject: Your receipt {data.get('order')}\nMIME-Version: 1.0\n"
            "Content-Type: text/html; charset=UTF-8\n\n"
            f"<p>Order {data.get('order')}</p>\n"
        )


class FakeDeadLetters:
    """A send DLQ with one message."""

    def __init__(self) -> None:
        self.redriven: list[str] = []

    def queue_names(self) -> list[str]:
        return ["send", "tracker"]

    def counts(self) -> dict[str, int]:
        return {"send": 1, "tracker": 0}

    def peek(self, name: str, limit: int) -> list[DeadLetter]:
        letter = DeadLetter("m-1", NOW, 5, "SES refused: AccessDenied", '{"x": 1}', False)
        return [letter] if name == "send" else []

    def redrive(self, name: str) -> RedriveTask:
        self.redriven.append(name)
        return RedriveTask("handle", "arn:dlq", "arn:queue", 1)


class World:
    """The fakes behind one app."""

    def __init__(self) -> None:
        self.campaigns = FakeCampaigns()
        self.tracking = FakeTracking()
        self.suppression_table = InMemorySuppressions()
        self.transactional = FakeTransactional()
        self.dead_letters = FakeDeadLetters()


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def anonymous(world: World, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    """A browser that has not signed in."""
    app = create_app(
        settings,
        world.campaigns,  # type: ignore[arg-type]
        tracking=world.tracking,
        suppressions=SuppressionsService(lambda: world.suppression_table),
        transactional=world.transactional,  # type: ignore[arg-type]
        dead_letters=world.dead_letters,
    )
    with app.test_client() as client:
        yield client


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, key: str = API_KEY) -> Any:
    """Sign in as a person would: open the page, send the key with its form's token."""
    page = client.get("/console/sign-in").get_data(as_text=True)
    return client.post("/console/sign-in", data={"api_key": key, "csrf_token": csrf_of(page)})


@pytest.fixture
def console(anonymous: FlaskClient) -> FlaskClient:
    """A browser signed in to the console."""
    assert sign_in(anonymous).status_code == 303
    return anonymous
