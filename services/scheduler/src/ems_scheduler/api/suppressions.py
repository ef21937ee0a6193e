"""Suppression routes: list (by scope and reason), show one address, add (one or an import), lift.

Thin: they parse, call `SuppressionsService`, and shape the answer. Addresses are personal
data: they appear in answers to the caller who sent them, never in the logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from flask import Flask, Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, TypeAdapter

from ems_common.suppressions import Scope, Suppression, SuppressionReason
from ems_scheduler.api.errors import ApiError, ErrorView, error_response
from ems_scheduler.shared.page_tokens import PagedList, PageTokens
from ems_scheduler.shared.recipients import ADDRESS_MAX_LENGTH
from ems_scheduler.suppressions.service import (
    MAX_ADDRESSES_PER_REQUEST,
    InvalidAddressesError,
    SuppressionsService,
)

_ERRORS: dict[str | int, type[BaseModel] | dict[Any, Any] | None] = {
    400: ErrorView,
    401: ErrorView,
    403: ErrorView,
    404: ErrorView,
}

# Sendable addresses are at most 254 ASCII characters: this also keeps keys within DynamoDB's.
Address = Annotated[
    str,
    Field(
        max_length=ADDRESS_MAX_LENGTH,
        pattern=r"^[^\s@]+@[^\s@]+$",
        description="An email address, in any case",
    ),
]


class SuppressionView(BaseModel):
    """An address EMS sends nothing to in `scope`."""

    address: str = Field(description="Lower-cased")
    scope: str = Field(description="all (every email), campaigns, or list:<name>")
    reason: SuppressionReason
    detail: str | None = Field(description="e.g. the bounce's sub-type, an operator's note")
    source: str | None = Field(description="What suppressed it: ses:Bounce, api, one-click ...")
    campaign_id: str | None = Field(description="The campaign whose email led to it, if any")
    suppressed_at: datetime | None

    @classmethod
    def of(cls, suppression: Suppression) -> SuppressionView:
        """The view of a stored suppression."""
        return cls.model_validate(suppression.model_dump())


class SuppressionPage(BaseModel):
    """A page of the suppression list (in no particular order)."""

    suppressions: list[SuppressionView]
    next_page: str | None = Field(
        description="Pass as `page` for the next page; null at the end. A filtered page may hold"
        " fewer than `limit` and still have a next page."
    )


class SuppressionQuery(BaseModel):
    """Filters and paging for the suppression list."""

    scope: Scope | None = Field(default=None, description="all, campaigns or list:<name>")
    reason: SuppressionReason | None = None
    limit: int = Field(default=50, ge=1, le=200)
    page: str | None = Field(default=None, max_length=2048)


class SuppressBody(BaseModel):
    """`POST /suppressions`: addresses to suppress in one scope, for one reason."""

    addresses: list[Annotated[str, Field(max_length=ADDRESS_MAX_LENGTH)]] = Field(
        min_length=1,
        max_length=MAX_ADDRESSES_PER_REQUEST,
        description=f"1 to {MAX_ADDRESSES_PER_REQUEST:,} addresses (an import: several requests)",
    )
    scope: Scope = Field(default="all", description="all, campaigns or list:<name>")
    reason: SuppressionReason = SuppressionReason.MANUAL
    detail: str | None = Field(default=None, max_length=500, description="A note")


class AddedView(BaseModel):
    """What `POST /suppressions` did."""

    added: int = Field(description="Addresses suppressed in the scope by this request")
    already_suppressed: int = Field(description="Addresses that were suppressed there already")
    scope: str
    reason: SuppressionReason


class AddressSuppressionsView(BaseModel):
    """Every suppression of one address."""

    address: str
    suppressions: list[SuppressionView]


class SuppressionPath(BaseModel):
    """The address in the URL."""

    address: Address


class ScopeQuery(BaseModel):
    """Which scope to lift (every scope when left out)."""

    scope: Scope | None = None


_SUPPRESSION_START: Final = TypeAdapter(tuple[str, str])  # (address, scope) to start after


def _suppressions(scope: str | None, reason: str | None) -> PagedList:
    """The suppression list as filtered: a token opens for the same filters only."""
    return PagedList("suppressions", {"scope": scope, "reason": reason})


def page_of_suppressions(
    service: SuppressionsService,
    page_tokens: PageTokens,
    *,
    limit: int,
    page: str | None,
    scope: str | None,
    reason: str | None,
) -> tuple[list[Suppression], str | None]:
    """A page of suppressions (filtered) from the `page` token (InvalidPageTokenError: not one
    of this list and filters), and the next page's token (None: the last page). The API's list
    and the console's page."""
    listing = _suppressions(scope, reason)
    items, after = service.page(
        limit=limit,
        start=page_tokens.open(listing, page, _SUPPRESSION_START),
        scope=scope,
        reason=reason,
    )
    return items, page_tokens.seal(listing, after)


