"""`ems campaign list | describe | reschedule | cancel | delete` against a stand-in API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ems_common.campaigns import CampaignStatus
from tests.unit.cli.fakes import FakeApi, campaign_json, error_json, json_body, run_ems


def _page(*campaign_ids: str, next_page: str | None = None) -> httpx.Response:
    return httpx.Response(
        200,
        json={"campaigns": [campaign_json(c) for c in campaign_ids], "next_page": next_page},
    )


def test_list_all_follows_next_page_and_shows_one_table(tmp_path: Path) -> None:
    # Given two pages of scheduled campaigns
    api = FakeApi().on(
        "GET /campaigns", _page("spring", "summer", next_page="tok-2"), _page("autumn")
    )

    # When
    result = run_ems(
        ["campaign", "list", "--status", "scheduled", "--limit", "2", "--all"], api, cwd=tmp_path
    )

    # Then it asked for both pages with the same filter, the second by the token
    assert result.exit_code == 0, result.output
    first, second = (dict(r.url.params) for r in api.sent("GET /campaigns"))
    assert first == {"status": "SCHEDULED", "limit": "2"}
    assert second == {"status": "SCHEDULED", "limit": "2", "page": "tok-2"}
    for campaign_id in ("spring", "summer", "autumn"):
        assert campaign_id in result.stdout
    assert "SCHEDULED" in result.stdout
    assert "More campaigns" not in result.stdout


def test_list_one_page_says_how_to_get_the_next(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", _page("spring", next_page="tok-2"))

    result = run_ems(["campaign", "list"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert len(api.sent("GET /campaigns")) == 1
    assert "More campaigns: add --all, or --page tok-2" in result.stdout


def test_list_page_starts_at_the_token(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", _page("autumn"))

    result = run_ems(["campaign", "list", "--page", "tok-2"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert api.sent("GET /campaigns")[0].url.params["page"] == "tok-2"


def test_list_with_nothing_says_so(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", _page())

    result = run_ems(["campaign", "list", "--status", "SENDING"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "No SENDING campaigns." in result.stdout


def test_list_all_json_prints_every_campaign(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", _page("spring", next_page="t"), _page("autumn"))

    result = run_ems(["campaign", "list", "--all", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [c["campaign_id"] for c in body["campaigns"]] == ["spring", "autumn"]
    assert body["next_page"] is None


def test_list_limit_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = run_ems(["campaign", "list", "--limit", "500"], cwd=tmp_path)

    assert result.exit_code == 2


def test_describe_json_prints_the_raw_answer(tmp_path: Path) -> None:
    body = campaign_json("summer")
    api = FakeApi().on("GET /campaigns/summer", httpx.Response(200, json=body))

    result = run_ems(["campaign", "describe", "summer", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_describe_shows_progress_of_a_sending_campaign(tmp_path: Path) -> None:
    sending = campaign_json("summer", CampaignStatus.SENDING, progress=("launching", 3, 4))
    api = FakeApi().on("GET /campaigns/summer", httpx.Response(200, json=sending))

    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "SENDING" in result.stdout
    assert "launching 3/4 (75%)" in result.stdout


def test_describe_says_when_the_rejected_recipients_details_go_or_went(tmp_path: Path) -> None:
    kept = campaign_json("summer")
    expired = {**kept, "rejections": [], "rejections_expired": True}
    api = FakeApi().on(
        "GET /campaigns/summer", httpx.Response(200, json=kept), httpx.Response(200, json=expired)
    )

    first = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)
    second = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    assert "Details kept until" in first.stdout
    assert "First rejections (1 of 1)" in first.stdout
    assert "Details deleted" in second.stdout
    assert "First rejections" not in second.stdout
    assert "invalid_address 1" in second.stdout  # the counts stay


def test_describe_an_unknown_campaign_says_so(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /campaigns/nope", error_json(404, "not_found", "there is no campaign 'nope'")
    )

    result = run_ems(["campaign", "describe", "nope"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "there is no campaign 'nope' (HTTP 404 not_found)" in result.stderr


def test_an_id_stays_one_path_segment(tmp_path: Path) -> None:
    api = FakeApi()

    run_ems(["campaign", "describe", "../openapi.json"], api, cwd=tmp_path)

    assert api.requests[0].url.raw_path == b"/campaigns/..%2Fopenapi.json"


def test_reschedule_sends_the_date(tmp_path: Path) -> None:
    api = FakeApi().on("PATCH /campaigns/summer", httpx.Response(200, json=campaign_json()))

    result = run_ems(
        ["campaign", "reschedule", "summer", "2030-01-02T09:00:00+02:00"], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent("PATCH /campaigns/summer")[0]) == {
        "date": "2030-01-02T09:00:00+02:00"
    }
    assert "Rescheduled campaign summer." in result.stdout


def test_reschedule_a_launched_campaign_prints_the_conflict(tmp_path: Path) -> None:
    api = FakeApi().on(
        "PATCH /campaigns/summer",
        error_json(409, "conflict", "cannot reschedule campaign summer: it is SENDING"),
    )

    result = run_ems(
        ["campaign", "reschedule", "summer", "2030-01-02T09:00:00+00:00"], api, cwd=tmp_path
    )

    assert result.exit_code == 1
    assert "cannot reschedule campaign summer: it is SENDING (HTTP 409 conflict)" in result.stderr


def test_cancel_posts_to_cancel(tmp_path: Path) -> None:
    cancelled = campaign_json("summer", CampaignStatus.CANCELLED)
    api = FakeApi().on("POST /campaigns/summer/cancel", httpx.Response(200, json=cancelled))

    result = run_ems(["campaign", "cancel", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert len(api.sent("POST /campaigns/summer/cancel")) == 1
    assert "Cancelled campaign summer." in result.stdout
    assert "CANCELLED" in result.stdout


@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("y\n", True)])
def test_delete_asks_first(tmp_path: Path, answer: str, deleted: bool) -> None:
    api = FakeApi().on("DELETE /campaigns/summer", httpx.Response(204))

    result = run_ems(["campaign", "delete", "summer"], api, cwd=tmp_path, input=answer)

    assert "Delete campaign summer?" in result.output
    assert bool(api.sent("DELETE /campaigns/summer")) is deleted
    assert result.exit_code == (0 if deleted else 1)
    assert ("Deleted campaign summer." in result.stdout) is deleted


def test_delete_yes_does_not_ask(tmp_path: Path) -> None:
    api = FakeApi().on("DELETE /campaigns/summer", httpx.Response(204))

    result = run_ems(["campaign", "delete", "summer", "--yes"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "Delete campaign summer?" not in result.output
    assert len(api.sent("DELETE /campaigns/summer")) == 1
    assert result.stdout.strip() == "Deleted campaign summer."


def test_every_command_explains_itself_with_an_example(tmp_path: Path) -> None:
    for command in ("create", "list", "describe", "reschedule", "cancel", "delete"):
        result = run_ems(["campaign", command, "--help"], cwd=tmp_path, options=())
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, command
