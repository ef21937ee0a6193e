"""The console's routes: thin, like the API's. They call the services the JSON API calls, shape
the answers with the API's own views, and render them with Jinja2 (`templates/console/`).

Every change is a POST carrying the session's CSRF token, answered by a redirect to a page that
says what happened. The buttons of a campaign's page (pause, resume, cancel, reschedule) are
links to a confirmation page first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import SecretStr
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ems_common.campaigns import CANCELLABLE, PAUSABLE, Campaign, CampaignStatus, utc_now
from ems_common.dal.campaigns import (
    CampaignNotFoundError,
    InvalidPageTokenError,
    StatusConflictError,
)
from ems_common.suppressions import ALL, LIST_PREFIX, SuppressionReason, scope_problem
from ems_common.transactional import template_partition
from ems_scheduler.api.campaign_views import CampaignView
from ems_scheduler.api.public_url import public_url
from ems_scheduler.api.suppressions import SuppressionView
from ems_scheduler.api.tracking import CampaignMetricsView, RecipientView
from ems_scheduler.api.transactional import TemplateMetricsView, TemplateView
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.service import CampaignConflictError, CampaignService
from ems_scheduler.console import pages
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
from ems_scheduler.dead_letters.queues import (
    MAX_PEEK,
    DeadLetterQueues,
    RedriveRunningError,
    UnknownQueueError,
)
from ems_scheduler.shared.recipients import ADDRESS_MAX_LENGTH
from ems_scheduler.shared.ses_template_store import TemplateRenderError
from ems_scheduler.suppressions.service import (
    MAX_ADDRESSES_PER_REQUEST,
    InvalidAddressesError,
    SuppressionsService,
)
from ems_scheduler.tracking.reads import TrackingReads
from ems_scheduler.transactional.service import TemplateNotFound, TransactionalService

logger = logging.getLogger(__name__)

PAGE_SIZE: Final = 25
# The API's own rules for ids in a path (`CampaignPath`, `TemplatePath`): others are no page.
_CAMPAIGN_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,48}")
_TEMPLATE_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,48}")
_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Scripts only from the package (vendored, with SRI); styles from it too, plus the inline
# styles uPlot sets on its own elements; forms post back here (and to S3 for an upload).
_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; frame-src 'self'{upload}; frame-ancestors 'self'; base-uri 'none';"
    " form-action 'self'{upload}"
)
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


@dataclass(frozen=True)
class ConsoleServices:
    """What the console reads and changes: the services behind the JSON API."""

    campaigns: CampaignService
    tracking: TrackingReads
    suppressions: SuppressionsService
    transactional: TransactionalService
    dead_letters: DeadLetterQueues


def console_gate(keys: ConsoleKeys, api_key: SecretStr) -> Callable[[], Response | None]:
    """What `api.auth` asks of a console page's request: None when its session is signed in,
    else the way to the sign-in page (for htmx, a header telling it to go there)."""

    def gate() -> Response | None:
        if is_signed_in(keys, api_key):
            return None
        target = url_for("console.sign_in_page", next=_local_path(request.full_path))
        if request.headers.get("HX-Request"):
            return Response("", 401, {"HX-Redirect": target, **_HEADERS})
        return redirect(target, 303)

    return gate


def _local_path(path: str | None) -> str | None:
    """`path` if it is a console path of this site (never a redirect elsewhere)."""
    if not path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    return path.rstrip("?")


def console_blueprint(  # noqa: PLR0915 - one nested function per route
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
        return _page(
            "error.html",
            400,
            title="Refused",
            message=f"The form was refused: {problem} Reload the page and send it again.",
        )

    @console.after_request
    def _secure(response: Response) -> Response:
        response.headers.update(_HEADERS)
        response.headers.setdefault("Content-Security-Policy", _CSP.format(upload=""))
        return response

    @console.context_processor
    def _context() -> dict[str, Any]:
        return {
            "csrf_token": lambda: csrf_token(keys),
            "csrf_field": CSRF_FIELD,
            "percent": pages.percent,
            "utc": pages.utc,
            "statuses": list(CampaignStatus),
            "signed_in": is_signed_in(keys, api_key),
        }

    # --- errors (the API's JSON handlers answer the API's routes) ----------------------------

    @console.errorhandler(CampaignNotFoundError)
    def _no_campaign(error: CampaignNotFoundError) -> Response:
        return _page(
            "error.html", 404, title="Not found", message=f"No campaign {error.campaign_id!r}."
        )

    @console.errorhandler(TemplateNotFound)
    def _no_template(error: TemplateNotFound) -> Response:
        return _page(
            "error.html", 404, title="Not found", message=f"No template {error.args[0]!r}."
        )

    @console.errorhandler(UnknownQueueError)
    def _no_queue(error: UnknownQueueError) -> Response:
        return _page("error.html", 404, title="Not found", message=str(error))

    @console.errorhandler(InvalidPageTokenError)
    def _bad_page(error: InvalidPageTokenError) -> Response:
        return _page("error.html", 400, title="Bad page", message=str(error))

    @console.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        if error.code == 413:
            return _page(
                "error.html",
                413,
                title="Too large",
                message="The file is larger than the API takes in one request: upload it to S3"
                " with the second form of the new-campaign page instead.",
            )
        return _page(
            "error.html", error.code or 500, title=error.name, message=error.description or ""
        )

    @console.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error on a console page")
        return _page(
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
            return redirect(_next() or url_for("console.campaigns_page"), 303)
        return _page("sign_in.html", 200, next=_next())

    @console.post("/sign-in")
    def sign_in_post() -> Response:
        if not sign_in(keys, api_key, request.form.get("api_key", "")):
            return _page(
                "sign_in.html",
                401,
                next=_next(),
                problem="That is not the API key: check it and try again.",
            )
        return redirect(_next() or url_for("console.campaigns_page"), 303)

    @console.post("/sign-out")
    def sign_out_post() -> Response:
        sign_out()
        flash("Signed out.")
        return redirect(SIGN_IN_PATH, 303)

    # --- campaigns ---------------------------------------------------------------------------

    @console.get("/campaigns")
    def campaigns_page() -> Response:
        status = _status(request.args.get("status"))
        page = request.args.get("page") or None
        found, next_page = services.campaigns.list(status=status, limit=PAGE_SIZE, page=page)
        rows = [
            (campaign, _metrics(campaign))
            for campaign in sorted(found, key=_newest_first_key, reverse=True)
        ]
        return _page(
            "campaigns.html", 200, rows=rows, status=status, next_page=next_page, paged=bool(page)
        )

    @console.get("/campaigns/<campaign_id>")
    def campaign_page(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        return _page("campaign.html", 200, **_campaign_context(campaign))

    @console.get("/campaigns/<campaign_id>/live")
    def campaign_live(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        return _page("campaign_live.html", 200, **_campaign_context(campaign))

    @console.get("/campaigns/<campaign_id>/rejections.csv")
    def rejections_csv(campaign_id: str) -> Response:
        campaign = _campaign(campaign_id)
        body = pages.rejections_csv(CampaignView.of(campaign).rejections)
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
            return _page("error.html", 404, title="Not found", message="No such page.")
        campaign = _campaign(campaign_id)
        return _page(
            "confirm.html",
            200,
            campaign=CampaignView.of(campaign),
            action=action,
            allowed=campaign.status in _ACTION_STATES[action],
        )

    @console.post("/campaigns/<campaign_id>/<action>")
    def act(campaign_id: str, action: str) -> Response:
        if action not in ACTIONS:
            return _page("error.html", 404, title="Not found", message="No such page.")
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
        return _page(
            "recipient.html",
            200,
            campaign=CampaignView.of(campaign),
            address=address.lower(),
            recipient=view,
            suppressions=suppressions,
            event_json=lambda event: orjson.dumps(event, option=orjson.OPT_INDENT_2).decode(),
        )

    # --- suppressions ------------------------------------------------------------------------

    @console.get("/suppressions")
    def suppressions_page() -> Response:
        address = request.args.get("address", "").strip()
        scope = request.args.get("scope", "").strip() or None
        reason = _reason(request.args.get("reason"))
        if scope is not None and (problem := scope_problem(scope)) is not None:
            flash(problem, "error")
            scope = None
        next_page = None
        if len(address) > ADDRESS_MAX_LENGTH:
            flash(f"An address has at most {ADDRESS_MAX_LENGTH} characters.", "error")
            found = []
        elif address:
            found = services.suppressions.of(address)
        else:
            found, next_page = services.suppressions.page(
                limit=PAGE_SIZE,
                page=request.args.get("page") or None,
                scope=scope,
                reason=reason.value if reason else None,
            )
        return _page(
            "suppressions.html",
            200,
            suppressions=[SuppressionView.of(s) for s in found],
            address=address,
            scope=scope or "",
            reason=reason,
            reasons=list(SuppressionReason),
            next_page=next_page,
            max_addresses=MAX_ADDRESSES_PER_REQUEST,
        )

    @console.post("/suppressions")
    def suppress() -> Response:
        addresses = [a.strip() for a in request.form.get("addresses", "").splitlines()]
        addresses = [a for a in addresses if a]
        scope = _form_scope()
        reason = _reason(request.form.get("reason")) or SuppressionReason.MANUAL
        if scope is None:
            return redirect(url_for("console.suppressions_page"), 303)
        if not addresses or len(addresses) > MAX_ADDRESSES_PER_REQUEST:
            flash(f"Give 1 to {MAX_ADDRESSES_PER_REQUEST:,} addresses, one a line.", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        try:
            added = services.suppressions.add(
                addresses,
                scope=scope,
                reason=reason,
                detail=request.form.get("detail", "").strip()[:500] or None,
                source="console",
            )
        except InvalidAddressesError as invalid:
            flash(
                _address_problems(invalid, [str(n) for n in range(1, len(addresses) + 1)]), "error"
            )
            return redirect(url_for("console.suppressions_page"), 303)
        flash(
            f"Suppressed in {scope}: {added.added} added, {added.already_suppressed} already there."
        )
        return redirect(url_for("console.suppressions_page", scope=scope), 303)

    @console.post("/suppressions/import")
    def import_suppressions() -> Response:
        upload = request.files.get("file")
        scope = _form_scope()
        reason = _reason(request.form.get("reason")) or SuppressionReason.MANUAL
        if upload is None or not upload.filename or scope is None:
            flash("Choose a CSV file to import.", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        try:
            rows = pages.read_import(upload.read().decode("utf-8-sig"))
        except (pages.ImportFileError, UnicodeDecodeError) as error:
            flash(f"Not imported: {error}", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        added = already = 0
        groups: dict[tuple[str, SuppressionReason, str | None], list[pages.ImportRow]] = {}
        for row in rows:
            key = (row.scope or scope, row.reason or reason, row.detail)
            groups.setdefault(key, []).append(row)
        for (group_scope, group_reason, detail), members in groups.items():
            for start in range(0, len(members), MAX_ADDRESSES_PER_REQUEST):
                chunk = members[start : start + MAX_ADDRESSES_PER_REQUEST]
                try:
                    done = services.suppressions.add(
                        [row.address for row in chunk],
                        scope=group_scope,
                        reason=group_reason,
                        detail=detail,
                        source="console import",
                    )
                except InvalidAddressesError as invalid:
                    lines = [str(row.line) for row in chunk]
                    flash(
                        f"Stopped after {added} added: " + _address_problems(invalid, lines),
                        "error",
                    )
                    return redirect(url_for("console.suppressions_page"), 303)
                added += done.added
                already += done.already_suppressed
        flash(f"Imported {len(rows)} addresses: {added} added, {already} already suppressed.")
        return redirect(url_for("console.suppressions_page"), 303)

    @console.post("/suppressions/remove")
    def lift() -> Response:
        address = request.form.get("address", "").strip()
        scope = request.form.get("scope", "").strip() or None
        back = _local_path(request.form.get("next")) or url_for(
            "console.suppressions_page", address=address
        )
        if not address or (scope is not None and scope_problem(scope) is not None):
            flash("Give the address and the scope to lift.", "error")
            return redirect(back, 303)
        lifted = services.suppressions.remove(address, scope)
        if lifted:
            flash(f"Lifted the suppression of {address.lower()} in {', '.join(lifted)}.")
        else:
            flash(f"{address.lower()} was not suppressed there: nothing lifted.", "error")
        return redirect(back, 303)

    def _form_scope() -> str | None:
        choice = request.form.get("scope", ALL)
        scope = (
            f"{LIST_PREFIX}{request.form.get('list_name', '').strip()}"
            if choice == "list"
            else choice
        )
        problem = scope_problem(scope)
        if problem is not None:
            flash(f"Not done: {problem}", "error")
            return None
        return scope

    # --- transactional templates ---------------------------------------------------------------

    @console.get("/templates")
    def templates_page() -> Response:
        records, next_page = services.transactional.list_templates(
            limit=PAGE_SIZE, page=request.args.get("page") or None
        )
        return _page(
            "templates.html",
            200,
            templates=[TemplateView.of(r) for r in records],
            next_page=next_page,
        )

    @console.route("/templates/<name>", methods=["GET", "POST"])
    def template_page(name: str) -> Response:
        if not _TEMPLATE_NAME.fullmatch(name):
            raise TemplateNotFound(name[:64])
        record = services.transactional.require_template(name)
        fields = [*record.required_fields, *record.conditional_fields]
        sample = {field: f"Sample {field}" for field in fields}
        data_text = (
            request.form.get("data") or orjson.dumps(sample, option=orjson.OPT_INDENT_2).decode()
        )
        rendered = problem = None
        try:
            data = orjson.loads(data_text)
            if not isinstance(data, dict):
                raise TypeError
        except (orjson.JSONDecodeError, TypeError):
            problem = 'The sample data must be a JSON object, like {"name": "Ann"}.'
        else:
            try:
                rendered = pages.rendered_email(services.transactional.preview_template(name, data))
            except TemplateRenderError as error:
                problem = f"SES could not render it with this data: {error}"
        numbers = services.tracking.metrics(template_partition(name))
        return _page(
            "template.html",
            200,
            template=TemplateView.of(record),
            data_text=data_text,
            rendered=rendered,
            problem=problem,
            metrics=TemplateMetricsView.of(name, numbers),
        )

    # --- dead-letter queues ------------------------------------------------------------------

    @console.get("/dlq")
    def dlq_page() -> Response:
        return _page("dlq.html", 200, counts=services.dead_letters.counts())

    @console.get("/dlq/<queue>")
    def dlq_queue_page(queue: str) -> Response:
        known = services.dead_letters.queue_names()
        if queue not in known:
            raise UnknownQueueError(queue, known)
        letters = services.dead_letters.peek(queue, MAX_PEEK)
        return _page(
            "dlq_queue.html",
            200,
            queue=queue,
            letters=letters,
            count=services.dead_letters.counts().get(queue, 0),
        )

    @console.post("/dlq/<queue>/redrive")
    def redrive(queue: str) -> Response:
        known = services.dead_letters.queue_names()
        if queue not in known:
            raise UnknownQueueError(queue, known)
        try:
            task = services.dead_letters.redrive(queue)
        except RedriveRunningError as running:
            flash(str(running), "error")
        else:
            flash(f"Redrive started: about {task.messages_to_move} messages go back to {queue}.")
        return redirect(url_for("console.dlq_queue_page", queue=queue), 303)

    # --- create a campaign ---------------------------------------------------------------------

    @console.get("/new")
    def new_campaign_page() -> Response:
        form = services.campaigns.upload_form(
            redirect=public_url() + url_for("console.static", filename="uploaded.html")
        )
        upload_origin = "{0.scheme}://{0.netloc}".format(urlsplit(form.url))
        response = _page("new_campaign.html", 200, upload=form)
        response.headers["Content-Security-Policy"] = _CSP.format(upload=f" {upload_origin}")
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
            return _page("new_campaign.html", 400, upload=None, problems=invalid.problems)
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

    return console


def _page(page: str, status: int, /, **context: Any) -> Response:
    return Response(render_template(f"console/{page}", **context), status, mimetype="text/html")


def _next() -> str | None:
    return _local_path(request.values.get("next"))


def _status(text: str | None) -> CampaignStatus | None:
    try:
        return CampaignStatus(text) if text else None
    except ValueError:
        return None


def _reason(text: str | None) -> SuppressionReason | None:
    try:
        return SuppressionReason(text) if text else None
    except ValueError:
        return None


def _newest_first_key(campaign: Campaign) -> str:
    # The date, or (VERIFYING, REJECTED) when it was created: ISO text sorts as time.
    return (campaign.scheduled_at or campaign.created_at).isoformat()


def _address_problems(invalid: InvalidAddressesError, labels: list[str]) -> str:
    """The bad addresses by line (the service names them by their place in the request)."""
    shown = []
    for problem in invalid.problems[:5]:
        index = problem["path"].removeprefix("$.addresses[").removesuffix("]")
        label = labels[int(index)] if index.isdigit() and int(index) < len(labels) else "?"
        shown.append(f"line {label}: {problem['message']}")
    more = len(invalid.problems) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "") + ". None was added."
