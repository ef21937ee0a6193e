"""What the sender does when a campaign must not send now: paused or cancelled while it sends,
SES's account under review or sending paused, SES refusing the sender, an answer lost after
the request left, and the invocation near its end. Nothing is failed for a passing reason, and
nothing is sent twice."""

from __future__ import annotations

import pytest

from ems_common.campaigns import CampaignStatus, PausedBy
from ems_common.emails import EmailState
from ems_common.formats.campaign_file import CampaignFileLine
from ems_sender.dal.account import Standing
from ems_sender.dal.ses import (
    AmbiguousSendError,
    MissingSetupError,
    SenderRefusedError,
    SendingPausedError,
)
from ems_sender.limiter import Lane
from ems_sender.messages import Outcome
from ems_sender.watch import Timing
from tests.unit.sender.fakes import Gate, Rig, Ses, body, make_sender, transactional_body

ADDRESSES = [f"r{i}@example.org" for i in range(6)]
TIMING = Timing(paused_hold_s=30, ses_paused_retry_s=60, stop_margin_s=45)


class Clock:
    """Each reading is two seconds after the last: a status read is never cached between
    two emails, as in a real run where the limiter spaces them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 2.0
        return self.now


def _rig(**kwargs: object) -> Rig:
    rig = make_sender(timing=TIMING, **kwargs)  # type: ignore[arg-type]
    rig.sender.clock = Clock()
    return rig


def _after(n: int, rig: Rig, then: CampaignStatus) -> None:
    """Set the campaign's status once SES was called `n` times (an operator meanwhile)."""

    def act(_: CampaignFileLine) -> None:
        if rig.ses.calls == n:
            rig.campaigns.status = then

    rig.ses.before_send = act


def _no_failures(rig: Rig) -> bool:
    return all(item["state"] is not EmailState.FAILED for item in rig.records.items.values())


def test_a_pause_mid_batch_holds_the_rest_and_resume_sends_each_once() -> None:
    # Given a campaign paused by its operator while its batch is being sent
    rig = _rig()
    _after(2, rig, CampaignStatus.PAUSED)

    assert rig.sender.process(body(*ADDRESSES)) is Outcome.DONE

    # Then nothing more goes out: the rest is back on the queue, delayed, not failed
    assert rig.ses.sent == ADDRESSES[:2]
    assert rig.requeue.requeued() == ADDRESSES[2:]
    assert rig.requeue.later_calls[0][2] == TIMING.paused_hold_s
    assert rig.sender.stats.counts["held"] == 4
    assert _no_failures(rig)

    # And while it stays paused, the held message is held again (never dead-lettered)
    _, held, _ = rig.requeue.later_calls.pop()
    rig.ses.before_send = None
    assert rig.sender.process(held.model_dump_json(by_alias=True)) is Outcome.DONE
    assert rig.ses.sent == ADDRESSES[:2]
    assert rig.requeue.requeued() == ADDRESSES[2:]
    assert rig.requeue.dead == []

    # When it is resumed, the held emails go out, and the first message coming again (SQS
    # delivers at least once) sends nothing twice
    rig.campaigns.status = CampaignStatus.SENDING
    _, held, _ = rig.requeue.later_calls.pop()
    rig.sender.process(held.model_dump_json(by_alias=True))
    rig.sender.process(body(*ADDRESSES))
    assert rig.ses.sent == ADDRESSES
    assert rig.requeue.later_calls == []


def test_a_cancel_mid_batch_drops_the_rest_within_one_email() -> None:
    rig = _rig()
    _after(3, rig, CampaignStatus.CANCELLED)

    assert rig.sender.process(body(*ADDRESSES)) is Outcome.DONE

    assert rig.ses.sent == ADDRESSES[:3]
    assert rig.requeue.later_calls == []
    assert rig.sender.stats.counts["dropped"] == 3


