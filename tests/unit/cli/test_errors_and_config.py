"""Where `ems` finds the API, and what it says when it cannot reach it or the API refuses."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from ems_cli.config import read_env_file
from tests.unit.cli.fakes import FakeApi, campaign_json, run_ems


def test_no_url_or_key_says_how_to_set_them(tmp_path: Path) -> None:
    result = run_ems(["campaign", "list"], cwd=tmp_path, options=())

    assert result.exit_code == 2
    message = result.stderr
    assert "no API URL and no API key" in message
    for hint in ("--api-url", "--api-key", "EMS_API_URL", "EMS_API_KEY", "make up"):
        assert hint in message


def test_a_url_without_key_names_the_key(tmp_path: Path) -> None:
    result = run_ems(["campaign", "list"], cwd=tmp_path, options=("--api-url", "http://x"))

    assert result.exit_code == 2
    assert "no API key:" in result.stderr


def test_the_environment_gives_url_and_key(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", httpx.Response(200, json={"campaigns": []}))

    result = run_ems(
        ["campaign", "list"],
        api,
        cwd=tmp_path,
        options=(),
        env={"EMS_API_URL": "http://from-env:9000", "EMS_API_KEY": "env-key"},
    )

    assert result.exit_code == 0, result.output
    (request,) = api.requests
    assert str(request.url).startswith("http://from-env:9000/campaigns")
    assert request.headers["X-Api-Key"] == "env-key"


def test_local_env_is_found_from_a_subfolder(tmp_path: Path) -> None:
    # Given the file `make up` writes, at the top of a repository
    (tmp_path / ".ems").mkdir()
    (tmp_path / ".ems" / "local.env").write_text(
        "# Written by `make up`\nAWS_REGION=us-east-1\n"
        "EMS_API_URL=http://127.0.0.1:8080\nEMS_API_KEY=local-key\n"
    )
    below = tmp_path / "services" / "scheduler"
    below.mkdir(parents=True)
    api = FakeApi().on("GET /campaigns/summer", httpx.Response(200, json=campaign_json()))

    # When ems runs in a folder below it, with neither options nor environment
    result = run_ems(["campaign", "describe", "summer"], api, cwd=below, options=())

    # Then it used that URL and key
    assert result.exit_code == 0, result.output
    (request,) = api.requests
    assert str(request.url) == "http://127.0.0.1:8080/campaigns/summer"
    assert request.headers["X-Api-Key"] == "local-key"


def test_options_win_over_local_env(tmp_path: Path) -> None:
    (tmp_path / ".ems").mkdir()
    (tmp_path / ".ems" / "local.env").write_text("EMS_API_URL=http://a\nEMS_API_KEY=a\n")
    api = FakeApi().on("GET /campaigns/summer", httpx.Response(200, json=campaign_json()))

    run_ems(
        ["campaign", "describe", "summer"],
        api,
        cwd=tmp_path,
        options=("--api-url", "http://b", "--api-key", "b"),
    )

    assert str(api.requests[0].url).startswith("http://b/")
    assert api.requests[0].headers["X-Api-Key"] == "b"


def test_a_local_env_without_the_api_says_to_run_make_up_again(tmp_path: Path) -> None:
    (tmp_path / ".ems").mkdir()
    (tmp_path / ".ems" / "local.env").write_text("AWS_REGION=us-east-1\n")

    result = run_ems(["campaign", "list"], cwd=tmp_path, options=())

    assert result.exit_code == 2
    assert "local.env has none: run `make up` again" in result.stderr


def test_env_file_lines_may_be_quoted_or_exported(tmp_path: Path) -> None:
    path = tmp_path / "local.env"
    path.write_text("# c\n\nexport EMS_API_URL='http://x'\nEMS_API_KEY=\"k=1\"\nnot a line\n")

    assert read_env_file(path) == {"EMS_API_URL": "http://x", "EMS_API_KEY": "k=1"}


def test_a_refused_connection_says_the_api_is_not_running(tmp_path: Path) -> None:
    # Given a port nothing listens on (bound, then closed), reached through real httpx
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    result = run_ems(
        ["campaign", "list"],
        cwd=tmp_path,
        options=("--api-url", url, "--api-key", "k"),
        transport=httpx.HTTPTransport(),
    )

    assert result.exit_code == 1
    assert f"the EMS API is not running at {url}" in result.stderr
    assert "make up" in result.stderr


def test_a_timeout_says_the_api_did_not_answer(tmp_path: Path) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    result = run_ems(["campaign", "list"], cwd=tmp_path, transport=httpx.MockTransport(slow))

    assert result.exit_code == 1
    assert "did not answer" in result.stderr


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_says_where_the_key_comes_from(tmp_path: Path, status: int) -> None:
    api = FakeApi().on(
        "GET /campaigns",
        httpx.Response(status, json={"error": "forbidden", "message": "wrong key", "problems": []}),
    )

    result = run_ems(["campaign", "list"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "wrong key" in result.stderr
    assert "Check --api-key / EMS_API_KEY" in result.stderr


def test_a_non_json_error_still_says_what_happened(tmp_path: Path) -> None:
    api = FakeApi().on("GET /campaigns", httpx.Response(502, text="<html>Bad Gateway</html>"))

    result = run_ems(["campaign", "list"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "HTTP 502: <html>Bad Gateway</html>" in result.stderr
