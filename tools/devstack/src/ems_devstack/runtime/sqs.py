"""An SQS poller that calls a handler like an event source mapping with partial batches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ems_devstack.runtime.context import LocalContext

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Mapping[str, Any] | None]


def lambda_sqs_event(messages: list[MessageTypeDef], queue_arn: str, region: str) -> dict[str, Any]:
    """SQS messages in the shape Lambda's event source mapping delivers them."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "dataType": value.get("DataType"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_ids(response: Mapping[str, Any] | None) -> set[str]:
    """The message ids a handler reported as failed (ReportBatchItemFailures)."""
    if not response:
        return set()
    return {str(item["itemIdentifier"]) for item in response.get("batchItemFailures", [])}


class SqsPoller:
    """Long-polls one queue and feeds batches to a handler until stopped."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        handler: Handler,
        *,
        function_name: str,
        batch_size: int = 10,
        wait_s: int = 5,
        timeout_s: float = 60.0,
        visibility_timeout_s: int | None = None,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._function_name = function_name
        self._batch_size = batch_size
        self._wait_s = wait_s
        self._timeout_s = timeout_s
        self._visibility_timeout_s = visibility_timeout_s
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self._queue_arn = attributes["Attributes"]["QueueArn"]
        self._region = sqs.meta.region_name

    def poll_once(self) -> tuple[int, int]:
        """Receive one batch, run the handler, delete what succeeded. Returns (done, failed)."""
        request: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MaxNumberOfMessages": self._batch_size,
            "WaitTimeSeconds": self._wait_s,
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self._visibility_timeout_s is not None:
            request["VisibilityTimeout"] = self._visibility_timeout_s
        messages = self._sqs.receive_message(**request).get("Messages", [])
        if not messages:
            return 0, 0
        event = lambda_sqs_event(messages, self._queue_arn, self._region)
        context = LocalContext(self._function_name, timeout_s=self._timeout_s)
        try:
            response = self._handler(event, context)
        except Exception:
            # Like Lambda: a failed invocation leaves the whole batch for redelivery.
            logger.exception("%s failed on a batch of %d", self._function_name, len(messages))
            return 0, len(messages)
        failed = failed_ids(response)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        return len(done), len(failed)

    def run(self, stop: threading.Event, *, concurrency: int = 1) -> None:
        """Poll until `stop` is set, with `concurrency` invocations at once.

        Like an event source mapping's concurrency: each invocation long-polls for its own
        batch, so a message waits for a free invocation, never behind another's batch.
        """
        if concurrency < 1:
            msg = f"concurrency must be at least 1, got {concurrency}"
            raise ValueError(msg)
        others = [
            threading.Thread(target=self._poll, args=(stop,), name=f"invocation-{n}", daemon=True)
            for n in range(2, concurrency + 1)
        ]
        for thread in others:
            thread.start()
        self._poll(stop)
        for thread in others:
            thread.join()

    def _poll(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("%s: polling %s failed", self._function_name, self._queue_url)
                stop.wait(1.0)
