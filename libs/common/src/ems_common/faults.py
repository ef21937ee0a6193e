"""Deliberate crashes at named points, for the fault tests (`make chaos`, the e2e suite).

Off unless `EMS_FAULTS` is set, e.g. `EMS_FAULTS=launcher.after_checkpoint:3` makes the
process die (as SIGKILL would: no cleanup, no finally) the third time it passes that point.
Nothing in normal operation sets it; it lets tests kill a process at an exact place instead of
racing a timer.
"""

import os
from collections import Counter
from typing import Final

FAULTS_VARIABLE: Final = "EMS_FAULTS"
_EXIT_LIKE_SIGKILL: Final = 137
_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here if `EMS_FAULTS` names this point and its count is reached."""
    spec = os.environ.get(FAULTS_VARIABLE)
    if not spec:
        return
    for entry in spec.split(","):
        point, _, count = entry.strip().partition(":")
        if point == name:
            _hits[name] += 1
            if _hits[name] >= int(count or "1"):
                os._exit(_EXIT_LIKE_SIGKILL)
