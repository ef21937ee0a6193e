"""An in-memory suppression list with the table adapter's methods and the same policy.

For functional tests of what uses `ems_common.dal.suppressions.SuppressionList` (whose own
DynamoDB behaviour the whole-stack tests check): the scopes that block an email are the shared
policy's (`ems_common.suppressions.blocking_scopes`), not a copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ems_common.campaigns import utc_now
from ems_common.suppressions import (
    ALL,
    Suppression,
    SuppressionReason,
    blocked_among,
    suppression_key,
)


class InMemorySuppressions:
    """Suppressions by (lower-cased address, scope)."""

    def __init__(self, *addresses: str, scope: str = ALL) -> None:
        self.items: dict[tuple[str, str], Suppression] = {}
        self.day_queries = 0  # made_since calls: reads of the day index
        for address in addresses:
            self.add(Suppression(address=address, scope=scope, reason=SuppressionReason.MANUAL))

    def add(self, suppression: Suppression) -> bool:
        key = (suppression_key(suppression.address), suppression.scope)
        if key in self.items:
            return False
        made = suppression.suppressed_at or utc_now()
        self.items[key] = suppression.model_copy(update={"address": key[0], "suppressed_at": made})
        return True

    def add_many(self, suppressions: Sequence[Suppression]) -> int:
        return sum(self.add(s) for s in suppressions)

    def remove(self, address: str, scope: str | None = None) -> list[str]:
        key = suppression_key(address)
        scopes = [scope] if scope is not None else [s for a, s in self.items if a == key]
        return [s for s in scopes if self.items.pop((key, s), None) is not None]

    def of(self, address: str) -> list[Suppression]:
        key = suppression_key(address)
        return [s for (a, _), s in sorted(self.items.items()) if a == key]

    def made_since(self, since: datetime, day_index: str) -> list[Suppression]:
        """As the day index answers: those made at `since` or later."""
        assert day_index
        self.day_queries += 1
        return [s for s in self.items.values() if s.suppressed_at and s.suppressed_at >= since]

    def blocking(
        self, addresses: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], list[Suppression]]:
        return blocked_among(addresses, self.items)

    def page(
        self,
        *,
        limit: int = 100,
        start: tuple[str, str] | None = None,
        scope: str | None = None,
        reason: str | None = None,
    ) -> tuple[list[Suppression], tuple[str, str] | None]:
        keys = sorted(self.items)
        if start is not None:
            keys = [k for k in keys if k > start]
        window = keys[:limit]
        after = window[-1] if len(keys) > limit else None
        items = [
            self.items[k]
            for k in window
            if (scope is None or k[1] == scope)
            and (reason is None or self.items[k].reason == reason)
        ]
        return items, after
