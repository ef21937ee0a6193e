"""`ems suppressions list | show | add | import | export | remove` against a stand-in API that
keeps the suppressions in memory (`FakeSuppressions`, as the API contract of issue 17 says)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from ems_cli import suppressions
from ems_cli.render import make_console
from tests.unit.cli.fakes import FakeApi, FakeSuppressions, error_json, json_body, run_ems

# --- list -----------------------------------------------------------------------------------


def test_list_passes_its_filters_as_query_parameters_and_shows_scope_and_reason(
    tmp_path: Path,
) -> None:
    store = FakeSuppressions().add("ann@example.com", "list:gold", reason="unsubscribe")
    store.add("ann@example.com", "all", detail="asked by phone")

    result = run_ems(
        ["suppressions", "list", "--scope", "list:gold", "--reason", "unsubscribe"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert dict(store.requests[0].url.params) == {
        "scope": "list:gold",
        "reason": "unsubscribe",
        "limit": "50",
    }
    [row] = [line.split() for line in result.stdout.splitlines() if "ann@example.com" in line]
    assert row == ["ann@example.com", "list:gold", "unsubscribe", "-", "-", "2030-01-01", "09:00"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--scope", "lists:gold"], "'lists:gold' is no suppression scope"),
        (["--reason", "bounced"], "'bounced' is not one of"),
    ],
)
def test_a_wrong_filter_is_a_usage_error_before_any_request(
    tmp_path: Path, option: list[str], message: str
) -> None:
    store = FakeSuppressions()

    result = run_ems(["suppressions", "list", *option], cwd=tmp_path, transport=store.transport())

    assert result.exit_code == 2
    assert message in result.output
    assert store.requests == []


def test_an_empty_filtered_page_that_is_not_the_last_says_so(tmp_path: Path) -> None:
    # Given two addresses; the first page of one scans only the first, which is not in scope
    store = FakeSuppressions().add("ann@example.com", "all").add("bob@example.com", "campaigns")

    result = run_ems(
        ["suppressions", "list", "--scope", "campaigns", "-n", "1"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert "No addresses on this page." in result.stdout
    assert "More addresses: add --all, or --page 1" in result.stdout
    assert "No suppression" not in result.stdout


def test_all_filtered_pages_and_none_found_names_the_filter(tmp_path: Path) -> None:
    store = FakeSuppressions().add("ann@example.com", "all").add("bob@example.com", "campaigns")

    result = run_ems(
        ["suppressions", "list", "--scope", "list:gold", "--reason", "complaint", "--all"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert len(store.requests) == 1  # limit 50 scans both
    assert result.stdout.strip() == "No suppression in scope list:gold for reason complaint."


# --- show -------------------------------------------------------------------------------------


def test_show_lists_every_scope_of_the_address_and_what_they_block(tmp_path: Path) -> None:
    store = FakeSuppressions()
    store.add("ann@example.com", "list:gold", reason="unsubscribe", campaign_id="summer")
    store.add("ann@example.com", "list:silver", reason="unsubscribe", source="one-click")
    store.add("bob@example.com", "all")

    result = run_ems(
        ["suppressions", "show", "Ann@Example.com"], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 0, result.output
    assert store.requests[0].url.path == "/suppressions/Ann@Example.com"
    lines = result.stdout.splitlines()
    assert lines[0] == "Suppressions of ann@example.com"
    assert lines[1] == (
        "No campaign email of the lists gold, silver; other campaigns and transactional email"
        " are still sent."
    )
    rows = [line.split() for line in lines if line.startswith("list:")]
    assert rows == [
        ["list:gold", "unsubscribe", "-", "-", "summer", "2030-01-01", "09:00"],
        ["list:silver", "unsubscribe", "-", "one-click", "-", "2030-01-01", "09:00"],
    ]


@pytest.mark.parametrize(
    ("scopes", "effect"),
    [
        (["list:gold", "all"], "No email at all, transactional included."),
        (["campaigns", "list:gold"], "No campaign email; transactional email is still sent."),
    ],
)
def test_show_says_the_widest_scope_wins(tmp_path: Path, scopes: list[str], effect: str) -> None:
    store = FakeSuppressions()
    for scope in scopes:
        store.add("ann@example.com", scope)

    result = run_ems(
        ["suppressions", "show", "ann@example.com"], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == effect


def test_show_json_prints_the_apis_answer(tmp_path: Path) -> None:
    store = FakeSuppressions().add("ann@example.com", "campaigns", reason="complaint")

    result = run_ems(
        ["suppressions", "show", "ann@example.com", "--json"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["address"] == "ann@example.com"
    assert [(s["scope"], s["reason"]) for s in body["suppressions"]] == [("campaigns", "complaint")]


def test_show_an_address_that_is_not_suppressed_says_so(tmp_path: Path) -> None:
    result = run_ems(
        ["suppressions", "show", "zed@example.com"],
        cwd=tmp_path,
        transport=FakeSuppressions().transport(),
    )

    assert result.exit_code == 1
    assert "ems: zed@example.com is not suppressed (HTTP 404 not_found)" in result.stderr


# --- add --------------------------------------------------------------------------------------


def test_add_sends_the_addresses_scope_reason_and_note(tmp_path: Path) -> None:
    store = FakeSuppressions().add("bob@example.com", "list:gold")

    result = run_ems(
        [
            *("suppressions", "add", "ann@example.com", "bob@example.com"),
            *("--scope", "list:gold", "--reason", "unsubscribe", "--note", "by phone, #12"),
        ],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert json_body(store.sent("POST")[0]) == {
        "addresses": ["ann@example.com", "bob@example.com"],
        "scope": "list:gold",
        "reason": "unsubscribe",
        "detail": "by phone, #12",
    }
    assert result.stdout.strip() == (
        "Suppressed in scope list:gold (reason unsubscribe): 1 address added,"
        " 1 already suppressed there."
    )


def test_add_defaults_to_all_and_manual_and_json_prints_the_answer(tmp_path: Path) -> None:
    store = FakeSuppressions()

    result = run_ems(
        ["suppressions", "add", "ann@example.com", "--json"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert json_body(store.sent("POST")[0]) == {
        "addresses": ["ann@example.com"],
        "scope": "all",
        "reason": "manual",
    }
    assert json.loads(result.stdout) == {
        "added": 1,
        "already_suppressed": 0,
        "scope": "all",
        "reason": "manual",
    }


def test_add_names_the_refused_addresses_by_argument(tmp_path: Path) -> None:
    store = FakeSuppressions()

    result = run_ems(
        ["suppressions", "add", "ann@example.com", "not-an-address", "bob@example.com", "a b@c"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 1
    err = result.stderr
    assert "ems: 2 addresses are wrong (HTTP 400 invalid)" in err
    assert "ADDRESS 2 (not-an-address): 'not-an-address' is not an email address" in err
    assert "ADDRESS 4 (a b@c): 'a b@c' is not an email address" in err
    assert "The API added none of the addresses." in err
    assert "Fix what is named above, then run the same command again" in err
    assert store.items == {}


def test_add_with_a_wrong_scope_sends_nothing(tmp_path: Path) -> None:
    store = FakeSuppressions()

    result = run_ems(
        ["suppressions", "add", "ann@example.com", "--scope", "list:"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 2
    assert "is no suppression scope" in result.output
    assert store.requests == []


# --- import -----------------------------------------------------------------------------------


def test_import_a_csv_sends_a_request_per_scope_reason_and_detail(tmp_path: Path) -> None:
    # Given a CSV whose rows override the options, and an address already suppressed
    store = FakeSuppressions().add("cid@example.com", "campaigns")
    path = tmp_path / "list.csv"
    path.write_text(
        "address,scope,reason,detail\n"
        "ann@example.com,,,\n"
        "bob@example.com,list:gold,unsubscribe,\n"
        "cid@example.com,,,\n"
        "dan@example.com,all,,bounced by hand\n"
    )

    # When
    result = run_ems(
        ["suppressions", "import", str(path), "--scope", "campaigns", "--reason", "complaint"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    # Then
    assert result.exit_code == 0, result.output
    assert [json_body(r) for r in store.sent("POST")] == [
        {
            "addresses": ["ann@example.com", "cid@example.com"],
            "scope": "campaigns",
            "reason": "complaint",
        },
        {"addresses": ["bob@example.com"], "scope": "list:gold", "reason": "unsubscribe"},
        {
            "addresses": ["dan@example.com"],
            "scope": "all",
            "reason": "complaint",
            "detail": "bounced by hand",
        },
    ]
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Imported 4 addresses from {path} (a CSV with a header) in 3 requests: 3 added,"
        " 1 already suppressed."
    )
    rows = [line.split() for line in lines[2:]]
    assert rows == [
        ["campaigns", "complaint", "-", "2", "1", "1"],
        ["list:gold", "unsubscribe", "-", "1", "1", "0"],
        ["all", "complaint", "bounced", "by", "hand", "1", "1", "0"],
    ]


def test_import_a_list_from_standard_input(tmp_path: Path) -> None:
    store = FakeSuppressions()

    result = run_ems(
        ["suppressions", "import", "-", "--reason", "unsubscribe", "--scope", "campaigns"],
        cwd=tmp_path,
        transport=store.transport(),
        input="ann@example.com\n\nbob@example.com\n",
    )

    assert result.exit_code == 0, result.output
    assert [json_body(r) for r in store.sent("POST")] == [
        {
            "addresses": ["ann@example.com", "bob@example.com"],
            "scope": "campaigns",
            "reason": "unsubscribe",
        }
    ]
    assert result.stdout.strip() == (
        "Imported 2 addresses from standard input (one address per line) in 1 request:"
        " 2 added, 0 already suppressed."
    )


def _big_file(tmp_path: Path, bad: dict[int, str]) -> tuple[Path, dict[int, str]]:
    """A CSV of 20,005 addresses after a header and a blank line: row i (0-based) on line i+3,
    the rows in `bad` replaced by those texts. Returns the path and each row's address."""
    addresses = {i: bad.get(i, f"r{i}@example.com") for i in range(20_005)}
    path = tmp_path / "big.csv"
    path.write_text("address,source\n\n" + "".join(f"{a},api\n" for a in addresses.values()))
    return path, addresses


