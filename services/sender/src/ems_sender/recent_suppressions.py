"""Suppression checks at send time, without a read per batch.

A campaign's compile left out every address suppressed before its `suppressions_as_of`; what
can still stop one of its emails is a suppression made since (an unsubscribe, a bounce, an
import while it waits or sends). So a sender process keeps the suppressions made since the
earliest such time of its campaigns, read from the suppressions table's day index (one query
a day) at most every `refresh_s` (20 s: an unsubscribe stops the rest of a campaign within a
minute, as docs/suppressions.md promises), and checks each batch in memory. A campaign compiled
longer ago than `max_age` (or before the field existed) is checked as before: one BatchGetItem
of its batch's keys (`SuppressionList.blocking`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from ems_common.campaigns import utc_now
from ems_common.dal.suppressions import SuppressionList
from ems_common.suppressions import Suppression, blocked_among

REFRESH_SECONDS: Final = 20.0
MAX_AGE: Final = timedelta(days=7)

type Pair = tuple[str, str | None]  # (address, list name; None for transactional email)


@dataclass
class RecentSuppressions:
    """The suppressions made since the sender's campaigns were compiled (thread-safe)."""

    suppressions: SuppressionList
    day_index: str
    refresh_s: float = REFRESH_SECONDS
    max_age: timedelta = MAX_AGE
    clock: Callable[[], float] = time.monotonic
    _since: datetime | None = None
    _read_at: float = float("-inf")
    _found: dict[tuple[str, str], Suppression] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocking(
        self, pairs: Iterable[Pair], *, since: datetime | None
    ) -> dict[Pair, list[Suppression]]:
        """Of (address, list name) pairs of one campaign compiled with suppressions as of
        `since`, those blocked, with what blocks them (as `SuppressionList.blocking`)."""
        if since is None or utc_now() - since > self.max_age:
            return self.suppressions.blocking(pairs)
        return blocked_among(pairs, self._made_since(since))

    def _made_since(self, since: datetime) -> dict[tuple[str, str], Suppression]:
        with self._lock:
            fresh = self.clock() - self._read_at < self.refresh_s
            if fresh and self._since is not None and self._since <= since:
                return self._found
            # Any current suppression may be checked against: more than needed is still right.
            start = since if self._since is None else min(since, self._since)
            made = self.suppressions.made_since(start, self.day_index)
            self._found = {(s.address, s.scope): s for s in made}
            self._since, self._read_at = start, self.clock()
            return self._found
