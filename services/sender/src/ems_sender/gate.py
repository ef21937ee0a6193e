"""The sender's view of the shared limiter: wait for a send slot, or say when to come back."""

from typing import Final

from ems_common.aws import AwsClients
from ems_sender.limiter import Lane, LimiterSettings, SendLimiter, build_send_limiter

# How long a sender waits in line for a slot before it puts the rest of its batch back on the
# queue: long enough to ride out a transactional burst, well inside the queue's visibility.
MAX_WAIT_SECONDS: Final = 10.0


class LimiterGate:
    """`SendGate` over a `SendLimiter`."""

    def __init__(self, limiter: SendLimiter, *, max_wait_s: float = MAX_WAIT_SECONDS) -> None:
        self.limiter = limiter
        self._max_wait_s = max_wait_s

    def wait_for_send(self, lane: Lane) -> float | None:
        """None when the caller may call SES now; else seconds until it may ask again."""
        grant = self.limiter.take(lane, max_wait_s=self._max_wait_s)
        if grant:
            return None
        return max(1.0, grant.retry_after_s)


def build_gate(settings: LimiterSettings, table: str, clients: AwsClients) -> LimiterGate:
    """The gate on the shared limiter in `table` (Terraform's rate_limits_table)."""
    return LimiterGate(build_send_limiter(settings, table, clients=clients))
