"""Transactional templates' records: `pk = template#<name>`, `sk = TEMPLATE` in the campaigns table.

The content lives in SES (a template may be 500 KB, more than a DynamoDB item holds); the record
keeps what EMS checks against: the fields, the size, the times. The template's per-day metrics
share its partition (`ems_common.dal.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.campaigns import utc_iso
from ems_common.dal.items import from_item, to_item
from ems_common.transactional import TEMPLATE_PARTITION_PREFIX, template_partition
from ems_scheduler.transactional.models import TemplateRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE_SK: Final = "TEMPLATE"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class TemplateExistsError(Exception):
    """A template of that name exists already."""


def _key(name: str) -> dict[str, Any]:
    return to_item({keys.PARTITION_KEY: template_partition(name), keys.SORT_KEY: TEMPLATE_SK})


def _to_item(record: TemplateRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json")
    values["created_at"] = utc_iso(record.created_at)
    values["updated_at"] = utc_iso(record.updated_at)
    return {**_key(record.name), **to_item(values)}


def _from_item(item: dict[str, Any]) -> TemplateRecord:
    values = from_item(item)
    return TemplateRecord.model_validate(
        {k: v for k, v in values.items() if k not in (keys.PARTITION_KEY, keys.SORT_KEY)}
    )


class TemplateRecords:
    """Reads and writes template records."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def create(self, record: TemplateRecord) -> None:
        """Store a new record; TemplateExistsError if the name is taken."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_to_item(record),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": keys.PARTITION_KEY},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            raise TemplateExistsError(record.name) from error

    def put(self, record: TemplateRecord) -> None:
        """Store the record, replacing any."""
        self._db.put_item(TableName=self._table, Item=_to_item(record))

    def get(self, name: str) -> TemplateRecord | None:
        """The record, or None."""
        item = self._db.get_item(TableName=self._table, Key=_key(name), ConsistentRead=True)
        return _from_item(item["Item"]) if "Item" in item else None

    def delete(self, name: str) -> bool:
        """Delete the record; True if there was one."""
        response = self._db.delete_item(
            TableName=self._table, Key=_key(name), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def page(self, *, limit: int, start: str | None) -> tuple[list[TemplateRecord], str | None]:
        """Up to `limit` templates after the one named `start`, and the name the next page
        starts after (None: the last page).

        A filtered scan of the campaigns table: templates are few, and a page is filled by
        scanning on until `limit` are found or the table ends.
        """
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#sk = :sk AND begins_with(#pk, :prefix)",
            "ExpressionAttributeNames": {"#sk": keys.SORT_KEY, "#pk": keys.PARTITION_KEY},
            "ExpressionAttributeValues": to_item(
                {":sk": TEMPLATE_SK, ":prefix": TEMPLATE_PARTITION_PREFIX}
            ),
        }
        if start:
            request["ExclusiveStartKey"] = _key(start)
        found: list[TemplateRecord] = []
        while len(found) < limit:
            request["Limit"] = max(limit - len(found), 25)
            response = self._db.scan(**request)
            found.extend(_from_item(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return found[:limit], (found[limit - 1].name if len(found) > limit else None)
            request["ExclusiveStartKey"] = last
        return found[:limit], found[limit - 1].name
