"""How campaigns, templates and emails look at a terminal: a summary for one, a table for many.

Everything from the API is wrapped in `Text`, never parsed as rich markup: an address or a list
name may contain brackets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ems_cli.client import JsonObject, Problem
from ems_cli.suppression_files import ALL, CAMPAIGNS, LIST_PREFIX

STATUS_STYLES: Final = {
    "VERIFYING": "magenta",
    "SCHEDULED": "cyan",
    "LAUNCHING": "yellow",
    "SENDING": "yellow",
    "PAUSED": "bold yellow",
    "COMPLETED": "green",
    "CANCELLED": "dim",
    "FAILED": "bold red",
    "REJECTED": "bold red",
}
# Who paused a campaign (the API's `pause.by`), in a person's words.
PAUSED_BY: Final = {
    "operator": "an operator (ems campaign pause)",
    "brake": "the reputation brake (its bounce or complaint rate)",
    "ses": "SES (it refused the campaign's sender)",
}
# The counts `describe` adds when they are not 0: (label, the API's field, what they mean).
OUTCOME_NOTES: Final = (
    (
        "Ambiguous",
        "ambiguous",
        "SES's answer to the send was lost, so never sent again; SES's events tell whether it"
        " went out, else it is counted unconfirmed when the campaign settles",
    ),
    (
        "Unconfirmed",
        "unconfirmed",
        "settled without a final event (no delivery or bounce report came, or held on a"
        " dead-letter queue: `ems dlq list`), counted finished",
    ),
)
SETTLED_MEANING: Final = (
    "completed without every email's final outcome: the emails with no final event are"
    " counted unconfirmed"
)
_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86400


def print_json(body: object) -> None:
    """Raw JSON for scripts: plain text on stdout, no colour, no wrapping."""
    print(json.dumps(body, indent=2, ensure_ascii=False))


def print_answer(
    answer: JsonObject,
    summary: Callable[[JsonObject], RenderableType],
    *,
    as_json: bool,
    headline: str | None = None,
) -> None:
    """One thing the API answered with: its JSON with --json, else `headline` (if any) over
    its `summary`."""
    if as_json:
        print_json(answer)
        return
    console = make_console()
    if headline:
        console.print(headline, markup=False)
    console.print(summary(answer))


def status_text(status: object) -> Text:
    """A status word in its colour."""
    name = str(status or "?")
    return Text(name, style=STATUS_STYLES.get(name, ""))


def when(moment: object, now: datetime | None = None) -> Text:
    """An API timestamp as sent (copy-pasteable), with how far away it is, e.g. `(in 2 h)`."""
    if not isinstance(moment, str) or not moment:
        return Text("-", style="dim")
    text = Text(moment)
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    seconds = (parsed - (now or datetime.now(UTC))).total_seconds()
    span = _span(abs(seconds))
    text.append(f" (in {span})" if seconds >= 0 else f" ({span} ago)", style="dim")
    return text


def _span(seconds: float) -> str:
    if seconds < _MINUTE:
        return f"{seconds:.0f} s"
    if seconds < _HOUR:
        return f"{seconds / _MINUTE:.0f} min"
    if seconds < _DAY:
        hours, rest = divmod(int(seconds), _HOUR)
        return f"{hours} h {rest // _MINUTE} min" if rest >= _MINUTE else f"{hours} h"
    days = seconds / _DAY
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"


def progress_text(progress: object) -> Text | None:
    """`compiling 500/1,000 (50%)`, or None when nothing long-running is going on."""
    if not isinstance(progress, dict):
        return None
    done, total = progress.get("done") or 0, progress.get("total")
    step = str(progress.get("step", "?"))
    if not (isinstance(total, int) and total > 0):
        return Text(f"{step} {_n(done)}")
    percent = f"{100 * done / total:.0f}%"
    return Text(f"{step} {_n(done)}/{_n(total)} ({percent})")


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def campaign_summary(
    campaign: JsonObject, *, rejections_shown: int = 10, numbers: JsonObject | None = None
) -> RenderableType:
    """What a person wants to know about one campaign, in reading order.

    `numbers` (its GET /campaigns/{id}/metrics answer) adds the emails whose outcome is not
    known, when there are any.
    """
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    recipients = campaign.get("recipients") or {}
    facts.add_row("Status", status_text(campaign.get("status")))
    _pause_rows(facts, campaign)
    if campaign.get("settled"):
        settled = Text(SETTLED_MEANING + ". ")
        settled.append(str(campaign["settled"]), style="yellow")
        facts.add_row("Settled", settled)
    facts.add_row("Date", when(campaign.get("date")))
    facts.add_row(
        "Recipients",
        Text(
            f"{_n(recipients.get('accepted', 0))} accepted,"
            f" {_n(recipients.get('rejected', 0))} rejected"
        ),
    )
    by_reason = campaign.get("rejected_by_reason") or {}
    if by_reason:
        reasons = sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))
        facts.add_row("Rejected by", Text(", ".join(f"{r} {_n(n)}" for r, n in reasons)))
    if campaign.get("rejections_expire_at"):
        # The addresses of rejected recipients are personal data, kept for a while only.
        label = "Details deleted" if campaign.get("rejections_expired") else "Details kept until"
        facts.add_row(label, when(campaign["rejections_expire_at"]))
    progress = progress_text(campaign.get("progress"))
    if progress is not None:
        facts.add_row("Progress", progress)
    if campaign.get("emails_enqueued"):
        facts.add_row("Enqueued", Text(f"{_n(campaign['emails_enqueued'])} emails"))
    if campaign.get("candidate_s3_uri"):
        facts.add_row("Candidate", Text(str(campaign["candidate_s3_uri"])))
    if campaign.get("error"):
        facts.add_row("Error", Text(str(campaign["error"]), style="red"))
    for label, count, meaning in OUTCOME_NOTES:
        found = (numbers or {}).get(count)
        if isinstance(found, int) and found > 0:
            facts.add_row(label, Text(f"{_n(found)} email{'' if found == 1 else 's'}: {meaning}"))
    facts.add_row("Created", when(campaign.get("created_at")))
    facts.add_row("Updated", when(campaign.get("updated_at")))

    parts: list[RenderableType] = [
        Text.assemble(("Campaign ", "bold"), (str(campaign.get("campaign_id", "?")), "bold")),
        facts,
    ]
    segments = campaign.get("segments") or []
    if segments:
        parts.append(_segments_table(segments))
    rejections = campaign.get("rejections") or []
    if rejections:
        total = campaign.get("rejections_total") or len(rejections)
        parts.append(_rejections_table(rejections[:rejections_shown], total))
    problems = campaign.get("problems") or []
    if problems:
        parts.append(
            problems_table(
                [Problem(str(p.get("path", "$")), str(p.get("message", ""))) for p in problems],
                title="Problems with the candidate",
            )
        )
    return Group(*parts)


def _pause_rows(facts: Table, campaign: JsonObject) -> None:
    """Who paused the campaign, when, why, and how it goes on (nothing unless it is paused)."""
    pause = campaign.get("pause")
    if not isinstance(pause, dict):
        return
    by = str(pause.get("by", "?"))
    facts.add_row("Paused by", Text(PAUSED_BY.get(by, by)))
    facts.add_row("Paused at", when(pause.get("paused_at")))
    facts.add_row("Why", Text(str(pause.get("reason", "")), style="yellow"))
    campaign_id = campaign.get("campaign_id", "ID")
    facts.add_row(
        "Resume",
        Text(
            f"ems campaign resume {campaign_id} goes back to {pause.get('resume_to', 'SENDING')}"
            " and sends each held email once (or: ems campaign cancel)"
        ),
    )


def _segments_table(segments: list[Any]) -> Table:
    table = Table(title="Segments", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for name in ("List", "Template", "From", "Config set"):
        table.add_column(name, overflow="fold")
    table.add_column("Accepted", justify="right")
    table.add_column("Rejected", justify="right")
    for segment in segments:
        table.add_row(
            *(
                Text(str(segment.get(key, "")))
                for key in ("list_name", "template_name", "from_address", "configuration_set")
            ),
            Text(_n(segment.get("accepted", 0))),
            Text(_n(segment.get("rejected", 0))),
        )
    return table


def _rejections_table(rejections: list[Any], total: int) -> Table:
    table = Table(
        title=f"First rejections ({len(rejections)} of {_n(total)})",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for name in ("Segment", "Address", "Reason"):
        table.add_column(name, overflow="fold")
    for rejection in rejections:
        table.add_row(
            *(Text(str(rejection.get(key, ""))) for key in ("segment", "to_address", "reason"))
        )
    return table


def problems_table(problems: list[Problem], *, title: str = "Problems") -> Table:
    """Each problem's JSON path and what to fix."""
    table = Table(title=title, title_justify="left", title_style="bold red", box=box.SIMPLE_HEAD)
    table.add_column("Path", style="bold", overflow="fold")
    table.add_column("Problem", overflow="fold")
    for problem in problems:
        table.add_row(Text(problem.path), Text(problem.message))
    return table


