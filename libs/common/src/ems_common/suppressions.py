"""Suppressions: who EMS must not send to, for which email, and why (plain Python, no AWS).

A suppression has a *scope*:

- `all`: no email at all, transactional included (a hard bounce; an address put there by hand);
- `campaigns`: no campaign email (a complaint; an unsubscribe from all campaign email);
- `list:<name>`: no campaign email of the list `<name>` (a segment's `list_name`): an
  unsubscribe from that list.

Transactional email is blocked by `all` only: a person who left the newsletter still gets their
receipts and password resets. Campaign email is blocked by any scope that covers its list.
`docs/tracking.md` states the policy; `ems_common.dal.suppressions` stores it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

ALL: Final = "all"
CAMPAIGNS: Final = "campaigns"
LIST_PREFIX: Final = "list:"
LIST_NAME_MAX_LENGTH: Final = 256
_LIST_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")  # a segment's list_name is SES tag text


class SuppressionReason(StrEnum):
    """Why an address is suppressed."""

    HARD_BOUNCE = "hard_bounce"  # SES: a permanent bounce (scope all)
    COMPLAINT = "complaint"  # SES: marked as spam (scope campaigns)
    UNSUBSCRIBE = "unsubscribe"  # the recipient left a list, or all campaign email
    MANUAL = "manual"  # an operator, through the API, the CLI or an import


def list_scope(list_name: str) -> str:
    """The scope of one list."""
    return f"{LIST_PREFIX}{list_name}"


def scope_problem(scope: str) -> str | None:
    """What is wrong with `scope`, or None."""
    if scope in {ALL, CAMPAIGNS}:
        return None
    if scope.startswith(LIST_PREFIX) and _LIST_NAME.fullmatch(scope.removeprefix(LIST_PREFIX)):
        return None
    return (
        f"{scope[:80]!r} is no suppression scope: use all, campaigns or list:<name> (a list name"
        " is 1 to 256 ASCII letters, digits, '_' or '-')"
    )


def _check_scope(scope: str) -> str:
    problem = scope_problem(scope)
    if problem is not None:
        raise PydanticCustomError("suppression_scope", "{problem}", {"problem": problem})
    return scope


Scope = Annotated[str, AfterValidator(_check_scope)]
"""all, campaigns or list:<name>."""


def blocking_scopes(list_name: str | None) -> tuple[str, ...]:
    """The scopes that block an email: of a campaign's list `list_name`, or transactional (None)."""
    if list_name is None:
        return (ALL,)
    return (ALL, CAMPAIGNS, list_scope(list_name))


def suppression_key(address: str) -> str:
    """The form an address is stored and compared in: mailbox providers treat local parts
    case-insensitively in practice, and a suppression a capital letter could dodge is none."""
    return address.strip().lower()


def blocking_keys(address: str, list_name: str | None) -> list[tuple[str, str]]:
    """The (stored address, scope) keys whose suppression blocks an email to `address` of the
    list `list_name` (None: transactional)."""
    key = suppression_key(address)
    return [(key, scope) for scope in blocking_scopes(list_name)]


def blocked_among(
    pairs: Iterable[tuple[str, str | None]], found: Mapping[tuple[str, str], Suppression]
) -> dict[tuple[str, str | None], list[Suppression]]:
    """Of (address, list name) pairs, those a suppression of `found` (by its stored address
    and scope) blocks, with what blocks them; the answer's keys are the pairs as given."""
    blocked: dict[tuple[str, str | None], list[Suppression]] = {}
    for address, list_name in pairs:
        hits = [found[key] for key in blocking_keys(address, list_name) if key in found]
        if hits:
            blocked[(address, list_name)] = hits
    return blocked


class Suppression(BaseModel):
    """One address suppressed in one scope."""

    model_config = ConfigDict(frozen=True)

    address: str
    scope: Scope
    reason: SuppressionReason
    detail: str | None = None  # e.g. the bounce's sub-type, an operator's note
    source: str | None = None  # what suppressed it: ses:Bounce, api, import, one-click ...
    campaign_id: str | None = None  # the campaign whose email led to it (unsubscribes)
    suppressed_at: datetime | None = None

    @property
    def is_unsubscribe(self) -> bool:
        """The recipient asked for it (not a bounce, a complaint or an operator)."""
        return self.reason == SuppressionReason.UNSUBSCRIBE


# The most telling suppression of an address, when several block the same email: the recipient's
# own request first (a campaign rejects them as `unsubscribed`), then the others.
def most_telling(suppressions: list[Suppression]) -> Suppression | None:
    """The suppression to report of those that block one email (None if there is none)."""
    if not suppressions:
        return None
    return next((s for s in suppressions if s.is_unsubscribe), suppressions[0])
