"""A small HTTP client for the EMS API: one method per route, JSON in and out.

Every failure surfaces as one of two exceptions: `ApiError` when the API answered with an error
(its status, message and the problems' JSON paths), `ApiUnreachableError` when no answer came.
The routes: campaigns and their tracking, DLQs, the suppression list, and transactional email
(templates and sends, docs/transactional.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import quote

import httpx

API_KEY_HEADER: Final = "X-Api-Key"
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_BULK_RECIPIENTS: Final = 1_000
"""Recipients one POST /emails/bulk takes at most: more are sent as several requests."""
MAX_SUPPRESSIONS_PER_REQUEST: Final = 10_000
"""Addresses one POST /suppressions takes at most: more are sent as several requests."""
MAX_SUPPRESSIONS_PAGE: Final = 200
"""The largest `limit` GET /suppressions takes."""
DEFAULT_TIMEOUT_S: Final = 60.0
CONNECT_TIMEOUT_S: Final = 10.0
_BODY_IN_MESSAGE: Final = 200

JsonObject = dict[str, Any]
"""A decoded JSON object as the API sends it (a campaign, a page of campaigns)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a JSON path such as `$.date`) and what."""

    path: str
    message: str


class ApiError(Exception):
    """The API answered with an error status: its kind, message and the problems' paths."""

    def __init__(
        self, status: int, kind: str, message: str, problems: list[Problem] | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {status} {kind})")
        self.status = status
        self.kind = kind
        self.message = message
        self.problems = problems or []


class ApiUnreachableError(Exception):
    """No answer from the API: nothing listens at its URL, or it did not answer in time."""

    def __init__(self, url: str, reason: str, *, refused: bool) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason
        self.refused = refused


@dataclass(frozen=True)
class CreateResult:
    """What POST /campaigns answered: the campaign and how (201, 200 replay, 202 verifying)."""

    status_code: int
    campaign: JsonObject


@dataclass(frozen=True)
class Page:
    """One page of a listing (campaigns, suppressions, templates): its items, which the answer
    holds under `key`, the token for the next page (None on the last) and the answer itself."""

    key: str
    items: list[JsonObject]
    next_page: str | None
    raw: JsonObject

    @classmethod
    def of(cls, key: str, raw: JsonObject) -> Page:
        """The page a listing answered with, its items under `key`."""
        token = raw.get("next_page")
        next_page = token if isinstance(token, str) and token else None
        return cls(key=key, items=list(raw.get(key) or []), next_page=next_page, raw=raw)


@dataclass(frozen=True)
class TemplatePutResult:
    """What PUT /templates/{name} answered: the template, and whether it is new (201, not 200)."""

    template: JsonObject
    created: bool


@dataclass(frozen=True)
class SendResult:
    """What POST /emails or /emails/bulk answered (202), and whether it was a replay: the first
    answer to the same Idempotency-Key and body, nothing sent again."""

    answer: JsonObject
    replayed: bool


