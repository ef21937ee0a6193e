"""The campaign candidate: the seed's own example, and every validation problem with its path."""

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ems_common.problems import Problem, json_path, validation_problems
from ems_common.transactional import SES_TEMPLATE_PREFIX, is_reserved_campaign_id
from ems_scheduler.campaigns.candidate import (
    CampaignCandidate,
    CampaignHeader,
    InvalidCandidateError,
    Recipient,
    Segment,
    candidate_reference,
    check_campaign_id,
    parse_campaign_candidate,
    parse_campaign_date,
)
from ems_scheduler.campaigns.compiler.campaign_templates import ses_template_name
from ems_scheduler.shared.request_fields import split_s3_uri

EVENTS = Path(__file__).resolve().parents[3] / "events"

Document = dict[str, Any]


def strip_jsonc_comments(text: str) -> str:
    """Remove ``//`` line comments that are outside JSON strings (enough for the seed's JSONC)."""
    kept: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(text):
        character = text[index]
        if in_string:
            kept.append(character)
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
            kept.append(character)
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end == -1 else end
            continue
        else:
            kept.append(character)
        index += 1
    return "".join(kept)


def load_seed_candidate() -> Document:
    document: Document = json.loads(
        strip_jsonc_comments((EVENTS / "seed_candidate.jsonc").read_text())
    )
    return document


def valid_document() -> Document:
    return {
        "campaign_id": "summer-sale-2025",
        "date": "2025-07-01T09:00:00+02:00",
        "templateS3Uri": "s3://ems-templates/summer/default.html",
        "segments": [
            {
                "list_name": "vip-customers",
                "templateS3Uri": "s3://ems-templates/summer/vip.html",
                "recipients": [
                    {"to_address": "ann@example.org", "fname": "Ann", "unsub_link": "https://u/1"},
                    {"to_address": "bob@example.org", "fname": "Bob"},
                ],
            },
            {"list_name": "newsletter", "recipients": [{"to_address": "cy@example.org"}]},
        ],
    }


def problems_of(document: Document) -> list[Problem]:
    with pytest.raises(InvalidCandidateError) as caught:
        parse_campaign_candidate(document)
    return caught.value.problems


def test_jsonc_loader_keeps_slashes_inside_strings() -> None:
    text = '{"a": "http://x//y", // gone\n "b": "\\"//\\"" // gone too\n}'
    assert json.loads(strip_jsonc_comments(text)) == {"a": "http://x//y", "b": '"//"'}


def test_seed_candidate_as_written_fails_only_on_its_placeholder_values() -> None:
    # Given the seed's candidate, every value the placeholder "string"
    document = load_seed_candidate()

    # When it is validated
    problems = problems_of(document)

    # Then the date is reported at $.date, saying how to write one ...
    paths = [problem["path"] for problem in problems]
    assert "$.date" in paths
    date_problem = next(problem for problem in problems if problem["path"] == "$.date")
    assert "ISO 8601" in date_problem["message"]
    # ... and the only other problems are the two placeholder template URIs ("string" is no
    # s3:// URI); campaign_id, list_name, to_address and the personalization field pass.
    assert sorted(paths) == ["$.date", "$.segments[0].templateS3Uri", "$.templateS3Uri"]


def test_seed_candidate_with_a_real_date_is_left_with_only_the_uri_placeholders() -> None:
    document = load_seed_candidate()
    document["date"] = "2025-07-01T09:00:00Z"

    paths = [problem["path"] for problem in problems_of(document)]

    assert paths == ["$.templateS3Uri", "$.segments[0].templateS3Uri"]


def test_seed_candidate_with_a_real_date_and_uris_parses() -> None:
    # Given the seed's candidate with a real date and real template URIs
    document = load_seed_candidate()
    document["date"] = "2025-07-01T09:00:00Z"
    document["templateS3Uri"] = "s3://ems-templates/default.html"
    document["segments"][0]["templateS3Uri"] = "s3://ems-templates/segment.html"

    # When it is parsed
    candidate = parse_campaign_candidate(document)

    # Then everything the seed describes is there, the personalization field included
    assert candidate.campaign_id == "string"
    assert candidate.date == datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    segment = candidate.segments[0]
    assert segment.list_name == "string"
    assert candidate.template_s3_uri_for(segment) == "s3://ems-templates/segment.html"
    assert segment.recipients[0].to_address == "string"
    assert segment.recipients[0].personalization == {"string": "string"}


