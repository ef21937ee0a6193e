"""The demo: EMS's main job end to end on the local stack, through its HTTP API.

1. The local stack up (`ems-stack up`), or the running one reused.
2. The sample campaign templates (`demo/templates/`, one per segment) uploaded to the assets
   bucket, and the transactional one registered with POST /templates.
3. One address on the suppression list, as the tracker puts one there after a hard bounce.
4. A campaign of `--recipients` entries over three segments, with some invalid addresses, some
   duplicates and the suppressed address, created with POST /campaigns to start right away.
5. While it sends: a few transactional emails (POST /emails, POST /emails/bulk), and a progress
   line every few seconds from GET /campaigns/{id}/metrics.
6. The campaign's metrics table, its rejected recipients by reason, the transactional emails'
   statuses, and where to look next.

The plan of the campaign (`plan_campaign`) and the progress line (`Throughput`,
`progress_line`) are plain functions, tested without a stack; `main` does the I/O.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson
from rich.console import Console

from ems_cli.client import ApiError, ApiUnreachableError, EmsClient, JsonObject
from ems_cli.config import KEY_ENV, URL_ENV
from ems_cli.render import make_console, metrics_report
from ems_common.aws import AwsClients
from ems_common.campaigns import CampaignStatus
from ems_common.emails import EmailStatus
from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig
from ems_devstack.processes import StackError
from ems_devstack.services import CAMPAIGN_SENDER_NAMES, TRACKER_NAME
from ems_devstack.stack import LocalStackStack, parse_env_file
from ems_scheduler.shared.recipients import RejectionReason

DEFAULT_RECIPIENTS: Final = 2_000
"""About two minutes of sending at the local SES's 15-20 emails a second; 3,000 took eight on
a 2-core machine shared with two other stacks (6 emails a second)."""
MIN_RECIPIENTS: Final = 20
MAX_RECIPIENTS: Final = 20_000
"""More would take over a quarter of an hour to send locally."""
START_AFTER_S: Final = 5.0
"""The campaign's date: this long after the request (the API takes any future date)."""
REFRESH_S: Final = 5.0
"""Seconds between progress lines."""
STALL_S: Final = 60.0
"""No progress for this long: the demo gives up and says which log to read."""
RATE_WINDOW_S: Final = 30.0
"""The send rate is measured over this many seconds."""
RATE_MIN_SPAN_S: Final = 10.0
"""... and shown once its samples span this many."""
TRANSACTIONAL_DEADLINE_S: Final = 60.0
"""How long the end waits for the transactional emails to leave PENDING_EMAIL_STATES."""

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
TEMPLATES_PREFIX: Final = "templates/demo/"
"""Where the sample campaign templates go in the assets bucket."""
TRANSACTIONAL_TEMPLATE: Final = "demo-receipt"
TRANSACTIONAL_FILE: Final = "receipt.html"
TRANSACTIONAL_SUBJECT: Final = "Your receipt for order {{order}}"
ADDRESS_DOMAIN: Final = "example.org"
SUPPRESSED_ADDRESS: Final = f"bounced.demo@{ADDRESS_DOMAIN}"
"""The one suppressed address, the same every run (suppressing it again changes nothing)."""
SUPPRESSION_SCOPE: Final = "all"
SUPPRESSION_REASON: Final = "manual"

# The demo follows a campaign while it is in one of these.
IN_PROGRESS_STATES: Final = frozenset(
    {CampaignStatus.SCHEDULED, CampaignStatus.LAUNCHING, CampaignStatus.SENDING}
)
UNSUCCESSFUL_STATES: Final = frozenset(
    {CampaignStatus.CANCELLED, CampaignStatus.FAILED, CampaignStatus.REJECTED}
)
# A transactional email is waited for while in one of these (locally, Delivery follows Send).
PENDING_EMAIL_STATES: Final = frozenset({EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.SENT})

_FIRST_NAMES: Final = ("Ann", "Bruno", "Chloe", "Dev", "Eva", "Femi", "Greta", "Hiro", "Ines")
_CITIES: Final = ("Lisbon", "Porto", "Lyon", "Ghent", "Turin", "Bremen", "Cork")
_TIERS: Final = ("gold", "platinum")
_TOPICS: Final = ("the spring collection", "free delivery")
# Addresses email-validator refuses, each for another reason ({n} makes each one distinct).
_INVALID_ADDRESSES: Final = (
    "customer{n}.example.org",  # no @
    "customer{n}@@example.org",  # two @
    "customer {n}@example.org",  # a space
    "customer{n}@example..org",  # an empty domain label
)


