"""`ems template create | update | list | show | delete | metrics` against a stand-in API.

The bodies are made by the scheduler's own views (`TemplateView`, `TemplateMetricsView`), so a
field renamed there fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ems_common.dal.metrics import CampaignNumbers
from ems_scheduler.api.transactional import TemplateDetailView, TemplateMetricsView, TemplateView
from ems_scheduler.transactional.models import TemplateRecord
from tests.unit.cli.fakes import FakeApi, error_json, json_body, run_ems

HTML = "<p>Hello {{fname}},</p>\n<p>Total: {{total}} \u00fc</p>\n"
TEXT = "Hello {{fname}}, total {{total}}\n"
METRICS = "GET /templates/receipt/metrics"


def template_json(
    name: str = "receipt", *, html: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """A template as the API renders it (with `html`: as GET /templates/{name} does)."""
    record = TemplateRecord(
        name=name,
        subject="Your receipt, {{fname}}",
        has_text=text is not None,
        required_fields=["fname", "total"],
        conditional_fields=["vip"],
        ses_template_name=f"ems-tx-{name}",
        size_bytes=1234,
        created_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
        updated_at=datetime(2030, 1, 2, 10, 30, tzinfo=UTC),
    )
    view = TemplateView.of(record)
    if html is None:
        return view.model_dump(mode="json")
    return TemplateDetailView(**view.model_dump(), html=html, text=text).model_dump(mode="json")


def _files(folder: Path) -> tuple[Path, Path]:
    html, text = folder / "receipt.html", folder / "receipt.txt"
    html.write_text(HTML, encoding="utf-8")
    text.write_text(TEXT, encoding="utf-8")
    return html, text


def _row(stdout: str, label: str) -> list[str]:
    for line in stdout.splitlines():
        if line.strip().startswith(label):
            return line.strip()[len(label) :].split()
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


# --- create / update -------------------------------------------------------------------------


def test_create_sends_the_name_subject_html_and_text_and_shows_the_template(
    tmp_path: Path,
) -> None:
    # Given an HTML and a text file
    html, text = _files(tmp_path)
    api = FakeApi().on("POST /templates", httpx.Response(201, json=template_json()))

    # When
    result = run_ems(
        [
            *("template", "create", "receipt", "--subject", "Your receipt, {{fname}}"),
            *("--html", str(html), "--text", str(text)),
        ],
        api,
        cwd=tmp_path,
    )

    # Then the files' text went out in the body the API takes
    assert result.exit_code == 0, result.output
    (request,) = api.sent("POST /templates")
    assert json_body(request) == {
        "name": "receipt",
        "subject": "Your receipt, {{fname}}",
        "html": HTML,
        "text": TEXT,
    }
    # and the user reads what the template needs
    out = result.stdout
    assert "Created template receipt." in out
    assert _row(out, "Required fields") == ["fname,", "total"]
    assert _row(out, "Conditional fields") == ["vip"]
    assert "ems-tx-receipt" in out
    assert "1,234 bytes" in out


def test_create_from_s3_sends_the_uri_and_no_html(tmp_path: Path) -> None:
    api = FakeApi().on("POST /templates", httpx.Response(201, json=template_json("notice")))

    result = run_ems(
        [
            *("template", "create", "notice", "--subject", "Notice"),
            *("--html-s3-uri", "s3://ems-assets/notice.html"),
        ],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent("POST /templates")[0]) == {
        "name": "notice",
        "subject": "Notice",
        "htmlS3Uri": "s3://ems-assets/notice.html",
    }


def test_create_reads_the_html_from_stdin(tmp_path: Path) -> None:
    api = FakeApi().on("POST /templates", httpx.Response(201, json=template_json()))

    result = run_ems(
        ["template", "create", "receipt", "--subject", "S", "--html", "-"],
        api,
        cwd=tmp_path,
        input=HTML.encode(),
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent("POST /templates")[0])["html"] == HTML


@pytest.mark.parametrize(
    ("html_options", "message"),
    [
        (["--html", "x.html", "--html-s3-uri", "s3://b/k.html"], "not both"),
        ([], "--html FILE or --html-s3-uri"),
        (["--html", "missing.html"], "cannot read the HTML part missing.html"),
        (["--html", "-", "--text", "-"], "cannot both read standard input"),
    ],
)
def test_bad_html_options_are_usage_errors_and_send_nothing(
    tmp_path: Path, html_options: list[str], message: str
) -> None:
    (tmp_path / "x.html").write_text(HTML)
    api = FakeApi()

    result = run_ems(
        ["template", "create", "receipt", "--subject", "S", *html_options],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


def test_html_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    html = tmp_path / "latin1.html"
    html.write_bytes("<p>caf\u00e9</p>".encode("latin-1"))

    result = run_ems(
        ["template", "create", "receipt", "--subject", "S", "--html", str(html)], cwd=tmp_path
    )

    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.stderr


def test_create_a_name_that_exists_says_to_update(tmp_path: Path) -> None:
    html, _ = _files(tmp_path)
    api = FakeApi().on(
        "POST /templates",
        error_json(409, "conflict", "there is already a template 'receipt': use PUT"),
    )

    result = run_ems(
        ["template", "create", "receipt", "--subject", "S", "--html", str(html)], api, cwd=tmp_path
    )

    assert result.exit_code == 1
    assert "there is already a template 'receipt': use PUT (HTTP 409 conflict)" in result.stderr
    assert "`ems template update receipt`" in result.stderr


def test_create_problems_are_printed_with_their_paths(tmp_path: Path) -> None:
    html, _ = _files(tmp_path)
    api = FakeApi().on(
        "POST /templates",
        error_json(
            400,
            "invalid",
            "the request has problems: see `problems`",
            ("$.name", "may hold only A-Z a-z 0-9 _ -"),
            ("$.html", "line 2: unclosed {{#if}}"),
        ),
    )

    result = run_ems(
        ["template", "create", "re ceipt", "--subject", "S", "--html", str(html)],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 1
    assert "$.name: may hold only A-Z a-z 0-9 _ -" in result.stderr
    assert "$.html: line 2: unclosed {{#if}}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("status", "said"), [(201, "Created"), (200, "Replaced")])
def test_update_puts_the_content_and_says_created_or_replaced(
    tmp_path: Path, status: int, said: str
) -> None:
    html, _ = _files(tmp_path)
    api = FakeApi().on("PUT /templates/receipt", httpx.Response(status, json=template_json()))

    result = run_ems(
        ["template", "update", "receipt", "--subject", "New", "--html", str(html)],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    # the name is in the path, not the body; no --text: no text part
    assert json_body(api.sent("PUT /templates/receipt")[0]) == {"subject": "New", "html": HTML}
    assert f"{said} template receipt." in result.stdout


def test_update_json_prints_the_api_answer(tmp_path: Path) -> None:
    body = template_json()
    api = FakeApi().on("PUT /templates/receipt", httpx.Response(200, json=body))

    result = run_ems(
        ["template", "update", "receipt", "--subject", "S", "--html-s3-uri", "s3://b/k", "--json"],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


# --- list / show / delete --------------------------------------------------------------------


def _page(*names: str, next_page: str | None = None) -> httpx.Response:
    return httpx.Response(
        200, json={"templates": [template_json(n) for n in names], "next_page": next_page}
    )


def test_list_shows_a_table_and_how_to_go_on(tmp_path: Path) -> None:
    api = FakeApi().on("GET /templates", _page("receipt", "notice", next_page="tok-2"))

    result = run_ems(["template", "list", "--limit", "2"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert dict(api.requests[0].url.params) == {"limit": "2"}
    assert _row(result.stdout, "receipt") == [
        *("Your", "receipt,", "{{fname}}"),
        *("fname,", "total"),
        "no",
        "1,234",
        *("2030-01-02", "10:30"),
    ]
    assert "notice" in result.stdout
    assert "More templates: add --all, or --page tok-2" in result.stdout


def test_list_all_json_follows_the_pages(tmp_path: Path) -> None:
    api = FakeApi().on("GET /templates", _page("receipt", next_page="tok-2"), _page("notice"))

    result = run_ems(["template", "list", "--all", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert [r.url.params.get("page") for r in api.requests] == [None, "tok-2"]
    body = json.loads(result.stdout)
    assert [t["name"] for t in body["templates"]] == ["receipt", "notice"]
    assert body["next_page"] is None


def test_an_empty_list_says_so(tmp_path: Path) -> None:
    api = FakeApi().on("GET /templates", _page())

    result = run_ems(["template", "list"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "No templates." in result.stdout


def test_show_summarises_the_template(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /templates/receipt", httpx.Response(200, json=template_json(html=HTML, text=TEXT))
    )

    result = run_ems(["template", "show", "receipt"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Template receipt" in out
    assert "Your receipt, {{fname}}" in out
    assert _row(out, "Required fields") == ["fname,", "total"]
    assert _row(out, "Text part") == ["yes"]
    assert "2030-01-02T10:30:00Z" in out
    assert "<p>" not in out  # the HTML only on request


def test_show_html_prints_the_html_as_stored(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /templates/receipt", httpx.Response(200, json=template_json(html=HTML, text=None))
    )

    result = run_ems(["template", "show", "receipt", "--html"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert result.stdout == HTML


def test_show_json_is_the_api_answer(tmp_path: Path) -> None:
    body = template_json(html=HTML, text=TEXT)
    api = FakeApi().on("GET /templates/receipt", httpx.Response(200, json=body))

    result = run_ems(["template", "show", "receipt", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_show_an_unknown_template_prints_the_api_message(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /templates/nope", error_json(404, "not_found", "there is no template 'nope'")
    )

    result = run_ems(["template", "show", "nope"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "there is no template 'nope' (HTTP 404 not_found)" in result.stderr


def test_a_name_stays_one_path_segment(tmp_path: Path) -> None:
    api = FakeApi()

    run_ems(["template", "show", "../emails/x"], api, cwd=tmp_path)
    run_ems(["template", "delete", "a/b", "--yes"], api, cwd=tmp_path)

    assert [r.url.raw_path for r in api.requests] == [
        b"/templates/..%2Femails%2Fx",
        b"/templates/a%2Fb",
    ]


@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("y\n", True)])
def test_delete_asks_first(tmp_path: Path, answer: str, deleted: bool) -> None:
    api = FakeApi().on("DELETE /templates/receipt", httpx.Response(204))

    result = run_ems(["template", "delete", "receipt"], api, cwd=tmp_path, input=answer)

    assert "Delete template receipt? Emails still queued for it will fail." in result.output
    assert bool(api.sent("DELETE /templates/receipt")) is deleted
    assert result.exit_code == (0 if deleted else 1)
    assert ("Deleted template receipt." in result.stdout) is deleted


def test_delete_yes_json(tmp_path: Path) -> None:
    api = FakeApi().on("DELETE /templates/receipt", httpx.Response(204))

    result = run_ems(["template", "delete", "receipt", "-y", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"template": "receipt", "deleted": True}


# --- metrics ---------------------------------------------------------------------------------


def _metrics(days: dict[str, Counter[str]]) -> dict[str, Any]:
    """A template's numbers, in total and per day, as the API renders them."""
    total: Counter[str] = sum(days.values(), Counter())
    numbers = CampaignNumbers(total=total, segments=days)
    return TemplateMetricsView.of("receipt", numbers).model_dump(mode="json")


