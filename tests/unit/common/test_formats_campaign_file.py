"""One line of the campaign file: the seed's line, building lines, headers, the SES v2 request."""

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from pydantic import ValidationError

from ems_common.formats import CAMPAIGN_ID_TAG, SEGMENT_ID_TAG, CampaignFileLine
from ems_common.problems import validation_problems

EVENTS = Path(__file__).resolve().parents[2] / "events"
SEED_LINE = (EVENTS / "seed_campaign_file_line.jsonl").read_text().splitlines()[0]


def a_line(**overrides: Any) -> CampaignFileLine:
    arguments: dict[str, Any] = {
        "from_email_address": "Example News <news@mail.example.com>",
        "to_address": "ann@example.org",
        "template_name": "summer-sale-2025-vip-customers",
        "template_data": {"fname": "Zoë", "unsub_link": "https://example.com/u/1?a=b&c=d"},
        "campaign_id": "summer-sale-2025",
        "segment_id": "vip-customers",
        "configuration_set_name": "ems-campaigns",
    }
    arguments.update(overrides)
    return CampaignFileLine.for_recipient(**arguments)


def test_seed_line_parses() -> None:
    line = CampaignFileLine.from_json_line(SEED_LINE)

    assert line.from_email_address == "from@email.com"
    assert line.to_address == "toAddress@email.com"
    assert line.content.template.template_name == "STRING_VALUE"
    assert line.content.template.template_data == "STRING_VALUE"
    assert line.campaign_id == "some-campaign"
    assert line.segment_id == "some-list"
    assert line.configuration_set_name == "myConfigSet"


def test_seed_line_reserialises_to_the_identical_line() -> None:
    assert CampaignFileLine.from_json_line(SEED_LINE).to_json_line() == SEED_LINE


def test_a_line_with_its_newline_parses() -> None:
    assert CampaignFileLine.from_json_line(SEED_LINE + "\n").to_json_line() == SEED_LINE
    assert CampaignFileLine.from_json_line(SEED_LINE.encode()).to_json_line() == SEED_LINE


def test_built_line_has_the_seeds_key_order_and_round_trips() -> None:
    # Given a line built for one recipient
    line = a_line()

    # When it is written out
    text = line.to_json_line()

    # Then it is one compact line, keys in the seed's order, and parses back to the same line
    assert "\n" not in text
    assert ": " not in text
    decoded = json.loads(text)
    assert list(decoded) == [
        "FromEmailAddress",
        "Destination",
        "Content",
        "EmailTags",
        "ConfigurationSetName",
    ]
    assert decoded["EmailTags"] == [
        {"Name": "campaignId", "Value": "summer-sale-2025"},
        {"Name": "segmentId", "Value": "vip-customers"},
    ]
    assert CampaignFileLine.from_json_line(text) == line
    assert CampaignFileLine.from_json_line(text).to_json_line() == text


def test_template_data_is_a_json_object_in_a_string() -> None:
    line = a_line()

    template = line.content.template
    assert isinstance(template.template_data, str)
    assert template.decoded_template_data() == {
        "fname": "Zoë",
        "unsub_link": "https://example.com/u/1?a=b&c=d",
    }


def test_seeds_placeholder_template_data_is_kept_but_cannot_be_decoded() -> None:
    line = CampaignFileLine.from_json_line(SEED_LINE)

    with pytest.raises(ValueError, match="must be a string holding a JSON object"):
        line.content.template.decoded_template_data()


def test_the_send_email_request_is_the_line_itself() -> None:
    # When a line is turned into the SES v2 SendEmail call the sender makes
    request = CampaignFileLine.from_json_line(SEED_LINE).send_email_request()

    # Then it holds exactly the line's fields, nothing added, nothing lost
    assert request == json.loads(SEED_LINE)


