"""Campaign safety on the local stack, checked at LocalStack's /_aws/ses: pause and resume,
cancel, the reputation brake, an SES account pause, a campaign whose events never come, and
one whose counters a stopped tracker left short.

Each test sends a campaign of a few hundred recipients (the local rate is 20 a second, so one
takes 20-30 s) and acts on it while it sends.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.campaigns import utc_now
from ems_common.dal.metrics import CampaignMetrics
from ems_common.formats.tags import CAMPAIGN_ID_TAG, SEGMENT_ID_TAG
from ems_common.metrics import Metric
from ems_common.settings import InfraSettings
from ems_devstack.services import TRACKER_NAME
from ems_devstack.stack import LocalStackStack
from ems_launcher.handlers.launch import build_reconciler
from ems_launcher.reconciler import Reconciled
from ems_launcher.settings import LauncherSettings
from ems_tracker.handlers.track import build_tracker
from ems_tracker.settings import TrackerSettings
from tests.e2e.test_sender import TEMPLATE, _create, _outbox, _sent_to
from tests.e2e.test_tracker import _event, _publish, _recipient
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

# A stop counts from this long after the request (the bound), and is then watched for
# this long more: no email may go out in that window.
STOP_WITHIN_S = 5.0
WATCH_S = 8.0


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/safety-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE.encode())
    return f"s3://{settings.assets_bucket}/{key}"


# A campaign still sending seconds after it starts: the local stack sends 200 emails a second.
SENDING = 4000


class Outbox:
    """What SES sent for one campaign, by recipient."""

    def __init__(self, localstack_url: str, campaign: dict[str, Any]) -> None:
        self.url = localstack_url
        self.templates = {segment["template_name"] for segment in campaign["segments"]}

    def counts(self) -> Counter[str]:
        return _sent_to(self.url, self.templates)

    def total(self) -> int:
        return sum(self.counts().values())

    def emails(self) -> list[dict[str, Any]]:
        """Each email SES took for the campaign: its address, message id and tags' values."""
        found = []
        for message in _outbox(self.url):
            if message.get("Template") not in self.templates:
                continue
            tags = {tag["Name"]: tag["Value"] for tag in message.get("Tags", [])}
            found.append(
                {
                    "address": message["Destination"]["ToAddresses"][0],
                    "ses_message_id": message["Id"],
                    "campaign_id": tags[CAMPAIGN_ID_TAG],
                    "segment_id": tags[SEGMENT_ID_TAG],
                }
            )
        return found

    def wait_for(self, n: int) -> int:
        return eventually(
            lambda: (t := self.total()) >= n and t, deadline_s=180, what=f"{n} emails sent"
        )

    def stops(self) -> tuple[int, int]:
        """Emails sent by `STOP_WITHIN_S` after now, and by `WATCH_S` after that: equal when the
        campaign stopped sending in time."""
        time.sleep(STOP_WITHIN_S)
        stopped_at = self.total()
        time.sleep(WATCH_S)
        return stopped_at, self.total()


def _campaign(api: httpx.Client, campaign_id: str) -> dict[str, Any]:
    response = api.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _metrics(api: httpx.Client, campaign_id: str) -> dict[str, Any]:
    response = api.get(f"/campaigns/{campaign_id}/metrics")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _status_is(api: httpx.Client, campaign_id: str, status: str) -> Callable[[], Any]:
    def probe() -> dict[str, Any] | None:
        campaign = _campaign(api, campaign_id)
        return campaign if campaign["status"] == status else None

    return probe


def _once_each(outbox: Outbox, recipients: int) -> None:
    counts = outbox.counts()
    assert len(counts) == recipients, f"{recipients - len(counts)} recipients got no email"
    assert max(counts.values()) == 1, f"sent twice: {[a for a, n in counts.items() if n > 1]}"


