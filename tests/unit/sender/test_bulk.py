"""The campaign lane's sender (`BatchSender`): a launcher batch at a time, in bulk calls.

The stand-ins remember what they were asked and honour the one rule the sender relies on from
DynamoDB (a batch record is held by one owner at a time; a write by another is refused); the
conditional writes themselves run against DynamoDB Local in tests/e2e.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import MagicMock

import pytest

from ems_common.campaigns import CampaignStatus, PausedBy
from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_sender.bulk import BATCH_TAG, BatchSender
from ems_sender.dal.account import Standing
from ems_sender.dal.batches import (
    BatchClaim,
    BatchKey,
    ClaimOutcome,
    FinalOutcome,
    LineState,
    LostClaimError,
)
from ems_sender.dal.ses import (
    AmbiguousSendError,
    EntryResult,
    PermanentSendError,
    SenderRefusedError,
    SendingPausedError,
    SendKind,
    TransientSendError,
)
from ems_sender.gate import Sends
from ems_sender.limiter import Lane
from ems_sender.messages import Outcome
from ems_sender.recent_suppressions import RecentSuppressions
from ems_sender.watch import CampaignWatch, Timing
from tests.support.suppressions import InMemorySuppressions
from tests.unit.sender.fakes import Account, Campaigns, Requeue

TIMING = Timing(paused_hold_s=30, ses_paused_retry_s=60, stop_margin_s=45)


def _line(address: str, segment: str = "news") -> CampaignFileLine:
    return CampaignFileLine.for_recipient(
        from_email_address="news@example.com",
        to_address=address,
        template_name=f"t-{segment}",
        template_data={"name": address},
        campaign_id="c1",
        segment_id=segment,
        configuration_set_name="ems",
        headers=[("List-Unsubscribe", f"<https://x/u/{address}>")],
    )


def _batch(*addresses: str, segment: str = "news") -> SendBatch:
    return SendBatch(
        campaign_id="c1", part=1, first_line=100, emails=[_line(a, segment) for a in addresses]
    )


def _body(batch: SendBatch) -> str:
    return batch.model_dump_json(by_alias=True)


ADDRESSES = [f"r{i:02d}@example.org" for i in range(20)]


@dataclass
class _Record:
    lines: str
    owner: str | None = None
    claims: int = 0


@dataclass
class Batches:
    """Batch records by key: one holder at a time."""

    records: dict[BatchKey, _Record] = field(default_factory=dict)
    finals: list[FinalOutcome] = field(default_factory=list)
    seen_by_ses: set[str] = field(default_factory=set)
    lose_claim_on_record: bool = False
    claim_seconds: int = 300

    def claim(self, key: BatchKey, *, size: int, owner: str) -> BatchClaim:
        record = self.records.setdefault(key, _Record("." * size))
        if len(record.lines) != size:
            return BatchClaim(ClaimOutcome.MISMATCHED, record.lines)
        if record.owner is not None and record.owner != "expired":
            return BatchClaim(ClaimOutcome.BUSY, record.lines)
        outcome = ClaimOutcome.RECLAIMED if record.owner == "expired" else ClaimOutcome.CLAIMED
        record.owner, record.claims = owner, record.claims + 1
        return BatchClaim(outcome, record.lines)

    def record(
        self,
        key: BatchKey,
        *,
        owner: str,
        lines: str,
        finals: Sequence[FinalOutcome] = (),
        release: bool = False,
    ) -> bool:
        record = self.records[key]
        if self.lose_claim_on_record or record.owner != owner:
            raise LostClaimError(str(key))
        record.lines = lines
        if release:
            record.owner = None
        self.finals.extend(finals)
        return any(f.state is not LineState.AMBIGUOUS for f in finals)

    def seen(self, campaign_id: str, addresses: Any) -> set[str]:
        return {a.lower() for a in addresses} & self.seen_by_ses

    def lines(self) -> str:
        (record,) = self.records.values()
        return record.lines


@dataclass
class Ses:
    """Bulk calls: each entry SENT unless `answers` says otherwise (per address), or the whole
    call raises `call_error` (once)."""

    answers: dict[str, EntryResult] = field(default_factory=dict)
    call_error: Exception | None = None
    calls: list[list[str]] = field(default_factory=list)
    tags: list[Mapping[str, str]] = field(default_factory=list)
    singles: list[str] = field(default_factory=list)
    before_call: Any = None

    @property
    def sent(self) -> list[str]:
        return [a for call in self.calls for a in call] + self.singles

    def send_bulk(
        self, lines: Sequence[CampaignFileLine], *, extra_tags: Mapping[str, str] | None = None
    ) -> list[EntryResult]:
        if self.before_call is not None:
            self.before_call(len(self.calls))
        if self.call_error is not None:
            error, self.call_error = self.call_error, None
            raise error
        assert len({line.bulk_key() for line in lines}) == 1, "one segment per call"
        results = [
            self.answers.pop(line.to_address, EntryResult(SendKind.SENT, message_id="m"))
            for line in lines
        ]
        self.calls.append(
            [line.to_address for line, r in zip(lines, results, strict=True) if r.message_id]
        )
        self.tags.append(dict(extra_tags or {}))
        return results

    def send(self, line: CampaignFileLine) -> str:
        result = self.answers.pop(line.to_address, None)
        if result is not None and result.kind is SendKind.REFUSED:
            raise PermanentSendError(str(result.error))
        self.singles.append(line.to_address)
        return "m"


@dataclass
class Gate:
    """Grants up to `burst` sends a call; none after `allow` calls (then `retry_after_s`)."""

    burst: int = 9
    allow: int | None = None
    retry_after_s: float = 1.0
    asked: list[int] = field(default_factory=list)
    expected: int = 0  # sends the sender said are still to come, less those granted
    most_expected: int = 0

    def sends(self, lane: Lane, wanted: int) -> Sends:
        assert lane is Lane.CAMPAIGN
        self.asked.append(wanted)
        if self.allow is not None and len(self.asked) > self.allow:
            return Sends(0, self.retry_after_s)
        granted = min(wanted, self.burst)
        self.expected -= granted
        return Sends(granted)

    def expect(self, lane: Lane, count: int) -> None:
        assert lane is Lane.CAMPAIGN
        self.expected += count
        self.most_expected = max(self.most_expected, self.expected)


@dataclass
class Rig:
    sender: BatchSender
    batches: Batches
    ses: Ses
    requeue: Requeue
    campaigns: Campaigns
    account: Account
    gate: Gate


def _rig(
    *,
    status: CampaignStatus | None = CampaignStatus.SENDING,
    ses: Ses | None = None,
    gate: Gate | None = None,
    suppressed: Sequence[str] = (),
) -> Rig:
    batches, requeue, campaigns, account = Batches(), Requeue(), Campaigns(status), Account()
    ses, gate = ses or Ses(), gate or Gate()
    clock = iter(range(0, 10_000, 2))  # every look at the campaign is a fresh one
    watch = CampaignWatch(
        campaigns,  # type: ignore[arg-type]
        account,  # type: ignore[arg-type]
        TIMING,
        clock=lambda: float(next(clock)),
    )
    sender = BatchSender(
        batches=batches,  # type: ignore[arg-type]
        ses=ses,  # type: ignore[arg-type]
        requeue=requeue,  # type: ignore[arg-type]
        suppressions=RecentSuppressions(InMemorySuppressions(*suppressed), "day"),  # type: ignore[arg-type]
        watch=watch,
        gate=gate,
        metrics=MagicMock(),
        queue_url="q",
        dlq_url="dlq",
    )
    return Rig(sender, batches, ses, requeue, campaigns, account, gate)


def _requeued(rig: Rig) -> list[str]:
    return rig.requeue.requeued()


def _during_call(rig: Rig, number: int, status: CampaignStatus) -> None:
    """An operator sets the campaign's status while call `number` (from 1) is out."""

    def act(calls_before: int) -> None:
        if calls_before == number - 1:
            rig.campaigns.status = status

    rig.ses.before_call = act


