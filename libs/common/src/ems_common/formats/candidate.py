"""The campaign candidate: the JSON document the dev team sends to schedule a campaign.

Shape (from the seed design)::

    {
      "campaign_id": "optional, made by EMS when absent",
      "date": "2025-07-01T09:00:00+00:00",
      "templateS3Uri": "s3://bucket/templates/default.html",
      "segments": [
        {
          "list_name": "vip",
          "templateS3Uri": "optional, inherits the campaign's",
          "recipients": [{"to_address": "ann@example.com", "fname": "Ann"}]
        }
      ]
    }

Validation here is structural. Email addresses are *not* checked: the scheduler checks each
recipient and rejects only that recipient, not the whole campaign. A date in the past is also
left to the scheduler, which owns the clock.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, TypedDict

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ems_common.formats.tags import TagText, check_tag_text

DATE_EXAMPLE: Final = "2025-07-01T09:00:00+00:00"
_PROBLEMS_IN_MESSAGE: Final = 10

# Bucket names: 3-63 lowercase letters, digits, dots and dashes, starting and ending alphanumeric.
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)")
_JSON_PATH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Problem(TypedDict):
    """One thing wrong with an input document: where (a JSON path) and what to fix."""

    path: str
    message: str


def json_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a JSON path, e.g. ``$.segments[0].to_address``."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _JSON_PATH_NAME.fullmatch(part):
            path += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            path += f'["{escaped}"]'
    return path


def validation_problems(error: ValidationError, *, skip_loc_prefix: int = 0) -> list[Problem]:
    """List every problem in ``error`` (not only the first) with its JSON path and message.

    ``skip_loc_prefix`` drops that many leading location parts, e.g. the tag pydantic puts first
    when validating a discriminated union. The input values are left out on purpose: they can
    hold recipients' personal data and the caller already has the document.
    """
    return [
        {"path": json_path(tuple(detail["loc"][skip_loc_prefix:])), "message": detail["msg"]}
        for detail in error.errors(include_url=False, include_input=False)
    ]


class InvalidCandidateError(ValueError):
    """The campaign candidate is not valid; ``problems`` lists everything to fix."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        # The message stays readable when a million recipients are wrong; problems has them all.
        shown = problems[:_PROBLEMS_IN_MESSAGE]
        listed = "; ".join(f"{problem['path']}: {problem['message']}" for problem in shown)
        if len(problems) > len(shown):
            listed += f"; and {len(problems) - len(shown)} more"
        super().__init__(f"campaign candidate has {len(problems)} problem(s): {listed}")


def parse_campaign_date(value: object) -> datetime:
    """Parse a campaign date: an ISO 8601 date-time string with a UTC offset (or an aware datetime).

    A date without an offset is refused rather than guessed: "09:00" means a different instant
    in every time zone.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "campaign_date",
                "{value} is not an ISO 8601 date-time: write it like {example}",
                {"value": repr(value[:60]), "example": DATE_EXAMPLE},
            ) from None
    else:
        raise PydanticCustomError(
            "campaign_date",
            "must be an ISO 8601 date-time string like {example}",
            {"example": DATE_EXAMPLE},
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PydanticCustomError(
            "campaign_date_naive",
            "has no UTC offset: add one, e.g. {example} or a trailing Z for UTC",
            {"example": DATE_EXAMPLE},
        )
    return parsed


def split_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``; raise ValueError saying what is wrong."""
    match = _S3_URI.fullmatch(uri)
    if match is None or match["key"].endswith("/"):
        raise PydanticCustomError(
            "s3_uri",
            "{value} is not an S3 object URI: write it like s3://my-bucket/templates/welcome.html",
            {"value": repr(uri[:120])},
        )
    return match["bucket"], match["key"]


def _check_s3_uri(uri: str) -> str:
    split_s3_uri(uri)
    return uri


CampaignDate = Annotated[datetime, BeforeValidator(parse_campaign_date)]
"""An aware datetime, parsed from ISO 8601 text that carries a UTC offset."""

S3Uri = Annotated[str, AfterValidator(_check_s3_uri)]
"""An ``s3://bucket/key`` URI naming one object."""


class Recipient(BaseModel):
    """One recipient: the address plus any number of string personalization fields.

    Kept to one declared field and no custom validators because a segment can hold a million
    of these; the extra fields are checked to be strings by pydantic-core itself.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    # Typing the extras makes pydantic reject non-string personalization values, with the
    # field's key in the error location.
    __pydantic_extra__: dict[str, str] = Field(init=False)

    to_address: str

    @property
    def personalization(self) -> dict[str, str]:
        """The template's key/value pairs for this recipient (every field but ``to_address``)."""
        return self.__pydantic_extra__


class Segment(BaseModel):
    """A list of recipients sent with one template.

    An empty ``recipients`` list is allowed: lists are exported by the dev team, and a list
    whose members all left should not block the other segments of the campaign.
    """

    # Unknown keys are refused, so a misspelt "templateS3URI" is reported instead of silently
    # falling back to the campaign's template.
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    # Becomes the segmentId tag on every email, hence SES's tag rule.
    list_name: TagText
    template_s3_uri: S3Uri | None = Field(default=None, alias="templateS3Uri")
    recipients: list[Recipient]


class CampaignCandidate(BaseModel):
    """The campaign as the dev team sends it, before EMS resolves defaults and writes sends."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    # Becomes the campaignId tag on every email, hence SES's tag rule.
    campaign_id: TagText | None = None
    date: CampaignDate
    template_s3_uri: S3Uri = Field(alias="templateS3Uri")
    segments: list[Segment]

    @field_validator("segments")
    @classmethod
    def _segments_are_present_and_distinct(cls, segments: list[Segment]) -> list[Segment]:
        if not segments:
            raise PydanticCustomError(
                "no_segments", "is empty: a campaign needs at least one segment"
            )
        seen: set[str] = set()
        for segment in segments:
            if segment.list_name in seen:
                # Events name the segment by list_name (the segmentId tag): two segments with
                # one name could not be told apart in the campaign's metrics.
                raise PydanticCustomError(
                    "duplicate_segment",
                    "list_name {name} is used by more than one segment: give each segment "
                    "its own list_name or merge them",
                    {"name": repr(segment.list_name)},
                )
            seen.add(segment.list_name)
        return segments

    def template_s3_uri_for(self, segment: Segment) -> str:
        """The template URI ``segment`` is sent with: its own, or else the campaign's."""
        return segment.template_s3_uri or self.template_s3_uri

    def with_campaign_id(self, campaign_id: str) -> "CampaignCandidate":
        """Return a copy carrying ``campaign_id`` (for the id EMS makes when none was given)."""
        return self.model_copy(update={"campaign_id": check_tag_text(campaign_id)})


def parse_campaign_candidate(document: str | bytes | Mapping[str, Any]) -> CampaignCandidate:
    """Validate a campaign candidate given as JSON text or as already-decoded JSON.

    Raises InvalidCandidateError listing every problem with its JSON path.
    """
    try:
        if isinstance(document, str | bytes):
            return CampaignCandidate.model_validate_json(document)
        return CampaignCandidate.model_validate(document)
    except ValidationError as error:
        raise InvalidCandidateError(validation_problems(error)) from error
