"""One message of the send queue: a batch of campaign-file lines for the sender.

Many emails ride in one SQS message (EMS pays SQS per request, not per email). Nothing keys on
the SQS message id (a message redriven from a DLQ gets a new one): the sender's once-per-email
record is keyed by (campaign, recipient).
"""

from typing import Final, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field

from ems_common.formats.campaign_file import CampaignFileLine

SEND_BATCH_FORMAT: Final = "ems-send-batch/1"
# SQS's message size limit is 256 KiB; stay under it with room for attributes.
MAX_SEND_BATCH_BYTES: Final = 240_000


class SendBatch(BaseModel):
    """Emails of one campaign, in campaign-file order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = Field(default=SEND_BATCH_FORMAT, pattern=r"^ems-send-batch/1$")
    campaign_id: str
    part: int = Field(ge=1, description="Campaign-file part the emails come from")
    first_line: int = Field(ge=0, description="Index in that part of the first email")
    emails: list[CampaignFileLine] = Field(min_length=1)
    holds: int = Field(
        default=0,
        ge=0,
        description=(
            "How many times in a row the sender held these emails (a paused campaign, SES's"
            " pause): each hold waits twice as long, up to SQS's 15 minutes"
        ),
    )

    @classmethod
    def from_body(cls, body: str | bytes) -> Self:
        """Parse a queue message body (pydantic.ValidationError if it is not a batch)."""
        return cls.model_validate_json(body)


def send_batch_body(campaign_id: str, part: int, first_line: int, lines: list[bytes]) -> bytes:
    """The message body for `lines` (campaign-file lines, verbatim), without re-encoding them.

    Byte-for-byte what `SendBatch(...).model_dump_json()` would give for the parsed lines is
    not needed: only that `SendBatch.from_body` reads it back, which the tests check.
    """
    head = orjson.dumps(
        {
            "format": SEND_BATCH_FORMAT,
            "campaign_id": campaign_id,
            "part": part,
            "first_line": first_line,
        }
    )
    return head[:-1] + b',"emails":[' + b",".join(line.rstrip(b"\n") for line in lines) + b"]}"