def test_pause_stops_sending_within_seconds_and_resume_sends_each_recipient_once(
    api: httpx.Client, template_uri: str, localstack_url: str
) -> None:
    # Given a campaign that is sending
    campaign = _create(api, template_uri, SENDING, seconds_ahead=10)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(40)

    # When its operator pauses it
    paused = api.post(f"/campaigns/{campaign_id}/pause")
    assert paused.status_code == 200, paused.text
    assert (paused.json()["status"], paused.json()["pause"]["by"]) == ("PAUSED", "operator")

    # Then no email goes out from 5 s on, nothing failed, and it says why it waits
    stopped_at, later = outbox.stops()
    assert later == stopped_at < SENDING
    assert _metrics(api, campaign_id)["failed"] == 0
    described = _campaign(api, campaign_id)
    assert described["status"] == "PAUSED"
    assert "resume" in described["pause"]["reason"]

    # And resumed, it finishes: every recipient got exactly one email
    resumed = api.post(f"/campaigns/{campaign_id}/resume")
    assert resumed.status_code == 200, resumed.text
    eventually(
        _status_is(api, campaign_id, "COMPLETED"), deadline_s=240, what="COMPLETED", interval_s=2
    )
    _once_each(outbox, SENDING)
    metrics = _metrics(api, campaign_id)
    assert (metrics["sent"], metrics["failed"], metrics["finished"]) == (SENDING, 0, SENDING)


