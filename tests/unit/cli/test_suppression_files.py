"""The files of `ems suppressions import | export` and the requests of an import (plain Python)."""

from __future__ import annotations

import io

import pytest

from ems_cli.client import MAX_SUPPRESSIONS_PER_REQUEST
from ems_cli.suppression_files import (
    EXPORT_COLUMNS,
    ExportWriter,
    ImportFileError,
    Reason,
    Row,
    plan_requests,
    read_import_file,
    row_of_path,
    scope_problem,
)
from ems_common import suppressions as api_rules

# --- how a FILE is read -----------------------------------------------------------------------


def test_a_first_line_naming_an_address_column_makes_a_csv_with_a_header() -> None:
    # Given a CSV with a BOM stripped already, columns in another order and case, blank lines
    text = (
        "Reason, ADDRESS ,scope,Detail\n"
        "\n"
        "complaint,ann@example.com,campaigns,\n"
        ",bob@example.com,,ticket 42\n"
    )

    found = read_import_file(text)

    assert found.has_header
    assert found.rows == [
        Row(3, "ann@example.com", "campaigns", "complaint", None),
        Row(4, "bob@example.com", None, None, "ticket 42"),
    ]
    assert found.ignored_columns == []


def test_a_row_spanning_lines_is_named_by_the_line_it_starts_on() -> None:
    text = 'address,detail\r\nann@example.com,"two\r\nlines, and a comma"\r\nbob@example.com,\r\n'

    found = read_import_file(text)

    assert [(row.line, row.address, row.detail) for row in found.rows] == [
        (2, "ann@example.com", "two\r\nlines, and a comma"),
        (4, "bob@example.com", None),
    ]


def test_without_such_a_header_each_line_is_an_address() -> None:
    text = "ann@example.com\r\n\r\n  bob@example.com  \r\ncid@example.com"

    found = read_import_file(text)

    assert not found.has_header
    assert [(row.line, row.address) for row in found.rows] == [
        (1, "ann@example.com"),
        (3, "bob@example.com"),
        (4, "cid@example.com"),
    ]
    assert all(row.scope is None and row.reason is None for row in found.rows)


def test_a_list_line_with_several_values_is_refused_saying_how_to_name_columns() -> None:
    with pytest.raises(ImportFileError) as caught:
        read_import_file("ann@example.com\nbob@example.com,all\ncid@example.com;x\n")

    assert [p.split(" holds")[0] for p in caught.value.problems] == ["line 2", "line 3"]
    assert "header row naming an `address` column" in caught.value.problems[0]


def test_a_header_not_naming_address_is_taken_for_one() -> None:
    with pytest.raises(ImportFileError) as caught:
        read_import_file("email\nann@example.com\n")

    assert caught.value.problems == [
        "line 1 ('email') is no address: if it is a header, name the addresses' column `address`"
    ]


def test_columns_import_does_not_read_are_named_except_those_ems_sets() -> None:
    text = "address,name,source,campaign_id,suppressed_at,Company\nann@example.com,Ann,api,,,\n"

    found = read_import_file(text)

    assert found.ignored_columns == ["name", "Company"]
    assert found.rows == [Row(2, "ann@example.com")]


@pytest.mark.parametrize(
    ("text", "message", "problems"),
    [
        ("", "holds no address", []),
        ("\n \n", "holds no address", []),
        ("address,scope\n\n", "holds no address (only its header)", []),
        ("address,Address\nann@example.com,x\n", "line 1: the header names address more", []),
        (
            "address,scope\nann@example.com,all,extra\n,all\nbob@example.com\n",
            "has lines that are not suppressions",
            [
                "line 2: 3 values, but the header names 2 columns (a value that holds a comma"
                ' must be in double quotes: "...")',
                "line 3: no address",
            ],
        ),
    ],
)
def test_files_that_cannot_be_read_say_where(text: str, message: str, problems: list[str]) -> None:
    with pytest.raises(ImportFileError) as caught:
        read_import_file(text)

    assert caught.value.message.startswith(message)
    assert caught.value.problems == problems


def test_many_problems_are_shown_twenty_and_counted() -> None:
    text = "ann@example.com\n" + "x,y\n" * 25

    with pytest.raises(ImportFileError) as caught:
        read_import_file(text)

    details = caught.value.details()
    assert len(details) == 21
    assert details[0].startswith("line 2 holds several values")
    assert details[-1] == "... and 5 more"


