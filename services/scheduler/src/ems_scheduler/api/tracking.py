"""Tracking routes: a campaign's numbers, its per-minute timeline, one recipient's email and its
events.

Thin like the campaign routes: they read through the tracking adapters and shape the answer
with the views below. Addresses are personal data: they appear in answers to the caller who
sent them, never in the logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.dal.metrics import CampaignNumbers
from ems_common.dal.timeline import MAX_MINUTES, TimelineMinute
from ems_common.emails import EmailRecord, EmailStatus
from ems_common.metrics import Metric
from ems_common.timeline import TIMELINE_TTL_DAYS, Series
from ems_scheduler.api.campaign_views import CampaignPath
from ems_scheduler.api.errors import ApiError, ErrorView
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.shared.recipients import ADDRESS_MAX_LENGTH
from ems_scheduler.tracking.rates import rates
from ems_scheduler.tracking.reads import (
    MAX_EVENTS,
    EventHistory,
    RecordedEvent,
    TrackingReads,
)

_ERRORS: dict[str | int, type[BaseModel] | dict[Any, Any] | None] = {
    400: ErrorView,
    401: ErrorView,
    403: ErrorView,
    404: ErrorView,
}

# --- views ----------------------------------------------------------------------------------


class RatesView(BaseModel):
    """The usual rates, as fractions (0.25 is 25%); null while the divisor is 0."""

    delivery_rate: float | None = Field(description="delivered / sent")
    bounce_rate: float | None = Field(description="bounced (hard and soft) / sent")
    complaint_rate: float | None = Field(description="complained / sent")
    open_rate: float | None = Field(description="opened (unique) / delivered")
    click_rate: float | None = Field(description="clicked (unique) / delivered")
    progress: float | None = Field(description="finished / total")


class MetricCounts(BaseModel):
    """How many emails each event or outcome concerned (each email counted once, but totals)."""

    total: int = Field(description="Accepted recipients: the emails to send")
    sent: int = Field(description="SES accepted the email (Send)")
    delivered: int = Field(description="The receiving server took it (Delivery)")
    bounced: int = Field(description="Bounced, hard or soft (bounced_hard + bounced_soft)")
    bounced_hard: int = Field(description="Permanent bounces: the address is suppressed")
    bounced_soft: int = Field(description="Transient bounces only")
    complained: int = Field(description="Marked as spam: the address is suppressed")
    rejected: int = Field(description="SES rejected the email (virus)")
    opened: int = Field(description="Emails opened at least once")
    opened_total: int = Field(description="Every open")
    clicked: int = Field(description="Emails with at least one click")
    clicked_total: int = Field(description="Every click")
    rendering_failures: int = Field(description="The template could not be rendered")
    delivery_delays: int = Field(description="Emails whose delivery was delayed at least once")
    unsubscribed: int = Field(
        description="Recipients who unsubscribed with the email's link (its list, or all campaigns)"
    )
    failed: int = Field(description="Refused by SES for good at the send call")
    suppressed: int = Field(description="Not sent: the address was on the suppression list")
    finished: int = Field(description="Emails that reached a final sending state")
    ambiguous: int = Field(
        description="SES's answer to the send was lost: sent or not, its events will tell"
    )
    unconfirmed: int = Field(
        description=(
            "Settled without a final outcome: no delivery or bounce report came in time, or"
            " held on a dead-letter queue (counted in finished)"
        )
    )
    rates: RatesView

    @staticmethod
    def counted(counts: Mapping[str, int], total: int) -> dict[str, Any]:
        """The count fields (and rates) from a metrics counter, by the API's names."""

        def n(metric: Metric) -> int:
            return int(counts.get(metric.value, 0))

        return {
            "total": total,
            "sent": n(Metric.SENT),
            "delivered": n(Metric.DELIVERED),
            "bounced": n(Metric.BOUNCED_HARD) + n(Metric.BOUNCED_SOFT),
            "bounced_hard": n(Metric.BOUNCED_HARD),
            "bounced_soft": n(Metric.BOUNCED_SOFT),
            "complained": n(Metric.COMPLAINED),
            "rejected": n(Metric.REJECTED),
            "opened": n(Metric.OPENED_UNIQUE),
            "opened_total": n(Metric.OPENED_TOTAL),
            "clicked": n(Metric.CLICKED_UNIQUE),
            "clicked_total": n(Metric.CLICKED_TOTAL),
            "rendering_failures": n(Metric.RENDERING_FAILURES),
            "delivery_delays": n(Metric.DELIVERY_DELAYS),
            "unsubscribed": n(Metric.UNSUBSCRIBED),
            "failed": n(Metric.FAILED),
            "suppressed": n(Metric.SUPPRESSED),
            "finished": n(Metric.FINISHED),
            "ambiguous": n(Metric.AMBIGUOUS),
            "unconfirmed": n(Metric.UNCONFIRMED),
            "rates": RatesView.model_validate(rates(dict(counts), total)),
        }


