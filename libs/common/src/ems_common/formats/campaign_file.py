"""One line of the campaign file: an SES v2 ``SendEmail`` request for one recipient.

The scheduler writes one compact JSON line per recipient, the launcher moves lines to SQS and
the sender turns each line into an SES call. The shape is exactly the seed's::

    {"FromEmailAddress":"from@email.com","Destination":{"ToAddresses":["to@email.com"]},
     "Content":{"Template":{"TemplateName":"NAME","TemplateData":"{...}"}},
     "EmailTags":[{"Name":"campaignId","Value":"c"},{"Name":"segmentId","Value":"s"}],
     "ConfigurationSetName":"myConfigSet"}

(on one line, keys in that order). A line may also carry ``Content.Template.Headers`` (SES v2's
custom headers, e.g. RFC 8058's List-Unsubscribe), written only when present. The sender passes
the line to SES v2 ``SendEmail`` as it is: ``sesv2.send_email(**line.send_email_request())``, or
lines of one segment together to ``SendBulkEmail`` (`send_bulk_email_request`), each recipient
getting the email ``SendEmail`` with its line would have sent.
"""

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Final, Self

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ems_common.formats.tags import CAMPAIGN_ID_TAG, EMAIL_ID_TAG, SEGMENT_ID_TAG, TagText

if TYPE_CHECKING:
    from mypy_boto3_sesv2.type_defs import SendBulkEmailRequestTypeDef, SendEmailRequestTypeDef

# SES v2's limits for custom headers (the MessageHeader shape): a name of up to 126 printable
# ASCII characters without a colon, a value of up to 870 characters, at most 15 headers.
HEADER_NAME_MAX_LENGTH: Final = 126
HEADER_VALUE_MAX_LENGTH: Final = 870
MAX_HEADERS: Final = 15
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII (33-126) but the colon


class _SesShape(BaseModel):
    # Fields beyond what EMS writes are refused: a line is passed to SendEmail as it is, so a
    # field nobody checked (a ReplyToAddresses, say) must not ride along unseen.
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")


def _header_name(name: str) -> str:
    if not 1 <= len(name) <= HEADER_NAME_MAX_LENGTH or _HEADER_NAME.fullmatch(name) is None:
        raise PydanticCustomError(
            "header_name",
            "{name!r} is no header name SES accepts: 1 to {limit} printable ASCII characters,"
            " no colon or space",
            {"name": name[:60], "limit": HEADER_NAME_MAX_LENGTH},
        )
    return name


def _header_value(value: str) -> str:
    if len(value) > HEADER_VALUE_MAX_LENGTH or "\r" in value or "\n" in value:
        raise PydanticCustomError(
            "header_value",
            "is no header value SES accepts: at most {limit} characters, on one line",
            {"limit": HEADER_VALUE_MAX_LENGTH},
        )
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
"""A custom header's name SES accepts."""

HeaderValue = Annotated[str, AfterValidator(_header_value)]
"""A custom header's value SES accepts."""


class MessageHeader(_SesShape):
    """One custom header (SES v2 ``MessageHeader``)."""

    name: HeaderName = Field(alias="Name")
    value: HeaderValue = Field(alias="Value")


class Destination(_SesShape):
    """``Destination``: EMS sends one personalised email per recipient, so one address."""

    to_addresses: list[str] = Field(alias="ToAddresses")

    @field_validator("to_addresses")
    @classmethod
    def _exactly_one(cls, addresses: list[str]) -> list[str]:
        if len(addresses) != 1:
            raise PydanticCustomError(
                "one_recipient_per_line",
                "holds {count} addresses: a campaign file line sends to exactly one recipient, "
                "write one line per recipient",
                {"count": len(addresses)},
            )
        return addresses


