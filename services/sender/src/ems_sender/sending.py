"""Sending one queue message's emails: once each, within the limiter, errors by kind.

For each email of a batch: claim its record (skip it if it is done; come back later if another
worker holds it), skip it if suppressed, wait for the limiter, call SES, record the outcome.

- Throttled by SES, or out of daily quota: the unsent rest goes back on the queue as a new
  message, delayed (a fresh receive count: throttling never ends in the DLQ).
- Refused for good (MessageRejected, InvalidParameterValue, TemplateDoesNotExist, ...): the
  email is recorded FAILED with SES's reason and the batch goes on.
- Failed this time (5xx, timeout): if this attempt sent something, the unsent rest goes back
  on the queue as a new message after a backoff (progress earns a fresh receive count);
  if it sent nothing, the message is left to SQS, retried after its visibility timeout
  (done emails are skipped then) and moved to the DLQ after maxReceiveCount: an SES outage
  or an email SES keeps failing ends there, an occasional 5xx never does.
- A message that is not a send batch: onto the DLQ at once, with the reason.
- A cancelled (or deleted) campaign: its emails are dropped, counted. Transactional
  batches (campaign id ``transactional``) have no campaign: each email's record is keyed by
  its own id (the ``emailId`` tag, ``CampaignFileLine.record_scope``).
"""

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol

from pydantic import ValidationError

from ems_common.campaigns import CampaignStatus
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.emails import EmailKey
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.suppressions import SuppressionList
from ems_common.emails import EmailState
from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.suppressions import most_telling
from ems_common.transactional import is_transactional_scope
from ems_sender.dal.queues import Requeue
from ems_sender.dal.records import ClaimOutcome, EmailRecords
from ems_sender.dal.ses import PermanentSendError, SesSender, ThrottledError, TransientSendError
from ems_sender.limiter.model import Lane

logger = logging.getLogger(__name__)

_CAMPAIGN_CACHE_SECONDS = 5.0
_THROTTLE_BACKOFF_SECONDS = 2.0
_TRANSIENT_BACKOFF_SECONDS = 5.0


ONE_CLICK_HEADER: Final = "List-Unsubscribe-Post"
"""RFC 8058's header: an email carrying it is list mail, whatever lane it takes."""


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


class SendGate(Protocol):
    """The limiter, as the sender sees it."""

    def wait_for_send(self, lane: Lane) -> float | None:
        """Block until one send is allowed (None), or say in how many seconds to try again."""
        ...


class Outcome(StrEnum):
    """What to tell SQS about a message."""

    DONE = "done"  # delete it (its emails are sent, recorded, requeued or dead-lettered)
    RETRY = "retry"  # leave it: SQS delivers it again, and after maxReceiveCount to the DLQ


