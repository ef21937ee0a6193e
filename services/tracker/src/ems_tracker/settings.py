"""The tracker's settings: Terraform's names plus how long raw events are kept."""

from pydantic import Field

from ems_common.settings import InfraSettings


class TrackerSettings(InfraSettings):
    """Everything the tracker reads from its environment (EMS_*)."""

    event_ttl_days: int = Field(
        default=90, ge=1, description="How long raw SES events are kept (DynamoDB TTL)"
    )
    conflict_retries: int = Field(
        default=8,
        ge=1,
        description="Attempts at one event when other workers update the same email meanwhile",
    )