def _resend_held(rig: Rig) -> None:
    """Deliver every requeued message again, once."""
    held, rig.requeue.later_calls = rig.requeue.later_calls, []
    for _, batch, _ in held:
        rig.sender.process(_body(batch))


# --- the normal path -----------------------------------------------------------------------------


def test_a_batch_goes_out_in_calls_as_large_as_the_limiter_grants_each_recipient_once() -> None:
    rig = _rig()

    assert rig.sender.process(_body(_batch(*ADDRESSES))) is Outcome.DONE

    assert [len(call) for call in rig.ses.calls] == [9, 9, 2]
    assert rig.ses.sent == ADDRESSES
    assert rig.batches.lines() == "S" * 20
    # Each email's events can be traced to its launcher batch
    assert rig.ses.tags[0] == {BATCH_TAG: "1-100"}


def test_the_limiter_hears_what_is_left_to_send_and_nothing_once_a_batch_ends() -> None:
    # Given a batch of 20 emails, and a limiter that grants two calls, then none for a while
    rig = _rig()
    rig.gate.allow = 2

    # When the sender handles it (its rest goes back on the queue)
    rig.sender.process(_body(_batch(*ADDRESSES)))

    # Then it told the limiter of its 20 sends before the first call, and once the message is
    # put back, nothing is left counted (the limiter would keep slots for it otherwise)
    assert rig.gate.most_expected == 20
    assert rig.gate.expected == 0
    assert len(rig.ses.sent) == 18


