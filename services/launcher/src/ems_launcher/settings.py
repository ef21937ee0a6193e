"""The launcher's settings: Terraform's names plus how it packs and leases."""

from pydantic import Field

from ems_common.formats.send_batch import MAX_SEND_BATCH_BYTES
from ems_common.settings import InfraSettings


class LauncherSettings(InfraSettings):
    """Everything the launcher reads from its environment (EMS_*)."""

    emails_per_message: int = Field(
        default=50,
        ge=1,
        le=500,
        description=(
            "Emails per send-queue message: 50 makes 2 SendMessageBatch calls per 1,000 emails"
            " (the goal is at most 3) and about 20 KB messages, a few seconds of sending each"
        ),
    )
    message_max_bytes: int = Field(default=MAX_SEND_BATCH_BYTES, ge=4096, le=MAX_SEND_BATCH_BYTES)
    lease_seconds: int = Field(
        default=120, ge=2, description="How long a launch is held without progress"
    )
    missed_after_minutes: int = Field(
        default=24 * 60,
        ge=1,
        description="A campaign this late is marked FAILED (missed) instead of sent",
    )
    sweep_limit: int = Field(default=25, ge=1, description="Campaigns one sweep looks at")
    stop_margin_seconds: int = Field(
        default=30, ge=0, description="Stop this long before the invocation's timeout"
    )
    settle_after_seconds: int = Field(
        default=6 * 3600,
        ge=1,
        description=(
            "A SENDING campaign whose finished count has not moved for this long is completed,"
            " its unfinished emails counted unconfirmed (no delivery or bounce report came, or"
            " they are held on a dead-letter queue)"
        ),
    )
    recount_after_seconds: int = Field(
        default=300,
        ge=1,
        description=(
            "A SENDING campaign whose finished count has not moved for this long, and is below"
            " its accepted emails, has its counters recounted from its email records (once per"
            " quiet spell): a tracker stopped between its records and its counters leaves"
            " events uncounted"
        ),
    )
    tracker_batch_seconds: int = Field(
        default=60,
        ge=1,
        description=(
            "The longest a tracker batch runs (the tracker function's timeout): a recount"
            " corrects the counters only this long after it counted the records, when every"
            " batch under way then has written its counters"
        ),
    )
    verification_deadline_seconds: int = Field(
        default=3 * 3600,
        ge=1,
        description=(
            "A campaign still VERIFYING this long after it was accepted is marked FAILED: the"
            " compile worker's retries (3 receives x its queue's visibility timeout, 1.5 h) are"
            " over by then"
        ),
    )
    reconcile_limit: int = Field(
        default=100, ge=1, description="SENDING campaigns one reconciliation looks at"
    )