class EmsClient:
    """The EMS API at `base_url`, authenticated with `api_key`.

    `transport` lets tests stand an `httpx.MockTransport` in for the server.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # --- routes -------------------------------------------------------------------------------

    def health(self) -> JsonObject:
        """GET /health (needs no key)."""
        return _object(self._request("GET", "/health"))

    def openapi(self) -> JsonObject:
        """GET /openapi.json: the API described in OpenAPI 3."""
        return _object(self._request("GET", "/openapi.json"))

    def create_campaign(self, candidate: bytes) -> CreateResult:
        """POST /campaigns with a whole candidate document (JSON bytes, sent unchanged)."""
        response = self._request(
            "POST", "/campaigns", content=candidate, headers={"Content-Type": "application/json"}
        )
        return CreateResult(response.status_code, _object(response))

    def create_campaign_from_s3(
        self, candidate_s3_uri: str, campaign_id: str | None = None
    ) -> CreateResult:
        """POST /campaigns naming a candidate already uploaded to S3 (answers 202 VERIFYING)."""
        body: JsonObject = {"candidateS3Uri": candidate_s3_uri}
        if campaign_id is not None:
            body["campaign_id"] = campaign_id
        response = self._request("POST", "/campaigns", json=body)
        return CreateResult(response.status_code, _object(response))

    def list_campaigns(
        self, *, status: str | None = None, limit: int | None = None, page: str | None = None
    ) -> Page:
        """GET /campaigns: one page, optionally only campaigns in `status`."""
        return self._page("/campaigns", "campaigns", status=status, limit=limit, page=page)

    def get_campaign(self, campaign_id: str) -> JsonObject:
        """GET /campaigns/{id}."""
        return _object(self._request("GET", _campaign_path(campaign_id)))

    def reschedule_campaign(self, campaign_id: str, date: str) -> JsonObject:
        """PATCH /campaigns/{id}: move a SCHEDULED campaign to `date` (ISO 8601 with offset)."""
        return _object(self._request("PATCH", _campaign_path(campaign_id), json={"date": date}))

    def cancel_campaign(self, campaign_id: str) -> JsonObject:
        """POST /campaigns/{id}/cancel."""
        return _object(self._request("POST", f"{_campaign_path(campaign_id)}/cancel"))

    def pause_campaign(self, campaign_id: str) -> JsonObject:
        """POST /campaigns/{id}/pause: a LAUNCHING or SENDING campaign stops sending (its queued
        emails are held) until resumed; 409 in any other state."""
        return _object(self._request("POST", f"{_campaign_path(campaign_id)}/pause"))

    def resume_campaign(self, campaign_id: str) -> JsonObject:
        """POST /campaigns/{id}/resume: a PAUSED campaign goes on where it stopped."""
        return _object(self._request("POST", f"{_campaign_path(campaign_id)}/resume"))

    def delete_campaign(self, campaign_id: str) -> None:
        """DELETE /campaigns/{id} (only before launch)."""
        self._request("DELETE", _campaign_path(campaign_id))

    def list_dlqs(self) -> JsonObject:
        """GET /dlq: approximate messages in each queue's dead-letter queue."""
        return _object(self._request("GET", "/dlq"))

    def peek_dlq(self, queue: str, *, limit: int | None = None) -> JsonObject:
        """GET /dlq/{queue}: up to `limit` (at most 10) messages, left on the DLQ."""
        params = {"limit": str(limit)} if limit is not None else {}
        return _object(self._request("GET", _dlq_path(queue), params=params))

    def redrive_dlq(self, queue: str) -> JsonObject:
        """POST /dlq/{queue}/redrive: move the DLQ's messages back to their queue."""
        return _object(self._request("POST", f"{_dlq_path(queue)}/redrive"))

    def campaign_metrics(self, campaign_id: str) -> JsonObject:
        """GET /campaigns/{id}/metrics: its numbers and rates, in total and per segment."""
        return _object(self._request("GET", f"{_campaign_path(campaign_id)}/metrics"))

    def campaign_timeline(self, campaign_id: str) -> JsonObject:
        """GET /campaigns/{id}/timeline: its events per minute since the launch."""
        return _object(self._request("GET", f"{_campaign_path(campaign_id)}/timeline"))

    def get_recipient(self, campaign_id: str, address: str) -> JsonObject:
        """GET /campaigns/{id}/recipients/{address}: that email's status, fields and events."""
        path = f"{_campaign_path(campaign_id)}/recipients/{quote(address, safe='@')}"
        return _object(self._request("GET", path))

    def list_suppressions(
        self,
        *,
        scope: str | None = None,
        reason: str | None = None,
        limit: int | None = None,
        page: str | None = None,
    ) -> Page:
        """GET /suppressions: one page of suppressions, optionally only those in `scope` and
        for `reason` (a filtered page may hold fewer than `limit` and still have a next)."""
        return self._page(
            "/suppressions", "suppressions", scope=scope, reason=reason, limit=limit, page=page
        )

    def get_suppressions(self, address: str) -> JsonObject:
        """GET /suppressions/{address}: `{"address", "suppressions": [...]}`, every scope the
        address is suppressed in (404 if none)."""
        return _object(self._request("GET", _suppression_path(address)))

    def add_suppressions(
        self, addresses: list[str], *, scope: str, reason: str, detail: str | None = None
    ) -> JsonObject:
        """POST /suppressions: suppress up to MAX_SUPPRESSIONS_PER_REQUEST `addresses` in
        `scope` for `reason`; answers `{"added", "already_suppressed", "scope", "reason"}`, or
        400 naming each bad address by its index (and adding none)."""
        body: JsonObject = {"addresses": addresses, "scope": scope, "reason": reason}
        if detail is not None:
            body["detail"] = detail
        return _object(self._request("POST", "/suppressions", json=body))

    def remove_suppression(self, address: str, scope: str | None = None) -> None:
        """DELETE /suppressions/{address}: lift its suppression in `scope`, or (None) in every
        scope (404 if there is none to lift)."""
        params = {"scope": scope} if scope is not None else {}
        self._request("DELETE", _suppression_path(address), params=params)

    def create_template(self, body: JsonObject) -> JsonObject:
        """POST /templates: `{"name", "subject", "html" | "htmlS3Uri", "text"?}` (409 if the
        name exists)."""
        return _object(self._request("POST", "/templates", json=body))

    def put_template(self, name: str, body: JsonObject) -> TemplatePutResult:
        """PUT /templates/{name}: `{"subject", "html" | "htmlS3Uri", "text"?}`, creating the
        template (201) or replacing it (200)."""
        response = self._request("PUT", _template_path(name), json=body)
        return TemplatePutResult(_object(response), created=response.status_code == 201)

    def list_templates(self, *, limit: int | None = None, page: str | None = None) -> Page:
        """GET /templates: one page of transactional templates."""
        return self._page("/templates", "templates", limit=limit, page=page)

    def get_template(self, name: str) -> JsonObject:
        """GET /templates/{name}: the template with its `html` and `text`."""
        return _object(self._request("GET", _template_path(name)))

    def delete_template(self, name: str) -> None:
        """DELETE /templates/{name} (emails still queued for it then fail)."""
        self._request("DELETE", _template_path(name))

    def template_metrics(self, name: str) -> JsonObject:
        """GET /templates/{name}/metrics: the numbers of its emails, in total and per UTC day."""
        return _object(self._request("GET", f"{_template_path(name)}/metrics"))

    def send_email(self, body: JsonObject, idempotency_key: str | None = None) -> SendResult:
        """POST /emails: one templated email (202 QUEUED)."""
        return self._send("/emails", body, idempotency_key)

    def send_bulk(self, body: JsonObject, idempotency_key: str | None = None) -> SendResult:
        """POST /emails/bulk: one template to up to MAX_BULK_RECIPIENTS recipients (202, with
        each recipient accepted or rejected)."""
        return self._send("/emails/bulk", body, idempotency_key)

    def get_email(self, email_id: str) -> JsonObject:
        """GET /emails/{email_id}: a transactional email's status, times and events."""
        return _object(self._request("GET", _email_path(email_id)))

    # --- plumbing -----------------------------------------------------------------------------

    def _page(self, path: str, key: str, **params: object) -> Page:
        """GET one page of the listing at `path` (its items under `key`), with the given query
        parameters."""
        query = {name: str(value) for name, value in params.items() if value is not None}
        return Page.of(key, _object(self._request("GET", path, params=query)))

    def _send(self, path: str, body: JsonObject, idempotency_key: str | None) -> SendResult:
        headers = {IDEMPOTENCY_KEY_HEADER: idempotency_key} if idempotency_key is not None else {}
        response = self._request("POST", path, json=body, headers=headers)
        replayed = response.headers.get(REPLAYED_HEADER, "").strip().lower() == "true"
        return SendResult(_object(response), replayed=replayed)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as error:
            raise ApiUnreachableError(
                self.base_url, f"cannot connect ({error})", refused=True
            ) from error
        except httpx.TimeoutException as error:
            raise ApiUnreachableError(
                self.base_url, f"no answer in time ({type(error).__name__})", refused=False
            ) from error
        except httpx.TransportError as error:
            raise ApiUnreachableError(
                self.base_url, f"{type(error).__name__}: {error}", refused=False
            ) from error
        if response.is_error:
            raise _api_error(response)
        return response


