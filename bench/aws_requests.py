"""Counting the AWS requests real EMS code makes, by service and operation (botocore hooks).

`RequestCounter.attach(client)` registers three hooks on a client: before its parameters are
built (asks DynamoDB for `ReturnConsumedCapacity=TOTAL` where the operation takes it, notes
the SQS payload sent), before the call (starts its clock) and after it (records the call, its
billed SQS chunks, its DynamoDB capacity units, its time). `CountingClients` is an
`AwsClients` whose clients are all attached, so a service built by its own factory is counted
whole. Where DynamoDB reports no capacity (a failed conditional write, a cancelled
transaction) the units are derived from AWS's rules and the call is counted as derived.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from botocore.client import BaseClient
from botocore.config import Config

from bench.cost import sqs_billed_requests
from ems_common.aws import AwsClients

_WRITES: Final = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
_READS: Final = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_WRITE_UNIT_BYTES: Final = 1024
_READ_UNIT_BYTES: Final = 4096
_PAYLOAD: Final = "bench_payload_bytes"
_ITEMS: Final = "bench_derived_units"
_STARTED: Final = "bench_started"


@dataclass
class Tally:
    """What the calls of one (service, operation, resource) made and cost."""

    calls: int = 0
    billed_requests: int = 0  # SQS: 64 KB chunks (at least one a call); others: calls
    payload_bytes: int = 0
    write_units: float = 0.0
    read_units: float = 0.0
    derived_calls: int = 0  # DynamoDB calls whose units were derived, not reported
    empty: int = 0  # SQS receives that returned no message
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        """Add `other` into this tally."""
        self.calls += other.calls
        self.billed_requests += other.billed_requests
        self.payload_bytes += other.payload_bytes
        self.write_units += other.write_units
        self.read_units += other.read_units
        self.derived_calls += other.derived_calls
        self.empty += other.empty
        self.seconds += other.seconds


type Key = tuple[str, str, str]  # service, operation, resource (table or queue name)


def _size(value: object) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":")).encode())


def _message_bytes(message: Mapping[str, Any]) -> int:
    """An SQS message's billed payload: body and attributes."""
    body = message.get("MessageBody", message.get("Body", ""))
    attributes = message.get("MessageAttributes") or {}
    return len(str(body).encode()) + (_size(attributes) if attributes else 0)


def _derived_units(operation: str, params: Mapping[str, Any]) -> float:
    """Capacity units by AWS's rules: 1 KB a write unit, 4 KB a read unit, x2 in transactions.

    Item sizes are those of the request (an update's new values); a consistent read of an item
    up to 4 KB is one unit, an eventually consistent one half.
    """
    if operation == "TransactWriteItems":
        return sum(2 * max(1, math.ceil(_size(step) / _WRITE_UNIT_BYTES))
                   for step in params.get("TransactItems", []))  # fmt: skip
    if operation == "BatchWriteItem":
        requests = [r for rs in params.get("RequestItems", {}).values() for r in rs]
        return sum(max(1, math.ceil(_size(r) / _WRITE_UNIT_BYTES)) for r in requests)
    if operation in _WRITES:
        return max(1, math.ceil(_size(params.get("Item", params)) / _WRITE_UNIT_BYTES))
    if operation == "TransactGetItems":
        return 2.0 * len(params.get("TransactItems", []))
    if operation == "BatchGetItem":
        return sum(len(table.get("Keys", [])) * (1.0 if table.get("ConsistentRead") else 0.5)
                   for table in params.get("RequestItems", {}).values())  # fmt: skip
    return 1.0 if params.get("ConsistentRead") else 0.5


def _resource(params: Mapping[str, Any]) -> str:
    if "TableName" in params:
        return str(params["TableName"])
    if "QueueUrl" in params:
        return str(params["QueueUrl"]).rsplit("/", 1)[-1]
    if "Bucket" in params:
        return str(params["Bucket"])
    return ""


