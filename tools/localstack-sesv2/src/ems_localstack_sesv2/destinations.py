"""Plain rules of SES v2 configuration-set event destinations. No LocalStack here.

What a destination is (the model's `EventDestinationDefinition`), which events it takes, how a
v1 destination (moto's store, LocalStack's v1 provider) reads as a v2 one, and what SES puts into
a Firehose stream. Each rule names the AWS page it comes from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

Destination = dict[str, Any]  # the model's EventDestination: Name, Enabled, MatchingEventTypes ...

# The destination members of EventDestinationDefinition. "When you create or update an event
# destination, you must provide one, and only one, destination"
# (https://docs.aws.amazon.com/ses/latest/APIReference/API_CreateConfigurationSetEventDestination.html).
DESTINATION_KINDS: Final = (
    "KinesisFirehoseDestination",
    "CloudWatchDestination",
    "SnsDestination",
    "EventBridgeDestination",
    "PinpointDestination",
)
FIREHOSE: Final = "KinesisFirehoseDestination"
SNS: Final = "SnsDestination"

# "Event destinations per configuration set: 10" (https://docs.aws.amazon.com/ses/latest/dg/quotas.html)
MAX_DESTINATIONS: Final = 10

# An event's `eventType` (the JSON SES publishes) -> the EventType a destination matches
# (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-firehose-contents.html).
EVENT_TYPE_OF: Final = {
    "Send": "SEND",
    "Reject": "REJECT",
    "Bounce": "BOUNCE",
    "Complaint": "COMPLAINT",
    "Delivery": "DELIVERY",
    "Open": "OPEN",
    "Click": "CLICK",
    "Rendering Failure": "RENDERING_FAILURE",
    "DeliveryDelay": "DELIVERY_DELAY",
    "Subscription": "SUBSCRIPTION",
}

# SES v1's spelling of the same types (moto's store keeps v1's), for a v1 destination read by v2.
_V1_EVENT_TYPES: Final = {
    "send": "SEND",
    "reject": "REJECT",
    "bounce": "BOUNCE",
    "complaint": "COMPLAINT",
    "delivery": "DELIVERY",
    "open": "OPEN",
    "click": "CLICK",
    "renderingFailure": "RENDERING_FAILURE",
}

# PutRecordBatch: "Each PutRecordBatch request supports up to 500 records ... up to a limit of
# 4 MB for the entire request" (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html).
MAX_BATCH_RECORDS: Final = 500
MAX_BATCH_BYTES: Final = 4 * 1024 * 1024


def definition_problems(definition: Mapping[str, Any]) -> list[str]:
    """What is wrong with an EventDestinationDefinition, each saying what to fix; [] if nothing.

    The model checks each member's shape; these are the rules across members.
    """
    problems = []
    kinds = [kind for kind in DESTINATION_KINDS if definition.get(kind) is not None]
    if len(kinds) != 1:
        problems.append(
            "EventDestination must hold one, and only one, destination"
            f" ({', '.join(DESTINATION_KINDS)}), not {', '.join(kinds) or 'none'}"
        )
    if not definition.get("MatchingEventTypes"):
        problems.append(
            "EventDestination.MatchingEventTypes is empty: name at least one event type"
        )
    return problems


def destination(name: str, definition: Mapping[str, Any]) -> Destination:
    """The EventDestination that GetConfigurationSetEventDestinations lists for a definition.

    `Enabled` is a plain boolean in AWS's SDKs: false unless the definition sets it.
    """
    kind = next(kind for kind in DESTINATION_KINDS if definition.get(kind) is not None)
    return {
        "Name": name,
        "Enabled": bool(definition.get("Enabled", False)),
        "MatchingEventTypes": list(dict.fromkeys(definition["MatchingEventTypes"])),
        kind: dict(definition[kind]),
    }


def from_v1(found: Mapping[str, Any]) -> Destination | None:
    """A destination made with SES v1 (moto's store: v1 member names), as v2 lists it.

    None for a kind v2 cannot express here (a v1 destination without any target).
    """
    converted: Destination = {
        "Name": found.get("Name", ""),
        "Enabled": bool(found.get("Enabled", False)),
        "MatchingEventTypes": [
            _V1_EVENT_TYPES[kind] for kind in found.get("MatchingEventTypes") or []
            if kind in _V1_EVENT_TYPES
        ],
    }  # fmt: skip
    if sns := found.get("SNSDestination"):
        converted[SNS] = {"TopicArn": sns.get("TopicARN", "")}
    elif firehose := found.get("KinesisFirehoseDestination"):
        converted[FIREHOSE] = {
            "IamRoleArn": firehose.get("IAMRoleARN", ""),
            "DeliveryStreamArn": firehose.get("DeliveryStreamARN", ""),
        }
    elif cloudwatch := found.get("CloudWatchDestination"):
        converted["CloudWatchDestination"] = {
            "DimensionConfigurations": [
                {
                    "DimensionName": d.get("DimensionName", ""),
                    "DimensionValueSource": _v1_source(d.get("DimensionValueSource", "")),
                    "DefaultDimensionValue": d.get("DefaultDimensionValue", ""),
                }
                for d in cloudwatch.get("DimensionConfigurations") or []
            ]
        }
    else:
        return None
    return converted


def _v1_source(source: str) -> str:
    # v1 spells the sources messageTag / emailHeader / linkTag; v2 MESSAGE_TAG / EMAIL_HEADER ...
    return {"messageTag": "MESSAGE_TAG", "emailHeader": "EMAIL_HEADER", "linkTag": "LINK_TAG"}.get(
        source, source
    )


def takes(found: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether an enabled destination takes this event (its type is one it matches)."""
    kind = EVENT_TYPE_OF.get(str(event.get("eventType")))
    return bool(found.get("Enabled")) and kind in (found.get("MatchingEventTypes") or [])


def firehose_record(event: Mapping[str, Any]) -> bytes:
    """One event as SES puts it into a Firehose stream: its JSON, then a newline.

    "When publishing events to Firehose, Amazon SES follows each JSON record with a newline
    character" (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-firehose-contents.html).
    """
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def record_batches(records: Iterable[bytes]) -> list[list[bytes]]:
    """Records in as few PutRecordBatch calls as its limits allow (500 records, 4 MB a call)."""
    batches: list[list[bytes]] = []
    size = 0
    for record in records:
        if (
            not batches
            or len(batches[-1]) >= MAX_BATCH_RECORDS
            or size + len(record) > MAX_BATCH_BYTES
        ):
            batches.append([])
            size = 0
        batches[-1].append(record)
        size += len(record)
    return batches


@dataclass(frozen=True)
class StreamArn:
    """A Firehose stream's ARN in parts (arn:<partition>:firehose:<region>:<account>:
    deliverystream/<name>)."""

    region: str
    account: str
    name: str


def stream_arn(arn: str) -> StreamArn:
    """The parts of a delivery stream ARN; ValueError saying what is wrong with another."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "firehose" or not parts[5].startswith("deliverystream/"):
        msg = (
            f"DeliveryStreamArn {arn!r} is not a Firehose stream's ARN"
            " (arn:aws:firehose:<region>:<account>:deliverystream/<name>)"
        )
        raise ValueError(msg)
    return StreamArn(parts[3], parts[4], parts[5].removeprefix("deliverystream/"))
