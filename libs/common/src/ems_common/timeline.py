"""A campaign's timeline: how many of its emails were sent, delivered, opened ... each minute.

The tracker adds each applied event to one counter item per campaign and minute (the minute
the event happened, UTC), kept in the events table beside the raw events and expiring after
`TIMELINE_TTL_DAYS`; the API reads them back (`GET /campaigns/{id}/timeline`, the console's
chart). The series are the campaign counters' own deltas, so a series added up over the whole
timeline equals its campaign metric (while no bucket has expired): `opened` and `clicked` count
each email's first open and click, `bounced` hard and soft bounces.

The item: `pk` = `timeline#<campaign id>`, `sk` = the minute (`2030-01-01T09:05Z`, so that
string order is time order), one number attribute per series, and `expires_at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from ems_common.metrics import Metric

TIMELINE_PARTITION_PREFIX: Final = "timeline#"
# Campaign ids hold no "#" or "@", so this partition never meets an email's events partition
# (`<scope>#<address>`, `ems_common.dal.emails.events_partition`).
TIMELINE_TTL_DAYS: Final = 90
"""How long a minute's counts are kept (DynamoDB TTL): a campaign's chart covers its sending
and the opens and clicks of the weeks after it."""
MINUTE_FORMAT: Final = "%Y-%m-%dT%H:%MZ"


class Series(StrEnum):
    """One line of the chart (an attribute of the minute's item)."""

    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


# Which campaign counters each series adds up (`ems_common.metrics`).
SERIES_METRICS: Final[Mapping[Series, tuple[Metric, ...]]] = {
    Series.SENT: (Metric.SENT,),
    Series.DELIVERED: (Metric.DELIVERED,),
    Series.OPENED: (Metric.OPENED_UNIQUE,),
    Series.CLICKED: (Metric.CLICKED_UNIQUE,),
    Series.BOUNCED: (Metric.BOUNCED_HARD, Metric.BOUNCED_SOFT),
    Series.COMPLAINED: (Metric.COMPLAINED,),
}


def timeline_partition(campaign_id: str) -> str:
    """The events-table partition of a campaign's minutes."""
    return f"{TIMELINE_PARTITION_PREFIX}{campaign_id}"


def minute_of(moment: datetime) -> datetime:
    """The UTC minute `moment` falls in (its bucket)."""
    if moment.tzinfo is None:
        msg = "timeline moments must be timezone-aware"
        raise ValueError(msg)
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def minute_key(moment: datetime) -> str:
    """The sort key of the minute `moment` falls in."""
    return minute_of(moment).strftime(MINUTE_FORMAT)


def parse_minute_key(key: str) -> datetime:
    """The minute a sort key names (UTC)."""
    return datetime.strptime(key, MINUTE_FORMAT).replace(tzinfo=UTC)


def series_counts(metrics: Mapping[Metric, int]) -> dict[Series, int]:
    """The series a change of campaign counters moves, and by how much (zeros left out)."""
    moved = {
        series: sum(int(metrics.get(metric, 0)) for metric in counted)
        for series, counted in SERIES_METRICS.items()
    }
    return {series: n for series, n in moved.items() if n}
