"""The console in a real browser (Playwright driving Debian's Chromium) against the local stack.

What is checked is what a person sees: signing in (and a wrong key refused), a sent campaign's
page showing the numbers `GET /campaigns/{id}/metrics` gives, pausing and resuming from the
page, a suppression added on the page keeping its address out of the next campaign, and a form
posted without its CSRF token refused. The campaign page's screenshot goes to
build/artifacts/console-campaign.png (`EMS_CONSOLE_SCREENSHOT` elsewhere): a test run leaves the
tree clean, and `make screenshot` refreshes the README's (docs/console-campaign.png) on purpose.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_scheduler.console.pages import RARE_METRICS
from tests.e2e.test_sender import TEMPLATE, _create
from tests.e2e.test_tracker import _addresses, _event, _publish, _recipient
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("EMS_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
# Where the campaign page's screenshot goes; `make screenshot` points it at docs/.
SCREENSHOT_VARIABLE = "EMS_CONSOLE_SCREENSHOT"
DEFAULT_SCREENSHOT = ROOT / "build" / "artifacts" / "console-campaign.png"
RECIPIENTS = 30
OPENED = 12
CLICKED = 4
METRIC_FIELDS = (
    "total",
    "sent",
    "delivered",
    "bounced",
    "bounced_hard",
    "bounced_soft",
    "complained",
    "opened",
    "clicked",
    "unsubscribed",
    "rejected",
    "failed",
    "suppressed",
    "rendering_failures",
    "delivery_delays",
    "ambiguous",
    "unconfirmed",
    "finished",
)


@pytest.fixture(scope="module")
def browser(local_stack: object) -> Iterator[Browser]:
    """Debian's Chromium (`make browser` installs it), headless."""
    path = shutil.which(CHROMIUM) or CHROMIUM
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def console_url(local_stack: object) -> str:
    return os.environ["EMS_API_URL"] + "/console"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile at desktop width."""
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    yield fresh
    fresh.close()


def _sign_in(page: Page, console_url: str, key: str) -> None:
    page.goto(f"{console_url}/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in(context: BrowserContext, console_url: str) -> Page:
    """A page of a browser signed in with the stack's API key."""
    page = context.new_page()
    _sign_in(page, console_url, os.environ["EMS_API_KEY"])
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    return page


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/console-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE.encode())
    return f"s3://{settings.assets_bucket}/{key}"


@pytest.fixture(scope="module")
def sent_campaign(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> str:
    """A campaign of two segments (two recipients rejected) sent by the stack's senders and
    tracked to COMPLETED, then opened and clicked by some (SES's events, published as SES
    would: LocalStack's SES makes only Send and Delivery)."""
    recipients = [
        {"to_address": f"r{i}-{uuid.uuid4().hex[:6]}@example.org", "name": f"N{i}", "code": str(i)}
        for i in range(RECIPIENTS)
    ]
    invalid = {"to_address": "not-an-address", "name": "X", "code": "0"}
    segments = [
        {"list_name": "customers", "recipients": [*recipients[:20], invalid]},
        {"list_name": "vip", "recipients": [*recipients[20:], recipients[0]]},  # a duplicate
    ]
    created = api.post(
        "/campaigns",
        json={
            "date": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
            "templateS3Uri": template_uri,
            "segments": segments,
        },
    )
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["campaign_id"]

    def completed() -> bool:
        return bool(api.get(f"/campaigns/{campaign_id}").json()["status"] == "COMPLETED")

    eventually(completed, deadline_s=240, what=f"{campaign_id} COMPLETED", interval_s=2)
    for index, recipient in enumerate(recipients[:OPENED]):
        email = api.get(f"/campaigns/{campaign_id}/recipients/{recipient['to_address']}").json()
        _publish(aws, settings, _event("open", email, seconds_later=60))
        if index < CLICKED:
            _publish(aws, settings, _event("click", email, seconds_later=120))

    def engaged() -> bool:
        metrics = api.get(f"/campaigns/{campaign_id}/metrics").json()
        return bool((metrics["opened"], metrics["clicked"]) == (OPENED, CLICKED))

    eventually(engaged, deadline_s=60, what=f"{campaign_id}'s opens and clicks", interval_s=1)
    return campaign_id


def _shown_metrics(page: Page) -> dict[str, dict[str, str]]:
    """The campaign page's numbers, by column (total, then each segment) and metric."""
    cells = page.locator("#metrics td[data-metric]")
    shown: dict[str, dict[str, str]] = {}
    for index in range(cells.count()):
        cell = cells.nth(index)
        column = str(cell.get_attribute("data-segment"))
        metric = str(cell.get_attribute("data-metric"))
        number = cell.inner_text().split()[0]
        shown.setdefault(column, {})[metric] = number
    return shown


def test_a_wrong_key_is_refused(context: BrowserContext, console_url: str) -> None:
    page = context.new_page()

    _sign_in(page, console_url, "not-the-key")

    expect(page.locator("#sign-in-problem")).to_have_text(
        "That is not the API key: check it and try again."
    )
    page.goto(f"{console_url}/campaigns")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))


