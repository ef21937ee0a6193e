"""The SES templates a campaign makes: the HTML title, SES template names and content."""

import re

import botocore.session
import pytest
from botocore.validate import ParamValidator

from ems_scheduler.campaigns.compiler.campaign_templates import (
    SES_TEMPLATE_NAME_MAX_LENGTH,
    SesTemplate,
    html_title,
    looks_like_html,
    ses_template_name,
)


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<html><head><title>Summer sale</title></head></html>", "Summer sale"),
        ('<TITLE lang="en">\n  Hi {{fname}},\n  &amp; welcome </TITLE>', "Hi {{fname}}, & welcome"),
        ("<title></title>", None),
        ("<html><body>no title</body></html>", None),
    ],
)
def test_html_title(html: str, title: str | None) -> None:
    assert html_title(html) == title


@pytest.mark.parametrize(
    ("text", "is_html"),
    [
        ("<!DOCTYPE html><html></html>", True),
        ("<p>Hi {{fname}}</p>", True),
        ("Dear {{fname}}, plain text only", False),
        ('{"json": "document"}', False),
        ("a < b and c > d", False),
    ],
)
def test_looks_like_html(text: str, is_html: bool) -> None:
    assert looks_like_html(text) is is_html


def test_ses_template_names_are_deterministic_and_fit_ses() -> None:
    campaign_id = "c" * 48
    name = ses_template_name(campaign_id, "s3://b-1/t.html", "Hi {{fname}}")

    assert name == ses_template_name(campaign_id, "s3://b-1/t.html", "Hi {{fname}}")
    assert re.fullmatch(r"ems-c{48}-[0-9a-f]{8}", name)
    assert len(name) <= SES_TEMPLATE_NAME_MAX_LENGTH
    assert name != ses_template_name(campaign_id, "s3://b-1/t.html", "Hello")
    assert name != ses_template_name(campaign_id, "s3://b-1/u.html", "Hi {{fname}}")
    with pytest.raises(ValueError, match="too long"):
        ses_template_name("c" * 52, "s3://b-1/t.html", "Hi")


def test_ses_template_matches_the_ses_create_template_model() -> None:
    template = SesTemplate(
        name="ems-summer-0a1b2c3d",
        subject="Hi {{fname}}",
        html="<p>Zoë</p>",
        text="Zoë",
        template_s3_uri="s3://b-1/t.html",
    )
    shape = (
        botocore.session.get_session()
        .get_service_model("ses")
        .operation_model("CreateTemplate")
        .input_shape
    )
    assert shape is not None

    report = ParamValidator().validate({"Template": template.to_ses_template()}, shape)

    assert not report.has_errors(), report.generate_report()
    assert template.size() == len("Hi {{fname}}") + len("<p>Zoë</p>".encode()) + len(b"Zo\xc3\xab")
    assert "TextPart" not in template.model_copy(update={"text": None}).to_ses_template()
