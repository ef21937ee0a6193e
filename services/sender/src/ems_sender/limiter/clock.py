"""Time, injected: the limiter's slots are wall-clock times shared between machines."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Epoch seconds and sleeping; tests pass a fake that advances on `sleep`."""

    def now(self) -> float:
        """Seconds since the epoch (wall clock: slots are compared across processes)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` (no-op when not positive)."""
        ...


class SystemClock:
    """The real clock. Lambda and EC2 hosts keep it NTP-synced to about a millisecond."""

    def now(self) -> float:
        """`time.time()`."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """`time.sleep`, skipping non-positive waits."""
        if seconds > 0:
            time.sleep(seconds)