class RequestCounter:
    """Every request of the attached clients, tallied by (service, operation, resource)."""

    def __init__(self) -> None:
        self.tallies: dict[Key, Tally] = {}
        self._lock = threading.Lock()

    def attach(self, client: BaseClient) -> None:
        """Count `client`'s requests from now on."""
        events = client.meta.events
        events.register("before-parameter-build", self._before_build)
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)

    def _before_build(self, params: dict[str, Any], model: Any, context: dict[str, Any],
                      **_: Any) -> None:  # fmt: skip
        service, operation = model.service_model.service_name, model.name
        context["bench_resource"] = _resource(params)
        if service == "dynamodb":
            if "ReturnConsumedCapacity" in model.input_shape.members:
                params["ReturnConsumedCapacity"] = "TOTAL"
            context[_ITEMS] = _derived_units(operation, params)
        elif service == "sqs":
            entries = params.get("Entries") if operation == "SendMessageBatch" else None
            if operation == "SendMessage":
                context[_PAYLOAD] = _message_bytes(params)
            elif entries is not None:
                context[_PAYLOAD] = sum(_message_bytes(entry) for entry in entries)

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED] = time.perf_counter()

    def _after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any],
                    **_: Any) -> None:  # fmt: skip
        service, operation = model.service_model.service_name, model.name
        call = Tally(calls=1, billed_requests=1)
        call.seconds = time.perf_counter() - context.get(_STARTED, time.perf_counter())
        if service == "sqs":
            payload = int(context.get(_PAYLOAD, 0))
            if operation == "ReceiveMessage":
                messages = parsed.get("Messages", [])
                payload = sum(_message_bytes(m) for m in messages)
                call.empty = 0 if messages else 1
            call.payload_bytes = payload
            call.billed_requests = sqs_billed_requests(payload)
        elif service == "dynamodb":
            self._capacity(operation, parsed, context, call)
        key = (service, operation, str(context.get("bench_resource", "")))
        with self._lock:
            self.tallies.setdefault(key, Tally()).add(call)

    @staticmethod
    def _capacity(operation: str, parsed: Mapping[str, Any], context: Mapping[str, Any],
                  call: Tally) -> None:  # fmt: skip
        consumed = parsed.get("ConsumedCapacity")
        derived = float(context.get(_ITEMS, 0.0))
        if consumed is None or "Error" in parsed:
            units = derived
            call.derived_calls = 1
        else:
            reports = consumed if isinstance(consumed, list) else [consumed]
            units = sum(float(report.get("CapacityUnits", 0.0)) for report in reports)
            # A read of an item that is not there still costs a unit (half, if eventually
            # consistent) on AWS; DynamoDB Local reports nothing for it.
            if operation in _READS and operation not in {"Query", "Scan"} and units < derived:
                units = derived
                call.derived_calls = 1
        if operation in _READS:
            call.read_units = units
        else:
            call.write_units = units

    def total(self, service: str, operations: Iterable[str] | None = None,
              resource: str | None = None) -> Tally:  # fmt: skip
        """The tallies of `service` (only `operations` / `resource`, if given) added up."""
        wanted = None if operations is None else set(operations)
        result = Tally()
        with self._lock:
            for (svc, operation, res), tally in self.tallies.items():
                if svc != service or (wanted is not None and operation not in wanted):
                    continue
                if resource is not None and res != resource:
                    continue
                result.add(tally)
        return result

    def summary(self) -> str:
        """One line per (service, operation, resource): calls, billed, units."""
        with self._lock:
            items = sorted(self.tallies.items())
        return "\n".join(
            f"  {svc} {op} {res}: {t.calls} calls, {t.billed_requests} billed,"
            f" {t.write_units:g} WCU, {t.read_units:g} RCU, {t.derived_calls} derived,"
            f" {t.empty} empty, {t.seconds:.2f} s"
            for (svc, op, res), t in items
        )


class CountingClients(AwsClients):
    """`AwsClients` whose every client is attached to `counter`."""

    def __init__(self, counter: RequestCounter, *, region: str | None = None,
                 config: Config | None = None) -> None:  # fmt: skip
        super().__init__(region=region, config=config)
        self.counter = counter
        self._attached: set[str] = set()
        self._attach_lock = threading.Lock()

    def client(self, service: str) -> Any:
        """The client for `service`, counted."""
        built = super().client(service)  # type: ignore[call-overload]
        with self._attach_lock:
            if service not in self._attached:
                self._attached.add(service)
                self.counter.attach(built)
        return built