def suppressions_api(service: SuppressionsService, page_tokens: PageTokens) -> APIBlueprint:
    """The /suppressions routes, bound to `service`."""
    api = APIBlueprint(
        "suppressions",
        __name__,
        url_prefix="/suppressions",
        abp_tags=[Tag(name="suppressions")],
        abp_security=[{"api_key": []}],
    )

    @api.get("", responses={200: SuppressionPage, **_ERRORS})
    def list_suppressions(query: SuppressionQuery) -> dict[str, Any]:
        """A page of suppressions, filtered by scope and reason, with why and since when."""
        items, next_page = page_of_suppressions(
            service,
            page_tokens,
            limit=query.limit,
            page=query.page,
            scope=query.scope,
            reason=query.reason,
        )
        return SuppressionPage(
            suppressions=[SuppressionView.of(item) for item in items], next_page=next_page
        ).model_dump(mode="json")

    @api.post("", responses={200: AddedView, **_ERRORS})
    def add(body: SuppressBody) -> dict[str, Any]:
        """Suppress addresses in a scope (an import: up to 10,000 a request). None is added if
        one is not an address: the 400 lists each by its place."""
        added = service.add(
            body.addresses, scope=body.scope, reason=body.reason, detail=body.detail, source="api"
        )
        return AddedView(
            added=added.added,
            already_suppressed=added.already_suppressed,
            scope=body.scope,
            reason=body.reason,
        ).model_dump(mode="json")

    @api.get("/<path:address>", responses={200: AddressSuppressionsView, **_ERRORS})
    def show(path: SuppressionPath) -> dict[str, Any]:
        """Every scope the address is suppressed in (404 if none)."""
        found = service.of(path.address)
        if not found:
            raise ApiError(404, "not_found", f"{path.address} is not on the suppression list")
        return AddressSuppressionsView(
            address=path.address.lower(), suppressions=[SuppressionView.of(s) for s in found]
        ).model_dump(mode="json")

    @api.delete("/<path:address>", responses={204: None, **_ERRORS})
    def remove(path: SuppressionPath, query: ScopeQuery) -> tuple[str, int]:
        """Lift a suppression in `scope`, or in every scope: EMS may send to the address again
        (404 if it is not suppressed there)."""
        if not service.remove(path.address, query.scope):
            where = "" if query.scope is None else f" in scope {query.scope}"
            message = (
                f"{path.address} is not on the suppression list{where}: there is nothing to lift"
            )
            raise ApiError(404, "not_found", message)
        return "", 204

    return api


def register_suppression_errors(app: Flask) -> None:
    """JSON for the suppression feature's own errors."""

    @app.errorhandler(InvalidAddressesError)
    def _invalid(error: InvalidAddressesError) -> tuple[Response, int]:
        return error_response(
            400,
            "invalid",
            "some addresses are not valid: see `problems`; none was added",
            error.problems,
        )
