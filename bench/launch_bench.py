"""Benchmark: the launcher's fan-out into the send queue, against the local stack.

    .venv/bin/python -m bench.launch_bench [--emails 200000]

Writes a compiled campaign (parts and manifest) of N emails straight to the campaigns bucket,
makes it due, and times one launcher enqueuing it; counts the SendMessageBatch calls. The
background launcher and campaign senders are paused meanwhile; the send queue is purged and
the campaign removed at the end. Starts the local stack if it is not up (and stops it again).
"""

import argparse
import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from bench.aws_requests import CountingClients, RequestCounter
from bench.cost import LambdaSizing, Usage, gb_seconds
from ems_common.aws import AwsClients
from ems_common.campaign_files import manifest_key, part_key
from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.dal.campaigns import CampaignRepository
from ems_common.formats import CampaignFileLine
from ems_common.formats.manifest import CampaignManifest, PartEntry, RecipientTally
from ems_devstack.config import StackConfig
from ems_devstack.services import CAMPAIGN_SENDER_NAMES
from ems_devstack.stack import LocalStackStack, parse_env_file
from ems_launcher.handlers.launch import build_launcher
from ems_launcher.settings import LauncherSettings

PART_LINES: Final = 50_000


@dataclass(frozen=True)
class LaunchFigures:
    """What one launch measured."""

    emails: int
    batch_calls: int
    seconds: float
    counter: RequestCounter = field(repr=False, default_factory=RequestCounter)

    def per_thousand(self, service: str, *operations: str) -> float:
        """Calls of `service` (`operations`, if given) per 1,000 emails enqueued."""
        return self.counter.total(service, operations or None).calls * 1000 / self.emails

    def usage(self, sizing: LambdaSizing) -> Usage:
        """Billed usage per email enqueued (one invocation per campaign, amortized)."""
        sqs, dynamodb = self.counter.total("sqs"), self.counter.total("dynamodb")
        s3 = self.counter.total("s3")
        puts = self.counter.total("s3", ("PutObject",)).calls
        return Usage(
            sqs_requests=sqs.billed_requests / self.emails,
            dynamodb_write_units=dynamodb.write_units / self.emails,
            dynamodb_read_units=dynamodb.read_units / self.emails,
            lambda_requests=1 / self.emails,
            lambda_gb_seconds=gb_seconds(self.seconds, sizing.launcher_memory_mb) / self.emails,
            s3_gets=(s3.calls - puts) / self.emails,
            s3_puts=puts / self.emails,
        )

    @property
    def calls_per_thousand(self) -> float:
        """SendMessageBatch calls per 1,000 emails enqueued."""
        return self.batch_calls * 1000 / self.emails

    @property
    def emails_per_second(self) -> float:
        """Enqueue throughput."""
        return self.emails / self.seconds


