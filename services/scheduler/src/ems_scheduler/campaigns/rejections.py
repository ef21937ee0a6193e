"""Rejected recipients' details: who was left out of a campaign and why, kept apart, for a while.

A campaign lists its first rejected recipients (`rejections_shown`) with their addresses, which
are personal data. The campaign record is kept as long as the campaign, so they are not in it:
they are an item of their own in the campaigns table, under the campaign's partition
(`pk = <campaign_id>`, `sk = REJECTIONS`), carrying the table's TTL attribute. DynamoDB deletes
it after `rejection_details_days` (within a few days of that time, so a read skips an item whose
time has passed); the record keeps the counts by reason, and the time the details expire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict

from ems_common import keys
from ems_common.campaigns import Rejection
from ems_common.dal.items import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REJECTIONS_SK: Final = "REJECTIONS"
"""The sort key of a campaign's rejected-recipient details (its record's is CAMPAIGN)."""


class RejectedRecipients(BaseModel):
    """A campaign's first rejected recipients, and when these details expire."""

    model_config = ConfigDict(frozen=True)

    rejections: list[Rejection]
    expires_at: datetime


class RejectionDetails:
    """Reads and writes the rejected-recipient items of the campaigns table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def _key(self, campaign_id: str) -> dict[str, Any]:
        return to_item({keys.PARTITION_KEY: campaign_id, keys.SORT_KEY: REJECTIONS_SK})

    def put(self, campaign_id: str, details: RejectedRecipients) -> None:
        """Store the campaign's details (replacing any), to be deleted at `expires_at`."""
        values = {
            "rejections": [r.model_dump(mode="json") for r in details.rejections],
            keys.TTL_ATTRIBUTE: int(details.expires_at.timestamp()),
        }
        self._db.put_item(TableName=self._table, Item={**self._key(campaign_id), **to_item(values)})

    def get(self, campaign_id: str, now: datetime) -> RejectedRecipients | None:
        """The campaign's details, or None when there are none or they have expired."""
        item = self._db.get_item(
            TableName=self._table, Key=self._key(campaign_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        expires_at = datetime.fromtimestamp(int(values[keys.TTL_ATTRIBUTE]), UTC)
        if expires_at <= now:  # expired, not deleted yet
            return None
        return RejectedRecipients(
            rejections=[Rejection.model_validate(r) for r in values.get("rejections", [])],
            expires_at=expires_at,
        )

    def delete(self, campaign_id: str) -> None:
        """Delete the campaign's details (none: nothing happens)."""
        self._db.delete_item(TableName=self._table, Key=self._key(campaign_id))