def _day(sent: int, delivered: int, opened: int) -> Counter[str]:
    return Counter(sent=sent, delivered=delivered, opened_unique=opened, finished=sent)


def test_metrics_show_a_column_per_day_after_the_total(tmp_path: Path) -> None:
    # Given two days of numbers (the API need not list them in order)
    body = _metrics({"2030-01-02": _day(10, 8, 4), "2030-01-01": _day(40, 40, 10)})
    body["days"].reverse()
    api = FakeApi().on(METRICS, httpx.Response(200, json=body))

    # When
    result = run_ems(["template", "metrics", "receipt"], api, cwd=tmp_path)

    # Then the campaign metrics' table, with days (oldest first) where segments would be
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Template receipt  50 of 50 emails finished (100.0%)" in out
    header = next(line for line in out.splitlines() if "Total" in line).split()
    assert header == ["Total", "2030-01-01", "2030-01-02"]
    assert _row(out, "Recipients") == ["50", "40", "10"]
    assert _row(out, "Sent") == ["50", "40", "10"]
    assert _row(out, "Delivered") == ["48", "96.0%", "40", "100.0%", "8", "80.0%"]
    assert _row(out, "Opened") == ["14", "29.2%", "10", "25.0%", "4", "50.0%"]
    assert _row(out, "Bounced")[0] == "0"
    assert "--days" not in out  # every day shown


