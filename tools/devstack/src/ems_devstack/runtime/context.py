"""A stand-in for the Lambda context object, for handlers run by the local runtime."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalContext:
    """The attributes of Lambda's context that handlers and Powertools read."""

    function_name: str
    timeout_s: float = 900.0
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local"
    function_version: str = "$LATEST"
    log_group_name: str = "/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this invocation's timeout."""
        left = self.timeout_s - (time.monotonic() - self._started)
        return max(0, int(left * 1000))