def test_valid_candidate_parses_from_json_text() -> None:
    candidate = parse_campaign_candidate(json.dumps(valid_document()))

    assert candidate.campaign_id == "summer-sale-2025"
    assert candidate.date.utcoffset() == timedelta(hours=2)
    assert [segment.list_name for segment in candidate.segments] == ["vip-customers", "newsletter"]


def test_segment_template_is_its_own_or_else_the_campaigns() -> None:
    candidate = parse_campaign_candidate(valid_document())
    vip, newsletter = candidate.segments

    assert candidate.template_s3_uri_for(vip) == "s3://ems-templates/summer/vip.html"
    assert candidate.template_s3_uri_for(newsletter) == "s3://ems-templates/summer/default.html"


def test_recipients_keep_their_personalization_fields() -> None:
    recipient = parse_campaign_candidate(valid_document()).segments[0].recipients[0]

    assert recipient.to_address == "ann@example.org"
    assert recipient.personalization == {"fname": "Ann", "unsub_link": "https://u/1"}
    assert recipient.model_dump() == {
        "to_address": "ann@example.org",
        "fname": "Ann",
        "unsub_link": "https://u/1",
    }


def test_email_addresses_are_not_checked_here() -> None:
    # The scheduler checks each address and rejects only that recipient.
    document = valid_document()
    document["segments"][0]["recipients"][0]["to_address"] = "not an address"

    candidate = parse_campaign_candidate(document)

    assert candidate.segments[0].recipients[0].to_address == "not an address"


def test_a_segment_may_have_no_recipients() -> None:
    # Decision: an empty list is not an error; a list whose members all left must not block
    # the campaign's other segments.
    document = valid_document()
    document["segments"][1]["recipients"] = []

    candidate = parse_campaign_candidate(document)

    assert candidate.segments[1].recipients == []


def test_campaign_id_is_optional_and_can_be_given_later() -> None:
    document = valid_document()
    del document["campaign_id"]
    candidate = parse_campaign_candidate(document)
    assert candidate.campaign_id is None

    named = candidate.with_campaign_id("cmp-20250701-4f2a")

    assert named.campaign_id == "cmp-20250701-4f2a"
    assert candidate.campaign_id is None
    with pytest.raises(ValueError, match="SES tags allow only"):
        candidate.with_campaign_id("has spaces")


def test_models_accept_python_names_as_well_as_the_seeds_aliases() -> None:
    segment = Segment(
        list_name="vip",
        template_s3_uri="s3://bucket/t.html",
        recipients=[Recipient(to_address="a@example.org", fname="A")],
    )
    candidate = CampaignCandidate(
        date=datetime(2025, 7, 1, tzinfo=UTC),
        template_s3_uri="s3://bucket/default.html",
        segments=[segment],
    )

    dumped = candidate.model_dump(mode="json", by_alias=True, exclude_none=True)

    assert dumped["templateS3Uri"] == "s3://bucket/default.html"
    assert dumped["segments"][0]["recipients"] == [{"to_address": "a@example.org", "fname": "A"}]
    assert parse_campaign_candidate(dumped) == candidate


