"""What every console page shares: the services it calls, how a page is answered, and the
few request values each page reads the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from flask import render_template, request
from werkzeug.wrappers import Response

from ems_common.campaigns import CampaignStatus
from ems_common.suppressions import SuppressionReason
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.dead_letters.queues import DeadLetterQueues
from ems_scheduler.shared.page_tokens import PageTokens
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.tracking.reads import TrackingReads
from ems_scheduler.transactional.service import TransactionalService

PAGE_SIZE: Final = 25
HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Scripts only from the package (vendored, with SRI); styles from it too, plus the inline
# styles uPlot sets on its own elements; forms post back here (and to S3 for an upload, whose
# answer loads in a frame of the page).
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; frame-src 'self'{upload}; frame-ancestors 'self'; base-uri 'none';"
    " form-action 'self'{upload}"
)


@dataclass(frozen=True)
class ConsoleServices:
    """What the console reads and changes: the services behind the JSON API."""

    campaigns: CampaignService
    tracking: TrackingReads
    suppressions: SuppressionsService
    transactional: TransactionalService
    dead_letters: DeadLetterQueues
    # The lists' `page` tokens, sealed as the API seals them (a token opens in either).
    page_tokens: PageTokens


def page(name: str, status: int, /, **context: Any) -> Response:
    """The HTML page `templates/console/<name>`."""
    return Response(render_template(f"console/{name}", **context), status, mimetype="text/html")


def local_path(path: str | None) -> str | None:
    """`path` if it is a console path of this site (never a redirect elsewhere)."""
    if not path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    return path.rstrip("?")


def next_path() -> str | None:
    """Where to go after signing in (or lifting a suppression), if it is a console page."""
    return local_path(request.values.get("next"))


def campaign_status(text: str | None) -> CampaignStatus | None:
    """The status a filter names; None for none (or an unknown one)."""
    try:
        return CampaignStatus(text) if text else None
    except ValueError:
        return None


def suppression_reason(text: str | None) -> SuppressionReason | None:
    """The reason a form or filter names; None for none (or an unknown one)."""
    try:
        return SuppressionReason(text) if text else None
    except ValueError:
        return None
