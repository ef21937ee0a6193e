"""The launcher against the local stack: due campaigns reach the send queue exactly once.

The campaign senders are paused meanwhile, so each test reads the queue itself and counts the
emails of its own campaign (deleting those messages, leaving others').
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.campaign_files import campaign_prefix
from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.dal.campaigns import CampaignRepository
from ems_common.formats.send_batch import SendBatch
from ems_common.settings import InfraSettings
from ems_devstack.stack import LocalStackStack
from ems_launcher.handlers.launch import build_launcher
from ems_launcher.launcher import LaunchResult
from ems_launcher.settings import LauncherSettings
from tests.e2e.waiting import eventually

# No sender drains the send queue here: these tests count what the launcher enqueued.
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("senders_stopped")]

TEMPLATE = "<html><head><title>Hi {{name}}</title></head><body>Hi {{name}}</body></html>"


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/launch-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE.encode())
    return f"s3://{settings.assets_bucket}/{key}"


@pytest.fixture
def repo(aws: AwsClients, settings: InfraSettings) -> CampaignRepository:
    return CampaignRepository(
        aws.client("dynamodb"), settings.campaigns_table, settings.campaigns_status_index
    )


@pytest.fixture
def launcher_stopped(local_stack: LocalStackStack) -> Iterator[None]:
    """The background launcher off, so the test decides who launches; back on afterwards."""
    local_stack.services.stop("launcher", grace_s=10)
    yield
    local_stack.services.start("launcher", dict(os.environ))


def _create(
    api: httpx.Client, template_uri: str, recipients: int, seconds_ahead: float
) -> dict[str, Any]:
    date = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
    response = api.post(
        "/campaigns",
        json={
            "date": date.isoformat(),
            "templateS3Uri": template_uri,
            "segments": [
                {
                    "list_name": f"s{s}",
                    "recipients": [
                        {"to_address": f"u{s}-{i}@example.org", "name": f"U{i}"}
                        for i in range(recipients // 2)
                    ],
                }
                for s in range(2)
            ],
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _due_now(repo: CampaignRepository, campaign_id: str) -> None:
    """Given the campaign's date has come (moved to the past, without waiting for it)."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    repo.transition(
        campaign_id,
        expected={CampaignStatus.SCHEDULED},
        to=CampaignStatus.SCHEDULED,
        action="test",
        changes={"scheduled_at": past},
    )


