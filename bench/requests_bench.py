"""Benchmark: the AWS requests the real sender makes per email, on the real send path.

    .venv/bin/python -m bench.requests_bench [--emails 2000]

Writes a compiled campaign of N emails (a real SES template, the stack's configuration set and
From address) to the campaigns bucket, launches it with the real launcher, and drains the send
queue with the real campaign handler (`ems_sender.handlers.send.campaign_handler`, which builds
its Sender with `build_sender`) fed by the local runtime's SQS poller, as Lambda's event source
mapping would feed it (the batch size is Terraform's). Every client the sender and the poller
build is counted (`bench.aws_requests`): SQS, DynamoDB with its capacity units, SES, and the
limiter's DynamoDB requests apart. The handler's wall time is what Lambda would bill. The
stack's launcher and campaign senders must be paused meanwhile (`with_services_paused`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from unittest import mock

from bench.aws_requests import CountingClients, RequestCounter, Tally
from bench.cost import LambdaSizing, Usage, gb_seconds
from bench.launch_bench import create_due_campaign, with_stack, write_campaign
from ems_common.aws import AwsClients, add_client_hook
from ems_common.campaigns import CampaignStatus
from ems_common.dal.campaigns import CampaignRepository
from ems_devstack.runtime.sqs import SqsPoller
from ems_devstack.services import LOCAL_SERVICE_SETTINGS
from ems_launcher.handlers.launch import build_launcher
from ems_launcher.settings import LauncherSettings
from ems_sender.handlers import send
from ems_sender.limiter import Lane
from ems_sender.settings import SenderSettings

DEFAULT_EMAILS: Final = 2_000
TEMPLATE: Final = "ems-requests-bench"
# Lambda's JSON log line around a message (timestamp, level, logger, requestId, ...): an
# estimate, in bytes; the messages themselves are measured.
JSON_LOG_LINE_OVERHEAD_BYTES: Final = 160
_POLL_WAIT_S: Final = 1


@dataclass(frozen=True)
class SenderFigures:
    """What the sender's run measured."""

    emails: int  # sent
    rate: float  # the limiter's R
    invocations: int
    handler_seconds: float
    log_bytes: int
    limiter_table: str
    counter: RequestCounter = field(repr=False)

    def per_email(self, tally: Tally) -> float:
        """Calls of `tally` per email sent."""
        return tally.calls / self.emails

    def sqs(self, *operations: str) -> Tally:
        """SQS calls (receives that returned nothing left out: the poller's idle cost)."""
        tally = self.counter.total("sqs", operations or None)
        tally.calls -= tally.empty
        tally.billed_requests -= tally.empty
        return tally

    def dynamodb(self, *, limiter: bool) -> Tally:
        """The sender's own DynamoDB calls (records, suppressions, campaign), or the limiter's."""
        if limiter:
            return self.counter.total("dynamodb", resource=self.limiter_table)
        every = self.counter.total("dynamodb")
        limited = self.counter.total("dynamodb", resource=self.limiter_table)
        every.calls -= limited.calls
        every.write_units -= limited.write_units
        every.read_units -= limited.read_units
        every.derived_calls -= limited.derived_calls
        return every

    @property
    def ses_calls(self) -> int:
        """SES calls, v1 and v2 (SendBulkEmail, and GetAccount if a limit is not overridden)."""
        return self.counter.total("ses").calls + self.counter.total("sesv2").calls

    @property
    def seconds_per_email(self) -> float:
        """Handler wall time per email (what Lambda bills), on the local stack."""
        return self.handler_seconds / self.emails

    @property
    def ses_seconds_per_email(self) -> float:
        """Of which in SES calls."""
        seconds = self.counter.total("ses").seconds + self.counter.total("sesv2").seconds
        return seconds / self.emails

    def operations(self, service: str) -> dict[str, float]:
        """Calls per email by operation (limiter apart, empty receives left out)."""
        calls: dict[str, float] = {}
        for (svc, operation, resource), tally in sorted(self.counter.tallies.items()):
            if svc != service:
                continue
            name = "limiter " + operation if resource == self.limiter_table else operation
            count = tally.calls - tally.empty
            if count:
                calls[name] = calls.get(name, 0.0) + count / self.emails
        return calls

    def usage(self, sizing: LambdaSizing) -> Usage:
        """Billed usage per email sent."""
        sqs = self.sqs()
        dynamodb = self.counter.total("dynamodb")
        return Usage(
            sqs_requests=sqs.billed_requests / self.emails,
            dynamodb_write_units=dynamodb.write_units / self.emails,
            dynamodb_read_units=dynamodb.read_units / self.emails,
            lambda_requests=self.invocations / self.emails,
            lambda_gb_seconds=gb_seconds(self.seconds_per_email, sizing.sender_memory_mb),
            log_bytes=self.log_bytes / self.emails,
        )


