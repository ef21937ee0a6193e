"""`create_app`: the Flask app, with its collaborators injected (fakes in tests, AWS in use)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_openapi3 import Info, OpenAPI

from ems_scheduler.api.auth import API_KEY_HEADER, require_api_key
from ems_scheduler.api.campaigns import campaigns_api
from ems_scheduler.api.dlq import dlq_api
from ems_scheduler.api.errors import register_error_handlers, validation_error_response
from ems_scheduler.api.tracking import suppressions_api, tracking_api
from ems_scheduler.api.transactional import (
    emails_api,
    register_transactional_errors,
    templates_api,
)
from ems_scheduler.api.views import HealthView
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.dead_letters.queues import DeadLetterQueues, SqsDeadLetters
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.tracking.reads import (
    DynamoTrackingReads,
    LazySuppressionList,
    Suppressions,
    TrackingReads,
)
from ems_scheduler.transactional.service import TransactionalService
from ems_scheduler.transactional.wiring import build_transactional_service

API_VERSION = "1.0.0"


def create_app(
    settings: SchedulerSettings,
    service: CampaignService,
    *,
    dead_letters: DeadLetterQueues | None = None,
    tracking: TrackingReads | None = None,
    suppressions: Suppressions | None = None,
    transactional: TransactionalService | None = None,
) -> OpenAPI:
    """The API app for these settings and this campaign service.

    The DLQs, tracking tables, suppression list and transactional service default to the AWS
    ones in `settings`.
    """
    app = OpenAPI(
        "ems_scheduler",
        info=Info(
            title="EMS API",
            version=API_VERSION,
            description=(
                "Create, list, describe, reschedule, cancel and delete email campaigns; inspect"
                " and redrive the dead-letter queues; read campaign metrics, each recipient's"
                " email and events, and the suppression list; register templates and send"
                " transactional email, single or bulk, with idempotency keys."
                f" Every route but /health needs the `{API_KEY_HEADER}` header."
            ),
        ),
        security_schemes={"api_key": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}},
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        doc_ui=False,
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    register_error_handlers(app)
    if settings.api_key is None:
        msg = "create_app needs the API key itself: read api_key_secret_id first (wsgi.py)"
        raise ValueError(msg)
    require_api_key(app, settings.api_key)
    app.register_api(campaigns_api(service))
    app.register_api(dlq_api(dead_letters or SqsDeadLetters.from_settings(settings)))
    tracking = tracking or DynamoTrackingReads.from_settings(settings)
    app.register_api(tracking_api(service, tracking))
    app.register_api(suppressions_api(suppressions or LazySuppressionList.from_settings(settings)))
    register_transactional_errors(app)
    transactional = transactional or build_transactional_service(settings)
    app.register_api(templates_api(transactional, tracking))
    app.register_api(emails_api(transactional, tracking))

    @app.get("/health", responses={200: HealthView})
    def health() -> dict[str, Any]:
        """Is the API up (no key needed)."""
        return HealthView().model_dump()

    @app.route("/openapi.json")
    def openapi() -> Response:
        """This API, described in OpenAPI 3."""
        return jsonify(app.api_doc)

    return app