def _campaign_path(campaign_id: str) -> str:
    # Quoted whole: an id such as "../x" must stay one path segment.
    return f"/campaigns/{quote(campaign_id, safe='')}"


def _dlq_path(queue: str) -> str:
    return f"/dlq/{quote(queue, safe='')}"


def _template_path(name: str) -> str:
    return f"/templates/{quote(name, safe='')}"


def _suppression_path(address: str) -> str:
    return f"/suppressions/{quote(address, safe='@')}"


def _email_path(email_id: str) -> str:
    return f"/emails/{quote(email_id, safe='')}"


def _object(response: httpx.Response) -> JsonObject:
    try:
        body = response.json()
    except ValueError as error:
        raise ApiError(
            response.status_code,
            "bad_response",
            f"the API answered with non-JSON: {_snippet(response)}",
        ) from error
    if not isinstance(body, dict):
        raise ApiError(
            response.status_code,
            "bad_response",
            f"the API answered with {type(body).__name__}, not a JSON object",
        )
    return body


def _api_error(response: httpx.Response) -> ApiError:
    """The error the API described, or one made from whatever a proxy or server sent instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "message" not in body:
        text = _snippet(response) or response.reason_phrase
        return ApiError(response.status_code, "http_error", f"HTTP {response.status_code}: {text}")
    problems = [
        Problem(str(item.get("path", "$")), str(item.get("message", "")))
        for item in body.get("problems") or []
        if isinstance(item, dict)
    ]
    return ApiError(
        response.status_code, str(body.get("error", "error")), str(body["message"]), problems
    )


def _snippet(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= _BODY_IN_MESSAGE else text[:_BODY_IN_MESSAGE] + "..."
