"""Calls a handler on a fixed interval with a scheduled event, as an EventBridge rule would."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ems_common.campaigns import utc_iso, utc_now
from ems_devstack.runtime.context import LocalContext

logger = logging.getLogger(__name__)


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": utc_iso(utc_now()),
        "region": "local",
        "resources": [rule_arn],
        "detail": {},
    }


def run_ticks(
    handler: Callable[[dict[str, Any], Any], object],
    *,
    every_s: float,
    function_name: str,
    rule_arn: str,
    stop: threading.Event,
) -> None:
    """Call `handler` every `every_s` seconds until `stop` is set; a failure does not stop it."""
    while not stop.is_set():
        try:
            handler(scheduled_event(rule_arn), LocalContext(function_name))
        except Exception:
            logger.exception("%s failed on a tick", function_name)
        stop.wait(every_s)