def test_headers_ride_in_the_template_content_and_only_when_given() -> None:
    plain = a_line()
    with_headers = a_line(
        headers=[
            ("List-Unsubscribe", "<https://u.example.com/u/abc>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    )

    assert "Headers" not in plain.to_json_line()
    assert "Headers" not in plain.send_email_request()["Content"]["Template"]
    assert with_headers.send_email_request()["Content"]["Template"]["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": "<https://u.example.com/u/abc>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]
    # And they survive the file and the queue
    assert CampaignFileLine.from_json_line(with_headers.to_json_line()) == with_headers
    assert with_headers.headers[1] == ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ([("List Unsubscribe", "x")], "is no header name SES accepts"),
        ([("Subject:", "x")], "is no header name SES accepts"),
        ([("X-Long", "v" * 871)], "is no header value SES accepts"),
        ([("X-Split", "a\r\nBcc: eve@example.org")], "is no header value SES accepts"),
        ([(f"X-{i}", "v") for i in range(16)], "at most 15 items"),
    ],
)
def test_headers_ses_would_refuse_are_refused_with_a_reason(
    headers: list[tuple[str, str]], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        a_line(headers=headers)


def _seed_with(change: dict[str, Any]) -> str:
    document = json.loads(SEED_LINE)
    document.update(change)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("line", "path", "message"),
    [
        pytest.param(
            _seed_with(
                {
                    "EmailTags": [
                        {"Name": "campaignId", "Value": "summer sale"},
                        {"Name": "segmentId", "Value": "x"},
                    ]
                }
            ),
            "$.EmailTags[0].Value",
            "SES tags allow only ASCII letters, digits, '_' and '-'",
            id="space in a tag value",
        ),
        pytest.param(
            _seed_with(
                {
                    "EmailTags": [
                        {"Name": "campaignId", "Value": "c"},
                        {"Name": "segmentId", "Value": "x" * 257},
                    ]
                }
            ),
            "$.EmailTags[1].Value",
            "at most 256",
            id="tag value too long",
        ),
        pytest.param(
            _seed_with(
                {
                    "EmailTags": [
                        {"Name": "campaignId", "Value": "c"},
                        {"Name": "segmentId", "Value": ""},
                    ]
                }
            ),
            "$.EmailTags[1].Value",
            "must not be empty",
            id="empty tag value",
        ),
        pytest.param(
            _seed_with({"EmailTags": [{"Name": "campaignId", "Value": "c"}]}),
            "$.EmailTags",
            "lacks tag(s) segmentId",
            id="segmentId tag missing",
        ),
        pytest.param(
            _seed_with(
                {
                    "EmailTags": [
                        {"Name": "campaignId", "Value": "c"},
                        {"Name": "segmentId", "Value": "s"},
                        {"Name": "campaignId", "Value": "d"},
                    ]
                }
            ),
            "$.EmailTags",
            "repeats tag name(s) campaignId",
            id="duplicate tag",
        ),
        pytest.param(
            _seed_with({"Destination": {"ToAddresses": ["a@example.org", "b@example.org"]}}),
            "$.Destination.ToAddresses",
            "exactly one recipient",
            id="two recipients on one line",
        ),
        pytest.param(
            _seed_with({"ReplyToAddresses": ["help@example.com"]}),
            "$.ReplyToAddresses",
            "Extra inputs are not permitted",
            id="field the v1 mapping would drop",
        ),
        pytest.param(
            _seed_with({"ConfigurationSetName": ""}),
            "$.ConfigurationSetName",
            "at least 1 character",
            id="empty configuration set",
        ),
        pytest.param(
            _seed_with({"Content": {"Template": {"TemplateName": "t", "TemplateData": {"a": 1}}}}),
            "$.Content.Template.TemplateData",
            "valid string",
            id="template data not a string",
        ),
    ],
)
def test_invalid_line_problem_is_reported_at_its_path(line: str, path: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignFileLine.from_json_line(line)

    problems = validation_problems(caught.value)
    assert [problem["path"] for problem in problems] == [path]
    assert message in problems[0]["message"]


def test_a_256_character_tag_value_is_accepted() -> None:
    line = a_line(segment_id="s" * 256)

    assert line.segment_id == "s" * 256


def test_building_a_line_with_an_invalid_tag_fails_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="SES tags allow only"):
        a_line(campaign_id="summer/2025")


def test_lines_tag_names_are_the_shared_constants() -> None:
    line = a_line()

    assert line.tag(CAMPAIGN_ID_TAG) == line.campaign_id == "summer-sale-2025"
    assert line.tag(SEGMENT_ID_TAG) == line.segment_id == "vip-customers"
    assert line.tag("other") is None


@pytest.mark.parametrize(
    "text",
    [SEED_LINE, a_line().to_json_line(), a_line(headers=[("X-Campaign", "spring")]).to_json_line()],
    ids=["seed", "built", "with headers"],
)
def test_lines_are_valid_ses_v2_send_email_requests(text: str) -> None:
    # botocore's own request validation, offline: the line is an SES v2 SendEmail request.
    v2 = botocore.session.get_session().get_service_model("sesv2")
    shape = v2.operation_model("SendEmail").input_shape
    assert shape is not None
    request = CampaignFileLine.from_json_line(text).send_email_request()

    report = ParamValidator().validate(dict(request), shape)

    assert not report.has_errors(), report.generate_report()
