"""The sender's settings: Terraform's names plus how it claims and keeps records."""

from pydantic import Field

from ems_common.settings import InfraSettings, RecordSettings
from ems_sender.limiter.settings import LimiterSettings


class SenderSettings(InfraSettings, RecordSettings, LimiterSettings):
    """Everything the sender reads from its environment (EMS_*)."""

    claim_seconds: int = Field(
        default=300,
        ge=10,
        description="How long a claim on an email holds before another worker may take it",
    )
    requeue_busy_after_seconds: int = Field(
        default=60, ge=0, le=900, description="Delay for emails another worker holds"
    )
