"""`ems campaign ...`: create, list, describe, reschedule, pause, resume, cancel and delete
campaigns; follow their numbers (`metrics`, `timeline`) and look at one recipient's email
(`recipient`)."""

from __future__ import annotations

import json
from typing import Annotated, Final

import typer
from rich.console import Console, Group
from rich.live import Live
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
from rich.text import Text

from ems_cli.client import ApiError, ApiUnreachableError, EmsClient, JsonObject, Page
from ems_cli.listing import AllPagesOption, Listing, PageOption, list_pages
from ems_cli.options import JsonOption, YesOption, confirm_unless
from ems_cli.render import (
    campaign_summary,
    campaigns_table,
    make_console,
    metrics_report,
    print_answer,
    print_json,
    progress_text,
    recipient_summary,
    timeline_table,
)
from ems_cli.session import (
    EXIT_USAGE,
    Session,
    fail,
    input_name,
    read_input,
    reporting_errors,
    session_of,
)

VERIFYING: Final = "VERIFYING"
UNSUCCESSFUL: Final = frozenset({"REJECTED", "FAILED"})
DEFAULT_WAIT_S: Final = 900.0
# While a campaign is in one of these, its numbers move as it sends: `metrics` keeps refreshing.
SENDING_STATES: Final = frozenset({"LAUNCHING", "SENDING"})
# A campaign in one of these may have emails out: `describe` reads its numbers too.
LAUNCHED_STATES: Final = frozenset({"LAUNCHING", "SENDING", "PAUSED", "COMPLETED", "CANCELLED"})
CONFLICT: Final = 409
DEFAULT_REFRESH_S: Final = 5.0

app = typer.Typer(
    help="Create, list, describe, reschedule, pause, resume, cancel and delete email campaigns;"
    " follow their numbers and look at one recipient's email.",
    no_args_is_help=True,
)

CampaignId = Annotated[str, typer.Argument(help="The campaign's id.", show_default=False)]


@app.command()
def create(
    ctx: typer.Context,
    *,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE",
            help="A campaign candidate JSON file, or - to read it from standard input.",
            show_default=False,
        ),
    ] = None,
    s3_uri: Annotated[
        str | None,
        typer.Option(
            "--s3-uri",
            metavar="S3_URI",
            help="Instead of FILE: a candidate already uploaded to the assets bucket"
            " (for big campaigns). EMS verifies it in the background (status VERIFYING).",
        ),
    ] = None,
    campaign_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="ID",
            help="The campaign_id to use (1-48 of A-Z a-z 0-9 _ -); else the file's, else EMS"
            " makes one. Creating again with the same id and body changes nothing.",
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="While EMS verifies the candidate, show its progress until it is done."
        ),
    ] = False,
    wait_timeout_s: Annotated[
        float,
        typer.Option("--wait-timeout", metavar="SECONDS", min=1, help="Give up --wait after this."),
    ] = DEFAULT_WAIT_S,
    as_json: JsonOption = False,
) -> None:
    """Create a campaign from a candidate JSON document, and show what EMS made of it.

    EMS checks every recipient: bad or suppressed addresses are rejected one by one (listed
    in the summary), the rest are scheduled for the candidate's date. The candidate's shape:
    {"date": "...+00:00", "templateS3Uri": "s3://...", "segments": [{"list_name": "...",
    "recipients": [{"to_address": "...", ...}]}]}.

    Examples:

        ems campaign create summer.json

        cat summer.json | ems campaign create - --id summer-2025

        ems campaign create --s3-uri s3://ems-assets/candidates/summer.json --wait
    """
    session = session_of(ctx)
    if (file is None) == (s3_uri is None):
        fail(
            "give either a candidate FILE or --s3-uri, not both"
            if file is not None
            else "give a candidate FILE (- reads standard input), or --s3-uri",
            details=["See `ems campaign create --help`."],
            code=EXIT_USAGE,
        )
    with reporting_errors(session), session.client() as client:
        if s3_uri is not None:
            result = client.create_campaign_from_s3(s3_uri, campaign_id)
        else:
            assert file is not None  # one of the two, checked above
            result = client.create_campaign(_candidate_body(file, campaign_id))
        campaign = result.campaign
        if wait and campaign.get("status") == VERIFYING:
            campaign = _wait_while_verifying(client, session, campaign, wait_timeout_s)

    if as_json:
        print_json(campaign)
    else:
        console = make_console()
        console.print(_create_headline(result.status_code, campaign, waited=wait))
        console.print(campaign_summary(campaign))
    if campaign.get("status") in UNSUCCESSFUL:
        fail(
            f"campaign {campaign.get('campaign_id')} is {campaign.get('status')}:"
            " see its problems or error above"
        )


