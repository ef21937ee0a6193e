"""Requests and answers checked against botocore's `sesv2` model (the one LocalStack parses with).

botocore's own `ParamValidator` checks what an SDK checks before sending: required members,
types, minimum lengths. AWS also enforces the model's maximum lengths, patterns and enums (a
header name with a colon, a 16th header, a 300 KB TemplateData), so `constraint_problems` adds
those. Both are reused for answers: a reply that breaks its output shape is a bug here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator


def shape_problems(value: Mapping[str, Any], shape: Shape | None) -> list[str]:
    """Everything in `value` that `shape` forbids, one sentence each; [] when it conforms."""
    if shape is None:
        return [] if not value else ["the operation takes no input"]
    report = ParamValidator().validate(dict(value), shape)
    problems = (
        [line.strip() for line in report.generate_report().splitlines() if line.strip()]
        if report.has_errors()
        else []
    )
    return problems + constraint_problems(value, shape)


def without_nones(value: Any) -> Any:
    """A parsed request without the members LocalStack's parser fills with None when absent.

    A present-but-None member would pass ParamValidator's "required" check.
    """
    if isinstance(value, Mapping):
        return {key: without_nones(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nones(item) for item in value]
    return value


def request_problems(operation: OperationModel, request: Mapping[str, Any]) -> list[str]:
    """What is wrong with a parsed request (absent members dropped), by its input shape."""
    return shape_problems(without_nones(request), operation.input_shape)


def response_problems(operation: OperationModel, response: Mapping[str, Any]) -> list[str]:
    """What is wrong with an answer about to be sent, by the operation's output shape."""
    return shape_problems(response, operation.output_shape)


def constraint_problems(value: object, shape: Shape, path: str = "") -> list[str]:
    """The model's max / pattern / enum constraints that `value` breaks (ParamValidator skips them).

    Only checks values of the right type: a wrong type is ParamValidator's report.
    """
    here = path or "input"
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return [
            problem
            for name, member in shape.members.items()
            if value.get(name) is not None
            for problem in constraint_problems(
                value[name], member, f"{path}.{name}" if path else name
            )
        ]
    if isinstance(shape, ListShape) and isinstance(value, list):
        problems = _too_many(here, len(value), shape.metadata.get("max"), "items")
        for index, item in enumerate(value):
            problems += constraint_problems(item, shape.member, f"{here}[{index}]")
        return problems
    if isinstance(shape, MapShape) and isinstance(value, Mapping):
        return [
            problem
            for key, item in value.items()
            for problem in constraint_problems(item, shape.value, f"{here}.{key}")
        ]
    if shape.type_name == "string" and isinstance(value, str):
        return _string_problems(here, value, shape)
    if shape.type_name in {"integer", "long", "double", "float"} and isinstance(value, int | float):
        maximum = shape.metadata.get("max")
        return (
            [f"{here} is {value}; at most {maximum} allowed"]
            if maximum is not None and value > maximum
            else []
        )
    return []


def _too_many(here: str, count: int, maximum: int | None, unit: str) -> list[str]:
    if maximum is not None and count > maximum:
        return [f"{here} holds {count} {unit}; at most {maximum} are allowed"]
    return []


def _string_problems(here: str, value: str, shape: Shape) -> list[str]:
    problems = _too_many(here, len(value), shape.metadata.get("max"), "characters")
    pattern = shape.metadata.get("pattern")
    # The model's patterns are Java regexes that must match the whole value.
    if pattern is not None and re.fullmatch(pattern, value) is None:
        problems.append(f"{here} {value!r} does not match the pattern {pattern}")
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        problems.append(f"{here} {value!r} is not one of {', '.join(enum)}")
    return problems
