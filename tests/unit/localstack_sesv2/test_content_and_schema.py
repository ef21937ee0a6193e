"""The SES v2 provider's plain rules (tools/localstack-sesv2), without LocalStack.

content.py (headers, tags, recipients, template data) and schema.py (requests and answers
against botocore's `sesv2` model) import no LocalStack, so they run here; how the provider
applies them over HTTP is tests/e2e/test_ses_v2.py.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.model import OperationModel

from ems_localstack_sesv2 import content
from ems_localstack_sesv2.schema import request_problems, response_problems, without_nones


def _operation(name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model("sesv2").operation_model(name)


def _header(name: str, value: str) -> dict[str, str]:
    return {"Name": name, "Value": value}


# -- headers ---------------------------------------------------------------------------------


def test_an_entry_header_replaces_the_template_header_of_the_same_name() -> None:
    template = [_header("List-Unsubscribe", "<https://all>"), _header("X-Campaign", "c1")]
    entry = [_header("list-unsubscribe", "<https://ada>"), _header("X-Reader", "ada")]

    merged = content.merge_headers(template, entry)

    assert merged == [
        _header("List-Unsubscribe", "<https://ada>"),
        _header("X-Campaign", "c1"),
        _header("X-Reader", "ada"),
    ]
    assert template[0]["Value"] == "<https://all>"  # the call's default is not changed
    assert content.merge_headers(template, []) == template


def test_a_once_only_header_given_twice_is_refused_and_others_may_repeat() -> None:
    twice = [_header("List-Unsubscribe", "<a>"), _header("LIST-UNSUBSCRIBE", "<b>")]
    assert content.header_problems(twice) == [
        "header LIST-UNSUBSCRIBE can't appear more than once in a message"
    ]
    assert content.header_problems([_header("X-Trace", "1"), _header("X-Trace", "2")]) == []


def test_a_header_longer_than_996_characters_is_refused() -> None:
    assert content.header_problems([_header("X-Long", "v" * 990)]) == []
    (problem,) = content.header_problems([_header("X-Long", "v" * 991)])
    assert "997 characters" in problem


# -- tags ------------------------------------------------------------------------------------


def test_an_entry_tag_replaces_the_default_tag_of_the_same_name() -> None:
    defaults = [_header("campaignId", "c1"), _header("segmentId", "all")]
    merged = content.merge_tags(defaults, [_header("segmentId", "vip"), _header("emailId", "e1")])
    assert merged == [
        _header("campaignId", "c1"),
        _header("segmentId", "vip"),
        _header("emailId", "e1"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "bad"),
    [
        ("campaignId", "c-1_2", False),
        ("ses:operation", "SendEmail", False),
        ("a b", "x", True),
        ("campaignId", "has.dot", True),
        ("campaignId", "", True),
        ("n" * 257, "x", True),
    ],
)
def test_tag_text_follows_ses_rule(name: str, value: str, bad: bool) -> None:
    assert bool(content.tag_problems([_header(name, value)])) is bad


# -- recipients, template data, template names -----------------------------------------------


def test_a_message_has_1_to_50_recipients() -> None:
    assert content.recipient_count_problem(1) is None
    assert content.recipient_count_problem(50) is None
    assert "no recipient" in str(content.recipient_count_problem(0))
    assert "Recipient count exceeds 50" in str(content.recipient_count_problem(51))
    destination = {"ToAddresses": ["a@x"], "CcAddresses": ["c@x"], "BccAddresses": ["b@x"]}
    assert content.recipients(destination) == ["a@x", "c@x", "b@x"]
    assert content.recipients(None) == []


def test_template_data_must_be_a_json_object() -> None:
    assert content.parse_template_data('{"name": "Ada"}', field="TemplateData") == {"name": "Ada"}
    assert content.parse_template_data(None, field="TemplateData") == {}
    with pytest.raises(ValueError, match=r"TemplateData is not valid JSON"):
        content.parse_template_data("{", field="TemplateData")
    with pytest.raises(ValueError, match=r"TemplateData must be a JSON object.*list"):
        content.parse_template_data("[1]", field="TemplateData")


def test_a_template_is_named_by_name_or_by_arn() -> None:
    assert content.template_name({"TemplateName": "welcome"}) == "welcome"
    arn = "arn:aws:ses:us-east-1:123456789012:template/welcome"
    assert content.template_name({"TemplateArn": arn}) == "welcome"
    assert content.template_name({"TemplateData": "{}"}) is None


# -- what events carry -----------------------------------------------------------------------


def test_events_carry_ses_auto_tags_and_the_message_headers() -> None:
    tags = content.auto_tags(
        "SendBulkEmail",
        configuration_set="ems",
        sender="EMS <noreply@mail.example.org>",
        source_ip="127.0.0.1",
    )
    assert {t["Name"]: t["Value"] for t in tags} == {
        "ses:operation": "SendBulkEmail",
        "ses:configuration-set": "ems",
        "ses:source-ip": "127.0.0.1",
        "ses:from-domain": "mail.example.org",
    }
    members = content.event_headers(
        sender="noreply@example.org",
        destination={"ToAddresses": ["ada@example.org"]},
        subject="Hello Ada",
        custom=[_header("List-Unsubscribe", "<https://u>")],
        message_id="m-1",
    )
    assert members["headersTruncated"] is False
    assert members["headers"] == [
        {"name": "From", "value": "noreply@example.org"},
        {"name": "To", "value": "ada@example.org"},
        {"name": "Subject", "value": "Hello Ada"},
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "List-Unsubscribe", "value": "<https://u>"},
    ]
    assert members["commonHeaders"] == {
        "from": ["noreply@example.org"],
        "to": ["ada@example.org"],
        "messageId": "m-1",
        "subject": "Hello Ada",
    }


# -- the model -------------------------------------------------------------------------------

CAMPAIGN_LINE: dict[str, Any] = {
    "FromEmailAddress": "noreply@example.org",
    "Destination": {"ToAddresses": ["ada@example.org"]},
    "Content": {
        "Template": {
            "TemplateName": "welcome",
            "TemplateData": '{"name": "Ada"}',
            "Headers": [_header("List-Unsubscribe", "<https://u>")],
        }
    },
    "EmailTags": [_header("campaignId", "c1")],
    "ConfigurationSetName": "ems",
}


def test_a_campaign_line_is_a_valid_send_email_request() -> None:
    assert request_problems(_operation("SendEmail"), CAMPAIGN_LINE) == []


def test_members_the_parser_left_as_none_count_as_missing() -> None:
    parsed = {"FromEmailAddress": "noreply@example.org", "Content": None}
    assert request_problems(_operation("SendEmail"), parsed) == [
        'Missing required parameter in input: "Content"'
    ]
    assert without_nones({"a": None, "b": [{"c": None, "d": 1}]}) == {"b": [{"d": 1}]}


def test_the_limits_botocore_leaves_to_the_service_are_checked() -> None:
    template = CAMPAIGN_LINE["Content"]["Template"]
    too_many = {**template, "Headers": [_header(f"X-{i}", "v") for i in range(16)]}
    colon = {**template, "Headers": [_header("X-Bad:Name", "v")]}
    problems = [
        request_problems(_operation("SendEmail"), {**CAMPAIGN_LINE, "Content": {"Template": t}})
        for t in (too_many, colon)
    ]
    assert problems == [
        ["Content.Template.Headers holds 16 items; at most 15 are allowed"],
        ["Content.Template.Headers[0].Name 'X-Bad:Name' does not match the pattern ^[!-9;-@A-~]+$"],
    ]


def test_answers_are_checked_against_the_output_shape() -> None:
    bulk = _operation("SendBulkEmail")
    good = {"BulkEmailEntryResults": [{"Status": "SUCCESS", "MessageId": "m-1"}]}
    assert response_problems(bulk, good) == []
    (problem,) = response_problems(bulk, {"BulkEmailEntryResults": [{"Status": "OK"}]})
    assert "BulkEmailEntryResults[0].Status 'OK' is not one of SUCCESS" in problem
    assert response_problems(bulk, {}) == [
        'Missing required parameter in input: "BulkEmailEntryResults"'
    ]