def _candidate_body(file: str, campaign_id: str | None) -> bytes:
    """The file's bytes, unchanged unless --id must be written into the document."""
    body = read_input(file, "the candidate")
    if campaign_id is None:
        return body  # the API checks it and names every problem's JSON path
    name = input_name(file)
    try:
        document = json.loads(body)
    except ValueError as error:
        fail(f"{name} is not JSON: {error}", code=EXIT_USAGE)
    if not isinstance(document, dict):
        fail(f"{name} must hold a JSON object (the campaign candidate)", code=EXIT_USAGE)
    given = document.get("campaign_id")
    if given is not None and given != campaign_id:
        fail(
            f"{name} sets campaign_id {given!r} but --id says {campaign_id!r}:"
            " drop one of them or make them agree",
            code=EXIT_USAGE,
        )
    document["campaign_id"] = campaign_id
    return json.dumps(document, ensure_ascii=False).encode()


def _create_headline(status_code: int, campaign: JsonObject, *, waited: bool) -> str:
    campaign_id = campaign.get("campaign_id")
    status = campaign.get("status")
    if status == VERIFYING:
        return (
            f"Accepted campaign {campaign_id}: EMS is verifying the candidate. Follow it with"
            f" `ems campaign describe {campaign_id}`, or create with --wait."
        )
    if status_code == 200 and not waited:
        return f"Campaign {campaign_id} already exists with this same candidate; nothing changed."
    if status in UNSUCCESSFUL:
        return f"Campaign {campaign_id} was not scheduled."
    return f"Created campaign {campaign_id}."


def _wait_while_verifying(
    client: EmsClient, session: Session, campaign: JsonObject, timeout_s: float
) -> JsonObject:
    """Poll until the campaign leaves VERIFYING, showing its progress on stderr."""
    campaign_id = str(campaign["campaign_id"])
    deadline = session.monotonic() + timeout_s
    console = make_console(stderr=True)
    with _ProgressReport(console) as report:
        while campaign.get("status") == VERIFYING:
            report.show(campaign)
            if session.monotonic() >= deadline:
                fail(
                    f"campaign {campaign_id} is still VERIFYING after {timeout_s:.0f} s;"
                    f" check again with `ems campaign describe {campaign_id}`"
                )
            session.sleep(session.poll_interval_s)
            campaign = client.get_campaign(campaign_id)
    return campaign


class _ProgressReport:
    """A live progress bar on a terminal; a line per change elsewhere (logs, CI)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last = ""
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

    def __enter__(self) -> _ProgressReport:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("verifying", total=None)
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def show(self, campaign: JsonObject) -> None:
        progress = campaign.get("progress")
        if self._bar is not None and self._task is not None:
            if isinstance(progress, dict):
                self._bar.update(
                    self._task,
                    description=escape(str(progress.get("step", "verifying"))),
                    completed=int(progress.get("done") or 0),
                    total=progress.get("total"),
                )
            return
        text = progress_text(progress)
        line = f"{campaign.get('campaign_id')} VERIFYING" + (f": {text.plain}" if text else "")
        if line != self._last:
            self._console.print(line, markup=False)
            self._last = line


@app.command("list")
def list_campaigns(
    ctx: typer.Context,
    *,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="Only campaigns in this status: VERIFYING, SCHEDULED, LAUNCHING, SENDING,"
            " PAUSED, COMPLETED, CANCELLED, FAILED or REJECTED.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=200, help="Campaigns per page.")
    ] = 50,
    page: PageOption = None,
    all_pages: AllPagesOption = False,
    as_json: JsonOption = False,
) -> None:
    """List campaigns in a table, 50 to a page.

    Examples:

        ems campaign list --status SCHEDULED

        ems campaign list --all --json
    """
    status = status and status.upper()
    empty = f"No {status} campaigns." if status else "No campaigns."

    def fetch(client: EmsClient, token: str | None) -> Page:
        return client.list_campaigns(status=status, limit=limit, page=token)

    listing = Listing(campaigns_table, empty=empty, more="campaigns")
    list_pages(ctx, fetch, listing, page=page, all_pages=all_pages, as_json=as_json)


@app.command()
def describe(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Show one campaign: status, date, recipients, rejections, segments, progress.

    A PAUSED campaign shows who paused it (an operator, the reputation brake, SES), when, why,
    and what it resumes to. A campaign completed without every email's final outcome shows
    `Settled`: the emails that got no final event are counted unconfirmed. Emails whose SES
    answer was lost (ambiguous) and unconfirmed ones are shown when there are any (--json
    prints the campaign only: `ems campaign metrics ID --json` has those counts).

    Example:

        ems campaign describe summer-2025
    """
    session = session_of(ctx)
    numbers: JsonObject | None = None
    with reporting_errors(session), session.client() as client:
        campaign = client.get_campaign(campaign_id)
        if not as_json and campaign.get("status") in LAUNCHED_STATES:
            numbers = _numbers_if_readable(client, campaign_id)
    print_answer(
        campaign,
        lambda answer: campaign_summary(answer, numbers=numbers),
        as_json=as_json,
    )


