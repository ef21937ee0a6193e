"""The files of `ems suppressions import | export`, and the requests an import makes.

An import FILE is either a CSV whose header row names an `address` column (and optionally
`scope`, `reason`, `detail`, which override the command's options row by row), or one address
per line with no header. `export` writes the CSV that `import` reads back. Plain Python: the
commands (`ems_cli.suppressions`) read and write the files and talk to the API.

The scope and reason vocabulary mirrors the API's (`ems_common.suppressions`; a unit test holds
the two together): the CLI checks a whole FILE before it sends anything, so that a typo on line
40,000 does not stop an import halfway.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TextIO

from ems_cli.client import MAX_SUPPRESSIONS_PER_REQUEST, JsonObject

ALL: Final = "all"
CAMPAIGNS: Final = "campaigns"
LIST_PREFIX: Final = "list:"
_LIST_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")  # as the API's (a segment's list_name)

ADDRESS_COLUMN: Final = "address"
IMPORT_COLUMNS: Final = (ADDRESS_COLUMN, "scope", "reason", "detail")
"""The columns `import` reads; any order, any case."""
EXPORT_COLUMNS: Final = (*IMPORT_COLUMNS, "source", "campaign_id", "suppressed_at")
"""The columns `export` writes, in this order: a suppression as the API shows it."""
# What EMS itself sets on a suppression: an import leaves these columns out without a word.
_EMS_COLUMNS: Final = frozenset(EXPORT_COLUMNS) - frozenset(IMPORT_COLUMNS)
# A list FILE line holding one of these is several values, not an address.
_SEPARATORS: Final = (",", "\t", ";")
PROBLEMS_SHOWN: Final = 20


class Reason(StrEnum):
    """Why an address is suppressed (the API's `reason`)."""

    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    MANUAL = "manual"


def scope_problem(scope: str) -> str | None:
    """What is wrong with `scope` (all, campaigns or list:<name>), or None."""
    if scope in {ALL, CAMPAIGNS}:
        return None
    if scope.startswith(LIST_PREFIX) and _LIST_NAME.fullmatch(scope.removeprefix(LIST_PREFIX)):
        return None
    return (
        f"{scope[:80]!r} is no suppression scope: use all, campaigns or list:<name> (a list name"
        " is 1 to 256 ASCII letters, digits, '_' or '-')"
    )


def reason_problem(reason: str) -> str | None:
    """What is wrong with `reason`, or None."""
    if reason in set(Reason):
        return None
    return f"{reason[:80]!r} is no reason: use {', '.join(Reason)}"


class ImportFileError(Exception):
    """An import FILE EMS cannot use as it is: what is wrong, and where (`problems`, each
    `line N: ...`), before anything was sent."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def details(self) -> list[str]:
        """The problems to print: the first PROBLEMS_SHOWN, and how many more there are."""
        shown = self.problems[:PROBLEMS_SHOWN]
        left = len(self.problems) - len(shown)
        return [*shown, *([f"... and {left:,} more"] if left else [])]


@dataclass(frozen=True)
class Row:
    """An address to suppress, from `line` of the FILE (for `add`: its argument's position),
    with the scope, reason and detail its row gives (None: the command's options)."""

    line: int
    address: str
    scope: str | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ImportFile:
    """What an import FILE holds: its rows, whether it has a header, and the header's columns
    that `import` leaves out (neither `IMPORT_COLUMNS` nor EMS's own)."""

    rows: list[Row]
    has_header: bool
    ignored_columns: list[str]


def read_import_file(text: str) -> ImportFile:
    """The rows of an import FILE's `text`. A CSV with a header when its first non-blank line
    names an `address` column (in any case); else one address per line. Blank lines are
    skipped; raises ImportFileError listing every line that cannot be read."""
    first = next((line for line in _lines(text) if line.strip()), None)
    if first is None:
        raise ImportFileError("holds no address")
    header = next(csv.reader([first]), [])
    if ADDRESS_COLUMN in (cell.strip().lower() for cell in header):
        return _read_csv(text)
    return _read_list(text)


def _lines(text: str) -> list[str]:
    """`text`'s lines, their ends kept (LF, CRLF or CR): line N of the FILE is item N - 1."""
    return io.StringIO(text, newline="").readlines()


def _records(text: str) -> list[tuple[int, list[str]]]:
    """The CSV records of `text` that are not blank, each with the line it starts on (a quoted
    value may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
    except csv.Error as error:
        raise ImportFileError(f"is not CSV: line {reader.line_num}: {error}") from error
    return records


def _read_csv(text: str) -> ImportFile:
    (header_line, header), *records = _records(text)
    names = [cell.strip().lower() for cell in header]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise ImportFileError(
            f"line {header_line}: the header names {', '.join(twice)} more than once"
        )
    where: dict[str, int] = {name: names.index(name) for name in IMPORT_COLUMNS if name in names}
    ignored = [
        cell.strip()
        for cell, name in zip(header, names, strict=True)
        if name not in IMPORT_COLUMNS and name not in _EMS_COLUMNS
    ]
    rows: list[Row] = []
    problems: list[str] = []

    def cell(cells: list[str], column: str) -> str | None:
        index = where.get(column)
        value = cells[index].strip() if index is not None and index < len(cells) else ""
        return value or None

    for line, cells in records:
        if len(cells) > len(header):
            problems.append(
                f"line {line}: {len(cells)} values, but the header names {len(header)} columns"
                ' (a value that holds a comma must be in double quotes: "...")'
            )
            continue
        address = cell(cells, ADDRESS_COLUMN)
        if address is None:
            problems.append(f"line {line}: no address")
            continue
        rows.append(
            Row(line, address, cell(cells, "scope"), cell(cells, "reason"), cell(cells, "detail"))
        )
    if problems:
        raise ImportFileError("has lines that are not suppressions", problems)
    if not rows:
        raise ImportFileError("holds no address (only its header)")
    return ImportFile(rows, has_header=True, ignored_columns=ignored)


def _read_list(text: str) -> ImportFile:
    rows: list[Row] = []
    problems: list[str] = []
    for line, raw in enumerate(_lines(text), start=1):
        address = raw.strip()
        if not address:
            continue
        if any(separator in address for separator in _SEPARATORS):
            problems.append(
                f"line {line} holds several values ({address[:60]!r}), but the file has no"
                " header row naming an `address` column, so each line must be one address"
            )
        elif not rows and "@" not in address:
            problems.append(
                f"line {line} ({address[:60]!r}) is no address: if it is a header, name the"
                " addresses' column `address`"
            )
        else:
            rows.append(Row(line, address))
    if problems:
        raise ImportFileError("has lines that are not addresses", problems)
    return ImportFile(rows, has_header=False, ignored_columns=[])


# --- the requests of an import ----------------------------------------------------------------


@dataclass(frozen=True)
class SuppressionRequest:
    """One POST /suppressions of an import: number `number`, its rows' addresses in `scope` for
    `reason` with `detail`."""

    number: int
    scope: str
    reason: str
    detail: str | None
    rows: list[Row]

    @property
    def addresses(self) -> list[str]:
        """The addresses it sends, in its rows' order (the API's `$.addresses[i]`)."""
        return [row.address for row in self.rows]


def plan_requests(
    rows: Iterable[Row],
    *,
    scope: str,
    reason: str,
    detail: str | None,
    limit: int = MAX_SUPPRESSIONS_PER_REQUEST,
) -> list[SuppressionRequest]:
    """The requests that suppress `rows`: a row's own scope, reason and detail, else these;
    rows grouped by (scope, reason, detail) in the order each group first appears, `limit`
    addresses to a request. Raises ImportFileError naming every row whose scope or reason the
    API would refuse."""
    groups: dict[tuple[str, str, str | None], list[Row]] = {}
    problems: list[str] = []
    for row in rows:
        key = (row.scope or scope, row.reason or reason, row.detail or detail)
        found = [p for p in (scope_problem(key[0]), reason_problem(key[1])) if p is not None]
        problems += [f"line {row.line}: {problem}" for problem in found]
        if not found:
            groups.setdefault(key, []).append(row)
    if problems:
        raise ImportFileError("has lines whose scope or reason is wrong", problems)
    chunks = [
        (key, group[start : start + limit])
        for key, group in groups.items()
        for start in range(0, len(group), limit)
    ]
    return [
        SuppressionRequest(number, *key, rows=chunk)
        for number, (key, chunk) in enumerate(chunks, start=1)
    ]


_ADDRESS_PATH: Final = re.compile(r"^\$\.addresses\[(\d+)\]")


def row_of_path(path: str, request: SuppressionRequest) -> Row | None:
    """The row a problem's path (`$.addresses[3]`) of `request` points at, if any."""
    match = _ADDRESS_PATH.match(path)
    if match is None or int(match.group(1)) >= len(request.rows):
        return None
    return request.rows[int(match.group(1))]


# --- export ------------------------------------------------------------------------------------


class ExportWriter:
    """Writes the export CSV on a stream: the header row (EXPORT_COLUMNS) first, then a row per
    suppression; LF line ends, values quoted only where needed."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(EXPORT_COLUMNS)
        self.count = 0

    def write(self, suppressions: Iterable[JsonObject]) -> None:
        """A row per suppression, as the API shows it (a missing value is an empty cell)."""
        for suppression in suppressions:
            self._writer.writerow(_cell(suppression.get(column)) for column in EXPORT_COLUMNS)
            self.count += 1


def _cell(value: object) -> str:
    return "" if value is None else str(value)
