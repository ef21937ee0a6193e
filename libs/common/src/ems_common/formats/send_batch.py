"""One message of the send queue: a batch of campaign-file lines for the sender.

Many emails ride in one SQS message (EMS pays SQS per request, not per email). Nothing keys on
the SQS message id (a message redriven from a DLQ gets a new one): the sender's once-per-email
record is keyed by (campaign, recipient).
"""

from collections.abc import Sequence
from typing import Final, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    # A message the sender put back on the queue (the unsent rest of a batch) holds some of
    # the launcher's batch: which ones (their positions in it), and how many the batch has.
    # The launcher's own messages leave both out: all of them, in order.
    offsets: list[int] | None = Field(
        default=None, description="Positions of `emails` in their launcher batch"
    )
    size: int | None = Field(default=None, ge=1, description="Emails in the launcher batch")
    holds: int = Field(
        default=0,
        ge=0,
        description=(
            "How many times in a row the sender held these emails (a paused campaign, SES's"
            " pause): each hold waits twice as long, up to SQS's 15 minutes"
        ),
    )

    @model_validator(mode="after")
    def _offsets_fit(self) -> Self:
        if self.offsets is None and self.size is None:
            return self
        if self.offsets is None or self.size is None or len(self.offsets) != len(self.emails):
            msg = "offsets and size go together, one offset per email"
            raise ValueError(msg)
        if len(set(self.offsets)) != len(self.offsets) or not all(
            0 <= offset < self.size for offset in self.offsets
        ):
            msg = f"offsets must be distinct positions below size {self.size}"
            raise ValueError(msg)
        return self

    @classmethod
    def from_body(cls, body: str | bytes) -> Self:
        """Parse a queue message body (pydantic.ValidationError if it is not a batch)."""
        return cls.model_validate_json(body)

    @property
    def batch_size(self) -> int:
        """Emails in the launcher batch this message is (part of)."""
        return self.size if self.size is not None else len(self.emails)

    def positions(self) -> list[int]:
        """Each email's position in its launcher batch."""
        return list(self.offsets) if self.offsets is not None else list(range(len(self.emails)))

    def subset(self, picked: Sequence[int], *, holds: int = 0) -> Self:
        """The message holding the emails at `picked` (indexes into `emails`) of this one."""
        positions = self.positions()
        return type(self)(
            campaign_id=self.campaign_id,
            part=self.part,
            first_line=self.first_line,
            emails=[self.emails[i] for i in picked],
            holds=holds,
            offsets=[positions[i] for i in picked],
            size=self.batch_size,
        )


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
