"""A send queue (campaign or transactional): SendMessageBatch, failed entries retried until none
is left. The launcher fills the send queue with it, the API the transactional lane.
"""

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)
_MAX_ROUNDS: Final = 8


class SendQueueError(RuntimeError):
    """Entries still failed after every retry; the launch stops and resumes on a later tick."""


class SendQueue:
    """Puts message bodies on the send queue, 10 to a call."""

    def __init__(self, client: "SQSClient", queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url
        self.requests = 0  # SendMessageBatch calls made, for the figures in `make bench`

    def send(self, bodies: Sequence[bytes]) -> None:
        """Enqueue every body; a partially failed call is retried for its failed entries."""
        pending = {str(i): body for i, body in enumerate(bodies)}
        for attempt in range(_MAX_ROUNDS):
            self.requests += 1
            response = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": key, "MessageBody": body.decode()} for key, body in pending.items()
                ],
            )
            failed = response.get("Failed", [])
            if not failed:
                return
            sender_faults = [f for f in failed if f.get("SenderFault")]
            if sender_faults:
                codes = sorted({f["Code"] for f in sender_faults})
                msg = f"SQS refused {len(sender_faults)} messages as malformed: {codes}"
                raise SendQueueError(msg)
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            logger.warning("%d entries failed; retrying (round %d)", len(pending), attempt + 1)
            time.sleep(min(2.0, 0.1 * 2**attempt))
        msg = f"{len(pending)} messages could not be enqueued after {_MAX_ROUNDS} rounds"
        raise SendQueueError(msg)
