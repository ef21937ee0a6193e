"""The AWS cost of sending, per million emails, from measured request counts and list prices.

Pure arithmetic: `bench/requests_bench.py` measures what one email (send path) and one SES
event (tracker) cost in requests, capacity units and Lambda time; this module prices them, and
what carries each event to the tracker (`EventPath`: SES -> Firehose -> S3 -> S3 notification
-> SQS).
Prices are us-east-1 list prices, each a named constant with its unit and source (checked
2026-11-23 against the AWS pricing pages as stored by the project's search tool; DynamoDB's
on-demand prices are those after the 50 % cut of 1 November 2024). SES's own $0.10 per 1,000
emails is not in the totals: the goals are "beyond SES".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

MILLION: Final = 1_000_000

# SQS standard queue: $0.40 per million requests (first million a month free, ignored); each
# 64 KB chunk of a request's payload is billed as one request (aws.amazon.com/sqs/pricing).
SQS_USD_PER_REQUEST: Final = 0.40 / MILLION
SQS_BILLED_CHUNK_BYTES: Final = 64 * 1024
# DynamoDB on-demand, Standard table class: $0.625 per million write request units and $0.125
# per million read request units (aws.amazon.com/dynamodb/pricing/on-demand, after the
# November 2024 cut; before it: $1.25 and $0.25).
DYNAMODB_USD_PER_WRITE_UNIT: Final = 0.625 / MILLION
DYNAMODB_USD_PER_READ_UNIT: Final = 0.125 / MILLION
DYNAMODB_USD_PER_WRITE_UNIT_BEFORE_2024_11: Final = 1.25 / MILLION
# Lambda, x86: $0.0000166667 per GB-second and $0.20 per million requests
# (aws.amazon.com/lambda/pricing, first tier; the free tier is ignored).
LAMBDA_USD_PER_GB_SECOND: Final = 0.0000166667
LAMBDA_USD_PER_REQUEST: Final = 0.20 / MILLION
# Amazon Data Firehose, Direct PUT: $0.029 per GB ingested, each record rounded up to the next
# 5 KB (aws.amazon.com/firehose/pricing, first 500 TB a month). SES puts each event of the
# configuration set into the stream as one record.
FIREHOSE_USD_PER_GB: Final = 0.029
FIREHOSE_RECORD_INCREMENT_BYTES: Final = 5 * 1024
# S3 Standard: $0.0004 per 1,000 GET and $0.005 per 1,000 PUT (aws.amazon.com/s3/pricing).
S3_USD_PER_GET: Final = 0.0004 / 1000
S3_USD_PER_PUT: Final = 0.005 / 1000
# CloudWatch Logs, standard class: $0.50 per GB ingested (aws.amazon.com/cloudwatch/pricing).
LOGS_USD_PER_GB: Final = 0.50
GB: Final = 1024**3
# SES outbound: $0.10 per 1,000 emails (aws.amazon.com/ses/pricing): outside the goals.
SES_USD_PER_EMAIL: Final = 0.10 / 1000
# Secrets Manager ($0.40 a secret a month, $0.05 per 10,000 calls, read once per cold start)
# is negligible per email and left out.

# The goals (issue 9), per million emails, beyond SES's own $100.
GOAL_SEND_PATH_USD: Final = 0.25
GOAL_ALL_USD: Final = 3.0
# Issue 19: the tracker's DynamoDB write units per SES event, over the tracker bench's mix.
GOAL_TRACKER_WRITE_UNITS_PER_EVENT: Final = 1.5
GOAL_SENDER_GB_SECONDS_PER_EMAIL: Final = 0.004
NAIVE_REFERENCE_USD: Final = 5.6

# What Firehose writes an object of, whichever comes first (its buffer: Terraform's
# ses_events_buffer_seconds and ses_events_buffer_mb, read by LambdaSizing.from_terraform).
MB: Final = 1024**2

# A steady volume of sending, to know how full an object is (bench/run.py --emails-per-day).
DEFAULT_EMAILS_PER_DAY: Final = 1_000_000
SECONDS_PER_DAY: Final = 86_400

# Events an email produces: Send and Delivery always, plus a share of opens and clicks.
DEFAULT_OPENS_PER_EMAIL: Final = 0.25
DEFAULT_CLICKS_PER_EMAIL: Final = 0.05

TERRAFORM_APP: Final = Path(__file__).resolve().parents[1] / "terraform" / "modules" / "app"


@dataclass(frozen=True)
class Usage:
    """Billed AWS usage of one unit of work (one email, or one SES event)."""

    sqs_requests: float = 0.0  # billed requests: 64 KB chunks, at least one per call
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    lambda_requests: float = 0.0  # invocations
    lambda_gb_seconds: float = 0.0
    s3_gets: float = 0.0
    s3_puts: float = 0.0
    firehose_bytes: float = 0.0  # billed: each record rounded up to 5 KB
    log_bytes: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def scaled(self, factor: float) -> Usage:
        """This usage `factor` times."""
        return Usage(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


@dataclass(frozen=True)
class Dollars:
    """What a usage costs, by service."""

    sqs: float
    dynamodb: float
    lambda_: float
    s3: float
    firehose: float
    logs: float

    @property
    def total(self) -> float:
        """All services."""
        return self.sqs + self.dynamodb + self.lambda_ + self.s3 + self.firehose + self.logs

    def by_service(self) -> dict[str, float]:
        """Service name -> dollars, largest first."""
        named = {"SQS": self.sqs, "DynamoDB": self.dynamodb, "Lambda": self.lambda_,
                 "S3": self.s3, "Firehose": self.firehose,
                 "CloudWatch Logs": self.logs}  # fmt: skip
        return dict(sorted(named.items(), key=lambda item: -item[1]))


def price(usage: Usage) -> Dollars:
    """The list price of `usage`."""
    return Dollars(
        sqs=usage.sqs_requests * SQS_USD_PER_REQUEST,
        dynamodb=usage.dynamodb_write_units * DYNAMODB_USD_PER_WRITE_UNIT
        + usage.dynamodb_read_units * DYNAMODB_USD_PER_READ_UNIT,
        lambda_=usage.lambda_requests * LAMBDA_USD_PER_REQUEST
        + usage.lambda_gb_seconds * LAMBDA_USD_PER_GB_SECOND,
        s3=usage.s3_gets * S3_USD_PER_GET + usage.s3_puts * S3_USD_PER_PUT,
        firehose=usage.firehose_bytes / GB * FIREHOSE_USD_PER_GB,
        logs=usage.log_bytes / GB * LOGS_USD_PER_GB,
    )


def sqs_billed_requests(payload_bytes: int) -> int:
    """Billed requests for one SQS call carrying `payload_bytes` (at least one)."""
    return max(1, math.ceil(payload_bytes / SQS_BILLED_CHUNK_BYTES))


def gb_seconds(seconds: float, memory_mb: int) -> float:
    """Lambda GB-seconds of `seconds` of duration at `memory_mb`."""
    return seconds * memory_mb / 1024


def firehose_billed_bytes(record_bytes: float) -> int:
    """What Firehose bills for one record of `record_bytes`: the next multiple of 5 KB."""
    increments = max(1, math.ceil(record_bytes / FIREHOSE_RECORD_INCREMENT_BYTES))
    return increments * FIREHOSE_RECORD_INCREMENT_BYTES


@dataclass(frozen=True)
class EventMix:
    """SES events per email: Send and Delivery, plus a share of opens and clicks."""

    opens_per_email: float = DEFAULT_OPENS_PER_EMAIL
    clicks_per_email: float = DEFAULT_CLICKS_PER_EMAIL

    @property
    def events_per_email(self) -> float:
        """Events the tracker ingests per email sent."""
        return 2 + self.opens_per_email + self.clicks_per_email


@dataclass(frozen=True)
class CostModel:
    """Per-email usage of the send path and per-event usage of the tracker, priced."""

    send_path_per_email: Usage  # launcher + sender
    tracker_per_event: Usage  # the event path (EventPath.per_event) and the tracker's work
    mix: EventMix = field(default_factory=EventMix)

    @property
    def all_per_email(self) -> Usage:
        """Send path plus the tracker's events of one email."""
        return self.send_path_per_email + self.tracker_per_event.scaled(self.mix.events_per_email)

    def send_path_per_million(self) -> Dollars:
        """The send path's cost per million emails."""
        return price(self.send_path_per_email.scaled(MILLION))

    def all_per_million(self) -> Dollars:
        """Everything's cost per million emails (SES's own excluded)."""
        return price(self.all_per_email.scaled(MILLION))


