"""Campaign routes: thin, they parse, call the service, and shape the answer."""

from __future__ import annotations

from typing import Any, Final

from flask import Flask, Response, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, TypeAdapter

from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.dal.campaigns import CampaignNotFoundError, StatusConflictError
from ems_scheduler.api.campaign_views import (
    CampaignPage,
    CampaignPath,
    CampaignQuery,
    CampaignView,
    RescheduleBody,
)
from ems_scheduler.api.errors import ErrorView, error_response
from ems_scheduler.api.public_url import public_url
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.service import CampaignConflictError, CampaignService
from ems_scheduler.shared.page_tokens import PagedList, PageTokens

_ERRORS: dict[str | int, type[BaseModel] | dict[Any, Any] | None] = {
    400: ErrorView,
    401: ErrorView,
    403: ErrorView,
    404: ErrorView,
    409: ErrorView,
    413: ErrorView,
}

_CANDIDATE_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "The campaign candidate (campaign_id?, date, templateS3Uri, subject?, from?,"
            " configuration_set?, segments[{list_name, templateS3Uri?, subject?, from?,"
            " configuration_set?, recipients[{to_address, ...string fields}]}]), or for a large"
            " campaign {campaign_id?, date?, candidateS3Uri} pointing at that JSON in the assets"
            " bucket."
        ),
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


# DynamoDB's start key: attribute -> {type: value}. The two lists' keys differ (the table's, the
# status index's), so each is its own list and neither's token opens for the other.
_CAMPAIGN_START: Final = TypeAdapter(dict[str, dict[str, str]])


def _campaigns(status: CampaignStatus | None) -> PagedList:
    if status is None:
        return PagedList("campaigns")
    return PagedList("campaigns by status", {"status": status.value})


def page_of_campaigns(
    service: CampaignService,
    page_tokens: PageTokens,
    *,
    status: CampaignStatus | None,
    limit: int,
    page: str | None,
) -> tuple[list[Campaign], str | None]:
    """A page of campaigns from the `page` token (InvalidPageTokenError: not one of this list),
    and the next page's token (None: the last page). The API's list and the console's page."""
    listing = _campaigns(status)
    start = page_tokens.open(listing, page, _CAMPAIGN_START)
    campaigns, after = service.list(status=status, limit=limit, start=start)
    return campaigns, page_tokens.seal(listing, after)


def campaigns_api(service: CampaignService, page_tokens: PageTokens) -> APIBlueprint:
    """The /campaigns routes, bound to `service`."""
    api = APIBlueprint(
        "campaigns",
        __name__,
        url_prefix="/campaigns",
        abp_tags=[Tag(name="campaigns")],
        abp_security=[{"api_key": []}],
    )

    @api.post(
        "",
        responses={200: CampaignView, 201: CampaignView, 202: CampaignView, **_ERRORS},
        openapi_extensions=_CANDIDATE_BODY,
    )
    def create() -> tuple[dict[str, Any], int]:
        """Verify, compile and schedule a campaign.

        201 when created, 200 when the same campaign_id and body were sent before, 202 while a
        large candidate (candidateS3Uri) is verified in the background: poll GET until SCHEDULED
        or REJECTED. 400 lists every structural problem with its JSON path; rejected recipients
        do not fail the campaign but are counted and listed.
        """
        outcome = service.create(request.get_data(cache=False), public_url=public_url())
        view = CampaignView.of(outcome.campaign, outcome.rejections)
        return view.model_dump(mode="json"), outcome.http_status

    @api.get("", responses={200: CampaignPage, **_ERRORS})
    def list_campaigns(query: CampaignQuery) -> dict[str, Any]:
        """List campaigns, newest state first within a status when filtered by it."""
        campaigns, next_page = page_of_campaigns(
            service, page_tokens, status=query.status, limit=query.limit, page=query.page
        )
        return CampaignPage(
            campaigns=[CampaignView.of(c) for c in campaigns], next_page=next_page
        ).model_dump(mode="json")

    @api.get("/<campaign_id>", responses={200: CampaignView, **_ERRORS})
    def describe(path: CampaignPath) -> dict[str, Any]:
        """One campaign: status, counts, rejections (while kept), progress."""
        campaign = service.get(path.campaign_id)
        return CampaignView.of(campaign, service.rejections_of(campaign)).model_dump(mode="json")

    @api.patch("/<campaign_id>", responses={200: CampaignView, **_ERRORS})
    def reschedule(path: CampaignPath, body: RescheduleBody) -> dict[str, Any]:
        """Move the date of a SCHEDULED campaign (409 otherwise)."""
        campaign = service.reschedule(path.campaign_id, body.date)
        return CampaignView.of(campaign).model_dump(mode="json")

    @api.post("/<campaign_id>/pause", responses={200: CampaignView, **_ERRORS})
    def pause(path: CampaignPath) -> dict[str, Any]:
        """Pause a launching or sending campaign: no more of its email goes out (its queued
        emails are held, not dropped) until it is resumed. 409 in any other state."""
        return CampaignView.of(service.pause(path.campaign_id)).model_dump(mode="json")

    @api.post("/<campaign_id>/resume", responses={200: CampaignView, **_ERRORS})
    def resume(path: CampaignPath) -> dict[str, Any]:
        """Resume a paused campaign where it stopped: each held email is sent once."""
        return CampaignView.of(service.resume(path.campaign_id)).model_dump(mode="json")

    @api.post("/<campaign_id>/cancel", responses={200: CampaignView, **_ERRORS})
    def cancel(path: CampaignPath) -> dict[str, Any]:
        """Cancel before or during sending: nothing more is enqueued or sent."""
        return CampaignView.of(service.cancel(path.campaign_id)).model_dump(mode="json")

    @api.delete("/<campaign_id>", responses={204: None, **_ERRORS})
    def delete(path: CampaignPath) -> tuple[str, int]:
        """Delete a campaign that has not launched (409 otherwise): schedule, files, templates."""
        service.delete(path.campaign_id)
        return "", 204

    return api


def register_campaign_errors(app: Flask) -> None:
    """JSON answers for the campaign service's errors."""

    @app.errorhandler(InvalidCandidateError)
    def _invalid(error: InvalidCandidateError) -> tuple[Response, int]:
        return error_response(
            400, "invalid", "the request has problems: see `problems`", error.problems
        )

    @app.errorhandler(CampaignNotFoundError)
    def _not_found(error: CampaignNotFoundError) -> tuple[Response, int]:
        return error_response(404, "not_found", f"there is no campaign {error.campaign_id!r}")

    @app.errorhandler(StatusConflictError)
    def _status_conflict(error: StatusConflictError) -> tuple[Response, int]:
        return error_response(409, "conflict", str(error))

    @app.errorhandler(CampaignConflictError)
    def _id_conflict(error: CampaignConflictError) -> tuple[Response, int]:
        return error_response(409, "conflict", str(error))
