"""The console's routes: thin, like the API's. They call the services the JSON API calls, shape
the answers with the API's own views, and render them with Jinja2 (`templates/console/`).

Every change is a POST carrying the session's CSRF token, answered by a redirect to a page that
says what happened. The buttons of a campaign's page (pause, resume, cancel, reschedule) are
links to a confirmation page first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from pydantic import SecretStr
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ems_common.campaigns import CampaignStatus
from ems_common.dal.campaigns import CampaignNotFoundError
from ems_scheduler.console import pages
from ems_scheduler.console.campaign_pages import add_campaign_pages
from ems_scheduler.console.common import CSP, HEADERS, ConsoleServices, local_path, next_path, page
from ems_scheduler.console.operations_pages import add_operations_pages
from ems_scheduler.console.paths import SIGN_IN_PATH
from ems_scheduler.console.session import (
    CSRF_FIELD,
    ConsoleKeys,
    check_csrf,
    csrf_token,
    is_signed_in,
    sign_in,
    sign_out,
)
from ems_scheduler.console.suppression_pages import add_suppression_pages
from ems_scheduler.dead_letters.queues import UnknownQueueError
from ems_scheduler.shared.page_tokens import InvalidPageTokenError
from ems_scheduler.transactional.service import TemplateNotFound

__all__ = ["ConsoleServices", "console_blueprint", "console_gate"]

logger = logging.getLogger(__name__)


def console_gate(keys: ConsoleKeys, api_key: SecretStr) -> Callable[[], Response | None]:
    """What `api.auth` asks of a console page's request: None when its session is signed in,
    else the way to the sign-in page (for htmx, a header telling it to go there)."""

    def gate() -> Response | None:
        if is_signed_in(keys, api_key):
            return None
        target = url_for("console.sign_in_page", next=local_path(request.full_path))
        if request.headers.get("HX-Request"):
            return Response("", 401, {"HX-Redirect": target, **HEADERS})
        return redirect(target, 303)

    return gate


def console_blueprint(
    services: ConsoleServices, keys: ConsoleKeys, api_key: SecretStr
) -> Blueprint:
    """The /console pages over `services`; sessions signed with `keys`, signed into with
    `api_key`."""
    console = Blueprint(
        "console",
        __name__,
        url_prefix="/console",
        template_folder="templates",
        static_folder="static",
    )

    @console.before_request
    def _csrf() -> Response | None:
        if request.method != "POST":
            return None
        problem = check_csrf(keys)
        if problem is None:
            return None
        return page(
            "error.html",
            400,
            title="Refused",
            message=f"The form was refused: {problem} Reload the page and send it again.",
        )

    @console.after_request
    def _secure(response: Response) -> Response:
        response.headers.update(HEADERS)
        response.headers.setdefault("Content-Security-Policy", CSP.format(upload=""))
        return response

    @console.context_processor
    def _context() -> dict[str, Any]:
        return {
            "csrf_token": lambda: csrf_token(keys),
            "csrf_field": CSRF_FIELD,
            "percent": pages.percent,
            "utc": pages.utc,
            "statuses": list(CampaignStatus),
            "paused_by": pages.PAUSED_BY,
            "rare_metrics": pages.RARE_METRICS,
            "signed_in": is_signed_in(keys, api_key),
        }

    # --- errors (the API's JSON handlers answer the API's routes) ----------------------------

    @console.errorhandler(CampaignNotFoundError)
    def _no_campaign(error: CampaignNotFoundError) -> Response:
        return page(
            "error.html", 404, title="Not found", message=f"No campaign {error.campaign_id!r}."
        )

    @console.errorhandler(TemplateNotFound)
    def _no_template(error: TemplateNotFound) -> Response:
        return page("error.html", 404, title="Not found", message=f"No template {error.args[0]!r}.")

    @console.errorhandler(UnknownQueueError)
    def _no_queue(error: UnknownQueueError) -> Response:
        return page("error.html", 404, title="Not found", message=str(error))

    @console.errorhandler(InvalidPageTokenError)
    def _bad_page(error: InvalidPageTokenError) -> Response:
        return page("error.html", 400, title="Bad page", message=str(error))

    @console.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        if error.code == 413:
            return page(
                "error.html",
                413,
                title="Too large",
                message="The file is larger than the API takes in one request: upload it to S3"
                " with the second form of the new-campaign page instead.",
            )
        return page(
            "error.html", error.code or 500, title=error.name, message=error.description or ""
        )

    @console.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error on a console page")
        return page(
            "error.html",
            500,
            title="EMS failed",
            message="EMS failed on its side; nothing was changed by this page. Retry later.",
        )

    # --- signing in ---------------------------------------------------------------------------

    @console.get("")
    @console.get("/")
    def home() -> Response:
        return redirect(url_for("console.campaigns_page"), 303)

    @console.get("/sign-in")
    def sign_in_page() -> Response:
        if is_signed_in(keys, api_key):
            return redirect(next_path() or url_for("console.campaigns_page"), 303)
        return page("sign_in.html", 200, next=next_path())

    @console.post("/sign-in")
    def sign_in_post() -> Response:
        if not sign_in(keys, api_key, request.form.get("api_key", "")):
            return page(
                "sign_in.html",
                401,
                next=next_path(),
                problem="That is not the API key: check it and try again.",
            )
        return redirect(next_path() or url_for("console.campaigns_page"), 303)

    @console.post("/sign-out")
    def sign_out_post() -> Response:
        sign_out()
        flash("Signed out.")
        return redirect(SIGN_IN_PATH, 303)

    add_campaign_pages(console, services)
    add_suppression_pages(console, services)
    add_operations_pages(console, services)
    return console
