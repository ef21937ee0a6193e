"""`ems campaign create`: the request it builds (file, stdin, S3 URI) and what it shows."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from ems_common.campaigns import CampaignStatus
from tests.unit.cli.fakes import KEY, FakeApi, campaign_json, error_json, json_body, run_ems

CANDIDATE = {
    "date": "2030-01-01T12:00:00+00:00",
    "templateS3Uri": "s3://ems-local-assets/templates/hi.html",
    "segments": [
        {
            "list_name": "gold",
            "recipients": [
                {"to_address": "ann@example.org", "name": "Ann"},
                {"to_address": "bob@example.org", "name": "Bob"},
                {"to_address": "not-an-address", "name": "X"},
            ],
        }
    ],
}


def _candidate_file(folder: Path, document: object = CANDIDATE) -> Path:
    path = folder / "summer.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def test_create_from_a_file_sends_it_unchanged_and_summarises_the_campaign(
    tmp_path: Path,
) -> None:
    # Given a candidate file and an API that schedules it
    path = _candidate_file(tmp_path)
    api = FakeApi().on("POST /campaigns", httpx.Response(201, json=campaign_json("summer")))

    # When
    result = run_ems(["campaign", "create", str(path)], api, cwd=tmp_path)

    # Then the file went out byte for byte, with the key
    assert result.exit_code == 0, result.output
    (request,) = api.sent("POST /campaigns")
    assert request.content == path.read_bytes()
    assert request.headers["X-Api-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    # and the user reads the id, status, date, counts, reasons and the first rejections
    out = result.stdout
    assert "Created campaign summer." in out
    assert "SCHEDULED" in out
    assert "2030-01-01T12:00:00Z" in out
    assert "2 accepted, 1 rejected" in out
    assert "invalid_address 1" in out
    assert "First rejections (1 of 1)" in out
    assert "not-an-address" in out
    assert "ems-summer-gold" in out


def test_create_from_stdin_with_id_writes_the_id_into_the_document(tmp_path: Path) -> None:
    api = FakeApi().on("POST /campaigns", httpx.Response(201, json=campaign_json("spring-1")))

    result = run_ems(
        ["campaign", "create", "-", "--id", "spring-1"],
        api,
        cwd=tmp_path,
        input=json.dumps(CANDIDATE),
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent("POST /campaigns")[0]) == {**CANDIDATE, "campaign_id": "spring-1"}
    assert "Created campaign spring-1." in result.stdout


def test_create_from_stdin_without_id_sends_stdin_as_is(tmp_path: Path) -> None:
    api = FakeApi().on("POST /campaigns", httpx.Response(201, json=campaign_json()))

    result = run_ems(["campaign", "create", "-"], api, cwd=tmp_path, input=b'{"date": 1}')

    assert result.exit_code == 0, result.output
    assert api.sent("POST /campaigns")[0].content == b'{"date": 1}'


def test_create_again_with_the_same_body_says_nothing_changed(tmp_path: Path) -> None:
    api = FakeApi().on("POST /campaigns", httpx.Response(200, json=campaign_json("summer")))

    result = run_ems(["campaign", "create", str(_candidate_file(tmp_path))], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "already exists with this same candidate; nothing changed" in result.stdout


def test_an_id_that_contradicts_the_file_is_a_usage_error_and_sends_nothing(
    tmp_path: Path,
) -> None:
    path = _candidate_file(tmp_path, {**CANDIDATE, "campaign_id": "summer"})
    api = FakeApi()

    result = run_ems(["campaign", "create", str(path), "--id", "winter"], api, cwd=tmp_path)

    assert result.exit_code == 2
    assert "sets campaign_id 'summer' but --id says 'winter'" in result.stderr
    assert api.requests == []


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_ems(["campaign", "create", str(tmp_path / "nope.json")], cwd=tmp_path)

    assert result.exit_code == 2
    assert "cannot read the candidate" in result.stderr
    assert "nope.json" in result.stderr


def test_file_and_s3_uri_together_or_neither_are_usage_errors(tmp_path: Path) -> None:
    path = str(_candidate_file(tmp_path))

    both = run_ems(["campaign", "create", path, "--s3-uri", "s3://b/k.json"], cwd=tmp_path)
    neither = run_ems(["campaign", "create"], cwd=tmp_path)

    assert (both.exit_code, neither.exit_code) == (2, 2)
    assert "not both" in both.stderr
    assert "--s3-uri" in neither.stderr


def test_create_from_s3_sends_the_reference_and_says_it_is_being_verified(
    tmp_path: Path,
) -> None:
    verifying = campaign_json("big", CampaignStatus.VERIFYING, rejected=False)
    api = FakeApi().on("POST /campaigns", httpx.Response(202, json=verifying))

    result = run_ems(
        ["campaign", "create", "--s3-uri", "s3://ems-local-assets/c/big.json", "--id", "big"],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent("POST /campaigns")[0]) == {
        "candidateS3Uri": "s3://ems-local-assets/c/big.json",
        "campaign_id": "big",
    }
    assert "EMS is verifying the candidate" in result.stdout
    assert "ems campaign describe big" in result.stdout
    assert api.sent("GET /campaigns/big") == []  # no --wait, no polling


def test_create_wait_polls_while_verifying_and_shows_progress(tmp_path: Path) -> None:
    # Given a candidate in S3 that EMS compiles over two polls
    api = (
        FakeApi()
        .on(
            "POST /campaigns",
            httpx.Response(202, json=campaign_json("big", CampaignStatus.VERIFYING)),
        )
        .on(
            "GET /campaigns/big",
            httpx.Response(
                200,
                json=campaign_json(
                    "big", CampaignStatus.VERIFYING, progress=("compiling", 500, 1000)
                ),
            ),
            httpx.Response(200, json=campaign_json("big", CampaignStatus.SCHEDULED)),
        )
    )

    # When
    result = run_ems(
        ["campaign", "create", "--s3-uri", "s3://ems-local-assets/c/big.json", "--wait"],
        api,
        cwd=tmp_path,
    )

    # Then it polled until SCHEDULED, reporting progress (a line per change off a terminal)
    assert result.exit_code == 0, result.output
    assert len(api.sent("GET /campaigns/big")) == 2
    assert "big VERIFYING: compiling 500/1,000 (50%)" in result.stderr
    assert "Created campaign big." in result.stdout
    assert "SCHEDULED" in result.stdout


def test_create_wait_ending_rejected_shows_the_problems_and_fails(tmp_path: Path) -> None:
    rejected = campaign_json(
        "big",
        CampaignStatus.REJECTED,
        rejected=False,
        problems=[{"path": "$.segments[0].list_name", "message": "Field required"}],
    )
    api = (
        FakeApi()
        .on(
            "POST /campaigns",
            httpx.Response(202, json=campaign_json("big", CampaignStatus.VERIFYING)),
        )
        .on("GET /campaigns/big", httpx.Response(200, json=rejected))
    )

    result = run_ems(
        ["campaign", "create", "--s3-uri", "s3://ems-local-assets/c/big.json", "--wait"],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 1
    assert "$.segments[0].list_name" in result.stdout
    assert "Field required" in result.stdout
    assert "campaign big is REJECTED" in result.stderr


def test_create_wait_gives_up_after_its_timeout(tmp_path: Path) -> None:
    verifying = httpx.Response(200, json=campaign_json("big", CampaignStatus.VERIFYING))
    api = (
        FakeApi()
        .on(
            "POST /campaigns",
            httpx.Response(202, json=campaign_json("big", CampaignStatus.VERIFYING)),
        )
        .on("GET /campaigns/big", verifying)
    )
    ticks = iter(range(0, 10_000, 10))  # each look at the clock is 10 s later

    result = run_ems(
        ["campaign", "create", "--s3-uri", "s3://b/big.json", "--wait", "--wait-timeout", "30"],
        api,
        cwd=tmp_path,
        monotonic=lambda: float(next(ticks)),
    )

    assert result.exit_code == 1
    assert "still VERIFYING after 30 s" in result.stderr
    assert 1 <= len(api.sent("GET /campaigns/big")) <= 4


def test_candidate_problems_are_printed_with_their_paths(tmp_path: Path) -> None:
    api = FakeApi().on(
        "POST /campaigns",
        error_json(
            400,
            "invalid",
            "the request has problems: see `problems`",
            ("$.date", "must be in the future"),
            ("$.segments[0].recipients", "Field required"),
        ),
    )

    result = run_ems(["campaign", "create", str(_candidate_file(tmp_path))], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "the request has problems" in result.stderr
    assert "HTTP 400 invalid" in result.stderr
    assert "$.date: must be in the future" in result.stderr
    assert "$.segments[0].recipients: Field required" in result.stderr
    assert result.stdout == ""


def test_create_json_prints_the_api_answer(tmp_path: Path) -> None:
    body = campaign_json("summer")
    api = FakeApi().on("POST /campaigns", httpx.Response(201, json=body))

    result = run_ems(
        ["campaign", "create", str(_candidate_file(tmp_path)), "--json"], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