def _without(key: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        del document[key]

    return change


def _set(*path_and_value: Any) -> Callable[[Document], None]:
    *path, value = path_and_value

    def change(document: Document) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        pytest.param(_without("segments"), "$.segments", "Field required", id="missing segments"),
        pytest.param(
            _set("segments", []), "$.segments", "at least one segment", id="empty segments"
        ),
        pytest.param(
            _set("segments", 0, "recipients", 1, "fname", 7),
            "$.segments[0].recipients[1].fname",
            "valid string",
            id="non-string personalization value",
        ),
        pytest.param(
            _set("segments", 0, "recipients", 1, "prefs", {"a": "b"}),
            "$.segments[0].recipients[1].prefs",
            "valid string",
            id="object personalization value",
        ),
        pytest.param(
            _set("segments", 1, "recipients", 0, {"fname": "Cy"}),
            "$.segments[1].recipients[0].to_address",
            "Field required",
            id="recipient without to_address",
        ),
        pytest.param(
            _set("segments", 0, "recipients", "ann@example.org"),
            "$.segments[0].recipients",
            "valid list",
            id="recipients not a list",
        ),
        pytest.param(
            _set("templateS3Uri", "https://bucket.s3.amazonaws.com/t.html"),
            "$.templateS3Uri",
            "s3://my-bucket/templates/welcome.html",
            id="campaign template not an s3 uri",
        ),
        pytest.param(
            _set("segments", 0, "templateS3Uri", "s3://ems-templates"),
            "$.segments[0].templateS3Uri",
            "not an S3 object URI",
            id="segment template without a key",
        ),
        pytest.param(
            _set("templateS3Uri", "s3://Bad_Bucket/t.html"),
            "$.templateS3Uri",
            "not an S3 object URI",
            id="invalid bucket name",
        ),
        pytest.param(
            _set("date", "2025-07-01T09:00:00"),
            "$.date",
            "has no UTC offset: add one",
            id="naive date",
        ),
        pytest.param(
            _set("date", "2025-07-01"), "$.date", "has no UTC offset", id="date without a time"
        ),
        pytest.param(
            _set("date", "1st of July"), "$.date", "is not an ISO 8601", id="unparseable date"
        ),
        pytest.param(_set("date", 1751360400), "$.date", "ISO 8601", id="epoch number date"),
        pytest.param(_without("date"), "$.date", "Field required", id="missing date"),
        pytest.param(
            _set("segments", 0, "list_name", "VIP customers"),
            "$.segments[0].list_name",
            "SES tags allow only ASCII letters",
            id="list_name not usable as a tag",
        ),
        pytest.param(
            _set("campaign_id", "summer/2025"),
            "$.campaign_id",
            "contains '/'",
            id="campaign_id not usable as a tag",
        ),
        pytest.param(
            _set("segments", 1, "list_name", "vip-customers"),
            "$.segments",
            "more than one segment",
            id="duplicate list_name",
        ),
        pytest.param(
            _set("segments", 0, "templateS3URI", "s3://ems-templates/x.html"),
            "$.segments[0].templateS3URI",
            "Extra inputs are not permitted",
            id="misspelt key is refused, not ignored",
        ),
    ],
)
def test_candidate_problem_is_reported_at_its_path(
    change: Callable[[Document], None], path: str, message: str
) -> None:
    # Given a valid candidate with one thing wrong
    document = copy.deepcopy(valid_document())
    change(document)

    # When it is validated
    problems = problems_of(document)

    # Then exactly that problem is reported, at its JSON path, saying what is wrong
    assert len(problems) == 1, problems
    assert problems[0]["path"] == path
    assert message in problems[0]["message"]


def test_every_problem_is_listed_not_just_the_first() -> None:
    document = valid_document()
    document["date"] = "2025-07-01T09:00:00"
    document["segments"][0]["recipients"][0]["fname"] = 1
    document["segments"][1]["recipients"][0]["fname"] = None

    problems = problems_of(document)

    assert [problem["path"] for problem in problems] == [
        "$.date",
        "$.segments[0].recipients[0].fname",
        "$.segments[1].recipients[0].fname",
    ]


def test_invalid_candidate_error_message_names_each_path() -> None:
    document = valid_document()
    del document["segments"]
    document["date"] = "soon"

    with pytest.raises(InvalidCandidateError) as caught:
        parse_campaign_candidate(document)

    assert str(caught.value).startswith("campaign candidate has 2 problem(s): $.date: ")
    assert "$.segments: Field required" in str(caught.value)


def test_json_that_does_not_parse_is_a_problem_at_the_root() -> None:
    with pytest.raises(InvalidCandidateError) as caught:
        parse_campaign_candidate('{"date": ')

    assert [problem["path"] for problem in caught.value.problems] == ["$"]
    assert "JSON" in caught.value.problems[0]["message"]