def _numbers_if_readable(client: EmsClient, campaign_id: str) -> JsonObject | None:
    """The campaign's numbers, or None (said on stderr) if they cannot be read: the campaign
    itself is what `describe` is for."""
    try:
        return client.campaign_metrics(campaign_id)
    except (ApiError, ApiUnreachableError) as error:
        make_console(stderr=True).print(
            f"ems: could not read the numbers of campaign {campaign_id} ({error});"
            f" try `ems campaign metrics {campaign_id}`",
            markup=False,
        )
        return None


@app.command()
def reschedule(
    ctx: typer.Context,
    campaign_id: CampaignId,
    date: Annotated[
        str,
        typer.Argument(
            help="The new date: ISO 8601 with a UTC offset, in the future.", show_default=False
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Move a SCHEDULED campaign to another date (campaigns in any other status cannot move).

    Example:

        ems campaign reschedule summer-2025 2030-07-01T09:00:00+02:00
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        campaign = client.reschedule_campaign(campaign_id, date)
    print_answer(
        campaign,
        campaign_summary,
        as_json=as_json,
        headline=f"Rescheduled campaign {campaign_id}.",
    )


@app.command()
def pause(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Pause a LAUNCHING or SENDING campaign: no more of its email goes out within seconds.

    Its queued emails are held, not dropped: `ems campaign resume` sends each of them once.
    Pausing a paused campaign changes nothing (it keeps who paused it and why).

    Example:

        ems campaign pause summer-2025
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        try:
            campaign = client.pause_campaign(campaign_id)
        except ApiError as error:
            if error.status == CONFLICT:
                error.add_note(
                    "Only a LAUNCHING or SENDING campaign can be paused (a SCHEDULED one sends"
                    " nothing yet: `ems campaign reschedule` or `ems campaign cancel` it)."
                )
            raise
    print_answer(
        campaign,
        campaign_summary,
        as_json=as_json,
        headline=(
            f"Paused campaign {campaign_id}: nothing more is sent until"
            f" `ems campaign resume {campaign_id}`."
        ),
    )


@app.command()
def resume(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Resume a PAUSED campaign where it stopped: each held email is sent once.

    Whoever paused it (an operator, the reputation brake, SES refusing its sender), fix the
    cause first: `ems campaign describe` says why it was paused. A campaign the brake paused
    pauses again at its next bounce or complaint while its rates are over the limits. Resuming a
    campaign that is sending changes nothing.

    Example:

        ems campaign resume summer-2025
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        campaign = client.resume_campaign(campaign_id)
    print_answer(
        campaign,
        campaign_summary,
        as_json=as_json,
        headline=f"Resumed campaign {campaign_id}.",
    )


@app.command()
def cancel(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Cancel a campaign before or while it sends: nothing more is enqueued or sent.

    Example:

        ems campaign cancel summer-2025
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        campaign = client.cancel_campaign(campaign_id)
    print_answer(
        campaign, campaign_summary, as_json=as_json, headline=f"Cancelled campaign {campaign_id}."
    )


@app.command()
def delete(
    ctx: typer.Context,
    campaign_id: CampaignId,
    yes: YesOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"campaign_id": ..., "deleted": true} (the API answers with no body).',
        ),
    ] = False,
) -> None:
    """Delete a campaign that has not launched, with its schedule, campaign file and templates.

    Asks first unless --yes. A launched campaign cannot be deleted: cancel it instead.

    Example:

        ems campaign delete summer-2025 --yes
    """
    session = session_of(ctx)
    confirm_unless(yes, f"Delete campaign {campaign_id}? This cannot be undone.")
    with reporting_errors(session), session.client() as client:
        client.delete_campaign(campaign_id)
    if as_json:
        print_json({"campaign_id": campaign_id, "deleted": True})
    else:
        make_console().print(f"Deleted campaign {campaign_id}.", markup=False)


@app.command()
def metrics(
    ctx: typer.Context,
    campaign_id: CampaignId,
    *,
    watch: Annotated[
        bool | None,
        typer.Option(
            "--watch/--once",
            help="--watch: refresh while the campaign is LAUNCHING or SENDING, until it is done."
            " --once: show the numbers once. Default: --watch on a terminal, --once otherwise"
            " (pipes, scripts, --json).",
            show_default=False,
        ),
    ] = None,
    interval_s: Annotated[
        float,
        typer.Option(
            "--interval", metavar="SECONDS", min=1, help="Seconds between refreshes with --watch."
        ),
    ] = DEFAULT_REFRESH_S,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the API's JSON answer instead of the table (with --watch: one JSON"
            " document per line, at each refresh).",
        ),
    ] = False,
) -> None:
    """Show a campaign's numbers as a table: sent, delivered, bounced, complained, opened,
    clicked, failed, suppressed ..., in total and per segment, with rates as percentages.

    While the campaign is LAUNCHING or SENDING the table refreshes until it is COMPLETED (or
    cancelled); Ctrl-C stops watching. Opens and clicks keep coming in after that: run it again.

    Examples:

        ems campaign metrics summer-2025

        ems campaign metrics summer-2025 --watch --interval 10
    """
    session = session_of(ctx)
    console = make_console()
    asked_to_watch = watch is True
    if watch is None:
        watch = console.is_terminal and not as_json
    with reporting_errors(session), session.client() as client:
        current = client.campaign_metrics(campaign_id)
        if not (watch and current.get("status") in SENDING_STATES):
            _print_metrics(console, current, as_json=as_json)
            if asked_to_watch:
                make_console(stderr=True).print(
                    f"Campaign {campaign_id} is {current.get('status')}, not sending:"
                    " its numbers were shown once.",
                    markup=False,
                )
            return
        try:
            _watch_metrics(client, session, console, current, interval_s, as_json=as_json)
        except KeyboardInterrupt:
            return  # stopping the watch is the usual way out: not an error


def _print_metrics(console: Console, metrics: JsonObject, *, as_json: bool) -> None:
    if as_json:
        print_json(metrics)
    else:
        console.print(metrics_report(metrics))


def _watch_metrics(
    client: EmsClient,
    session: Session,
    console: Console,
    current: JsonObject,
    interval_s: float,
    *,
    as_json: bool,
) -> None:
    """Refresh until the campaign leaves LAUNCHING/SENDING: redrawn in place on a terminal,
    a new table (or JSON line) per change elsewhere."""
    campaign_id = str(current.get("campaign_id"))
    if as_json or not console.is_terminal:
        last: JsonObject | None = None
        while True:
            if current != last:
                if as_json:
                    print(json.dumps(current, ensure_ascii=False), flush=True)
                else:
                    console.print(metrics_report(current))
                last = current
            if current.get("status") not in SENDING_STATES:
                return
            session.sleep(interval_s)
            current = client.campaign_metrics(campaign_id)
    footer = Text(f"Refreshing every {interval_s:g} s while it sends; Ctrl-C stops.", style="dim")
    with Live(console=console, auto_refresh=False) as live:
        while current.get("status") in SENDING_STATES:
            live.update(Group(metrics_report(current), footer), refresh=True)
            session.sleep(interval_s)
            current = client.campaign_metrics(campaign_id)
        live.update(metrics_report(current), refresh=True)


@app.command()
def timeline(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Show how many emails were sent, delivered, opened, clicked, bounced and complained
    about in each minute since the campaign launched (minutes without events are left out).

    Example:

        ems campaign timeline summer-2025
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.campaign_timeline(campaign_id)
    print_answer(answer, timeline_table, as_json=as_json)


@app.command()
def recipient(
    ctx: typer.Context,
    campaign_id: CampaignId,
    address: Annotated[
        str, typer.Argument(help="The recipient's email address.", show_default=False)
    ],
    as_json: JsonOption = False,
) -> None:
    """Show one recipient's email in a campaign: its status (QUEUED ... DELIVERED, OPENED,
    CLICKED, BOUNCED ...), when each thing happened, and the SES events behind it.

    Example:

        ems campaign recipient summer-2025 ann@example.com
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.get_recipient(campaign_id, address)
    print_answer(answer, recipient_summary, as_json=as_json)
