"""The campaign as EMS stores it, and the states it moves through.

`VERIFYING -> SCHEDULED -> LAUNCHING -> SENDING -> COMPLETED`, with `PAUSED` (an operator, the
reputation brake, or SES refusing the sender; resumed by an operator), `CANCELLED`, `FAILED`
(something broke on our side) and `REJECTED` (the candidate itself was wrong) on the way.
The scheduler, launcher, sender and tracker all move campaigns through these states, so they
live here; docs/sending.md draws them, with who makes each move.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ems_common.problems import Problem


class CampaignStatus(StrEnum):
    """Where a campaign is in its life."""

    VERIFYING = "VERIFYING"
    SCHEDULED = "SCHEDULED"
    LAUNCHING = "LAUNCHING"
    SENDING = "SENDING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


# Nothing has been sent yet: the campaign can still be rescheduled (SCHEDULED only) or deleted.
NOT_LAUNCHED: Final = frozenset(
    {
        CampaignStatus.VERIFYING,
        CampaignStatus.SCHEDULED,
        CampaignStatus.REJECTED,
        CampaignStatus.FAILED,
    }
)
CANCELLABLE: Final = frozenset(
    {
        CampaignStatus.VERIFYING,
        CampaignStatus.SCHEDULED,
        CampaignStatus.LAUNCHING,
        CampaignStatus.SENDING,
        CampaignStatus.PAUSED,
    }
)
# Sending is under way: these can be paused.
PAUSABLE: Final = frozenset({CampaignStatus.LAUNCHING, CampaignStatus.SENDING})
# A client may create again under the same id once a candidate was refused or broke.
REPLACEABLE: Final = frozenset({CampaignStatus.REJECTED, CampaignStatus.FAILED})


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def utc_iso(moment: datetime) -> str:
    """One text form for every stored time, so that string order is time order."""
    if moment.tzinfo is None:
        msg = "stored times must be timezone-aware"
        raise ValueError(msg)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Rejection(BaseModel):
    """One recipient left out of a campaign, and why.

    Its address is personal data: the first few of a campaign are kept apart from the campaign
    record, for a while only (the scheduler's `campaigns.rejections`), never in it.
    """

    model_config = ConfigDict(frozen=True)

    segment: str
    to_address: str
    reason: str


class RecipientCounts(BaseModel):
    """How many recipients made it into the campaign file."""

    accepted: int = 0
    rejected: int = 0


class SegmentSummary(BaseModel):
    """One segment as compiled."""

    list_name: str
    template_name: str
    from_address: str
    configuration_set: str
    accepted: int
    rejected: int


class Progress(BaseModel):
    """How far a long-running step (compiling, launching) has come."""

    step: str
    done: int
    total: int | None = None
    updated_at: datetime


class LaunchCheckpoint(BaseModel):
    """The launcher's progress through the campaign file, and its lease on the launch.

    `next_part`/`next_line` say where to resume; the lease lets another launcher take over
    once it expires (the holder died).
    """

    owner: str
    lease_until: datetime
    next_part: int = 1
    next_line: int = 0


class PausedBy(StrEnum):
    """Who paused a campaign."""

    OPERATOR = "operator"  # POST /campaigns/{id}/pause
    BRAKE = "brake"  # the campaign's own bounce or complaint rate crossed its limit
    SES = "ses"  # SES refused the sender or the configuration set (not a passing reason)


class Pause(BaseModel):
    """Why a campaign is PAUSED, and what it resumes to."""

    by: PausedBy
    reason: str = Field(description="What happened, and what to do before resuming")
    paused_at: datetime
    resume_to: Literal["LAUNCHING", "SENDING"] = "SENDING"


class Held(BaseModel):
    """Why a SENDING campaign's email waits (SES paused sending, the account under review, the
    day's quota spent), noted by the sender at most once a minute: the reconciler never settles
    a campaign whose email is only waiting, and an operator sees why nothing moves."""

    reason: str
    at: datetime = Field(description="The last time the sender held its email for this reason")


class RecountOutcome(StrEnum):
    """What a recount's correction did."""

    MATCHED = "matched"  # the counters agreed with the records: nothing written
    CORRECTED = "corrected"  # some counters were set to what the records say
    MOVED = "moved"  # the counters moved since they were read: left as they are


class Recount(BaseModel):
    """The reconciler's recount of a quiet SENDING campaign's counters from its email records
    (docs/tracking.md, "The crash window"): one per quiet spell (`watched`). The records are
    counted first (over several ticks if need be); the counters are corrected later, once every
    tracker batch that was under way then has written its counters, and only if none moved
    since they were read."""

    spell: tuple[int, datetime] = Field(
        description="The quiet spell it belongs to: the reconciler's `watched` look"
    )
    started_at: datetime = Field(description="When the counters were read and the count began")
    counters: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Each segment's counters, read before the count"
    )
    records: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="What the records counted so far say, per segment"
    )
    after: str | None = Field(
        default=None,
        description="The count goes on after this email record (its sort key); None: done",
    )
    counted_at: datetime | None = Field(
        default=None, description="When the count of the records ended; None while it goes on"
    )
    outcome: RecountOutcome | None = Field(
        default=None, description="What the correction did; None while it waits"
    )