def test_validation_problems_works_on_a_plain_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignCandidate.model_validate({"date": "2025-07-01T09:00:00Z"})

    assert validation_problems(caught.value) == [
        {"path": "$.templateS3Uri", "message": "Field required"},
        {"path": "$.segments", "message": "Field required"},
    ]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "$"),
        (("segments", 0, "recipients", 3, "to_address"), "$.segments[0].recipients[3].to_address"),
        (
            ("segments", 0, "recipients", 3, "first name"),
            '$.segments[0].recipients[3]["first name"]',
        ),
        (("tags", 'say "hi"'), '$.tags["say \\"hi\\""]'),
    ],
)
def test_json_path_rendering(loc: tuple[int | str, ...], path: str) -> None:
    assert json_path(loc) == path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-01T09:00:00Z", datetime(2025, 7, 1, 9, tzinfo=UTC)),
        ("2025-07-01T09:00:00+02:00", datetime(2025, 7, 1, 7, tzinfo=UTC)),
        ("2025-07-01T09:00:00.250-05:00", datetime(2025, 7, 1, 14, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_campaign_date_keeps_the_instant_and_its_offset(text: str, expected: datetime) -> None:
    parsed = parse_campaign_date(text)

    assert parsed == expected
    assert parsed.isoformat().replace("+00:00", "Z").startswith(text[:19])


def test_campaign_date_accepts_an_aware_datetime_and_refuses_a_naive_one() -> None:
    aware = datetime(2025, 7, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    assert parse_campaign_date(aware) is aware
    with pytest.raises(ValueError, match="add one"):
        parse_campaign_date(datetime(2025, 7, 1, 9))


def test_split_s3_uri() -> None:
    assert split_s3_uri("s3://ems-templates/summer/vip.html") == (
        "ems-templates",
        "summer/vip.html",
    )
    with pytest.raises(ValueError, match="not an S3 object URI"):
        split_s3_uri("s3://ems-templates/summer/")


def test_error_message_stays_short_when_many_recipients_are_wrong() -> None:
    document = valid_document()
    document["segments"][1]["recipients"] = [{"to_address": "x", "n": 1}] * 25

    with pytest.raises(InvalidCandidateError) as caught:
        parse_campaign_candidate(document)

    assert len(caught.value.problems) == 25
    assert str(caught.value).endswith("; and 15 more")


# --- subject, from, configuration_set; campaign id length; candidateS3Uri ----------------------


def test_campaign_and_segments_may_set_subject_sender_and_configuration_set() -> None:
    # Given a campaign with defaults and a segment overriding them
    document = valid_document()
    document.update(
        {
            "subject": "Summer sale: {{fname}}",
            "from": "News <news@mail.example.com>",
            "configuration_set": "ems-campaigns",
        }
    )
    document["segments"][0].update(
        {"subject": "VIP only", "from": "vip@mail.example.com", "configuration_set": "vip_set-1"}
    )

    # When it is parsed
    candidate = parse_campaign_candidate(document)
    vip, newsletter = candidate.segments

    # Then each segment resolves to its own setting, or else the campaign's
    assert candidate.from_address == "News <news@mail.example.com>"
    assert [candidate.subject_for(s) for s in (vip, newsletter)] == [
        "VIP only",
        "Summer sale: {{fname}}",
    ]
    assert [candidate.from_address_for(s) for s in (vip, newsletter)] == [
        "vip@mail.example.com",
        "News <news@mail.example.com>",
    ]
    assert [candidate.configuration_set_for(s) for s in (vip, newsletter)] == [
        "vip_set-1",
        "ems-campaigns",
    ]
    assert candidate.model_dump(by_alias=True)["from"] == "News <news@mail.example.com>"


def test_settings_left_out_resolve_to_none_for_the_scheduler_to_default() -> None:
    candidate = parse_campaign_candidate(valid_document())
    segment = candidate.segments[0]

    assert candidate.subject_for(segment) is None
    assert candidate.from_address_for(segment) is None
    assert candidate.configuration_set_for(segment) is None


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        pytest.param(_set("subject", "  "), "$.subject", "is blank", id="blank subject"),
        pytest.param(
            _set("segments", 0, "subject", "Hi\r\nBcc: x@example.com"),
            "$.segments[0].subject",
            "line break",
            id="subject with a line break",
        ),
        pytest.param(
            _set("from", "news at example"), "$.from", "is not a sender address", id="bad from"
        ),
        pytest.param(
            _set("segments", 1, "from", "Zoë <zoe@example.com>"),
            "$.segments[1].from",
            "non-ASCII",
            id="non-ASCII from",
        ),
        pytest.param(
            _set("configuration_set", "my config"),
            "$.configuration_set",
            "not an SES configuration set name",
            id="bad configuration set",
        ),
        pytest.param(
            _set("configuration_set", "c" * 65),
            "$.configuration_set",
            "1 to 64",
            id="configuration set too long",
        ),
        pytest.param(
            _set("campaign_id", "c" * 49),
            "$.campaign_id",
            "campaign ids allow at most 48",
            id="campaign id too long for SES template names",
        ),
    ],
)
def test_new_setting_problem_is_reported_at_its_path(
    change: Callable[[Document], None], path: str, message: str
) -> None:
    document = copy.deepcopy(valid_document())
    change(document)

    problems = problems_of(document)

    assert [problem["path"] for problem in problems] == [path]
    assert message in problems[0]["message"]


def test_a_48_character_campaign_id_is_accepted() -> None:
    document = valid_document()
    document["campaign_id"] = "c" * 48

    assert parse_campaign_candidate(document).campaign_id == "c" * 48
    with pytest.raises(ValueError, match="at most 48"):
        parse_campaign_candidate(valid_document()).with_campaign_id("c" * 49)


def test_header_is_the_candidate_without_recipients() -> None:
    document = valid_document()
    for segment in document["segments"]:
        del segment["recipients"]

    header = CampaignHeader.model_validate(document)

    assert [segment.list_name for segment in header.segments] == ["vip-customers", "newsletter"]
    assert (
        header.template_s3_uri_for(header.segments[1]) == "s3://ems-templates/summer/default.html"
    )
    with pytest.raises(ValidationError, match="more than one segment"):
        CampaignHeader.model_validate(
            {**document, "segments": [{"list_name": "a"}, {"list_name": "a"}]}
        )


@pytest.mark.parametrize(
    "request_body",
    [
        {"candidateS3Uri": "s3://ems-assets/candidates/summer.json"},
        b'{"candidateS3Uri": "s3://ems-assets/candidates/summer.json", "campaign_id": "summer"}',
        '{"campaign_id": null, "candidateS3Uri": "s3://ems-assets/candidates/summer.json"}',
    ],
)
def test_a_request_may_name_its_candidate_in_s3(request_body: Any) -> None:
    reference = candidate_reference(request_body)

    assert reference is not None
    assert reference.candidate_s3_uri == "s3://ems-assets/candidates/summer.json"
    assert reference.campaign_id in (None, "summer")


def test_an_inline_candidate_is_no_reference() -> None:
    assert candidate_reference(valid_document()) is None
    assert candidate_reference(json.dumps(valid_document()).encode()) is None


def test_a_reference_carries_nothing_but_the_uri_and_campaign_id() -> None:
    with pytest.raises(InvalidCandidateError) as caught:
        candidate_reference(
            {"candidateS3Uri": "https://bucket/c.json", "date": "2025-07-01T09:00:00Z"}
        )

    assert [problem["path"] for problem in caught.value.problems] == ["$.candidateS3Uri", "$.date"]
    assert "only campaign_id" in caught.value.problems[1]["message"]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ("{", "is not valid JSON"),
        ([], "must be a JSON object"),
    ],
)
def test_a_request_that_is_no_json_object_is_refused(request_body: Any, message: str) -> None:
    with pytest.raises(InvalidCandidateError) as caught:
        candidate_reference(request_body)

    assert caught.value.problems[0]["path"] == "$"
    assert message in caught.value.problems[0]["message"]


