"""The sender's decisions, with in-memory stand-ins for DynamoDB, SES and SQS.

The behaviour under test (once per email, errors by kind, requeue instead of DLQ for
throttling) lives in `Sender`; the stand-ins only remember what they were asked.
"""

from __future__ import annotations

import pytest

from ems_common.campaigns import CampaignStatus
from ems_common.emails import EmailState
from ems_common.formats import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.formats.tags import EMAIL_ID_TAG
from ems_common.suppressions import CAMPAIGNS, Suppression, list_scope
from ems_common.transactional import TRANSACTIONAL_CAMPAIGN_ID
from ems_sender.dal.records import ClaimOutcome
from ems_sender.dal.ses import PermanentSendError, ThrottledError, TransientSendError
from ems_sender.messages import Outcome
from tests.unit.sender.fakes import Gate, Ses
from tests.unit.sender.fakes import body as _body
from tests.unit.sender.fakes import make_sender as _sender
from tests.unit.sender.fakes import transactional_body as _transactional_body


def test_each_email_is_sent_once_even_when_the_message_comes_twice() -> None:
    rig = _sender()
    body = _body("a@example.org", "b@example.org")

    assert rig.sender.process(body) is Outcome.DONE
    assert rig.sender.process(body) is Outcome.DONE

    assert rig.ses.sent == ["a@example.org", "b@example.org"]
    assert rig.sender.stats.counts["already_done"] == 2


def test_an_expired_claim_of_an_email_ses_accepted_is_recorded_sent_not_sent_again() -> None:
    # Given a sender that died after SES accepted b@, before recording it, and one that died
    # before calling SES for c@ (its claims expired; the tracker has b@'s events only)
    rig = _sender()
    rig.records.expired_claims = {
        "b@example.org": ClaimOutcome.ACCEPTED_BEFORE,
        "c@example.org": ClaimOutcome.RECLAIMED,
    }

    # When the message comes again
    assert rig.sender.process(_body("a@example.org", "b@example.org", "c@example.org")) is (
        Outcome.DONE
    )

    # Then b@ is recorded sent without a second email; c@, never accepted, is sent
    assert rig.ses.sent == ["a@example.org", "c@example.org"]
    assert rig.records.state("b@example.org") is EmailState.SENT
    assert rig.sender.stats.counts["recovered"] == 1
    assert rig.sender.stats.counts["reclaimed"] == 1


def test_a_permanent_error_fails_that_email_and_the_batch_goes_on() -> None:
    ses = Ses(
        fail={
            "b@example.org": PermanentSendError("MessageRejected: Email address is not verified.")
        }
    )
    rig = _sender(ses=ses)

    assert (
        rig.sender.process(_body("a@example.org", "b@example.org", "c@example.org")) is Outcome.DONE
    )

    assert ses.sent == ["a@example.org", "c@example.org"]
    assert rig.records.state("b@example.org") is EmailState.FAILED
    assert "MessageRejected" in rig.records.items[("c1", "b@example.org")]["reason"]


def test_throttling_requeues_the_rest_as_a_new_message_and_never_fails_the_message() -> None:
    ses = Ses(fail={"b@example.org": ThrottledError("Maximum sending rate exceeded.")})
    rig = _sender(ses=ses)

    assert (
        rig.sender.process(_body("a@example.org", "b@example.org", "c@example.org")) is Outcome.DONE
    )

    (_, rest, delay) = rig.requeue.later_calls[0]
    assert [e.to_address for e in rest.emails] == ["b@example.org", "c@example.org"]
    assert delay > 0
    assert rig.records.state("b@example.org") is None  # released: it will be claimed again


def test_a_transient_error_after_progress_requeues_the_rest_as_a_new_message() -> None:
    ses = Ses(fail={"b@example.org": TransientSendError("InternalFailure: 500")})
    rig = _sender(ses=ses)

    assert rig.sender.process(_body("a@example.org", "b@example.org", "c@example.org")) is (
        Outcome.DONE
    )

    assert ses.sent == ["a@example.org"]
    (_, rest, delay) = rig.requeue.later_calls[0]
    assert [e.to_address for e in rest.emails] == ["b@example.org", "c@example.org"]
    assert delay > 0
    assert rig.records.state("b@example.org") is None  # released: it will be claimed again


def test_a_transient_error_with_no_progress_leaves_the_message_for_redelivery() -> None:
    # SQS redelivers it, and after maxReceiveCount such attempts moves it to the DLQ
    ses = Ses(fail={"a@example.org": TransientSendError("InternalFailure: 500")})
    rig = _sender(ses=ses)
    body = _body("a@example.org", "b@example.org")

    assert rig.sender.process(body) is Outcome.RETRY
    assert rig.requeue.later_calls == []
    assert rig.sender.process(body) is Outcome.DONE

    assert ses.sent == ["a@example.org", "b@example.org"]


def test_suppressed_addresses_are_skipped_and_counted() -> None:
    rig = _sender(suppressed={"b@example.org"})
    rig.sender.process(_body("a@example.org", "B@example.org"))
    assert rig.ses.sent == ["a@example.org"]
    assert rig.sender.stats.counts["suppressed"] == 1


