"""The sender's view of the shared limiter: wait for send slots, or say when to come back."""

from dataclasses import dataclass
from typing import Final

from ems_common.aws import AwsClients
from ems_sender.limiter import Lane, LimiterSettings, SendLimiter, build_send_limiter

# How long a sender waits in line for a slot before it puts the rest of its batch back on the
# queue: long enough to ride out a transactional burst, well inside the queue's visibility.
MAX_WAIT_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Sends:
    """How many emails the caller may send now, in one SES call (0: none; see retry_after_s)."""

    count: int
    retry_after_s: float = 0.0


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

    def expect(self, lane: Lane, count: int) -> None:
        """`count` more sends of `lane` are coming (negative: fewer): `SendLimiter.expect`."""
        self.limiter.expect(lane, count)

    def sends(self, lane: Lane, wanted: int) -> Sends:
        """Up to `wanted` sends for one SES call, returning when the call may go out; at most
        the limiter's burst size (`SendLimiter.burst_size`)."""
        clock = self.limiter.clock
        deadline = clock.now() + self._max_wait_s
        size = max(1, min(wanted, self.limiter.burst_size(lane)))
        while True:
            grant = self.limiter.acquire(lane, size, max_wait_s=max(0.0, deadline - clock.now()))
            if not grant:
                return Sends(0, max(1.0, grant.retry_after_s))
            if self.limiter.wait_for_burst(grant):
                return Sends(grant.count)
            if clock.now() >= deadline:  # late for every grant this time: come back soon
                return Sends(0, 1.0)


def build_gate(settings: LimiterSettings, table: str, clients: AwsClients) -> LimiterGate:
    """The gate on the shared limiter in `table` (Terraform's rate_limits_table)."""
    return LimiterGate(build_send_limiter(settings, table, clients=clients))
