"""What LocalStack's SES sent: its `/_aws/ses` record, one entry per message (tests, benches).

Each entry is the message as LocalStack records it (`Id`, `Source`, `Destination`, `Template`,
`TemplateData`, `Timestamp` to the second, and the `Headers` and `Tags` tools/localstack-sesv2
adds). The provider makes the listing a snapshot, so it answers while mail is being sent.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any, Final

# Listing a record of hundreds of thousands of messages takes seconds.
LIST_TIMEOUT_S: Final = 120


def sent_emails(localstack_url: str, *, source: str | None = None) -> list[dict[str, Any]]:
    """Every message LocalStack's SES sent, or those From `source` (LocalStack's `email`
    filter)."""
    url = f"{localstack_url}/_aws/ses"
    if source is not None:
        url += f"?{urllib.parse.urlencode({'email': source})}"
    with urllib.request.urlopen(url, timeout=LIST_TIMEOUT_S) as response:  # noqa: S310 - local
        messages: list[dict[str, Any]] = json.loads(response.read())["messages"]
    return messages