def test_the_same_message_twice_sends_nothing_twice() -> None:
    rig = _rig()
    body = _body(_batch(*ADDRESSES[:5]))

    rig.sender.process(body)
    rig.sender.process(body)

    assert rig.ses.sent == ADDRESSES[:5]
    assert rig.sender.stats.counts["already_done"] == 5


def test_a_message_that_is_not_its_launcher_batch_is_dead_lettered_and_sends_nothing() -> None:
    # Given a launcher batch of 5 emails, sent
    rig = _rig()
    rig.sender.process(_body(_batch(*ADDRESSES[:5])))

    # When a message names the same batch with 20 emails (another packing than the launcher's)
    assert rig.sender.process(_body(_batch(*ADDRESSES))) is Outcome.DONE

    # Then nothing more is sent: the message is on the DLQ, saying why
    assert rig.ses.sent == ADDRESSES[:5]
    ((_, reason),) = rig.requeue.dead
    assert reason == (
        "not a launcher batch: the record of part 1 line 100 has 5 emails, this message says 20;"
        " nothing was sent"
    )
    assert rig.requeue.later_calls == []


def test_a_message_of_a_batch_another_worker_holds_comes_back_later() -> None:
    rig = _rig()
    batch = _batch(*ADDRESSES[:5])
    rig.batches.claim(BatchKey("c1", 1, 100), size=5, owner="someone-else")

    rig.sender.process(_body(batch))

    assert rig.ses.sent == []
    assert _requeued(rig) == ADDRESSES[:5]
    assert rig.requeue.later_calls[0][2] == rig.sender.requeue_busy_after_s


def test_each_segment_goes_in_its_own_calls() -> None:
    rig = _rig()
    lines = [_line(a, "news") for a in ADDRESSES[:3]] + [_line(a, "vip") for a in ADDRESSES[3:5]]
    batch = SendBatch(campaign_id="c1", part=1, first_line=0, emails=lines)

    rig.sender.process(_body(batch))

    assert rig.ses.calls == [ADDRESSES[:3], ADDRESSES[3:5]]


def test_a_batch_whose_holder_died_resends_only_what_ses_did_not_see() -> None:
    # Given a batch whose holder recorded r00-r01 sent, had SES take r02-r03 (their events
    # came), and died before recording them; r04-r09 it never sent
    rig = _rig()
    key = BatchKey("c1", 1, 100)
    rig.batches.records[key] = _Record("SS" + "." * 8, owner="expired", claims=1)
    rig.batches.seen_by_ses = {"r02@example.org", "r03@example.org"}

    rig.sender.process(_body(_batch(*ADDRESSES[:10])))

    # Then the two it had recorded are skipped, the two SES saw are recorded, the rest sent
    assert rig.ses.sent == ADDRESSES[4:10]
    assert rig.batches.lines() == "SSRR" + "S" * 6
    assert rig.sender.stats.counts["recovered"] == 2


def test_suppressed_addresses_are_skipped_and_recorded_with_the_reason() -> None:
    rig = _rig(suppressed=["R01@example.org"])

    rig.sender.process(_body(_batch(*ADDRESSES[:3])))

    assert rig.ses.sent == [ADDRESSES[0], ADDRESSES[2]]
    ((final),) = rig.batches.finals
    assert (final.address, final.state) == (ADDRESSES[1], LineState.SUPPRESSED)
    assert final.reason.endswith("(all)")
    assert rig.batches.lines() == "SXS"


def test_an_entry_ses_refuses_is_failed_with_the_reason_and_the_others_go() -> None:
    refused = EntryResult(SendKind.REFUSED, error="MESSAGE_REJECTED: Illegal address")
    rig = _rig(ses=Ses(answers={ADDRESSES[1]: refused}))

    rig.sender.process(_body(_batch(*ADDRESSES[:3])))

    assert rig.ses.sent == [ADDRESSES[0], ADDRESSES[2]]
    ((final),) = rig.batches.finals
    assert (final.address, final.state) == (ADDRESSES[1], LineState.FAILED)
    assert "Illegal address" in final.reason


