"""The digest of a request, which tells a replay of it from a different request under one id.

A campaign keeps it to answer the same `campaign_id` and body with the same campaign; an
Idempotency-Key keeps it to answer a retried transactional send with its first answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def request_digest(document: dict[str, Any]) -> str:
    """A digest of the request that ignores key order and spacing: same body, same digest."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
