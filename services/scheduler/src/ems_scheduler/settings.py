"""The scheduler's settings: Terraform's names plus the API's own limits."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from ems_common.settings import InfraSettings, RecordSettings

# Lambda's synchronous payload limit; larger candidates go through candidateS3Uri.
MAX_INLINE_REQUEST_BYTES = 6 * 1024 * 1024


class SchedulerSettings(InfraSettings, RecordSettings):
    """Everything the scheduler reads from its environment (EMS_*)."""

    api_key: SecretStr | None = Field(
        default=None,
        description="The key clients send in X-Api-Key (locally; on AWS: api_key_secret_id)",
    )
    api_key_secret_id: str | None = Field(
        default=None,
        description="Secrets Manager secret (name or ARN) holding the API key, read at start (AWS)",
    )
    allowed_template_buckets: list[str] = Field(
        default_factory=list,
        description="Buckets templates and candidates may come from (default: the assets bucket)",
    )
    allowed_configuration_sets: list[str] = Field(
        default_factory=list,
        description=(
            "Configuration sets besides EMS's own a campaign may name (their events must reach"
            " the tracker's topic too, or the email is never tracked)"
        ),
    )
    part_lines: int = Field(default=50_000, ge=1, description="Campaign-file lines per part")
    max_request_bytes: int = Field(default=MAX_INLINE_REQUEST_BYTES, ge=1024)
    rejections_shown: int = Field(default=100, ge=0, description="Rejections listed per campaign")
    rejection_details_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Days the listed rejected recipients (addresses: personal data) are kept; the counts"
            " by reason stay with the campaign"
        ),
    )
    max_days_ahead: int = Field(default=365, ge=1, description="How far ahead a date may be")
    unsubscribe_keys: SecretStr | None = Field(
        default=None,
        description="The keys sealing unsubscribe links, as JSON (locally; on AWS: the secret)",
    )
    unsubscribe_keys_secret_id: str | None = Field(
        default=None,
        description="Secrets Manager secret holding the unsubscribe keys; EMS fills it (AWS)",
    )
    public_api_url: str | None = Field(
        default=None,
        description=(
            "The API's public https URL, where unsubscribe links point (a custom domain, say);"
            " unset: the URL the request that creates the campaign came to"
        ),
    )
    unsubscribe_mailbox: str | None = Field(
        default=None,
        description="A mailbox whose mail the operator reads: added as List-Unsubscribe mailto",
    )
    unsubscribe_link_days: int = Field(
        default=400,
        ge=366,
        description="How long an unsubscribe link works: over a year, as mailbox providers ask",
    )

    @model_validator(mode="after")
    def _api_key_source(self) -> Self:
        if self.api_key is None and not self.api_key_secret_id:
            msg = (
                "no API key: set EMS_API_KEY (the key itself) or EMS_API_KEY_SECRET_ID (the"
                " Secrets Manager secret holding it)"
            )
            raise ValueError(msg)
        if self.unsubscribe_keys is None and not self.unsubscribe_keys_secret_id:
            msg = (
                "no unsubscribe keys: set EMS_UNSUBSCRIBE_KEYS (the keys, JSON) or"
                " EMS_UNSUBSCRIBE_KEYS_SECRET_ID (the Secrets Manager secret EMS keeps them in)"
            )
            raise ValueError(msg)
        return self

    def configuration_sets(self) -> frozenset[str]:
        """The configuration sets a campaign or an email may name: EMS's own, whose events it
        tracks, and any other the deployment allows."""
        return frozenset({self.configuration_set_name, *self.allowed_configuration_sets})

    def template_buckets(self) -> frozenset[str]:
        """Where templates and candidates may be read from."""
        return frozenset(self.allowed_template_buckets or [self.assets_bucket])
