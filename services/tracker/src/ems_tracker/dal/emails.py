"""The tracker's writes: an event's raw copy, its email's fields and its campaign's counters,
in one DynamoDB transaction.

The raw copy is keyed by the event's content digest and written only if absent, so an event
delivered twice fails that condition and changes nothing the second time. The email's update
is guarded by the record's version (optimistic locking): two workers applying two events of
the same email cannot both count a "first" open.
"""

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.dal.emails import EmailKey
from ems_common.dal.items import from_item, to_item, update_expression
from ems_common.dal.metrics import CampaignMetrics
from ems_common.emails import SES_MESSAGE_ID, VERSION, EmailRecord
from ems_tracker.changes import Change
from ems_tracker.ses_events import SesEvent, SesNotification

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

UNMATCHED_PREFIX: Final = "unmatched#"
_CONDITION_FAILED: Final = "ConditionalCheckFailed"
_CANCELLED: Final = "TransactionCanceledException"
_CONFLICTS: Final = frozenset({"TransactionConflict", "TransactionConflictException"})


class Applied(StrEnum):
    """What became of an event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # seen before: nothing changed
    CONFLICT = "conflict"  # the email changed meanwhile: read it again and retry


def event_name(event: SesEvent | SesNotification) -> str:
    """Send, Delivery, Bounce ... whichever form the event came in."""
    return str(getattr(event, "event_type", None) or getattr(event, "notification_type", ""))


class EmailEvents:
    """The emails, events and metrics tables, as the tracker uses them."""

    def __init__(
        self,
        client: "DynamoDBClient",
        *,
        emails_table: str,
        message_id_index: str,
        events_table: str,
        metrics: CampaignMetrics,
        event_ttl_days: int,
    ) -> None:
        self._db = client
        self._emails = emails_table
        self._index = message_id_index
        self._events = events_table
        self._metrics = metrics
        self._ttl_seconds = event_ttl_days * 86_400

    def find(
        self, scope: str | None, recipient: str | None, message_id: str
    ) -> tuple[EmailKey, EmailRecord] | None:
        """The email an event is about: by its tags' key, else by SES message id; or None."""
        ref = EmailKey(scope, recipient) if scope and recipient else self._by_message_id(message_id)
        if ref is None:
            return None
        item = self._db.get_item(
            TableName=self._emails, Key=ref.item_key(), ConsistentRead=True
        ).get("Item")
        return (ref, EmailRecord.model_validate(from_item(item))) if item else None

    def _by_message_id(self, message_id: str) -> EmailKey | None:
        response = self._db.query(
            TableName=self._emails,
            IndexName=self._index,
            KeyConditionExpression="#id = :id",
            ExpressionAttributeNames={"#id": SES_MESSAGE_ID},
            ExpressionAttributeValues=to_item({":id": message_id}),
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return None
        item = from_item(items[0])
        return EmailKey(str(item[keys.PARTITION_KEY]), str(item[keys.SORT_KEY]))

    def _raw(
        self, partition: str, event: SesEvent | SesNotification, body: str, now: int
    ) -> dict[str, Any]:
        digest = hashlib.sha256(body.encode()).hexdigest()[:24]
        at = event.occurred_at.isoformat(timespec="milliseconds")
        return to_item(
            {
                keys.PARTITION_KEY: partition,
                keys.SORT_KEY: f"{at}#{event_name(event)}#{digest}",
                "event_type": event_name(event),
                SES_MESSAGE_ID: event.message_id,
                "occurred_at": at,
                "body": body,
                keys.TTL_ATTRIBUTE: now + self._ttl_seconds,
            }
        )

    def keep_unmatched(self, event: SesEvent | SesNotification, body: str, now: int) -> bool:
        """Keep an event no email is known for (by its message id); False if kept already."""
        item = self._raw(f"{UNMATCHED_PREFIX}{event.message_id}", event, body, now)
        try:
            self._db.put_item(
                TableName=self._events,
                Item=item,
                ConditionExpression=f"attribute_not_exists({keys.PARTITION_KEY})",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def apply(
        self,
        ref: EmailKey,
        record: EmailRecord,
        change: Change,
        *,
        event: SesEvent | SesNotification,
        body: str,
        now: int,
    ) -> Applied:
        """Write the raw event, the email's change and the metrics, all or nothing."""
        version = record.tracker_version
        expression, names, values = update_expression(
            {**change.set_fields, VERSION: version + 1}, change.add_fields
        )
        names["#v"] = VERSION
        if version:
            condition = "#v = :v"
            values.update(to_item({":v": version}))
        else:
            condition = "attribute_not_exists(#v)"
        steps: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._events,
                    "Item": self._raw(ref.events_partition, event, body, now),
                    "ConditionExpression": f"attribute_not_exists({keys.PARTITION_KEY})",
                }
            },
            {
                "Update": {
                    "TableName": self._emails,
                    "Key": ref.item_key(),
                    "UpdateExpression": expression,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        metrics = self._metrics.add_step(ref.scope, record.segment_id, change.metrics)
        if metrics is not None:
            steps.append(metrics)
        try:
            self._db.transact_write_items(TransactItems=steps)  # type: ignore[arg-type]
        except ClientError as error:
            if error.response["Error"]["Code"] != _CANCELLED:
                raise
            cancellation = error.response.get("CancellationReasons", [])
            reasons = [reason.get("Code") for reason in cancellation]
            if reasons and reasons[0] == _CONDITION_FAILED:
                return Applied.DUPLICATE
            if _CONDITION_FAILED in reasons or _CONFLICTS & set(reasons):
                return Applied.CONFLICT
            raise
        return Applied.APPLIED
