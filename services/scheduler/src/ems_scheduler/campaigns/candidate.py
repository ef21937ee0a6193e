"""The campaign candidate: the JSON document the dev team sends to schedule a campaign.

Shape (from the seed design, plus the optional ``subject``, ``from`` and ``configuration_set``
on the campaign and on each segment)::

    {
      "campaign_id": "optional, made by EMS when absent; 1-48 of A-Z a-z 0-9 _ -",
      "date": "2025-07-01T09:00:00+00:00",
      "templateS3Uri": "s3://bucket/templates/default.html",
      "subject": "optional; else the segment's, else the template's <title>",
      "from": "optional, e.g. News <news@mail.example.com>; else EMS's default",
      "configuration_set": "optional SES configuration set; else EMS's default",
      "segments": [
        {
          "list_name": "vip",
          "templateS3Uri": "optional, inherits the campaign's",
          "subject": "optional, overrides the campaign's",
          "from": "optional, overrides the campaign's",
          "configuration_set": "optional, overrides the campaign's",
          "recipients": [{"to_address": "ann@example.com", "fname": "Ann"}]
        }
      ]
    }

Large candidates (a million recipients do not fit in a request) are uploaded to S3 first and
the request only points at them (``CandidateReference``)::

    {"candidateS3Uri": "s3://bucket/candidates/summer.json", "campaign_id": "optional"}

The object it names is a whole candidate document as above. ``campaign_id`` may be given in the
request, in the document, or in both if they agree. Nothing else may sit next to
``candidateS3Uri``: one document holds the campaign, so there is no merging to explain.

Validation here is structural. Email addresses are *not* checked: the compiler checks each
recipient and rejects only that recipient, not the whole campaign. A date in the past is also
left to the compiler, which is given the clock. ``CampaignHeader`` is the candidate without its
recipients, for readers that stream the recipients instead of holding them. The fields a
transactional request accepts too (S3 URIs, subject, sender, configuration set) are checked by
``ems_scheduler.shared.request_fields``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Self

import orjson
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
from ems_common.problems import Problem, json_path, validation_problems
from ems_common.transactional import (
    TRANSACTIONAL_CAMPAIGN_ID,
    TRANSACTIONAL_SCOPE_PREFIX,
    is_reserved_campaign_id,
)
from ems_scheduler.shared.request_fields import (
    ConfigurationSetName,
    FromAddress,
    S3Uri,
    Subject,
)

DATE_EXAMPLE: Final = "2025-07-01T09:00:00+00:00"
CAMPAIGN_ID_MAX_LENGTH: Final = 48
"""The longest campaign id: SES template names (at most 64 characters) are derived from it."""
CANDIDATE_S3_URI_KEY: Final = "candidateS3Uri"
_PROBLEMS_IN_MESSAGE: Final = 10


class InvalidCandidateError(ValueError):
    """The campaign candidate is not valid; ``problems`` lists what to fix.

    ``total`` counts every problem found; ``problems`` may list only the first of them when a
    streaming reader caps the list (a million malformed recipients must not fill the memory).
    """

    def __init__(self, problems: list[Problem], *, total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else max(total, len(problems))
        # The message stays readable when a million recipients are wrong; problems has them all.
        shown = problems[:_PROBLEMS_IN_MESSAGE]
        listed = "; ".join(f"{problem['path']}: {problem['message']}" for problem in shown)
        if self.total > len(shown):
            listed += f"; and {self.total - len(shown)} more"
        super().__init__(f"campaign candidate has {self.total} problem(s): {listed}")


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


def check_campaign_id(text: str) -> str:
    """Return ``text`` if it can be a campaign id, else raise ValueError saying what to fix.

    A campaign id is an SES tag value (the campaignId tag on every email) and part of the SES
    template names EMS makes (``ems-<campaign_id>-<8 hex>``, at most 64 characters), hence
    1 to 48 ASCII letters, digits, '_' and '-'.
    """
    check_tag_text(text)
    if len(text) > CAMPAIGN_ID_MAX_LENGTH:
        raise PydanticCustomError(
            "campaign_id_length",
            "is {length} characters long: campaign ids allow at most {limit} (the SES template "
            "names EMS derives from them hold 64), shorten it",
            {"length": len(text), "limit": CAMPAIGN_ID_MAX_LENGTH},
        )
    if is_reserved_campaign_id(text):
        # Transactional emails are filed under these, and their SES templates are ems-tx-*: a
        # campaign there would mix with them, and its templates could replace theirs.
        raise PydanticCustomError(
            "campaign_id_reserved",
            "is reserved for transactional email ({name}, {short} and ids starting {prefix},"
            " in any case): choose another campaign_id",
            {
                "name": repr(TRANSACTIONAL_CAMPAIGN_ID),
                "short": repr(TRANSACTIONAL_SCOPE_PREFIX.rstrip("-")),
                "prefix": repr(TRANSACTIONAL_SCOPE_PREFIX),
            },
        )
    return text


CampaignDate = Annotated[datetime, BeforeValidator(parse_campaign_date)]
"""An aware datetime, parsed from ISO 8601 text that carries a UTC offset."""

CampaignId = Annotated[str, AfterValidator(check_campaign_id)]
"""1 to 48 ASCII letters, digits, '_' and '-' (see check_campaign_id)."""


class Recipient(BaseModel):
    """One recipient: the address plus any number of string personalization fields.

    Kept to one declared field and no custom validators because a segment can hold a million
    of these; the extra fields are checked to be strings by pydantic-core itself. The
    scheduler's streaming compiler does not build these at all (it checks the same rules on the
    decoded JSON); this model serves small candidates and tests.
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


