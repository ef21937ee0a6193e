"""Benchmark: how many SES events one tracker worker ingests a second, and at what DynamoDB cost.

    .venv/bin/python -m bench.tracker_bench [--emails 500] [--without-records]

Writes `emails` email records of a bench campaign (as the sender leaves them: SENT, with a
message id, its claim's fields; none with `--without-records`, as for a sender that writes no
record for a sent campaign email) to the local stack's DynamoDB, then feeds one in-process
tracker a realistic mix of events for them - Send and Delivery for every email, an Open for
half, a Click for a fifth, a hard bounce and a complaint for one in fifty, and one in ten
delivered twice - in batches of Terraform's batch size, exactly as the SQS handler would.
Counts every DynamoDB request the tracker makes (a botocore hook), with the capacity units
DynamoDB reports.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench.aws_requests import CountingClients, RequestCounter
from bench.cost import (
    GOAL_TRACKER_WRITE_UNITS_PER_EVENT,
    EventPath,
    LambdaSizing,
    Usage,
    gb_seconds,
)
from ems_common.aws import AwsClients
from ems_common.dal.items import to_item
from ems_common.settings import InfraSettings
from ems_tracker.handlers.track import build_tracker
from ems_tracker.settings import TrackerSettings

EVENTS: Final = Path(__file__).parents[1] / "tests" / "events"
DEFAULT_EMAILS: Final = 500


@dataclass(frozen=True)
class TrackerFigures:
    """What one run measured."""

    events: int
    seconds: float
    batch_size: int
    counter: RequestCounter = field(repr=False)
    event_bytes: float = 0.0  # an event as SES puts it into Firehose (compact JSON, newline)

    @property
    def requests(self) -> int:
        """DynamoDB requests in all."""
        return self.counter.total("dynamodb").calls

    @property
    def write_units_per_event(self) -> float:
        """DynamoDB write capacity units per event (reported by DynamoDB, or derived)."""
        return self.counter.total("dynamodb").write_units / self.events

    @property
    def read_units_per_event(self) -> float:
        """DynamoDB read capacity units per event."""
        return self.counter.total("dynamodb").read_units / self.events

    @property
    def events_per_second(self) -> float:
        """Events applied a second, one worker."""
        return self.events / self.seconds

    @property
    def requests_per_event(self) -> float:
        """DynamoDB requests per event (record updates, counters, raw events, suppressions)."""
        return self.requests / self.events

    def operations(self) -> dict[str, float]:
        """DynamoDB calls per event by operation and table."""
        calls: dict[str, float] = {}
        for (service, operation, table), tally in sorted(self.counter.tallies.items()):
            if service == "dynamodb":
                name = f"{operation} {table}"
                calls[name] = calls.get(name, 0.0) + tally.calls / self.events
        return calls

    def usage(self, sizing: LambdaSizing, path: EventPath) -> Usage:
        """Billed usage per event: the tracker's work and the event's way to it.

        Measured: DynamoDB units and the tracker's time (DynamoDB Local). Derived: the event
        path's Firehose record and its share of an object's S3, SQS and invocation
        (`bench.cost.EventPath`).
        """
        tally = self.counter.total("dynamodb")
        work = Usage(
            dynamodb_write_units=tally.write_units / self.events,
            dynamodb_read_units=tally.read_units / self.events,
            lambda_gb_seconds=gb_seconds(self.seconds / self.events, sizing.tracker_memory_mb),
        )
        return work + path.per_event


def _template(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"ses_{kind}.json").read_text())
    return loaded


def _events(campaign_id: str, emails: list[tuple[str, str]], rng: random.Random) -> list[str]:
    templates = {k: _template(k) for k in ("send", "delivery", "open", "click", "bounce",
                                           "complaint")}  # fmt: skip
    bodies: list[str] = []
    for index, (address, message_id) in enumerate(emails):
        kinds = ["send", "delivery"]
        if rng.random() < 0.5:
            kinds.append("open")
        if rng.random() < 0.2:
            kinds.append("click")
        if index % 50 == 0:
            kinds.append("bounce")
        if index % 50 == 1:
            kinds.append("complaint")
        for kind in kinds:
            event = json.loads(json.dumps(templates[kind]))
            event["mail"].update(messageId=message_id, destination=[address])
            event["mail"]["tags"].update(campaignId=[campaign_id], segmentId=["bench"])
            if kind == "bounce":
                event["bounce"]["bouncedRecipients"] = [{"emailAddress": address}]
            if kind == "complaint":
                event["complaint"]["complainedRecipients"] = [{"emailAddress": address}]
            if kind == "delivery":
                event["delivery"]["recipients"] = [address]
            bodies.append(json.dumps(event))
    duplicates = rng.sample(bodies, len(bodies) // 10)
    bodies.extend(duplicates)
    rng.shuffle(bodies)
    return bodies


def _sender_record(campaign_id: str, address: str, message_id: str) -> dict[str, Any]:
    """The record a sender leaves for a sent email (`ems_sender.dal.records`): its size is
    what each of the tracker's updates is billed on."""
    now = int(time.time())
    at = datetime.now(UTC).isoformat()
    return {
        "pk": campaign_id,
        "sk": address,
        "state": "SENT",
        "segment_id": "bench",
        "claim_owner": f"sender-{uuid.uuid4().hex[:12]}:{uuid.uuid4()}",
        "claim_until": now + 300,
        "claims": 1,
        "claimed_at": at,
        "completed_at": at,
        "ses_message_id": message_id,
        "expires_at": now + 400 * 86_400,
    }


