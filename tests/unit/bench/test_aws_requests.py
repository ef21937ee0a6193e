"""Counting AWS requests with botocore hooks: billed SQS chunks and DynamoDB capacity units."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from bench.aws_requests import RequestCounter

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/ems-send"


def test_an_sqs_batch_is_billed_by_64_kb_chunks() -> None:
    # Given a counted SQS client and a batch of ten 20 KB messages
    sqs = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("sqs")
    counter = RequestCounter()
    counter.attach(sqs)
    entries = [{"Id": str(i), "MessageBody": "x" * 20_000} for i in range(10)]

    # When it is sent
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch", {"Successful": [], "Failed": []}, {"QueueUrl": QUEUE,
                                                                     "Entries": entries}
        )  # fmt: skip
        sqs.send_message_batch(QueueUrl=QUEUE, Entries=entries)  # type: ignore[arg-type]

    # Then it is one call, billed as 200,000 / 65,536 -> 4 requests, on the queue by name
    tally = counter.tallies[("sqs", "SendMessageBatch", "ems-send")]
    assert (tally.calls, tally.billed_requests, tally.payload_bytes) == (1, 4, 200_000)


def test_an_empty_receive_is_counted_apart() -> None:
    sqs = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("sqs")
    counter = RequestCounter()
    counter.attach(sqs)
    with Stubber(sqs) as stub:
        stub.add_response("receive_message", {}, {"QueueUrl": QUEUE})
        sqs.receive_message(QueueUrl=QUEUE)
    tally = counter.total("sqs", ("ReceiveMessage",))
    assert (tally.calls, tally.empty, tally.billed_requests) == (1, 1, 1)


def test_dynamodb_units_are_as_reported_and_a_missing_item_still_costs_a_unit() -> None:
    # Given a counted DynamoDB client
    dynamodb = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("dynamodb")
    counter = RequestCounter()
    counter.attach(dynamodb)
    key = {"pk": {"S": "c1"}, "sk": {"S": "a@example.org"}}

    with Stubber(dynamodb) as stub:
        # When a write reports its units (the request asked for them)
        stub.add_response(
            "update_item",
            {"ConsumedCapacity": {"TableName": "emails", "CapacityUnits": 2.0}},
        )
        dynamodb.update_item(
            TableName="emails",
            Key=key,
            UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"S": "x"}},
        )
        # And a consistent read finds nothing and reports no units
        stub.add_response(
            "get_item",
            {"ConsumedCapacity": {"TableName": "emails", "CapacityUnits": 0.0}},
        )
        dynamodb.get_item(TableName="emails", Key=key, ConsistentRead=True)

    # Then the write counts the 2 units reported, the read the one unit AWS bills for it
    assert counter.total("dynamodb", ("UpdateItem",)).write_units == 2.0
    read = counter.total("dynamodb", ("GetItem",), resource="emails")
    assert (read.read_units, read.derived_calls) == (1.0, 1)


@pytest.mark.parametrize(("steps", "units"), [(1, 2.0), (3, 6.0)])
def test_a_cancelled_transaction_is_derived_at_two_units_an_item(steps: int, units: float) -> None:
    dynamodb = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("dynamodb")
    counter = RequestCounter()
    counter.attach(dynamodb)
    items = [{"Put": {"TableName": "events", "Item": {"pk": {"S": f"e{i}"}}}}
             for i in range(steps)]  # fmt: skip
    with Stubber(dynamodb) as stub:
        stub.add_client_error("transact_write_items", "TransactionCanceledException")
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    tally = counter.total("dynamodb")
    assert (tally.write_units, tally.derived_calls) == (units, 1)
