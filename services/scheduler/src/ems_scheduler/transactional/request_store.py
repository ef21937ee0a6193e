"""Transactional requests and idempotency keys, in the emails table (see docs/transactional.md).

- Request: `pk = tx-<yyyymmdd>-<12 hex>`, `sk = REQUEST`: its template and the address of each
  accepted recipient by index, so `GET /emails/{id}` finds an email before the sender wrote its
  record. It expires with the email records.
- Idempotency key: `pk = idem#<sha256(key)>`, `sk = IDEMPOTENCY`: the request's digest, the
  answer, and whether its emails are queued. It expires after 24 hours.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson
from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.dal.items import from_item, to_item
from ems_common.transactional import IDEMPOTENCY_TTL_SECONDS
from ems_scheduler.transactional.models import SendAnswer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REQUEST_SK: Final = "REQUEST"
IDEMPOTENCY_SK: Final = "IDEMPOTENCY"
_IDEMPOTENCY_PREFIX: Final = "idem#"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class StoredRequest:
    """A request's template and its accepted recipients' addresses by index."""

    request_id: str
    template: str
    addresses: dict[int, str]


@dataclass(frozen=True)
class Remembered:
    """What an Idempotency-Key was first used for."""

    digest: str
    status: int
    answer: SendAnswer
    queued: bool


def _idempotency_key(key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return to_item(
        {keys.PARTITION_KEY: f"{_IDEMPOTENCY_PREFIX}{digest}", keys.SORT_KEY: IDEMPOTENCY_SK}
    )


def _remembered(item: dict[str, Any]) -> Remembered:
    values = from_item(item)
    return Remembered(
        digest=str(values["digest"]),
        status=int(values["status"]),
        answer=SendAnswer.model_validate_json(str(values["answer"])),
        queued=bool(values.get("queued", False)),
    )


class TransactionalStore:
    """The request and idempotency items."""

    def __init__(self, client: DynamoDBClient, table: str, *, record_ttl_days: int) -> None:
        self._db = client
        self._table = table
        self._record_ttl_seconds = record_ttl_days * 86_400

    # --- requests ---------------------------------------------------------------------------

    def put_request(self, answer: SendAnswer) -> None:
        """Store the request of `answer` (idempotent: the same answer writes the same item)."""
        addresses = {str(email.index): email.to for email in answer.emails}
        item = {
            keys.PARTITION_KEY: answer.request_id,
            keys.SORT_KEY: REQUEST_SK,
            "template": answer.template,
            "addresses": orjson.dumps(addresses).decode(),
            keys.TTL_ATTRIBUTE: int(time.time()) + self._record_ttl_seconds,
        }
        self._db.put_item(TableName=self._table, Item=to_item(item))

    def get_request(self, request_id: str) -> StoredRequest | None:
        """The request, or None."""
        response = self._db.get_item(
            TableName=self._table,
            Key=to_item({keys.PARTITION_KEY: request_id, keys.SORT_KEY: REQUEST_SK}),
        )
        if "Item" not in response:
            return None
        values = from_item(response["Item"])
        addresses = orjson.loads(str(values["addresses"]))
        return StoredRequest(
            request_id=request_id,
            template=str(values["template"]),
            addresses={int(index): str(address) for index, address in addresses.items()},
        )

    # --- idempotency keys -------------------------------------------------------------------

    def remember(self, key: str, digest: str, status: int, answer: SendAnswer) -> Remembered | None:
        """Keep `answer` under `key` unless the key is in use: then return what it holds."""
        item = {
            "digest": digest,
            "status": status,
            "answer": answer.model_dump_json(),
            "queued": False,
            keys.TTL_ATTRIBUTE: int(time.time()) + IDEMPOTENCY_TTL_SECONDS,
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**_idempotency_key(key), **to_item(item)},
                ConditionExpression="attribute_not_exists(#pk) OR #expires < :now",
                ExpressionAttributeNames={
                    "#pk": keys.PARTITION_KEY,
                    "#expires": keys.TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues=to_item({":now": int(time.time())}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            return self.recall(key)
        return None

    def recall(self, key: str) -> Remembered | None:
        """What `key` holds, unless it is unused or expired (TTL deletion lags; it is checked)."""
        response = self._db.get_item(
            TableName=self._table, Key=_idempotency_key(key), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        if int(from_item(response["Item"]).get(keys.TTL_ATTRIBUTE, 0)) < time.time():
            return None
        return _remembered(response["Item"])

    def mark_queued(self, key: str) -> None:
        """Say the emails of the answer under `key` are all on the queue."""
        self._db.update_item(
            TableName=self._table,
            Key=_idempotency_key(key),
            UpdateExpression="SET #queued = :true",
            ExpressionAttributeNames={"#queued": "queued"},
            ExpressionAttributeValues=to_item({":true": True}),
        )