def campaigns_table(campaigns: list[JsonObject]) -> Table:
    """One row per campaign, narrow enough for an 80-column terminal."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # Ids are copied into the next command: never shortened; folded only if the terminal is narrow.
    table.add_column("Campaign", overflow="fold", min_width=8)
    table.add_column("Status", no_wrap=True)
    table.add_column("Date (UTC)", no_wrap=True)
    table.add_column("Accepted", justify="right", no_wrap=True)
    table.add_column("Rejected", justify="right", no_wrap=True)
    for campaign in campaigns:
        recipients = campaign.get("recipients") or {}
        status = status_text(campaign.get("status"))
        percent = _percent(campaign.get("progress"))
        if percent:
            status.append(f" {percent}", style="dim")
        table.add_row(
            Text(str(campaign.get("campaign_id", "?"))),
            status,
            Text(_short_utc(campaign.get("date"))),
            Text(_n(recipients.get("accepted", 0))),
            Text(_n(recipients.get("rejected", 0))),
        )
    return table


TIMELINE_SERIES: Final = ("sent", "delivered", "opened", "clicked", "bounced", "complained")


def timeline_table(timeline: JsonObject) -> RenderableType:
    """A row per minute that had events (UTC), a column per series, and their sums."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_footer=True)
    minutes = [m for m in timeline.get("minutes") or [] if isinstance(m, dict)]
    table.add_column("Minute (UTC)", "Total", no_wrap=True)
    for name in TIMELINE_SERIES:
        total = sum(int(m.get(name) or 0) for m in minutes)
        table.add_column(name.capitalize(), _n(total), justify="right", no_wrap=True)
    for minute in minutes:
        counts = (_n(minute.get(name) or 0) for name in TIMELINE_SERIES)
        table.add_row(_short_utc(minute.get("minute")), *counts)
    heading = Text(f"Campaign {timeline.get('campaign_id', '?')}  ")
    heading.append_text(status_text(timeline.get("status")))
    heading.append(f"  launched {_short_utc(timeline.get('launched_at'))}")
    if not minutes:
        return Group(heading, Text("No events yet.", style="dim"))
    if timeline.get("truncated"):
        return Group(heading, table, Text("Later minutes were left out.", style="dim"))
    return Group(heading, table)


