"""The fault suite's verdict: duplicates, losses, metrics that add up, poison on its DLQ."""

from __future__ import annotations

from collections import Counter
from typing import Any

from chaos.accounting import DeadLetterSeen, match_poison, metric_mismatches, short_reason, tally
from chaos.poison import Poison

ACCEPTED = [f"r{i}@example.org" for i in range(10)]


def test_one_email_each_is_a_clean_tally() -> None:
    # Given two suppressed recipients and one email for each of the others
    suppressed = ACCEPTED[:2]
    outbox = Counter(dict.fromkeys(ACCEPTED[2:], 1))

    counted = tally(ACCEPTED, suppressed, outbox)

    assert counted.ok
    assert (counted.accepted, counted.expected, counted.emailed, counted.emails) == (10, 8, 8, 8)
    assert counted.duplicate_emails == 0


def test_a_second_email_is_a_duplicate_and_a_missing_one_is_lost() -> None:
    outbox = Counter(dict.fromkeys(ACCEPTED, 1))
    outbox[ACCEPTED[3]] = 3  # two more than one
    del outbox[ACCEPTED[5]]

    counted = tally(ACCEPTED, [], outbox)

    assert not counted.ok
    assert counted.duplicates == {ACCEPTED[3]: 2}
    assert counted.duplicate_emails == 2
    assert counted.lost == {ACCEPTED[5]}
    assert counted.emailed == 9
    assert counted.emails == 11


def test_mail_to_a_suppressed_or_unknown_address_is_unexpected() -> None:
    outbox = Counter(dict.fromkeys(ACCEPTED, 1))  # the suppressed r0 got one too
    outbox["stranger@example.org"] = 1

    counted = tally(ACCEPTED, [ACCEPTED[0]], outbox)

    assert counted.unexpected == {ACCEPTED[0]: 1, "stranger@example.org": 1}
    assert not counted.lost
    assert not counted.duplicates
    assert not counted.ok


def test_addresses_compare_in_lower_case() -> None:
    counted = tally(["Ann@Example.org"], [], Counter({"ann@example.org": 1, "ANN@example.org": 1}))
    assert counted.duplicates == {"ann@example.org": 1}


def _metrics(**overrides: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "total": 10,
        "sent": 8,
        "delivered": 8,
        "failed": 0,
        "suppressed": 2,
        "finished": 10,
        "status": "COMPLETED",
    }
    return {**metrics, **overrides}


def test_metrics_that_match_what_went_out_add_up() -> None:
    counted = tally(ACCEPTED, ACCEPTED[:2], Counter(dict.fromkeys(ACCEPTED[2:], 1)))
    assert metric_mismatches(_metrics(), counted, suppressed=2) == []


def test_each_metric_that_disagrees_is_named() -> None:
    counted = tally(ACCEPTED, ACCEPTED[:2], Counter(dict.fromkeys(ACCEPTED[2:], 1)))

    problems = metric_mismatches(
        _metrics(sent=7, delivered=6, finished=9, status="SENDING"), counted, suppressed=2
    )

    assert any(p.startswith("sent is 7, expected 8") for p in problems)
    assert any(p.startswith("delivered is 6, expected 7") for p in problems)
    assert any(p.startswith("finished is 9, expected 10") for p in problems)
    assert "sent + failed + suppressed = 9, total is 10" in problems
    assert "status is SENDING, expected COMPLETED" in problems


def test_a_wrong_total_or_suppressed_count_is_a_mismatch() -> None:
    counted = tally(ACCEPTED, ACCEPTED[:2], Counter(dict.fromkeys(ACCEPTED[2:], 1)))
    problems = metric_mismatches(_metrics(total=11, suppressed=1), counted, suppressed=2)
    assert any(p.startswith("total is 11, expected 10") for p in problems)
    assert any(p.startswith("suppressed is 1, expected 2") for p in problems)


POISONS = [
    Poison("send", "not_json", "m-send-1", "m-send-1 {not json"),
    Poison("tracker", "no_type", "m-tracker-1", '{"mail":{"messageId":"m-tracker-1"}}'),
    Poison("transactional", "json_array", "m-tx-1", '["m-tx-1"]'),
    Poison("send", "json_string", "m-send-2", '"m-send-2"'),
]


def test_poison_is_found_on_its_own_dlq_with_its_reason() -> None:
    letters = [
        DeadLetterSeen("send", "m-send-1 {not json", "not a send batch: $: Invalid JSON (1)"),
        DeadLetterSeen("send", "m-send-1 {not json", "not a send batch: $: Invalid JSON (1)"),
        DeadLetterSeen("tracker", '{"mail":{"messageId":"m-tracker-1"}}', "SES event has no"),
        DeadLetterSeen("transactional", '["m-tx-1"]', "not a send batch"),
        DeadLetterSeen("send", '"m-send-2"', "not a send batch"),
        DeadLetterSeen("send", '{"campaign_id":"c"}', None),  # a real batch SQS gave up on
    ]

    report = match_poison(POISONS, letters)

    assert report.ok
    assert set(report.found) == {p.marker for p in POISONS}
    assert report.copies["m-send-1"] == 2  # dead-lettered twice (a kill before the delete)
    assert report.by_queue_and_reason[("send", short_reason(None))] == 1
    assert report.by_queue_and_reason[("send", "not a send batch: $: Invalid JSON")] == 2


def test_poison_missing_without_reason_or_on_another_dlq_fails() -> None:
    letters = [
        DeadLetterSeen("send", "m-send-1 {not json", None),  # moved by SQS after 5 receives
        DeadLetterSeen("send", '{"mail":{"messageId":"m-tracker-1"}}', "wrong queue"),
    ]

    report = match_poison(POISONS, letters)

    assert not report.ok
    assert [p.marker for p in report.without_reason] == ["m-send-1"]
    assert [(p.marker, q) for p, q in report.wrong_queue] == [("m-tracker-1", "send")]
    assert {p.marker for p in report.missing} == {"m-tx-1", "m-send-2"}


def test_a_long_reason_is_cut_to_its_gist() -> None:
    reason = "not a send batch: emails.0.content: Field required " + "x" * 200 + " (3 problems)"
    assert len(short_reason(reason)) == 70
    assert short_reason(reason).endswith("...")
    assert short_reason("SES event is not valid JSON (line 1)") == "SES event is not valid JSON"