# --- the plan: what the campaign holds and what EMS should make of it ------------------------


@dataclass(frozen=True)
class SegmentSpec:
    """One segment of the demo campaign: its share of the recipients, template and subject."""

    list_name: str
    share: int
    template_file: str
    subject: str


SEGMENTS: Final = (
    SegmentSpec("customers", 5, "customers.html", "{{fname}}, spring is here: 10% off in {{city}}"),
    SegmentSpec("vip", 2, "vip.html", "{{fname}}, your {{tier}} preview of the spring sale"),
    SegmentSpec("newsletter", 3, "newsletter.html", "The Example monthly, {{fname}}"),
)


@dataclass(frozen=True)
class CampaignPlan:
    """The candidate to send, and what EMS should answer: how many it rejects and why, and
    which addresses (lower-cased) must each get exactly one email."""

    candidate: JsonObject
    segment_sizes: dict[str, int]
    rejections: dict[str, int]
    sendable: tuple[str, ...]

    @property
    def entries(self) -> int:
        """Recipient entries in the candidate, rejected ones included."""
        return sum(self.segment_sizes.values())


def split_by_share(total: int, shares: Sequence[int]) -> list[int]:
    """`total` split in proportion to `shares` (largest remainders), every part at least 1."""
    if total < len(shares):
        msg = f"cannot split {total} recipients into {len(shares)} segments"
        raise ValueError(msg)
    weight = sum(shares)
    spare = total - len(shares)
    exact = [spare * share / weight for share in shares]
    parts = [int(value) for value in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: spare - sum(parts)]:
        parts[i] += 1
    return [part + 1 for part in parts]


