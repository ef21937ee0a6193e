"""Transactional routes: /templates and /emails (docs/transactional.md).

Thin: flask-openapi3 validates the bodies against the models in `transactional.models` (a 400
lists every problem by its JSON path), the service does the work, the views shape the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from flask import Flask, Response, jsonify, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, TypeAdapter

from ems_common.dal.metrics import CampaignNumbers
from ems_common.metrics import Metric
from ems_common.transactional import TRANSACTIONAL_CAMPAIGN_ID, template_partition
from ems_scheduler.api.errors import ApiError, ErrorView, error_response
from ems_scheduler.api.public_url import public_url
from ems_scheduler.api.tracking import MetricCounts, RecipientView
from ems_scheduler.shared.page_tokens import PagedList, PageTokens
from ems_scheduler.tracking.reads import TrackingReads
from ems_scheduler.transactional.models import (
    AcceptedEmail,
    BulkBody,
    EmailBody,
    RejectedEmail,
    TemplateBody,
    TemplateContentBody,
    TemplateRecord,
)
from ems_scheduler.transactional.service import (
    EmailNotFound,
    IdempotencyConflictError,
    RequestProblemError,
    SendOutcome,
    TemplateNotFound,
    TransactionalService,
)
from ems_scheduler.transactional.template_records import TemplateExistsError

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

_ERRORS: dict[str | int, type[BaseModel] | dict[Any, Any] | None] = {
    400: ErrorView,
    401: ErrorView,
    404: ErrorView,
    409: ErrorView,
    413: ErrorView,
}

TemplateNameText = Annotated[
    str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_-]+$", description="Its name")
]


# --- views ----------------------------------------------------------------------------------


class TemplateFieldsView(BaseModel):
    """The top-level fields the template prints."""

    required: list[str] = Field(description="Every email's data must hold these")
    conditional: list[str] = Field(description="Used only where the template tests for them")


class TemplateView(BaseModel):
    """A template, as EMS keeps it."""

    name: str
    subject: str
    has_text: bool = Field(description="Whether it has a plain-text part")
    fields: TemplateFieldsView
    ses_template_name: str = Field(description="The SES template it is stored as")
    size_bytes: int = Field(description="Subject, HTML and text, as SES counts them")
    marketing: bool = Field(
        description="List mail: one-click unsubscribe headers, and unsubscribes stop it"
    )
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, record: TemplateRecord) -> TemplateView:
        """The view of a record."""
        values = record.model_dump(mode="json")
        return cls(
            fields=TemplateFieldsView(
                required=record.required_fields, conditional=record.conditional_fields
            ),
            **{k: v for k, v in values.items() if not k.endswith("_fields")},
        )


class TemplateDetailView(TemplateView):
    """A template with its content."""

    html: str
    text: str | None


class TemplatePage(BaseModel):
    """A page of templates."""

    templates: list[TemplateView]
    next_page: str | None = Field(description="Pass as `page` for the next page; null at the end")


class TemplateQuery(BaseModel):
    """Paging for the template list."""

    limit: int = Field(default=50, ge=1, le=200)
    page: str | None = Field(default=None, max_length=2048)


class TemplatePath(BaseModel):
    """The template in the URL."""

    name: TemplateNameText


class DayMetricsView(MetricCounts):
    """One day's numbers (UTC, the day the emails were requested)."""

    day: str


class TemplateMetricsView(MetricCounts):
    """The numbers of every email sent with a template, in total and per day.

    `total` counts the emails the sender has taken (sent, failed or suppressed).
    """

    template: str
    days: list[DayMetricsView]

    @classmethod
    def of(cls, name: str, numbers: CampaignNumbers) -> TemplateMetricsView:
        """The view of a template's counters."""
        return cls(
            template=name,
            days=[
                DayMetricsView(day=day, **MetricCounts.counted(counts, _taken(counts)))
                for day, counts in sorted(numbers.segments.items())
            ],
            **MetricCounts.counted(numbers.total, _taken(numbers.total)),
        )