def test_import_sends_10000_a_request_and_reports_progress_off_a_terminal(tmp_path: Path) -> None:
    store = FakeSuppressions()
    path, _ = _big_file(tmp_path, {})

    result = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 0, result.output
    assert [len(json_body(r)["addresses"]) for r in store.sent("POST")] == [10_000, 10_000, 5]
    assert len(store.items) == 20_005
    assert result.stderr.splitlines() == [
        f"request 1 of 3: 10,000 addresses of {path} (lines 3 to 10002), scope all, reason"
        " manual: 10,000 added, 0 already suppressed",
        f"request 2 of 3: 10,000 addresses of {path} (lines 10003 to 20002), scope all,"
        " reason manual: 10,000 added, 0 already suppressed",
        f"request 3 of 3: 5 addresses of {path} (lines 20003 to 20007), scope all, reason"
        " manual: 5 added, 0 already suppressed",
    ]
    assert "in 3 requests: 20,005 added, 0 already suppressed." in result.stdout


def test_a_refused_chunk_names_its_rows_by_file_line_and_the_sent_ones_stay(
    tmp_path: Path,
) -> None:
    # Given 20,005 addresses, two of them wrong in the second chunk of 10,000
    store = FakeSuppressions()
    path, _ = _big_file(tmp_path, {10_003: "not-an-address", 19_999: "x@"})

    # When
    result = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport()
    )

    # Then the first chunk went, the second was refused, the third never sent
    assert result.exit_code == 1
    assert [len(json_body(r)["addresses"]) for r in store.sent("POST")] == [10_000, 10_000]
    assert len(store.items) == 10_000
    err = result.stderr
    assert "ems: 2 addresses are wrong (HTTP 400 invalid)" in err
    # row 10,003 is on line 10,006; it is $.addresses[3] of the second request
    assert "line 10006 (not-an-address): 'not-an-address' is not an email address" in err
    assert "line 20002 (x@): 'x@' is not an email address" in err
    assert (
        f"Request 2 of 3 failed: 10,000 addresses of {path} (lines 10003 to 20002), scope"
        " all, reason manual." in err
    )
    assert "The API added none of its addresses." in err
    assert "The 1 request after it was not sent." in err
    assert "The 1 request before it stays sent: 10,000 added, 0 already suppressed." in err
    assert "Fix what is named above, then run the same command again" in err
    assert result.stdout == ""


