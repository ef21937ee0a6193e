"""Putting a message a service cannot read on its DLQ at once, with the reason, for an operator.

`GET /dlq/{queue}` and `ems dlq show` read the reason back from the same message attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

REASON_ATTRIBUTE: Final = "reason"
_MAX_REASON_CHARS: Final = 1000


def dead_letter(sqs: SQSClient, dlq_url: str, body: str, reason: str) -> None:
    """Send `body` to the DLQ with `reason` as a message attribute (no retry could fix it)."""
    sqs.send_message(
        QueueUrl=dlq_url,
        MessageBody=body,
        MessageAttributes={
            REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:_MAX_REASON_CHARS]}
        },
    )
