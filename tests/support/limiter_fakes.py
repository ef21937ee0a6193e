"""In-memory stand-ins for tests (the limiter's and the sender's): a manual clock and store.

Fakes rather than mocks: they keep the real semantics (a sleep advances time; a write at a
stale version loses), so a test drives the real limiter through them.
"""

from __future__ import annotations

import threading

from ems_sender.limiter.model import LimiterState


class ManualClock:
    """A clock that only moves when slept on or advanced."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self.slept = 0.0

    def now(self) -> float:
        """The current fake time."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Advance the fake time instead of blocking."""
        if seconds > 0:
            self._now += seconds
            self.slept += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass without a sleep (work done, another process's turn)."""
        self._now += seconds


class InMemoryLimiterStore:
    """`LimiterStore` in a dict, with the table's conditional-write semantics."""

    def __init__(self) -> None:
        self._items: dict[str, LimiterState] = {}
        self._lock = threading.Lock()
        self._reads = 0
        self._writes = 0
        self.stored = 0  # successful writes

    @property
    def reads(self) -> int:
        """Loads so far."""
        return self._reads

    @property
    def writes(self) -> int:
        """Saves so far, lost races included."""
        return self._writes

    @property
    def requests(self) -> int:
        """Loads and saves so far."""
        return self._reads + self._writes

    def load(self, name: str) -> LimiterState:
        """The stored state, or a fresh one."""
        with self._lock:
            self._reads += 1
            return self._items.get(name, LimiterState())

    def peek(self, name: str) -> LimiterState:
        """The stored state, without counting a request (for assertions)."""
        with self._lock:
            return self._items.get(name, LimiterState())

    def save(
        self, name: str, state: LimiterState, *, expected_version: int, now_us: int
    ) -> LimiterState | None:
        """Store `state` if the item is still at `expected_version`, else return the item."""
        with self._lock:
            self._writes += 1
            current = self._items.get(name, LimiterState())
            if current.version != expected_version:
                return current
            self._items[name] = state
            self.stored += 1
            return None
