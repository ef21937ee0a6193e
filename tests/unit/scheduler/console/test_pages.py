"""What the console's pages compute: the chart's minutes, percentages, CSV in and out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ems_common.dal.timeline import TimelineMinute
from ems_common.suppressions import SuppressionReason
from ems_common.timeline import Series
from ems_scheduler.console.pages import (
    ImportFileError,
    chart_data,
    percent,
    read_import,
    rendered_email,
)

LAUNCH = datetime(2030, 1, 1, 9, 0, 40, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_campaign_sent_within_a_minute_is_a_peak_between_zeros() -> None:
    start = LAUNCH.replace(second=0)
    data = chart_data([TimelineMinute(start, {Series.SENT: 30})], since=LAUNCH)

    assert data.minutes == [int((start + n * MINUTE).timestamp()) for n in range(2)]
    assert data.series["sent"] == [30, 0]
    assert data.series["opened"] == [0, 0]
    assert chart_data([TimelineMinute(start, {Series.SENT: 30})]).series["sent"] == [0, 30, 0]


def test_quiet_minutes_are_zeros_up_to_now_while_it_sends() -> None:
    start = LAUNCH.replace(second=0)
    minutes = [
        TimelineMinute(start + MINUTE, {Series.SENT: 5, Series.DELIVERED: 4}),
        TimelineMinute(start + 3 * MINUTE, {Series.BOUNCED: 1}),
    ]

    data = chart_data(minutes, since=LAUNCH, until=start + 6 * MINUTE + timedelta(seconds=5))

    assert data.series["sent"] == [0, 5, 0, 0, 0, 0, 0]
    assert data.series["bounced"] == [0, 0, 0, 1, 0, 0, 0]
    assert '"delivered":[0,4,0,0,0,0,0]' in data.to_json()


@pytest.mark.parametrize(
    ("rate", "text"), [(None, "-"), (0.0, "0%"), (1.0, "100%"), (0.0633, "6.33%"), (0.001, "0.1%")]
)
def test_rates_show_as_percentages(rate: float | None, text: str) -> None:
    assert percent(rate) == text


def test_an_import_reads_a_csv_with_its_columns_or_one_address_a_line() -> None:
    rows = read_import(
        "address,scope,reason,detail\nann@x.org,list:vip,complaint,phone\n\nbo@x.org,,,\n"
    )
    plain = read_import("ann@x.org\n\n  bo@x.org \n")

    assert [(r.line, r.address, r.scope, r.reason, r.detail) for r in rows] == [
        (2, "ann@x.org", "list:vip", SuppressionReason.COMPLAINT, "phone"),
        (4, "bo@x.org", None, None, None),
    ]
    assert [(r.line, r.address) for r in plain] == [(1, "ann@x.org"), (3, "bo@x.org")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name\nann@x.org,Ann\n", "line 1: a CSV needs an `address` column"),
        ("address,scope\nann@x.org,everywhere\n", "line 2: 'everywhere' is no suppression scope"),
        ("address,reason\nann@x.org,dislike\n", "line 2: 'dislike' is no reason"),
    ],
)
def test_an_import_that_cannot_be_read_says_which_line(text: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_import(text)


def test_a_rendered_email_gives_its_subject_and_parts() -> None:
    mime = (
        "Subject: Hello Ann\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b"\n\n'
        "--b\nContent-Type: text/plain; charset=UTF-8\n\nHi Ann\n"
        "--b\nContent-Type: text/html; charset=UTF-8\n\n<p>Hi Ann</p>\n--b--\n"
    )

    email = rendered_email(mime)

    assert (email.subject, email.text, email.html) == ("Hello Ann", "Hi Ann", "<p>Hi Ann</p>")
