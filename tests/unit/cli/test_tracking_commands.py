"""`ems campaign metrics | recipient` and `ems suppressions list | remove` against a stand-in API.

The bodies are made by the scheduler's own views, so a field renamed there fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from ems_cli import campaigns
from ems_cli.main import app
from ems_cli.session import Session
from ems_common.campaigns import Campaign, CampaignStatus, RecipientCounts, SegmentSummary
from ems_common.dal.metrics import CampaignNumbers
from ems_common.suppressions import Suppression, SuppressionReason
from ems_scheduler.api.tracking import CampaignMetricsView, TimelineMinuteView, TimelineView
from ems_scheduler.tracking.reads import RecordedEvent
from tests.unit.cli.fakes import (
    CLEAN_ENV,
    KEY,
    URL,
    FakeApi,
    error_json,
    run_ems,
    sent_email,
)

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
METRICS = "GET /campaigns/summer/metrics"


def _metrics(status: CampaignStatus = CampaignStatus.SENDING, *, sent: int = 79) -> dict[str, Any]:
    campaign = Campaign(
        campaign_id="summer",
        status=status,
        scheduled_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
        recipients=RecipientCounts(accepted=100),
        segments=[
            SegmentSummary(
                list_name=name,
                template_name=f"t-{name}",
                from_address="news@example.com",
                configuration_set="ems",
                accepted=accepted,
                rejected=0,
            )
            for name, accepted in (("gold", 80), ("silver", 20))
        ],
    )
    gold = Counter(
        sent=sent - 1,
        delivered=70,
        bounced_hard=3,
        bounced_soft=2,
        complained=1,
        opened_unique=35,
        opened_total=50,
        clicked_unique=7,
        clicked_total=9,
        failed=1,
        suppressed=1,
        finished=76,
    )
    silver = Counter(sent=1, finished=1)
    numbers = CampaignNumbers(total=gold + silver, segments={"gold": gold, "silver": silver})
    return CampaignMetricsView.of(campaign, numbers).model_dump(mode="json")


def _recipient() -> dict[str, Any]:
    bounce = RecordedEvent(
        "Bounce",
        "2030-01-01T09:00:04.500+00:00",
        "m-1",
        {"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail"}},
    )
    record = {
        "segment_id": "gold",
        "bounced_at": "2030-01-01T09:00:04+00:00",
        "bounce_type": "Permanent",
    }
    return sent_email("summer", "ann+news@example.com", record, bounce).model_dump(mode="json")


def _suppressions(*addresses: str, next_page: str | None = None) -> httpx.Response:
    # A suppression as the API contract of issue 17 shows it: with its scope, a reason code
    # and the detail (the bounce's sub-type) apart.
    suppressions = [
        Suppression(
            address=a,
            scope="all",
            reason=SuppressionReason.HARD_BOUNCE,
            detail="General",
            source="ses:Bounce",
            suppressed_at=NOW,
        ).model_dump(mode="json")
        for a in addresses
    ]
    return httpx.Response(200, json={"suppressions": suppressions, "next_page": next_page})


def _row(stdout: str, label: str) -> list[str]:
    """The words of the table row that starts with `label`, after the label."""
    for line in stdout.splitlines():
        if line.strip().startswith(label):
            return line.strip()[len(label) :].split()
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


# --- ems campaign metrics --------------------------------------------------------------------


def test_metrics_show_a_table_of_counts_and_rates_per_segment(tmp_path: Path) -> None:
    # Given a campaign of 100 with numbers in two segments
    api = FakeApi().on(METRICS, httpx.Response(200, json=_metrics()))

    # When
    result = run_ems(["campaign", "metrics", "summer"], api, cwd=tmp_path)

    # Then a column per segment after the total, rates as percentages next to their counts
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Campaign summer  SENDING  77 of 100 emails finished (77.0%)" in out
    header = next(line for line in out.splitlines() if "Total" in line).split()
    assert header == ["Total", "gold", "silver"]
    assert _row(out, "Recipients") == ["100", "80", "20"]
    assert _row(out, "Sent") == ["79", "78", "1"]
    assert _row(out, "Delivered") == ["70", "88.6%", "70", "89.7%", "0", "0.0%"]
    assert _row(out, "Bounced") == ["5", "6.3%", "5", "6.4%", "0", "0.0%"]
    assert _row(out, "hard") == ["3", "3", "0"]
    assert _row(out, "Complained") == ["1", "1.3%", "1", "1.3%", "0", "0.0%"]
    # silver has nothing delivered: no open or click rate to show
    assert _row(out, "Opened") == ["35", "50.0%", "35", "50.0%", "0"]
    assert _row(out, "opens") == ["50", "50", "0"]
    assert _row(out, "Clicked") == ["7", "10.0%", "7", "10.0%", "0"]
    assert _row(out, "Failed") == ["1", "1", "0"]
    assert _row(out, "Suppressed") == ["1", "1", "0"]
    assert _row(out, "Finished") == ["77", "77.0%", "76", "95.0%", "1", "5.0%"]
    assert len(api.sent(METRICS)) == 1  # not a terminal: shown once


def test_metrics_show_ambiguous_and_unconfirmed_rows_only_when_there_are_some(
    tmp_path: Path,
) -> None:
    # Given a campaign with none, then the same one settled with some of each
    quiet = _metrics(CampaignStatus.COMPLETED)
    settled = _metrics(CampaignStatus.COMPLETED)
    settled.update(ambiguous=2, unconfirmed=3)
    settled["segments"][1].update(ambiguous=2, unconfirmed=3)
    api = FakeApi().on(METRICS, httpx.Response(200, json=quiet), httpx.Response(200, json=settled))

    # When both are shown
    first = run_ems(["campaign", "metrics", "summer"], api, cwd=tmp_path)
    second = run_ems(["campaign", "metrics", "summer"], api, cwd=tmp_path)

    # Then the rows appear only where some email is counted in them, per segment
    assert first.exit_code == 0, first.output
    assert "Ambiguous" not in first.stdout
    assert "Unconfirmed" not in first.stdout
    assert second.exit_code == 0, second.output
    assert _row(second.stdout, "Ambiguous") == ["2", "0", "2"]
    assert _row(second.stdout, "Unconfirmed") == ["3", "0", "3"]


def test_metrics_json_is_the_api_answer(tmp_path: Path) -> None:
    body = _metrics()
    api = FakeApi().on(METRICS, httpx.Response(200, json=body))

    result = run_ems(["campaign", "metrics", "summer", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_timeline_shows_a_row_per_minute_and_the_sums(tmp_path: Path) -> None:
    # Given two minutes of events, made by the API's own view
    body = TimelineView(
        campaign_id="summer",
        status=CampaignStatus.SENDING,
        launched_at=NOW,
        minutes=[
            TimelineMinuteView(
                minute=NOW, sent=40, delivered=30, opened=2, clicked=0, bounced=1, complained=0
            ),
            TimelineMinuteView(
                minute=NOW.replace(minute=4),
                sent=9,
                delivered=15,
                opened=5,
                clicked=1,
                bounced=0,
                complained=1,
            ),
        ],
        truncated=False,
    ).model_dump(mode="json")
    api = FakeApi().on("GET /campaigns/summer/timeline", httpx.Response(200, json=body))

    # When
    result = run_ems(["campaign", "timeline", "summer"], api, cwd=tmp_path)

    # Then
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Campaign summer  SENDING  launched 2030-01-01 09:00" in out
    assert _row(out, "2030-01-01 09:00") == ["40", "30", "2", "0", "1", "0"]
    assert _row(out, "2030-01-01 09:04") == ["9", "15", "5", "1", "0", "1"]
    assert _row(out, "Total") == ["49", "45", "7", "1", "1", "1"]
    as_json = run_ems(["campaign", "timeline", "summer", "--json"], api, cwd=tmp_path)
    assert json.loads(as_json.stdout) == body


def test_metrics_of_an_unknown_campaign_prints_the_api_message(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /campaigns/nope/metrics", error_json(404, "not_found", "there is no campaign 'nope'")
    )

    result = run_ems(["campaign", "metrics", "nope"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "there is no campaign 'nope' (HTTP 404 not_found)" in result.stderr


def _run_watching(args: list[str], api: FakeApi, tmp_path: Path, sleeps: list[float]) -> Any:
    session = Session(
        transport=httpx.MockTransport(api.handle), sleep=sleeps.append, cwd=lambda: tmp_path
    )
    return CliRunner().invoke(
        app, ["--api-url", URL, "--api-key", KEY, *args], obj=session, env=CLEAN_ENV
    )


def test_watch_refreshes_until_the_campaign_completes(tmp_path: Path) -> None:
    # Given a campaign that sends, moves on, then completes (the last answer would repeat)
    api = FakeApi().on(
        METRICS,
        httpx.Response(200, json=_metrics(sent=10)),
        httpx.Response(200, json=_metrics(sent=50)),
        httpx.Response(200, json=_metrics(sent=50)),
        httpx.Response(200, json=_metrics(CampaignStatus.COMPLETED, sent=99)),
    )
    sleeps: list[float] = []

    # When it is watched every 3 s
    result = _run_watching(
        ["campaign", "metrics", "summer", "--watch", "--interval", "3"], api, tmp_path, sleeps
    )

    # Then it asked until COMPLETED, waiting the interval between, and stopped there
    assert result.exit_code == 0, result.output
    assert len(api.sent(METRICS)) == 4
    assert sleeps == [3.0, 3.0, 3.0]
    # a table per change (not per refresh): the unchanged third answer printed nothing
    assert result.stdout.count("Campaign summer") == 3
    assert _row(result.stdout.split("COMPLETED")[-1], "Sent")[0] == "99"
    assert "COMPLETED" in result.stdout


def test_on_a_terminal_it_watches_by_default_and_redraws_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a terminal (rich's Live redraws there) and a campaign about to complete
    monkeypatch.setattr(
        campaigns, "make_console", lambda **_: Console(force_terminal=True, width=120)
    )
    api = FakeApi().on(
        METRICS,
        httpx.Response(200, json=_metrics(CampaignStatus.SENDING, sent=10)),
        httpx.Response(200, json=_metrics(CampaignStatus.COMPLETED)),
    )
    sleeps: list[float] = []

    # When it runs without --watch or --once
    result = _run_watching(["campaign", "metrics", "summer"], api, tmp_path, sleeps)

    # Then it refreshed until COMPLETED, at the default interval
    assert result.exit_code == 0, result.output
    assert len(api.sent(METRICS)) == 2
    assert sleeps == [5.0]
    assert "COMPLETED" in result.stdout


def test_watch_json_prints_one_document_per_change(tmp_path: Path) -> None:
    api = FakeApi().on(
        METRICS,
        httpx.Response(200, json=_metrics(CampaignStatus.LAUNCHING, sent=0)),
        httpx.Response(200, json=_metrics(CampaignStatus.COMPLETED)),
    )

    result = run_ems(["campaign", "metrics", "summer", "--watch", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["LAUNCHING", "COMPLETED"]


def test_watch_on_a_campaign_that_is_not_sending_shows_it_once(tmp_path: Path) -> None:
    api = FakeApi().on(METRICS, httpx.Response(200, json=_metrics(CampaignStatus.COMPLETED)))

    result = run_ems(["campaign", "metrics", "summer", "--watch"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert len(api.sent(METRICS)) == 1
    assert "Campaign summer is COMPLETED, not sending" in result.stderr


def test_once_never_refreshes_a_sending_campaign(tmp_path: Path) -> None:
    api = FakeApi().on(METRICS, httpx.Response(200, json=_metrics()))

    result = run_ems(["campaign", "metrics", "summer", "--once"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert len(api.sent(METRICS)) == 1


def test_interval_below_a_second_is_a_usage_error(tmp_path: Path) -> None:
    api = FakeApi()

    result = run_ems(["campaign", "metrics", "summer", "--interval", "0.1"], api, cwd=tmp_path)

    assert result.exit_code == 2
    assert api.requests == []


# --- ems campaign recipient ------------------------------------------------------------------


def test_recipient_shows_the_status_times_and_events(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /campaigns/summer/recipients/ann+news@example.com",
        httpx.Response(200, json=_recipient()),
    )

    result = run_ems(["campaign", "recipient", "summer", "ann+news@example.com"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    # "+" is sent percent-encoded, so no server reads it as a space
    (request,) = api.requests
    assert request.url.raw_path == b"/campaigns/summer/recipients/ann%2Bnews@example.com"
    out = result.stdout
    assert "Recipient ann+news@example.com of campaign summer" in out
    assert "BOUNCED" in out
    assert "2030-01-01T09:00:04Z" in out
    assert "Permanent" in out
    bounce = next(line for line in out.splitlines() if "Bounce " in line)
    assert "Permanent NoEmail" in bounce
    assert "2030-01-01 09:00:04.500" in bounce


def test_recipient_json_is_the_api_answer(tmp_path: Path) -> None:
    body = _recipient()
    api = FakeApi().on(
        "GET /campaigns/summer/recipients/ann+news@example.com", httpx.Response(200, json=body)
    )

    result = run_ems(
        ["campaign", "recipient", "summer", "ann+news@example.com", "--json"], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_a_non_recipient_prints_the_api_message(tmp_path: Path) -> None:
    message = "zed@example.com is not a recipient of campaign 'summer'"
    api = FakeApi().on(
        "GET /campaigns/summer/recipients/zed@example.com", error_json(404, "not_found", message)
    )

    result = run_ems(["campaign", "recipient", "summer", "zed@example.com"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert message in result.stderr


# --- ems suppressions ------------------------------------------------------------------------


def test_suppressions_list_shows_a_table_and_how_to_go_on(tmp_path: Path) -> None:
    api = FakeApi().on("GET /suppressions", _suppressions("a@example.com", next_page="tok-2"))

    result = run_ems(["suppressions", "list", "--limit", "1"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert dict(api.requests[0].url.params) == {"limit": "1"}
    assert _row(result.stdout, "a@example.com") == [
        *("all", "hard_bounce", "General"),
        "ses:Bounce",
        *("2030-01-01", "09:00"),
    ]
    assert "More addresses: add --all, or --page tok-2" in result.stdout


def test_suppressions_list_all_follows_the_pages(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /suppressions",
        _suppressions("a@example.com", next_page="tok-2"),
        _suppressions("b@example.com"),
    )

    result = run_ems(["suppressions", "list", "--all", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert [r.url.params.get("page") for r in api.requests] == [None, "tok-2"]
    body = json.loads(result.stdout)
    assert [s["address"] for s in body["suppressions"]] == ["a@example.com", "b@example.com"]
    assert body["next_page"] is None


def test_an_empty_suppression_list_says_so(tmp_path: Path) -> None:
    api = FakeApi().on("GET /suppressions", _suppressions())

    result = run_ems(["suppressions", "list"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "No suppressed addresses." in result.stdout


@pytest.mark.parametrize(("answer", "code", "deletes"), [("n\n", 1, 0), ("y\n", 0, 1)])
def test_remove_asks_first(tmp_path: Path, answer: str, code: int, deletes: int) -> None:
    api = FakeApi().on("DELETE /suppressions/ann@example.com", httpx.Response(204))

    result = run_ems(["suppressions", "remove", "ann@example.com"], api, cwd=tmp_path, input=answer)

    assert result.exit_code == code, result.output
    assert "Lift the suppression of ann@example.com?" in result.output
    assert len(api.requests) == deletes


def test_remove_yes_lifts_it(tmp_path: Path) -> None:
    api = FakeApi().on("DELETE /suppressions/ann@example.com", httpx.Response(204))

    result = run_ems(["suppressions", "remove", "ann@example.com", "--yes"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "Lifted the suppression of ann@example.com" in result.stdout


def test_remove_an_address_that_is_not_suppressed_says_so(tmp_path: Path) -> None:
    message = "zed@example.com is not on the suppression list: there is nothing to lift"
    api = FakeApi().on(
        "DELETE /suppressions/zed@example.com", error_json(404, "not_found", message)
    )

    result = run_ems(["suppressions", "remove", "zed@example.com", "-y"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert f"{message} (HTTP 404 not_found)" in result.stderr
