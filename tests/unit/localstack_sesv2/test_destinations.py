"""The SES v2 provider's event-destination rules (tools/localstack-sesv2/destinations.py).

What a destination may be, which events it takes, how a v1 destination reads in v2, and what a
Firehose record is, as AWS documents them; over HTTP, tests/e2e/test_ses_v2.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from ems_localstack_sesv2 import destinations
from ems_localstack_sesv2.schema import request_problems, response_problems

STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/ems-ses-events"
ROLE = "arn:aws:iam::123456789012:role/ems-ses-events"
EXAMPLES = Path(__file__).parents[2] / "events"


def _firehose(**more: Any) -> dict[str, Any]:
    return {
        "Enabled": True,
        "MatchingEventTypes": ["SEND", "DELIVERY"],
        "KinesisFirehoseDestination": {"IamRoleArn": ROLE, "DeliveryStreamArn": STREAM},
        **more,
    }


def test_a_definition_has_one_and_only_one_destination_and_some_event_types() -> None:
    assert destinations.definition_problems(_firehose()) == []
    sns = {"SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}}
    (two,) = destinations.definition_problems(_firehose(**sns))
    assert "one, and only one" in two
    assert "KinesisFirehoseDestination, SnsDestination" in two
    (none,) = destinations.definition_problems({"MatchingEventTypes": ["SEND"]})
    assert "not none" in none
    (no_types,) = destinations.definition_problems(_firehose(MatchingEventTypes=[]))
    assert "MatchingEventTypes" in no_types


def test_a_definition_and_its_listing_fit_botocore_s_model() -> None:
    model = botocore.session.get_session().get_service_model("sesv2")
    create = model.operation_model("CreateConfigurationSetEventDestination")
    request = {
        "ConfigurationSetName": "ems",
        "EventDestinationName": "ems-firehose",
        "EventDestination": _firehose(),
    }
    assert request_problems(create, request) == []
    # A stream without its role is refused by the model (both are required)
    no_role = _firehose(KinesisFirehoseDestination={"DeliveryStreamArn": STREAM})
    (problem,) = request_problems(create, {**request, "EventDestination": no_role})
    assert "IamRoleArn" in problem

    listed = destinations.destination("ems-firehose", _firehose())
    get = model.operation_model("GetConfigurationSetEventDestinations")
    assert response_problems(get, {"EventDestinations": [listed]}) == []
    assert listed == {"Name": "ems-firehose", **_firehose()}


def test_enabled_is_false_unless_set_and_event_types_are_listed_once() -> None:
    definition = {k: v for k, v in _firehose().items() if k != "Enabled"}
    definition["MatchingEventTypes"] = ["SEND", "SEND", "BOUNCE"]

    listed = destinations.destination("d", definition)

    assert listed["Enabled"] is False
    assert listed["MatchingEventTypes"] == ["SEND", "BOUNCE"]


@pytest.mark.parametrize(
    ("example", "event_type"),
    [
        ("ses_send.json", "SEND"),
        ("ses_delivery.json", "DELIVERY"),
        ("ses_bounce.json", "BOUNCE"),
        ("ses_complaint.json", "COMPLAINT"),
        ("ses_reject.json", "REJECT"),
        ("ses_open.json", "OPEN"),
        ("ses_click.json", "CLICK"),
        ("ses_rendering_failure.json", "RENDERING_FAILURE"),
        ("ses_delivery_delay.json", "DELIVERY_DELAY"),
        ("ses_subscription.json", "SUBSCRIPTION"),
    ],
)
def test_a_destination_takes_the_enabled_event_types_it_matches(
    example: str, event_type: str
) -> None:
    event = json.loads((EXAMPLES / example).read_text())
    every = destinations.destination("all", _firehose(MatchingEventTypes=[event_type]))
    others = [t for t in destinations.EVENT_TYPE_OF.values() if t != event_type]

    assert destinations.takes(every, event)
    assert not destinations.takes(
        destinations.destination("d", _firehose(MatchingEventTypes=others)), event
    )
    assert not destinations.takes({**every, "Enabled": False}, event)


def test_a_v1_destination_reads_as_v2_with_v2_event_type_names() -> None:
    v1_sns = {
        "Name": "ems-sns",
        "Enabled": True,
        "MatchingEventTypes": ["send", "delivery", "renderingFailure"],
        "SNSDestination": {"TopicARN": "arn:aws:sns:us-east-1:123456789012:t"},
    }
    assert destinations.from_v1(v1_sns) == {
        "Name": "ems-sns",
        "Enabled": True,
        "MatchingEventTypes": ["SEND", "DELIVERY", "RENDERING_FAILURE"],
        "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"},
    }
    v1_firehose = {
        "Name": "f",
        "Enabled": False,
        "MatchingEventTypes": ["bounce"],
        "KinesisFirehoseDestination": {"IAMRoleARN": ROLE, "DeliveryStreamARN": STREAM},
    }
    converted = destinations.from_v1(v1_firehose)
    assert converted is not None
    assert converted["KinesisFirehoseDestination"] == {
        "IamRoleArn": ROLE,
        "DeliveryStreamArn": STREAM,
    }
    assert converted["Enabled"] is False
    assert destinations.from_v1({"Name": "x", "MatchingEventTypes": ["send"]}) is None


def test_a_firehose_record_is_the_event_s_json_and_a_newline() -> None:
    event = json.loads((EXAMPLES / "ses_bounce.json").read_text())

    record = destinations.firehose_record(event)

    assert record.endswith(b"\n")
    assert record.count(b"\n") == 1  # one line: records can be split at newlines
    assert json.loads(record) == event


def test_records_go_in_as_few_put_record_batch_calls_as_the_limits_allow() -> None:
    small = [b"x" * 100 + b"\n"] * 1001
    assert [len(batch) for batch in destinations.record_batches(small)] == [500, 500, 1]
    big = [b"y" * (1024 * 1024)] * 9  # 1 MiB each: four fit in one 4 MiB call
    assert [len(batch) for batch in destinations.record_batches(big)] == [4, 4, 1]
    assert destinations.record_batches([]) == []


def test_a_stream_arn_gives_its_region_account_and_name() -> None:
    assert destinations.stream_arn(STREAM) == destinations.StreamArn(
        "us-east-1", "123456789012", "ems-ses-events"
    )
    with pytest.raises(ValueError, match="not a Firehose stream's ARN"):
        destinations.stream_arn("arn:aws:sns:us-east-1:123456789012:topic")
