"""What the campaign routes return and accept (these models also make /openapi.json)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Held,
    Pause,
    Progress,
    RecipientCounts,
    Rejection,
    SegmentSummary,
    utc_now,
)
from ems_scheduler.api.errors import ProblemView


class CampaignView(BaseModel):
    """A campaign as clients see it."""

    campaign_id: str
    status: CampaignStatus
    date: datetime | None = Field(description="When it launches (UTC); null while VERIFYING")
    created_at: datetime
    updated_at: datetime
    recipients: RecipientCounts
    rejected_by_reason: dict[str, int] = Field(description="Rejected recipients by reason")
    rejections: list[Rejection] = Field(
        description=(
            "The first rejected recipients, with their addresses: in GET /campaigns/{id} and the"
            " create answer until rejections_expire_at (empty in lists, and after)"
        )
    )
    rejections_total: int = Field(description="How many were rejected in all")
    rejections_expire_at: datetime | None = Field(
        default=None,
        description=(
            "When the rejected recipients' details are deleted (rejection_details_days after"
            " verification); the counts stay. Null: none were rejected"
        ),
    )
    rejections_expired: bool = Field(
        default=False,
        description="The rejected recipients' details were deleted: only the counts are left",
    )
    segments: list[SegmentSummary]
    progress: Progress | None = None
    problems: list[ProblemView] = Field(description="Why the candidate was rejected")
    error: str | None = Field(default=None, description="Why the campaign failed")
    pause: Pause | None = Field(
        default=None, description="Why it is PAUSED: by whom, what happened, what to do"
    )
    settled: str | None = Field(
        default=None,
        description="Why it completed without every email's final outcome, if it did",
    )
    held: Held | None = Field(
        default=None,
        description=(
            "While SENDING: the last time its email waited on SES (sending paused, the account"
            " under review, the day's quota spent), and why"
        ),
    )
    emails_enqueued: int = 0
    candidate_s3_uri: str | None = None

    @classmethod
    def of(cls, campaign: Campaign, rejections: Sequence[Rejection] = ()) -> CampaignView:
        """The view of a stored campaign, with its first rejected recipients if given."""
        expire_at = campaign.rejections_expire_at
        return cls(
            campaign_id=campaign.campaign_id,
            status=campaign.status,
            date=campaign.scheduled_at,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
            recipients=campaign.recipients,
            rejected_by_reason=campaign.rejected_by_reason,
            rejections=list(rejections),
            rejections_total=campaign.recipients.rejected,
            rejections_expire_at=expire_at,
            rejections_expired=expire_at is not None and expire_at <= utc_now(),
            segments=campaign.segments,
            progress=campaign.progress,
            problems=[ProblemView.model_validate(p) for p in campaign.problems],
            error=campaign.error,
            pause=campaign.pause,
            settled=campaign.settled,
            held=campaign.held if campaign.status is CampaignStatus.SENDING else None,
            emails_enqueued=campaign.emails_enqueued,
            candidate_s3_uri=campaign.candidate_s3_uri,
        )


class CampaignPage(BaseModel):
    """A page of campaigns."""

    campaigns: list[CampaignView]
    next_page: str | None = Field(description="Pass as `page` for the next page; null at the end")


class CampaignPath(BaseModel):
    """The campaign in the URL."""

    campaign_id: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_-]+$")]


class CampaignQuery(BaseModel):
    """Filters and paging for the campaign list."""

    status: CampaignStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    page: str | None = Field(default=None, max_length=2048)


class RescheduleBody(BaseModel):
    """A new date."""

    date: str = Field(
        description="ISO 8601 with a UTC offset, in the future, e.g. 2030-01-01T09:00:00+00:00"
    )
