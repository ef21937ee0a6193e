"""The shared limiter item in DynamoDB: the only code here that calls AWS for state.

One item per limiter name holds the whole state (slot grid, free transactional slots,
transactional demand, sends per hour), so a reservation is one conditional PutItem on the
item's version: rate and quota move together, and a lost race costs one request, since the
failed write returns the current item (`ReturnValuesOnConditionCheckFailure=ALL_OLD`).
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from botocore.exceptions import ClientError

from ems_common.keys import PARTITION_KEY, TTL_ATTRIBUTE
from ems_sender.limiter.model import DAY_S, HOUR_S, MICROS, LimiterState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEM_PREFIX: Final = "send-limiter#"
# The item outlives its last write by the whole quota window, then DynamoDB may drop it.
ITEM_TTL_S: Final = DAY_S + 2 * HOUR_S

_VERSION: Final = "v"
_SPACING: Final = "spacing_us"
_STRIPES: Final = "stripes_next_us"
_TXN_SLOTS: Final = "transactional_slots_us"
_TXN_RATE: Final = "transactional_rate"
_TXN_RATE_AT: Final = "transactional_rate_at_us"
_SENT_BY_HOUR: Final = "sent_by_hour"


def item_key(name: str) -> str:
    """The partition key of limiter `name`'s item."""
    return f"{ITEM_PREFIX}{name}"


def to_item(name: str, state: LimiterState, now_us: int) -> dict[str, Any]:
    """The state as a DynamoDB item (low-level attribute values)."""
    return {
        PARTITION_KEY: {"S": item_key(name)},
        _VERSION: {"N": str(state.version)},
        _SPACING: {"N": str(state.spacing_us)},
        _STRIPES: {"L": [{"N": str(s)} for s in state.stripes_next_us]},
        _TXN_SLOTS: {"L": [{"N": str(s)} for s in state.transactional_slots_us]},
        _TXN_RATE: {"N": f"{state.transactional_rate:.9g}"},
        _TXN_RATE_AT: {"N": str(state.transactional_rate_at_us)},
        _SENT_BY_HOUR: {"M": {str(h): {"N": str(n)} for h, n in state.sent_by_hour.items()}},
        TTL_ATTRIBUTE: {"N": str(now_us // MICROS + ITEM_TTL_S)},
    }


def from_item(item: dict[str, Any]) -> LimiterState:
    """A DynamoDB item (low-level attribute values) back to the state."""
    return LimiterState(
        version=int(item[_VERSION]["N"]),
        spacing_us=int(item[_SPACING]["N"]),
        stripes_next_us=tuple(int(v["N"]) for v in item[_STRIPES]["L"]),
        transactional_slots_us=tuple(int(v["N"]) for v in item[_TXN_SLOTS]["L"]),
        transactional_rate=float(item[_TXN_RATE]["N"]),
        transactional_rate_at_us=int(item[_TXN_RATE_AT]["N"]),
        sent_by_hour=MappingProxyType(
            {int(h): int(v["N"]) for h, v in item[_SENT_BY_HOUR]["M"].items()}
        ),
    )


class LimiterStore(Protocol):
    """Where limiter state lives: the DynamoDB table, or an in-memory fake in tests."""

    @property
    def reads(self) -> int:
        """GetItem requests made so far."""
        ...

    @property
    def writes(self) -> int:
        """PutItem requests made so far (lost races included)."""
        ...

    def load(self, name: str) -> LimiterState:
        """The current state; a fresh one if there is none."""
        ...

    def save(
        self, name: str, state: LimiterState, *, expected_version: int, now_us: int
    ) -> LimiterState | None:
        """Write if still at `expected_version`: None, else the current state."""
        ...


class LimiterTable:
    """Reads and conditionally writes limiter items; counts its requests for the benchmarks.

    Reads and writes are counted apart: a partition takes about 1,000 writes but 3,000
    strongly consistent reads a second, so the limiter spends reads to save writes.
    """

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._ddb = client
        self._table = table_name
        self._lock = threading.Lock()
        self._reads = 0
        self._writes = 0

    @property
    def reads(self) -> int:
        """GetItem requests made so far."""
        return self._reads

    @property
    def writes(self) -> int:
        """PutItem requests made so far (lost races included)."""
        return self._writes

    def load(self, name: str) -> LimiterState:
        """The current state (strongly consistent); a fresh state if there is no item yet."""
        with self._lock:
            self._reads += 1
        response = self._ddb.get_item(
            TableName=self._table,
            Key={PARTITION_KEY: {"S": item_key(name)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return from_item(item) if item else LimiterState()

    def save(
        self, name: str, state: LimiterState, *, expected_version: int, now_us: int
    ) -> LimiterState | None:
        """Write `state` if the item is still at `expected_version`.

        Returns None when written; otherwise the item as it is now (a fresh state if it is
        gone), for the caller to plan again on.
        """
        with self._lock:
            self._writes += 1
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=to_item(name, state, now_us),
                # Written states start at version 1, so version 0 means "no item yet".
                ConditionExpression="attribute_not_exists(#pk) OR #v = :v",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#v": _VERSION},
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            current = cast("dict[str, Any] | None", error.response.get("Item"))
            return from_item(current) if current else LimiterState()
        return None
