"""Rejected recipients' details: an item of their own, with the table's TTL, skipped once past it.

DynamoDB's own behaviour (deleting an item after its TTL) is the whole-stack suite's to see; here
the request EMS makes, and what it reads back, over a stubbed client.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ems_common import keys
from ems_common.campaigns import Rejection
from ems_common.dal.items import to_item
from ems_scheduler.campaigns.rejections import REJECTIONS_SK, RejectedRecipients, RejectionDetails

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ANN = Rejection(segment="gold", to_address="ann@example.org", reason="duplicate")


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _item(expires_at: datetime) -> dict[str, Any]:
    return to_item(
        {
            "pk": "c1",
            "sk": REJECTIONS_SK,
            "rejections": [ANN.model_dump()],
            keys.TTL_ATTRIBUTE: int(expires_at.timestamp()),
        }
    )


def test_the_details_are_stored_under_the_campaign_with_the_tables_ttl(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    expires_at = NOW + timedelta(days=30)
    stubber.add_response("put_item", {}, {"TableName": "campaigns", "Item": _item(expires_at)})

    RejectionDetails(client, "campaigns").put(
        "c1", RejectedRecipients(rejections=[ANN], expires_at=expires_at)
    )


def test_the_details_are_read_until_they_expire(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    key = {"TableName": "campaigns", "Key": to_item({"pk": "c1", "sk": REJECTIONS_SK})}
    expires_at = NOW + timedelta(days=1)
    for _ in range(2):
        stubber.add_response(
            "get_item", {"Item": _item(expires_at)}, {**key, "ConsistentRead": True}
        )
    stubber.add_response("get_item", {}, {**key, "ConsistentRead": True})
    details = RejectionDetails(client, "campaigns")

    # Before they expire, they are read back
    kept = details.get("c1", NOW)
    assert kept == RejectedRecipients(rejections=[ANN], expires_at=expires_at)
    # Past their time, DynamoDB may not have deleted them yet: they are not shown any more
    assert details.get("c1", expires_at) is None
    # And once deleted there is nothing
    assert details.get("c1", NOW) is None