def _percent(progress: object) -> str:
    if not isinstance(progress, dict):
        return ""
    done, total = progress.get("done") or 0, progress.get("total")
    return f"{100 * done / total:.0f}%" if isinstance(total, int) and total > 0 else ""


def _in_utc(moment: object) -> datetime | str:
    """An API time as a UTC datetime; `-` while unknown, the text itself if not a time."""
    if not isinstance(moment, str) or not moment:
        return "-"
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed


def _short_utc(moment: object) -> str:
    """`2030-01-01 12:00` for a list; `-` while unknown (VERIFYING)."""
    parsed = _in_utc(moment)
    return parsed if isinstance(parsed, str) else parsed.strftime("%Y-%m-%d %H:%M")


def make_console(*, stderr: bool = False) -> Console:
    """A console on the current stdout/stderr (looked up at print time, so tests capture it).

    Messages on stderr are soft-wrapped: the terminal wraps them, so they copy and grep whole.
    """
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


# --- tracking: a campaign's numbers, one recipient, the suppression list ----------------------

# (row label, count field, the rate shown next to it): the API's names, in reading order.
METRIC_ROWS: Final = (
    ("Recipients", "total", None),
    ("Sent", "sent", None),
    ("Delivered", "delivered", "delivery_rate"),
    ("Bounced", "bounced", "bounce_rate"),
    ("  hard", "bounced_hard", None),
    ("  soft", "bounced_soft", None),
    ("Complained", "complained", "complaint_rate"),
    ("Rejected", "rejected", None),
    ("Opened", "opened", "open_rate"),
    ("  opens", "opened_total", None),
    ("Clicked", "clicked", "click_rate"),
    ("  clicks", "clicked_total", None),
    ("Rendering failures", "rendering_failures", None),
    ("Delivery delays", "delivery_delays", None),
    ("Unsubscribed", "unsubscribed", None),
    ("Failed", "failed", None),
    ("Suppressed", "suppressed", None),
    ("Ambiguous", "ambiguous", None),
    ("Unconfirmed", "unconfirmed", None),
    ("Finished", "finished", "progress"),
)
# Rows shown only when a column counts some: most campaigns never have any.
RARE_METRIC_ROWS: Final = frozenset({"ambiguous", "unconfirmed"})
NO_SEGMENT_LABEL: Final = "(no segment)"
# A metrics column is never narrower than this (a count, a rate and the padding).
_NARROWEST_COLUMN: Final = 8
_UNLIMITED_WIDTH: Final = 100_000
# Where an event says what happened, in SES's event JSON: (object, field) pairs to show.
_EVENT_DETAILS: Final = (
    ("bounce", "bounceType"),
    ("bounce", "bounceSubType"),
    ("complaint", "complaintFeedbackType"),
    ("deliveryDelay", "delayType"),
    ("reject", "reason"),
    ("failure", "errorMessage"),
    ("click", "link"),
    ("delivery", "smtpResponse"),
)


