"""The suppression list: addresses EMS must not send to (hard bounces, complaints, by hand).

Addresses are stored lower-cased: mailbox providers treat local parts case-insensitively in
practice, and a suppression that a capital letter could dodge would be no suppression.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ems_common import keys
from ems_common.campaigns import utc_iso, utc_now
from ems_common.dal.items import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH_GET_MAX = 100


def suppression_key(address: str) -> str:
    """The form an address is stored and compared in."""
    return address.strip().lower()


class SuppressionList:
    """Reads and writes the suppressions table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add(self, address: str, *, reason: str, source: str) -> None:
        """Suppress `address` (idempotent: the first reason is kept)."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        keys.PARTITION_KEY: suppression_key(address),
                        "reason": reason,
                        "source": source,
                        "suppressed_at": utc_iso(utc_now()),
                    }
                ),
                ConditionExpression=f"attribute_not_exists({keys.PARTITION_KEY})",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return

    def remove(self, address: str) -> bool:
        """Lift a suppression; True if there was one."""
        response = self._db.delete_item(
            TableName=self._table,
            Key=to_item({keys.PARTITION_KEY: suppression_key(address)}),
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    def contains(self, address: str) -> bool:
        """Whether `address` is suppressed."""
        item = self._db.get_item(
            TableName=self._table,
            Key=to_item({keys.PARTITION_KEY: suppression_key(address)}),
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def which(self, addresses: Iterable[str]) -> set[str]:
        """Of `addresses`, the (normalised) ones that are suppressed: 100 per BatchGetItem."""
        wanted = sorted({suppression_key(a) for a in addresses})
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [
                        to_item({keys.PARTITION_KEY: a})
                        for a in wanted[start : start + _BATCH_GET_MAX]
                    ],
                    "ProjectionExpression": keys.PARTITION_KEY,
                }
            }
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found.add(str(from_item(item)[keys.PARTITION_KEY]))
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    def all_keys(self) -> Iterator[str]:
        """Every suppressed address (a paginated scan: for building an in-memory set)."""
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table, ProjectionExpression=keys.PARTITION_KEY
        ):
            for item in page.get("Items", []):
                yield str(from_item(item)[keys.PARTITION_KEY])

    def page(
        self, *, limit: int = 100, start: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of suppressions with their reasons, and where the next starts."""
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = to_item({keys.PARTITION_KEY: start})
        response = self._db.scan(**request)
        items = [from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_start = str(from_item(last)[keys.PARTITION_KEY]) if last else None
        return items, next_start