def test_cancel_stops_sending_within_seconds(
    api: httpx.Client, template_uri: str, localstack_url: str
) -> None:
    campaign = _create(api, template_uri, SENDING, seconds_ahead=10)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(40)

    cancelled = api.post(f"/campaigns/{campaign_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text

    stopped_at, later = outbox.stops()
    assert later == stopped_at < SENDING
    assert max(outbox.counts().values()) == 1
    assert _campaign(api, campaign_id)["status"] == "CANCELLED"


def test_hard_bounces_over_the_limit_pause_the_campaign_with_the_reason(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    localstack_url: str,
) -> None:
    # Given a campaign that is sending (the local brake looks after 100 sent)
    campaign = _create(api, template_uri, 10 * SENDING // 4, seconds_ahead=20)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(150)

    # When hard bounces come back for every one sent so far: well over 5% of what it will have
    # sent when the tracker applies them, at the local rate
    bounced = outbox.emails()
    _publish(aws, settings, *(_event("bounce", email) for email in bounced))

    # Then the campaign pauses itself, saying which rate crossed which limit, and stops sending
    paused = eventually(
        _status_is(api, campaign_id, "PAUSED"), deadline_s=60, what="PAUSED by the brake"
    )
    assert paused["pause"]["by"] == "brake"
    assert "Hard-bounce rate" in paused["pause"]["reason"]
    assert "limit of 5.0%" in paused["pause"]["reason"]
    stopped_at, later = outbox.stops()
    assert later == stopped_at < 10 * SENDING // 4
    bounces = eventually(
        lambda: (n := _metrics(api, campaign_id)["bounced"]) == len(bounced) and n,
        deadline_s=30,
        what=f"{len(bounced)} bounces counted",
    )
    assert bounces == len(bounced)
    api.post(f"/campaigns/{campaign_id}/cancel")


@pytest.fixture
def ses_account_paused(aws: AwsClients) -> Iterator[Callable[[bool], None]]:
    """Turns SES's sending for the account off and on (SES v2 PutAccountSendingAttributes, as
    SES itself does under review); always back on after the test."""
    sesv2 = aws.client("sesv2")

    def pause(paused: bool) -> None:
        sesv2.put_account_sending_attributes(SendingEnabled=not paused)

    yield pause
    pause(False)


def test_an_ses_account_pause_holds_campaign_email_fails_none_and_goes_on_when_lifted(
    api: httpx.Client,
    template_uri: str,
    localstack_url: str,
    ses_account_paused: Callable[[bool], None],
) -> None:
    campaign = _create(api, template_uri, SENDING, seconds_ahead=10)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(40)

    # When SES pauses the account's sending
    ses_account_paused(True)

    # Then nothing goes out, no recipient is failed, and the campaign says why it waits
    stopped_at, later = outbox.stops()
    assert later == stopped_at < SENDING
    metrics = _metrics(api, campaign_id)
    assert metrics["failed"] == 0
    described = _campaign(api, campaign_id)
    assert described["status"] == "SENDING"  # no operator needed: it goes on by itself
    assert described["held"] is not None
    assert "SES" in described["held"]["reason"]

    # And when SES lifts it, every recipient gets exactly one email
    ses_account_paused(False)
    eventually(
        _status_is(api, campaign_id, "COMPLETED"), deadline_s=240, what="COMPLETED", interval_s=2
    )
    _once_each(outbox, SENDING)
    assert _metrics(api, campaign_id)["failed"] == 0


@pytest.fixture
def tracker_stopped(local_stack: LocalStackStack) -> Iterator[Callable[[], None]]:
    """The tracker off (no SES event reaches EMS) until the test starts it again."""
    local_stack.services.stop(TRACKER_NAME, grace_s=10)
    started = False

    def start() -> None:
        nonlocal started
        local_stack.services.start(TRACKER_NAME, dict(os.environ))
        started = True

    yield start
    if not started:
        start()


def test_a_campaign_whose_events_never_come_completes_with_them_counted_unconfirmed(
    api: httpx.Client, template_uri: str, localstack_url: str, tracker_stopped: Callable[[], None]
) -> None:
    # Given a campaign of 20 sent while no SES event reaches the tracker
    campaign = _create(api, template_uri, 20, seconds_ahead=5)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(20)
    assert _campaign(api, campaign_id)["status"] == "SENDING"

    # When the reconciler looks at it once its count has stood still past the settle time
    # (its clock moved on: 6 h do not pass in a test)
    reconciler = build_reconciler(LauncherSettings())
    offset = timedelta(0)

    def settled() -> bool:
        nonlocal offset
        offset += timedelta(hours=7)
        reconciler.clock = lambda: utc_now() + offset
        return reconciler.run().get(campaign_id) == Reconciled.SETTLED

    eventually(settled, deadline_s=30, what="settled by the reconciler", interval_s=0.5)

    # Then it is COMPLETED, its 20 emails counted unconfirmed, with a note saying so
    described = _campaign(api, campaign_id)
    assert described["status"] == "COMPLETED"
    assert "20 of 20 emails had no final outcome" in described["settled"]
    metrics = _metrics(api, campaign_id)
    assert (metrics["unconfirmed"], metrics["finished"], metrics["delivered"]) == (20, 20, 0)

    # And events that come later still count, but finish nothing twice
    tracker_stopped()

    def delivered() -> dict[str, Any] | None:
        numbers = _metrics(api, campaign_id)
        return numbers if numbers["delivered"] == 20 else None

    after = eventually(delivered, deadline_s=120, what="the late Delivery events", interval_s=2)
    assert (after["finished"], after["unconfirmed"], after["total"]) == (20, 20, 20)


class _CountersNeverLand(CampaignMetrics):
    """A tracker that stops after writing a batch's records, before adding its counters."""

    def add(self, campaign_id: str, segment: str | None, deltas: Mapping[Metric, int]) -> bool:
        msg = "the tracker stopped before adding the batch's counters"
        raise ConnectionError(msg)


def test_counters_a_stopped_tracker_left_short_are_recounted_from_the_email_records(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    localstack_url: str,
    tracker_stopped: Callable[[], None],
) -> None:
    # Given a campaign of 20 sent while no SES event reaches the running tracker
    campaign = _create(api, template_uri, 20, seconds_ahead=5)
    campaign_id, outbox = campaign["campaign_id"], Outbox(localstack_url, campaign)
    outbox.wait_for(20)
    # (what SES took, as LocalStack shows it: no event reached EMS, so it has no record of them)
    emails = outbox.emails()
    addresses = sorted(email["address"] for email in emails)

    # And a tracker that writes their Delivery events to the records, then stops before the
    # batch's counters
    tracker = build_tracker(TrackerSettings())
    tracker.metrics = _CountersNeverLand(aws.client("dynamodb"), settings.campaigns_table)
    outcome = tracker.process_batch([json.dumps(_event("delivery", e)) for e in emails])
    assert not outcome.failed
    assert _recipient(api, campaign_id, addresses[0])["status"] == "DELIVERED"
    assert _metrics(api, campaign_id)["delivered"] == 0  # counted nowhere

    # When the reconciler finds it quiet, counts the records, and corrects the counters (its
    # clock moved on: the quiet spell and the tracker's timeout do not pass in a test)
    reconciler = build_reconciler(LauncherSettings())
    offset = timedelta(0)

    def completed() -> dict[str, Any] | None:
        nonlocal offset
        offset += timedelta(minutes=10)
        reconciler.clock = lambda: utc_now() + offset
        reconciler.run()
        described = _campaign(api, campaign_id)
        return described if described["status"] == "COMPLETED" else None

    described = eventually(completed, deadline_s=30, what="recounted and COMPLETED", interval_s=1)

    # Then the API counts every delivery, and the campaign completed on them, not settled
    assert described["settled"] is None
    metrics = _metrics(api, campaign_id)
    assert (metrics["delivered"], metrics["finished"], metrics["unconfirmed"]) == (20, 20, 0)
