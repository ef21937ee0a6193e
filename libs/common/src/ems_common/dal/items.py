"""Plain values <-> DynamoDB attribute values, through boto3's own (de)serializer."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | set):
        return [_plain(inner) for inner in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-like values (as from `model_dump(mode="json")`) to a DynamoDB item; drops None."""
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item back to plain values (numbers as int where whole)."""
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}
