"""Streaming the campaign candidate: the header first, then the recipients, never the whole.

A candidate can hold a million recipients (150 MB of JSON), and its campaign-level and segment
settings may come after the recipients. So the reader makes two passes over the stream, with
ijson (its yajl2_c backend) rather than loading the document:

1. ``read_layout``: everything but the recipients is kept and validated (``CampaignHeader``,
   pydantic); of the recipients only their number per segment is kept, and their shape is
   checked on the way (an object with a string ``to_address`` and string personalization
   values), so every structural problem is known before anything is written.
2. ``iter_recipients``: the recipients, one dict at a time, in document order.

``open_candidate`` is called once per pass and must give the same bytes both times (for S3,
open the version or ETag the first read saw); ``CandidateChangedError`` says when it did not.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

import ijson
from pydantic import ValidationError

from ems_common.problems import Problem, json_path, validation_problems
from ems_scheduler.campaigns.candidate import CampaignHeader, InvalidCandidateError

CandidateOpener = Callable[[], IO[bytes]]
"""Opens the candidate document as a binary stream (called once per pass; it is closed after)."""

try:
    # The C backend, explicitly: the pure-Python one ijson falls back to is ten times slower.
    _backend: Any = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - ijson's wheels ship it
    _backend = ijson

RECIPIENTS_PREFIX: Final = "segments.item.recipients.item"
# ijson's C backend decodes a whole buffer's items at once: this bounds the objects in flight.
_BUFFER_SIZE: Final = 64 * 1024
_STARTS: Final = frozenset({"start_map", "start_array"})
_ENDS: Final = frozenset({"end_map", "end_array"})
_SCALAR_NAMES: Final = {
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "start_map": "an object",
    "start_array": "an array",
}
# yajl's messages quote the document around the error: keep only the first line, which does
# not (the document holds recipients' personal data).
_JSON_ERROR: Final = re.compile(r"(?:parse|lexical) error: [^\n\\]*")


class CandidateChangedError(RuntimeError):
    """The candidate read differently on the second pass: it changed while being compiled."""


@dataclass(frozen=True)
class CandidateLayout:
    """What the first pass found: the header if it is valid, recipients per segment, problems.

    ``problems`` lists at most the reader's ``max_problems`` recipient problems (after every
    header problem); ``problems_total`` counts them all.
    """

    header: CampaignHeader | None
    document: dict[str, Any]
    recipient_counts: tuple[int, ...]
    problems: list[Problem]
    problems_total: int

    @property
    def recipients_total(self) -> int:
        """Recipients in all segments."""
        return sum(self.recipient_counts)


def read_layout(open_candidate: CandidateOpener, *, max_problems: int = 100) -> CandidateLayout:
    """First pass: validate everything but the recipients' addresses and data.

    Returns the layout, problems included (nothing raised for the candidate's own faults but
    JSON that does not parse, which raises InvalidCandidateError).
    """
    with open_candidate() as stream:
        reader = _LayoutReader(_backend.basic_parse(stream, buf_size=_BUFFER_SIZE), max_problems)
        try:
            document = reader.read()
        except ijson.JSONError as error:
            raise InvalidCandidateError([_json_problem(error)]) from None
    problems: list[Problem] = []
    header: CampaignHeader | None = None
    if document is None:
        problems.append(
            {"path": "$", "message": "must be a JSON object: the campaign candidate document"}
        )
        document = {}
    else:
        try:
            header = CampaignHeader.model_validate(document)
        except ValidationError as error:
            problems.extend(validation_problems(error))
    counts = tuple(count or 0 for count in reader.counts)
    return CandidateLayout(
        header=header,
        document=document,
        recipient_counts=counts,
        problems=problems + reader.problems,
        problems_total=len(problems) + reader.problems_total,
    )


def iter_recipients(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Second pass: every recipient object of every segment, in document order."""
    records: Iterator[dict[str, Any]] = _backend.items(
        stream, RECIPIENTS_PREFIX, use_float=True, buf_size=_BUFFER_SIZE
    )
    return records


def _json_problem(error: ijson.JSONError) -> Problem:
    match = _JSON_ERROR.search(str(error))
    reason = match.group() if match else "it ends too early or holds a stray character"
    return {"path": "$", "message": f"is not valid JSON ({reason.strip()})"}


