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
    paused_hold_seconds: int = Field(
        default=30,
        ge=1,
        le=900,
        description="How often a paused campaign's held email comes back to look (SQS delay)",
    )
    ses_paused_retry_seconds: int = Field(
        default=60,
        ge=1,
        le=900,
        description="How often email SES paused, or the account's standing holds, is tried again",
    )
    stop_margin_seconds: int = Field(
        default=45,
        ge=0,
        description=(
            "Claim no new email this close to the invocation's timeout: the limiter's wait"
            " (at most 10 s) and an SES call (at most its read timeout) must fit"
        ),
    )
    send_threads: int = Field(
        default=8,
        ge=1,
        le=10,
        description=(
            "Messages one invocation handles at once: several SES calls in flight, so that the"
            " limiter's slots do not lapse while a call is out (the trigger's batch size, at"
            " most 10 without a batching window, should be at least this)"
        ),
    )
    account_check_seconds: int = Field(
        default=60, ge=1, description="How often SES's standing of the account is read"
    )
