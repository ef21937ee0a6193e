"""Reading a campaign's email records, page by page, for the reconciler's recount."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from ems_common import keys
from ems_common.dal.items import from_item, to_item
from ems_common.emails import EmailRecord
from ems_common.recount import RECORD_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Records per Query: a page is under DynamoDB's 1 MB either way, and the recount may stop (to
# go on at the next tick) between any two.
_PAGE_ITEMS: Final = 1000


class CampaignEmailRecords:
    """The emails table, one campaign's partition at a time."""

    def __init__(self, client: "DynamoDBClient", table: str) -> None:
        self._db = client
        self._table = table

    def pages(
        self, campaign_id: str, after: str | None = None
    ) -> Iterator[tuple[list[EmailRecord], str | None]]:
        """The campaign's records after the record whose sort key is `after` (None: from the
        first), a page (one strongly consistent Query) at a time, each with the sort key to go
        on after (None after the last page): the caller may stop between pages and go on later.
        Only the fields a recount reads."""
        names = {f"#f{i}": name for i, name in enumerate(RECORD_FIELDS)}
        projection = ", ".join(names)
        names["#pk"] = keys.PARTITION_KEY
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({":pk": campaign_id}),
            "ConsistentRead": True,
            "Limit": _PAGE_ITEMS,
        }
        while True:
            if after is not None:
                request["ExclusiveStartKey"] = to_item(
                    {keys.PARTITION_KEY: campaign_id, keys.SORT_KEY: after}
                )
            response = self._db.query(**request)
            last = response.get("LastEvaluatedKey")
            after = str(from_item(last)[keys.SORT_KEY]) if last else None
            records = [EmailRecord.model_validate(from_item(i)) for i in response.get("Items", [])]
            yield records, after
            if after is None:
                return
