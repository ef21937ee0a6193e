"""The timeline's minute items in the events table (`ems_common.timeline` has their shape).

The tracker adds to them (`add`: one `UpdateItem` with `ADD`, so concurrent workers never lose
a count), the API reads them (`read`: one query, oldest minute first).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ems_common import keys
from ems_common.dal.items import from_item, to_item, update_expression
from ems_common.metrics import Metric
from ems_common.timeline import (
    TIMELINE_TTL_DAYS,
    Series,
    minute_key,
    parse_minute_key,
    series_counts,
    timeline_partition,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_MINUTES: Final = 30 * 24 * 60
"""The most minutes one read returns (30 days of a campaign that had events every minute)."""


@dataclass(frozen=True)
class TimelineMinute:
    """One minute's counts (series with nothing that minute are 0)."""

    minute: datetime
    counts: dict[Series, int]


class CampaignTimeline:
    """Per-minute counters of campaigns, in the events table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add(
        self,
        campaign_id: str,
        minute: datetime,
        metrics: Mapping[Metric, int],
        *,
        now: float | None = None,
    ) -> None:
        """Add a change of `campaign_id`'s counters (the deltas the campaign metrics get) to
        the minute `minute` falls in; nothing is written when no series moves."""
        moved = series_counts(metrics)
        if not moved:
            return
        expires = int(now if now is not None else time.time()) + TIMELINE_TTL_DAYS * 86_400
        expression, names, values = update_expression(
            {keys.TTL_ATTRIBUTE: expires}, {series.value: n for series, n in moved.items()}
        )
        self._db.update_item(
            TableName=self._table,
            Key=to_item(
                {
                    keys.PARTITION_KEY: timeline_partition(campaign_id),
                    keys.SORT_KEY: minute_key(minute),
                }
            ),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def read(
        self, campaign_id: str, *, since: datetime | None = None, limit: int = MAX_MINUTES
    ) -> tuple[list[TimelineMinute], bool]:
        """The minutes of `campaign_id` that had events, from `since` on, oldest first; and
        whether later minutes were left out (more than `limit`)."""
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": timeline_partition(campaign_id)}
        if since is not None:
            condition += " AND #sk >= :since"
            values[":since"] = minute_key(since)
        paginator = self._db.get_paginator("query")
        minutes: list[TimelineMinute] = []
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={
                "#pk": keys.PARTITION_KEY,
                **({"#sk": keys.SORT_KEY} if since is not None else {}),
            },
            ExpressionAttributeValues=to_item(values),
            ScanIndexForward=True,
        ):
            for raw in page.get("Items", []):
                if len(minutes) == limit:
                    return minutes, True
                item = from_item(raw)
                minutes.append(
                    TimelineMinute(
                        minute=parse_minute_key(str(item[keys.SORT_KEY])),
                        counts={s: int(item.get(s.value, 0)) for s in Series},
                    )
                )
        return minutes, False