def test_a_campaign_page_shows_the_apis_numbers_and_its_chart(
    signed_in: Page, api: httpx.Client, sent_campaign: str, console_url: str
) -> None:
    # Given a campaign sent in this test, whose timeline holds every Send
    def timeline_complete() -> dict[str, Any] | None:
        timeline: dict[str, Any] = api.get(f"/campaigns/{sent_campaign}/timeline").json()
        sums = tuple(
            sum(minute[name] for minute in timeline["minutes"])
            for name in ("sent", "delivered", "opened", "clicked")
        )
        return timeline if sums == (RECIPIENTS, RECIPIENTS, OPENED, CLICKED) else None

    eventually(timeline_complete, deadline_s=30, what="the timeline's sums")

    # When its page is opened from the campaign list
    page = signed_in
    page.goto(f"{console_url}/campaigns?status=COMPLETED")
    page.get_by_role("link", name=sent_campaign, exact=True).click()
    metrics = api.get(f"/campaigns/{sent_campaign}/metrics").json()

    # Then every number on it is the API's, in total and per segment (the rare rows, ambiguous
    # and unconfirmed, only where the campaign counts some: none here)
    expect(page.locator("#campaign-status")).to_have_text("COMPLETED")
    shown = _shown_metrics(page)
    fields = [f for f in METRIC_FIELDS if f not in RARE_METRICS or metrics[f]]
    assert set(METRIC_FIELDS) - set(fields) == RARE_METRICS
    assert shown["total"] == {field: str(metrics[field]) for field in fields}
    for segment in metrics["segments"]:
        assert shown[segment["segment_id"]] == {field: str(segment[field]) for field in fields}
    assert (shown["total"]["delivered"], shown["total"]["opened"]) == (
        str(RECIPIENTS),
        str(OPENED),
    )
    # the rejected recipients by reason, and their CSV
    expect(page.locator("#rejected-by-reason")).to_contain_text("invalid_address")
    expect(page.locator("#rejected-by-reason")).to_contain_text("duplicate")
    # and the chart was drawn (uPlot loaded past its integrity check, and ran)
    expect(page.locator("#chart canvas")).to_have_count(1)
    screenshot = Path(os.environ.get(SCREENSHOT_VARIABLE) or DEFAULT_SCREENSHOT)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)

    # And at a phone's width nothing but the tables' own boxes scrolls sideways
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_recipients_page_shows_its_times_and_counts_as_the_api_does(
    signed_in: Page,
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    sent_campaign: str,
    console_url: str,
) -> None:
    # Given a recipient of the sent campaign who opened and clicked (SES's Send, Delivery, Open
    # and Click are kept only as times and counts on the record: docs/tracking.md)
    emails = [
        _recipient(api, sent_campaign, a)
        for a in _addresses(sent_campaign, aws, settings.emails_table)
    ]
    email = next(e for e in emails if e["clicks"])

    # When it is looked up from the campaign's page
    page = signed_in
    page.goto(f"{console_url}/campaigns/{sent_campaign}")
    page.get_by_label("Recipient's address").fill(email["address"])
    page.get_by_role("button", name="Show the email").click()

    # Then the page says what the API says: the status, each time and the counts
    expect(page.locator("#recipient-status")).to_have_text(email["status"])
    facts = page.locator("#recipient")
    for label, field in (
        ("Sent", "sent_at"),
        ("Delivered", "delivered_at"),
        ("First opened", "opened_at"),
        ("First clicked", "clicked_at"),
    ):
        moment = datetime.fromisoformat(email[field]).astimezone(UTC)
        expect(facts.locator(f"dt:text-is('{label}') + dd")).to_have_text(
            moment.strftime("%Y-%m-%d %H:%M:%S UTC")
        )
    expect(page.locator("#recipient-opens")).to_have_text(str(email["opens"]))
    expect(page.locator("#recipient-clicks")).to_have_text(str(email["clicks"]))
    # and no raw event of those kinds was kept to list
    assert email["events"] == []
    expect(page.locator("#recipient-events")).to_have_text("None kept for this email.")


def test_pause_and_resume_from_the_page(
    signed_in: Page,
    api: httpx.Client,
    template_uri: str,
    console_url: str,
    senders_stopped: None,
) -> None:
    # Given a campaign the launcher has put in the queue, which no sender takes yet
    campaign_id: str = _create(api, template_uri, 5, seconds_ahead=1)["campaign_id"]

    def sending() -> bool:
        return bool(api.get(f"/campaigns/{campaign_id}").json()["status"] == "SENDING")

    eventually(sending, deadline_s=60, what=f"{campaign_id} SENDING", interval_s=1)
    page = signed_in
    page.goto(f"{console_url}/campaigns/{campaign_id}")
    expect(page.locator("#campaign-status")).to_have_text("SENDING")

    # When it is paused from its page, through the confirmation
    page.get_by_role("link", name="Pause…").click()
    page.get_by_role("button", name="Yes, pause it").click()

    # Then the page and the API say PAUSED, with the reason
    expect(page.locator("#campaign-status")).to_have_text("PAUSED")
    expect(page.locator("#pause-reason")).to_contain_text("Paused by operator")
    assert api.get(f"/campaigns/{campaign_id}").json()["status"] == "PAUSED"

    # And resuming it from the page sends it on
    page.get_by_role("link", name="Resume…").click()
    page.get_by_role("button", name="Yes, resume it").click()
    expect(page.locator("#campaign-status")).to_have_text("SENDING")
    assert api.get(f"/campaigns/{campaign_id}").json()["status"] == "SENDING"
    assert api.post(f"/campaigns/{campaign_id}/cancel").status_code == 200


