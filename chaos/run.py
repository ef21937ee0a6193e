"""Driving one fault run on the local stack: set up, break things, stop breaking, check.

1. A campaign of `--recipients` recipients (a few of them suppressed after it is accepted) is
   scheduled a few seconds ahead; the launcher is restarted with a crash point, the campaign
   senders and the tracker with injected faults (SES throttling and 5xx, DynamoDB throttling).
2. Fault phase, until `--faults-until` of the emails are at /_aws/ses (or `--fault-seconds`):
   the plan's SIGKILLs and restarts, send-queue messages and objects of SES events delivered twice,
   poison messages on the send, transactional and tracker queues and in the SES events stream, an
   operator's pause and resume of the campaign, and an SES pause of the account's sending and its
   lifting.
3. Faults off: every service restarted without them; the run waits (with a deadline) until
   every recipient is served, the campaign is COMPLETED, the queues are empty and every
   poison message is on a DLQ; then it counts and checks.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from chaos.accounting import PoisonReport, Tally, match_poison, metric_mismatches, tally
from chaos.plan import FaultPlan, Hold, HoldKind, Kill, PlanShape, plan_faults
from chaos.poison import Poison, poison_messages
from chaos.probes import (
    HeldLetter,
    LogMark,
    delete_letters,
    injected_faults,
    mark_log,
    outbox,
    queue_depth,
    read_dead_letters,
)
from ems_common.aws import AwsClients
from ems_common.dal.emails import EmailKey
from ems_common.dal.items import from_item
from ems_common.dal.suppressions import SuppressionList
from ems_common.emails import DELIVERED_AT, SENT_AT
from ems_common.settings import ENV_PREFIX, InfraSettings
from ems_common.suppressions import ALL, Suppression, SuppressionReason
from ems_devstack.config import STOP_GRACE_S, StackConfig
from ems_devstack.faults import (
    DYNAMODB_THROTTLE_VARIABLE,
    FAULTS_VARIABLE,
    SES_ERROR_VARIABLE,
    SES_THROTTLE_VARIABLE,
)
from ems_devstack.services import (
    CAMPAIGN_SENDER_NAMES,
    LAUNCHER_NAME,
    TRACKER_NAME,
    ServiceRunner,
)
from ems_devstack.ses_events import EventObjectsTap, publish_events, s3_notification
from ems_devstack.stack import LocalStackStack, parse_env_file
from ems_launcher.dal.campaign_files import CampaignFileReader
from ems_launcher.logic.packing import batch_calls, pack_messages
from ems_launcher.settings import LauncherSettings
from ems_scheduler.dead_letters.queues import queue_pairs
from ems_sender.settings import SenderSettings

# Queues of each message family (names from ems_scheduler.dead_letters.queues.queue_pairs).
SEND_BATCH_QUEUES: Final = ("send", "transactional")
SES_EVENT_QUEUES: Final = ("tracker",)
TARGETS: Final = (LAUNCHER_NAME, *CAMPAIGN_SENDER_NAMES, TRACKER_NAME)
TEMPLATE: Final = (
    "<html><head><title>Chaos {{name}}</title></head><body>Hi {{name}}, {{code}}</body></html>"
)
_TICK_S: Final = 1.0
_OUTBOX_EVERY_S: Final = 3.0
_PROGRESS_EVERY_S: Final = 15.0
_SETTLE_S: Final = 5.0
_EXPLAINED: Final = 10  # duplicates whose records the report shows
_RECORD_FIELDS: Final = ("claims", "claimed_at", "completed_at", SENT_AT, DELIVERED_AT)


def _variable(model: type[Any], name: str) -> str:
    """The environment variable of a settings field (checked to exist: one source of truth)."""
    if name not in model.model_fields:
        msg = f"{model.__name__} has no setting {name!r}"
        raise KeyError(msg)
    return f"{ENV_PREFIX}{name.upper()}"


@dataclass(frozen=True)
class Options:
    """What to run: sizes, probabilities, timings (see `python -m chaos --help`)."""

    recipients: int = 3000
    seed: int = 0
    small: bool = False  # started from the --small preset (for the replay line)
    faults_until: float = 0.6
    fault_seconds: float = 180.0
    deadline_s: float = 900.0
    ses_throttle: float = 0.03
    ses_5xx: float = 0.02
    dynamodb_throttle: float = 0.05
    duplicate_fraction: float = 0.2
    tracker_copy_fraction: float = 0.2
    suppressed_fraction: float = 0.01
    claim_seconds: int = 30
    requeue_busy_after_s: int = 10
    lease_seconds: int = 15
    lead_s: float = 20.0


@dataclass
class Campaign:
    """The run's campaign, as created."""

    campaign_id: str
    recipients: list[str]
    templates: set[str]
    scheduled_at: datetime
    messages: list[bytes]  # the launcher's send-queue messages, in launch order
    launcher_calls: int