def naive_reference(events_per_email: float, *, sqs_requests_per_message: int = 3) -> float:
    """The naive design's dollars per million emails, with DynamoDB's price before Nov 2024.

    One SQS message (sent, received, deleted: three requests) and one DynamoDB write per
    item; SES's own call is outside the goals. With an item per email and an item per event
    after the Send event (Delivery, opens, clicks: `events_per_email` - 1), the default mix
    gives 2.3 items x ($1.20 + $1.25) = $5.64 per million: the $5.6 the issue quotes, as far
    as it can be reproduced (its inputs are not stated).
    """
    items = 1 + (events_per_email - 1)
    per_item = (
        sqs_requests_per_message * SQS_USD_PER_REQUEST + DYNAMODB_USD_PER_WRITE_UNIT_BEFORE_2024_11
    )
    return items * per_item * MILLION


_BLOCK = r'{kind} "{name}" \{{(?P<body>.*?)\n\}}'


def terraform_block_setting(text: str, kind: str, name: str, setting: str) -> int:
    """An integer `setting` of the top-level `kind "name"` block in a .tf file's `text`.

    The first `setting = <int>` inside the block (module arguments come before nested
    blocks); a clear error if the block or the setting is not there.
    """
    block = re.search(_BLOCK.format(kind=kind, name=re.escape(name)), text, flags=re.DOTALL)
    if block is None:
        msg = f'no {kind} "{name}" block in the Terraform text'
        raise ValueError(msg)
    value = re.search(rf"^\s*{re.escape(setting)}\s*=\s*(\d+)\s*$", block["body"], re.MULTILINE)
    if value is None:
        msg = f'{kind} "{name}" sets no integer {setting}'
        raise ValueError(msg)
    return int(value[1])


