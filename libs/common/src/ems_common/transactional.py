"""Transactional email's ids, keys and limits: one source for the API, the sender and the tracker.

An email id is ``tx-<yyyymmdd>-<12 hex>-<index>``: the request's UTC day, a random request
id and the recipient's index in the request. It is SES tag text (the ``emailId`` tag), the
partition of the email's record in the emails table (as a campaign id is for a campaign's), and
it says which day's metrics item of its template it counts in. See docs/transactional.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

TRANSACTIONAL_CAMPAIGN_ID: Final = "transactional"
"""The ``campaignId`` tag of every transactional email and send batch (no campaign's id)."""

TRANSACTIONAL_SCOPE_PREFIX: Final = "tx-"
"""Every transactional request and email id starts with this (campaign ids may not)."""

TEMPLATE_NAME_MAX_LENGTH: Final = 48
"""A transactional template's name: SES's 64 characters less the ``ems-tx-`` prefix, rounded."""

SES_TEMPLATE_PREFIX: Final = f"ems-{TRANSACTIONAL_SCOPE_PREFIX}"
"""Transactional templates are stored in SES as ``ems-tx-<name>`` (campaign ones: ``ems-<id>-``)."""

TEMPLATE_PARTITION_PREFIX: Final = "template#"
"""A template's record and its per-day metrics share the partition ``template#<name>``."""

MAX_BULK_RECIPIENTS: Final = 1_000
"""Recipients per ``POST /emails/bulk`` request (more: several requests)."""

MAX_CALLER_TAGS: Final = 10
"""A caller's own tags per email (SES allows 50 in all; EMS writes three)."""

EMAILS_PER_QUEUE_MESSAGE: Final = 50
"""Emails per transactional queue message: small, so a bulk request spreads over workers."""

IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600
"""How long an ``Idempotency-Key`` is remembered."""

_REQUEST_ID = re.compile(r"tx-(?P<day>[0-9]{8})-[0-9a-f]{12}")
_EMAIL_ID = re.compile(rf"(?P<request>{_REQUEST_ID.pattern})-(?P<index>[0-9]{{1,4}})")
_TEMPLATE_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{TEMPLATE_NAME_MAX_LENGTH}}}")


def new_request_id(now: datetime) -> str:
    """A fresh request id for a request received at ``now``."""
    return f"{TRANSACTIONAL_SCOPE_PREFIX}{now.astimezone(UTC):%Y%m%d}-{secrets.token_hex(6)}"


def email_id(request_id: str, index: int) -> str:
    """The id of the request's ``index``-th recipient's email."""
    return f"{request_id}-{index}"


@dataclass(frozen=True)
class EmailId:
    """A parsed email id."""

    request_id: str
    index: int
    day: date

    @classmethod
    def parse(cls, text: str) -> EmailId | None:
        """The parts of ``text``, or None if it is no email id EMS issues."""
        match = _EMAIL_ID.fullmatch(text)
        if match is None:
            return None
        try:
            day = datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            return None
        return cls(match["request"], int(match["index"]), day)


def is_transactional_scope(scope: str) -> bool:
    """Whether ``scope`` is transactional, not a campaign: an email or request id, or the
    ``transactional`` campaign id every transactional send batch and email carries."""
    return scope == TRANSACTIONAL_CAMPAIGN_ID or scope.startswith(TRANSACTIONAL_SCOPE_PREFIX)


def is_reserved_campaign_id(campaign_id: str) -> bool:
    """Whether ``campaign_id`` belongs to transactional email, so that no campaign may take it.

    Transactional email is filed under ``transactional`` and ids starting ``tx-`` (records,
    metrics, tags), and its SES templates are ``ems-tx-<name>``: a campaign's templates,
    ``ems-<campaign_id>-<hash>``, would take those names if its id were ``tx`` or started
    ``tx-``. Compared in any case, so no campaign's name differs from theirs by case only.
    """
    folded = campaign_id.lower()
    return is_transactional_scope(folded) or f"{folded}-".startswith(TRANSACTIONAL_SCOPE_PREFIX)


def template_partition(name: str) -> str:
    """The campaigns-table partition of a template's record and metrics."""
    return f"{TEMPLATE_PARTITION_PREFIX}{name}"


def ses_template_name(name: str) -> str:
    """The SES template a transactional template is stored as."""
    return f"{SES_TEMPLATE_PREFIX}{name}"


def template_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a template name, or None."""
    if _TEMPLATE_NAME.fullmatch(name) is None:
        return (
            f"must be 1 to {TEMPLATE_NAME_MAX_LENGTH} ASCII letters, digits, '_' or '-'"
            f" (it is stored in SES as {SES_TEMPLATE_PREFIX}<name>)"
        )
    return None


def metrics_partition(scope: str, segment: str | None) -> tuple[str, str | None]:
    """Where an email's counters go: ``(partition, segment)`` of its metrics item.

    A campaign's email counts in its campaign's segment. A transactional email counts in its
    template's item for the request's day: ``(template#<name>, yyyy-mm-dd)`` (its segment is
    the template's name, from the ``segmentId`` tag).
    """
    parsed = EmailId.parse(scope)
    if parsed is None or segment is None:
        return scope, segment
    return template_partition(segment), parsed.day.isoformat()