class SegmentMetricsView(MetricCounts):
    """One segment's numbers."""

    segment_id: str = Field(description="The segment's list_name")


class CampaignMetricsView(MetricCounts):
    """A campaign's numbers, in total and per segment."""

    campaign_id: str
    status: CampaignStatus
    segments: list[SegmentMetricsView]

    @classmethod
    def of(cls, campaign: Campaign, numbers: CampaignNumbers) -> CampaignMetricsView:
        """The numbers of `campaign`.

        Every compiled segment is listed (zeros until its events come), then any other segment
        that has numbers.
        """
        totals = {segment.list_name: segment.accepted for segment in campaign.segments}
        totals.update({name: 0 for name in sorted(numbers.segments) if name not in totals})
        return cls(
            campaign_id=campaign.campaign_id,
            status=campaign.status,
            segments=[
                SegmentMetricsView(
                    segment_id=name,
                    **MetricCounts.counted(numbers.segments.get(name, {}), total),
                )
                for name, total in totals.items()
            ],
            **MetricCounts.counted(numbers.total, campaign.recipients.accepted),
        )


class TimelineMinuteView(BaseModel):
    """One minute's counts (UTC)."""

    minute: datetime = Field(description="The minute's start, UTC")
    sent: int
    delivered: int
    opened: int = Field(description="Emails first opened in this minute")
    clicked: int = Field(description="Emails first clicked in this minute")
    bounced: int = Field(description="Hard and soft bounces")
    complained: int

    @classmethod
    def of(cls, minute: TimelineMinute) -> TimelineMinuteView:
        """The view of a minute item."""
        return cls(minute=minute.minute, **{s.value: minute.counts.get(s, 0) for s in Series})


class TimelineView(BaseModel):
    """A campaign's events per minute since its launch (the console's chart)."""

    campaign_id: str
    status: CampaignStatus
    launched_at: datetime | None = Field(description="When it launched; null before")
    minutes: list[TimelineMinuteView] = Field(
        description=(
            "Each minute since the launch that had events, oldest first; minutes without any"
            f" are left out. Kept {TIMELINE_TTL_DAYS} days. Added up, each series equals the"
            " campaign metric of that name."
        )
    )
    truncated: bool = Field(
        description=f"Whether minutes after the first {MAX_MINUTES:,} were left out"
    )


class RecipientEventView(BaseModel):
    """One raw SES event of the email."""

    event_type: str = Field(description="Send, Delivery, Open, Click, Bounce, ...")
    occurred_at: datetime
    ses_message_id: str | None
    event: Any = Field(description="The event as SES published it (JSON)")

    @classmethod
    def of(cls, recorded: RecordedEvent) -> RecipientEventView:
        """The view of a kept event."""
        return cls(
            event_type=recorded.event_type,
            occurred_at=datetime.fromisoformat(recorded.occurred_at),
            ses_message_id=recorded.ses_message_id,
            event=recorded.event,
        )


class RecipientView(BaseModel):
    """One recipient's email in a campaign: its status, when each thing happened, its events."""

    campaign_id: str
    address: str = Field(description="The recipient, lower-cased")
    status: EmailStatus = Field(description="Derived from the fields below: the most telling")
    segment_id: str | None
    ses_message_id: str | None
    reason: str | None = Field(description="Why SES refused it at the send call (FAILED)")
    claimed_at: datetime | None = Field(description="When a sender took it")
    completed_at: datetime | None = Field(description="When the sender finished with it")
    sent_at: datetime | None
    delivered_at: datetime | None
    delayed_at: datetime | None
    bounced_at: datetime | None
    bounce_type: str | None = Field(description="Permanent, Transient or Undetermined")
    complained_at: datetime | None
    rejected_at: datetime | None
    rendering_failed_at: datetime | None
    opened_at: datetime | None = Field(description="The first open")
    opens: int
    clicked_at: datetime | None = Field(description="The first click")
    clicks: int
    unsubscribed_at: datetime | None
    finished_at: datetime | None = Field(description="When it reached a final sending state")
    events: list[RecipientEventView] = Field(
        description=(
            f"Its newest kept raw events (at most {MAX_EVENTS}), oldest first: the rare kinds"
            " (Bounce, Complaint, Reject, Rendering Failure, DeliveryDelay, Subscription; a"
            " transactional email's Send). Send, Delivery, Open and Click show only as the"
            " times and counts above"
        )
    )
    older_events_left_out: bool = Field(description="Whether older events were not listed")

    @classmethod
    def of(
        cls,
        campaign_id: str,
        address: str,
        record: EmailRecord | Mapping[str, Any],
        history: EventHistory,
    ) -> RecipientView:
        """The view of an email record (or its item's values) and its events."""
        email = EmailRecord.of(record)
        return cls(
            campaign_id=campaign_id,
            address=address.lower(),
            status=email.status,
            segment_id=email.segment_id,
            ses_message_id=email.ses_message_id,
            reason=email.reason,
            claimed_at=email.claimed_at,
            completed_at=email.completed_at,
            sent_at=email.sent_at,
            delivered_at=email.delivered_at,
            delayed_at=email.delayed_at,
            bounced_at=email.bounced_at,
            bounce_type=email.bounce_type,
            complained_at=email.complained_at,
            rejected_at=email.rejected_at,
            rendering_failed_at=email.rendering_failed_at,
            opened_at=email.opened_at,
            opens=email.opens,
            clicked_at=email.clicked_at,
            clicks=email.clicks,
            unsubscribed_at=email.unsubscribed_at,
            finished_at=email.finished_at,
            events=[RecipientEventView.of(event) for event in history.events],
            older_events_left_out=history.older_left_out,
        )


