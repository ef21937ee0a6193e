"""What the tracker wrote, read back for the API: campaign metrics, one email, its raw events,
a campaign's per-minute timeline.

The tracker (and the sender) write the emails, events and metrics items; the API only reads
them, and lifts suppressions. The DynamoDB client is built on first use (`ems_scheduler.wiring`
passes a factory), so making the app makes no client: tests and the local runtime choose the
endpoint first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from ems_common import keys
from ems_common.dal.emails import EmailKey
from ems_common.dal.items import from_item, to_item
from ems_common.dal.metrics import CampaignMetrics, CampaignNumbers
from ems_common.dal.timeline import CampaignTimeline, TimelineMinute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The events shown for one email: its newest, oldest first. An email has a handful (send,
# delivery, a few opens and clicks); a cap keeps a much-opened one from making a huge answer.
MAX_EVENTS: Final = 100


@dataclass(frozen=True)
class RecordedEvent:
    """One raw SES event of an email, as the tracker kept it."""

    event_type: str
    occurred_at: str
    ses_message_id: str | None
    event: Any  # the SES event's JSON, decoded; its text when it is not JSON


@dataclass(frozen=True)
class EventHistory:
    """An email's newest events, oldest first, and whether older ones were left out."""

    events: list[RecordedEvent]
    older_left_out: bool


class TrackingReads(Protocol):
    """What the API reads of the tracking tables (the DynamoDB adapter, or a fake in tests)."""

    def metrics(self, campaign_id: str) -> CampaignNumbers:
        """The campaign's counters, in total and per segment."""
        ...

    def email(self, campaign_id: str, address: str) -> dict[str, Any] | None:
        """The record of the campaign's email to `address` (sender's and tracker's fields)."""
        ...

    def events(self, campaign_id: str, address: str, *, limit: int = MAX_EVENTS) -> EventHistory:
        """The email's newest `limit` raw events, oldest first."""
        ...

    def timeline(
        self, campaign_id: str, *, since: datetime | None
    ) -> tuple[list[TimelineMinute], bool]:
        """The campaign's minutes with events from `since` on, oldest first, and whether later
        ones were left out (`ems_common.dal.timeline`)."""
        ...


class DynamoTrackingReads:
    """The emails, events and metrics items in DynamoDB."""

    def __init__(
        self,
        db: Callable[[], DynamoDBClient],
        *,
        campaigns_table: str,
        emails_table: str,
        events_table: str,
    ) -> None:
        self._db = db
        self._campaigns = campaigns_table
        self._emails = emails_table
        self._events = events_table

    def metrics(self, campaign_id: str) -> CampaignNumbers:
        """The campaign's counters (the metrics items live in the campaigns table)."""
        return CampaignMetrics(self._db(), self._campaigns).read(campaign_id)

    def email(self, campaign_id: str, address: str) -> dict[str, Any] | None:
        """The email record, or None while no sender has taken it (or there is no such email)."""
        item = (
            self._db()
            .get_item(
                TableName=self._emails,
                Key=EmailKey(campaign_id, address).item_key(),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return from_item(item) if item else None

    def events(self, campaign_id: str, address: str, *, limit: int = MAX_EVENTS) -> EventHistory:
        """The email's newest `limit` events, oldest first (sort keys start with the time)."""
        response = self._db().query(
            TableName=self._events,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.PARTITION_KEY},
            ExpressionAttributeValues=to_item(
                {":pk": EmailKey(campaign_id, address).events_partition}
            ),
            ScanIndexForward=False,
            Limit=limit + 1,  # one more than shown: says whether older ones exist
        )
        newest_first = [_recorded(from_item(item)) for item in response.get("Items", [])]
        return EventHistory(
            events=list(reversed(newest_first[:limit])),
            older_left_out=len(newest_first) > limit,
        )

    def timeline(
        self, campaign_id: str, *, since: datetime | None
    ) -> tuple[list[TimelineMinute], bool]:
        """The campaign's minute items (they live in the events table, beside raw events)."""
        return CampaignTimeline(self._db(), self._events).read(campaign_id, since=since)


def _recorded(item: dict[str, Any]) -> RecordedEvent:
    body = str(item.get("body", ""))
    try:
        event: Any = json.loads(body)
    except ValueError:
        event = body  # kept as text: still worth showing
    message_id = item.get("ses_message_id")
    return RecordedEvent(
        event_type=str(item.get("event_type", "")),
        occurred_at=str(item.get("occurred_at", "")),
        ses_message_id=str(message_id) if message_id is not None else None,
        event=event,
    )
