"""What the console's pages show, shaped from the API's own views (plain Python, no Flask).

Every number comes from the view model the JSON API answers with (`CampaignMetricsView`,
`RecipientView`, `TemplateMetricsView` ...), so a page and the API never disagree; this module
only formats them, fills the chart's empty minutes, and reads and writes CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Final

from ems_common.campaigns import CampaignStatus, PausedBy, Rejection
from ems_common.dal.timeline import TimelineMinute
from ems_common.suppressions import SuppressionReason, scope_problem
from ems_common.timeline import Series, minute_of
from ems_scheduler.api.campaign_views import CampaignView

# While a campaign is in one of these, its page refreshes itself (htmx; a meta refresh without
# JavaScript): verification progress, sending, numbers moving.
LIVE_STATES: Final = frozenset(
    {CampaignStatus.VERIFYING, CampaignStatus.LAUNCHING, CampaignStatus.SENDING}
)
REFRESH_SECONDS: Final = 5
# Who paused a campaign (`Pause.by`), in a person's words.
PAUSED_BY: Final = {
    PausedBy.OPERATOR: "a person: the Pause button, ems campaign pause or the API",
    PausedBy.BRAKE: "the reputation brake: its bounce or complaint rate crossed the limit",
    PausedBy.SES: "SES: it refused the campaign's sender or configuration set",
}
# Metrics rows shown only where some are counted: most campaigns never have any (as the CLI).
RARE_METRICS: Final = frozenset({"ambiguous", "unconfirmed"})
# The chart draws at most this many minutes (the newest): two weeks, every minute.
CHART_MINUTES: Final = 14 * 24 * 60
CSV_MAX_LINES: Final = 1_000_000


def percent(rate: float | None) -> str:
    """A rate the API gives as a fraction, as a percentage (`-` while there is no divisor)."""
    if rate is None:
        return "-"
    text = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def utc(moment: datetime | None) -> str:
    """A time as `2030-01-01 09:05:00 UTC` (`-` when unknown)."""
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class ChartData:
    """The chart's columns: minute starts (epoch seconds) and one list per series."""

    minutes: list[int]
    series: dict[str, list[int]]

    def to_json(self) -> str:
        """The JSON the page's chart script reads (uPlot's columnar data)."""
        return json.dumps({"minutes": self.minutes, "series": self.series}, separators=(",", ":"))


def chart_data(
    minutes: Sequence[TimelineMinute],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ChartData:
    """Every minute from the launch (`since`; else the minute before the first with events)
    to the minute after the last (or to `until`, now while it sends), zeros where nothing
    happened: the lines fall to 0 in quiet minutes, and a campaign sent within one minute is
    still a peak, not a lone point."""
    if not minutes:
        return ChartData([], {s.value: [] for s in Series})
    by_minute = {m.minute: m.counts for m in minutes}
    step = timedelta(minutes=1)
    first = minutes[0].minute - step
    if since is not None:
        first = min(first + step, minute_of(since))
    last = minutes[-1].minute + step
    if until is not None:
        last = max(last, minute_of(until))
    count = int((last - first) / step) + 1
    if count > CHART_MINUTES:
        first, count = last - step * (CHART_MINUTES - 1), CHART_MINUTES
    starts = [first + step * n for n in range(count)]
    return ChartData(
        minutes=[int(start.timestamp()) for start in starts],
        series={s.value: [by_minute.get(start, {}).get(s, 0) for start in starts] for s in Series},
    )


def rejections_csv(rejections: Iterable[Rejection]) -> str:
    """The rejected recipients as CSV: segment, address, reason."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["segment", "to_address", "reason"])
    for rejection in rejections:
        writer.writerow([rejection.segment, rejection.to_address, rejection.reason])
    return out.getvalue()


def no_rejection_details(campaign: CampaignView) -> str:
    """Why a campaign has no rejected recipients' details to show: none were rejected, or they
    were deleted (the counts stay)."""
    if campaign.rejections_expired and campaign.rejections_expire_at is not None:
        deleted = utc(campaign.rejections_expire_at)
        return (
            f"The rejected recipients' addresses were deleted on {deleted} (EMS keeps them for"
            " a while only); their counts by reason stay on the campaign's page."
        )
    return f"Campaign {campaign.campaign_id} has no rejected recipients' details."


def rejections_by_reason(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Reasons, the most frequent first."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# --- suppression imports ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    """One address of an import, with where it came from and its own columns, if any."""

    line: int
    address: str
    scope: str | None
    reason: SuppressionReason | None
    detail: str | None


class ImportFileError(ValueError):
    """The file cannot be read as an import; the message says which line and why."""


def read_import(text: str) -> list[ImportRow]:
    """The addresses of a suppression import: a CSV with an `address` header (its `scope`,
    `reason` and `detail` columns, where present, override the form's choices), or one
    address per line (as `ems suppressions import` reads it and `export` writes it)."""
    lines = text.splitlines()
    if len(lines) > CSV_MAX_LINES:
        msg = f"the file has over {CSV_MAX_LINES:,} lines: split it"
        raise ImportFileError(msg)
    first = lines[0].strip().lower() if lines else ""
    if "," not in first and first != "address":
        return [
            ImportRow(number, line.strip(), None, None, None)
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "address" not in fields:
        msg = "line 1: a CSV needs an `address` column (or give one address per line)"
        raise ImportFileError(msg)
    rows = []
    for raw in reader:
        number = reader.line_num  # the file's line (blank lines are skipped, yet counted)
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not row.get("address"):
            continue
        scope = row.get("scope") or None
        if scope is not None and (problem := scope_problem(scope)) is not None:
            raise ImportFileError(f"line {number}: {problem}")
        reason_text = row.get("reason") or None
        try:
            reason = SuppressionReason(reason_text) if reason_text else None
        except ValueError as error:
            choices = ", ".join(r.value for r in SuppressionReason)
            msg = f"line {number}: {reason_text!r} is no reason: use one of {choices}"
            raise ImportFileError(msg) from error
        rows.append(ImportRow(number, row["address"], scope, reason, row.get("detail") or None))
    return rows


# --- template previews -----------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email's subject and parts."""

    subject: str
    html: str | None
    text: str | None


def rendered_email(mime: str) -> RenderedEmail:
    """The subject and parts of the MIME message SES rendered."""
    message = message_from_string(mime, policy=policy.default)
    html = text = None
    if isinstance(message, EmailMessage):
        html_part = message.get_body(preferencelist=("html",))
        text_part = message.get_body(preferencelist=("plain",))
        html = html_part.get_content() if html_part is not None else None
        text = text_part.get_content() if text_part is not None else None
    return RenderedEmail(subject=str(message.get("Subject", "")), html=html, text=text)
