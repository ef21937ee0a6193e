"""The public unsubscribe routes: `/u/<token>`, the link in every campaign email.

- `POST /u/<token>` is RFC 8058's one-click unsubscribe: mail clients POST
  `List-Unsubscribe=One-Click` (form-encoded; an empty body is taken the same way), and get a
  200 at once. It is idempotent. The page's buttons POST here too, with `scope`.
- `GET /u/<token>` shows a small page: what the link is for and two buttons (this list; every
  campaign email). It changes nothing: mail scanners fetch every link of a message.
- A token EMS did not make, or a too old one, gets a 404 page that says nothing about why.

No API key: the token is the capability (`ems_scheduler.api.auth` lets exactly `/u/...` through).
"""

from __future__ import annotations

from typing import Any, Final

from flask import Response, render_template, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from ems_scheduler.shared.unsubscribe_links import InvalidLinkError, LinkTarget
from ems_scheduler.unsubscribe.service import UnsubscribeService

PAGE_SCOPE_FIELD: Final = "scope"
EVERY_CAMPAIGN: Final = "campaigns"
_HTML: Final = {"content": {"text/html": {"schema": {"type": "string"}}}}
_HEADERS: Final = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


class TokenPath(BaseModel):
    """The sealed link in the URL."""

    token: str = Field(max_length=2048, description="The token of an unsubscribe link")


def masked(address: str) -> str:
    """`a***@example.org`: enough for the recipient to recognise, not the whole address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _page(template: str, status: int, target: LinkTarget | None = None, **extra: Any) -> Response:
    context: dict[str, Any] = dict(extra)
    if target is not None:
        context.update(masked_address=masked(target.address), list_name=target.list_name)
    return Response(render_template(template, **context), status=status, headers=_HEADERS)


def _invalid() -> Response:
    return _page("unsubscribe/invalid.html", 404)


def unsubscribe_api(service: UnsubscribeService) -> APIBlueprint:
    """The /u routes, bound to `service`."""
    api = APIBlueprint(
        "unsubscribe",
        __name__,
        url_prefix="/u",
        template_folder="templates",
        abp_tags=[Tag(name="unsubscribe")],
    )

    @api.get("/<token>", responses={200: _HTML, 404: _HTML})
    def page(path: TokenPath) -> Response:
        """The page of an unsubscribe link: what it is for, and buttons (changes nothing)."""
        try:
            target = service.open(path.token)
        except InvalidLinkError:
            return _invalid()
        return _page("unsubscribe/page.html", 200, target)

    @api.post("/<token>", responses={200: _HTML, 404: _HTML})
    def unsubscribe(path: TokenPath) -> Response:
        """Unsubscribe (RFC 8058 one-click: `List-Unsubscribe=One-Click`; the page: `scope`)."""
        chosen = request.form.get(PAGE_SCOPE_FIELD)
        one_click = chosen is None  # mail clients send List-Unsubscribe=One-Click, or nothing
        try:
            done = service.unsubscribe(
                path.token,
                every_campaign=chosen == EVERY_CAMPAIGN,
                source="one-click" if one_click else "unsubscribe-page",
            )
        except InvalidLinkError:
            return _invalid()
        return _page(
            "unsubscribe/done.html", 200, done.target, every_campaign=done.scope == EVERY_CAMPAIGN
        )

    return api
