"""The cost model: list prices applied to given request counts (pure arithmetic)."""

from __future__ import annotations

import pytest

from bench.cost import (
    GOAL_SEND_PATH_USD,
    CostModel,
    EventMix,
    EventPath,
    LambdaSizing,
    Usage,
    firehose_billed_bytes,
    gb_seconds,
    naive_reference,
    price,
    sqs_billed_requests,
    terraform_block_setting,
)

# Per email: 2 SQS requests, 4 WCU, 2 RCU, one invocation per 100 emails of 0.1 s at 512 MB,
# one S3 GET per 1,000 emails, 10 bytes of logs.
SEND_PATH = Usage(
    sqs_requests=2,
    dynamodb_write_units=4,
    dynamodb_read_units=2,
    lambda_requests=0.01,
    lambda_gb_seconds=0.05,
    s3_gets=0.001,
    log_bytes=10,
)
# Per event: a 5 KB Firehose record, 1.2 SQS requests, 3 WCU, 1 RCU.
TRACKER = Usage(
    sqs_requests=1.2, dynamodb_write_units=3, dynamodb_read_units=1, firehose_bytes=5 * 1024
)


def test_a_million_emails_of_known_counts_cost_the_hand_computed_dollars() -> None:
    # Given the send path's usage per email, a million times
    dollars = CostModel(SEND_PATH, TRACKER).send_path_per_million()

    # Then each service is its count times its list price
    assert dollars.sqs == pytest.approx(2_000_000 * 0.40 / 1e6)  # $0.80
    assert dollars.dynamodb == pytest.approx(4 * 0.625 + 2 * 0.125)  # $2.75
    assert dollars.lambda_ == pytest.approx(10_000 * 0.20 / 1e6 + 50_000 * 0.0000166667)
    assert dollars.s3 == pytest.approx(1_000 * 0.0004 / 1000)  # $0.0004
    assert dollars.logs == pytest.approx(1e7 / 1024**3 * 0.50)
    assert dollars.firehose == 0  # events are the tracker's, not the send path's
    assert dollars.total == pytest.approx(0.80 + 2.75 + 0.002 + 0.833335 + 0.0004 + 0.0046566)
    assert dollars.total > GOAL_SEND_PATH_USD
    assert next(iter(dollars.by_service())) == "DynamoDB"


def test_in_all_adds_the_tracker_for_each_event_of_an_email() -> None:
    # Given Send + Delivery, an open for one email in four and a click for one in twenty
    model = CostModel(SEND_PATH, TRACKER, EventMix(opens_per_email=0.25, clicks_per_email=0.05))

    # When priced per million emails
    in_all = model.all_per_million().total
    send_path = model.send_path_per_million().total

    # Then 2.3 events per email at $0.48 SQS + 5 KB of Firehose ($0.029 a GB) + $1.875 + $0.125
    # DynamoDB a million
    firehose = 5 * 1024 * 1e6 / 1024**3 * 0.029  # $0.138 a million events
    assert model.mix.events_per_email == pytest.approx(2.3)
    assert in_all - send_path == pytest.approx(2.3 * (0.48 + firehose + 1.875 + 0.125))


def test_sqs_bills_each_64_kb_chunk_as_a_request() -> None:
    assert sqs_billed_requests(0) == 1
    assert sqs_billed_requests(65_536) == 1
    assert sqs_billed_requests(65_537) == 2
    assert sqs_billed_requests(220_000) == 4


def test_gb_seconds_scale_with_memory() -> None:
    assert gb_seconds(0.1, 512) == pytest.approx(0.05)
    assert gb_seconds(2.0, 1024) == pytest.approx(2.0)


def test_usage_adds_and_scales_field_by_field() -> None:
    total = SEND_PATH + TRACKER.scaled(2)
    assert total.sqs_requests == pytest.approx(4.4)
    assert total.firehose_bytes == 2 * 5 * 1024
    assert total.dynamodb_write_units == 10
    assert price(Usage()).total == 0