class SegmentBase(BaseModel):
    """What a segment says besides its recipients; every setting falls back to the campaign's."""

    # Unknown keys are refused, so a misspelt "templateS3URI" is reported instead of silently
    # falling back to the campaign's template.
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    # Becomes the segmentId tag on every email, hence SES's tag rule.
    list_name: TagText
    template_s3_uri: S3Uri | None = Field(default=None, alias="templateS3Uri")
    subject: Subject | None = None
    from_address: FromAddress | None = Field(default=None, alias="from")
    configuration_set: ConfigurationSetName | None = None


class SegmentHeader(SegmentBase):
    """A segment without its recipients: what a streaming reader validates before them."""


class Segment(SegmentBase):
    """A list of recipients sent with one template.

    An empty ``recipients`` list is allowed: lists are exported by the dev team, and a list
    whose members all left should not block the other segments of the campaign.
    """

    recipients: list[Recipient]


def _check_segments[SegmentT: SegmentBase](segments: list[SegmentT]) -> list[SegmentT]:
    if not segments:
        raise PydanticCustomError("no_segments", "is empty: a campaign needs at least one segment")
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


class CampaignBase(BaseModel):
    """What a campaign says besides its segments, and how a segment's settings resolve."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    # Becomes the campaignId tag on every email and part of its SES template names.
    campaign_id: CampaignId | None = None
    date: CampaignDate
    template_s3_uri: S3Uri = Field(alias="templateS3Uri")
    subject: Subject | None = None
    from_address: FromAddress | None = Field(default=None, alias="from")
    configuration_set: ConfigurationSetName | None = None

    def template_s3_uri_for(self, segment: SegmentBase) -> str:
        """The template URI ``segment`` is sent with: its own, or else the campaign's."""
        return segment.template_s3_uri or self.template_s3_uri

    def subject_for(self, segment: SegmentBase) -> str | None:
        """The segment's subject, or else the campaign's (None: use the template's title)."""
        return segment.subject or self.subject

    def from_address_for(self, segment: SegmentBase) -> str | None:
        """The segment's sender, or else the campaign's (None: EMS's default)."""
        return segment.from_address or self.from_address

    def configuration_set_for(self, segment: SegmentBase) -> str | None:
        """The segment's configuration set, or else the campaign's (None: EMS's default)."""
        return segment.configuration_set or self.configuration_set

    def with_campaign_id(self, campaign_id: str) -> Self:
        """Return a copy carrying ``campaign_id`` (for the id EMS makes when none was given)."""
        return self.model_copy(update={"campaign_id": check_campaign_id(campaign_id)})


class CampaignHeader(CampaignBase):
    """The candidate without its recipients: what a streaming reader validates first."""

    segments: list[SegmentHeader]

    @field_validator("segments")
    @classmethod
    def _segments_are_present_and_distinct(
        cls, segments: list[SegmentHeader]
    ) -> list[SegmentHeader]:
        return _check_segments(segments)


class CampaignCandidate(CampaignBase):
    """The campaign as the dev team sends it, before EMS resolves defaults and writes sends."""

    segments: list[Segment]

    @field_validator("segments")
    @classmethod
    def _segments_are_present_and_distinct(cls, segments: list[Segment]) -> list[Segment]:
        return _check_segments(segments)


class CandidateReference(BaseModel):
    """A request naming its candidate by ``candidateS3Uri`` instead of carrying it inline."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    candidate_s3_uri: S3Uri = Field(alias=CANDIDATE_S3_URI_KEY)
    campaign_id: CampaignId | None = None


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


def candidate_reference(
    document: str | bytes | Mapping[str, Any],
) -> CandidateReference | None:
    """Tell a create request naming its candidate in S3 from one carrying it inline.

    Returns the validated reference for ``{"candidateS3Uri": ..., "campaign_id"?: ...}`` and
    None for anything else that is a JSON object (an inline candidate, validated by whoever reads
    it). Raises InvalidCandidateError if the request is not a JSON object, or is a reference
    with problems (keys other than campaign_id next to candidateS3Uri among them).
    """
    decoded: object
    if isinstance(document, str | bytes):
        try:
            decoded = orjson.loads(document)
        except orjson.JSONDecodeError as error:
            raise InvalidCandidateError(
                [{"path": "$", "message": f"is not valid JSON ({error})"}]
            ) from None
    else:
        decoded = document
    if not isinstance(decoded, Mapping):
        raise InvalidCandidateError(
            [
                {
                    "path": "$",
                    "message": "must be a JSON object: a campaign candidate, or "
                    '{"candidateS3Uri": "s3://bucket/candidate.json"}',
                }
            ]
        )
    if CANDIDATE_S3_URI_KEY not in decoded:
        return None
    allowed = (CANDIDATE_S3_URI_KEY, "campaign_id")
    problems: list[Problem] = []
    try:
        reference = CandidateReference.model_validate(
            {key: value for key, value in decoded.items() if key in allowed}
        )
    except ValidationError as error:
        problems.extend(validation_problems(error))
    problems.extend(
        {
            "path": json_path((str(key),)),
            "message": f"is not allowed next to {CANDIDATE_S3_URI_KEY}: such a request holds "
            "only campaign_id, put everything else into the candidate document it names",
        }
        for key in decoded
        if key not in allowed
    )
    if problems:
        raise InvalidCandidateError(problems)
    return reference