def measure_tracker(emails: int = DEFAULT_EMAILS, *, with_records: bool = True) -> TrackerFigures:
    """Run the mix through one tracker against the running local stack."""
    settings = InfraSettings()
    clients = AwsClients()
    dynamodb = clients.client("dynamodb")
    campaign_id = f"bench-track-{uuid.uuid4().hex[:8]}"
    # SES message ids as SES makes them (60 characters): they are on every record
    records = [(f"b{i}-{uuid.uuid4().hex[:6]}@example.org",
                f"0100019a{uuid.uuid4().hex[:8]}-{uuid.uuid4()}-000000")
               for i in range(emails)]  # fmt: skip
    if with_records:
        for address, message_id in records:
            dynamodb.put_item(
                TableName=settings.emails_table,
                Item=to_item(_sender_record(campaign_id, address, message_id)),
            )
    bodies = _events(campaign_id, records, random.Random(7))  # noqa: S311 - a fixed mix
    batch_size = LambdaSizing.from_terraform().tracker_batch_size

    counter = RequestCounter()
    tracker = build_tracker(TrackerSettings(), CountingClients(counter))
    started = time.perf_counter()
    for first in range(0, len(bodies), batch_size):
        outcome = tracker.process_batch(bodies[first : first + batch_size])
        if outcome.failed:
            msg = f"the tracker failed {len(outcome.failed)} events of a batch: see its log"
            raise RuntimeError(msg)
    seconds = time.perf_counter() - started
    print(f"tracker: {len(bodies)} events, {dict(tracker.stats)}\n{counter.summary()}")
    record_bytes = [len(json.dumps(json.loads(b), separators=(",", ":"))) + 1 for b in bodies]
    return TrackerFigures(
        events=len(bodies),
        seconds=seconds,
        batch_size=batch_size,
        counter=counter,
        event_bytes=sum(record_bytes) / len(record_bytes),
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=DEFAULT_EMAILS)
    parser.add_argument(
        "--without-records",
        action="store_true",
        help="no sender's records: the tracker creates each email's record",
    )
    args = parser.parse_args()
    figures = measure_tracker(args.emails, with_records=not args.without_records)
    print(
        f"{figures.events} events in batches of {figures.batch_size}, {figures.seconds:.1f} s:"
        f" {figures.events_per_second:.0f} events/s,"
        f" {figures.requests_per_event:.2f} DynamoDB requests per event"
    )
    print("DynamoDB calls per event:",
          ", ".join(f"{name} {n:.3f}" for name, n in figures.operations().items()))  # fmt: skip
    met = figures.write_units_per_event <= GOAL_TRACKER_WRITE_UNITS_PER_EVENT
    print(
        f"tracker DynamoDB write units per event: {figures.write_units_per_event:.2f}"
        f" (goal <= {GOAL_TRACKER_WRITE_UNITS_PER_EVENT:g}: {'met' if met else 'NO'});"
        f" read units per event: {figures.read_units_per_event:.2f}"
    )


if __name__ == "__main__":
    main()
