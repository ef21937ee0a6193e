"""Packing campaign-file lines into send-queue messages and batch calls."""

from __future__ import annotations

import pytest

from ems_common.formats import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_launcher.logic.packing import SQS_BATCH_BYTES, batch_calls, pack_messages


def _lines(n: int) -> list[bytes]:
    return [
        CampaignFileLine.for_recipient(
            from_email_address="news@example.com",
            to_address=f"user{i}@example.org",
            template_name="ems-c1-abcdef12",
            template_data={"name": f"User {i}"},
            campaign_id="c1",
            segment_id="gold",
            configuration_set_name="ems",
        )
        .to_json_line()
        .encode()
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("emails", "per_message"), [(1, 50), (49, 50), (50, 50), (1001, 50), (7, 1)]
)
def test_every_line_lands_in_exactly_one_message_in_order(emails: int, per_message: int) -> None:
    lines = _lines(emails)
    messages = list(
        pack_messages(
            "c1", 3, lines, start_line=0, emails_per_message=per_message, max_bytes=240_000
        )
    )
    batches = [SendBatch.from_body(m.body) for m in messages]

    addresses = [email.to_address for batch in batches for email in batch.emails]
    assert addresses == [f"user{i}@example.org" for i in range(emails)]
    assert all(len(batch.emails) <= per_message for batch in batches)
    assert [b.first_line for b in batches] == [m.first_line for m in messages]
    assert {(b.campaign_id, b.part) for b in batches} == {("c1", 3)}


def test_resuming_mid_part_numbers_lines_from_the_checkpoint() -> None:
    lines = _lines(120)
    messages = list(
        pack_messages(
            "c1", 1, lines[100:], start_line=100, emails_per_message=50, max_bytes=240_000
        )
    )
    assert [(m.first_line, m.count) for m in messages] == [(100, 20)]


def test_messages_stay_under_the_size_limit() -> None:
    lines = _lines(500)
    messages = list(
        pack_messages("c1", 1, lines, start_line=0, emails_per_message=500, max_bytes=8_000)
    )
    assert all(len(m.body) <= 8_000 for m in messages)
    assert sum(m.count for m in messages) == 500


def test_a_thousand_emails_take_two_batch_calls_at_fifty_per_message() -> None:
    messages = pack_messages(
        "c1", 1, _lines(1000), start_line=0, emails_per_message=50, max_bytes=240_000
    )
    calls = list(batch_calls(messages))
    assert len(calls) == 2
    assert all(
        len(call) <= 10 and sum(len(m.body) for m in call) <= SQS_BATCH_BYTES for call in calls
    )


def test_a_line_too_large_for_any_message_is_refused() -> None:
    with pytest.raises(ValueError, match="too large for a message"):
        list(
            pack_messages(
                "c1", 1, [b"x" * 10_000], start_line=0, emails_per_message=5, max_bytes=4_096
            )
        )