@dataclass(frozen=True)
class LambdaSizing:
    """What the app module gives each function the cost depends on (read from Terraform)."""

    sender_memory_mb: int
    sender_batch_size: int  # send-queue messages per invocation
    sender_max_concurrency: int  # campaign senders running at once
    tracker_memory_mb: int
    tracker_batch_size: int  # S3 notifications (objects of events) per invocation, at most
    launcher_memory_mb: int
    ses_events_buffer_seconds: int  # Firehose writes an object this often, at most
    ses_events_buffer_mb: int  # ... or when this full

    @classmethod
    def from_terraform(cls, app_dir: Path = TERRAFORM_APP) -> LambdaSizing:
        """Read from terraform/modules/app (main.tf and the variables' defaults)."""
        main = (app_dir / "main.tf").read_text()
        variables = (app_dir / "variables.tf").read_text()
        return cls(
            sender_memory_mb=terraform_block_setting(
                variables, "variable", "sender_memory_mb", "default"
            ),
            sender_batch_size=terraform_block_setting(
                variables, "variable", "sender_batch_size", "default"
            ),
            sender_max_concurrency=terraform_block_setting(
                variables, "variable", "sender_max_concurrency", "default"
            ),
            tracker_memory_mb=terraform_block_setting(main, "module", "tracker", "memory_mb"),
            tracker_batch_size=terraform_block_setting(main, "module", "tracker", "batch_size"),
            launcher_memory_mb=terraform_block_setting(main, "module", "launcher", "memory_mb"),
            ses_events_buffer_seconds=terraform_block_setting(
                variables, "variable", "ses_events_buffer_seconds", "default"
            ),
            ses_events_buffer_mb=terraform_block_setting(
                variables, "variable", "ses_events_buffer_mb", "default"
            ),
        )


@dataclass(frozen=True)
class EventPath:
    """What carries SES events to the tracker, priced per event.

    SES puts each event into the Firehose stream (one record: billed per 5 KB); Firehose writes
    an object of events when its buffer is `buffer_seconds` old or `buffer_mb` full (one S3
    PUT); S3 sends the tracker queue one notification per object (one SQS request, from S3);
    Lambda's event source mapping receives and deletes up to `batch_size` notifications a
    request each and invokes the tracker once per batch (full batches); the tracker GETs each
    object once. The SSE-KMS bucket uses an S3 Bucket Key, so the KMS requests are a few per
    hour, not per object, and left out. So the per-object costs are shared by the events of an
    object: as many as arrive in `buffer_seconds` at `events_per_second`, at most as many of
    `event_bytes` as fit `buffer_mb`.
    """

    event_bytes: float  # an event record: SES's JSON and a newline
    events_per_second: float  # arriving from SES, steady
    buffer_seconds: int
    buffer_mb: int
    batch_size: int  # notifications per tracker invocation

    @classmethod
    def at_volume(
        cls, emails_per_day: float, mix: EventMix, sizing: LambdaSizing, event_bytes: float
    ) -> EventPath:
        """The path for a steady `emails_per_day`, with Terraform's buffer and batch size."""
        return cls(
            event_bytes=event_bytes,
            events_per_second=emails_per_day * mix.events_per_email / SECONDS_PER_DAY,
            buffer_seconds=sizing.ses_events_buffer_seconds,
            buffer_mb=sizing.ses_events_buffer_mb,
            batch_size=sizing.tracker_batch_size,
        )

    @property
    def events_per_object(self) -> float:
        """Events in one object: what arrives in a buffer's time, or fills it, if fewer."""
        by_time = max(1.0, self.events_per_second * self.buffer_seconds)
        by_size = max(1.0, self.buffer_mb * MB // self.event_bytes)
        return min(by_time, by_size)

    @property
    def per_object(self) -> Usage:
        """One object: Firehose's PUT, S3's notification, its receive and delete, its GET."""
        return Usage(
            s3_puts=1,
            s3_gets=1,
            sqs_requests=1 + 2 / self.batch_size,
            lambda_requests=1 / self.batch_size,
        )

    @property
    def per_event(self) -> Usage:
        """One event: its Firehose record and its share of its object."""
        record = Usage(firehose_bytes=firehose_billed_bytes(self.event_bytes))
        return record + self.per_object.scaled(1 / self.events_per_object)