def test_the_campaign_is_looked_at_once_a_second_at_most() -> None:
    # A real clock: the emails of a batch go out within the same second
    rig = make_sender(timing=TIMING)
    ticks = iter(range(100))
    rig.sender.clock = lambda: next(ticks) * 0.1

    rig.sender.process(body(*ADDRESSES))

    assert len(rig.ses.sent) == 6
    assert rig.campaigns.reads == 1  # 6 emails within 0.6 s: one read


@pytest.mark.parametrize(
    "standing",
    [Standing(enforcement="PROBATION"), Standing(sending_enabled=False)],
    ids=["under review", "sending disabled"],
)
def test_campaign_email_waits_while_ses_has_the_account_under_review(standing: Standing) -> None:
    rig = _rig()
    rig.account.standing = standing

    assert rig.sender.process(body(*ADDRESSES)) is Outcome.DONE

    # Nothing sent, nothing failed: the batch waits, and the campaign says why
    assert rig.ses.calls == 0
    assert rig.requeue.requeued() == ADDRESSES
    assert rig.requeue.later_calls[0][2] == TIMING.ses_paused_retry_s
    assert rig.campaigns.held is not None
    assert "SES" in rig.campaigns.held.reason
    assert rig.campaigns.status is CampaignStatus.SENDING  # no operator needed to go on

    # When SES says the account is healthy again, it goes on by itself
    rig.account.standing = Standing()
    _, held, _ = rig.requeue.later_calls.pop()
    rig.sender.process(held.model_dump_json(by_alias=True))
    assert rig.ses.sent == ADDRESSES


def test_transactional_email_goes_on_while_the_account_is_under_review() -> None:
    rig = _rig(status=None, lane=Lane.TRANSACTIONAL)
    rig.account.standing = Standing(enforcement="PROBATION")
    rig.sender.process(transactional_body(("tx-20261123-aaaaaaaaaaaa-0", "a@example.org")))

    assert rig.ses.sent == ["a@example.org"]


def test_an_ses_sending_pause_holds_every_email_and_fails_none() -> None:
    # Given SES answers SendingPausedException from the third email on
    pause = SendingPausedError("SendingPausedException: Sending is paused for this account.")
    rig = _rig(ses=Ses(fail={ADDRESSES[2]: pause}))

    assert rig.sender.process(body(*ADDRESSES)) is Outcome.DONE

    assert rig.ses.sent == ADDRESSES[:2]
    assert rig.requeue.requeued() == ADDRESSES[2:]
    assert rig.requeue.later_calls[0][2] == TIMING.ses_paused_retry_s
    assert rig.records.state(ADDRESSES[2]) is None  # released: claimed again later
    assert _no_failures(rig)
    assert rig.campaigns.held is not None
    assert "paused" in rig.campaigns.held.reason

    # When SES sends again, the held emails go once each
    _, held, _ = rig.requeue.later_calls.pop()
    rig.sender.process(held.model_dump_json(by_alias=True))
    assert rig.ses.sent == ADDRESSES


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            SenderRefusedError(
                "MessageRejected: Email address is not verified. The following identities failed"
                " the check in region US-EAST-1: news@example.com"
            ),
            "Verify the From address's domain",
        ),
        (
            SenderRefusedError("AccessDeniedException: not authorized to perform ses:SendEmail"),
            "permission",
        ),
        (
            MissingSetupError("NotFoundException: Configuration set <gone> does not exist."),
            "Create it again",
        ),
    ],
    ids=["unverified sender", "access denied", "configuration set gone"],
)
def test_ses_refusing_the_campaigns_setup_pauses_it_with_the_reason(
    error: Exception, words: str
) -> None:
    rig = _rig(ses=Ses(fail={ADDRESSES[0]: error}))

    assert rig.sender.process(body(*ADDRESSES)) is Outcome.DONE

    # Then no recipient is failed: the campaign is PAUSED by SES with its answer and what to do
    assert rig.ses.sent == []
    assert _no_failures(rig)
    assert rig.campaigns.status is CampaignStatus.PAUSED
    assert rig.campaigns.pause_record is not None
    assert rig.campaigns.pause_record.by is PausedBy.SES
    assert str(error) in rig.campaigns.pause_record.reason
    assert words in rig.campaigns.pause_record.reason
    assert rig.requeue.requeued() == ADDRESSES  # held for the resume
    assert rig.sender.paused == ["c1"]  # the handler raises the alarm's metric