def test_a_refused_chunk_with_json_prints_what_was_sent_before_it(tmp_path: Path) -> None:
    store = FakeSuppressions()
    path, _ = _big_file(tmp_path, {10_000: "not-an-address"})

    result = run_ems(
        ["suppressions", "import", str(path), "--json"], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["added"], answer["already_suppressed"]) == (10_000, 0)
    assert [(r["first_line"], r["last_line"]) for r in answer["requests"]] == [(3, 10_002)]
    assert "line 10003 (not-an-address)" in result.stderr


def test_a_fixed_file_imported_again_adds_only_what_is_missing(tmp_path: Path) -> None:
    store = FakeSuppressions()
    path, addresses = _big_file(tmp_path, {10_003: "not-an-address"})
    run_ems(["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport())
    fixed, _ = _big_file(tmp_path, {})

    result = run_ems(
        ["suppressions", "import", str(fixed), "--json"], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert (answer["added"], answer["already_suppressed"]) == (10_005, 10_000)
    assert answer["requests"][0] == {
        "scope": "all",
        "reason": "manual",
        "detail": None,
        "addresses": 10_000,
        "first_line": 3,
        "last_line": 10_002,
        "added": 0,
        "already_suppressed": 10_000,
    }
    assert len(store.items) == len(addresses)


def test_an_unanswered_request_may_have_been_added(tmp_path: Path) -> None:
    api = FakeApi().on("POST /suppressions", error_json(503, "unavailable", "try later"))
    path = tmp_path / "list.txt"
    path.write_text("ann@example.com\n")

    result = run_ems(["suppressions", "import", str(path)], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "ems: try later (HTTP 503 unavailable)" in result.stderr
    assert "The addresses may or may not have been added." in result.stderr
    assert "Run the same command again" in result.stderr


def test_a_wrong_scope_in_any_row_stops_the_import_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    store = FakeSuppressions()
    path = tmp_path / "list.csv"
    path.write_text(
        "address,scope,reason\nann@example.com,all,\nbob@example.com,lists:gold,\n"
        + "".join(f"r{i}@example.com,,\n" for i in range(10_000))
        + "cid@example.com,,bounce\n"
    )

    result = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 2
    assert store.requests == []
    err = result.stderr
    assert f"ems: {path} has lines whose scope or reason is wrong; nothing was sent" in err
    assert "line 3: 'lists:gold' is no suppression scope" in err
    assert "line 10004: 'bounce' is no reason" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no address; nothing was sent"),
        ("email,name\nann@example.com,Ann\n", "has lines that are not addresses"),
    ],
)
def test_an_unusable_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    store = FakeSuppressions()
    path = tmp_path / "list.csv"
    path.write_text(content)

    result = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 2
    assert f"ems: {path} {message}" in result.stderr
    assert store.requests == []


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_ems(
        ["suppressions", "import", str(tmp_path / "missing.csv")],
        cwd=tmp_path,
        transport=FakeSuppressions().transport(),
    )

    assert result.exit_code == 2
    assert "cannot read the suppressions file" in result.stderr


def test_ignored_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Name,Email Address,address\nAnn,x,ann@example.com\n")

    result = run_ems(
        ["suppressions", "import", str(path)],
        cwd=tmp_path,
        transport=FakeSuppressions().transport(),
    )

    assert result.exit_code == 0, result.output
    assert (
        f"Leaving out the columns Name, Email Address of {path} (import reads address, scope,"
        " reason, detail)." in result.stderr
    )


def test_on_a_terminal_import_shows_a_bar_instead_of_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a terminal on standard error (rich draws the bar there, and takes it away)
    terminal = Console(force_terminal=True, width=100, record=True)
    monkeypatch.setattr(
        suppressions,
        "make_console",
        lambda *, stderr=False: terminal if stderr else make_console(stderr=stderr),
    )
    store = FakeSuppressions()
    path, _ = _big_file(tmp_path, {})

    result = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 0, result.output
    drawn = terminal.export_text()
    assert "request 3 of 3" in drawn
    assert "20005/20005" in drawn
    assert "request 1 of 3: 10,000 addresses" not in drawn  # no line per request


# --- export -----------------------------------------------------------------------------------


def _varied() -> FakeSuppressions:
    store = FakeSuppressions()
    store.add("ann@example.com", "all", reason="hard_bounce", detail="General", source="ses:Bounce")
    store.add("ann@example.com", "list:gold", reason="unsubscribe", campaign_id="summer")
    store.add("bob@example.com", "campaigns", reason="complaint", detail='said "spam", twice')
    store.add("cid@example.com", "list:silver", reason="manual", detail="line one\nline two")
    for i in range(400):
        store.add(f"r{i:03}@example.com", "campaigns", reason="unsubscribe")
    return store


def test_export_writes_every_page_as_csv_to_standard_output(tmp_path: Path) -> None:
    store = _varied()

    result = run_ems(["suppressions", "export"], cwd=tmp_path, transport=store.transport())

    assert result.exit_code == 0, result.output
    assert [r.url.params.get("page") for r in store.requests] == [None, "200", "400"]
    assert {r.url.params["limit"] for r in store.requests} == {"200"}
    lines = result.stdout.splitlines()
    assert lines[0] == "address,scope,reason,detail,source,campaign_id,suppressed_at"
    assert lines[1] == "ann@example.com,all,hard_bounce,General,ses:Bounce,,2030-01-01T09:00:00Z"
    assert len(store.rows()) == 404
    assert result.stderr.strip() == "Exported 404 suppressions."


def test_export_passes_its_filters_on_every_page(tmp_path: Path) -> None:
    store = _varied()

    result = run_ems(
        ["suppressions", "export", "--scope", "campaigns", "--reason", "complaint"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert len(store.requests) == 3
    for request in store.requests:
        assert request.url.params["scope"] == "campaigns"
        assert request.url.params["reason"] == "complaint"
    assert result.stdout == (
        "address,scope,reason,detail,source,campaign_id,suppressed_at\n"
        'bob@example.com,campaigns,complaint,"said ""spam"", twice",,,2030-01-01T09:00:00Z\n'
    )


def test_an_export_imports_back_as_it_was(tmp_path: Path) -> None:
    # Given a varied suppression list exported to a file
    source = _varied()
    path = tmp_path / "out" / "suppressions.csv"
    path.parent.mkdir()
    exported = run_ems(
        ["suppressions", "export", "-o", str(path)], cwd=tmp_path, transport=source.transport()
    )
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.strip() == f"Exported 404 suppressions to {path}."
    assert [p.name for p in path.parent.iterdir()] == ["suppressions.csv"]  # no temporary left
    assert path.stat().st_mode & 0o777 == 0o600  # it lists personal data

    # When it is imported into an empty list
    target = FakeSuppressions()
    imported = run_ems(
        ["suppressions", "import", str(path)], cwd=tmp_path, transport=target.transport()
    )

    # Then every address has the same scopes, reasons and details
    assert imported.exit_code == 0, imported.output
    assert target.rows() == source.rows()
    assert "Leaving out" not in imported.stderr  # the columns EMS sets, without a word


def test_a_failed_export_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    store = _varied()
    store.fail_page = "200"
    path = tmp_path / "suppressions.csv"
    path.write_text("the previous export\n")

    result = run_ems(
        ["suppressions", "export", "-o", str(path)], cwd=tmp_path, transport=store.transport()
    )

    assert result.exit_code == 1
    assert "ems: the fake failed on purpose (HTTP 500 internal)" in result.stderr
    assert f"Nothing was written to {path}." in result.stderr
    assert path.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["suppressions.csv"]


def test_a_failed_export_to_standard_output_says_it_is_incomplete(tmp_path: Path) -> None:
    store = _varied()
    store.fail_page = "400"

    result = run_ems(["suppressions", "export"], cwd=tmp_path, transport=store.transport())

    assert result.exit_code == 1
    assert "The CSV on standard output is incomplete (400 rows)." in result.stderr


def test_an_export_to_a_missing_directory_fails_before_asking_the_api(tmp_path: Path) -> None:
    store = _varied()

    result = run_ems(
        ["suppressions", "export", "-o", str(tmp_path / "no" / "such.csv")],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 2
    assert f"ems: cannot write {tmp_path / 'no' / 'such.csv'}" in result.stderr
    assert store.requests == []


# --- remove -----------------------------------------------------------------------------------


def test_remove_with_a_scope_lifts_that_scope_only(tmp_path: Path) -> None:
    store = FakeSuppressions().add("ann@example.com", "all").add("ann@example.com", "list:gold")

    result = run_ems(
        ["suppressions", "remove", "ann@example.com", "--scope", "list:gold", "--yes"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 0, result.output
    assert dict(store.requests[0].url.params) == {"scope": "list:gold"}
    assert store.rows() == {("ann@example.com", "all", "manual", None)}
    assert result.stdout.strip() == (
        "Lifted the suppression of ann@example.com in scope list:gold; any other scope stays"
        " (`ems suppressions show ann@example.com`)."
    )


def test_remove_without_a_scope_lifts_every_scope(tmp_path: Path) -> None:
    store = FakeSuppressions().add("ann@example.com", "all").add("ann@example.com", "list:gold")

    result = run_ems(
        ["suppressions", "remove", "ann@example.com", "--json"],
        cwd=tmp_path,
        transport=store.transport(),
        input="y\n",
    )

    assert result.exit_code == 0, result.output
    assert "Every scope: EMS may send to it again." in result.stdout
    assert dict(store.requests[0].url.params) == {}
    assert store.items == {}
    assert json.loads(result.stdout.split("[y/N]: y\n")[1]) == {
        "address": "ann@example.com",
        "scope": None,
        "removed": True,
    }


def test_remove_in_a_scope_the_address_is_not_suppressed_in_says_so(tmp_path: Path) -> None:
    store = FakeSuppressions().add("ann@example.com", "all")

    result = run_ems(
        ["suppressions", "remove", "ann@example.com", "--scope", "campaigns", "-y"],
        cwd=tmp_path,
        transport=store.transport(),
    )

    assert result.exit_code == 1
    assert (
        "ems: ann@example.com is not suppressed in scope campaigns (HTTP 404 not_found)"
        in result.stderr
    )
    assert len(store.items) == 1