class Campaign(BaseModel):
    """A campaign record (one DynamoDB item)."""

    model_config = ConfigDict(validate_assignment=True)

    campaign_id: str
    status: CampaignStatus
    scheduled_at: datetime | None = Field(
        default=None, description="Launch date; unknown while a candidate in S3 is VERIFYING"
    )
    created_at: datetime
    updated_at: datetime
    request_hash: str = Field(description="Digest of the create request, for idempotency")
    source: Literal["inline", "s3"] = "inline"
    candidate_s3_uri: str | None = None
    public_url: str | None = Field(
        default=None, description="The API's public URL its unsubscribe links point at"
    )
    recipients: RecipientCounts = Field(default_factory=RecipientCounts)
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    rejections_expire_at: datetime | None = Field(
        default=None,
        description=(
            "When the first rejected recipients' details (addresses), kept apart from this"
            " record, expire; the counts stay. None: none were kept"
        ),
    )
    segments: list[SegmentSummary] = Field(default_factory=list)
    template_names: list[str] = Field(default_factory=list)
    manifest_key: str | None = None
    schedule_name: str | None = None
    progress: Progress | None = None
    problems: list[Problem] = Field(default_factory=list, description="Why it was REJECTED")
    error: str | None = Field(default=None, description="Why it FAILED")
    emails_enqueued: int = 0
    suppressions_as_of: datetime | None = Field(
        default=None,
        description=(
            "Its compile left out every address suppressed before this (its read of the list,"
            " less a margin): at send time only suppressions made since are looked up"
        ),
    )
    launched_at: datetime | None = None
    launch: LaunchCheckpoint | None = Field(
        default=None, description="How far the launcher got, and who holds the launch"
    )
    cancelled_at: datetime | None = None
    pause: Pause | None = Field(default=None, description="Why it is PAUSED (None otherwise)")
    completed_at: datetime | None = Field(
        default=None, description="When every email reached a final sending state"
    )
    settled: str | None = Field(
        default=None,
        description=(
            "Why it was completed without every email's final outcome (the reconciler's note);"
            " events that come later still count, but no longer as finished"
        ),
    )
    held: Held | None = Field(
        default=None, description="The last time the sender held its email, and why"
    )
    brake_baseline: dict[str, int] | None = Field(
        default=None,
        description=(
            "The counters when it was last resumed: the reputation brake judges only what was"
            " sent since (a resumed campaign is not paused again for the bounces it was paused"
            " for)"
        ),
    )
    watched: tuple[int, datetime] | None = Field(
        default=None,
        description="The reconciler's last look at a SENDING campaign: emails finished, and when",
    )
    recount: Recount | None = Field(
        default=None,
        description="The reconciler's last recount of its counters from its email records",
    )

    @field_validator(
        "scheduled_at",
        "created_at",
        "updated_at",
        "launched_at",
        "cancelled_at",
        "completed_at",
        "rejections_expire_at",
    )
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "must carry a UTC offset"
            raise ValueError(msg)
        return value.astimezone(UTC)
