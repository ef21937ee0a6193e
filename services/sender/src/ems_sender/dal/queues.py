"""Putting emails back on their queue for later, and bad messages on the DLQ with a reason."""

from typing import TYPE_CHECKING, Final

from ems_common.dal.dead_letters import dead_letter

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS: Final = 900  # SQS's limit


class Requeue:
    """Re-enqueues the unsent rest of a batch (a fresh message: throttling never ends in a DLQ)."""

    def __init__(self, client: "SQSClient") -> None:
        self._sqs = client

    def later(self, queue_url: str, body: str, delay_s: float) -> None:
        """Enqueue `body` again after `delay_s` (at most 15 minutes)."""
        self._sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_s))),
        )

    def dead_letter(self, dlq_url: str, body: str, reason: str) -> None:
        """Put a message the sender cannot read on the DLQ, with why, for an operator."""
        dead_letter(self._sqs, dlq_url, body, reason)