def test_a_requeued_rest_keeps_its_place_in_the_batch() -> None:
    throttled = EntryResult(SendKind.THROTTLED, error="ACCOUNT_THROTTLED: slow down")
    rig = _rig(ses=Ses(answers={ADDRESSES[4]: throttled}), gate=Gate(burst=5))

    rig.sender.process(_body(_batch(*ADDRESSES[:12])))

    # The call's throttled entry and everything after it come back after 2 s ...
    (_, rest, delay) = rig.requeue.later_calls[0]
    assert [e.to_address for e in rest.emails] == ADDRESSES[4:12]
    assert (rest.offsets, rest.size, delay) == (list(range(4, 12)), 12, 2.0)
    assert rig.batches.lines() == "SSSS" + "." * 8
    # ... and, delivered again, fill the same batch's places
    _resend_held(rig)
    assert rig.batches.lines() == "S" * 12
    assert rig.ses.sent == ADDRESSES[:4] + ADDRESSES[4:12]


# --- holds and stops -----------------------------------------------------------------------------


def test_a_pause_between_calls_holds_the_rest_and_resume_sends_each_once() -> None:
    rig = _rig()
    _during_call(rig, 1, CampaignStatus.PAUSED)

    rig.sender.process(_body(_batch(*ADDRESSES)))

    assert rig.ses.sent == ADDRESSES[:9]
    assert _requeued(rig) == ADDRESSES[9:]
    assert rig.requeue.later_calls[0][2] == TIMING.paused_hold_s
    # The claim is given back with the states: the held rest can claim the batch again
    assert rig.batches.records[BatchKey("c1", 1, 100)].owner is None
    rig.ses.before_call = None
    rig.campaigns.status = CampaignStatus.SENDING
    _resend_held(rig)
    rig.sender.process(_body(_batch(*ADDRESSES)))  # and the first message once more
    assert rig.ses.sent == ADDRESSES
    assert rig.batches.finals == []


def test_a_cancel_between_calls_drops_the_rest() -> None:
    rig = _rig()
    _during_call(rig, 1, CampaignStatus.CANCELLED)

    rig.sender.process(_body(_batch(*ADDRESSES)))

    assert rig.ses.sent == ADDRESSES[:9]
    assert rig.requeue.later_calls == []
    assert rig.sender.stats.counts["dropped"] == 11


@pytest.mark.parametrize(
    "standing",
    [Standing(enforcement="PROBATION"), Standing(sending_enabled=False)],
    ids=["under review", "sending disabled"],
)
def test_campaign_email_waits_while_ses_has_the_account_under_review(standing: Standing) -> None:
    rig = _rig()
    rig.account.standing = standing

    rig.sender.process(_body(_batch(*ADDRESSES[:5])))

    assert rig.ses.calls == []
    assert _requeued(rig) == ADDRESSES[:5]
    assert rig.campaigns.held is not None
    assert "SES" in rig.campaigns.held.reason
    rig.account.standing = Standing()
    _resend_held(rig)
    assert rig.ses.sent == ADDRESSES[:5]


def test_an_ses_sending_pause_holds_every_email_and_fails_none() -> None:
    pause = SendingPausedError("SendingPausedException: Sending is paused for this account.")
    rig = _rig(ses=Ses(call_error=pause))

    assert rig.sender.process(_body(_batch(*ADDRESSES[:5]))) is Outcome.DONE

    assert rig.ses.sent == []
    assert _requeued(rig) == ADDRESSES[:5]
    assert rig.requeue.later_calls[0][2] == TIMING.ses_paused_retry_s
    assert rig.batches.finals == []
    assert rig.campaigns.held is not None
    assert "paused" in rig.campaigns.held.reason
    _resend_held(rig)
    assert rig.ses.sent == ADDRESSES[:5]


@pytest.mark.parametrize(
    ("ses", "words"),
    [
        (
            Ses(call_error=SenderRefusedError("AccessDeniedException: not authorized")),
            "Verify the From address's domain",
        ),
        (
            Ses(
                answers={
                    ADDRESSES[0]: EntryResult(
                        SendKind.MISSING_SETUP, error="TEMPLATE_NOT_FOUND: Template t-news"
                    )
                }
            ),
            "Create it again",
        ),
    ],
    ids=["sender refused", "template gone"],
)
def test_ses_refusing_the_campaign_pauses_it_with_the_reason_and_fails_none(
    ses: Ses, words: str
) -> None:
    rig = _rig(ses=ses)

    rig.sender.process(_body(_batch(*ADDRESSES[:5])))

    assert rig.campaigns.status is CampaignStatus.PAUSED
    assert rig.campaigns.pause_record is not None
    assert rig.campaigns.pause_record.by is PausedBy.SES
    assert words in rig.campaigns.pause_record.reason
    assert rig.batches.finals == []
    assert set(_requeued(rig)) | set(rig.ses.sent) == set(ADDRESSES[:5])
    assert rig.sender.watch.take_paused() == ["c1"]


