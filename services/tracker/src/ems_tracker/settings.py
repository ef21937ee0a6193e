"""The tracker's settings: Terraform's names, how long raw events and email records are kept,
and the brake's limits."""

from pydantic import Field

from ems_common.settings import InfraSettings, RecordSettings


class TrackerSettings(InfraSettings, RecordSettings):
    """Everything the tracker reads from its environment (EMS_*)."""

    event_ttl_days: int = Field(
        default=90, ge=1, description="How long raw SES events are kept (DynamoDB TTL)"
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