@dataclass
class Record:
    """What the run did, for the report."""

    kills: list[str] = field(default_factory=list)
    launcher_crashed_at: str | None = None
    copies_sent: int = 0
    tracker_copies: int = 0
    poison_sent: int = 0
    holds: list[str] = field(default_factory=list)
    faults_stopped: str = ""
    waited_for: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """The counts and the checks."""

    tally: Tally
    metrics: dict[str, Any]
    metric_problems: list[str]
    poison: PoisonReport
    poison_letters: list[HeldLetter]  # the run's poison as found on the DLQs
    duplicate_records: dict[str, dict[str, Any]]  # address -> its email record, to explain
    ok: bool


class ChaosRun:
    """One run against a stack that is up (its settings in the environment)."""

    def __init__(self, options: Options, config: StackConfig, base_env: dict[str, str]) -> None:
        self.options = options
        self.rng = random.Random(options.seed)  # noqa: S311 - fault injection, not security
        self.live_rng = random.Random(self.rng.random())  # noqa: S311 - choices made on the fly
        self.config = config
        self.base_env = base_env
        self.runner = ServiceRunner(config)
        self.settings = InfraSettings()
        self.aws = AwsClients()
        self.sqs = self.aws.client("sqs")
        self.pairs = queue_pairs(self.settings)
        for name in (*SEND_BATCH_QUEUES, *SES_EVENT_QUEUES):
            if name not in self.pairs:
                msg = f"no queue named {name!r} in {sorted(self.pairs)}"
                raise KeyError(msg)
        self.run_id = uuid.uuid4().hex[:8]
        self.record = Record()
        self.marks: list[LogMark] = [
            mark_log(self.config.logs_dir / f"{name}.log") for name in TARGETS
        ]
        self.localstack_url = config.localstack_url
        self.suppressed: list[str] = []
        self.launcher_crash = ""
        self.tap: EventObjectsTap | None = None
        self.faulty = True
        self.started = time.monotonic()

    # --- environment of the services -----------------------------------------------------

    def env_for(self, service: str, *, crash: str | None = None) -> dict[str, str]:
        """What `service` is (re)started with: the stack's env, the run's timings, faults."""
        options = self.options
        env = {
            **self.base_env,
            _variable(SenderSettings, "claim_seconds"): str(options.claim_seconds),
            _variable(SenderSettings, "requeue_busy_after_seconds"): str(
                options.requeue_busy_after_s
            ),
            _variable(LauncherSettings, "lease_seconds"): str(options.lease_seconds),
        }
        if self.faulty:
            env[DYNAMODB_THROTTLE_VARIABLE] = str(options.dynamodb_throttle)
            if service in CAMPAIGN_SENDER_NAMES:
                env[SES_THROTTLE_VARIABLE] = str(options.ses_throttle)
                env[SES_ERROR_VARIABLE] = str(options.ses_5xx)
        if crash:
            env[FAULTS_VARIABLE] = crash
        return env

    def restart(self, service: str, *, crash: str | None = None) -> None:
        """Stop `service` gracefully and start it with the run's environment."""
        self.runner.stop(service, STOP_GRACE_S)
        self.runner.start(service, self.env_for(service, crash=crash))

    def log(self, text: str) -> None:
        """A line of the run's log, with the seconds since the start."""
        print(f"[chaos {time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    # --- set-up ---------------------------------------------------------------------------

    def create_campaign(self, api: httpx.Client) -> Campaign:
        """Upload the template, create the campaign, read back what the launcher will send."""
        key = f"templates/chaos-{self.run_id}.html"
        self.aws.client("s3").put_object(
            Bucket=self.settings.assets_bucket, Key=key, Body=TEMPLATE.encode()
        )
        recipients = [
            f"chaos-{self.run_id}-{i:06d}@example.org" for i in range(self.options.recipients)
        ]
        scheduled_at = datetime.now(UTC) + timedelta(seconds=self.options.lead_s)
        response = api.post(
            "/campaigns",
            json={
                "campaign_id": f"chaos-{self.run_id}",
                "date": scheduled_at.isoformat(),
                "templateS3Uri": f"s3://{self.settings.assets_bucket}/{key}",
                "segments": [
                    {
                        "list_name": "chaos",
                        "recipients": [
                            {"to_address": a, "name": f"N{i}", "code": f"C{i}"}
                            for i, a in enumerate(recipients)
                        ],
                    }
                ],
            },
        )
        if response.status_code != 201:
            msg = f"creating the campaign failed: {response.status_code} {response.text[:500]}"
            raise RuntimeError(msg)
        created = response.json()
        if created["recipients"]["rejected"]:
            msg = f"the API rejected recipients: {created['rejected_by_reason']}"
            raise RuntimeError(msg)
        campaign_id = str(created["campaign_id"])
        messages, calls = self._launch_messages(campaign_id)
        return Campaign(
            campaign_id,
            recipients,
            {segment["template_name"] for segment in created["segments"]},
            scheduled_at,
            messages,
            calls,
        )

    def _launch_messages(self, campaign_id: str) -> tuple[list[bytes], int]:
        """The send-queue messages the launcher makes of the campaign, and its batch calls."""
        launcher = LauncherSettings()
        files = CampaignFileReader(self.aws.client("s3"), self.settings.campaigns_bucket)
        messages: list[bytes] = []
        calls = 0
        for entry in files.manifest(campaign_id).parts:
            packed = list(
                pack_messages(
                    campaign_id,
                    entry.index,
                    files.part_lines(campaign_id, entry),
                    start_line=0,
                    emails_per_message=launcher.emails_per_message,
                    max_bytes=launcher.message_max_bytes,
                )
            )
            messages += [message.body for message in packed]
            calls += len(list(batch_calls(packed)))
        return messages, calls

    def suppress_some(self, campaign: Campaign) -> list[str]:
        """Suppress a few accepted recipients before the launch: the sender must skip them."""
        count = max(3, round(len(campaign.recipients) * self.options.suppressed_fraction))
        chosen = sorted(self.rng.sample(campaign.recipients, count))
        suppressions = SuppressionList(
            self.aws.client("dynamodb"), self.settings.suppressions_table
        )
        for address in chosen:
            suppressions.add(
                Suppression(
                    address=address,
                    scope=ALL,
                    reason=SuppressionReason.MANUAL,
                    detail="chaos",
                    source="chaos",
                )
            )
        return chosen

    def unsuppress(self, addresses: list[str]) -> None:
        """Lift the run's suppressions again."""
        suppressions = SuppressionList(
            self.aws.client("dynamodb"), self.settings.suppressions_table
        )
        for address in addresses:
            suppressions.remove(address)

    # --- the fault phase ------------------------------------------------------------------

    def fault_phase(
        self, api: httpx.Client, campaign: Campaign, plan: FaultPlan, poisons: list[Poison]
    ) -> None:
        """Run the plan from the launch until enough is sent (or the phase's time is up)."""
        options = self.options
        holds = _Holds(self, api, campaign, list(plan.holds))
        goal = options.faults_until * (len(campaign.recipients) - len(self.suppressed))
        kills: list[Kill] = list(plan.kills)
        restarts: list[tuple[float, str]] = []
        poison_due = sorted(zip(plan.poison_at_s, poisons, strict=True), key=lambda p: p[0])
        launch_at = time.monotonic() + max(
            0.0, (campaign.scheduled_at - datetime.now(UTC)).total_seconds()
        )
        copies = [(launch_at + c.delay_s, campaign.messages[c.index]) for c in plan.copies]
        tracker_cap = max(20, round(len(campaign.recipients) * 0.05))
        # The plan's times count from the launch (kills before it would hit idle services).
        start = launch_at
        sent = 0
        next_outbox = time.monotonic()
        next_progress = time.monotonic() + _PROGRESS_EVERY_S
        while True:
            now = time.monotonic()
            elapsed = now - start
            if now >= next_outbox:
                sent = sum(1 for n in outbox(self.localstack_url, campaign.templates).values() if n)
                next_outbox = now + _OUTBOX_EVERY_S
            if sent >= goal:
                self.record.faults_stopped = (
                    f"after {elapsed:.0f} s: {sent:,} recipients served"
                    f" ({options.faults_until:.0%} of {goal / options.faults_until:,.0f})"
                )
                break
            if elapsed >= options.fault_seconds:
                self.record.faults_stopped = (
                    f"after {elapsed:.0f} s (--fault-seconds): only {sent:,} emails at /_aws/ses"
                )
                break
            self._launcher_crash_check()
            holds.tick(elapsed)
            kills = self._due_kills(kills, elapsed, restarts)
            restarts = self._due_restarts(restarts, now)
            while poison_due and poison_due[0][0] <= elapsed:
                self._send_poison(poison_due.pop(0)[1])
            due = [c for c in copies if c[0] <= now]
            copies = [c for c in copies if c[0] > now]
            self._send_copies([body for _, body in due])
            if self.record.tracker_copies < tracker_cap:
                self._copy_tracker_events(tracker_cap)
            if now >= next_progress:
                self.log(
                    f"faults on: {sent:,} of {goal:,.0f} emails before faults stop;"
                    f" {len(self.record.kills)} kills"
                )
                next_progress = now + _PROGRESS_EVERY_S
            time.sleep(_TICK_S)
        # Whatever the plan had left is sent now (a stop under way is lifted); the faults stop.
        holds.finish(time.monotonic() - start)
        for _, poison in poison_due:
            self._send_poison(poison)
        self._send_copies([body for _, body in copies])
        self._launcher_crash_check()
        self.faulty = False
        self.log(f"faults stop {self.record.faults_stopped}; restarting every service without")
        for service in TARGETS:
            self.restart(service)

    def start_hold(self, api: httpx.Client, campaign: Campaign, hold: Hold, elapsed: float) -> bool:
        """Stop the campaign as `hold` says; whether it took (a campaign already complete, or
        not launched yet, cannot be paused: the API's 409 is recorded)."""
        if hold.kind is HoldKind.SES_PAUSE:
            self.ses_sending(enabled=False)
            took, what = True, "SendingEnabled false"
        else:
            response = api.post(f"/campaigns/{campaign.campaign_id}/pause")
            took = response.status_code == 200
            what = f"{response.status_code} {response.json().get('status', '')}".strip()
        self.record.holds.append(f"{hold.kind} at {elapsed:.0f} s ({what})")
        self.log(f"{hold.kind} for {hold.lasts_s:.0f} s: {what}")
        return took

    def lift_hold(
        self, api: httpx.Client, campaign: Campaign, hold: Hold, *, took: bool, elapsed: float
    ) -> None:
        if hold.kind is HoldKind.SES_PAUSE:
            self.ses_sending(enabled=True)
            what = "SendingEnabled true"
        elif took:
            response = api.post(f"/campaigns/{campaign.campaign_id}/resume")
            response.raise_for_status()
            what = f"resumed: {response.json()['status']}"
        else:
            return
        self.record.holds.append(f"lifted at {elapsed:.0f} s ({what})")
        self.log(f"{hold.kind} lifted: {what}")

    def ses_sending(self, *, enabled: bool) -> None:
        """SES's own switch for the account's sending (v2 PutAccountSendingAttributes)."""
        self.aws.client("sesv2").put_account_sending_attributes(SendingEnabled=enabled)

    def _launcher_crash_check(self) -> None:
        if self.record.launcher_crashed_at is None and self.runner.pid(LAUNCHER_NAME) is None:
            crash = self.launcher_crash
            self.record.launcher_crashed_at = crash
            self.record.kills.append(f"{LAUNCHER_NAME} at crash point {crash} ({_clock()})")
            self.log(f"{LAUNCHER_NAME} died at its crash point {crash}; starting it again")
            self.runner.start(LAUNCHER_NAME, self.env_for(LAUNCHER_NAME))

    def _due_kills(
        self, kills: list[Kill], elapsed: float, restarts: list[tuple[float, str]]
    ) -> list[Kill]:
        left = []
        for kill in kills:
            # The launcher keeps its crash point until it reached it: its kill waits till then.
            waiting = kill.service == LAUNCHER_NAME and self.record.launcher_crashed_at is None
            if kill.at_s > elapsed or waiting or any(s == kill.service for _, s in restarts):
                left.append(kill)
                continue
            if self.runner.kill(kill.service):
                self.record.kills.append(f"{kill.service} (SIGKILL at {elapsed:.0f} s, {_clock()})")
                self.log(f"SIGKILL {kill.service}; back in {kill.restart_s:.1f} s")
            restarts.append((time.monotonic() + kill.restart_s, kill.service))
        return left

    def _due_restarts(
        self, restarts: list[tuple[float, str]], now: float
    ) -> list[tuple[float, str]]:
        for at, service in restarts:
            if at <= now:
                self.runner.start(service, self.env_for(service))
        return [(at, service) for at, service in restarts if at > now]

    def _send_poison(self, poison: Poison) -> None:
        if poison.in_events_stream:
            # As SES would publish it: into the stream, which writes it into an object of events
            publish_events(
                self.aws.client("firehose"), self.settings.ses_events_stream, [poison.body]
            )
        else:
            self.sqs.send_message(
                QueueUrl=self.pairs[poison.queue].queue_url, MessageBody=poison.body
            )
        self.record.poison_sent += 1

    def _send_copies(self, bodies: list[bytes]) -> None:
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            self.sqs.send_message_batch(
                QueueUrl=self.settings.send_queue_url,
                Entries=[{"Id": str(i), "MessageBody": b.decode()} for i, b in enumerate(chunk)],
            )
            self.record.copies_sent += len(chunk)

    @contextmanager
    def event_tap(self) -> Iterator[None]:
        """The objects of SES events written from now on: some are notified twice.

        The objects stay in the events bucket; reading them takes nothing from the tracker
        queue (whose receives would push events to its DLQ past maxReceiveCount).
        """
        self.tap = EventObjectsTap(
            self.aws.client("s3"),
            bucket=self.settings.ses_events_bucket,
            prefix=self.settings.ses_events_prefix,
        )
        try:
            yield
        finally:
            self.tap = None

    def _copy_tracker_events(self, cap: int) -> None:
        """Deliver some SES events twice: notify the tracker queue again of some objects.

        S3 delivers each notification at least once, so the same object can come twice.
        """
        if self.tap is None:
            return
        s3 = self.aws.client("s3")
        for key in self.tap.new_objects():
            if self.record.tracker_copies >= cap:
                return
            if self.live_rng.random() < self.options.tracker_copy_fraction:
                head = s3.head_object(Bucket=self.tap.bucket, Key=key)
                self.sqs.send_message(
                    QueueUrl=self.settings.tracker_queue_url,
                    MessageBody=s3_notification(
                        self.tap.bucket,
                        key,
                        region=self.sqs.meta.region_name,
                        size=head["ContentLength"],
                        etag=head["ETag"],
                    ),
                )
                self.record.tracker_copies += 1

    # --- waiting and checking -------------------------------------------------------------

    def wait_until_done(self, api: httpx.Client, campaign: Campaign, poisons: list[Poison]) -> None:
        """Wait for every condition of a finished run; say which were unmet at the deadline."""
        deadline = time.monotonic() + self.options.deadline_s
        next_progress = time.monotonic()
        expected = set(campaign.recipients) - set(self.suppressed)
        while True:
            unmet = self._unmet(api, campaign, expected, poisons)
            now = time.monotonic()
            if not unmet:
                self.log("everything is in: settling a few seconds for late duplicates")
                time.sleep(_SETTLE_S)
                return
            if now >= deadline:
                self.record.waited_for = unmet
                self.log(
                    f"deadline ({self.options.deadline_s:.0f} s) passed, still waiting for: "
                    + "; ".join(unmet)
                )
                return
            if now >= next_progress:
                self.log("waiting for: " + "; ".join(unmet))
                next_progress = now + _PROGRESS_EVERY_S
            time.sleep(_OUTBOX_EVERY_S)

    def _unmet(
        self, api: httpx.Client, campaign: Campaign, expected: set[str], poisons: list[Poison]
    ) -> list[str]:
        unmet = []
        sent = outbox(self.localstack_url, campaign.templates)
        missing = sum(1 for address in expected if not sent[address])
        if missing:
            unmet.append(f"{missing:,} recipients without an email at /_aws/ses")
        metrics = self.metrics(api, campaign)
        if metrics.get("status") != "COMPLETED":
            unmet.append(
                f"campaign {metrics.get('status')}, {metrics.get('finished')}"
                f" of {metrics.get('total')} emails finished"
            )
        for name in (*SEND_BATCH_QUEUES, *SES_EVENT_QUEUES):
            depth = queue_depth(self.sqs, self.pairs[name].queue_url)
            if depth:
                unmet.append(f"{name} queue holds {depth} messages")
        report = match_poison(poisons, [h.seen for h in self.dead_letters()])
        if report.missing:
            unmet.append(f"{len(report.missing)} poison messages not on a DLQ yet")
        return unmet

    def metrics(self, api: httpx.Client, campaign: Campaign) -> dict[str, Any]:
        """The API's campaign metrics (with the campaign's status)."""
        response = api.get(f"/campaigns/{campaign.campaign_id}/metrics")
        response.raise_for_status()
        metrics: dict[str, Any] = response.json()
        return metrics

    def dead_letters(self) -> list[HeldLetter]:
        """Everything on the DLQs of the queues the run poisons."""
        names = (*SEND_BATCH_QUEUES, *SES_EVENT_QUEUES)
        return read_dead_letters(self.sqs, {n: self.pairs[n].dlq_url for n in names})

    def verdict(self, api: httpx.Client, campaign: Campaign, poisons: list[Poison]) -> Verdict:
        """Count and check."""
        counted = tally(
            campaign.recipients, self.suppressed, outbox(self.localstack_url, campaign.templates)
        )
        metrics = self.metrics(api, campaign)
        problems = metric_mismatches(metrics, counted, suppressed=len(self.suppressed))
        letters = self.dead_letters()
        report = match_poison(poisons, [h.seen for h in letters])
        ok = counted.ok and not problems and report.ok and not self.record.waited_for
        mine = [h for h in letters if any(p.marker in h.seen.body for p in poisons)]
        records = {
            address: self.email_record(campaign, address)
            for address in sorted(counted.duplicates)[:_EXPLAINED]
        }
        return Verdict(counted, metrics, problems, report, mine, records, ok)

    def email_record(self, campaign: Campaign, address: str) -> dict[str, Any]:
        """The email's record (the sender's claim and outcome, the tracker's first events)."""
        item = (
            self.aws.client("dynamodb")
            .get_item(
                TableName=self.settings.emails_table,
                Key=EmailKey(campaign.campaign_id, address).item_key(),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return from_item(item) if item else {}

    # --- the whole run --------------------------------------------------------------------

    def run(self) -> Verdict:
        """Set up, break, heal, check; the services are left running without faults."""
        with httpx.Client(
            base_url=self.config.api_url,
            headers={"X-Api-Key": self.base_env[f"{ENV_PREFIX}API_KEY"]},
            timeout=120,
        ) as api:
            # No launch before the crash point is armed.
            self.runner.stop(LAUNCHER_NAME, STOP_GRACE_S)
            campaign = self.create_campaign(api)
            self.suppressed = self.suppress_some(campaign)
            poisons = poison_messages(
                self.run_id, send_batch_queues=SEND_BATCH_QUEUES, ses_event_queues=SES_EVENT_QUEUES
            )
            plan = plan_faults(
                self.rng,
                PlanShape(
                    launcher=LAUNCHER_NAME,
                    senders=CAMPAIGN_SENDER_NAMES,
                    tracker=TRACKER_NAME,
                    launcher_calls=campaign.launcher_calls,
                    messages=len(campaign.messages),
                    poisons=len(poisons),
                    fault_seconds=self.options.fault_seconds,
                    duplicate_fraction=self.options.duplicate_fraction,
                ),
            )
            self.log(
                f"campaign {campaign.campaign_id}: {len(campaign.recipients):,} recipients"
                f" ({len(self.suppressed)} suppressed before the launch), {len(campaign.messages)}"
                f" send-queue messages in {campaign.launcher_calls} SendMessageBatch calls,"
                f" launching at {campaign.scheduled_at:%H:%M:%S}"
            )
            self.log(f"plan: {plan.describe()}")
            self.launcher_crash = plan.launcher_crash
            for service in TARGETS:
                self.restart(
                    service, crash=plan.launcher_crash if service == LAUNCHER_NAME else None
                )
            try:
                with self.event_tap():
                    self.fault_phase(api, campaign, plan, poisons)
            finally:
                self.ses_sending(enabled=True)  # never leave the stack's SES paused
            self.wait_until_done(api, campaign, poisons)
            verdict = self.verdict(api, campaign, poisons)
            print_report(self, campaign, verdict)
            delete_letters(self.sqs, verdict.poison_letters)
            self.unsuppress(self.suppressed)
        return verdict


@dataclass
class _Holds:
    """The plan's stops, one at a time: each starts at its time and is lifted after its span."""

    run: ChaosRun
    api: httpx.Client
    campaign: Campaign
    due: list[Hold]
    held: tuple[float, Hold, bool] | None = None  # (ends at, the stop, whether it took)

    def tick(self, elapsed: float) -> None:
        """Lift the stop under way if its time is up; start the next one if its time came."""
        if self.held is not None and elapsed >= self.held[0]:
            self.finish(elapsed)
        if self.held is None and self.due and self.due[0].at_s <= elapsed:
            hold = self.due.pop(0)
            took = self.run.start_hold(self.api, self.campaign, hold, elapsed)
            self.held = (elapsed + hold.lasts_s, hold, took)

    def finish(self, elapsed: float) -> None:
        """Lift the stop under way, if any."""
        if self.held is not None:
            _, hold, took = self.held
            self.run.lift_hold(self.api, self.campaign, hold, took=took, elapsed=elapsed)
            self.held = None


def _clock() -> str:
    """The wall-clock time, to line kills up with the services' logs."""
    return f"{datetime.now(UTC):%H:%M:%S}"


def print_report(run: ChaosRun, campaign: Campaign, verdict: Verdict) -> None:
    """The counts, then the verdict."""
    counted, metrics, record = verdict.tally, verdict.metrics, run.record
    faults = injected_faults(run.marks)
    options = run.options
    lines = [
        f"seed {options.seed}, campaign {campaign.campaign_id},"
        f" {time.monotonic() - run.started:.0f} s",
        f"accepted      {counted.accepted:,} ({len(run.suppressed)} suppressed before the"
        f" launch: {counted.expected:,} to email)",
        f"sent          {counted.emailed + len(counted.unexpected):,} recipients,"
        f" {counted.emails:,} emails at /_aws/ses",
        f"duplicates    {counted.duplicate_emails}"
        + (f" ({_addresses(counted.duplicates)})" if counted.duplicates else ""),
        f"lost          {len(counted.lost)}"
        + (f" ({_addresses(dict.fromkeys(counted.lost, 0))})" if counted.lost else ""),
        f"unexpected    {sum(counted.unexpected.values())}"
        + (f" ({_addresses(counted.unexpected)})" if counted.unexpected else ""),
        "metrics       "
        + ", ".join(
            f"{name} {metrics.get(name)}"
            for name in ("total", "sent", "delivered", "failed", "suppressed", "finished")
        )
        + f", status {metrics.get('status')}",
        *_dead_letter_lines(verdict.poison),
        f"poison        {record.poison_sent} sent, {len(verdict.poison.found)} on their DLQ"
        f" with a reason, {sum(1 for n in verdict.poison.copies.values() if n > 1)} there twice",
        f"kills done    {len(record.kills)}: {', '.join(record.kills) or 'none'}",
        f"faults        SES throttling p={options.ses_throttle}, SES 5xx p={options.ses_5xx},"
        f" DynamoDB throttling p={options.dynamodb_throttle}; injected:"
        f" {', '.join(f'{k} {n}' for k, n in sorted(faults.items())) or 'none'}",
        f"twice         {record.copies_sent} send-queue messages, {record.tracker_copies}"
        " objects of SES events notified a second time",
        f"holds         {'; '.join(record.holds) or 'none'}",
        f"faults off    {record.faults_stopped}",
    ]
    for address, email in verdict.duplicate_records.items():
        fields = ", ".join(f"{name} {email.get(name)}" for name in _RECORD_FIELDS)
        lines.append(f"duplicate     {address}: {fields}")
    for line in lines:
        print(f"[chaos] {line}")
    problems = [
        *(["duplicates"] if counted.duplicates else []),
        *(["lost emails"] if counted.lost else []),
        *(["emails to suppressed or unknown addresses"] if counted.unexpected else []),
        *verdict.metric_problems,
        *(f"poison {p.queue}/{p.kind} not on any DLQ" for p in verdict.poison.missing),
        *(f"poison {p.queue}/{p.kind} on its DLQ without a reason"
          for p in verdict.poison.without_reason),
        *(f"poison {p.queue}/{p.kind} on the {q} DLQ" for p, q in verdict.poison.wrong_queue),
        *(f"gave up waiting for: {w}" for w in record.waited_for),
    ]  # fmt: skip
    if verdict.ok:
        print(f'[chaos] PASS (replay: make chaos CHAOS_ARGS="{replay_args(options)}")')
    else:
        for problem in problems:
            print(f"[chaos] FAIL: {problem}")
        print(f'[chaos] replay: make chaos CHAOS_ARGS="{replay_args(options)}"')


def _dead_letter_lines(report: PoisonReport) -> list[str]:
    """One line per DLQ: how many messages, then how many per reason."""
    by_queue: dict[str, list[tuple[str, int]]] = {}
    for (queue, reason), n in sorted(report.by_queue_and_reason.items()):
        by_queue.setdefault(queue, []).append((reason, n))
    if not by_queue:
        return ["in DLQ        nothing"]
    return [
        f"in DLQ        {queue}: {sum(n for _, n in reasons)} ("
        + "; ".join(f"{n} x {reason}" for reason, n in reasons)
        + ")"
        for queue, reasons in by_queue.items()
    ]


def _addresses(counts: dict[str, int], shown: int = 10) -> str:
    items = sorted(counts)
    text = ", ".join(f"{a} x{counts[a] + 1}" if counts[a] else a for a in items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")


# The CI preset: small enough for 3-5 minutes on 2 cores, stack start included.
SMALL: Final[dict[str, Any]] = {"recipients": 600, "fault_seconds": 60.0, "deadline_s": 300.0}
REPLAYED: Final = ("recipients", "faults_until", "fault_seconds", "deadline_s")


def replay_args(options: Options) -> str:
    """The arguments that replay this run's plan."""
    base = replace(Options(), **SMALL) if options.small else Options()
    changed = [
        f"--{name.replace('_', '-')} {getattr(options, name)}"
        for name in REPLAYED
        if getattr(options, name) != getattr(base, name)
    ]
    return " ".join([*(["--small"] if options.small else []), f"--seed {options.seed}", *changed])


@contextmanager
def stack_up() -> Iterator[tuple[StackConfig, dict[str, str]]]:
    """The local stack with its settings exported; started here (and stopped after) if down.

    A stack that was up is left up, its services restarted with its own environment.
    """
    stack = LocalStackStack(StackConfig.from_environment())
    started_here = not stack.is_up()
    if started_here:
        print("[chaos] the local stack is down: starting it (make up)", flush=True)
        stack.up()
    saved = dict(os.environ)
    env = {**os.environ, **parse_env_file(stack.config.env_file.read_text())}
    os.environ.update(env)
    try:
        yield stack.config, env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if started_here:
            stack.down()
        else:
            for service in TARGETS:
                stack.services.stop(service, STOP_GRACE_S)
                stack.services.start(service, env)


def run(options: Options) -> bool:
    """One run; True if it passed."""
    return run_verdict(options).ok


def run_verdict(options: Options) -> Verdict:
    """One run, and what it found (`make bench` reports its duplicates and losses)."""
    print(
        f"[chaos] seed {options.seed}: {options.recipients:,} recipients"
        f' (replay: make chaos CHAOS_ARGS="{replay_args(options)}")',
        flush=True,
    )
    with stack_up() as (config, env):
        return ChaosRun(options, config, env).run()
