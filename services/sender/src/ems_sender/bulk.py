"""Sending campaign email: a launcher batch at a time, in SES v2 SendBulkEmail calls.

For each send-queue message (a launcher batch of up to 50 emails, or the unsent rest of one):

1. Its campaign: cancelled or gone, the emails are dropped; paused, or SES has the account under
   review, they are held (`CampaignWatch`).
2. The batch's record (`BatchRecords`): claimed for this message, so that one worker sends it;
   emails already done are skipped. A batch whose last holder died mid-way: its pending emails
   that SES's events show sent are recorded so (`recovered`), the others are sent. A message
   whose batch size is not its record's is not the launcher's packing (its record's states
   would not say which of its emails are done): it goes to the DLQ with the reason, unsent.
3. Suppressed addresses are skipped, counted (checked at send time: an unsubscribe made while a
   campaign sends stops the rest of it).
4. The rest goes out in calls of one segment's emails each, as many as the limiter grants at
   once (`LimiterGate.sends`, up to its burst size), each call when its slots come due. An
   email SES refuses for good is FAILED with SES's reason, one whose answer was lost
   AMBIGUOUS: written with the batch's states at once, counted once, never sent again. The
   sent ones are written with the batch's last write (its end, or its rest going back), which
   gives the claim back: two writes a batch.
5. What stops the rest, as the per-email sender does (`ems_sender.sending`): SES's throttling
   (the rest comes back in 2 s), SES's pause (held, less and less often), SES refusing the
   campaign's sender or missing its template (the campaign is paused with SES's answer, the
   rest held), a transient error (back in 5 s, or SQS's retry if nothing was sent), the
   invocation's end (back at once), another worker holding the batch (back later). The rest
   goes back on the queue as a new message of the same batch (`SendBatch.subset`) and the
   claim is given back with the batch's states, in one write.

Threads of one process run several messages at once: nothing here is per message but locals.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from ems_common.dal.metrics import CampaignMetrics, complete_if_finished
from ems_common.formats.campaign_file import MAX_BULK_ENTRIES, CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.suppressions import most_telling
from ems_sender.dal.batches import (
    BatchClaim,
    BatchKey,
    BatchRecords,
    ClaimOutcome,
    FinalOutcome,
    LineState,
    LostClaimError,
)
from ems_sender.dal.queues import Requeue
from ems_sender.dal.ses import (
    AmbiguousSendError,
    EntryResult,
    MissingSetupError,
    PermanentSendError,
    SenderRefusedError,
    SendingPausedError,
    SendKind,
    SesSender,
    ThrottledError,
    TransientSendError,
)
from ems_sender.gate import Sends
from ems_sender.limiter.model import Lane
from ems_sender.messages import (
    Outcome,
    SendCounts,
    dead_letter,
    hold_backoff,
    list_of,
    read_batch,
)
from ems_sender.recent_suppressions import RecentSuppressions
from ems_sender.watch import CampaignWatch, Hold, missing_reason, refused_reason

logger = logging.getLogger(__name__)

THROTTLE_BACKOFF_SECONDS: Final = 2.0
TRANSIENT_BACKOFF_SECONDS: Final = 5.0
BATCH_TAG: Final = "emsBatch"
"""Every email's SES events carry its launcher batch ("part-first line": SES tag values
allow no dots), so an email is traceable to its batch."""


class BurstGate(Protocol):
    """The limiter, as the campaign sender sees it."""

    def sends(self, lane: Lane, wanted: int) -> Sends:
        """Up to `wanted` sends for one call, returning when it may go out."""
        ...

    def expect(self, lane: Lane, count: int) -> None:
        """`count` more sends are coming (negative: that many fewer than said); each one
        granted counts as one of them."""
        ...


@dataclass(frozen=True)
class _Stop:
    """Why the rest of a message goes back on the queue, when, and whether it counts as a hold
    (holds in a row wait longer each time; see `SendBatch.holds`)."""

    why: str
    delay_s: float
    hold: bool = False
    retry: bool = False  # nothing was sent: leave the message to SQS instead
    drop: bool = False  # the campaign is cancelled: the rest goes nowhere


@dataclass
class _Work:
    """One message under way (a thread's own)."""

    batch: SendBatch
    key: BatchKey
    owner: str
    lines: list[str]
    todo: list[int]  # indexes into batch.emails, in order, still to send
    claimed_at: float = 0.0  # the sender's clock when it claimed the batch
    sent_any: bool = False
    finished: bool = False
    granted: int = 0  # sends the limiter granted its calls

    def line(self, index: int) -> CampaignFileLine:
        return self.batch.emails[index]

    def position(self, index: int) -> int:
        return self.batch.positions()[index]

    def mark(self, index: int, state: LineState) -> None:
        self.lines[self.position(index)] = state.value

    @property
    def states(self) -> str:
        return "".join(self.lines)


@dataclass
class BatchSender:
    """Sends the campaign emails of send-queue messages (the campaign lane)."""

    batches: BatchRecords
    ses: SesSender
    requeue: Requeue
    suppressions: RecentSuppressions
    watch: CampaignWatch
    gate: BurstGate
    metrics: CampaignMetrics
    queue_url: str
    dlq_url: str
    requeue_busy_after_s: float = 60.0
    threads: int = 1  # messages handled at once (the handler's threads)
    owner: str = field(default_factory=lambda: f"sender-{uuid.uuid4().hex[:12]}")
    stats: SendCounts = field(default_factory=SendCounts)
    clock: Callable[[], float] = time.monotonic

    @property
    def paused(self) -> list[str]:
        """Campaigns this sender paused because SES refused them (the handler reports them)."""
        return self.watch.paused

    def summary(self) -> dict[str, int]:
        """What this sender did so far, by outcome: counts only, never an address."""
        return {
            **self.stats.snapshot(),
            "ses_calls": self.ses.counters.calls,
            "ses_throttled": self.ses.counters.throttled,
        }

    def process(self, body: str, time_left: Callable[[], float] = lambda: float("inf")) -> Outcome:
        """Handle one message body; `time_left` is the invocation's seconds to go."""
        batch = read_batch(body, requeue=self.requeue, dlq_url=self.dlq_url, stats=self.stats)
        if batch is None:
            return Outcome.DONE
        indexes = list(range(len(batch.emails)))
        gate = self.watch.gate(batch.campaign_id)
        if gate is False:
            self.stats.add("dropped", len(indexes))
            return Outcome.DONE
        if isinstance(gate, Hold):  # nothing claimed yet: the whole message waits
            self.stats.add("held", len(indexes))
            self._later(batch, indexes, _Stop(gate.why, gate.delay_s, hold=True), sent_any=False)
            return Outcome.DONE
        work = self._claim(batch)
        if work is None:
            return Outcome.DONE
        try:
            outcome = self._send(work, time_left)
        except LostClaimError:
            # Its claim ran out and another worker took the batch: that one carries on.
            self.stats.add("lost_claims")
            logger.warning("batch %s: another worker took it over", work.key)
            return Outcome.DONE
        if work.finished:
            # Its last emails may be failed or suppressed ones: no SES event will complete it.
            complete_if_finished(self.watch.campaigns, self.metrics, batch.campaign_id)
        return outcome

    # --- claim ---------------------------------------------------------------------------------

    def _claim(self, batch: SendBatch) -> _Work | None:
        """Claim the message's batch; the work left, or None if there is none for this one."""
        key = BatchKey(batch.campaign_id, batch.part, batch.first_line)
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"
        claim = self.batches.claim(key, size=batch.batch_size, owner=owner)
        if claim.outcome is ClaimOutcome.MISMATCHED:
            reason = (
                f"not a launcher batch: the record of part {batch.part} line {batch.first_line}"
                f" has {len(claim.lines)} emails, this message says {batch.batch_size};"
                " nothing was sent"
            )
            body = batch.model_dump_json(by_alias=True)
            dead_letter(body, reason, requeue=self.requeue, dlq_url=self.dlq_url, stats=self.stats)
            return None
        positions = batch.positions()
        pending = [i for i, position in enumerate(positions) if not claim.state(position).done]
        self.stats.add("already_done", len(positions) - len(pending))
        if claim.outcome is ClaimOutcome.BUSY:
            if pending:  # another worker holds the batch: this message's rest comes back later
                self.stats.add("busy", len(pending))
                stop = _Stop("held by another worker", self.requeue_busy_after_s)
                self._later(batch, pending, stop, sent_any=False)
            return None
        work = _Work(batch, key, owner, list(claim.lines), pending, claimed_at=self.clock())
        if claim.outcome is ClaimOutcome.RECLAIMED and pending:
            self._recover(work, claim)
        return work

    def _recover(self, work: _Work, claim: BatchClaim) -> None:
        """The batch's last holder died mid-way: what SES took of its pending emails (their
        records carry SES events) is recorded sent, not sent again."""
        seen = self.batches.seen(work.key.campaign_id, (work.line(i).to_address for i in work.todo))
        recovered = [i for i in work.todo if work.line(i).to_address.lower() in seen]
        for index in recovered:
            work.mark(index, LineState.RECOVERED)
        work.todo = [i for i in work.todo if i not in set(recovered)]
        self.stats.add("recovered", len(recovered))
        self.stats.add("reclaimed", len(work.todo))  # sent again: maybe a duplicate
        if recovered:
            self.batches.record(work.key, owner=work.owner, lines=work.states)
        logger.info("batch %s reclaimed (claims before: %s)", work.key, claim.outcome)

    # --- send ----------------------------------------------------------------------------------

    def _send(self, work: _Work, time_left: Callable[[], float]) -> Outcome:
        self._skip_suppressed(work)
        # The limiter sizes this process's blocks of slots by the sends still to come, so that
        # none are left to lapse when the invocation's messages run out.
        expected = len(work.todo)
        self.gate.expect(Lane.CAMPAIGN, expected)
        try:
            while work.todo:
                stop = self._stop_before_call(work, time_left)
                if stop is None:
                    stop = self._call(work)
                if stop is not None:
                    return self._stop(work, stop)
        finally:
            self.gate.expect(Lane.CAMPAIGN, work.granted - expected)
        # All done: the states written and the claim given back in one write.
        self.batches.record(work.key, owner=work.owner, lines=work.states, release=True)
        return Outcome.DONE

    def _skip_suppressed(self, work: _Work) -> None:
        """Record the suppressed addresses of the work (counted), and leave them out."""
        batch = work.batch
        pairs = {i: (work.line(i).to_address, list_of(batch, work.line(i))) for i in work.todo}
        since = self.watch.suppressions_as_of(batch.campaign_id)
        blocked = self.suppressions.blocking(pairs.values(), since=since)
        finals = []
        for index, pair in pairs.items():
            found = most_telling(blocked.get(pair, []))
            if found is None:
                continue
            work.mark(index, LineState.SUPPRESSED)
            finals.append(
                FinalOutcome(
                    address=pair[0],
                    segment=work.line(index).segment_id,
                    state=LineState.SUPPRESSED,
                    reason=f"{found.reason} ({found.scope})",
                )
            )
        if finals:
            work.todo = [i for i in work.todo if work.lines[work.position(i)] == "."]
            self.stats.add("suppressed", len(finals))
            work.finished |= self.batches.record(
                work.key, owner=work.owner, lines=work.states, finals=finals
            )

    def _stop_before_call(self, work: _Work, time_left: Callable[[], float]) -> _Stop | None:
        """Whether the rest must wait before the next call (a pause, the invocation's end)."""
        gate = self.watch.gate(work.batch.campaign_id)
        if gate is False:
            self.stats.add("dropped", len(work.todo))
            return _Stop("the campaign is cancelled", 0, drop=True)
        if isinstance(gate, Hold):
            self.stats.add("held", len(work.todo))
            return _Stop(gate.why, gate.delay_s, hold=True)
        if time_left() <= self.watch.timing.stop_margin_s:
            return _Stop("the invocation is near its end", 0)
        # Its sent emails are written at the end: the claim must not run out before then, or
        # another worker could take the batch and send them again.
        # The margin is what one call may take (the stop margin), or half a short claim's time.
        claim_s = self.batches.claim_seconds
        margin = min(self.watch.timing.stop_margin_s, claim_s / 2)
        if self.clock() - work.claimed_at >= claim_s - margin:
            return _Stop("its claim is near its end", 0)
        return None

    def _call(self, work: _Work) -> _Stop | None:  # noqa: PLR0911 - one per kind of SES answer
        """One SendBulkEmail call for the next emails of one segment; a stop for the rest, or
        None to go on."""
        group = _next_group(work)
        sends = self.gate.sends(Lane.CAMPAIGN, len(group))
        if sends.count == 0:
            if sends.retry_after_s >= 60:  # the limiter's daily quota, not a busy second
                self.watch.note_held(work.batch.campaign_id, "the SES account's quota is spent")
            return _Stop("no send slot in time", sends.retry_after_s)
        work.granted += sends.count
        call = group[: sends.count]
        lines = [work.line(i) for i in call]
        tag = {BATCH_TAG: f"{work.batch.part}-{work.batch.first_line}"}
        try:
            results = self.ses.send_bulk(lines, extra_tags=tag)
        except ThrottledError:
            self.stats.add("throttled")
            return _Stop("throttled", THROTTLE_BACKOFF_SECONDS)
        except SendingPausedError as error:
            self.watch.note_held(work.batch.campaign_id, f"SES paused sending: {error}")
            return _Stop("SES paused sending", self.watch.timing.ses_paused_retry_s, hold=True)
        except SenderRefusedError as error:
            return self._pause_campaign(work, refused_reason(str(error)))
        except MissingSetupError as error:
            return self._pause_campaign(work, missing_reason(str(error)))
        except AmbiguousSendError as error:
            results = [
                EntryResult(SendKind.REFUSED, error=f"SES's answer was lost: {error}")
            ] * len(call)
            return self._apply(work, call, results, ambiguous=True)
        except PermanentSendError as error:
            # The whole call refused (one entry's parameter, say): one at a time tells which.
            return self._apply(work, call, self._one_by_one(lines, str(error)))
        except TransientSendError:
            self.stats.add("transient_errors")
            logger.warning("SES failed transiently", exc_info=True)
            return _Stop("5xx", TRANSIENT_BACKOFF_SECONDS, retry=not work.sent_any)
        self.stats.add("ses_calls")
        return self._apply(work, call, results)

    def _one_by_one(self, lines: Sequence[CampaignFileLine], call_error: str) -> list[EntryResult]:
        """The lines of a refused call, each sent alone (SendEmail), with their own answers."""
        logger.warning("SES refused a bulk call (%s): sending its emails one by one", call_error)
        results = []
        for line in lines:
            try:
                results.append(EntryResult(SendKind.SENT, message_id=self.ses.send(line)))
            except PermanentSendError as error:
                results.append(EntryResult(SendKind.REFUSED, error=str(error)))
            except (ThrottledError, TransientSendError, AmbiguousSendError) as error:
                results.append(EntryResult(SendKind.TRANSIENT, error=str(error)))
            except SendingPausedError as error:
                results.append(EntryResult(SendKind.PAUSED, error=str(error)))
            except SenderRefusedError as error:
                results.append(EntryResult(SendKind.SENDER_REFUSED, error=str(error)))
        return results

    def _apply(
        self,
        work: _Work,
        call: list[int],
        results: Sequence[EntryResult],
        *,
        ambiguous: bool = False,
    ) -> _Stop | None:
        """Record a call's outcomes on the batch (and count the final ones); what stops the
        rest, if anything."""
        finals = []
        left: list[int] = []  # of this call: still to send
        stop: _Stop | None = None
        for index, result in zip(call, results, strict=True):
            line = work.line(index)
            if result.kind is SendKind.SENT:
                work.mark(index, LineState.SENT)
                work.sent_any = True
                self.stats.add("sent")
                continue
            if result.kind is SendKind.REFUSED:
                state = LineState.AMBIGUOUS if ambiguous else LineState.FAILED
                work.mark(index, state)
                work.sent_any |= ambiguous
                self.stats.add("ambiguous" if ambiguous else "failed")
                finals.append(
                    FinalOutcome(line.to_address, line.segment_id, state, str(result.error))
                )
                continue
            left.append(index)
            stop = _worst(stop, self._stop_for(work, result))
        # Sent emails are written with the batch's next write (at its end, or when the rest
        # goes back): one write a batch, not a call; until then their SES events show them sent.
        if finals:  # counted once: with the batch's states, in one transaction
            work.finished |= self.batches.record(
                work.key, owner=work.owner, lines=work.states, finals=finals
            )
        done = set(call) - set(left)
        work.todo = [i for i in work.todo if i not in done]
        return stop

    def _stop_for(self, work: _Work, result: EntryResult) -> _Stop:
        """What one entry's non-final answer means for the rest of the message."""
        error = str(result.error)
        match result.kind:
            case SendKind.THROTTLED:
                self.stats.add("throttled")
                return _Stop("throttled", THROTTLE_BACKOFF_SECONDS)
            case SendKind.PAUSED:
                self.watch.note_held(work.batch.campaign_id, f"SES paused sending: {error}")
                return _Stop("SES paused sending", self.watch.timing.ses_paused_retry_s, hold=True)
            case SendKind.SENDER_REFUSED:
                return self._pause_campaign(work, refused_reason(error))
            case SendKind.MISSING_SETUP:
                return self._pause_campaign(work, missing_reason(error))
            case _:
                self.stats.add("transient_errors")
                return _Stop("5xx", TRANSIENT_BACKOFF_SECONDS)

    def _pause_campaign(self, work: _Work, reason: str) -> _Stop:
        self.watch.pause_for_ses(work.batch.campaign_id, reason)
        self.stats.add("held_sender_refused", len(work.todo))
        return _Stop("the campaign is paused", self.watch.timing.paused_hold_s, hold=True)

    # --- the rest ------------------------------------------------------------------------------

    def _stop(self, work: _Work, stop: _Stop) -> Outcome:
        """Put the rest back (or leave the message to SQS) and give the claim back."""
        self.batches.record(work.key, owner=work.owner, lines=work.states, release=True)
        if stop.retry:
            return Outcome.RETRY
        if stop.drop:
            return Outcome.DONE
        self._later(work.batch, work.todo, stop, sent_any=work.sent_any)
        return Outcome.DONE

    def _later(self, batch: SendBatch, indexes: list[int], stop: _Stop, *, sent_any: bool) -> None:
        """The emails at `indexes` back on the queue as a new message, after `stop.delay_s`
        (a hold's growing with the holds in a row: `hold_backoff`)."""
        if not indexes:
            return
        delay, holds = stop.delay_s, 0
        if stop.hold:
            delay, holds = hold_backoff(batch, stop.delay_s, progressed=sent_any)
        rest = batch.subset(indexes, holds=holds)
        self.requeue.later(self.queue_url, rest.model_dump_json(by_alias=True), delay)
        self.stats.add("requeued", len(indexes))
        logger.info(
            "%d emails of %s requeued in %.0f s (%s)",
            len(indexes),
            batch.campaign_id,
            delay,
            stop.why,
        )


def _next_group(work: _Work) -> list[int]:
    """The next emails to send that can share a call: one segment's (same sender, template,
    configuration set and tags), in order, at most SES's 50."""
    first = work.line(work.todo[0]).bulk_key()
    group: list[int] = []
    for index in work.todo:
        if work.line(index).bulk_key() != first or len(group) == MAX_BULK_ENTRIES:
            break
        group.append(index)
    return group


def _worst(current: _Stop | None, new: _Stop) -> _Stop:
    """Of two reasons to stop, the one that waits longer (a hold over a backoff)."""
    if current is None:
        return new
    if new.hold != current.hold:
        return new if new.hold else current
    return new if new.delay_s > current.delay_s else current
