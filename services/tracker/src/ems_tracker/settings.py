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
    brake_hard_bounce_rate: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="A campaign pauses itself at this hard-bounce rate (SES reviews at 5 %)",
    )
    brake_complaint_rate: float = Field(
        default=0.001,
        gt=0,
        le=1,
        description="A campaign pauses itself at this complaint rate (SES reviews at 0.1 %)",
    )
    brake_min_sent: int = Field(
        default=500, ge=1, description="Emails a campaign sends before its rates can pause it"
    )
