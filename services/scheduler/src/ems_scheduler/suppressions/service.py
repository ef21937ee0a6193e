"""The suppression list's use cases behind `/suppressions` (plain Python over the table's adapter).

Scopes and the policy are `ems_common.suppressions`'; the addresses an operator adds are checked
with the campaign compiler's address rule, and every bad one is reported by its place in the
request, so an import either goes in whole or says what to fix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from email_validator import EmailNotValidError

from ems_common.campaigns import utc_now
from ems_common.problems import Problem
from ems_common.suppressions import Suppression, SuppressionReason
from ems_scheduler.shared.recipients import AddressChecker

MAX_ADDRESSES_PER_REQUEST: Final = 10_000
"""Addresses one `POST /suppressions` takes (an import of more: several requests)."""


class SuppressionStore(Protocol):
    """The suppressions table (`ems_common.dal.suppressions.SuppressionList`)."""

    def add_many(self, suppressions: Sequence[Suppression]) -> int: ...
    def remove(self, address: str, scope: str | None = None) -> list[str]: ...
    def of(self, address: str) -> list[Suppression]: ...
    def page(
        self,
        *,
        limit: int = 100,
        start: tuple[str, str] | None = None,
        scope: str | None = None,
        reason: str | None = None,
    ) -> tuple[list[Suppression], tuple[str, str] | None]: ...


class InvalidAddressesError(ValueError):
    """Some addresses of the request are not sendable addresses; `problems` lists each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} addresses are not valid")
        self.problems = problems


@dataclass(frozen=True)
class Added:
    """What an add did."""

    added: int
    already_suppressed: int


class SuppressionsService:
    """The suppression list's use cases."""

    def __init__(self, store: Callable[[], SuppressionStore]) -> None:
        self._store = functools.cache(store)  # the table's client is made on first use

    def page(
        self,
        *,
        limit: int,
        start: tuple[str, str] | None,
        scope: str | None,
        reason: str | None,
    ) -> tuple[list[Suppression], tuple[str, str] | None]:
        """A page of suppressions (filtered) after the (address, scope) `start`, and the key the
        next page starts after (None: the last page)."""
        return self._store().page(limit=limit, start=start, scope=scope, reason=reason)

    def of(self, address: str) -> list[Suppression]:
        """Every suppression of `address`."""
        return self._store().of(address)

    def add(
        self,
        addresses: Sequence[str],
        *,
        scope: str,
        reason: SuppressionReason,
        detail: str | None,
        source: str,
    ) -> Added:
        """Suppress every address in `scope` (none if one is not an address: each is listed)."""
        checker = AddressChecker()
        problems: list[Problem] = []
        sendable: list[str] = []
        for index, address in enumerate(addresses):
            try:
                sendable.append(checker.sendable(address.strip()))
            except EmailNotValidError as error:
                problems.append({"path": f"$.addresses[{index}]", "message": str(error)})
        if problems:
            raise InvalidAddressesError(problems)
        now = utc_now()
        added = self._store().add_many(
            [
                Suppression(
                    address=address,
                    scope=scope,
                    reason=reason,
                    detail=detail,
                    source=source,
                    suppressed_at=now,
                )
                for address in sendable
            ]
        )
        unique = len({address.lower() for address in sendable})
        return Added(added=added, already_suppressed=unique - added)

    def remove(self, address: str, scope: str | None) -> list[str]:
        """Lift `address`'s suppression in `scope` (every scope: None); the scopes lifted."""
        return self._store().remove(address, scope)