def _taken(counts: Mapping[str, int]) -> int:
    return sum(int(counts.get(m.value, 0)) for m in (Metric.SENT, Metric.FAILED, Metric.SUPPRESSED))


class SentEmailView(BaseModel):
    """`POST /emails`: the queued email."""

    request_id: str
    email_id: str = Field(description="GET /emails/{email_id} shows its status and events")
    to: str = Field(description="The address SES is given (normalised)")
    status: str = Field(description="QUEUED")


class BulkView(BaseModel):
    """`POST /emails/bulk`: what was queued and what was left out."""

    request_id: str
    accepted: int
    rejected: int
    emails: list[AcceptedEmail]
    rejections: list[RejectedEmail]


class EmailView(RecipientView):
    """A transactional email: its status, times and raw events."""

    email_id: str
    request_id: str
    template: str
    to: str


class EmailPath(BaseModel):
    """The email in the URL."""

    email_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


# --- routes ---------------------------------------------------------------------------------


_TEMPLATES: Final = PagedList("templates")
_TEMPLATE_START: Final = TypeAdapter(str)  # the name the next page starts after


def page_of_templates(
    service: TransactionalService, page_tokens: PageTokens, *, limit: int, page: str | None
) -> tuple[list[TemplateRecord], str | None]:
    """A page of templates from the `page` token (InvalidPageTokenError: not one of this list),
    and the next page's token (None: the last page). The API's list and the console's page."""
    start = page_tokens.open(_TEMPLATES, page, _TEMPLATE_START)
    records, after = service.list_templates(limit=limit, start=start)
    return records, page_tokens.seal(_TEMPLATES, after)


def templates_api(
    service: TransactionalService, reads: TrackingReads, page_tokens: PageTokens
) -> APIBlueprint:
    """The /templates routes."""
    api = APIBlueprint(
        "templates",
        __name__,
        url_prefix="/templates",
        abp_tags=[Tag(name="templates")],
        abp_security=[{"api_key": []}],
    )

    @api.post("", responses={201: TemplateView, **_ERRORS})
    def create(body: TemplateBody) -> tuple[dict[str, Any], int]:
        """Register a template in SES, its placeholders checked (409 if the name exists)."""
        return TemplateView.of(service.create_template(body)).model_dump(mode="json"), 201

    @api.get("", responses={200: TemplatePage, **_ERRORS})
    def list_templates(query: TemplateQuery) -> dict[str, Any]:
        """A page of templates."""
        records, next_page = page_of_templates(
            service, page_tokens, limit=query.limit, page=query.page
        )
        return TemplatePage(
            templates=[TemplateView.of(r) for r in records], next_page=next_page
        ).model_dump(mode="json")

    @api.get("/<name>", responses={200: TemplateDetailView, **_ERRORS})
    def describe(path: TemplatePath) -> dict[str, Any]:
        """One template, with its HTML and text."""
        record, html, text = service.get_template(path.name)
        view = TemplateView.of(record).model_dump()
        return TemplateDetailView(**view, html=html, text=text).model_dump(mode="json")

    @api.put("/<name>", responses={200: TemplateView, 201: TemplateView, **_ERRORS})
    def put(path: TemplatePath, body: TemplateContentBody) -> tuple[dict[str, Any], int]:
        """Create (201) or replace (200) a template; emails queued after it use the new one."""
        record, created = service.put_template(path.name, body)
        return TemplateView.of(record).model_dump(mode="json"), 201 if created else 200

    @api.delete("/<name>", responses={204: None, **_ERRORS})
    def delete(path: TemplatePath) -> tuple[str, int]:
        """Delete a template (emails still queued for it then fail)."""
        service.delete_template(path.name)
        return "", 204

    @api.get("/<name>/metrics", responses={200: TemplateMetricsView, **_ERRORS})
    def metrics(path: TemplatePath) -> dict[str, Any]:
        """The numbers of every email sent with the template, in total and per day."""
        service.require_template(path.name)
        numbers = reads.metrics(template_partition(path.name))
        return TemplateMetricsView.of(path.name, numbers).model_dump(mode="json")

    return api


