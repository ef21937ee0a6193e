"""Plain values <-> DynamoDB attribute values, through boto3's own (de)serializer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


BATCH_GET_MAX: Final = 100
"""Keys one BatchGetItem call takes at most."""


def batch_get(
    client: Any, table: str, keys: Sequence[Mapping[str, Any]], **options: Any
) -> Iterator[dict[str, Any]]:
    """The raw items of `table` found among `keys` (DynamoDB-typed), BATCH_GET_MAX keys a
    BatchGetItem call, each call's unprocessed keys asked again. `options` go with the keys
    (ProjectionExpression, ExpressionAttributeNames, ConsistentRead)."""
    for start in range(0, len(keys), BATCH_GET_MAX):
        request: dict[str, Any] = {
            table: {"Keys": list(keys[start : start + BATCH_GET_MAX]), **options}
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            yield from response.get("Responses", {}).get(table, [])
            request = dict(response.get("UnprocessedKeys") or {})


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


def update_expression(
    changes: Mapping[str, Any], adds: Mapping[str, int] | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An UpdateExpression: SET for values, REMOVE for None, ADD for `adds`.

    Returns (expression, attribute names, attribute values), every attribute behind a
    placeholder (`#f0`, `:v0` ...; `#a0`, `:a0` ... for adds), so any name is safe.
    """
    adds = adds or {}
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    names.update({f"#a{i}": name for i, name in enumerate(adds)})
    sets = [f"#f{i} = :v{i}" for i, value in enumerate(changes.values()) if value is not None]
    removes = [f"#f{i}" for i, value in enumerate(changes.values()) if value is None]
    added = [f"#a{i} :a{i}" for i in range(len(adds))]
    values = to_item({f":v{i}": value for i, value in enumerate(changes.values())})
    values.update(to_item({f":a{i}": n for i, n in enumerate(adds.values())}))
    expression = " ".join(
        f"{verb} {', '.join(parts)}"
        for verb, parts in (("SET", sets), ("REMOVE", removes), ("ADD", added))
        if parts
    )
    return expression, names, values
