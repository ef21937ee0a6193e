"""`ems suppressions ...`: the addresses EMS does not send to, in which scope and why; adding,
importing, exporting and lifting suppressions.

A suppression has a scope: `all` (no email at all, transactional included), `campaigns` (no
campaign email) or `list:<name>` (no campaign email of that list); transactional email is
blocked by `all` only. EMS suppresses on its own on a hard bounce (all), a complaint
(campaigns) and an unsubscribe (the list, or all campaign email); operators add and lift
suppressions here. The import and export files: `ems_cli.suppression_files`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Final, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from ems_cli.client import (
    MAX_SUPPRESSIONS_PAGE,
    ApiError,
    ApiUnreachableError,
    EmsClient,
    JsonObject,
    Page,
    Problem,
)
from ems_cli.listing import AllPagesOption, Listing, PageOption, iter_pages, list_pages
from ems_cli.options import JsonOption, YesOption, confirm_unless
from ems_cli.render import (
    address_suppressions_report,
    make_console,
    print_answer,
    print_json,
    suppressions_table,
)
from ems_cli.session import (
    EXIT_USAGE,
    Session,
    fail,
    input_name,
    read_text_input,
    reporting_errors,
    session_of,
)
from ems_cli.suppression_files import (
    ALL,
    IMPORT_COLUMNS,
    ExportWriter,
    ImportFileError,
    Reason,
    Row,
    SuppressionRequest,
    plan_requests,
    read_import_file,
    row_of_path,
    scope_problem,
)

SCOPES_HELP: Final = (
    "all: no email at all, transactional included; campaigns: no campaign email;"
    " list:NAME: no campaign email of that list."
)

app = typer.Typer(
    help="The addresses EMS does not send to, in which scope (all email, campaign email, one"
    " list's) and why: list, show, add, import, export, and lift (remove) suppressions.",
    no_args_is_help=True,
)


def _checked_scope(scope: str | None) -> str | None:
    """--scope, refused at once (exit 2) when the API would refuse it."""
    if scope is not None and (problem := scope_problem(scope)) is not None:
        raise typer.BadParameter(problem)
    return scope


ScopeFilterOption = Annotated[
    str | None,
    typer.Option(
        "--scope",
        metavar="SCOPE",
        callback=_checked_scope,
        help="Only the suppressions in SCOPE: all, campaigns or list:NAME.",
    ),
]
ReasonFilterOption = Annotated[
    Reason | None, typer.Option("--reason", help="Only the suppressions for this reason.")
]
ScopeOption = Annotated[
    str,
    typer.Option("--scope", metavar="SCOPE", callback=_checked_scope, help=SCOPES_HELP),
]
ReasonOption = Annotated[Reason, typer.Option("--reason", help="Why the address is suppressed.")]
NoteOption = Annotated[
    str | None,
    typer.Option(
        "--note",
        metavar="TEXT",
        help="Kept with the suppression as its detail: who asked, a ticket ...",
    ),
]
AddressArgument = Annotated[
    str, typer.Argument(metavar="ADDRESS", help="The email address.", show_default=False)
]


@app.command("list")
def list_suppressions(
    ctx: typer.Context,
    *,
    scope: ScopeFilterOption = None,
    reason: ReasonFilterOption = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=MAX_SUPPRESSIONS_PAGE, help="Suppressions per page."
        ),
    ] = 50,
    page: PageOption = None,
    all_pages: AllPagesOption = False,
    as_json: JsonOption = False,
) -> None:
    """List suppressions: the address, its scope, why, by what and since when, 50 to a page.

    An address suppressed in several scopes has a row for each. With --scope or --reason a
    page may hold fewer rows than --limit (even none) and still be followed by another.

    Examples:

        ems suppressions list

        ems suppressions list --scope list:gold --reason unsubscribe --all

        ems suppressions list --all --json
    """

    def fetch(client: EmsClient, token: str | None) -> Page:
        return client.list_suppressions(scope=scope, reason=reason, limit=limit, page=token)

    listing = Listing(suppressions_table, empty=_none_found(scope, reason), more="addresses")
    list_pages(ctx, fetch, listing, page=page, all_pages=all_pages, as_json=as_json)


def _none_found(scope: str | None, reason: Reason | None) -> str:
    if scope is None and reason is None:
        return "No suppressed addresses."
    where = f" in scope {scope}" if scope is not None else ""
    why = f" for reason {reason}" if reason is not None else ""
    return f"No suppression{where}{why}."


@app.command()
def show(ctx: typer.Context, address: AddressArgument, as_json: JsonOption = False) -> None:
    """Show every suppression of one address: what it keeps from the address (all email,
    campaign email, some lists'), and for each scope why, by what and since when.

    Example:

        ems suppressions show ann@example.com
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.get_suppressions(address)
    print_answer(answer, address_suppressions_report, as_json=as_json)


@app.command()
def add(
    ctx: typer.Context,
    addresses: Annotated[
        list[str],
        typer.Argument(metavar="ADDRESS...", help="The addresses to suppress.", show_default=False),
    ],
    *,
    scope: ScopeOption = ALL,
    reason: ReasonOption = Reason.MANUAL,
    note: NoteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Suppress addresses in a scope (default all: EMS sends them nothing, not even
    transactional email). An address already suppressed in that scope stays as it was.

    The API checks every address first and adds none if one is wrong, naming it.

    Examples:

        ems suppressions add ann@example.com bob@example.com --note "asked by phone, #123"

        ems suppressions add ann@example.com --scope list:gold --reason unsubscribe
    """
    session = session_of(ctx)
    rows = [Row(position, address.strip()) for position, address in enumerate(addresses, 1)]
    requests = plan_requests(rows, scope=scope, reason=reason.value, detail=note)
    sent = _send(session, requests, source="the ADDRESS arguments", where=_argument)
    added = sum(_count(answer, "added") for _, answer in sent)
    already = sum(_count(answer, "already_suppressed") for _, answer in sent)
    if as_json:
        if len(sent) == 1:
            print_json(sent[0][1])
        else:
            answer = {"added": added, "already_suppressed": already}
            print_json({**answer, "scope": scope, "reason": str(reason)})
        return
    make_console().print(
        f"Suppressed in scope {scope} (reason {reason}): {_addresses(added)} added,"
        f" {already:,} already suppressed there.",
        markup=False,
    )


def _argument(row: Row) -> str:
    return f"ADDRESS {row.line} ({row.address})"


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A CSV with a header row, or one address per line; - reads standard input.",
            show_default=False,
        ),
    ],
    *,
    scope: ScopeOption = ALL,
    reason: ReasonOption = Reason.MANUAL,
    note: NoteOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"added", "already_suppressed", "requests": [...]}: the totals, and'
            " each request's scope, reason, detail, FILE lines and counts.",
        ),
    ] = False,
) -> None:
    """Suppress the addresses of a file (UTF-8), such as one `ems suppressions export` wrote.

    FILE is a CSV when its first line names an `address` column (in any case): its optional
    `scope`, `reason` and `detail` columns override --scope, --reason and --note row by row
    (an empty cell takes the option); `source`, `campaign_id` and `suppressed_at` are EMS's own
    and left out, as are other columns (named on standard error). Otherwise each line is one
    address (no header, no commas). Blank lines are skipped.

    EMS checks the whole file before sending anything. The addresses go by (scope, reason,
    detail), 10,000 to a request; if the API refuses one, its wrong rows are named by their
    line in FILE and the command stops (exit 1): the requests before it stay sent, and
    importing the fixed FILE again adds only what is missing.

    Examples:

        ems suppressions import bounces.csv

        ems suppressions import unsubscribed.txt --scope campaigns --reason unsubscribe

        ems suppressions export --scope all | ems suppressions import -
    """
    session = session_of(ctx)
    name = input_name(file)
    text = read_text_input(file, "the suppressions file")
    try:
        found = read_import_file(text)
        requests = plan_requests(found.rows, scope=scope, reason=reason.value, detail=note)
    except ImportFileError as error:
        fail(f"{name} {error.message}; nothing was sent", details=error.details(), code=EXIT_USAGE)
    if found.ignored_columns:
        make_console(stderr=True).print(
            f"Leaving out the column{'s' if len(found.ignored_columns) > 1 else ''}"
            f" {', '.join(found.ignored_columns)} of {name} (import reads"
            f" {', '.join(IMPORT_COLUMNS)}).",
            markup=False,
        )

    def line(row: Row) -> str:
        return f"line {row.line} ({row.address})"

    sent = _send(session, requests, source=name, where=line, as_json=as_json)
    merged = _merged(sent)
    if as_json:
        print_json(merged)
        return
    kind = "a CSV with a header" if found.has_header else "one address per line"
    console = make_console()
    console.print(
        f"Imported {_addresses(len(found.rows))} from {name} ({kind}) in"
        f" {_requests(len(sent))}: {merged['added']:,} added, {merged['already_suppressed']:,}"
        " already suppressed.",
        markup=False,
    )
    if len({(r.scope, r.reason, r.detail) for r in requests}) > 1:
        console.print(_groups_table(sent))


@app.command()
def export(
    ctx: typer.Context,
    *,
    scope: ScopeFilterOption = None,
    reason: ReasonFilterOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the CSV to FILE (replaced only once the export is complete, readable"
            " by you only: it holds addresses); default or -: standard output.",
        ),
    ] = None,
) -> None:
    """Write every suppression (all pages) as CSV, a row per address and scope, with the header
    address,scope,reason,detail,source,campaign_id,suppressed_at.

    `ems suppressions import` reads it back (address, scope, reason and detail; EMS sets
    source and suppressed_at anew).

    Examples:

        ems suppressions export -o suppressions.csv

        ems suppressions export --scope campaigns --reason complaint > complaints.csv
    """
    session = session_of(ctx)
    to_file = output not in {None, "-"}
    with _export_target(output) as stream, reporting_errors(session), session.client() as client:
        writer = ExportWriter(stream)

        def fetch(token: str | None) -> Page:
            return client.list_suppressions(
                scope=scope, reason=reason, limit=MAX_SUPPRESSIONS_PAGE, page=token
            )

        with _export_progress(make_console(stderr=True)) as advance:
            try:
                for page in iter_pages(fetch):
                    writer.write(page.items)
                    advance(len(page.items))
            except (ApiError, ApiUnreachableError) as error:
                error.add_note(
                    f"Nothing was written to {output}."
                    if to_file
                    else f"The CSV on standard output is incomplete ({writer.count:,} rows)."
                )
                raise
    count = f"{writer.count:,} suppression{'' if writer.count == 1 else 's'}"
    if to_file:
        make_console().print(f"Exported {count} to {output}.", markup=False)
    else:
        make_console(stderr=True).print(f"Exported {count}.", markup=False)


@app.command()
def remove(
    ctx: typer.Context,
    address: Annotated[
        str, typer.Argument(help="The suppressed email address.", show_default=False)
    ],
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            metavar="SCOPE",
            callback=_checked_scope,
            help="Lift it in SCOPE only (all, campaigns or list:NAME); default: in every scope.",
        ),
    ] = None,
    yes: YesOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"address": ..., "scope": ..., "removed": true} (the API answers with'
            " no body; scope null: every scope).",
        ),
    ] = False,
) -> None:
    """Lift a suppression: in every scope, EMS may send to the address again (new campaigns
    accept it); with --scope, in that scope only (see `ems suppressions show ADDRESS`).

    Do it only when the address works again or its owner asked: a complaint or hard bounce
    that comes back hurts the sender's reputation. Asks first unless --yes.

    Examples:

        ems suppressions remove ann@example.com --yes

        ems suppressions remove ann@example.com --scope list:gold
    """
    session = session_of(ctx)
    if scope is None:
        question = f"Lift the suppression of {address}? Every scope: EMS may send to it again."
    else:
        question = f"Lift the suppression of {address} in scope {scope}?"
    confirm_unless(yes, question)
    with reporting_errors(session), session.client() as client:
        client.remove_suppression(address, scope)
    if as_json:
        print_json({"address": address, "scope": scope, "removed": True})
    elif scope is None:
        make_console().print(
            f"Lifted the suppression of {address}: EMS may send to it again.", markup=False
        )
    else:
        make_console().print(
            f"Lifted the suppression of {address} in scope {scope}; any other scope stays"
            f" (`ems suppressions show {address}`).",
            markup=False,
        )


# --- sending the requests of `add` and `import` ----------------------------------------------

Sent = list[tuple[SuppressionRequest, JsonObject]]


def _send(
    session: Session,
    requests: list[SuppressionRequest],
    *,
    source: str,
    where: Callable[[Row], str],
    as_json: bool = False,
) -> Sent:
    """Send `requests` in order, progress on standard error. When one fails, say which, what
    the ones before it added, and name its wrong rows by `where` (a FILE line ...); with
    `as_json`, print what was sent before exiting."""
    sent: Sent = []
    with (
        reporting_errors(session),
        session.client() as client,
        _ImportProgress(make_console(stderr=True), requests, source) as progress,
    ):
        for request in requests:
            try:
                answer = client.add_suppressions(
                    request.addresses,
                    scope=request.scope,
                    reason=request.reason,
                    detail=request.detail,
                )
            except (ApiError, ApiUnreachableError) as error:
                progress.stop()
                _explain_failure(error, request, requests, sent, source=source, where=where)
                if sent and as_json:
                    print_json(_merged(sent))
                raise
            sent.append((request, answer))
            progress.advance(request, answer)
    return sent


def _explain_failure(
    error: ApiError | ApiUnreachableError,
    request: SuppressionRequest,
    requests: list[SuppressionRequest],
    sent: Sent,
    *,
    source: str,
    where: Callable[[Row], str],
) -> None:
    """Name the refused rows by `where`, and note which request failed, what came of it and of
    those before it, and how to go on."""
    refused = isinstance(error, ApiError) and 400 <= error.status < 500
    if isinstance(error, ApiError):
        error.problems = [
            Problem(where(row), problem.message)
            if (row := row_of_path(problem.path, request)) is not None
            else problem
            for problem in error.problems
        ]
    if len(requests) > 1:
        error.add_note(
            f"Request {request.number} of {len(requests)} failed: {_span(request, source)}."
        )
    its = "its" if len(requests) > 1 else "the"
    error.add_note(
        f"The API added none of {its} addresses."
        if refused
        else f"{its.capitalize()} addresses may or may not have been added."
    )
    left = len(requests) - request.number
    if left:
        error.add_note(f"The {_requests(left)} after it {'was' if left == 1 else 'were'} not sent.")
    if sent:
        error.add_note(
            f"The {_requests(len(sent))} before it {'stays' if len(sent) == 1 else 'stay'} sent:"
            f" {sum(_count(a, 'added') for _, a in sent):,} added,"
            f" {sum(_count(a, 'already_suppressed') for _, a in sent):,} already suppressed."
        )
    error.add_note(
        ("Fix what is named above, then run" if refused else "Run")
        + " the same command again: addresses already suppressed are counted as such, not"
        " added twice."
    )


def _span(request: SuppressionRequest, source: str) -> str:
    first, last = request.rows[0].line, request.rows[-1].line
    # Line numbers as an editor's "go to line" takes them: no thousands separators.
    lines = f"line {first}" if first == last else f"lines {first} to {last}"
    return (
        f"{_addresses(len(request.rows))} of {source} ({lines}), scope {request.scope},"
        f" reason {request.reason}"
    )


class _ImportProgress:
    """A bar on a terminal (addresses sent of all); elsewhere (logs, CI) a line per request
    when there are several."""

    def __init__(self, console: Console, requests: list[SuppressionRequest], source: str) -> None:
        self._console = console
        self._source = source
        self._total = len(requests)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            addresses = sum(len(request.rows) for request in requests)
            self._task = self._bar.add_task("suppressing", total=addresses)

    def __enter__(self) -> _ImportProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Take the bar off the terminal (before an error is printed)."""
        if self._bar is not None:
            self._bar.stop()

    def advance(self, request: SuppressionRequest, answer: JsonObject) -> None:
        """Count `request` as sent, `answer` its answer."""
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                advance=len(request.rows),
                description=escape(f"request {request.number} of {self._total}"),
            )
        elif self._total > 1:
            self._console.print(
                f"request {request.number} of {self._total}: {_span(request, self._source)}:"
                f" {_count(answer, 'added'):,} added,"
                f" {_count(answer, 'already_suppressed'):,} already suppressed",
                markup=False,
            )


def _merged(sent: Sent) -> JsonObject:
    """The answers of an import's requests as one: totals, and each request's part."""
    return {
        "added": sum(_count(answer, "added") for _, answer in sent),
        "already_suppressed": sum(_count(answer, "already_suppressed") for _, answer in sent),
        "requests": [
            {
                "scope": request.scope,
                "reason": request.reason,
                "detail": request.detail,
                "addresses": len(request.rows),
                "first_line": request.rows[0].line,
                "last_line": request.rows[-1].line,
                "added": _count(answer, "added"),
                "already_suppressed": _count(answer, "already_suppressed"),
            }
            for request, answer in sent
        ],
    }


def _groups_table(sent: Sent) -> Table:
    """The totals of each (scope, reason, detail) an import sent."""
    totals: dict[tuple[str, str, str | None], list[int]] = {}
    for request, answer in sent:
        numbers = totals.setdefault((request.scope, request.reason, request.detail), [0, 0, 0])
        numbers[0] += len(request.rows)
        numbers[1] += _count(answer, "added")
        numbers[2] += _count(answer, "already_suppressed")
    table = Table(show_edge=False, pad_edge=False, box=None)
    for heading in ("Scope", "Reason", "Detail"):
        table.add_column(heading, overflow="fold", header_style="bold")
    for heading in ("Addresses", "Added", "Already suppressed"):
        table.add_column(heading, justify="right", header_style="bold")
    for (scope, reason, detail), numbers in totals.items():
        table.add_row(
            Text(scope), Text(reason), Text(detail or "-"), *(Text(f"{n:,}") for n in numbers)
        )
    return table


def _count(answer: JsonObject, field: str) -> int:
    value = answer.get(field)
    return value if isinstance(value, int) else 0


def _addresses(count: int) -> str:
    return f"{count:,} address{'' if count == 1 else 'es'}"


def _requests(count: int) -> str:
    return f"{count:,} request{'' if count == 1 else 's'}"


# --- export ---------------------------------------------------------------------------------


@contextmanager
def _export_target(output: str | None) -> Iterator[TextIO]:
    """Where the export goes: standard output (None or -), or a temporary file beside FILE
    that replaces it once the export is complete (removed if it fails). Exit 2 at once if
    FILE cannot be written, before anything is fetched."""
    if output is None or output == "-":
        yield sys.stdout
        return
    target = Path(output)
    if target.is_dir():
        fail(f"cannot write {output}: it is a directory", code=EXIT_USAGE)
    try:
        # Readable by its owner only (as mkstemp makes it): an export lists personal data.
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}", code=EXIT_USAGE)
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _export_progress(console: Console) -> Iterator[Callable[[int], None]]:
    """A count of the suppressions written so far, on a terminal; nothing elsewhere."""
    if not console.is_terminal:
        yield lambda _count: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("exporting: {task.completed:,} suppressions"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("exporting", total=None)
        yield lambda count: bar.update(task, advance=count)