def rejected_counts(recipients: int) -> dict[str, int]:
    """How many of `recipients` entries are made unsendable, by the reason EMS should give."""
    return {
        RejectionReason.INVALID_ADDRESS.value: max(2, recipients // 100),
        RejectionReason.DUPLICATE.value: max(2, recipients // 100),
        RejectionReason.SUPPRESSED.value: 1,
    }


def plan_campaign(
    recipients: int,
    *,
    campaign_id: str,
    date: datetime,
    template_uris: Mapping[str, str],
    seed: int = 9,
) -> CampaignPlan:
    """The demo campaign: `recipients` entries over SEGMENTS, some of them unsendable.

    Rejected entries are spread over the segments: invalid addresses, duplicates of an earlier
    recipient (in any segment, some in another case) and SUPPRESSED_ADDRESS. The first entry
    is always sendable, so every duplicate has an original before it. `template_uris` maps
    each segment's template file to its S3 URI. Deterministic for a given seed.
    """
    if not MIN_RECIPIENTS <= recipients <= MAX_RECIPIENTS:
        msg = f"recipients must be {MIN_RECIPIENTS} to {MAX_RECIPIENTS:,}, not {recipients}"
        raise ValueError(msg)
    rng = random.Random(seed)  # noqa: S311 - sample data, not a secret
    rejections = rejected_counts(recipients)
    kinds = [kind for kind, count in rejections.items() for _ in range(count)]
    kinds += [""] * (recipients - len(kinds) - 1)  # "" is a sendable recipient
    rng.shuffle(kinds)
    kinds.insert(0, "")

    sizes = split_by_share(recipients, [segment.share for segment in SEGMENTS])
    sendable: list[str] = []
    segments: list[JsonObject] = []
    position = duplicates = 0
    for spec, size in zip(SEGMENTS, sizes, strict=True):
        entries: list[JsonObject] = []
        for kind in kinds[position : position + size]:
            position += 1
            if kind == RejectionReason.DUPLICATE:
                duplicates += 1
                # EMS compares addresses ignoring case: every other duplicate is upper-cased.
                original = rng.choice(sendable)
                address = original.upper() if duplicates % 2 else original
            else:
                address = _address(kind, spec, position, sendable)
            entries.append({"to_address": address, **_personal_data(spec, position)})
        segments.append(
            {
                "list_name": spec.list_name,
                "templateS3Uri": template_uris[spec.template_file],
                "subject": spec.subject,
                "recipients": entries,
            }
        )
    candidate: JsonObject = {
        "campaign_id": campaign_id,
        "date": date.isoformat(timespec="seconds"),
        "templateS3Uri": template_uris[SEGMENTS[0].template_file],
        "segments": segments,
    }
    return CampaignPlan(
        candidate=candidate,
        segment_sizes={spec.list_name: size for spec, size in zip(SEGMENTS, sizes, strict=True)},
        rejections=rejections,
        sendable=tuple(sendable),
    )


def _address(kind: str, spec: SegmentSpec, position: int, sendable: list[str]) -> str:
    """The address of the entry at `position` (1-based), not a duplicate; sendable ones are
    added to `sendable`."""
    if kind == RejectionReason.INVALID_ADDRESS:
        return _INVALID_ADDRESSES[position % len(_INVALID_ADDRESSES)].format(n=position)
    if kind == RejectionReason.SUPPRESSED:
        return SUPPRESSED_ADDRESS
    address = f"{spec.list_name}.{position:05d}@{ADDRESS_DOMAIN}"
    sendable.append(address)
    return address


def _personal_data(spec: SegmentSpec, position: int) -> dict[str, str]:
    """The fields the segment's template and subject print (newsletter's topic is optional)."""
    data = {"fname": _FIRST_NAMES[position % len(_FIRST_NAMES)]}
    match spec.list_name:
        case "customers":
            data["city"] = _CITIES[position % len(_CITIES)]
        case "vip":
            data["tier"] = _TIERS[position % len(_TIERS)]
        case _ if position % 2:
            data["topic"] = _TOPICS[position % len(_TOPICS)]
    return data


# --- progress: one line every few seconds ------------------------------------------------------


@dataclass
class Throughput:
    """Emails finished per second over the last `window_s` seconds, and the time left.

    The window starts no earlier than the last sample with nothing finished, so the wait
    before launch does not drag the rate down; it is unknown until the window spans
    `min_span_s`.
    """

    window_s: float = RATE_WINDOW_S
    min_span_s: float = RATE_MIN_SPAN_S
    _samples: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, at_s: float, finished: int) -> None:
        """Record that `finished` emails were done at `at_s` (a monotonic clock)."""
        if finished == 0:
            self._samples.clear()
        self._samples.append((at_s, finished))
        while len(self._samples) > 2 and at_s - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Emails per second; None until the samples span `min_span_s`."""
        if not self._samples:
            return None
        (first_s, first), (last_s, last) = self._samples[0], self._samples[-1]
        if last_s - first_s < self.min_span_s:
            return None
        return (last - first) / (last_s - first_s)

    def eta_s(self, remaining: int) -> float | None:
        """Seconds until `remaining` more are done at the current rate; None if unknown."""
        rate = self.rate()
        if remaining <= 0:
            return 0.0
        return remaining / rate if rate else None


def duration_text(seconds: float | None) -> str:
    """`2m05s`, `45s`, or `?` when unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def progress_line(metrics: JsonObject, elapsed_s: float, throughput: Throughput) -> str:
    """One progress line from GET /campaigns/{id}/metrics:
    `[  35s] SENDING     1,234 / 2,939 sent  42%  18.3/s  ETA 1m33s  failed 0  suppressed 0`."""
    total = int(metrics.get("total", 0))
    sent = int(metrics.get("sent", 0))
    finished = int(metrics.get("finished", 0))
    rate = throughput.rate()
    percent = f"{100 * sent / total:.0f}%" if total else "-"
    return (
        f"[{duration_text(elapsed_s):>6}] {metrics.get('status', '?'):<10}"
        f" {sent:>6,} / {total:,} sent {percent:>5}"
        f"  {f'{rate:.1f}' if rate is not None else '-':>5}/s"
        f"  ETA {duration_text(throughput.eta_s(total - finished)):>6}"
        f"  failed {int(metrics.get('failed', 0)):,}"
        f"  suppressed {int(metrics.get('suppressed', 0)):,}"
    )


def services_to_blame(status: str, metrics: JsonObject) -> tuple[str, ...]:
    """The local services whose logs explain a campaign stuck in `status` with `metrics`."""
    if status in {CampaignStatus.SCHEDULED, CampaignStatus.LAUNCHING}:
        return ("launcher",)
    if int(metrics.get("finished", 0)) >= int(metrics.get("total", 0)):
        return (TRACKER_NAME,)  # every email is done: only the COMPLETED mark is missing
    return (*CAMPAIGN_SENDER_NAMES, TRACKER_NAME)


# --- I/O ----------------------------------------------------------------------------------------


class DemoError(Exception):
    """Something went wrong: the message says what, and where to look."""


@dataclass
class TransactionalEmail:
    """One transactional email the demo sent, and its latest status."""

    email_id: str
    to: str
    how: str
    status: str = EmailStatus.QUEUED.value


@dataclass
class Demo:
    """One run: the stack's config and settings, the API client and where output goes."""

    config: StackConfig
    settings: InfraSettings
    client: EmsClient
    aws: AwsClients
    out: Console
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    transactional: list[TransactionalEmail] = field(default_factory=list)
    bulk_rejections: list[JsonObject] = field(default_factory=list)

    def say(self, text: str) -> None:
        """One plain line on the output."""
        self.out.print(text, markup=False, highlight=False, soft_wrap=True)

    # 1. templates ---------------------------------------------------------------------------

    def upload_templates(self) -> dict[str, str]:
        """Upload each segment's template to the assets bucket; their S3 URIs by file name."""
        s3 = self.aws.client("s3")
        uris = {}
        for spec in SEGMENTS:
            key = TEMPLATES_PREFIX + spec.template_file
            s3.upload_file(
                str(TEMPLATES_DIR / spec.template_file),
                self.settings.assets_bucket,
                key,
                ExtraArgs={"ContentType": "text/html; charset=utf-8"},
            )
            uris[spec.template_file] = f"s3://{self.settings.assets_bucket}/{key}"
        self.say(
            f"Uploaded {len(uris)} campaign templates to s3://{self.settings.assets_bucket}/"
            f"{TEMPLATES_PREFIX} ({', '.join(uris)})"
        )
        return uris

    def register_transactional_template(self) -> None:
        """POST /templates; PUT over it when an earlier run registered it already."""
        body: JsonObject = {
            "name": TRANSACTIONAL_TEMPLATE,
            "subject": TRANSACTIONAL_SUBJECT,
            "html": (TEMPLATES_DIR / TRANSACTIONAL_FILE).read_text(),
        }
        try:
            template = self.client.create_template(body)
            how = "Registered"
        except ApiError as error:
            if error.status != 409:
                raise
            name = body.pop("name")
            template = self.client.put_template(name, body).template
            how = "Updated"
        fields = ", ".join((template.get("fields") or {}).get("required") or [])
        self.say(f"{how} transactional template {TRANSACTIONAL_TEMPLATE} (fields: {fields})")

    # 2. the suppression list ------------------------------------------------------------------

    def suppress_one_address(self) -> None:
        """Put SUPPRESSED_ADDRESS on the suppression list through the API (POST /suppressions),
        in scope `all` as a hard bounce would, then show it (GET /suppressions/{address})."""
        added = self.client.add_suppressions(
            [SUPPRESSED_ADDRESS], scope=SUPPRESSION_SCOPE, reason=SUPPRESSION_REASON
        )
        shown = self.client.get_suppressions(SUPPRESSED_ADDRESS)
        scopes = [s.get("scope") for s in shown.get("suppressions", [])]
        if SUPPRESSION_SCOPE not in scopes:
            raise DemoError(
                f"POST /suppressions answered {added} but GET /suppressions/{SUPPRESSED_ADDRESS}"
                f" shows scopes {scopes}"
            )
        listed = self._suppressions()
        self.say(
            f"Suppressed {SUPPRESSED_ADDRESS} in scope {SUPPRESSION_SCOPE} ({SUPPRESSION_REASON},"
            f" {'new' if added.get('added') else 'already there'}); GET /suppressions lists"
            f" {len(listed)} suppression(s)"
        )

    def _suppressions(self) -> list[JsonObject]:
        items: list[JsonObject] = []
        page: str | None = None
        while True:
            answer = self.client.list_suppressions(limit=100, page=page)
            items += answer.items
            if answer.next_page is None:
                return items
            page = answer.next_page

    # 3. the campaign --------------------------------------------------------------------------

    def create_campaign(self, plan: CampaignPlan) -> JsonObject:
        """POST /campaigns with the plan's candidate; the campaign EMS made of it."""
        body = orjson.dumps(plan.candidate)
        sizes = ", ".join(f"{name} {size:,}" for name, size in plan.segment_sizes.items())
        self.say(
            f"Creating campaign {plan.candidate['campaign_id']}: {plan.entries:,} recipients"
            f" ({sizes}), {len(body) / 1e6:.1f} MB, starting at {plan.candidate['date']}"
        )
        try:
            campaign = self.client.create_campaign(body).campaign
        except ApiError as error:
            problems = "; ".join(f"{p.path}: {p.message}" for p in error.problems[:10])
            raise DemoError(
                f"POST /campaigns refused the campaign: {error}"
                + (f" ({problems})" if problems else "")
            ) from error
        status = campaign.get("status")
        if status in UNSUCCESSFUL_STATES:
            raise DemoError(
                f"campaign {campaign.get('campaign_id')} is {status}:"
                f" {campaign.get('error') or campaign.get('problems')}"
            )
        recipients = campaign.get("recipients") or {}
        self.say(
            f"Campaign {campaign.get('campaign_id')} {status}: {recipients.get('accepted', 0):,}"
            f" accepted, {recipients.get('rejected', 0):,} rejected"
            f" ({_by_reason(campaign.get('rejected_by_reason') or {})})"
        )
        return campaign

    # 4. transactional email -------------------------------------------------------------------

    def send_transactional(self, run_tag: str) -> None:
        """Two single emails (POST /emails) and a small bulk (POST /emails/bulk), one of whose
        recipients is invalid and one suppressed; prints what the API answered."""
        for n, (fname, order, total) in enumerate(
            (("Ann", "A-1001", "19.90 EUR"), ("Bruno", "A-1002", "7.50 EUR")), start=1
        ):
            to = f"receipt{n}.{run_tag}@{ADDRESS_DOMAIN}"
            answer = self.client.send_email(
                {
                    "to": to,
                    "template": TRANSACTIONAL_TEMPLATE,
                    "data": {"fname": fname, "order": order, "total": total},
                },
                idempotency_key=f"demo-{run_tag}-{n}",
            ).answer
            email = TransactionalEmail(str(answer["email_id"]), to, "POST /emails")
            email.status = str(answer.get("status", email.status))
            self.transactional.append(email)
        recipients: list[JsonObject] = [
            {
                "to": f"bulk{n}.{run_tag}@{ADDRESS_DOMAIN}",
                "data": {"fname": name, "order": f"B-{n:04d}", "total": "12.00 EUR"},
            }
            for n, name in enumerate(("Chloe", "Dev", "Eva"), start=1)
        ]
        recipients += [
            {"to": "not-an-address", "data": {"fname": "X", "order": "B-0", "total": "0"}},
            {"to": SUPPRESSED_ADDRESS, "data": {"fname": "S", "order": "B-0", "total": "0"}},
        ]
        bulk = self.client.send_bulk(
            {"template": TRANSACTIONAL_TEMPLATE, "recipients": recipients},
            idempotency_key=f"demo-{run_tag}-bulk",
        ).answer
        for accepted in bulk.get("emails") or []:
            self.transactional.append(
                TransactionalEmail(str(accepted["email_id"]), str(accepted["to"]), "bulk")
            )
        self.say(
            f"Sent {len(self.transactional)} transactional emails while the campaign goes out:"
            f" 2 with POST /emails, {bulk.get('accepted', 0)} of {len(recipients)} with"
            f" POST /emails/bulk ({bulk.get('rejected', 0)} rejected:"
            f" {_reasons(bulk.get('rejections') or [])})"
        )
        self.bulk_rejections = list(bulk.get("rejections") or [])
        self.refresh_transactional()
        states = Counter(email.status for email in self.transactional)
        self.say("  their status now: " + ", ".join(f"{n} {s}" for s, n in states.items()))

    def refresh_transactional(self) -> bool:
        """GET /emails/{id} of each email still pending; True when none is."""
        for email in self.transactional:
            if email.status in PENDING_EMAIL_STATES:
                email.status = str(self.client.get_email(email.email_id).get("status", "?"))
        return all(e.status not in PENDING_EMAIL_STATES for e in self.transactional)

    # 5. progress ------------------------------------------------------------------------------

    def follow(self, campaign_id: str, on_sending: Callable[[], None]) -> JsonObject:
        """A progress line every REFRESH_S seconds until the campaign is no longer sending;
        `on_sending` runs once, when it starts sending. Its final metrics."""
        started = self.clock()
        throughput = Throughput()
        last_change, last_seen = started, ("", -1, -1)
        fired = False
        while True:
            metrics = self.client.campaign_metrics(campaign_id)
            now = self.clock()
            status = str(metrics.get("status", "?"))
            finished, sent = int(metrics.get("finished", 0)), int(metrics.get("sent", 0))
            throughput.add(now, finished)
            self.say(progress_line(metrics, now - started, throughput))
            if not fired and status in {CampaignStatus.SENDING, CampaignStatus.COMPLETED}:
                fired = True
                on_sending()
            if status not in IN_PROGRESS_STATES:
                return metrics
            if (status, finished, sent) != last_seen:
                last_change, last_seen = now, (status, finished, sent)
            elif now - last_change >= STALL_S:
                logs = ", ".join(self._log(name) for name in services_to_blame(status, metrics))
                raise DemoError(
                    f"campaign {campaign_id} made no progress for {STALL_S:.0f} s ({status},"
                    f" {finished:,} of {metrics.get('total', 0):,} emails finished): read {logs}"
                )
            self.sleep(REFRESH_S)

    def _log(self, service_name: str) -> str:
        return self._relative(self.config.logs_dir / f"{service_name}.log")

    # 6. the end --------------------------------------------------------------------------------

    def report(self, campaign: JsonObject, metrics: JsonObject, plan: CampaignPlan) -> None:
        """The metrics table, the rejections, the transactional statuses, what to try next."""
        self.say("")
        self.out.print(metrics_report(metrics), soft_wrap=True)  # the headline whole
        self.say("")
        by_reason = {str(k): int(v) for k, v in (campaign.get("rejected_by_reason") or {}).items()}
        self.say(
            f"Rejected recipients: {sum(by_reason.values()):,} of {plan.entries:,}"
            f" ({_by_reason(by_reason)}), as POST /campaigns answered"
        )
        if by_reason != plan.rejections:
            self.say(f"  (the demo planned {_by_reason(plan.rejections)})")
        examples: dict[str, JsonObject] = {}
        for rejection in campaign.get("rejections") or []:
            examples.setdefault(str(rejection.get("reason")), rejection)
        for reason, rejection in sorted(examples.items()):
            self.say(
                f"  e.g. {reason}: {rejection.get('to_address')!r} in {rejection.get('segment')}"
            )
        self.say("")
        self.say("Transactional emails:")
        for email in self.transactional:
            self.say(f"  {email.email_id}  {email.to:<32} {email.status:<10} ({email.how})")
        for rejection in self.bulk_rejections:
            self.say(
                f"  {'(not sent)':<26}  {rejection.get('to')!s:<32} {rejection.get('reason')}"
                " (bulk)"
            )
        campaign_id = metrics.get("campaign_id")
        example = plan.sendable[0] if plan.sendable else "<address>"
        env_file = self._relative(self.config.env_file)
        self.say("")
        self.say("Where to look next:")
        self.say(f"  API:   {self.client.base_url}  (GET /openapi.json describes it)")
        self.say(f"  key:   {KEY_ENV} in {env_file}, sent as the X-Api-Key header")
        self.say(f"  logs:  {self._relative(self.config.logs_dir)}/")
        self.say("  try:   .venv/bin/ems campaign list")
        self.say(f"         .venv/bin/ems campaign metrics {campaign_id}")
        self.say(f"         .venv/bin/ems campaign recipient {campaign_id} {example}")
        if self.transactional:
            self.say(f"         .venv/bin/ems email show {self.transactional[0].email_id}")
        self.say(f"         .venv/bin/ems template metrics {TRANSACTIONAL_TEMPLATE}")
        self.say("         .venv/bin/ems suppressions list")
        self.say("         .venv/bin/ems dlq list")
        self.say("  stop:  make down")

    def _relative(self, path: Path) -> str:
        """`path` from the repository root, as a user types it there."""
        return (
            str(path.relative_to(self.config.root))
            if path.is_relative_to(self.config.root)
            else str(path)
        )


def _by_reason(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{int(n):,} {reason}" for reason, n in sorted(counts.items())) or "none"


def _reasons(rejections: Sequence[JsonObject]) -> str:
    return _by_reason(Counter(str(r.get("reason", "?")) for r in rejections))


# --- the entry point ---------------------------------------------------------------------------


def console_url(api_url: str, campaign_id: str) -> str:
    """The console's page of a campaign (the API serves the console under /console)."""
    return f"{api_url.rstrip('/')}/console/campaigns/{campaign_id}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's options."""
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="EMS's main job on the local stack: a campaign and transactional email,"
        " sent and tracked through the HTTP API (`make demo DEMO_ARGS='--recipients 500'`).",
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=DEFAULT_RECIPIENTS,
        metavar="N",
        help=f"recipient entries in the campaign, rejected ones included ({MIN_RECIPIENTS}"
        f" to {MAX_RECIPIENTS:,}; default {DEFAULT_RECIPIENTS:,}, a few minutes)",
    )
    parser.add_argument(
        "--campaign-id",
        metavar="ID",
        help="the campaign's id (default: demo-<UTC time>)",
    )
    args = parser.parse_args(argv)
    if not MIN_RECIPIENTS <= args.recipients <= MAX_RECIPIENTS:
        parser.error(f"--recipients must be {MIN_RECIPIENTS} to {MAX_RECIPIENTS:,}")
    return args


def ensure_stack(config: StackConfig, say: Callable[[str], None]) -> dict[str, str]:
    """The running stack's settings (`.ems/local.env`), after bringing it up if it is not."""
    stack = LocalStackStack(config)
    services = stack.services.status()
    if stack.is_up() and all(state.startswith("running") for state in services.values()):
        say(f"Reusing the running local stack ({len(services)} services)")
    else:
        say("Starting the local stack (about two minutes the first time)")
        stack.up()
    return parse_env_file(config.env_file.read_text())


def run(args: argparse.Namespace, out: Console) -> None:
    """The whole demo; raises DemoError (or the client's errors) when something fails."""
    started = time.monotonic()
    config = StackConfig.from_environment()
    env = ensure_stack(config, lambda text: out.print(text, markup=False))
    # The services and `ems` read their settings from this environment, as after
    # `set -a; . .ems/local.env`: so do the boto3 clients built here.
    os.environ.update(env)
    run_tag = uuid.uuid4().hex[:8]
    campaign_id = args.campaign_id or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    with EmsClient(env[URL_ENV], env[KEY_ENV]) as client:
        demo = Demo(config, InfraSettings(), client, AwsClients(), out)
        uris = demo.upload_templates()
        demo.register_transactional_template()
        demo.suppress_one_address()
        plan = plan_campaign(
            args.recipients,
            campaign_id=campaign_id,
            date=datetime.now(UTC) + timedelta(seconds=START_AFTER_S),
            template_uris=uris,
        )
        campaign = demo.create_campaign(plan)
        metrics = demo.follow(
            str(campaign["campaign_id"]), lambda: demo.send_transactional(run_tag)
        )
        if not demo.transactional:
            demo.send_transactional(run_tag)
        status = metrics.get("status")
        deadline = time.monotonic() + TRANSACTIONAL_DEADLINE_S
        while not demo.refresh_transactional() and time.monotonic() < deadline:
            time.sleep(1)
        demo.report(campaign, metrics, plan)
    if status != CampaignStatus.COMPLETED:
        raise DemoError(f"campaign {campaign_id} ended {status}, not COMPLETED")
    out.print(f"\nDone in {duration_text(time.monotonic() - started)}.", markup=False)
    # Last, so that it is what the terminal shows: the page of the campaign just sent.
    env_file = demo._relative(config.env_file)
    out.print(
        f"Console: {console_url(env[URL_ENV], campaign_id)}  (sign in with {KEY_ENV} from"
        f" {env_file})",
        markup=False,
        soft_wrap=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when the campaign completed, 1 with the reason on stderr otherwise."""
    args = parse_args(argv)
    out = make_console()
    try:
        run(args, out)
    except (DemoError, StackError) as error:
        return _failed(str(error))
    except ApiUnreachableError as error:
        return _failed(f"the EMS API does not answer ({error}): read .ems/logs/scheduler-api.log")
    except ApiError as error:
        return _failed(f"the EMS API refused a request: {error}")
    return 0


def _failed(message: str) -> int:
    make_console(stderr=True).print(f"make demo failed: {message}", markup=False, style="red")
    return 1
