"""The suppressions table: one item per (address, scope) (`ems_common.suppressions`).

Key: `pk` = the address in lower case, `sk` = the scope (`all`, `campaigns`, `list:<name>`).
Checking an email is one key per scope that could block it (`blocking_scopes`), so a batch of
50 campaign emails is at most 150 keys in two BatchGetItem calls; an address's suppressions are
one query.
"""

from __future__ import annotations

import concurrent.futures
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ems_common import keys
from ems_common.campaigns import utc_iso, utc_now
from ems_common.dal.items import batch_get, from_item, to_item
from ems_common.suppressions import (
    Suppression,
    blocked_among,
    blocking_keys,
    suppression_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SUPPRESSED_AT: Final = "suppressed_at"
SUPPRESSED_DAY: Final = "suppressed_day"
"""The day (UTC, YYYY-MM-DD) of `suppressed_at`: the day index's partition (Terraform names
the index; `InfraSettings.suppressions_day_index`)."""
_BATCH_WRITE_MAX: Final = 25
_WRITERS: Final = 4  # BatchWriteItem calls in flight during an import


def _item(suppression: Suppression) -> dict[str, Any]:
    values = suppression.model_dump(mode="json", exclude={"address", "scope"})
    # One format (utc_iso) for every item: the day index compares these as strings.
    values[SUPPRESSED_AT] = utc_iso(suppression.suppressed_at or utc_now())
    values[SUPPRESSED_DAY] = values[SUPPRESSED_AT][:10]
    return to_item(
        {
            keys.PARTITION_KEY: suppression_key(suppression.address),
            keys.SORT_KEY: suppression.scope,
            **values,
        }
    )


def _suppression(item: dict[str, Any]) -> Suppression:
    values = from_item(item)
    return Suppression.model_validate(
        {
            **values,
            "address": values.pop(keys.PARTITION_KEY),
            "scope": values.pop(keys.SORT_KEY),
        }
    )


class SuppressionList:
    """Reads and writes the suppressions table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add(self, suppression: Suppression) -> bool:
        """Suppress (idempotent: the first reason is kept); True if it was not suppressed."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_item(suppression),
                ConditionExpression=f"attribute_not_exists({keys.PARTITION_KEY})",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def add_many(self, suppressions: Sequence[Suppression]) -> int:
        """Suppress many at once (an import), keeping what is there already; returns how many
        were new. Reads which exist (100 keys a call), then writes the others (25 a call)."""
        existing = self._existing((suppression_key(s.address), s.scope) for s in suppressions)
        new: dict[tuple[str, str], Suppression] = {}
        for suppression in suppressions:
            key = (suppression_key(suppression.address), suppression.scope)
            if key not in existing:
                new.setdefault(key, suppression)
        chunks = [
            list(new.values())[start : start + _BATCH_WRITE_MAX]
            for start in range(0, len(new), _BATCH_WRITE_MAX)
        ]
        with concurrent.futures.ThreadPoolExecutor(_WRITERS) as pool:
            list(pool.map(self._write, chunks))
        return len(new)

    def _write(self, chunk: list[Suppression]) -> None:
        request: dict[str, Any] = {self._table: [{"PutRequest": {"Item": _item(s)}} for s in chunk]}
        while request:
            response = self._db.batch_write_item(RequestItems=request)
            request = dict(response.get("UnprocessedItems") or {})

    def remove(self, address: str, scope: str | None = None) -> list[str]:
        """Lift the address's suppression in `scope`, or in every scope (None); returns the
        scopes lifted."""
        scopes = [scope] if scope is not None else [s.scope for s in self.of(address)]
        lifted = []
        for one in scopes:
            response = self._db.delete_item(
                TableName=self._table,
                Key=to_item({keys.PARTITION_KEY: suppression_key(address), keys.SORT_KEY: one}),
                ReturnValues="ALL_OLD",
            )
            if response.get("Attributes"):
                lifted.append(one)
        return lifted

    def of(self, address: str) -> list[Suppression]:
        """Every suppression of `address` (one query)."""
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.PARTITION_KEY},
            ExpressionAttributeValues=to_item({":pk": suppression_key(address)}),
            ConsistentRead=True,
        )
        return [_suppression(item) for item in response.get("Items", [])]

    def blocking(
        self, addresses: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], list[Suppression]]:
        """Of (address, list name) pairs, those whose email is blocked, with what blocks it.

        The list name is the campaign email's list; None for a transactional email (only
        `all` blocks it). Addresses are compared lower-cased; the answer keys are as given.
        """
        pairs = list(addresses)
        found = self._existing(key for pair in pairs for key in blocking_keys(*pair))
        return blocked_among(pairs, found)

    def _existing(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Suppression]:
        """The stored suppressions among (address, scope) keys: BatchGetItem, 100 keys a call."""
        unique = sorted(set(wanted))
        item_keys = [to_item({keys.PARTITION_KEY: a, keys.SORT_KEY: s}) for a, s in unique]
        found: dict[tuple[str, str], Suppression] = {}
        for item in batch_get(self._db, self._table, item_keys):
            suppression = _suppression(item)
            found[(suppression.address, suppression.scope)] = suppression
        return found

    def made_since(self, since: datetime, day_index: str) -> list[Suppression]:
        """Every suppression made at `since` or later: one query of the day index for each day
        from `since` to today (UTC), paginated."""
        found: list[Suppression] = []
        day, today = since.astimezone(UTC).date(), utc_now().date()
        paginator = self._db.get_paginator("query")
        while day <= today:
            pages = paginator.paginate(
                TableName=self._table,
                IndexName=day_index,
                KeyConditionExpression="#day = :day AND #at >= :since",
                ExpressionAttributeNames={"#day": SUPPRESSED_DAY, "#at": SUPPRESSED_AT},
                ExpressionAttributeValues=to_item(
                    {":day": day.isoformat(), ":since": utc_iso(since)}
                ),
            )
            found += [_suppression(item) for page in pages for item in page.get("Items", [])]
            day += timedelta(days=1)
        return found

    def by_address(self) -> dict[str, list[Suppression]]:
        """Every suppression, by address (a paginated scan: for verifying a campaign)."""
        everything: dict[str, list[Suppression]] = defaultdict(list)
        for suppression in self.scan():
            everything[suppression.address].append(suppression)
        return dict(everything)

    def scan(self) -> Iterator[Suppression]:
        """Every suppression (a paginated scan)."""
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table):
            for item in page.get("Items", []):
                yield _suppression(item)

    def page(
        self,
        *,
        limit: int = 100,
        start: tuple[str, str] | None = None,
        scope: str | None = None,
        reason: str | None = None,
    ) -> tuple[list[Suppression], tuple[str, str] | None]:
        """A page of suppressions (filtered by scope and reason), and the key the next starts
        after. A filtered page may hold fewer than `limit` (DynamoDB filters after reading)."""
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = to_item(
                {keys.PARTITION_KEY: start[0], keys.SORT_KEY: start[1]}
            )
        filters, names, values = [], {}, {}
        if scope is not None:
            filters.append("#scope = :scope")
            names["#scope"] = keys.SORT_KEY
            values[":scope"] = scope
        if reason is not None:
            filters.append("#reason = :reason")
            names["#reason"] = "reason"
            values[":reason"] = reason
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
            request["ExpressionAttributeNames"] = names
            request["ExpressionAttributeValues"] = to_item(values)
        response = self._db.scan(**request)
        last = response.get("LastEvaluatedKey")
        after = None
        if last:
            plain = from_item(last)
            after = (str(plain[keys.PARTITION_KEY]), str(plain[keys.SORT_KEY]))
        return [_suppression(item) for item in response.get("Items", [])], after