def rate_text(rate: object) -> str:
    """A rate (a fraction, as the API sends it) as a percentage: `98.5%`; empty when unknown."""
    return f"{100 * rate:.1f}%" if isinstance(rate, int | float) else ""


def metrics_report(metrics: JsonObject) -> RenderableType:
    """A campaign's headline (status, progress) and its numbers: a row per count, a column for
    the total and one per segment, rates as percentages next to their counts."""
    headline = Text.assemble(
        ("Campaign ", "bold"), (str(metrics.get("campaign_id", "?")), "bold"), "  "
    )
    headline.append_text(status_text(metrics.get("status")))
    headline.append_text(_finished_text(metrics))
    segments = metrics.get("segments") or []
    columns = [("Total", metrics), *((_segment_heading(s), s) for s in segments)]
    return Group(headline, metrics_table(columns))


def _segment_heading(segment: JsonObject) -> str:
    name = str(segment.get("segment_id", "?"))
    return NO_SEGMENT_LABEL if name == "-" else name


def template_metrics_report(
    metrics: JsonObject, *, days_shown: int | None = None, width: int = 80
) -> RenderableType:
    """A template's numbers as `metrics_report` shows a campaign's: a column for the total, then
    one per UTC day, oldest first: the newest `days_shown`, or (None) as many as fit in `width`
    (at least one)."""
    headline = Text.assemble(("Template ", "bold"), (str(metrics.get("template", "?")), "bold"))
    headline.append_text(_finished_text(metrics))
    days = sorted(metrics.get("days") or [], key=lambda day: str(day.get("day", "")))

    def table_of(count: int) -> Table:
        shown = days[-count:] if count > 0 else []
        return metrics_table(
            [("Total", metrics), *((str(day.get("day", "?")), day) for day in shown)]
        )

    count = min(len(days), days_shown if days_shown is not None else width // _NARROWEST_COLUMN)
    table = table_of(count)
    if days_shown is None:
        measure = Console(width=_UNLIMITED_WIDTH).measure  # the width each table wants
        while count > 1 and measure(table).maximum > width:
            count -= 1
            table = table_of(count)
    parts: list[RenderableType] = [headline, table]
    if count < len(days):
        parts.append(
            Text(
                f"The newest {count} of {len(days)} days; --days N shows N, --json all.",
                style="dim",
            )
        )
    return Group(*parts)


def _finished_text(metrics: JsonObject) -> Text:
    """`  77 of 100 emails finished (77.0%)`."""
    text = Text(
        f"  {_n(metrics.get('finished', 0))} of {_n(metrics.get('total', 0))} emails finished"
    )
    progress = rate_text((metrics.get("rates") or {}).get("progress"))
    if progress:
        text.append(f" ({progress})")
    return text


def metrics_table(columns: Sequence[tuple[str, JsonObject]]) -> Table:
    """A row per count (METRIC_ROWS; the rare ones only when some column has any) and a column
    per (heading, numbers), the first the total: each numbers object has the API's count fields
    and its `rates`."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("", no_wrap=True)
    for position, (heading, _) in enumerate(columns):
        table.add_column(heading, justify="right", no_wrap=position == 0)
    for label, count, rate in METRIC_ROWS:
        if count in RARE_METRIC_ROWS and not any(numbers.get(count) for _, numbers in columns):
            continue
        sub_row = label.startswith(" ")
        cells = [Text(label, style="dim" if sub_row else "")]
        for _, numbers in columns:
            cell = Text(_n(numbers.get(count, 0)), style="dim" if sub_row else "")
            shown = rate_text((numbers.get("rates") or {}).get(rate)) if rate else ""
            if shown:
                cell.append(f" {shown:>6}", style="dim")
            cells.append(cell)
        table.add_row(*cells)
    return table


def recipient_summary(recipient: JsonObject) -> RenderableType:
    """One recipient's email in a campaign: its status, what happened when, and its events."""
    title = Text.assemble(
        ("Recipient ", "bold"),
        (str(recipient.get("address", "?")), "bold"),
        " of campaign ",
        (str(recipient.get("campaign_id", "?")), "bold"),
    )
    return _email_report(title, recipient, (("Segment", "segment_id"),))


def email_summary(email: JsonObject) -> RenderableType:
    """One transactional email (GET /emails/{id}): as `recipient_summary`, with its address,
    template and request instead of a campaign and segment."""
    title = Text.assemble(("Email ", "bold"), (str(email.get("email_id", "?")), "bold"))
    return _email_report(
        title, email, (("To", "to"), ("Template", "template"), ("Request", "request_id"))
    )


def _email_report(
    title: Text, email: JsonObject, identity: Sequence[tuple[str, str]]
) -> RenderableType:
    """An email's status, `identity` rows (label, field), what happened when, and its events."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Status", Text(str(email.get("status", "?")), style="bold"))
    for label, key in (*identity, ("SES message", "ses_message_id")):
        facts.add_row(label, Text(str(email.get(key) or "-")))
    if email.get("reason"):
        facts.add_row("Reason", Text(str(email["reason"]), style="red"))
    for label, key in (
        ("Taken", "claimed_at"),
        ("Sent", "sent_at"),
        ("Delivered", "delivered_at"),
        ("Delayed", "delayed_at"),
        ("Bounced", "bounced_at"),
        ("Complained", "complained_at"),
        ("Rejected", "rejected_at"),
        ("Rendering failed", "rendering_failed_at"),
        ("First open", "opened_at"),
        ("First click", "clicked_at"),
        ("Unsubscribed", "unsubscribed_at"),
    ):
        if email.get(key):
            text = when(email[key])
            if key == "bounced_at" and email.get("bounce_type"):
                text.append(f"  {email['bounce_type']}")
            facts.add_row(label, text)
    facts.add_row("Opens", Text(_n(email.get("opens", 0))))
    facts.add_row("Clicks", Text(_n(email.get("clicks", 0))))

    parts: list[RenderableType] = [title, facts]
    events = email.get("events") or []
    if events:
        table = Table(
            title="Events" + (" (the newest)" if email.get("older_events_left_out") else ""),
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("Occurred (UTC)", no_wrap=True)
        table.add_column("Event", no_wrap=True)
        table.add_column("Detail", overflow="fold")
        for event in events:
            table.add_row(
                Text(_utc_time(event.get("occurred_at"))),
                Text(str(event.get("event_type", "?"))),
                Text(_event_detail(event.get("event"))),
            )
        parts.append(table)
    else:
        parts.append(Text("No SES event kept for this email yet.", style="dim"))
    return Group(*parts)


def _event_detail(event: object) -> str:
    """What the event says beyond its type: the bounce type, the clicked link, ..."""
    if not isinstance(event, dict):
        return ""
    found = [
        str(section[name])
        for key, name in _EVENT_DETAILS
        if isinstance(section := event.get(key), dict) and section.get(name)
    ]
    return " ".join(found)


def _utc_time(moment: object) -> str:
    """`2030-01-01 09:00:04.500` for an event: to the millisecond, events come close together."""
    parsed = _in_utc(moment)
    if isinstance(parsed, str):
        return parsed
    return parsed.isoformat(sep=" ", timespec="milliseconds").removesuffix("+00:00")


def suppressions_table(suppressions: list[JsonObject]) -> Table:
    """One row per suppression: the address, in which scope, why, by what, since when."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # Addresses are copied into `ems suppressions remove`: never shortened.
    table.add_column("Address", overflow="fold", min_width=12)
    table.add_column("Scope", overflow="fold")
    table.add_column("Reason", no_wrap=True)
    table.add_column("Detail", overflow="ellipsis", max_width=40)
    table.add_column("Source", no_wrap=True)
    table.add_column("Since (UTC)", no_wrap=True)
    for suppression in suppressions:
        table.add_row(
            Text(str(suppression.get("address", "?"))),
            Text(str(suppression.get("scope") or "-")),
            Text(str(suppression.get("reason") or "-")),
            Text(str(suppression.get("detail") or "-")),
            Text(str(suppression.get("source") or "-")),
            Text(_short_utc(suppression.get("suppressed_at"))),
        )
    return table


def blocked_email(scopes: Sequence[str]) -> str:
    """What an address's suppression `scopes` keep from it, by EMS's policy: `all` blocks every
    email, `campaigns` every campaign email, `list:<name>` that list's campaign email;
    transactional email only `all` blocks."""
    if not scopes:
        return "Not suppressed: EMS sends to it."
    if ALL in scopes:
        return "No email at all, transactional included."
    if CAMPAIGNS in scopes:
        return "No campaign email; transactional email is still sent."
    lists = sorted(s.removeprefix(LIST_PREFIX) for s in scopes if s.startswith(LIST_PREFIX))
    if lists:
        return (
            f"No campaign email of the list{'s' if len(lists) > 1 else ''} {', '.join(lists)};"
            " other campaigns and transactional email are still sent."
        )
    return "Nothing EMS knows of (scopes: " + ", ".join(scopes) + ")."


def address_suppressions_report(answer: JsonObject) -> RenderableType:
    """One address's suppressions (GET /suppressions/{address}): what they block, then a row per
    scope with why, by what, for which campaign and since when."""
    suppressions = answer.get("suppressions") or []
    title = Text.assemble(("Suppressions of ", "bold"), (str(answer.get("address", "?")), "bold"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Scope", overflow="fold")
    table.add_column("Reason", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    table.add_column("Source", no_wrap=True)
    table.add_column("Campaign", overflow="fold")
    table.add_column("Since (UTC)", no_wrap=True)
    for suppression in suppressions:
        table.add_row(
            Text(str(suppression.get("scope") or "-")),
            Text(str(suppression.get("reason") or "-")),
            Text(str(suppression.get("detail") or "-")),
            Text(str(suppression.get("source") or "-")),
            Text(str(suppression.get("campaign_id") or "-")),
            Text(_short_utc(suppression.get("suppressed_at"))),
        )
    effect = blocked_email([str(s.get("scope")) for s in suppressions])
    return Group(title, Text(effect), table)


# --- transactional email: templates and sends -------------------------------------------------


def _fields_text(fields: object, key: str) -> Text:
    names = fields.get(key) if isinstance(fields, dict) else None
    return Text(", ".join(str(n) for n in names)) if names else Text("-", style="dim")


def template_summary(template: JsonObject) -> RenderableType:
    """One template: its subject, the fields its data must hold, its size and times."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    fields = template.get("fields")
    facts.add_row("Subject", Text(str(template.get("subject", ""))))
    facts.add_row("Required fields", _fields_text(fields, "required"))
    facts.add_row("Conditional fields", _fields_text(fields, "conditional"))
    facts.add_row("Text part", Text("yes" if template.get("has_text") else "no"))
    facts.add_row("Size", Text(f"{_n(template.get('size_bytes', 0))} bytes"))
    facts.add_row("SES template", Text(str(template.get("ses_template_name") or "-")))
    facts.add_row("Created", when(template.get("created_at")))
    facts.add_row("Updated", when(template.get("updated_at")))
    title = Text.assemble(("Template ", "bold"), (str(template.get("name", "?")), "bold"))
    return Group(title, facts)


def templates_table(templates: list[JsonObject]) -> Table:
    """One row per template: its subject, required fields, size and last change."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # Names are copied into `ems email send --template`: never shortened.
    table.add_column("Template", overflow="fold", min_width=8)
    table.add_column("Subject", overflow="ellipsis", max_width=40)
    table.add_column("Required fields", overflow="fold")
    table.add_column("Text", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Updated (UTC)", no_wrap=True)
    for template in templates:
        table.add_row(
            Text(str(template.get("name", "?"))),
            Text(str(template.get("subject", ""))),
            _fields_text(template.get("fields"), "required"),
            Text("yes" if template.get("has_text") else "no"),
            Text(_n(template.get("size_bytes", 0))),
            Text(_short_utc(template.get("updated_at"))),
        )
    return table


def send_rejections_table(rejections: list[JsonObject]) -> Table:
    """The recipients a send left out: their index (in the caller's list), address and why."""
    table = Table(
        title=f"Rejected recipients ({_n(len(rejections))})",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("Index", justify="right", no_wrap=True)
    table.add_column("Address", overflow="fold")
    table.add_column("Reason", no_wrap=True)
    table.add_column("Message", overflow="fold")
    for rejection in rejections:
        table.add_row(
            Text(str(rejection.get("index", "?"))),
            Text(str(rejection.get("to", ""))),
            Text(str(rejection.get("reason", "")), style="red"),
            Text(str(rejection.get("message", ""))),
        )
    return table
