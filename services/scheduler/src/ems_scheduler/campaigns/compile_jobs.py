"""Large candidates are verified in the background: one SQS message per campaign."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class CompileJobs:
    """Queues a stored VERIFYING campaign for the compile worker."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url

    def max_receive_count(self) -> int | None:
        """After how many receives SQS moves a job to the DLQ (Terraform's redrive policy)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        policy = attributes.get("RedrivePolicy")
        return int(json.loads(policy)["maxReceiveCount"]) if policy else None

    def submit(self, campaign_id: str) -> None:
        """Ask the worker to verify and compile `campaign_id`."""
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=json.dumps({"campaign_id": campaign_id})
        )
