"""The tracker's writes to the emails and events tables: one conditional UpdateItem per event
on the email's record, and a raw copy of the rare events.

The update (`ems_tracker.changes.record_update`, rendered by `update_request`) sets first-time
fields with `if_not_exists` and returns the record as it was before (`ReturnValues=ALL_OLD`),
which says what the event changed: two events of one email applied at once each see the state
before their own write, so no lock or version is needed. An open or click carries its digest,
on the condition that the record does not hold it yet: delivered twice, it is refused the
second time. The record is created if the sender wrote none.
"""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.dal.emails import EmailKey
from ems_common.dal.items import from_item, to_item
from ems_common.emails import ENGAGEMENT_DIGESTS, EXPIRES_AT, SES_MESSAGE_ID, EmailRecord
from ems_tracker.changes import RecordUpdate
from ems_tracker.ses_events import SesEvent, SesNotification

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

UNMATCHED_PREFIX: Final = "unmatched#"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


def event_name(event: SesEvent | SesNotification) -> str:
    """Send, Delivery, Bounce ... whichever form the event came in."""
    return str(getattr(event, "event_type", None) or getattr(event, "notification_type", ""))


@dataclass(frozen=True)
class UpdateRequest:
    """An UpdateItem's expressions: every attribute behind a placeholder."""

    expression: str
    condition: str | None
    names: dict[str, str]
    values: dict[str, Any]


def update_request(update: RecordUpdate, *, expires_at: int) -> UpdateRequest:
    """The UpdateItem that makes `update` (the record, if it creates one, expires like the
    sender's: `expires_at` unless the record has a time already)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    firsts = {**update.firsts, EXPIRES_AT: expires_at}
    for i, (name, value) in enumerate(firsts.items()):
        names[f"#f{i}"] = name
        values[f":f{i}"] = value
        sets.append(f"#f{i} = if_not_exists(#f{i}, :f{i})")
    for i, (name, value) in enumerate(update.sets.items()):
        names[f"#s{i}"] = name
        values[f":s{i}"] = value
        sets.append(f"#s{i} = :s{i}")
    adds: list[str] = []
    for i, (name, n) in enumerate(update.adds.items()):
        names[f"#a{i}"] = name
        values[f":a{i}"] = n
        adds.append(f"#a{i} :a{i}")
    condition = None
    serialized = to_item(values)
    if update.digest is not None:
        names["#d"] = ENGAGEMENT_DIGESTS
        adds.append("#d :digests")
        serialized[":digests"] = {"SS": [update.digest]}
        serialized[":digest"] = {"S": update.digest}
        condition = "NOT contains(#d, :digest)"
    expression = f"SET {', '.join(sets)}" + (f" ADD {', '.join(adds)}" if adds else "")
    return UpdateRequest(expression, condition, names, serialized)


class EmailEvents:
    """The emails and events tables, as the tracker uses them."""

    def __init__(
        self,
        client: "DynamoDBClient",
        *,
        emails_table: str,
        message_id_index: str,
        events_table: str,
        event_ttl_days: int,
        record_ttl_days: int,
    ) -> None:
        self._db = client
        self._emails = emails_table
        self._index = message_id_index
        self._events = events_table
        self._event_ttl_seconds = event_ttl_days * 86_400
        self._record_ttl_seconds = record_ttl_days * 86_400

    def locate(self, scope: str | None, recipient: str | None, message_id: str) -> EmailKey | None:
        """The email an event is about: by its tags (no read), else by SES message id (the
        keys-only index: the update needs the key alone); None if EMS knows no such email."""
        if scope and recipient:
            return EmailKey(scope, recipient)
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

    def update(self, ref: EmailKey, update: RecordUpdate, now: int) -> EmailRecord | None:
        """Apply `update` to the email's record (creating it if need be); the record as it was
        before (empty if there was none), or None if it holds this open or click already."""
        request = update_request(update, expires_at=now + self._record_ttl_seconds)
        extra: dict[str, Any] = {}
        if request.condition is not None:
            extra["ConditionExpression"] = request.condition
        try:
            response = self._db.update_item(
                TableName=self._emails,
                Key=ref.item_key(),
                UpdateExpression=request.expression,
                ExpressionAttributeNames=request.names,
                ExpressionAttributeValues=request.values,
                ReturnValues="ALL_OLD",
                **extra,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            return None
        return EmailRecord.model_validate(from_item(response.get("Attributes", {})))

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
                keys.TTL_ATTRIBUTE: now + self._event_ttl_seconds,
            }
        )

    def keep(self, ref: EmailKey, event: SesEvent | SesNotification, body: str, now: int) -> None:
        """Keep the event's raw JSON with the email's (its key is the event's time, type and
        digest: the same event kept again overwrites itself)."""
        self._db.put_item(
            TableName=self._events, Item=self._raw(ref.events_partition, event, body, now)
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
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            return False
        return True
