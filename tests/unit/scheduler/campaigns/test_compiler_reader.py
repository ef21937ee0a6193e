"""The streaming reader: the header wherever it is, the recipients' shape, and the two passes."""

import io

import orjson
import pytest

from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.compiler.reader import iter_recipients, read_layout
from tests.unit.scheduler.campaigns.compiler_fakes import candidate, opener, recipient, segment


def test_settings_after_the_recipients_are_read_too() -> None:
    # Given a candidate whose campaign and segment settings follow the recipients
    text = (
        b'{"segments": [{"recipients": [{"to_address": "a@example.com"}, '
        b'{"to_address": "b@example.com"}], "list_name": "vip", "subject": "Hi"}, '
        b'{"recipients": [], "list_name": "rest"}], '
        b'"date": "2026-02-01T09:00:00Z", "templateS3Uri": "s3://ems-assets/t.html", '
        b'"campaign_id": "late-header"}'
    )

    # When its layout is read
    layout = read_layout(opener(text))

    # Then the header is complete and the recipients are counted per segment
    assert layout.problems == []
    assert layout.header is not None
    assert layout.header.campaign_id == "late-header"
    assert [s.list_name for s in layout.header.segments] == ["vip", "rest"]
    assert layout.header.segments[0].subject == "Hi"
    assert layout.recipient_counts == (2, 0)
    assert layout.recipients_total == 2


def test_second_pass_yields_every_recipient_in_order() -> None:
    document = candidate(
        segment("a", recipient("a1@example.com", n="1"), recipient("a2@example.com")),
        segment("b", recipient("b1@example.com", x='é"\\')),
    )

    records = list(iter_recipients(io.BytesIO(orjson.dumps(document))))

    assert records == [
        {"to_address": "a1@example.com", "n": "1"},
        {"to_address": "a2@example.com"},
        {"to_address": "b1@example.com", "x": 'é"\\'},
    ]


def test_every_recipient_shape_problem_is_listed_with_its_path() -> None:
    document = candidate(
        segment(
            "a",
            {"to_address": "a@example.com", "age": 42, "tags": ["x"], "prefs": {"a": "b"}},
            {"to_address": None},
            {"fname": "no address"},
        ),
        {"list_name": "b", "recipients": ["a@example.com", [1]]},
        {"list_name": "c"},
        {"list_name": "d", "recipients": {"to_address": "a@example.com"}},
    )

    layout = read_layout(opener(document))

    assert [(p["path"], p["message"].split(":")[0]) for p in layout.problems] == [
        ("$.segments[0].recipients[0].age", "Input should be a valid string, not a number"),
        ("$.segments[0].recipients[0].tags", "Input should be a valid string, not an array"),
        ("$.segments[0].recipients[0].prefs", "Input should be a valid string, not an object"),
        ("$.segments[0].recipients[1].to_address", "Input should be a valid string, not null"),
        ("$.segments[0].recipients[2].to_address", "Field required"),
        ("$.segments[1].recipients[0]", "Input should be a valid dictionary"),
        ("$.segments[1].recipients[1]", "Input should be a valid dictionary"),
        ("$.segments[2].recipients", "Field required"),
        ("$.segments[3].recipients", "Input should be a valid list"),
    ]
    assert layout.recipient_counts == (3, 2, 0, 0)


def test_header_problems_come_from_the_header_model() -> None:
    document = candidate(segment("VIP list", recipient("a@example.com")), date="soon")
    document["templateS3URI"] = "s3://ems-assets/typo.html"

    layout = read_layout(opener(document))

    assert layout.header is None
    assert [problem["path"] for problem in layout.problems] == [
        "$.date",
        "$.segments[0].list_name",
        "$.templateS3URI",
    ]


def test_recipient_problems_are_capped_but_counted() -> None:
    document = candidate(segment("a", *({"to_address": 1} for _ in range(250))))

    layout = read_layout(opener(document), max_problems=100)

    assert len(layout.problems) == 100
    assert layout.problems_total == 250


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"segments": [{"recipients": [{"to_address": "ann@secret.example"', "premature EOF"),
        (b'{"segments": [ann@secret.example]}', "invalid char in json text"),
        (b'{"a": 1} ann@secret.example', "trailing garbage"),
        (b'{"a": "\xff ann@secret.example"}', "invalid bytes in UTF8 string"),
        (b"", "premature EOF"),
    ],
)
def test_json_errors_say_what_without_quoting_the_document(text: bytes, message: str) -> None:
    with pytest.raises(InvalidCandidateError) as caught:
        read_layout(opener(text))

    [problem] = caught.value.problems
    assert problem["path"] == "$"
    assert message in problem["message"]
    assert "secret" not in problem["message"]


@pytest.mark.parametrize("text", [b"[]", b'"candidate"', b"42"])
def test_a_document_that_is_not_an_object_is_one_problem(text: bytes) -> None:
    layout = read_layout(opener(text))

    assert layout.problems == [
        {"path": "$", "message": "must be a JSON object: the campaign candidate document"}
    ]


def test_repeated_keys_are_problems_not_silent_overrides() -> None:
    text = (
        b'{"date": "2026-02-01T09:00:00Z", "date": "2026-03-01T09:00:00Z", '
        b'"templateS3Uri": "s3://ems-assets/t.html", '
        b'"segments": [{"list_name": "a", "recipients": [], "recipients": []}], "segments": []}'
    )

    layout = read_layout(opener(text))

    assert [(p["path"], p["message"]) for p in layout.problems] == [
        ("$.date", "appears twice in the object: keep one"),
        ("$.segments[0].recipients", "appears twice in the object: keep one"),
        ("$.segments", "appears twice in the object: keep one"),
    ]
