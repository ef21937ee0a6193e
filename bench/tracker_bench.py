"""Benchmark: how many SES events one tracker worker ingests a second, and at what DynamoDB cost.

    .venv/bin/python -m bench.tracker_bench [--emails 500]

Writes `emails` email records of a bench campaign (as the sender leaves them: SENT, with a
message id) to the local stack's DynamoDB, then feeds one in-process tracker a realistic mix of
events for them - Send and Delivery for every email, an Open for half, a Click for a fifth, a
hard bounce and a complaint for one in fifty, and one in ten delivered twice - exactly as the
SQS handler would. Counts every DynamoDB request the tracker makes (a botocore hook).
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.aws_requests import CountingClients, RequestCounter
from bench.cost import EventPath, LambdaSizing, Usage, gb_seconds
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
        """DynamoDB requests per event (reads, transactions, suppressions)."""
        return self.requests / self.events

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


def measure_tracker(emails: int = DEFAULT_EMAILS) -> TrackerFigures:
    """Run the mix through one tracker against the running local stack."""
    settings = InfraSettings()
    clients = AwsClients()
    dynamodb = clients.client("dynamodb")
    campaign_id = f"bench-track-{uuid.uuid4().hex[:8]}"
    records = [(f"b{i}-{uuid.uuid4().hex[:6]}@example.org", f"bench-{uuid.uuid4()}")
               for i in range(emails)]  # fmt: skip
    for address, message_id in records:
        dynamodb.put_item(
            TableName=settings.emails_table,
            Item=to_item({"pk": campaign_id, "sk": address, "state": "SENT",
                          "segment_id": "bench", "ses_message_id": message_id}),
        )  # fmt: skip
    bodies = _events(campaign_id, records, random.Random(7))  # noqa: S311 - a fixed mix

    counter = RequestCounter()
    tracker = build_tracker(TrackerSettings(), CountingClients(counter))
    started = time.perf_counter()
    for body in bodies:
        tracker.process(body)
    seconds = time.perf_counter() - started
    print(f"tracker: {len(bodies)} events, {dict(tracker.stats)}\n{counter.summary()}")
    record_bytes = [len(json.dumps(json.loads(b), separators=(",", ":"))) + 1 for b in bodies]
    return TrackerFigures(
        events=len(bodies),
        seconds=seconds,
        counter=counter,
        event_bytes=sum(record_bytes) / len(record_bytes),
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=DEFAULT_EMAILS)
    figures = measure_tracker(parser.parse_args().emails)
    print(
        f"{figures.events} events in {figures.seconds:.1f} s: {figures.events_per_second:.0f}"
        f" events/s, {figures.requests_per_event:.2f} DynamoDB requests per event"
        f" ({figures.write_units_per_event:.2f} WCU, {figures.read_units_per_event:.2f} RCU)"
    )


if __name__ == "__main__":
    main()