class _LogBytes(logging.Handler):
    """Bytes the function would write to CloudWatch Logs at INFO (JSON lines)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(record.getMessage().encode()) + JSON_LOG_LINE_OVERHEAD_BYTES


@contextlib.contextmanager
def _info_logs_counted() -> Iterator[_LogBytes]:
    # The services' module loggers write through their structured logger and do not propagate
    # to the root (ems_common.lambda_handlers): count at each of them, and at the root.
    root = logging.getLogger()
    counted, level = _LogBytes(), root.level
    loggers = [root] + [
        logger
        for logger in map(logging.getLogger, list(logging.root.manager.loggerDict))
        if not logger.propagate
    ]
    for logger in loggers:
        logger.addHandler(counted)
    root.setLevel(logging.INFO)  # the functions' application_log_level (Terraform)
    try:
        yield counted
    finally:
        for logger in loggers:
            logger.removeHandler(counted)
        root.setLevel(level)


def _ensure_template(clients: AwsClients) -> None:
    ses = clients.client("ses")
    with contextlib.suppress(ses.exceptions.AlreadyExistsException):
        ses.create_template(
            Template={
                "TemplateName": TEMPLATE,
                "SubjectPart": "Hello {{fname}}",
                "HtmlPart": "<p>Hello {{fname}}, {{offer}} off this week.</p>",
                "TextPart": "Hello {{fname}}, {{offer}} off this week.",
            }
        )


def _launch(emails: int) -> tuple[str, CampaignRepository]:
    """A campaign of `emails` in the send queue, launched by the real launcher (not counted)."""
    settings = LauncherSettings()
    clients = AwsClients()
    _ensure_template(clients)
    campaign_id = f"bench-req-{uuid.uuid4().hex[:10]}"
    write_campaign(
        clients,
        settings.campaigns_bucket,
        campaign_id,
        emails,
        template_name=TEMPLATE,
        from_address=settings.default_from,
        configuration_set=settings.configuration_set_name,
    )
    repo = create_due_campaign(clients, settings, campaign_id)
    build_launcher(settings, clients).launch(campaign_id)
    return campaign_id, repo


def _sender_environment(limiter_name: str) -> dict[str, str]:
    """The local deployment's sender settings, with a limiter of its own held by one process."""
    return {
        **LOCAL_SERVICE_SETTINGS,
        "EMS_LIMITER_NAME": limiter_name,
        "EMS_LIMITER_WORKER_SEND_RATE": LOCAL_SERVICE_SETTINGS["EMS_SEND_RATE_OVERRIDE"],
    }


@contextlib.contextmanager
def _counting(counter: RequestCounter) -> Iterator[None]:
    """Every AWS client built meanwhile (by the sender's own wiring too) is counted."""
    remove = add_client_hook(lambda _service, client: counter.attach(client))
    try:
        yield
    finally:
        remove()


def measure_sender(emails: int = DEFAULT_EMAILS) -> SenderFigures:
    """Send a launched campaign of `emails` through the real handler, counting every request."""
    sizing = LambdaSizing.from_terraform()
    campaign_id, repo = _launch(emails)
    counter = RequestCounter()
    durations: list[float] = []

    def timed_handler(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        started = time.perf_counter()
        try:
            return send.campaign_handler(event, context)
        finally:
            durations.append(time.perf_counter() - started)

    environment = _sender_environment(f"bench-requests-{uuid.uuid4().hex[:8]}")
    send.forget_warm_senders()  # a fresh sender, its every client counted
    with mock.patch.dict(os.environ, environment), _counting(counter):
        settings = SenderSettings()
        sender = send.warm_sender(Lane.CAMPAIGN)
        poller = SqsPoller(
            CountingClients(counter).client("sqs"),
            settings.send_queue_url,
            timed_handler,
            function_name="bench-sender",
            batch_size=sizing.sender_batch_size,
            wait_s=_POLL_WAIT_S,
        )
        counter.tallies.clear()  # the poller's GetQueueAttributes at start: not per email
        deadline = time.monotonic() + 120 + emails  # LocalStack: 5-15 emails/s in one thread
        with _info_logs_counted() as logs:
            counts: Mapping[str, int] = {}
            while time.monotonic() < deadline:
                poller.poll_once()
                counts = sender.stats.counts
                if sum(counts.get(k, 0) for k in ("sent", "failed", "suppressed")) >= emails:
                    break
        log_bytes = logs.bytes
    send.forget_warm_senders()  # built under this environment: not for later callers
    with contextlib.suppress(Exception):  # completed by the tracker already: nothing to do
        repo.transition(campaign_id, expected={CampaignStatus.SENDING},
                        to=CampaignStatus.CANCELLED, action="bench cleanup")  # fmt: skip
    print(f"sender: {dict(counts)}, {len(durations)} invocations\n{counter.summary()}")
    sent = counts.get("sent", 0)
    if sent < emails:
        msg = f"the sender sent {sent} of {emails} emails ({dict(counts)}) in time"
        raise RuntimeError(msg)
    return SenderFigures(
        emails=sent,
        rate=float(LOCAL_SERVICE_SETTINGS["EMS_SEND_RATE_OVERRIDE"]),
        invocations=len(durations),
        handler_seconds=sum(durations),
        log_bytes=log_bytes,
        limiter_table=settings.rate_limits_table,
        counter=counter,
    )


def main() -> None:
    """Print the sender's figures (the stack must be up; its senders are paused meanwhile)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=DEFAULT_EMAILS)
    figures = with_stack(lambda: measure_sender(parser.parse_args().emails))
    for service in ("sqs", "dynamodb", "ses"):
        print(service, {k: round(v, 3) for k, v in figures.operations(service).items()})
    print(
        f"{figures.seconds_per_email * 1000:.1f} ms a email in the handler"
        f" ({figures.ses_seconds_per_email * 1000:.1f} ms in SES), {figures.invocations}"
        f" invocations, {figures.log_bytes / figures.emails:.0f} log bytes a email"
    )


if __name__ == "__main__":
    main()
