"""Problems with an input document, each at its JSON path: what every EMS input error lists.

The campaign candidate, transactional requests, SES events and stored campaigns (why one was
REJECTED) all report what is wrong the same way: a list of `Problem`s, one per place to fix.
"""

import re
from typing import Final, TypedDict

from pydantic import ValidationError

_JSON_PATH_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Problem(TypedDict):
    """One thing wrong with an input document: where (a JSON path) and what to fix."""

    path: str
    message: str


def json_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a JSON path, e.g. ``$.segments[0].to_address``."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _JSON_PATH_NAME.fullmatch(part):
            path += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            path += f'["{escaped}"]'
    return path


def validation_problems(error: ValidationError, *, skip_loc_prefix: int = 0) -> list[Problem]:
    """List every problem in ``error`` (not only the first) with its JSON path and message.

    ``skip_loc_prefix`` drops that many leading location parts, e.g. the tag pydantic puts first
    when validating a discriminated union. The input values are left out on purpose: they can
    hold recipients' personal data and the caller already has the document.
    """
    return [
        {"path": json_path(tuple(detail["loc"][skip_loc_prefix:])), "message": detail["msg"]}
        for detail in error.errors(include_url=False, include_input=False)
    ]
