"""What both lanes' senders share about a send-queue message: reading it (or dead-lettering it
with the reason), what to tell SQS about it, the list its emails belong to, how long held email
waits, and the counts."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from pydantic import ValidationError

from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.transactional import is_transactional_scope
from ems_sender.dal.queues import MAX_DELAY_SECONDS, Requeue

logger = logging.getLogger(__name__)

ONE_CLICK_HEADER: Final = "List-Unsubscribe-Post"
"""RFC 8058's header: an email carrying it is list mail, whatever lane it takes."""


def hold_backoff(batch: SendBatch, base_s: float, *, progressed: bool) -> tuple[float, int]:
    """How long a held rest of `batch` waits, and its holds in a row: twice as long each hold
    (up to SQS's 15 minutes), so that a campaign paused for a weekend costs a few requeues an
    hour, not thousands; a batch that sent something since its last hold starts from `base_s`."""
    before = 0 if progressed else batch.holds
    return min(base_s * 2**before, MAX_DELAY_SECONDS), before + 1


class Outcome(StrEnum):
    """What to tell SQS about a message."""

    DONE = "done"  # delete it (its emails are sent, recorded, requeued or dead-lettered)
    RETRY = "retry"  # leave it: SQS delivers it again, and after maxReceiveCount to the DLQ


@dataclass
class SendCounts:
    """What happened to the emails the sender saw (its threads count together)."""

    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, n: int = 1) -> None:
        """Count `n` of `what`."""
        with self._lock:
            self.counts[what] += n

    def snapshot(self) -> dict[str, int]:
        """The counts so far."""
        with self._lock:
            return dict(self.counts)


def list_of(batch: SendBatch, email: CampaignFileLine) -> str | None:
    """The list an email belongs to, for the suppressions that block it; None for transactional
    email, which only a suppression of every email (`all`) blocks.

    A campaign email's list is its segment's list_name (the segmentId tag). A transactional email
    of a marketing template carries a one-click unsubscribe header, and is list mail too: its list
    is its template (also its segmentId).
    """
    if not is_transactional_scope(batch.campaign_id):
        return email.segment_id
    if any(name == ONE_CLICK_HEADER for name, _ in email.headers):
        return email.segment_id
    return None


def read_batch(body: str, *, requeue: Requeue, dlq_url: str, stats: SendCounts) -> SendBatch | None:
    """The message's send batch; None if it is none (it is then on the DLQ, with the reason)."""
    try:
        return SendBatch.from_body(body)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "$"
        reason = f"not a send batch: {where}: {first['msg']} ({error.error_count()} problems)"
        dead_letter(body, reason, requeue=requeue, dlq_url=dlq_url, stats=stats)
        return None


def dead_letter(
    body: str, reason: str, *, requeue: Requeue, dlq_url: str, stats: SendCounts
) -> None:
    """Put a message the sender will not send on the DLQ with `reason`, counted and logged."""
    requeue.dead_letter(dlq_url, body, reason)
    stats.add("dead_lettered")
    logger.warning("message dead-lettered: %s", reason)
