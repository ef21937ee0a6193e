"""The campaign pages: the list, one campaign (its live part, rejections CSV, the confirmed
changes), one recipient's email, and creating a campaign."""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ems_common.campaigns import CANCELLABLE, PAUSABLE, Campaign, CampaignStatus, utc_now
from ems_common.dal.campaigns import CampaignNotFoundError, StatusConflictError
from ems_scheduler.api.campaign_views import CampaignView
from ems_scheduler.api.campaigns import page_of_campaigns
from ems_scheduler.api.public_url import public_url
from ems_scheduler.api.suppressions import SuppressionView
from ems_scheduler.api.tracking import CampaignMetricsView, RecipientView
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.service import CampaignConflictError
from ems_scheduler.console import pages
from ems_scheduler.console.common import (
    CSP,
    PAGE_SIZE,
    ConsoleServices,
    campaign_status,
    page,
)
from ems_scheduler.shared.recipients import ADDRESS_MAX_LENGTH

# The API's own rule for a campaign id in a path (`CampaignPath`): another is no page.
_CAMPAIGN_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,48}")
ACTIONS: Final = ("pause", "resume", "cancel", "reschedule")
_ACTION_STATES: Final = {
    "pause": PAUSABLE,
    "resume": frozenset({CampaignStatus.PAUSED}),
    "cancel": CANCELLABLE,
    "reschedule": frozenset({CampaignStatus.SCHEDULED}),
}
_DONE: Final = {
    "pause": "Paused: nothing more is sent until it is resumed.",
    "resume": "Resumed: its held emails go out, each once.",
    "cancel": "Cancelled: nothing more is enqueued or sent.",
    "reschedule": "Rescheduled.",
}