def test_error_total_can_exceed_the_problems_listed() -> None:
    error = InvalidCandidateError([{"path": "$.a", "message": "wrong"}], total=1000)

    assert error.total == 1000
    assert str(error) == "campaign candidate has 1000 problem(s): $.a: wrong; and 999 more"


@pytest.mark.parametrize(
    "campaign_id", ["transactional", "tx-sale", "tx", "TX", "Tx-sale", "Transactional"]
)
def test_campaign_ids_may_not_take_transactional_names(campaign_id: str) -> None:
    with pytest.raises(ValueError, match="reserved for transactional"):
        check_campaign_id(campaign_id)


def test_the_reserved_id_error_names_every_reserved_form() -> None:
    with pytest.raises(ValueError, match="reserved") as raised:
        check_campaign_id("tx")
    for form in ("'transactional'", "'tx'", "'tx-'"):
        assert form in str(raised.value)


@pytest.mark.parametrize("campaign_id", ["txt", "tx_sale", "t-x", "sale-tx", "transactions"])
def test_ids_that_only_look_transactional_are_campaign_ids(campaign_id: str) -> None:
    assert check_campaign_id(campaign_id) == campaign_id


@given(st.from_regex(r"[A-Za-z0-9_-]{1,48}", fullmatch=True), st.text(max_size=20))
def test_no_campaign_template_takes_a_transactional_templates_name(
    campaign_id: str, subject: str
) -> None:
    # Given any id a campaign may take
    try:
        check_campaign_id(campaign_id)
    except ValueError:
        return
    # Then none of its SES templates is in the transactional templates' namespace (any case)
    name = ses_template_name(campaign_id, "s3://b/t.html", subject)
    assert not name.lower().startswith(SES_TEMPLATE_PREFIX)
    assert not is_reserved_campaign_id(campaign_id)