# --- the requests of an import ----------------------------------------------------------------


def test_rows_are_grouped_by_scope_reason_and_detail_in_first_seen_order() -> None:
    rows = [
        Row(2, "a@example.com"),
        Row(3, "b@example.com", scope="list:gold", reason="unsubscribe"),
        Row(4, "c@example.com", detail="ticket 1"),
        Row(5, "d@example.com"),
        Row(6, "e@example.com", scope="list:gold", reason="unsubscribe"),
    ]

    requests = plan_requests(rows, scope="campaigns", reason="manual", detail=None)

    assert [(r.number, r.scope, r.reason, r.detail, r.addresses) for r in requests] == [
        (1, "campaigns", "manual", None, ["a@example.com", "d@example.com"]),
        (2, "list:gold", "unsubscribe", None, ["b@example.com", "e@example.com"]),
        (3, "campaigns", "manual", "ticket 1", ["c@example.com"]),
    ]


def test_requests_hold_at_most_10000_addresses_and_keep_their_lines() -> None:
    assert MAX_SUPPRESSIONS_PER_REQUEST == 10_000
    rows = [Row(line, f"r{line}@example.com") for line in range(2, 20_003)]  # 20,001 rows

    requests = plan_requests(rows, scope="all", reason="manual", detail="n")

    assert [len(r.rows) for r in requests] == [10_000, 10_000, 1]
    assert [(r.rows[0].line, r.rows[-1].line) for r in requests] == [
        (2, 10_001),
        (10_002, 20_001),
        (20_002, 20_002),
    ]
    second = requests[1]
    assert row_of_path("$.addresses[3]", second) == Row(10_005, "r10005@example.com")
    assert row_of_path("$.addresses[9999].x", second) == Row(20_001, "r20001@example.com")
    assert row_of_path("$.addresses[10000]", second) is None
    assert row_of_path("$.scope", second) is None


def test_every_row_whose_scope_or_reason_is_wrong_is_named_before_anything_is_sent() -> None:
    rows = [
        Row(2, "a@example.com", scope="lists:gold"),
        Row(3, "b@example.com"),
        Row(4, "c@example.com", reason="bounced"),
    ]

    with pytest.raises(ImportFileError) as caught:
        plan_requests(rows, scope="all", reason="manual", detail=None)

    assert caught.value.problems == [
        "line 2: 'lists:gold' is no suppression scope: use all, campaigns or list:<name> (a list"
        " name is 1 to 256 ASCII letters, digits, '_' or '-')",
        "line 4: 'bounced' is no reason: use hard_bounce, complaint, unsubscribe, manual",
    ]


# --- the CLI's vocabulary is the API's ------------------------------------------------------


def test_the_reasons_are_the_apis() -> None:
    assert [r.value for r in Reason] == [r.value for r in api_rules.SuppressionReason]


@pytest.mark.parametrize(
    "scope",
    [
        *("all", "campaigns", "list:gold", "list:A-b_9", f"list:{'x' * 256}"),
        *(f"list:{'x' * 257}", "list:", "list:a b", "list:é", "ALL", "list", "everything", ""),
    ],
)
def test_a_scope_is_refused_exactly_when_the_api_refuses_it(scope: str) -> None:
    assert scope_problem(scope) == api_rules.scope_problem(scope)


# --- export ---------------------------------------------------------------------------------


def test_the_export_has_its_header_and_a_row_per_suppression_quoted_where_needed() -> None:
    stream = io.StringIO()
    writer = ExportWriter(stream)

    writer.write(
        [
            {
                "address": "ann@example.com",
                "scope": "list:gold",
                "reason": "unsubscribe",
                "detail": 'said "stop", twice',
                "source": "one-click",
                "campaign_id": "summer",
                "suppressed_at": "2030-01-01T09:00:00Z",
            },
            {"address": "bob@example.com", "scope": "all", "reason": "manual", "detail": None},
        ]
    )

    assert list(EXPORT_COLUMNS) == [
        *("address", "scope", "reason", "detail"),
        *("source", "campaign_id", "suppressed_at"),
    ]
    assert writer.count == 2
    assert stream.getvalue() == (
        "address,scope,reason,detail,source,campaign_id,suppressed_at\n"
        'ann@example.com,list:gold,unsubscribe,"said ""stop"", twice",one-click,summer,'
        "2030-01-01T09:00:00Z\n"
        "bob@example.com,all,manual,,,,\n"
    )