class _LayoutReader:
    """Walks ijson's basic events; builds everything but the recipients."""

    def __init__(self, events: Iterator[tuple[str, Any]], max_problems: int) -> None:
        self.events = events
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.problems_total = 0
        self.counts: list[int | None] = []

    def problem(self, loc: tuple[int | str, ...], message: str) -> None:
        self.problems_total += 1
        if len(self.problems) < self.max_problems:
            self.problems.append({"path": json_path(loc), "message": message})

    def value(self, event: str, value: Any) -> Any:
        """The JSON value that starts with (event, value), built whole."""
        if event not in _STARTS:
            return value
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        depth = 1
        for inner_event, inner_value in self.events:
            builder.event(inner_event, inner_value)
            if inner_event in _STARTS:
                depth += 1
            elif inner_event in _ENDS:
                depth -= 1
                if depth == 0:
                    break
        return builder.value

    def skip(self, event: str) -> None:
        """Skip the value that starts with ``event``."""
        if event not in _STARTS:
            return
        depth = 1
        for inner_event, _ in self.events:
            if inner_event in _STARTS:
                depth += 1
            elif inner_event in _ENDS:
                depth -= 1
                if depth == 0:
                    return

    def read(self) -> dict[str, Any] | None:
        first_event, _ = next(self.events, ("end", None))
        if first_event != "start_map":
            self.skip(first_event)
            for _ in self.events:  # let ijson find trailing garbage
                pass
            return None
        document: dict[str, Any] = {}
        for key_event, key in self.events:
            if key_event == "end_map":
                break
            event, value = next(self.events)
            if key in document or (key == "segments" and self.counts):
                self.problem((key,), "appears twice in the object: keep one")
                self.skip(event)
            elif key == "segments" and event == "start_array":
                document[key] = self.segments()
            else:
                document[key] = self.value(event, value)
        for _ in self.events:  # let ijson find trailing garbage
            pass
        return document

    def segments(self) -> list[Any]:
        segments: list[Any] = []
        for event, value in self.events:
            if event == "end_array":
                break
            if event == "start_map":
                segments.append(self.segment(len(segments)))
            else:
                segments.append(self.value(event, value))
                self.counts.append(None)
        return segments

    def segment(self, index: int) -> dict[str, Any]:
        segment: dict[str, Any] = {}
        count: int | None = None
        recipients_seen = False
        for key_event, key in self.events:
            if key_event == "end_map":
                break
            event, value = next(self.events)
            if key in segment or (key == "recipients" and recipients_seen):
                self.problem(("segments", index, key), "appears twice in the object: keep one")
                self.skip(event)
            elif key == "recipients":
                recipients_seen = True
                if event == "start_array":
                    count = self.recipients(index)
                else:
                    self.skip(event)
                    self.problem(
                        ("segments", index, key),
                        "Input should be a valid list: recipients is an array of objects",
                    )
            else:
                segment[key] = self.value(event, value)
        if not recipients_seen:
            self.problem(("segments", index, "recipients"), "Field required")
        self.counts.append(count)
        return segment

    def recipients(self, segment: int) -> int:
        """Check each recipient's shape; return how many there are (the first pass's hot loop)."""
        events = self.events
        index = 0
        for item_event, _ in events:
            if item_event == "end_array":
                break
            if item_event != "start_map":
                self.skip(item_event)
                self.problem(
                    ("segments", segment, "recipients", index),
                    "Input should be a valid dictionary: a recipient is an object like "
                    '{"to_address": "ann@example.com", "fname": "Ann"}',
                )
                index += 1
                continue
            has_address = False
            for key_event, key in events:
                if key_event == "end_map":
                    break
                value_event, _ = next(events)
                if value_event == "string":
                    if key == "to_address":
                        has_address = True
                    continue
                self.skip(value_event)
                if key == "to_address":
                    has_address = True
                    what = "an email address"
                else:
                    what = "personalization values are text, e.g. quote numbers"
                self.problem(
                    ("segments", segment, "recipients", index, key),
                    f"Input should be a valid string, not {_SCALAR_NAMES[value_event]}: {what}",
                )
            if not has_address:
                self.problem(
                    ("segments", segment, "recipients", index, "to_address"), "Field required"
                )
            index += 1
        return index