@dataclass
class SendCounts:
    """What happened to the emails the sender saw."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, what: str, n: int = 1) -> None:
        """Count `n` of `what`."""
        self.counts[what] += n


@dataclass
class Sender:
    """Sends the emails of send-queue messages."""

    records: EmailRecords
    ses: SesSender
    requeue: Requeue
    suppressions: SuppressionList
    campaigns: CampaignRepository
    gate: SendGate
    queue_url: str
    dlq_url: str
    lane: Lane
    requeue_busy_after_s: float = 60.0
    metrics: CampaignMetrics | None = None  # to complete a campaign whose last email failed
    owner: str = field(default_factory=lambda: f"sender-{uuid.uuid4().hex[:12]}")
    stats: SendCounts = field(default_factory=SendCounts)
    clock: Callable[[], float] = time.monotonic
    _campaign_cache: dict[str, tuple[float, CampaignStatus | None]] = field(default_factory=dict)
    _finished: bool = field(default=False, init=False)

    def summary(self) -> dict[str, int]:
        """What this sender did so far, by outcome, and how often SES throttled it: counts only,
        never an address."""
        return {**self.stats.counts, "ses_throttled": self.ses.counters.throttled}

    def process(self, body: str) -> Outcome:
        """Handle one message body."""
        try:
            batch = SendBatch.from_body(body)
        except ValidationError as error:
            first = error.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "$"
            reason = f"not a send batch: {where}: {first['msg']} ({error.error_count()} problems)"
            self.requeue.dead_letter(self.dlq_url, body, reason)
            self.stats.add("dead_lettered")
            logger.warning("message dead-lettered: %s", reason)
            return Outcome.DONE
        if is_transactional_scope(batch.campaign_id):
            return self._send_batch(batch)  # no campaign to be cancelled
        status = self._campaign_status(batch.campaign_id)
        if status is None or status is CampaignStatus.CANCELLED:
            self.stats.add("dropped", len(batch.emails))
            return Outcome.DONE
        return self._send_batch(batch)

    def _campaign_status(self, campaign_id: str) -> CampaignStatus | None:
        cached = self._campaign_cache.get(campaign_id)
        if cached is not None and self.clock() - cached[0] < _CAMPAIGN_CACHE_SECONDS:
            return cached[1]
        campaign = self.campaigns.get(campaign_id)
        status = campaign.status if campaign else None
        self._campaign_cache[campaign_id] = (self.clock(), status)
        return status

    def _send_batch(self, batch: SendBatch) -> Outcome:
        self._finished = False
        outcome = self._send_emails(batch)
        # Its last emails may be failed or suppressed ones: no SES event will complete it then.
        if self._finished and self.metrics is not None:
            complete_if_finished(self.campaigns, self.metrics, batch.campaign_id)
        return outcome

    def _send_emails(self, batch: SendBatch) -> Outcome:
        # Checked at send time, so that an unsubscribe made while a campaign sends stops the
        # address's remaining emails of that list (the compiler checked at verification).
        lists = {id(email): list_of(batch, email) for email in batch.emails}
        blocked = self.suppressions.blocking(
            (email.to_address, lists[id(email)]) for email in batch.emails
        )
        busy: list[CampaignFileLine] = []
        progressed = False
        for index, email in enumerate(batch.emails):
            key = EmailKey(email.record_scope, email.to_address)
            segment = email.segment_id
            if not self._claim(key, email, busy):
                continue
            found = most_telling(blocked.get((email.to_address, lists[id(email)]), []))
            if found is not None:
                reason = f"{found.reason} ({found.scope})"
                self._record_final(key, EmailState.SUPPRESSED, segment=segment, reason=reason)
                self.stats.add("suppressed")
                continue
            retry_after = self.gate.wait_for_send(self.lane)
            if retry_after is not None:
                self.records.release(key, owner=self.owner)
                self._later(batch, batch.emails[index:] + busy, retry_after, "paused")
                return Outcome.DONE
            try:
                message_id = self.ses.send(email)
            except ThrottledError:
                self.records.release(key, owner=self.owner)
                self.stats.add("throttled")
                self._later(
                    batch, batch.emails[index:] + busy, _THROTTLE_BACKOFF_SECONDS, "throttled"
                )
                return Outcome.DONE
            except PermanentSendError as error:
                self._record_final(key, EmailState.FAILED, segment=segment, reason=str(error))
                self.stats.add("failed")
                continue
            except TransientSendError:
                self.records.release(key, owner=self.owner)
                self.stats.add("transient_errors")
                if progressed:
                    logger.warning("SES failed transiently; the rest is requeued", exc_info=True)
                    self._later(
                        batch, batch.emails[index:] + busy, _TRANSIENT_BACKOFF_SECONDS, "5xx"
                    )
                    return Outcome.DONE
                logger.warning("SES failed transiently; the message will be retried", exc_info=True)
                return Outcome.RETRY
            self.records.complete(key, EmailState.SENT, segment=segment, ses_message_id=message_id)
            self.stats.add("sent")
            progressed = True
        if busy:
            self._later(batch, busy, self.requeue_busy_after_s, "held by another worker")
        return Outcome.DONE

    def _claim(self, key: EmailKey, email: CampaignFileLine, busy: list[CampaignFileLine]) -> bool:
        """Claim the email; False if it is done already or held by another worker (`busy`)."""
        claim = self.records.claim(key, owner=self.owner, segment=email.segment_id)
        if claim is ClaimOutcome.DONE:
            self.stats.add("already_done")
            return False
        if claim is ClaimOutcome.BUSY:
            busy.append(email)
            return False
        if claim is ClaimOutcome.ACCEPTED_BEFORE:
            # Its first sender died after SES accepted it, before recording it; the tracker has
            # its events since. Record it sent (its message id is on those events) and move on.
            self.records.complete(key, EmailState.SENT, segment=email.segment_id)
            self.stats.add("recovered")
            return False
        if claim is ClaimOutcome.RECLAIMED:
            self.stats.add("reclaimed")  # its first sender died mid-send: maybe a duplicate
        return True

    def _record_final(
        self, key: EmailKey, state: EmailState, *, segment: str, reason: str | None = None
    ) -> None:
        """Record an outcome no SES event will report (failed, suppressed), counted once."""
        if self.records.complete(key, state, segment=segment, reason=reason):
            self._finished = True

    def _later(
        self, batch: SendBatch, emails: list[CampaignFileLine], delay_s: float, why: str
    ) -> None:
        if not emails:
            return
        rest = SendBatch(
            campaign_id=batch.campaign_id,
            part=batch.part,
            first_line=batch.first_line,
            emails=emails,
        )
        self.requeue.later(self.queue_url, rest.model_dump_json(by_alias=True), delay_s)
        self.stats.add("requeued", len(emails))
        logger.info("%d emails of %s requeued (%s)", len(emails), batch.campaign_id, why)
