"""The manifest: what a compiled campaign file holds, stored next to its parts as JSON.

The launcher reads it to find the parts (keys: `ems_common.campaign_files`) and to check
each part it reads (lines, bytes, sha256); the API reads the counts from it.
"""

from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_FORMAT: Final = "ems-campaign-manifest/1"


class _ManifestModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartEntry(_ManifestModel):
    """One part of the campaign file: JSON lines, each one SES SendEmail request."""

    index: int = Field(ge=1, description="1, 2, ... in campaign-file order")
    lines: int = Field(ge=1, description="Emails (lines) in the part")
    bytes: int = Field(ge=1, description="Size of the part, newlines included")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex digest of the part")


class RecipientTally(_ManifestModel):
    """How many recipients there were, went in, and were left out (by reason)."""

    recipients: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)


class SegmentEntry(RecipientTally):
    """One segment as compiled: what every email of it is sent with, and its counts."""

    list_name: str
    template_s3_uri: str
    template_name: str
    from_email_address: str
    configuration_set_name: str


class CampaignManifest(_ManifestModel):
    """Everything about a compiled campaign file but its lines."""

    format: Literal["ems-campaign-manifest/1"] = MANIFEST_FORMAT
    campaign_id: str
    part_lines: int = Field(ge=1, description="Lines per part (the last part may hold fewer)")
    parts: list[PartEntry]
    segments: list[SegmentEntry]
    totals: RecipientTally
    template_names: list[str] = Field(description="SES templates the lines use")

    def to_json(self) -> bytes:
        """The manifest as stored (compact JSON)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: str | bytes) -> Self:
        """Read a stored manifest (raises pydantic.ValidationError if it is not one)."""
        return cls.model_validate_json(data)
