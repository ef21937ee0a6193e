"""One line of the campaign file: the seed's line, building lines, and the SES v1 mapping."""

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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            SEED_LINE,
            {
                "Source": "from@email.com",
                "Destination": {"ToAddresses": ["toAddress@email.com"]},
                "Template": "STRING_VALUE",
                "TemplateData": "STRING_VALUE",
                "ConfigurationSetName": "myConfigSet",
                "Tags": [
                    {"Name": "campaignId", "Value": "some-campaign"},
                    {"Name": "segmentId", "Value": "some-list"},
                ],
            },
            id="seed line",
        ),
        pytest.param(
            a_line().to_json_line(),
            {
                "Source": "Example News <news@mail.example.com>",
                "Destination": {"ToAddresses": ["ann@example.org"]},
                "Template": "summer-sale-2025-vip-customers",
                "TemplateData": '{"fname":"Zoë","unsub_link":"https://example.com/u/1?a=b&c=d"}',
                "ConfigurationSetName": "ems-campaigns",
                "Tags": [
                    {"Name": "campaignId", "Value": "summer-sale-2025"},
                    {"Name": "segmentId", "Value": "vip-customers"},
                ],
            },
            id="built line with non-ASCII data",
        ),
    ],
)
def test_v1_send_templated_email_kwargs(line: str, expected: dict[str, Any]) -> None:
    # When a v2-shaped line is mapped to the v1 call
    kwargs = CampaignFileLine.from_json_line(line).to_send_templated_email_kwargs()

    # Then it holds exactly SendTemplatedEmail's arguments
    assert dict(kwargs) == expected


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


@pytest.mark.parametrize("text", [SEED_LINE, a_line().to_json_line()], ids=["seed", "built"])
def test_line_and_v1_kwargs_match_the_ses_service_models(text: str) -> None:
    # botocore's own request validation, offline: the line is an SES v2 SendEmail request and
    # its mapping an SES v1 SendTemplatedEmail request.
    session = botocore.session.get_session()
    v2 = session.get_service_model("sesv2").operation_model("SendEmail").input_shape
    v1 = session.get_service_model("ses").operation_model("SendTemplatedEmail").input_shape
    assert v2 is not None
    assert v1 is not None
    line = CampaignFileLine.from_json_line(text)

    v2_report = ParamValidator().validate(json.loads(text), v2)
    v1_report = ParamValidator().validate(line.to_send_templated_email_kwargs(), v1)

    assert not v2_report.has_errors(), v2_report.generate_report()
    assert not v1_report.has_errors(), v1_report.generate_report()
