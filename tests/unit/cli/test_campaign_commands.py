"""`ems campaign list | describe | reschedule | pause | resume | cancel | delete` against a
stand-in API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from ems_common.campaigns import CampaignStatus, Pause, PausedBy
from tests.unit.cli.fakes import (
    NOW,
    FakeApi,
    campaign_json,
    error_json,
    json_body,
    metrics_json,
    run_ems,
)

BRAKE_REASON = (
    "Hard-bounce rate 6.0% (30 of 500 sent) reached the limit of 5.0%. Paused before SES"
    " reviews the account: check where the list came from, then resume or cancel"
)


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
    for command in (
        *("create", "list", "describe", "reschedule", "pause", "resume", "cancel", "delete"),
    ):
        result = run_ems(["campaign", command, "--help"], cwd=tmp_path, options=())
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, command


# --- pause, resume, and what describe says of a paused or settled campaign --------------------


def _paused(
    by: PausedBy, reason: str, resume_to: Literal["LAUNCHING", "SENDING"] = "SENDING"
) -> dict[str, Any]:
    pause = Pause(by=by, reason=reason, paused_at=NOW, resume_to=resume_to)
    return campaign_json("summer", CampaignStatus.PAUSED, pause=pause)


def _row(stdout: str, label: str) -> str:
    """The text of the summary row that starts with `label`, after the label."""
    for line in stdout.splitlines():
        if line.startswith(label):
            return line[len(label) :].strip()
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


def test_pause_posts_to_pause_and_says_how_to_resume(tmp_path: Path) -> None:
    # Given a sending campaign the API pauses
    paused = _paused(PausedBy.OPERATOR, "paused by an operator: POST /campaigns/{id}/resume")
    api = FakeApi().on("POST /campaigns/summer/pause", httpx.Response(200, json=paused))

    # When
    result = run_ems(["campaign", "pause", "summer"], api, cwd=tmp_path)

    # Then it asked once, and the summary says it is paused, by whom and how it goes on
    assert result.exit_code == 0, result.output
    assert len(api.sent("POST /campaigns/summer/pause")) == 1
    out = result.stdout
    assert "Paused campaign summer: nothing more is sent until `ems campaign resume summer`." in out
    assert _row(out, "Status") == "PAUSED"
    assert _row(out, "Paused by") == "an operator (ems campaign pause)"
    assert _row(out, "Resume").startswith("ems campaign resume summer goes back to SENDING")


def test_pause_json_prints_the_raw_answer(tmp_path: Path) -> None:
    paused = _paused(PausedBy.OPERATOR, "paused by an operator")
    api = FakeApi().on("POST /campaigns/summer/pause", httpx.Response(200, json=paused))

    result = run_ems(["campaign", "pause", "summer", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == paused


def test_pausing_a_campaign_that_has_not_launched_says_what_to_do_instead(tmp_path: Path) -> None:
    api = FakeApi().on(
        "POST /campaigns/summer/pause",
        error_json(409, "conflict", "campaign summer is SCHEDULED: pause needs LAUNCHING, SENDING"),
    )

    result = run_ems(["campaign", "pause", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert (
        "campaign summer is SCHEDULED: pause needs LAUNCHING, SENDING (HTTP 409 conflict)"
        in result.stderr
    )
    assert "Only a LAUNCHING or SENDING campaign can be paused" in result.stderr
    assert "`ems campaign reschedule` or `ems campaign cancel` it" in result.stderr


def test_resume_posts_to_resume(tmp_path: Path) -> None:
    sending = campaign_json("summer", CampaignStatus.SENDING)
    api = FakeApi().on("POST /campaigns/summer/resume", httpx.Response(200, json=sending))

    result = run_ems(["campaign", "resume", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert len(api.sent("POST /campaigns/summer/resume")) == 1
    assert "Resumed campaign summer." in result.stdout
    assert _row(result.stdout, "Status") == "SENDING"
    assert "Paused by" not in result.stdout


def test_resuming_a_campaign_that_is_not_paused_prints_the_conflict(tmp_path: Path) -> None:
    api = FakeApi().on(
        "POST /campaigns/summer/resume",
        error_json(409, "conflict", "campaign summer is COMPLETED: resume needs PAUSED"),
    )

    result = run_ems(["campaign", "resume", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "campaign summer is COMPLETED: resume needs PAUSED (HTTP 409 conflict)" in result.stderr


def test_describe_a_campaign_the_brake_paused_shows_why_and_its_ambiguous_emails(
    tmp_path: Path,
) -> None:
    # Given a campaign the brake paused, one of whose emails SES's answer was lost for
    api = (
        FakeApi()
        .on(
            "GET /campaigns/summer", httpx.Response(200, json=_paused(PausedBy.BRAKE, BRAKE_REASON))
        )
        .on(
            "GET /campaigns/summer/metrics",
            httpx.Response(200, json=metrics_json(status=CampaignStatus.PAUSED, ambiguous=1)),
        )
    )

    # When
    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    # Then who paused it, when, why, and what resume does, then the ambiguous email
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert _row(out, "Paused by") == "the reputation brake (its bounce or complaint rate)"
    assert _row(out, "Paused at").startswith("2030-01-01T09:00:00Z")
    assert "Hard-bounce rate 6.0% (30 of 500 sent) reached the limit of 5.0%" in out
    assert "ems campaign resume summer goes back to SENDING" in out
    assert _row(out, "Ambiguous").startswith("1 email: SES's answer to the send was lost")
    assert "Unconfirmed" not in out  # none: not shown


def test_describe_a_campaign_ses_paused_while_launching_says_it_resumes_launching(
    tmp_path: Path,
) -> None:
    reason = "SES refused the campaign's sender: AccessDeniedException: not authorized"
    api = (
        FakeApi()
        .on(
            "GET /campaigns/summer",
            httpx.Response(200, json=_paused(PausedBy.SES, reason, resume_to="LAUNCHING")),
        )
        .on("GET /campaigns/summer/metrics", httpx.Response(200, json=metrics_json()))
    )

    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert _row(result.stdout, "Paused by") == "SES (it refused the campaign's sender)"
    assert _row(result.stdout, "Why") == reason
    assert "goes back to LAUNCHING" in result.stdout


def test_describe_a_settled_campaign_says_what_settled_means_and_counts_unconfirmed(
    tmp_path: Path,
) -> None:
    # Given a campaign the reconciler completed with one email that never got a final event
    note = "1 of 2 emails had no final outcome 6.0 h after the last one did: counted unconfirmed"
    completed = campaign_json("summer", CampaignStatus.COMPLETED, settled=note)
    numbers = metrics_json(
        status=CampaignStatus.COMPLETED, sent=2, delivered=1, unconfirmed=1, finished=2
    )
    api = (
        FakeApi()
        .on("GET /campaigns/summer", httpx.Response(200, json=completed))
        .on("GET /campaigns/summer/metrics", httpx.Response(200, json=numbers))
    )

    # When
    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    # Then
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert _row(out, "Settled").startswith(
        "completed without every email's final outcome: the emails with no final event are"
        " counted unconfirmed."
    )
    assert note in " ".join(out.split())  # the table may wrap it
    assert _row(out, "Unconfirmed").startswith("1 email: settled without a final event")
    assert "Ambiguous" not in out


def test_describe_of_a_campaign_not_launched_reads_no_numbers(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns/summer", httpx.Response(200, json=campaign_json()))

    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert [f"{r.method} {r.url.path}" for r in api.requests] == ["GET /campaigns/summer"]


def test_describe_shows_the_campaign_when_its_numbers_cannot_be_read(tmp_path: Path) -> None:
    # Given a sending campaign whose numbers the API fails to read
    api = (
        FakeApi()
        .on(
            "GET /campaigns/summer",
            httpx.Response(200, json=campaign_json("summer", CampaignStatus.SENDING)),
        )
        .on("GET /campaigns/summer/metrics", error_json(500, "internal", "the numbers broke"))
    )

    # When
    result = run_ems(["campaign", "describe", "summer"], api, cwd=tmp_path)

    # Then the campaign is shown, and stderr says what could not be read and where to look
    assert result.exit_code == 0, result.output
    assert _row(result.stdout, "Status") == "SENDING"
    assert "could not read the numbers of campaign summer" in result.stderr
    assert "the numbers broke" in result.stderr
    assert "ems campaign metrics summer" in result.stderr