def test_an_answer_lost_after_the_call_left_is_ambiguous_and_never_resent() -> None:
    rig = _rig(ses=Ses(call_error=AmbiguousSendError("ReadTimeoutError: timed out")))
    body = _body(_batch(*ADDRESSES[:3]))

    rig.sender.process(body)
    rig.sender.process(body)

    assert rig.ses.sent == []
    assert rig.batches.lines() == "AAA"
    assert [f.state for f in rig.batches.finals] == [LineState.AMBIGUOUS] * 3
    assert "answer was lost" in rig.batches.finals[0].reason


def test_a_call_refused_whole_is_sent_one_by_one_to_tell_which_email_is_wrong() -> None:
    bad = EntryResult(SendKind.REFUSED, error="BadRequestException: Illegal address")
    ses = Ses(call_error=PermanentSendError("BadRequestException: x"), answers={ADDRESSES[1]: bad})
    rig = _rig(ses=ses)

    rig.sender.process(_body(_batch(*ADDRESSES[:3])))

    assert rig.ses.singles == [ADDRESSES[0], ADDRESSES[2]]
    assert [(f.address, f.state) for f in rig.batches.finals] == [(ADDRESSES[1], LineState.FAILED)]


def test_a_transient_error_with_nothing_sent_leaves_the_message_to_sqs() -> None:
    rig = _rig(ses=Ses(call_error=TransientSendError("InternalFailure: 500")))

    assert rig.sender.process(_body(_batch(*ADDRESSES[:3]))) is Outcome.RETRY

    assert rig.requeue.later_calls == []
    assert rig.batches.records[BatchKey("c1", 1, 100)].owner is None  # free for the retry


def test_nothing_is_sent_near_the_invocations_end() -> None:
    rig = _rig()
    left = iter([100.0, 40.0])

    rig.sender.process(_body(_batch(*ADDRESSES)), time_left=lambda: next(left))

    assert rig.ses.sent == ADDRESSES[:9]
    assert _requeued(rig) == ADDRESSES[9:]
    assert rig.requeue.later_calls[0][2] == 0


def test_no_slot_in_time_puts_the_rest_back_and_a_spent_quota_says_why() -> None:
    rig = _rig(gate=Gate(allow=1, retry_after_s=3600))

    rig.sender.process(_body(_batch(*ADDRESSES)))

    assert rig.ses.sent == ADDRESSES[:9]
    assert _requeued(rig) == ADDRESSES[9:]
    assert rig.requeue.later_calls[0][2] == 3600
    assert rig.campaigns.held is not None
    assert "quota" in rig.campaigns.held.reason


def test_a_worker_stops_before_its_claim_runs_out_and_puts_the_rest_back() -> None:
    # Given a claim of 300 s, and a sender whose first call is made 200 s after it claimed
    rig = _rig()
    now = iter([0.0, 200.0, 260.0])
    rig.sender.clock = lambda: next(now)

    assert rig.sender.process(_body(_batch(*ADDRESSES))) is Outcome.DONE

    # Then it makes no call within the stop margin (45 s) of the claim's end: the rest goes back
    assert rig.ses.sent == ADDRESSES[:9]
    assert _requeued(rig) == ADDRESSES[9:]
    assert rig.batches.lines() == "S" * 9 + "." * 11


def test_a_short_claim_leaves_half_its_time_to_send() -> None:
    # Given a claim of 10 s (shorter than the stop margin), a sender whose calls take 3 s each
    rig = _rig()
    rig.batches.claim_seconds = 10
    now = iter([0.0, 0.0, 3.0, 6.0])
    rig.sender.clock = lambda: next(now)

    rig.sender.process(_body(_batch(*ADDRESSES)))

    # Then it calls while less than 5 s have passed, and puts the rest back after
    assert rig.ses.sent == ADDRESSES[:18]
    assert _requeued(rig) == ADDRESSES[18:]


def test_a_worker_that_lost_its_claim_leaves_the_batch_to_its_new_holder() -> None:
    rig = _rig()
    rig.batches.lose_claim_on_record = True

    assert rig.sender.process(_body(_batch(*ADDRESSES))) is Outcome.DONE

    assert rig.requeue.later_calls == []
    assert rig.sender.stats.counts["lost_claims"] == 1


def test_a_message_that_is_not_a_batch_is_dead_lettered() -> None:
    rig = _rig()
    assert rig.sender.process('{"hello": 1}') is Outcome.DONE
    ((_, reason),) = rig.requeue.dead
    assert reason.startswith("not a send batch")
