"""The demo's plain parts: the campaign it plans, the progress line it prints, and how it follows
a campaign (against a scripted metrics API and a fake clock)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from email_validator import EmailNotValidError, validate_email
from rich.console import Console

from demo.run import (
    MAX_RECIPIENTS,
    MIN_RECIPIENTS,
    SEGMENTS,
    STALL_S,
    SUPPRESSED_ADDRESS,
    Demo,
    DemoError,
    Throughput,
    console_url,
    duration_text,
    parse_args,
    plan_campaign,
    progress_line,
    rejected_counts,
    services_to_blame,
    split_by_share,
)
from ems_cli.client import EmsClient
from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig, find_repo_root
from ems_devstack.services import CAMPAIGN_SENDER_NAMES, TRACKER_NAME, local_services
from ems_scheduler.campaigns.candidate import parse_campaign_candidate
from ems_scheduler.shared.recipients import RejectionReason

DATE = datetime(2030, 1, 1, 9, tzinfo=UTC)
URIS = {spec.template_file: f"s3://assets/templates/demo/{spec.template_file}" for spec in SEGMENTS}


def _valid(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


@pytest.mark.parametrize("total", [3, 20, 150, 2_000, 3_000, 3_001])
def test_split_by_share_adds_up_and_gives_every_part_one(total: int) -> None:
    parts = split_by_share(total, [5, 2, 3])

    assert sum(parts) == total
    assert min(parts) >= 1


def test_split_by_share_follows_the_shares() -> None:
    assert split_by_share(3_000, [5, 2, 3]) == [1_500, 600, 900]
    with pytest.raises(ValueError, match="cannot split 2 recipients into 3 segments"):
        split_by_share(2, [5, 2, 3])


@pytest.mark.parametrize("recipients", [MIN_RECIPIENTS, 150, 3_000, 3_001])
def test_the_plan_adds_up(recipients: int) -> None:
    # Given a campaign of `recipients` entries
    plan = plan_campaign(recipients, campaign_id="demo-test", date=DATE, template_uris=URIS)
    segments = plan.candidate["segments"]
    addresses = [r["to_address"] for s in segments for r in s["recipients"]]

    # Then its segments hold every entry, as planned
    assert [s["list_name"] for s in segments] == [spec.list_name for spec in SEGMENTS]
    assert plan.segment_sizes == {s["list_name"]: len(s["recipients"]) for s in segments}
    assert len(addresses) == plan.entries == recipients
    assert len(segments) >= 3

    # And the rejected ones are as many as planned, for each reason
    invalid = [a for a in addresses if not _valid(a)]
    seen: set[str] = set()
    duplicates = []
    for address in addresses:
        if _valid(address) and address != SUPPRESSED_ADDRESS:
            if address.lower() in seen:
                duplicates.append(address)
            seen.add(address.lower())
    assert plan.rejections == rejected_counts(recipients)
    assert len(invalid) == plan.rejections[RejectionReason.INVALID_ADDRESS]
    assert len(duplicates) == plan.rejections[RejectionReason.DUPLICATE]
    assert addresses.count(SUPPRESSED_ADDRESS) == plan.rejections[RejectionReason.SUPPRESSED] == 1
    assert any(d != d.lower() for d in duplicates)  # duplicates ignore case

    # And the others are the sendable ones, each once
    assert (
        len(plan.sendable) == len(set(plan.sendable)) == recipients - sum(plan.rejections.values())
    )
    assert set(plan.sendable) == seen
    assert addresses[0] == plan.sendable[0]


def test_the_candidate_is_a_valid_one_with_a_template_and_subject_per_segment() -> None:
    plan = plan_campaign(150, campaign_id="demo-test", date=DATE, template_uris=URIS)

    candidate = parse_campaign_candidate(plan.candidate)

    assert candidate.campaign_id == "demo-test"
    assert candidate.date == DATE
    for spec, segment in zip(SEGMENTS, candidate.segments, strict=True):
        assert segment.template_s3_uri == URIS[spec.template_file]
        assert segment.subject == spec.subject
        # Every recipient has the fields its template and subject print
        assert all("fname" in r.personalization for r in segment.recipients)


def test_the_plan_is_the_same_every_time() -> None:
    first = plan_campaign(300, campaign_id="demo-test", date=DATE, template_uris=URIS)
    second = plan_campaign(300, campaign_id="demo-test", date=DATE, template_uris=URIS)

    assert first == second


@pytest.mark.parametrize("recipients", [MIN_RECIPIENTS - 1, MAX_RECIPIENTS + 1])
def test_a_size_out_of_range_is_refused(recipients: int) -> None:
    with pytest.raises(ValueError, match="recipients must be"):
        plan_campaign(recipients, campaign_id="demo-test", date=DATE, template_uris=URIS)
    with pytest.raises(SystemExit):
        parse_args(["--recipients", str(recipients)])


def test_the_default_size_is_two_thousand() -> None:
    assert parse_args([]).recipients == 2_000
    assert parse_args(["--recipients", "150", "--campaign-id", "x"]).campaign_id == "x"


def test_throughput_measures_over_its_window() -> None:
    throughput = Throughput(window_s=30, min_span_s=10)
    assert throughput.rate() is None
    assert throughput.eta_s(100) is None

    for second, finished in [(0, 0), (10, 100), (20, 300), (30, 500), (40, 700)]:
        throughput.add(second, finished)

    # The first sample left the window: (700 - 100) / (40 - 10)
    assert throughput.rate() == pytest.approx(20.0)
    assert throughput.eta_s(300) == pytest.approx(15.0)
    assert throughput.eta_s(0) == 0.0


def test_throughput_starts_when_the_first_email_is_done() -> None:
    throughput = Throughput(window_s=30, min_span_s=10)

    # Waiting for the launch: nothing finished for 20 s, then 5 in the next 5 s
    for second, finished in [(0, 0), (10, 0), (20, 0), (25, 5)]:
        throughput.add(second, finished)
    assert throughput.rate() is None  # 5 s of sending is too short to tell

    throughput.add(30, 100)
    assert throughput.rate() == pytest.approx(10.0)  # from the last sample with none done


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "?"), (0, "0s"), (59.4, "59s"), (60, "1m00s"), (125, "2m05s")]
)
def test_duration_text(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_the_progress_line() -> None:
    throughput = Throughput()
    throughput.add(0, 0)
    throughput.add(10, 183)
    metrics = {
        "status": "SENDING",
        "total": 2_939,
        "sent": 1_234,
        "finished": 1_236,
        "failed": 2,
        "suppressed": 0,
    }

    line = progress_line(metrics, 35, throughput)

    assert line == (
        "[   35s] SENDING     1,234 / 2,939 sent   42%   18.3/s  ETA  1m33s  failed 2  suppressed 0"
    )


def test_the_progress_line_before_anything_is_known() -> None:
    line = progress_line({"status": "SCHEDULED", "total": 0}, 0, Throughput())

    assert line == (
        "[    0s] SCHEDULED       0 / 0 sent     -      -/s  ETA     0s  failed 0  suppressed 0"
    )


def test_a_stall_names_the_logs_of_the_service_that_should_move() -> None:
    assert services_to_blame("SCHEDULED", {}) == ("launcher",)
    assert services_to_blame("SENDING", {"finished": 5, "total": 9}) == (
        *CAMPAIGN_SENDER_NAMES,
        TRACKER_NAME,
    )
    assert services_to_blame("SENDING", {"finished": 9, "total": 9}) == (TRACKER_NAME,)
    # Every name is a service `make up` runs (so a log of that name exists); the services are
    # listed from the checkout, which names their entry points
    config = StackConfig(root=find_repo_root(Path(__file__).parent))
    names = {service.name for service in local_services(config)}
    assert {"launcher", *CAMPAIGN_SENDER_NAMES, TRACKER_NAME} <= names


class _Clock:
    """A monotonic clock that moves only when the demo sleeps."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def now(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.now_s += seconds


