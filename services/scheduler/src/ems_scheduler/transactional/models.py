"""Transactional email's requests and answers (see docs/transactional.md).

The bodies are pydantic models, so a malformed request is a 400 listing every problem by its
JSON path (flask-openapi3 validates them); the rules on subjects, senders, URIs and tags are
the campaign candidate's own (`ems_scheduler.shared.request_fields`, `ems_common.formats.tags`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ems_common.formats.campaign_file import MAX_HEADERS, HeaderName, HeaderValue
from ems_common.formats.tags import RESERVED_TAGS, TagText
from ems_common.transactional import (
    MAX_BULK_RECIPIENTS,
    MAX_CALLER_TAGS,
    template_name_problem,
)
from ems_scheduler.shared.request_fields import ConfigurationSetName, FromAddress, S3Uri, Subject


def _check_template_name(name: str) -> str:
    problem = template_name_problem(name)
    if problem is not None:
        raise PydanticCustomError("template_name", "{problem}", {"problem": problem})
    return name


TemplateName = Annotated[str, AfterValidator(_check_template_name)]
"""A transactional template's name: 1 to 48 of SES's tag characters."""


def _check_caller_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_CALLER_TAGS:
        raise PydanticCustomError(
            "too_many_tags",
            "holds {count} tags: at most {limit} per email",
            {"count": len(tags), "limit": MAX_CALLER_TAGS},
        )
    reserved = sorted(RESERVED_TAGS & tags.keys())
    if reserved:
        raise PydanticCustomError(
            "reserved_tags",
            "uses tag name(s) {names}, which EMS writes itself: rename them",
            {"names": ", ".join(reserved)},
        )
    return tags


CallerTags = Annotated[dict[TagText, TagText], AfterValidator(_check_caller_tags)]


class _Body(BaseModel):
    # Unknown keys are refused, so a misspelt "configurationSet" is reported, not ignored.
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)


class TemplateContentBody(_Body):
    """`PUT /templates/{name}`: a template's content."""

    subject: Subject = Field(description="One line; may hold placeholders")
    html: str | None = Field(default=None, min_length=1, description="The HTML part")
    html_s3_uri: S3Uri | None = Field(
        default=None, alias="htmlS3Uri", description="Or: where the HTML part is, in S3"
    )
    text: str | None = Field(default=None, min_length=1, description="The plain-text part")
    marketing: bool = Field(
        default=False,
        description=(
            "Bulk or marketing mail (a newsletter, a notice to a list): each email then carries"
            " RFC 8058 one-click unsubscribe headers, may print {{unsubscribe_url}}, and is not"
            " sent to anyone unsubscribed from the template's list or from campaign email"
        ),
    )

    @model_validator(mode="after")
    def _one_html(self) -> TemplateContentBody:
        if (self.html is None) == (self.html_s3_uri is None):
            raise PydanticCustomError(
                "one_html", "give the HTML part as html or as htmlS3Uri (exactly one of them)"
            )
        return self


class TemplateBody(TemplateContentBody):
    """`POST /templates`: a new template."""

    name: TemplateName


class EmailOptions(_Body):
    """What a single and a bulk send share."""

    template: TemplateName
    from_address: FromAddress | None = Field(
        default=None, alias="from", description="Default: the deployment's sender"
    )
    configuration_set: ConfigurationSetName | None = Field(
        default=None, description="Default: EMS's configuration set (whose events EMS tracks)"
    )
    tags: CallerTags = Field(
        default_factory=dict, description="Your own SES tags, name to value (at most 10)"
    )
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict,
        max_length=MAX_HEADERS,
        description=(
            "Headers SES adds to the email, name to value (at most 15), e.g."
            ' {"X-Entity-Ref-ID": "order-1234"}'
        ),
    )


class EmailBody(EmailOptions):
    """`POST /emails`: one templated email."""

    to: str = Field(min_length=1, max_length=320, description="The recipient's address")
    data: dict[str, Any] = Field(default_factory=dict, description="The template's fields")


class BulkRecipient(_Body):
    """One recipient of a bulk send."""

    to: str = Field(min_length=1, max_length=320)
    data: dict[str, Any] = Field(default_factory=dict)


class BulkBody(EmailOptions):
    """`POST /emails/bulk`: one template to many recipients."""

    recipients: list[BulkRecipient] = Field(min_length=1)

    @field_validator("recipients")
    @classmethod
    def _bounded(cls, recipients: list[BulkRecipient]) -> list[BulkRecipient]:
        if len(recipients) > MAX_BULK_RECIPIENTS:
            raise PydanticCustomError(
                "too_many_recipients",
                "holds {count} recipients: at most {limit} per request, send the rest in"
                " further requests",
                {"count": len(recipients), "limit": MAX_BULK_RECIPIENTS},
            )
        return recipients


class TemplateRecord(BaseModel):
    """What EMS keeps about a template (its content is in SES)."""

    model_config = ConfigDict(frozen=True)

    name: str
    subject: str
    has_text: bool
    required_fields: list[str]
    conditional_fields: list[str]
    ses_template_name: str
    size_bytes: int
    marketing: bool = False
    created_at: datetime
    updated_at: datetime


class AcceptedEmail(BaseModel):
    """One recipient of a request that is queued."""

    model_config = ConfigDict(frozen=True)

    index: int
    to: str = Field(description="The address SES is given (normalised)")
    email_id: str


class RejectedEmail(BaseModel):
    """One recipient left out, and why."""

    model_config = ConfigDict(frozen=True)

    index: int
    to: str
    reason: str = Field(description="invalid_address, suppressed, missing_fields or duplicate")
    message: str


class SendAnswer(BaseModel):
    """What a send request was answered (kept under its Idempotency-Key)."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    template: str
    emails: list[AcceptedEmail]
    rejections: list[RejectedEmail]