class TemplateContent(_SesShape):
    """``Content.Template``: the SES template and the recipient's data for it."""

    template_name: str = Field(alias="TemplateName", min_length=1)
    # SES's rule: a string holding a JSON object. Its content is not checked here, so the seed's
    # placeholder "STRING_VALUE" still parses; for_recipient always writes a real object.
    template_data: str = Field(alias="TemplateData")
    headers: list[MessageHeader] | None = Field(
        default=None, alias="Headers", max_length=MAX_HEADERS
    )

    def decoded_template_data(self) -> dict[str, object]:
        """``TemplateData`` decoded; raise ValueError if it is not a JSON object."""
        try:
            decoded = orjson.loads(self.template_data)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            raise ValueError(
                "TemplateData must be a string holding a JSON object, like "
                '"{\\"fname\\":\\"Ann\\"}"; build lines with CampaignFileLine.for_recipient'
            )
        return decoded


class EmailContent(_SesShape):
    """``Content``: campaign sends always use an SES template."""

    template: TemplateContent = Field(alias="Template")


class EmailTag(_SesShape):
    """One entry of ``EmailTags``."""

    name: TagText = Field(alias="Name")
    value: TagText = Field(alias="Value")


class CampaignFileLine(_SesShape):
    """One SES v2 ``SendEmail`` request, as written to the campaign file and carried by SQS."""

    from_email_address: str = Field(alias="FromEmailAddress", min_length=1)
    destination: Destination = Field(alias="Destination")
    content: EmailContent = Field(alias="Content")
    email_tags: list[EmailTag] = Field(alias="EmailTags")
    # Required although SES makes it optional: without it SES publishes no events, and the
    # campaign's metrics would silently stay at zero.
    configuration_set_name: str = Field(alias="ConfigurationSetName", min_length=1)

    @field_validator("email_tags")
    @classmethod
    def _campaign_tags_present(cls, tags: list[EmailTag]) -> list[EmailTag]:
        names = [tag.name for tag in tags]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise PydanticCustomError(
                "duplicate_tag",
                "repeats tag name(s) {names}: give each tag once",
                {"names": ", ".join(duplicates)},
            )
        missing = [name for name in (CAMPAIGN_ID_TAG, SEGMENT_ID_TAG) if name not in names]
        if missing:
            # The tracker files every event under these two tags; without them it cannot.
            raise PydanticCustomError(
                "missing_campaign_tags",
                "lacks tag(s) {names}: every campaign send carries {campaign} and {segment}",
                {
                    "names": ", ".join(missing),
                    "campaign": CAMPAIGN_ID_TAG,
                    "segment": SEGMENT_ID_TAG,
                },
            )
        return tags

    @classmethod
    def for_recipient(
        cls,
        *,
        from_email_address: str,
        to_address: str,
        template_name: str,
        template_data: Mapping[str, object],
        campaign_id: str,
        segment_id: str,
        configuration_set_name: str,
        extra_tags: Mapping[str, str] | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Self:
        """Build the line sending ``template_name`` to one recipient, tags in the standard order.

        ``extra_tags`` follow EMS's two (a transactional email's ``emailId``, a caller's own);
        ``headers`` are (name, value) pairs SES adds to the email.
        """
        template: dict[str, Any] = {
            "TemplateName": template_name,
            "TemplateData": orjson.dumps(dict(template_data)).decode(),
        }
        if headers:
            template["Headers"] = [{"Name": name, "Value": value} for name, value in headers]
        tags = [
            {"Name": CAMPAIGN_ID_TAG, "Value": campaign_id},
            {"Name": SEGMENT_ID_TAG, "Value": segment_id},
            *({"Name": name, "Value": value} for name, value in (extra_tags or {}).items()),
        ]
        return cls.model_validate(
            {
                "FromEmailAddress": from_email_address,
                "Destination": {"ToAddresses": [to_address]},
                "Content": {"Template": template},
                "EmailTags": tags,
                "ConfigurationSetName": configuration_set_name,
            }
        )

    @classmethod
    def from_json_line(cls, line: str | bytes) -> Self:
        """Parse one line of the campaign file (a trailing newline is fine).

        Raises pydantic.ValidationError (a ValueError); ``validation_problems`` lists its paths.
        """
        return cls.model_validate_json(line)

    def to_json_line(self) -> str:
        """Serialise to one compact JSON line, keys in the seed's order, without the newline."""
        return orjson.dumps(self.model_dump(by_alias=True, exclude_none=True)).decode()

    @property
    def to_address(self) -> str:
        """The recipient's address."""
        return self.destination.to_addresses[0]

    def tag(self, name: str) -> str | None:
        """The value of tag ``name``, or None if the line does not carry it."""
        return next((tag.value for tag in self.email_tags if tag.name == name), None)

    def _required_tag(self, name: str) -> str:
        value = self.tag(name)
        if value is None:
            # Validation requires the tag, so only a line made with model_construct gets here.
            raise ValueError(f"campaign file line has no {name} tag: build lines with validation")
        return value

    @property
    def campaign_id(self) -> str:
        """The campaign this send belongs to (its campaignId tag)."""
        return self._required_tag(CAMPAIGN_ID_TAG)

    @property
    def record_scope(self) -> str:
        """The partition of this email's record: its emailId tag if any, else its campaign."""
        return self.tag(EMAIL_ID_TAG) or self.campaign_id

    @property
    def segment_id(self) -> str:
        """The segment this send belongs to (its segmentId tag)."""
        return self._required_tag(SEGMENT_ID_TAG)

    def send_email_request(self) -> "SendEmailRequestTypeDef":
        """This line as the keyword arguments of SES v2 ``SendEmail``: the line itself.

        ``sesv2_client.send_email(**line.send_email_request())``.
        """
        request: SendEmailRequestTypeDef = self.model_dump(  # type: ignore[assignment]
            by_alias=True, exclude_none=True
        )
        return request

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The custom headers the line carries, as (name, value) pairs."""
        return [(h.name, h.value) for h in self.content.template.headers or ()]

    def bulk_key(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """What lines share to go in one SES v2 ``SendBulkEmail`` call: the sender, the
        configuration set, the template and the tags (each recipient has its own address,
        TemplateData and headers)."""
        return (
            self.from_email_address,
            self.configuration_set_name,
            self.content.template.template_name,
            tuple((tag.name, tag.value) for tag in self.email_tags),
        )


# SES v2's most destinations in one SendBulkEmail call.
MAX_BULK_ENTRIES: Final = 50


def send_bulk_email_request(
    lines: Sequence[CampaignFileLine], *, extra_tags: Mapping[str, str] | None = None
) -> "SendBulkEmailRequestTypeDef":
    """Lines that share a `bulk_key` as the keyword arguments of SES v2 ``SendBulkEmail``.

    Each line becomes one entry: its recipient, its ``TemplateData`` as the entry's replacement
    data and its headers (List-Unsubscribe ...) as the entry's replacement headers, so each
    recipient gets the same email ``SendEmail`` with the line would have sent. `extra_tags` are
    added to every email's tags (the send batch, say). Raises ValueError for no lines, more
    than `MAX_BULK_ENTRIES`, or lines that differ in what a call shares.
    """
    if not 1 <= len(lines) <= MAX_BULK_ENTRIES:
        msg = f"a SendBulkEmail call takes 1 to {MAX_BULK_ENTRIES} lines, got {len(lines)}"
        raise ValueError(msg)
    first = lines[0]
    key = first.bulk_key()
    if any(line.bulk_key() != key for line in lines[1:]):
        msg = "lines of one SendBulkEmail call must share sender, configuration set, template, tags"
        raise ValueError(msg)
    tags = [{"Name": tag.name, "Value": tag.value} for tag in first.email_tags]
    tags += [{"Name": name, "Value": value} for name, value in (extra_tags or {}).items()]
    entries: list[dict[str, Any]] = []
    for line in lines:
        template = line.content.template
        entry: dict[str, Any] = {
            "Destination": {"ToAddresses": [line.to_address]},
            "ReplacementEmailContent": {
                "ReplacementTemplate": {"ReplacementTemplateData": template.template_data}
            },
        }
        if template.headers:
            entry["ReplacementHeaders"] = [
                {"Name": header.name, "Value": header.value} for header in template.headers
            ]
        entries.append(entry)
    request: dict[str, Any] = {
        "FromEmailAddress": first.from_email_address,
        "DefaultContent": {
            "Template": {"TemplateName": first.content.template.template_name, "TemplateData": "{}"}
        },
        "DefaultEmailTags": tags,
        "BulkEmailEntries": entries,
        "ConfigurationSetName": first.configuration_set_name,
    }
    return request  # type: ignore[return-value]