class _MetricsApi:
    """GET /campaigns/{id}/metrics answering from a script, then its last answer forever."""

    def __init__(self, answers: list[dict[str, object]]) -> None:
        self.answers = answers

    def campaign_metrics(self, campaign_id: str) -> dict[str, object]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _demo(tmp_path: Path, api: _MetricsApi, clock: _Clock, out: io.StringIO) -> Demo:
    return Demo(
        config=StackConfig(root=tmp_path),
        settings=cast(InfraSettings, None),  # not used while following
        client=cast(EmsClient, api),
        aws=cast(AwsClients, None),
        out=Console(file=out, width=120),
        clock=clock.now,
        sleep=clock.sleep,
    )


def test_following_prints_a_line_per_refresh_until_the_campaign_completes(
    tmp_path: Path,
) -> None:
    # Given a campaign that launches, sends and completes
    api = _MetricsApi(
        [
            {"status": "SCHEDULED", "total": 10, "sent": 0, "finished": 0},
            {"status": "SENDING", "total": 10, "sent": 4, "finished": 4},
            {"status": "COMPLETED", "total": 10, "sent": 10, "finished": 10},
        ]
    )
    out, started = io.StringIO(), []

    # When the demo follows it
    final = _demo(tmp_path, api, _Clock(), out).follow("c1", lambda: started.append(1))

    # Then it printed a line each time, ran the transactional step once, and returns the end
    lines = out.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == ["SCHEDULED", "SENDING", "COMPLETED"]
    assert started == [1]
    assert final["status"] == "COMPLETED"


def test_a_campaign_without_progress_for_a_minute_fails_naming_the_logs(tmp_path: Path) -> None:
    # Given a campaign stuck sending
    api = _MetricsApi([{"status": "SENDING", "total": 10, "sent": 3, "finished": 3}])
    clock = _Clock()

    # When the demo follows it, then it gives up after STALL_S and says which logs to read
    with pytest.raises(DemoError, match="made no progress for 60 s") as error:
        _demo(tmp_path, api, clock, io.StringIO()).follow("c1", lambda: None)
    assert clock.now_s == STALL_S
    assert ".ems/logs/sender-campaign-1.log" in str(error.value)
    assert ".ems/logs/tracker.log" in str(error.value)


def test_the_console_url_is_the_campaigns_page_under_the_api() -> None:
    assert (
        console_url("http://127.0.0.1:8080/", "demo-1")
        == "http://127.0.0.1:8080/console/campaigns/demo-1"
    )