def test_the_naive_reference_is_the_issues_figure() -> None:
    # 2.3 items (the email, Delivery, 0.25 open, 0.05 click) x (3 SQS requests at $0.40 a
    # million + one write at the pre-November-2024 $1.25 a million)
    assert naive_reference(2.3) == pytest.approx(2.3 * (1.20 + 1.25))
    assert round(naive_reference(EventMix().events_per_email), 1) == 5.6


TF = """
module "sender" {
  source    = "../lambda_service"
  memory_mb = 512

  sqs_trigger = {
    batch_size = 2
  }
}

module "sender_transactional" {
  memory_mb = 256
}
"""


def test_a_terraform_setting_is_read_from_its_own_block() -> None:
    assert terraform_block_setting(TF, "module", "sender", "memory_mb") == 512
    assert terraform_block_setting(TF, "module", "sender", "batch_size") == 2
    assert terraform_block_setting(TF, "module", "sender_transactional", "memory_mb") == 256


def test_a_missing_block_or_setting_says_which() -> None:
    with pytest.raises(ValueError, match='no module "tracker"'):
        terraform_block_setting(TF, "module", "tracker", "memory_mb")
    with pytest.raises(ValueError, match="sets no integer timeout"):
        terraform_block_setting(TF, "module", "sender", "timeout")


def test_the_app_modules_sizes_are_read_from_terraform() -> None:
    sizing = LambdaSizing.from_terraform()
    assert sizing.sender_memory_mb == 256  # a variable's default (sender_memory_mb)
    assert sizing.tracker_memory_mb == 512
    assert sizing.tracker_batch_size == 10
    assert sizing.sender_batch_size >= 1
    assert sizing.launcher_memory_mb >= 128
    assert sizing.ses_events_buffer_seconds == 60
    assert sizing.ses_events_buffer_mb == 1


def test_firehose_bills_each_record_in_5_kb_steps() -> None:
    assert firehose_billed_bytes(1) == 5 * 1024
    assert firehose_billed_bytes(5 * 1024) == 5 * 1024
    assert firehose_billed_bytes(5 * 1024 + 1) == 10 * 1024


def test_the_event_path_of_a_busy_stream_is_firehose_and_a_share_of_full_objects() -> None:
    # Given 1,000 events a second of 1,700 bytes: a 1 MB buffer fills before its 60 s are up
    path = EventPath(
        event_bytes=1700, events_per_second=1000, buffer_seconds=60, buffer_mb=1, batch_size=10
    )
    assert path.events_per_object == 1024 * 1024 // 1700  # 616

    # When a million emails' 2.3 million events are priced
    dollars = price(path.per_event.scaled(2.3e6))

    # Then Firehose bills 5 KB an event, and each of the 3,734 objects one PUT, one GET, S3's
    # notification on SQS and a tenth of a receive, a delete and an invocation
    objects = 2.3e6 / 616
    assert dollars.firehose == pytest.approx(2.3e6 * 5 * 1024 / 1024**3 * 0.029)  # $0.318
    assert dollars.s3 == pytest.approx(objects * (0.005 + 0.0004) / 1000)  # $0.020
    assert dollars.sqs == pytest.approx(objects * 1.2 * 0.40 / 1e6)
    assert dollars.lambda_ == pytest.approx(objects * 0.1 * 0.20 / 1e6)
    assert dollars.dynamodb == 0
    assert dollars.total == pytest.approx(0.3404, abs=0.0005)
    # Against SNS's $0.50 a million publishes and an SQS message an event: $2.25 and more
    assert dollars.total < 2.3 * (0.50 + 0.40)


def test_a_quiet_stream_writes_an_object_per_buffer_time_with_what_came() -> None:
    # One event a minute and a half: each object holds the one event of its 60 s
    quiet = EventPath(
        event_bytes=1700, events_per_second=1 / 90, buffer_seconds=60, buffer_mb=1, batch_size=10
    )
    assert quiet.events_per_object == 1
    assert quiet.per_event.s3_puts == 1
    # A steady million emails a day (26.6 events a second) fills 1 MB objects
    busy = EventPath.at_volume(1e6, EventMix(), LambdaSizing.from_terraform(), event_bytes=1700)
    assert busy.events_per_second == pytest.approx(1e6 * 2.3 / 86_400)
    assert busy.events_per_object == 616