def test_a_suppression_added_on_the_page_blocks_the_next_campaign(
    signed_in: Page, api: httpx.Client, template_uri: str, console_url: str
) -> None:
    address = f"console-{uuid.uuid4().hex[:8]}@example.org"
    page = signed_in

    # When an address is suppressed on the suppressions page
    page.goto(f"{console_url}/suppressions")
    page.get_by_label("Addresses, one a line").fill(address)
    page.locator("#add-scope").select_option("campaigns")
    page.get_by_role("button", name="Suppress").click()
    expect(page.get_by_role("status")).to_contain_text("1 added")

    # Then the next campaign that names it leaves it out, saying why
    created = api.post(
        "/campaigns",
        json={
            "date": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "templateS3Uri": template_uri,
            "segments": [
                {
                    "list_name": "all",
                    "recipients": [
                        {"to_address": address, "name": "S", "code": "1"},
                        {"to_address": f"ok-{uuid.uuid4().hex[:6]}@example.org", "name": "O",
                         "code": "2"},
                    ],
                }
            ],
        },
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["rejected_by_reason"] == {"suppressed": 1}
    assert api.delete(f"/campaigns/{created.json()['campaign_id']}").status_code == 204

    # And lifting it on the page takes it off the list
    page.goto(f"{console_url}/suppressions?address={address}")
    page.get_by_text("Lift…").click()
    page.get_by_role("button", name="Yes, lift it").click()
    expect(page.get_by_role("status")).to_contain_text("Lifted")
    assert api.get(f"/suppressions/{address}").status_code == 404


def test_a_form_posted_without_its_csrf_token_is_refused(
    signed_in: Page, sent_campaign: str, console_url: str
) -> None:
    # The signed-in browser's cookie goes along; only the form's token is missing or wrong.
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf_token": "forged"}]
    for form in forms:
        response = signed_in.request.post(
            f"{console_url}/campaigns/{sent_campaign}/cancel", form=form
        )
        assert response.status == 400, response.text()
        assert "refused" in response.text()
    response = signed_in.request.post(f"{console_url}/suppressions", form={"addresses": "a@b.org"})
    assert response.status == 400


def test_a_candidate_uploaded_to_s3_is_verified_and_its_rejections_shown(
    signed_in: Page, api: httpx.Client, template_uri: str, console_url: str, tmp_path: Path
) -> None:
    # Given a candidate file with one sendable and one invalid recipient
    candidate = tmp_path / "candidate.json"
    candidate.write_text(
        json.dumps(
            {
                "date": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "templateS3Uri": template_uri,
                "segments": [
                    {
                        "list_name": "all",
                        "recipients": [
                            {"to_address": "ann@example.org", "name": "A", "code": "1"},
                            {"to_address": "not-an-address", "name": "B", "code": "2"},
                        ],
                    }
                ],
            }
        )
    )
    page = signed_in

    # When it is uploaded through the presigned form (straight to S3), which then verifies it
    page.goto(f"{console_url}/new")
    page.get_by_label("1. Candidate (JSON, up to 1 GB)").set_input_files(str(candidate))
    page.get_by_role("button", name="Upload to S3").click()

    # Then its page follows the verification to SCHEDULED and lists the rejected recipient
    page.wait_for_url(re.compile(r"/console/campaigns/[^/]+$"))
    expect(page.locator("#campaign-status")).to_have_text("SCHEDULED", timeout=60_000)
    page.reload()
    expect(page.locator("#rejected-by-reason")).to_contain_text("invalid_address")
    campaign_id = page.url.rsplit("/", 1)[-1]
    campaign = api.get(f"/campaigns/{campaign_id}").json()
    assert campaign["candidate_s3_uri"].startswith("s3://")
    assert campaign["recipients"] == {"accepted": 1, "rejected": 1}
    assert api.delete(f"/campaigns/{campaign_id}").status_code == 204


def test_pages_read_with_javascript_off(
    browser: Browser, sent_campaign: str, console_url: str
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, console_url, os.environ["EMS_API_KEY"])
    page.goto(f"{console_url}/campaigns/{sent_campaign}")

    expect(page.locator("#campaign-status")).to_have_text("COMPLETED")
    expect(page.locator("#metrics td[data-segment=total][data-metric=delivered]")).to_contain_text(
        str(RECIPIENTS)
    )
    page.get_by_text("The minutes as a table").click()
    expect(page.locator("#timeline")).to_be_visible()
    context.close()