def test_a_transactional_email_whose_template_is_gone_fails_with_the_reason() -> None:
    gone = MissingSetupError("NotFoundException: Template ems-tx-receipt does not exist.")
    rig = _rig(status=None, lane=Lane.TRANSACTIONAL, ses=Ses(fail={"a@example.org": gone}))

    rig.sender.process(transactional_body(("tx-20261123-aaaaaaaaaaaa-0", "a@example.org")))

    record = rig.records.items[("tx-20261123-aaaaaaaaaaaa-0", "a@example.org")]
    assert record["state"] is EmailState.FAILED
    assert "does not exist" in record["reason"]


def test_an_answer_lost_after_the_request_left_is_recorded_ambiguous_and_never_resent() -> None:
    lost = AmbiguousSendError("ReadTimeoutError: Read timeout on endpoint URL")
    rig = _rig(ses=Ses(fail={ADDRESSES[1]: lost}))

    rig.sender.process(body(*ADDRESSES))
    rig.sender.process(body(*ADDRESSES))  # the message comes again

    assert rig.ses.calls == 6  # the ambiguous one was asked for once, and never again
    assert rig.ses.sent == [a for a in ADDRESSES if a != ADDRESSES[1]]
    record = rig.records.items[("c1", ADDRESSES[1])]
    assert record["state"] is EmailState.AMBIGUOUS
    assert "answer was lost" in record["reason"]
    assert rig.sender.stats.counts["ambiguous"] == 1


def test_nothing_new_is_claimed_near_the_invocations_end() -> None:
    # Given an invocation with 60 s to go, each email taking 10 s
    rig = _rig()
    left = iter([60.0, 50.0, 40.0, 30.0, 20.0, 10.0])

    assert rig.sender.process(body(*ADDRESSES), time_left=lambda: next(left)) is Outcome.DONE

    # Then it sends while more than the margin (45 s) is left, and hands the rest back at once
    assert rig.ses.sent == ADDRESSES[:2]
    assert rig.requeue.requeued() == ADDRESSES[2:]
    assert rig.requeue.later_calls[0][2] == 0
    assert all(rig.records.state(a) is None for a in ADDRESSES[2:])  # none claimed


def test_a_spent_quota_notes_why_the_campaign_waits() -> None:
    rig = _rig(gate=Gate(pause_after=2))

    rig.sender.process(body(*ADDRESSES))

    assert rig.ses.sent == ADDRESSES[:2]
    assert rig.campaigns.held is not None
    assert "quota" in rig.campaigns.held.reason


def test_a_long_hold_comes_back_less_and_less_often_up_to_sqs_limit() -> None:
    rig = _rig(status=CampaignStatus.PAUSED)
    message = body(*ADDRESSES)
    delays = []
    for _ in range(8):
        rig.sender.process(message)
        _, held, delay = rig.requeue.later_calls.pop()
        delays.append(delay)
        message = held.model_dump_json(by_alias=True)
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]
    # And once resumed, the emails go, and a later hold starts short again
    rig.campaigns.status = CampaignStatus.SENDING
    rig.ses.before_send = lambda _: setattr(rig.campaigns, "status", CampaignStatus.PAUSED)
    rig.sender.process(message)
    _, held, delay = rig.requeue.later_calls.pop()
    assert (held.holds, delay) == (1, 30)


def test_a_launch_ses_pauses_resumes_to_launching() -> None:
    # The launcher stops with the pause; the rest of the campaign must still be enqueued later
    refused = SenderRefusedError("AccessDeniedException: not authorized to perform ses:SendEmail")
    rig = _rig(status=CampaignStatus.LAUNCHING, ses=Ses(fail={ADDRESSES[0]: refused}))

    rig.sender.process(body(*ADDRESSES))

    assert rig.campaigns.pause_record is not None
    assert rig.campaigns.pause_record.resume_to == "LAUNCHING"
