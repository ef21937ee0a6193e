"""Every error the API returns is JSON that says what to fix; nothing becomes a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

from ems_common.problems import Problem, validation_problems
from ems_scheduler.shared.page_tokens import InvalidPageTokenError

logger = logging.getLogger(__name__)


class ProblemView(BaseModel):
    """One problem: where in the input (a JSON path) and what is wrong."""

    path: str
    message: str


class ErrorView(BaseModel):
    """The body of every error response."""

    error: str = Field(description="Short machine-readable kind, e.g. bad_request")
    message: str = Field(description="What went wrong and what to do")
    problems: list[ProblemView] = Field(default_factory=list)


class ApiError(Exception):
    """An error with its HTTP status, message and the problems' paths."""

    def __init__(
        self, status: int, kind: str, message: str, problems: list[Problem] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.problems = problems or []


def error_response(
    status: int, kind: str, message: str, problems: list[Problem] | None = None
) -> tuple[Response, int]:
    """A JSON error response."""
    body: dict[str, Any] = {"error": kind, "message": message, "problems": problems or []}
    return jsonify(body), status


def validation_error_response(error: ValidationError) -> Response:
    """flask-openapi3's hook: a query, path or body that does not fit its model is a 400."""
    response, status = error_response(
        400, "bad_request", "the request has problems: see `problems`", validation_problems(error)
    )
    response.status_code = status
    return response


_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
}


def register_error_handlers(app: Flask) -> None:
    """JSON for every HTTP error, a bad page token, and (logged) anything unexpected.

    Each feature's routes register their own domain errors (`register_campaign_errors` ...).
    """

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> tuple[Response, int]:
        return error_response(error.status, error.kind, error.message, error.problems)

    @app.errorhandler(InvalidPageTokenError)
    def _bad_page(error: InvalidPageTokenError) -> tuple[Response, int]:
        return error_response(
            400, "bad_request", str(error), [{"path": "$.page", "message": str(error)}]
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        message = error.description or error.name
        if status == 413:
            message = (
                f"the request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes:"
                " upload the candidate to the assets bucket and send candidateS3Uri instead"
            )
        return error_response(status, _KINDS.get(status, "error"), message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        logger.exception("unhandled error")
        return error_response(
            500, "internal", "EMS failed on its side; the request was not applied. Retry later."
        )
