"""The timeline's buckets: which minute an event counts in, and which series a change moves."""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from ems_common.dal.items import to_item
from ems_common.dal.timeline import CampaignTimeline
from ems_common.metrics import Metric
from ems_common.timeline import (
    TIMELINE_TTL_DAYS,
    Series,
    minute_key,
    minute_of,
    parse_minute_key,
    series_counts,
)


def test_a_moment_counts_in_its_utc_minute_and_keys_sort_as_time() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2030, 1, 1, 10, 5, 59, 999_000, tzinfo=paris)

    assert minute_of(moment) == datetime(2030, 1, 1, 9, 5, tzinfo=UTC)
    assert minute_key(moment) == "2030-01-01T09:05Z"
    assert parse_minute_key(minute_key(moment)) == minute_of(moment)
    later = [minute_key(moment + timedelta(minutes=n)) for n in (1, 59, 60 * 24)]
    assert sorted(later) == later
    with pytest.raises(ValueError, match="timezone-aware"):
        minute_of(datetime(2030, 1, 1))


def test_series_add_up_the_campaign_counters_they_stand_for() -> None:
    change = Counter(
        {
            Metric.SENT: 2,
            Metric.OPENED_UNIQUE: 1,
            Metric.OPENED_TOTAL: 3,
            Metric.BOUNCED_HARD: 1,
            Metric.BOUNCED_SOFT: -1,  # a soft bounce that turned hard: still one bounce
            Metric.FINISHED: 2,
        }
    )

    assert series_counts(change) == {Series.SENT: 2, Series.OPENED: 1}
    assert series_counts(Counter({Metric.FINISHED: 1})) == {}


def test_the_adapter_adds_to_the_minutes_item_and_sets_its_expiry() -> None:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "update_item",
            {},
            {
                "TableName": "events",
                "Key": to_item({"pk": "timeline#spring", "sk": "2030-01-01T09:05Z"}),
                "UpdateExpression": "SET #f0 = :v0 ADD #a0 :a0, #a1 :a1",
                "ExpressionAttributeNames": {"#f0": "expires_at", "#a0": "sent", "#a1": "bounced"},
                "ExpressionAttributeValues": to_item(
                    {":v0": 1_000 + TIMELINE_TTL_DAYS * 86_400, ":a0": 1, ":a1": 1}
                ),
            },
        )
        timeline = CampaignTimeline(client, "events")
        at = datetime(2030, 1, 1, 9, 5, 30, tzinfo=UTC)

        timeline.add("spring", at, Counter({Metric.SENT: 1, Metric.BOUNCED_HARD: 1}), now=1_000)
        timeline.add("spring", at, Counter({Metric.FINISHED: 1}), now=1_000)  # writes nothing

        stubber.assert_no_pending_responses()
