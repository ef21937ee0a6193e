"""Where the console lives in the API's URL space (`api.auth` lets exactly these through)."""

from __future__ import annotations

import re
from typing import Final

PREFIX: Final = "/console"
SIGN_IN_PATH: Final = f"{PREFIX}/sign-in"
"""The one console page served without a session: it takes the API key."""
STATIC_PATTERN: Final = re.compile(rf"{PREFIX}/static/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+")
"""The vendored scripts and the style sheet: one file name, nothing below, no `..`."""


def is_console(path: str) -> bool:
    """Whether `path` is a console page (every one of which needs a signed-in session)."""
    return path == PREFIX or path.startswith(f"{PREFIX}/")