def add_campaign_pages(console: Blueprint, services: ConsoleServices) -> None:  # noqa: PLR0915
    """The campaign pages, on `console` (one nested function per route)."""

    # --- campaigns ---------------------------------------------------------------------------

    @console.get("/campaigns")
    def campaigns_page() -> Response:
        status = campaign_status(request.args.get("status"))
        token = request.args.get("page") or None
        found, next_page = page_of_campaigns(
            services.campaigns, services.page_tokens, status=status, limit=PAGE_SIZE, page=token
        )
        rows = [
            (campaign, _metrics(campaign))
            for campaign in sorted(found, key=_newest_first_key, reverse=True)
        ]
        return page(
            "campaigns.html", 200, rows=rows, status=status, next_page=next_page, paged=bool(token)
        )

    @console.get("/campaigns/<campaign_id>")
    def campaign_page(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        context = _campaign_context(campaign)
        # The rejected recipients' details are read apart from the record, as the API reads
        # them, and only here (the live part never shows them).
        context["campaign"] = CampaignView.of(campaign, services.campaigns.rejections_of(campaign))
        return page("campaign.html", 200, **context)

    @console.get("/campaigns/<campaign_id>/live")
    def campaign_live(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        return page("campaign_live.html", 200, **_campaign_context(campaign))

    @console.get("/campaigns/<campaign_id>/rejections.csv")
    def rejections_csv(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        rejections = services.campaigns.rejections_of(campaign)
        if not rejections:
            view = CampaignView.of(campaign)
            return page(
                "error.html",
                410 if view.rejections_expired else 404,
                title="No rejected recipients",
                message=pages.no_rejection_details(view),
            )
        body = pages.rejections_csv(rejections)
        return Response(
            body,
            200,
            {
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{campaign_id}-rejections.csv"',
            },
        )

    @console.get("/campaigns/<campaign_id>/<action>")
    def confirm_page(campaign_id: str, action: str) -> Response:
        if action not in ACTIONS:
            return page("error.html", 404, title="Not found", message="No such page.")
        campaign = _campaign(campaign_id)
        return page(
            "confirm.html",
            200,
            campaign=CampaignView.of(campaign),
            action=action,
            allowed=campaign.status in _ACTION_STATES[action],
        )

    @console.post("/campaigns/<campaign_id>/<action>")
    def act(campaign_id: str, action: str) -> Response:
        if action not in ACTIONS:
            return page("error.html", 404, title="Not found", message="No such page.")
        _campaign(campaign_id)
        try:
            if action == "pause":
                services.campaigns.pause(campaign_id)
            elif action == "resume":
                services.campaigns.resume(campaign_id)
            elif action == "cancel":
                services.campaigns.cancel(campaign_id)
            else:
                services.campaigns.reschedule(campaign_id, request.form.get("date", ""))
        except StatusConflictError as conflict:
            flash(f"Not done: {conflict}", "error")
        except InvalidCandidateError as invalid:
            flash("Not done: " + "; ".join(p["message"] for p in invalid.problems), "error")
        else:
            flash(_DONE[action])
        return redirect(url_for("console.campaign_page", campaign_id=campaign_id), 303)

    def _campaign_context(campaign: Campaign) -> dict[str, Any]:
        metrics = _metrics(campaign)
        minutes, truncated = services.tracking.timeline(
            campaign.campaign_id, since=campaign.launched_at
        )
        live = campaign.status in pages.LIVE_STATES
        return {
            "campaign": CampaignView.of(campaign),
            "metrics": metrics,
            # The table's columns: the total, then each segment, as the API lists them.
            "columns": [("total", metrics), *((s.segment_id, s) for s in metrics.segments)],
            "minutes": minutes,
            "chart": pages.chart_data(
                minutes, since=campaign.launched_at, until=utc_now() if live else None
            ),
            "timeline_truncated": truncated,
            "live": live,
            "refresh_seconds": pages.REFRESH_SECONDS,
            "reasons": pages.rejections_by_reason(campaign.rejected_by_reason),
            "actions": [a for a in ACTIONS if campaign.status in _ACTION_STATES[a]],
        }

    def _campaign(campaign_id: str) -> Campaign:
        if not _CAMPAIGN_ID.fullmatch(campaign_id):
            raise CampaignNotFoundError(campaign_id[:64])
        return services.campaigns.get(campaign_id)

    def _metrics(campaign: Campaign) -> CampaignMetricsView:
        return CampaignMetricsView.of(campaign, services.tracking.metrics(campaign.campaign_id))

    # --- one recipient -----------------------------------------------------------------------

    @console.get("/campaigns/<campaign_id>/recipient")
    def recipient_page(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        address = request.args.get("address", "").strip()
        if not address or "@" not in address or len(address) > ADDRESS_MAX_LENGTH:
            flash("Give the recipient's address.", "error")
            return redirect(url_for("console.campaign_page", campaign_id=campaign_id), 303)
        record = services.tracking.email(campaign.campaign_id, address)
        view = None
        if record is not None:
            history = services.tracking.events(campaign.campaign_id, address)
            view = RecipientView.of(campaign.campaign_id, address, record, history)
        suppressions = [SuppressionView.of(s) for s in services.suppressions.of(address)]
        return page(
            "recipient.html",
            200,
            campaign=CampaignView.of(campaign),
            address=address.lower(),
            recipient=view,
            suppressions=suppressions,
            event_json=lambda event: orjson.dumps(event, option=orjson.OPT_INDENT_2).decode(),
        )

    # --- create a campaign ---------------------------------------------------------------------

    @console.get("/new")
    def new_campaign_page() -> Response:
        form = services.campaigns.upload_form(
            redirect=public_url() + url_for("console.static", filename="uploaded.html")
        )
        upload_origin = "{0.scheme}://{0.netloc}".format(urlsplit(form.url))
        response = page("new_campaign.html", 200, upload=form)
        response.headers["Content-Security-Policy"] = CSP.format(upload=f" {upload_origin}")
        return response

    @console.post("/new")
    def create_campaign() -> Response:
        upload = request.files.get("candidate")
        s3_uri = request.form.get("s3_uri", "").strip()
        campaign_id = request.form.get("campaign_id", "").strip() or None
        if s3_uri:
            document: dict[str, Any] = {"candidateS3Uri": s3_uri}
            if campaign_id:
                document["campaign_id"] = campaign_id
            body = orjson.dumps(document)
        elif upload is not None and upload.filename:
            body = upload.read()
        else:
            flash("Choose a candidate file, or upload one to S3 first.", "error")
            return redirect(url_for("console.new_campaign_page"), 303)
        try:
            outcome = services.campaigns.create(body, public_url=public_url())
        except InvalidCandidateError as invalid:
            return page("new_campaign.html", 400, upload=None, problems=invalid.problems)
        except CampaignConflictError as conflict:
            flash(str(conflict), "error")
            return redirect(url_for("console.new_campaign_page"), 303)
        flash(
            "Accepted: it is verified in the background."
            if outcome.http_status == 202
            else "Created."
        )
        return redirect(
            url_for("console.campaign_page", campaign_id=outcome.campaign.campaign_id), 303
        )


def _newest_first_key(campaign: Campaign) -> str:
    # The date, or (VERIFYING, REJECTED) when it was created: ISO text sorts as time.
    return (campaign.scheduled_at or campaign.created_at).isoformat()