def write_campaign(
    clients: AwsClients,
    bucket: str,
    campaign_id: str,
    emails: int,
    *,
    template_name: str | None = None,
    from_address: str = "news@ems.example.com",
    configuration_set: str = "ems-local",
) -> None:
    """Write the parts and manifest of a compiled campaign of `emails` to `bucket`.

    Without `template_name`, the lines name a template that does not exist: enough to enqueue.
    """
    s3 = clients.client("s3")
    parts = []
    for index, start in enumerate(range(0, emails, PART_LINES), start=1):
        data = "".join(
            CampaignFileLine.for_recipient(
                from_email_address=from_address,
                to_address=f"bench{i}@example.org",
                template_name=template_name or f"ems-{campaign_id}-00000000",
                template_data={"fname": f"Name{i}", "offer": "20%"},
                campaign_id=campaign_id,
                segment_id="bench",
                configuration_set_name=configuration_set,
            ).to_json_line()
            + "\n"
            for i in range(start, min(start + PART_LINES, emails))
        ).encode()
        s3.put_object(Bucket=bucket, Key=part_key(campaign_id, index), Body=data)
        parts.append(
            PartEntry(
                index=index,
                lines=min(PART_LINES, emails - start),
                bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    manifest = CampaignManifest(
        campaign_id=campaign_id,
        part_lines=PART_LINES,
        parts=parts,
        segments=[],
        totals=RecipientTally(recipients=emails, accepted=emails),
        template_names=[],
    )
    s3.put_object(Bucket=bucket, Key=manifest_key(campaign_id), Body=manifest.to_json())


def create_due_campaign(
    clients: AwsClients, settings: LauncherSettings, campaign_id: str
) -> CampaignRepository:
    """A SCHEDULED campaign record, due now, for a campaign file already written."""
    repo = CampaignRepository(
        clients.client("dynamodb"), settings.campaigns_table, settings.campaigns_status_index
    )
    now = datetime.now(UTC)
    repo.create(
        Campaign(
            campaign_id=campaign_id,
            status=CampaignStatus.SCHEDULED,
            scheduled_at=now - timedelta(seconds=1),
            created_at=now,
            updated_at=now,
            request_hash="bench",
            # As a compile sets it: its read of the suppression list, just now.
            suppressions_as_of=now - timedelta(minutes=5),
        )
    )
    return repo


def measure_launch(emails: int) -> LaunchFigures:
    """Launch a campaign of `emails` into the send queue of the running local stack."""
    settings = LauncherSettings()
    clients = AwsClients()
    campaign_id = f"bench-{uuid.uuid4().hex[:10]}"
    write_campaign(clients, settings.campaigns_bucket, campaign_id, emails)
    repo = create_due_campaign(clients, settings, campaign_id)
    counter = RequestCounter()
    launcher = build_launcher(settings, CountingClients(counter))
    started = time.perf_counter()
    result = launcher.launch(campaign_id)
    seconds = time.perf_counter() - started
    stored = repo.require(campaign_id)
    if stored.emails_enqueued != emails:
        msg = f"launch ended {result} with {stored.emails_enqueued} of {emails} enqueued"
        raise RuntimeError(msg)
    clients.client("sqs").purge_queue(QueueUrl=settings.send_queue_url)
    repo.transition(
        campaign_id,
        expected={CampaignStatus.SENDING},
        to=CampaignStatus.CANCELLED,
        action="bench cleanup",
    )
    print(f"launcher: {emails:,} emails\n{counter.summary()}")
    return LaunchFigures(emails, launcher.queue.requests, seconds, counter)


def with_stack[T](work: Callable[[], T], *, pause: bool = True) -> T:
    """Run `work` with the local stack's settings exported (started if down, stopped again).

    With `pause`, the background launcher and campaign senders are stopped meanwhile (the
    bench sends or enqueues itself); `with_services_paused` does that inside `work`.
    """
    stack = LocalStackStack(StackConfig.from_environment())
    up = stack.is_up()
    if not up:
        stack.up()
    saved = dict(os.environ)
    os.environ.update(parse_env_file(stack.config.env_file.read_text()))
    try:
        return with_services_paused(work) if pause else work()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if not up:
            stack.down()


def with_services_paused[T](work: Callable[[], T]) -> T:
    """Run `work` with the stack's launcher and campaign senders stopped (its settings exported)."""
    stack = LocalStackStack(StackConfig.from_environment())
    paused = ("launcher", *CAMPAIGN_SENDER_NAMES)
    for name in paused:
        stack.services.stop(name, grace_s=10)
    try:
        return work()
    finally:
        for name in paused:
            stack.services.start(name, dict(os.environ))


def main() -> None:
    """Print the launcher's figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=200_000)
    args = parser.parse_args()
    figures = with_stack(lambda: measure_launch(args.emails))
    print(
        f"launch: {figures.emails:,} emails enqueued in {figures.seconds:.1f} s"
        f" ({figures.emails_per_second:,.0f}/s), {figures.batch_calls} SendMessageBatch calls"
        f" = {figures.calls_per_thousand:.2f} per 1,000 emails"
    )


if __name__ == "__main__":
    main()
