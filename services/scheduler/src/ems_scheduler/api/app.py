"""`create_app`: the Flask app over already-built services (`wiring` builds them; tests, fakes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify
from flask_openapi3 import Info, OpenAPI
from pydantic import BaseModel

from ems_scheduler.api.auth import API_KEY_HEADER, require_api_key
from ems_scheduler.api.campaigns import campaigns_api, register_campaign_errors
from ems_scheduler.api.dlq import dlq_api
from ems_scheduler.api.errors import register_error_handlers, validation_error_response
from ems_scheduler.api.public_url import SETTING_KEY as PUBLIC_URL_SETTING
from ems_scheduler.api.suppressions import register_suppression_errors, suppressions_api
from ems_scheduler.api.tracking import tracking_api
from ems_scheduler.api.transactional import (
    emails_api,
    register_transactional_errors,
    templates_api,
)
from ems_scheduler.api.unsubscribe import unsubscribe_api
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.console.blueprint import ConsoleServices, console_blueprint, console_gate
from ems_scheduler.console.session import ConsoleKeys, ConsoleSessionInterface
from ems_scheduler.dead_letters.queues import DeadLetterQueues
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.page_tokens import PageTokens
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.tracking.reads import TrackingReads
from ems_scheduler.transactional.service import TransactionalService
from ems_scheduler.unsubscribe.service import UnsubscribeService

API_VERSION = "1.0.0"


class HealthView(BaseModel):
    """The API is up."""

    status: str = "ok"


def create_app(
    settings: SchedulerSettings,
    *,
    campaigns: CampaignService,
    transactional: TransactionalService,
    tracking: TrackingReads,
    suppressions: SuppressionsService,
    unsubscribe: UnsubscribeService,
    dead_letters: DeadLetterQueues,
    page_tokens: PageTokens,
    keyring: Callable[[], UnsubscribeKeys],
) -> OpenAPI:
    """The API app for these settings, over these services, sealing its lists' page tokens
    with `page_tokens`, with its console at /console.

    `ems_scheduler.wiring` builds them (wired to AWS); tests give fakes. `keyring` gives EMS's
    keys (read on first use), from which the console derives its session keys.
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
                " transactional email, single or bulk, with idempotency keys; the public"
                " unsubscribe links (RFC 8058 one-click) of every campaign email."
                f" Every route but /health and /u/{{token}} needs the `{API_KEY_HEADER}` header."
                " The web console (/console, HTML, not described here) signs in with the same"
                " key."
            ),
        ),
        security_schemes={"api_key": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}},
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        doc_ui=False,
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config[PUBLIC_URL_SETTING] = settings.public_api_url
    register_error_handlers(app)
    if settings.api_key is None:
        msg = "create_app needs the API key itself: read api_key_secret_id first (wiring.py)"
        raise ValueError(msg)
    console_keys = ConsoleKeys(keyring)
    app.session_interface = ConsoleSessionInterface(console_keys)
    require_api_key(app, settings.api_key, console_gate(console_keys, settings.api_key))
    register_campaign_errors(app)
    app.register_api(campaigns_api(campaigns, page_tokens))
    app.register_api(dlq_api(dead_letters))
    app.register_api(tracking_api(campaigns, tracking))
    register_suppression_errors(app)
    app.register_api(suppressions_api(suppressions, page_tokens))
    app.register_api(unsubscribe_api(unsubscribe))
    register_transactional_errors(app)
    app.register_api(templates_api(transactional, tracking, page_tokens))
    app.register_api(emails_api(transactional, tracking))
    app.register_blueprint(
        console_blueprint(
            ConsoleServices(
                campaigns=campaigns,
                tracking=tracking,
                suppressions=suppressions,
                transactional=transactional,
                dead_letters=dead_letters,
                page_tokens=page_tokens,
            ),
            console_keys,
            settings.api_key,
        )
    )

    @app.get("/health", responses={200: HealthView})
    def health() -> dict[str, Any]:
        """Is the API up (no key needed)."""
        return HealthView().model_dump()

    @app.route("/openapi.json")
    def openapi() -> Response:
        """This API, described in OpenAPI 3."""
        return jsonify(app.api_doc)

    return app