def _segment_body(campaign_id: str, segment: str, *addresses: str) -> str:
    lines = [
        CampaignFileLine.for_recipient(
            from_email_address="news@example.com",
            to_address=address,
            template_name="t",
            template_data={},
            campaign_id=campaign_id,
            segment_id=segment,
            configuration_set_name="ems",
        )
        for address in addresses
    ]
    return SendBatch(campaign_id=campaign_id, part=1, first_line=0, emails=lines).model_dump_json(
        by_alias=True
    )


def test_an_unsubscribe_from_a_list_stops_that_lists_email_only() -> None:
    # Given ann unsubscribed from the "news" list while a campaign to it was sending
    rig = _sender()
    rig.sender.suppressions.add(
        Suppression(address="Ann@example.org", scope=list_scope("news"), reason="unsubscribe")
    )
    # When the rest of that campaign comes through, and another campaign's "vip" list
    rig.sender.process(_segment_body("c1", "news", "ann@example.org", "bob@example.org"))
    rig.sender.process(_segment_body("c2", "vip", "ann@example.org"))
    # Then her "news" email is not sent (the record says why), her "vip" one is
    assert rig.ses.sent == ["bob@example.org", "ann@example.org"]
    record = rig.records.items[("c1", "ann@example.org")]
    assert (record["state"], record["reason"]) == (EmailState.SUPPRESSED, "unsubscribe (list:news)")
    assert rig.records.items[("c2", "ann@example.org")]["state"] is EmailState.SENT


def test_an_unsubscribe_from_all_campaign_email_spares_transactional_email() -> None:
    rig = _sender(status=None)
    rig.sender.suppressions.add(
        Suppression(address="a@example.org", scope=CAMPAIGNS, reason="unsubscribe")
    )
    rig.sender.process(_transactional_body(("tx-20261123-aaaaaaaaaaaa-0", "a@example.org")))
    assert rig.ses.sent == ["a@example.org"]


def test_a_marketing_transactional_email_is_stopped_by_its_lists_unsubscribe() -> None:
    rig = _sender(status=None)
    rig.sender.suppressions.add(
        Suppression(address="a@example.org", scope=list_scope("notices"), reason="unsubscribe")
    )
    line = CampaignFileLine.for_recipient(
        from_email_address="shop@example.com",
        to_address="a@example.org",
        template_name="ems-tx-notices",
        template_data={},
        campaign_id=TRANSACTIONAL_CAMPAIGN_ID,
        segment_id="notices",
        configuration_set_name="ems",
        extra_tags={EMAIL_ID_TAG: "tx-20261123-aaaaaaaaaaaa-0"},
        headers=[("List-Unsubscribe", "<https://x/u/t>"), ("List-Unsubscribe-Post", "x")],
    )
    rig.sender.process(
        SendBatch(
            campaign_id=TRANSACTIONAL_CAMPAIGN_ID, part=1, first_line=0, emails=[line]
        ).model_dump_json(by_alias=True)
    )
    assert rig.ses.sent == []
    record = rig.records.items[("tx-20261123-aaaaaaaaaaaa-0", "a@example.org")]
    assert record["state"] is EmailState.SUPPRESSED
    assert record["reason"] == "unsubscribe (list:notices)"


@pytest.mark.parametrize("status", [CampaignStatus.CANCELLED, None])
def test_a_cancelled_or_deleted_campaign_is_dropped(status: CampaignStatus | None) -> None:
    rig = _sender(status=status)
    assert rig.sender.process(_body("a@example.org")) is Outcome.DONE
    assert rig.ses.sent == []
    assert rig.sender.stats.counts["dropped"] == 1


def test_quota_pause_requeues_everything_not_sent_yet() -> None:
    rig = _sender(gate=Gate(pause_after=1))
    rig.sender.process(_body("a@example.org", "b@example.org", "c@example.org"))
    (_, rest, delay) = rig.requeue.later_calls[0]
    assert [e.to_address for e in rest.emails] == ["b@example.org", "c@example.org"]
    assert delay == 600.0


def test_a_message_that_is_not_a_batch_is_dead_lettered_with_its_reason() -> None:
    rig = _sender()
    assert rig.sender.process('{"hello": "world"}') is Outcome.DONE
    ((body, reason),) = rig.requeue.dead
    assert body == '{"hello": "world"}'
    assert reason.startswith("not a send batch")


def test_transactional_emails_need_no_campaign_and_are_kept_once_per_email_id() -> None:
    rig = _sender(status=None)  # there is no campaign "transactional"
    first = _transactional_body(("tx-20261123-aaaaaaaaaaaa-0", "a@example.org"))
    again = _transactional_body(
        ("tx-20261123-aaaaaaaaaaaa-0", "a@example.org"),
        ("tx-20261123-bbbbbbbbbbbb-0", "a@example.org"),  # another request, same recipient
    )

    assert rig.sender.process(first) is Outcome.DONE
    assert rig.sender.process(again) is Outcome.DONE

    assert rig.ses.sent == ["a@example.org", "a@example.org"]
    assert set(rig.records.items) == {
        ("tx-20261123-aaaaaaaaaaaa-0", "a@example.org"),
        ("tx-20261123-bbbbbbbbbbbb-0", "a@example.org"),
    }
    assert rig.sender.stats.counts["already_done"] == 1
