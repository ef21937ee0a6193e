"""Counting an unsubscribe once, on the email it came from and in its campaign's metrics.

The email's record gets `unsubscribed_at` (only if it has none: a second click counts nothing)
in the same transaction as the `unsubscribed` counter of the email's campaign and segment (or of
its transactional template's day), so the count is neither lost nor doubled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.campaigns import utc_iso, utc_now
from ems_common.dal.emails import EmailKey
from ems_common.dal.metrics import CampaignMetrics
from ems_common.emails import UNSUBSCRIBED_AT
from ems_common.metrics import Metric

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CANCELLED: Final = "TransactionCanceledException"


class UnsubscribeRecords:
    """The emails table and the metrics items, as an unsubscribe touches them."""

    def __init__(self, client: DynamoDBClient, *, emails_table: str, campaigns_table: str) -> None:
        self._db = client
        self._emails = emails_table
        self._metrics = CampaignMetrics(client, campaigns_table)

    def count(self, scope: str, address: str, list_name: str) -> bool:
        """Mark the email of `scope` (campaign or transactional email id) to `address`
        unsubscribed and count it; False if it was counted before, or EMS kept no record of it."""
        step = self._metrics.add_step(scope, list_name, {Metric.UNSUBSCRIBED: 1})
        steps: list[Any] = [
            {
                "Update": {
                    "TableName": self._emails,
                    "Key": EmailKey(scope, address).item_key(),
                    "UpdateExpression": "SET #at = :at",
                    "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#at)",
                    "ExpressionAttributeNames": {"#at": UNSUBSCRIBED_AT, "#pk": keys.PARTITION_KEY},
                    "ExpressionAttributeValues": {":at": {"S": utc_iso(utc_now())}},
                }
            },
        ]
        if step is not None:
            steps.append(step)
        try:
            self._db.transact_write_items(TransactItems=steps)
        except ClientError as error:
            if error.response["Error"]["Code"] != _CANCELLED:
                raise
            return False
        return True
