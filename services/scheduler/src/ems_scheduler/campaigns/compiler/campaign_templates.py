"""The SES templates a campaign makes from its HTML templates: their names, model and subjects.

A campaign's segments name HTML templates in S3; the compiler makes one SES template for each
(HTML template, subject) pair, named after the campaign (``ems-<campaign_id>-<8 hex>``), and the
subject falls back to the HTML's ``<title>``. What a template needs of each recipient is
Handlebars' business (``shared.handlebars``); SES's size limit is in ``shared.ses_template_store``.
"""

import hashlib
import html as html_entities
import re
from typing import TYPE_CHECKING, Final

import orjson
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mypy_boto3_ses.type_defs import TemplateTypeDef

SES_TEMPLATE_NAME_MAX_LENGTH: Final = 64
TEMPLATE_NAME_PREFIX: Final = "ems-"

_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|[a-z][a-z0-9-]*)[\s/>]", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def html_title(html: str) -> str | None:
    """The text of the HTML ``<title>``, entities decoded and whitespace collapsed; None if none."""
    match = _TITLE.search(html)
    if match is None:
        return None
    title = _WHITESPACE.sub(" ", html_entities.unescape(match.group(1))).strip()
    return title or None


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds at least one HTML tag (``<!doctype html>``, ``<p>``, ...)."""
    return _HTML_TAG.search(text) is not None


def ses_template_name(campaign_id: str, template_s3_uri: str, subject: str) -> str:
    """The SES template name for one (template, subject) of a campaign: the same every time.

    ``ems-<campaign_id>-<8 hex digits of sha256(uri, subject)>``: at most 4 + 48 + 1 + 8 = 61
    characters of ``[A-Za-z0-9_-]``, as SES requires (campaign ids are at most 48 characters).
    """
    digest = hashlib.sha256(orjson.dumps([template_s3_uri, subject])).hexdigest()[:8]
    name = f"{TEMPLATE_NAME_PREFIX}{campaign_id}-{digest}"
    if len(name) > SES_TEMPLATE_NAME_MAX_LENGTH:
        raise ValueError(f"campaign id {campaign_id!r} is too long for an SES template name")
    return name


class SesTemplate(BaseModel):
    """An SES template the caller creates (or replaces) before the campaign is sent."""

    model_config = ConfigDict(frozen=True)

    name: str
    subject: str
    html: str
    text: str | None = None
    template_s3_uri: str

    def size(self) -> int:
        """Bytes SES counts against its limit: subject, HTML and text part."""
        return sum(len(part.encode()) for part in (self.subject, self.html, self.text or ""))

    def to_ses_template(self) -> "TemplateTypeDef":
        """The ``Template`` argument of SES v1 ``CreateTemplate`` / ``UpdateTemplate``."""
        template: TemplateTypeDef = {
            "TemplateName": self.name,
            "SubjectPart": self.subject,
            "HtmlPart": self.html,
        }
        if self.text is not None:
            template["TextPart"] = self.text
        return template