def test_metrics_days_shows_the_newest_and_says_so(tmp_path: Path) -> None:
    days = {f"2030-01-{d:02}": _day(1, 1, 0) for d in range(1, 11)}
    api = FakeApi().on(METRICS, httpx.Response(200, json=_metrics(days)))

    result = run_ems(["template", "metrics", "receipt", "--days", "2"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "Total" in line).split()
    assert header == ["Total", "2030-01-09", "2030-01-10"]
    assert _row(result.stdout, "Sent") == ["10", "1", "1"]  # the total counts every day
    assert "The newest 2 of 10 days" in result.stdout


def test_metrics_by_default_show_the_newest_days_that_fit_the_terminal(tmp_path: Path) -> None:
    days = {f"2030-01-{d:02}": _day(100, 90, 30) for d in range(1, 11)}
    api = FakeApi().on(METRICS, httpx.Response(200, json=_metrics(days)))

    result = run_ems(["template", "metrics", "receipt"], api, cwd=tmp_path, env={"COLUMNS": "100"})

    # Then no line wraps or is cut: fewer days, the newest, each heading whole
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    header = next(line for line in result.stdout.splitlines() if "Total" in line).split()
    shown = len(header) - 1
    assert 1 <= shown < 10
    assert header == ["Total", *(f"2030-01-{d:02}" for d in range(11 - shown, 11))]
    assert f"The newest {shown} of 10 days" in result.stdout


def test_metrics_json_is_the_api_answer(tmp_path: Path) -> None:
    body = _metrics({"2030-01-01": _day(3, 2, 1)})
    api = FakeApi().on(METRICS, httpx.Response(200, json=body))

    result = run_ems(["template", "metrics", "receipt", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_metrics_of_an_unknown_template_prints_the_api_message(tmp_path: Path) -> None:
    api = FakeApi().on(
        "GET /templates/nope/metrics", error_json(404, "not_found", "there is no template 'nope'")
    )

    result = run_ems(["template", "metrics", "nope"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "there is no template 'nope'" in result.stderr


def test_every_command_explains_itself_with_an_example(tmp_path: Path) -> None:
    for command in ("create", "update", "list", "show", "delete", "metrics"):
        result = run_ems(["template", command, "--help"], cwd=tmp_path, options=())
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, command