def emails_api(service: TransactionalService, reads: TrackingReads) -> APIBlueprint:
    """The /emails routes."""
    api = APIBlueprint(
        "emails",
        __name__,
        url_prefix="/emails",
        abp_tags=[Tag(name="emails")],
        abp_security=[{"api_key": []}],
    )

    @api.post("", responses={202: SentEmailView, **_ERRORS})
    def send(body: EmailBody) -> Response:
        """Queue one templated email (send an Idempotency-Key header to make retries safe).

        A recipient who cannot be sent to is a 400 whose `error` is the reason:
        invalid_address, suppressed or missing_fields.
        """
        outcome = service.send_one(body, _idempotency_key(), public_url=public_url())
        email = outcome.answer.emails[0]
        view = SentEmailView(
            request_id=outcome.answer.request_id,
            email_id=email.email_id,
            to=email.to,
            status="QUEUED",
        )
        return _sent(view.model_dump(mode="json"), outcome)

    @api.post("/bulk", responses={202: BulkView, **_ERRORS})
    def send_bulk(body: BulkBody) -> Response:
        """Queue one template to up to 1,000 recipients (MAX_BULK_RECIPIENTS).

        Recipients who cannot be sent to are listed with their reason; the others go out.
        """
        outcome = service.send_bulk(body, _idempotency_key(), public_url=public_url())
        answer = outcome.answer
        view = BulkView(
            request_id=answer.request_id,
            accepted=len(answer.emails),
            rejected=len(answer.rejections),
            emails=answer.emails,
            rejections=answer.rejections,
        )
        return _sent(view.model_dump(mode="json"), outcome)

    @api.get("/<email_id>", responses={200: EmailView, **_ERRORS})
    def describe(path: EmailPath) -> dict[str, Any]:
        """One email: QUEUED until a sender takes it, then its status, times and raw events."""
        where = service.locate(path.email_id)
        record = reads.email(where.email_id, where.address) or {}
        history = reads.events(where.email_id, where.address)
        view = RecipientView.of(TRANSACTIONAL_CAMPAIGN_ID, where.address, record, history)
        return EmailView(
            **view.model_dump(),
            email_id=where.email_id,
            request_id=where.request_id,
            template=where.template,
            to=where.address,
        ).model_dump(mode="json")

    return api


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if _IDEMPOTENCY_KEY.fullmatch(key) is None:
        message = f"the {IDEMPOTENCY_HEADER} header must be 1 to 255 printable ASCII characters"
        raise ApiError(
            400,
            "bad_request",
            message,
            [{"path": f"header {IDEMPOTENCY_HEADER}", "message": message}],
        )
    return key


def _sent(body: dict[str, Any], outcome: SendOutcome) -> Response:
    response = jsonify(body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def register_transactional_errors(app: Flask) -> None:
    """JSON answers for the transactional service's errors."""

    @app.errorhandler(RequestProblemError)
    def _problem(error: RequestProblemError) -> tuple[Response, int]:
        return error_response(400, error.kind, str(error), error.problems)

    @app.errorhandler(TemplateNotFound)
    def _no_template(error: TemplateNotFound) -> tuple[Response, int]:
        return error_response(404, "not_found", f"there is no template {error.args[0]!r}")

    @app.errorhandler(TemplateExistsError)
    def _template_exists(error: TemplateExistsError) -> tuple[Response, int]:
        message = f"template {error.args[0]!r} exists: PUT /templates/{{name}} replaces it"
        return error_response(409, "conflict", message)

    @app.errorhandler(IdempotencyConflictError)
    def _reused_key(error: IdempotencyConflictError) -> tuple[Response, int]:
        return error_response(409, "idempotency_key_reused", str(error))

    @app.errorhandler(EmailNotFound)
    def _no_email(error: EmailNotFound) -> tuple[Response, int]:
        message = f"there is no email {error.args[0]!r} (or its records expired)"
        return error_response(404, "not_found", message)