# Sendable addresses are at most 254 ASCII characters: this also keeps keys within DynamoDB's.
Address = Annotated[
    str,
    Field(
        max_length=ADDRESS_MAX_LENGTH,
        pattern=r"^[^\s@]+@[^\s@]+$",
        description="An email address, in any case",
    ),
]


class RecipientPath(CampaignPath):
    """The campaign and the recipient's address in the URL."""

    address: Address


# --- routes ---------------------------------------------------------------------------------


def tracking_api(service: CampaignService, reads: TrackingReads) -> APIBlueprint:
    """The /campaigns/{id}/metrics, /timeline and /recipients/{address} routes."""
    api = APIBlueprint(
        "tracking",
        __name__,
        url_prefix="/campaigns",
        abp_tags=[Tag(name="tracking")],
        abp_security=[{"api_key": []}],
    )

    @api.get("/<campaign_id>/metrics", responses={200: CampaignMetricsView, **_ERRORS})
    def metrics(path: CampaignPath) -> dict[str, Any]:
        """A campaign's numbers and rates, in total and per segment.

        Sent, delivered, bounced, complained, opened, clicked, failed, suppressed ... They move
        as SES events arrive, for days after the campaign completes (late opens and clicks).
        """
        campaign = service.get(path.campaign_id)
        numbers = reads.metrics(campaign.campaign_id)
        return CampaignMetricsView.of(campaign, numbers).model_dump(mode="json")

    @api.get("/<campaign_id>/timeline", responses={200: TimelineView, **_ERRORS})
    def timeline(path: CampaignPath) -> dict[str, Any]:
        """How many of the campaign's emails were sent, delivered, opened, clicked, bounced and
        complained about in each minute since its launch (from the tracker's per-minute counts)."""
        campaign = service.get(path.campaign_id)
        minutes, truncated = reads.timeline(campaign.campaign_id, since=campaign.launched_at)
        return TimelineView(
            campaign_id=campaign.campaign_id,
            status=campaign.status,
            launched_at=campaign.launched_at,
            minutes=[TimelineMinuteView.of(minute) for minute in minutes],
            truncated=truncated,
        ).model_dump(mode="json")

    @api.get("/<campaign_id>/recipients/<path:address>", responses={200: RecipientView, **_ERRORS})
    def recipient(path: RecipientPath) -> dict[str, Any]:
        """One recipient's email: its status, when each event happened, and the raw events."""
        campaign = service.get(path.campaign_id)
        record = reads.email(campaign.campaign_id, path.address)
        if record is None:
            raise ApiError(404, "not_found", _no_email(campaign, path.address))
        history = reads.events(campaign.campaign_id, path.address)
        return RecipientView.of(campaign.campaign_id, path.address, record, history).model_dump(
            mode="json"
        )

    return api


def _no_email(campaign: Campaign, address: str) -> str:
    if campaign.status is CampaignStatus.COMPLETED:
        return f"{address} is not a recipient of campaign {campaign.campaign_id!r}"
    # A sent campaign email's record is made by its first SES event (about a minute after the
    # send, through Firehose); a queued recipient, or one just sent, has none yet.
    return (
        f"{address} is not a recipient of campaign {campaign.campaign_id!r}, or no SES event"
        f" of an email to it has arrived yet (the campaign is {campaign.status.value}; events"
        " arrive about a minute after the send)"
    )
