"""In-memory stand-ins for what the compiler's caller supplies: templates, sink, candidates."""

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from ems_scheduler.campaigns.compiler import CompileSettings, TemplateNotFoundError

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BUCKET = "ems-assets"
DEFAULT_TEMPLATE = f"s3://{BUCKET}/templates/default.html"
DEFAULT_HTML = (
    "<!doctype html><html><head><title>Hello {{fname}}</title></head>"
    "<body><p>Hi {{fname}}</p><a href='{{unsub_link}}'>unsubscribe</a></body></html>"
)
SETTINGS = CompileSettings(
    template_buckets=frozenset({BUCKET}),
    default_from="EMS News <news@mail.example.com>",
    default_configuration_set="ems-campaigns",
    part_lines=3,
    parts_in_flight=1,
)


class Templates:
    """A TemplateSource over a dict; counts reads."""

    def __init__(self, objects: dict[str, str | bytes] | None = None) -> None:
        self.objects: dict[str, str | bytes] = (
            {DEFAULT_TEMPLATE: DEFAULT_HTML} if objects is None else objects
        )
        self.reads: list[str] = []

    def read_template(self, uri: str, limit: int) -> bytes:
        self.reads.append(uri)
        if uri not in self.objects:
            raise TemplateNotFoundError(uri)
        data = self.objects[uri]
        return (data.encode() if isinstance(data, str) else data)[: limit + 1]


class Sink:
    """A PartSink keeping the parts in memory."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.parts: dict[int, bytes] = {}
        self.fail_at = fail_at

    def write_part(self, index: int, data: bytes) -> None:
        if index == self.fail_at:
            raise OSError(f"upload of part {index} failed")
        self.parts[index] = data

    def lines(self) -> list[bytes]:
        return [
            line
            for index in sorted(self.parts)
            for line in self.parts[index].splitlines(keepends=False)
        ]


def recipient(address: str, **fields: str) -> dict[str, str]:
    return {"to_address": address, **fields}


def candidate(*segments: dict[str, Any], **campaign: Any) -> dict[str, Any]:
    """A valid candidate document: the campaign's fields, then the given segments."""
    document: dict[str, Any] = {
        "campaign_id": "summer-sale",
        "date": "2026-02-01T09:00:00+01:00",
        "templateS3Uri": DEFAULT_TEMPLATE,
    }
    document.update(campaign)
    document["segments"] = list(segments)
    return document


def segment(list_name: str, *recipients: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"list_name": list_name, **settings, "recipients": list(recipients)}


def opener(document: dict[str, Any] | bytes) -> Callable[[], IO[bytes]]:
    data = document if isinstance(document, bytes) else orjson.dumps(document)
    return lambda: io.BytesIO(data)