def _drain_emails(
    aws: AwsClients, settings: InfraSettings, campaign_id: str, want: int
) -> Counter[str]:
    """Read the send queue until `want` emails of the campaign arrived (and a little longer)."""
    sqs = aws.client("sqs")
    seen: Counter[str] = Counter()
    quiet_rounds = 0

    def probe() -> bool:
        nonlocal quiet_rounds
        response = sqs.receive_message(
            QueueUrl=settings.send_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=30,
        )
        messages = response.get("Messages", [])
        mine = 0
        for message in messages:
            try:
                batch = SendBatch.from_body(message["Body"])
            except ValueError:
                continue
            if batch.campaign_id == campaign_id:
                mine += 1
                seen.update(email.to_address for email in batch.emails)
                sqs.delete_message(
                    QueueUrl=settings.send_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        quiet_rounds = 0 if mine else quiet_rounds + 1
        # Done when everything arrived and the queue has had nothing more of ours for a while
        return sum(seen.values()) >= want and quiet_rounds >= 3

    eventually(
        probe,
        deadline_s=120,
        what=f"{want} emails of {campaign_id} on the send queue",
        interval_s=0,
    )
    return seen


def test_a_due_campaign_is_enqueued_once_per_accepted_recipient(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings, template_uri: str
) -> None:
    # Given a campaign scheduled a few seconds ahead, and the launcher ticking in the background
    created = _create(api, template_uri, recipients=6000, seconds_ahead=4)
    campaign_id = created["campaign_id"]
    accepted = created["recipients"]["accepted"]
    assert accepted == 6000

    # When its date comes, Then it is launched: SENDING, with every email enqueued exactly once
    def sending() -> dict[str, Any] | None:
        body = api.get(f"/campaigns/{campaign_id}").json()
        return body if body["status"] == "SENDING" else None

    body = eventually(sending, deadline_s=90, what=f"campaign {campaign_id} SENDING")
    assert body["emails_enqueued"] == accepted
    seen = _drain_emails(aws, settings, campaign_id, accepted)
    assert len(seen) == accepted
    assert max(seen.values()) == 1


def test_two_launchers_racing_launch_it_once(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    repo: CampaignRepository,
    launcher_stopped: None,
) -> None:
    campaign_id = _create(api, template_uri, recipients=2000, seconds_ahead=3600)["campaign_id"]
    _due_now(repo, campaign_id)
    launchers = [build_launcher(LauncherSettings()) for _ in range(2)]
    results: list[LaunchResult] = []
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        results.append(launchers[index].launch(campaign_id))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == sorted([LaunchResult.SENT_TO_QUEUE, LaunchResult.NOT_OURS])
    seen = _drain_emails(aws, settings, campaign_id, 2000)
    assert len(seen) == 2000
    assert max(seen.values()) == 1


def _launch_in_a_process(campaign_id: str, faults: str) -> int:
    """Launch in a child process that dies (like SIGKILL) at the named fault point."""
    env = {
        **os.environ,
        "EMS_FAULTS": faults,
        "EMS_EMAILS_PER_MESSAGE": "20",
        "EMS_LEASE_SECONDS": "2",
    }
    code = (
        # Faults are installed by the harness, as the local runtime does for a service.
        "from ems_devstack.faults import install_from_environment;"
        "install_from_environment();"
        "from ems_launcher.handlers.launch import build_launcher;"
        "from ems_launcher.settings import LauncherSettings;"
        f"build_launcher(LauncherSettings()).launch({campaign_id!r})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, timeout=120, check=False
    ).returncode


@pytest.mark.parametrize(
    ("fault", "duplicates"),
    [
        # Killed right after a checkpoint: the resumed launch enqueues nothing twice.
        ("launcher.after_checkpoint:7", 0),
        # Killed between a batch call and its checkpoint: that one batch (10 messages of 20
        # emails) is enqueued again; the sender's once-per-recipient record absorbs it.
        ("launcher.after_send:7", 200),
    ],
)
def test_a_killed_launcher_is_resumed_after_its_lease(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    repo: CampaignRepository,
    launcher_stopped: None,
    fault: str,
    duplicates: int,
) -> None:
    # Given a due campaign of several parts (2,000 lines each locally)
    created = _create(api, template_uri, recipients=5000, seconds_ahead=3600)
    campaign_id = created["campaign_id"]
    _due_now(repo, campaign_id)

    # When a launcher dies part way through
    assert _launch_in_a_process(campaign_id, fault) == 137
    stuck = repo.require(campaign_id)
    assert stuck.status is CampaignStatus.LAUNCHING
    assert stuck.launch is not None
    assert (stuck.launch.next_part, stuck.launch.next_line) > (1, 0)
    assert 0 < stuck.emails_enqueued < 5000

    # Then another launcher takes the launch over once the lease expires, and finishes it
    settings_short = LauncherSettings(lease_seconds=2)
    result = eventually(
        lambda: (
            (r := build_launcher(settings_short).launch(campaign_id)) is not LaunchResult.NOT_OURS
            and r
        ),
        deadline_s=30,
        what="the launch taken over",
    )
    assert result is LaunchResult.SENT_TO_QUEUE
    assert repo.require(campaign_id).status is CampaignStatus.SENDING
    seen = _drain_emails(aws, settings, campaign_id, 5000 + duplicates)
    assert len(seen) == 5000
    assert sum(seen.values()) - len(seen) == duplicates


def test_a_cancelled_campaign_is_not_enqueued(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    repo: CampaignRepository,
    launcher_stopped: None,
) -> None:
    campaign_id = _create(api, template_uri, recipients=100, seconds_ahead=3600)["campaign_id"]
    _due_now(repo, campaign_id)
    assert api.post(f"/campaigns/{campaign_id}/cancel").json()["status"] == "CANCELLED"

    assert build_launcher(LauncherSettings()).launch(campaign_id) is LaunchResult.NOT_OURS
    assert build_launcher(LauncherSettings()).sweep().get(campaign_id) is None
    assert repo.require(campaign_id).emails_enqueued == 0


def test_a_campaign_far_past_its_date_is_marked_missed(
    api: httpx.Client, template_uri: str, repo: CampaignRepository, launcher_stopped: None
) -> None:
    campaign_id = _create(api, template_uri, recipients=10, seconds_ahead=3600)["campaign_id"]
    _due_now(repo, campaign_id)
    strict = LauncherSettings(missed_after_minutes=1)
    later = datetime.now(UTC) + timedelta(minutes=5)

    launcher = build_launcher(strict)
    launcher.clock = lambda: later
    assert launcher.launch(campaign_id) is LaunchResult.MISSED
    campaign = repo.require(campaign_id)
    assert campaign.status is CampaignStatus.FAILED
    assert campaign.error is not None
    assert campaign.error.startswith("missed")


class _ReadBefore(CampaignRepository):
    """A repository whose first read of the campaign is one taken earlier: a launcher that read
    it just before an operator's PATCH landed."""

    def __init__(self, repo: CampaignRepository, stale: Campaign) -> None:
        self.__dict__.update(repo.__dict__)
        self._stale: Campaign | None = stale

    def get(self, campaign_id: str) -> Campaign | None:
        stale, self._stale = self._stale, None
        return stale or super().get(campaign_id)


def test_a_reschedule_in_the_launchers_window_launches_at_the_new_date_or_answers_409(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    repo: CampaignRepository,
    launcher_stopped: None,
) -> None:
    # Given a due campaign that a launcher has read, and then its operator moves it a day on
    campaign_id = _create(api, template_uri, recipients=10, seconds_ahead=3600)["campaign_id"]
    _due_now(repo, campaign_id)
    read = repo.require(campaign_id)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    moved = api.patch(f"/campaigns/{campaign_id}", json={"date": tomorrow.isoformat()})
    assert moved.status_code == 200, moved.text

    # When that launcher claims it on what it read
    launcher = build_launcher(LauncherSettings())
    launcher.campaigns = _ReadBefore(repo, read)
    assert launcher.launch(campaign_id) is LaunchResult.NOT_OURS

    # Then the new date holds: nothing launched, it waits for tomorrow
    campaign = repo.require(campaign_id)
    assert (campaign.status, campaign.scheduled_at) == (CampaignStatus.SCHEDULED, tomorrow)
    assert campaign.emails_enqueued == 0

    # And once a launch has claimed a campaign, a reschedule is a 409 that says why
    _due_now(repo, campaign_id)
    assert build_launcher(LauncherSettings()).launch(campaign_id) is LaunchResult.SENT_TO_QUEUE
    late = api.patch(f"/campaigns/{campaign_id}", json={"date": tomorrow.isoformat()})
    assert late.status_code == 409
    assert "SENDING" in late.json()["message"]
    _drain_emails(aws, settings, campaign_id, want=10)


def test_a_campaign_whose_file_is_gone_fails_with_the_reason_and_the_others_launch(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    repo: CampaignRepository,
    launcher_stopped: None,
) -> None:
    # Given two due campaigns, the first of whose files expired from the bucket
    gone, fine = (
        _create(api, template_uri, recipients=10, seconds_ahead=3600)["campaign_id"]
        for _ in range(2)
    )
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=settings.campaigns_bucket, Prefix=campaign_prefix(gone))
    for item in listed.get("Contents", []):
        s3.delete_object(Bucket=settings.campaigns_bucket, Key=item["Key"])
    _due_now(repo, gone)
    _due_now(repo, fine)

    # When the launcher sweeps
    results = build_launcher(LauncherSettings()).sweep()

    # Then the first is FAILED with what happened and what to do; the other is launched
    assert results[gone] == LaunchResult.FAILED
    assert results[fine] == LaunchResult.SENT_TO_QUEUE
    failed = repo.require(gone)
    assert failed.status is CampaignStatus.FAILED
    assert failed.error is not None
    assert "is not in the campaigns bucket" in failed.error
    assert "create the campaign again" in failed.error
    _drain_emails(aws, settings, fine, want=10)
