"""Sending one queue message's emails: once each, within the limiter, errors by kind.

For each email of a batch: look at its campaign (cancelled: drop the rest; paused: hold the
rest), claim its record (skip it if it is done; come back later if another worker holds it),
skip it if suppressed, wait for the limiter, call SES, record the outcome.

- Held (the campaign is PAUSED, SES has the account under review, SES paused sending): the
  unsent rest goes back on the queue as a new message, delayed, each hold in a row twice as
  long as the last (up to 15 minutes). A fresh receive count each time: held email never ends
  in the DLQ, and never fails. Near the invocation's end the rest goes back at once.
- Throttled by SES, or out of daily quota: the same, after a short delay.
- SES refuses the sender itself (its identity, MAIL FROM domain, EMS's permission): every
  email of it would fail alike, so the campaign is PAUSED with SES's reason and its email held
  (a transactional email is held, and the error logged), instead of failing every recipient.
- SES cannot find the campaign's template or configuration set (NotFoundException): the same,
  the campaign is PAUSED with the reason (a transactional email fails: its template is its own).
- Refused for good (MessageRejected, BadRequestException): the email is recorded FAILED with
  SES's reason and the batch goes on.
- The answer was lost after the request left (a read timeout): SES may have sent it. It is
  recorded AMBIGUOUS and counted, never sent again; its SES events, or the reconciler, settle it.
- Failed this time (5xx, connection refused): if this attempt sent something, the unsent rest
  goes back on the queue as a new message after a backoff (progress earns a fresh receive
  count); if it sent nothing, the message is left to SQS, retried after its visibility timeout
  (done emails are skipped then) and moved to the DLQ after maxReceiveCount: an SES outage
  or an email SES keeps failing ends there, an occasional 5xx never does.
- A message that is not a send batch: onto the DLQ at once, with the reason.
- A cancelled (or deleted) campaign: its emails are dropped, counted. Transactional
  batches (campaign id ``transactional``) have no campaign: each email's record is keyed by
  its own id (the ``emailId`` tag, ``CampaignFileLine.record_scope``).
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.emails import EmailKey
from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.dal.suppressions import SuppressionList
from ems_common.emails import EmailState
from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.suppressions import most_telling
from ems_common.transactional import is_transactional_scope
from ems_sender.dal.account import AccountStanding
from ems_sender.dal.queues import Requeue
from ems_sender.dal.records import ClaimOutcome, EmailRecords
from ems_sender.dal.ses import (
    AmbiguousSendError,
    MissingSetupError,
    PermanentSendError,
    SenderRefusedError,
    SendingPausedError,
    SesSender,
    ThrottledError,
    TransientSendError,
)
from ems_sender.limiter.model import Lane
from ems_sender.messages import Outcome, SendCounts, hold_backoff, list_of, read_batch
from ems_sender.watch import CampaignWatch, Hold, Timing, missing_reason, refused_reason

logger = logging.getLogger(__name__)

_THROTTLE_BACKOFF_SECONDS = 2.0
_TRANSIENT_BACKOFF_SECONDS = 5.0


class SendGate(Protocol):
    """The limiter, as the sender sees it."""

    def wait_for_send(self, lane: Lane) -> float | None:
        """Block until one send is allowed (None), or say in how many seconds to try again."""
        ...


class _Step(StrEnum):
    """What one email's send means for the rest of its batch."""

    SENT = "sent"  # go on (and SES took something)
    NEXT = "next"  # go on
    REQUEUED = "requeued"  # the rest is back on the queue: delete this message
    RETRY = "retry"  # leave the message to SQS


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
    threads: int = 1  # messages handled at once (the handler's threads)
    metrics: CampaignMetrics | None = None  # to complete a campaign whose last email failed
    account: AccountStanding | None = None  # SES's standing: campaign email waits while bad
    timing: Timing = field(default_factory=Timing)
    owner: str = field(default_factory=lambda: f"sender-{uuid.uuid4().hex[:12]}")
    stats: SendCounts = field(default_factory=SendCounts)
    clock: Callable[[], float] = time.monotonic
    # Whether the message under way finished an email itself: per thread (threads share us).
    _call: threading.local = field(default_factory=threading.local, init=False)
    watch: CampaignWatch = field(init=False)

    def __post_init__(self) -> None:
        self.watch = CampaignWatch(
            # Read through, so that a clock set later (a test's) is the one used.
            self.campaigns,
            self.account,
            self.timing,
            clock=lambda: self.clock(),  # noqa: PLW0108
        )

    @property
    def paused(self) -> list[str]:
        """Campaigns this sender paused because SES refused them (the handler reports them)."""
        return self.watch.paused

    def summary(self) -> dict[str, int]:
        """What this sender did so far, by outcome, and how often SES throttled it: counts only,
        never an address."""
        return {**self.stats.snapshot(), "ses_throttled": self.ses.counters.throttled}

    def process(self, body: str, time_left: Callable[[], float] = lambda: float("inf")) -> Outcome:
        """Handle one message body; `time_left` is the invocation's seconds to go."""
        batch = read_batch(body, requeue=self.requeue, dlq_url=self.dlq_url, stats=self.stats)
        if batch is None:
            return Outcome.DONE
        self._call.finished = False
        outcome = self._send_emails(batch, time_left)
        # Its last emails may be failed or suppressed ones: no SES event will complete it then.
        if self._call.finished and self.metrics is not None:
            complete_if_finished(self.campaigns, self.metrics, batch.campaign_id)
        return outcome

    def _send_emails(self, batch: SendBatch, time_left: Callable[[], float]) -> Outcome:
        # Checked at send time, so that an unsubscribe made while a campaign sends stops the
        # address's remaining emails of that list (the compiler checked at verification).
        lists = {id(email): list_of(batch, email) for email in batch.emails}
        blocked = self.suppressions.blocking(
            (email.to_address, lists[id(email)]) for email in batch.emails
        )
        busy: list[CampaignFileLine] = []
        progressed = False
        for index, email in enumerate(batch.emails):
            rest = batch.emails[index:] + busy
            hold = self.watch.gate(batch.campaign_id)
            if hold is False:
                self.stats.add("dropped", len(batch.emails) - index)
                return Outcome.DONE  # with the emails another worker held: gone as well
            if isinstance(hold, Hold):
                self.stats.add("held", len(rest))
                self._hold(batch, rest, hold.delay_s, hold.why, progressed=progressed)
                return Outcome.DONE
            if time_left() <= self.timing.stop_margin_s:
                self._later(batch, rest, 0, "the invocation is near its end")
                return Outcome.DONE
            key = EmailKey(email.record_scope, email.to_address)
            if not self._claim(key, email, busy):
                continue
            found = most_telling(blocked.get((email.to_address, lists[id(email)]), []))
            if found is not None:
                reason = f"{found.reason} ({found.scope})"
                self._record_final(
                    key, EmailState.SUPPRESSED, segment=email.segment_id, reason=reason
                )
                self.stats.add("suppressed")
                continue
            step = self._send_one(batch, email, key, rest, progressed=progressed)
            if step is _Step.SENT:
                progressed = True
            elif step is not _Step.NEXT:
                return Outcome.RETRY if step is _Step.RETRY else Outcome.DONE
        if busy:
            self._later(batch, busy, self.requeue_busy_after_s, "held by another worker")
        return Outcome.DONE

    def _send_one(  # noqa: PLR0911 - one return per kind of SES answer
        self,
        batch: SendBatch,
        email: CampaignFileLine,
        key: EmailKey,
        rest: list[CampaignFileLine],
        *,
        progressed: bool,
    ) -> _Step:
        """Wait for the limiter and call SES for one claimed email; what the batch does next."""
        segment = email.segment_id
        retry_after = self.gate.wait_for_send(self.lane)
        if retry_after is not None:
            self.records.release(key, owner=self.owner)
            self.watch.note_held(batch.campaign_id, "the SES account's sending quota is spent")
            self._later(batch, rest, retry_after, "quota spent")
            return _Step.REQUEUED
        try:
            message_id = self.ses.send(email)
        except ThrottledError:
            self.records.release(key, owner=self.owner)
            self.stats.add("throttled")
            self._later(batch, rest, _THROTTLE_BACKOFF_SECONDS, "throttled")
            return _Step.REQUEUED
        except SendingPausedError as error:
            self.records.release(key, owner=self.owner)
            self.stats.add("held_ses_paused", len(rest))
            logger.warning("SES paused sending (%s): holding the rest", error)
            self.watch.note_held(batch.campaign_id, f"SES paused sending: {error}")
            self._hold(
                batch,
                rest,
                self.timing.ses_paused_retry_s,
                "SES paused sending",
                progressed=progressed,
            )
            return _Step.REQUEUED
        except SenderRefusedError as error:
            self.records.release(key, owner=self.owner)
            self.stats.add("held_sender_refused", len(rest))
            self._sender_refused(batch, rest, str(error), progressed=progressed)
            return _Step.REQUEUED
        except MissingSetupError as error:
            if is_transactional_scope(batch.campaign_id):  # its own template: this email fails
                self._record_final(key, EmailState.FAILED, segment=segment, reason=str(error))
                self.stats.add("failed")
                return _Step.NEXT
            self.records.release(key, owner=self.owner)
            self.stats.add("held_missing_setup", len(rest))
            self._pause_for_ses(
                batch,
                rest,
                progressed=progressed,
                reason=missing_reason(str(error)),
            )
            return _Step.REQUEUED
        except PermanentSendError as error:
            self._record_final(key, EmailState.FAILED, segment=segment, reason=str(error))
            self.stats.add("failed")
            return _Step.NEXT
        except AmbiguousSendError as error:
            # Maybe sent: never again. Its SES events, or the reconciler, settle it.
            reason = f"SES's answer was lost: {error}"
            self.records.complete(key, EmailState.AMBIGUOUS, segment=segment, reason=reason)
            self.stats.add("ambiguous")
            return _Step.SENT
        except TransientSendError:
            self.records.release(key, owner=self.owner)
            self.stats.add("transient_errors")
            if progressed:
                logger.warning("SES failed transiently; the rest is requeued", exc_info=True)
                self._later(batch, rest, _TRANSIENT_BACKOFF_SECONDS, "5xx")
                return _Step.REQUEUED
            logger.warning("SES failed transiently; the message will be retried", exc_info=True)
            return _Step.RETRY
        self.records.complete(key, EmailState.SENT, segment=segment, ses_message_id=message_id)
        self.stats.add("sent")
        return _Step.SENT

    def _sender_refused(
        self, batch: SendBatch, rest: list[CampaignFileLine], error: str, *, progressed: bool
    ) -> None:
        """SES refuses the sender: pause the campaign with SES's reason, hold its email."""
        if is_transactional_scope(batch.campaign_id):
            logger.error("SES refuses a transactional sender (%s): holding its email", error)
            self._hold(
                batch,
                rest,
                self.timing.refused_hold_s,
                "SES refuses the sender",
                progressed=progressed,
            )
            return
        self._pause_for_ses(
            batch,
            rest,
            progressed=progressed,
            reason=refused_reason(error),
        )

    def _pause_for_ses(
        self, batch: SendBatch, rest: list[CampaignFileLine], *, reason: str, progressed: bool
    ) -> None:
        """Every email of the campaign would get SES's answer: pause it with the reason (and an
        alarm, through `paused`), and hold its email instead of failing every recipient."""
        self.watch.pause_for_ses(batch.campaign_id, reason)
        self._hold(
            batch, rest, self.timing.paused_hold_s, "the campaign is paused", progressed=progressed
        )

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
            self._call.finished = True

    def _hold(
        self,
        batch: SendBatch,
        emails: list[CampaignFileLine],
        base_s: float,
        why: str,
        *,
        progressed: bool,
    ) -> None:
        """Put held emails back, each hold in a row waiting longer (`hold_backoff`)."""
        delay, holds = hold_backoff(batch, base_s, progressed=progressed)
        self._later(batch, emails, delay, why, holds=holds)

    def _later(
        self,
        batch: SendBatch,
        emails: list[CampaignFileLine],
        delay_s: float,
        why: str,
        *,
        holds: int = 0,
    ) -> None:
        if not emails:
            return
        rest = SendBatch(
            campaign_id=batch.campaign_id,
            part=batch.part,
            first_line=batch.first_line,
            emails=emails,
            holds=holds,
        )
        self.requeue.later(self.queue_url, rest.model_dump_json(by_alias=True), delay_s)
        self.stats.add("requeued", len(emails))
        logger.info("%d emails of %s requeued (%s)", len(emails), batch.campaign_id, why)
