"""Benchmark: transactional latency, POST /emails to the SES call, while a campaign sends.

    .venv/bin/python -m bench.transactional_bench [--recipients 20000] [--samples 150]
        [--interval 0.4] [--timeout 60]

Against the running local stack (started if down), through its API only: the stack's own
launcher, senders and tracker do the work, at the rate its senders run with
(EMS_SEND_RATE_OVERRIDE, R, shared by both lanes). Nothing is paused.

1. Warms the transactional lane: WARM_UP_EMAILS emails at once, before anything else, their
   latencies reported apart (a lane's first invocations build its sender: Lambda's cold
   start, which a lane under steady traffic pays once per environment, not per email).
   Registers the template `bench-receipt` (PUT, so reruns replace it) and a campaign of
   `recipients` through S3 (candidateS3Uri), every address new to this run and sent From an
   address of the run's own; once SCHEDULED its date is moved to now, and the background
   launcher starts it.
2. Waits until the campaign is SENDING and SES takes its emails at FULL_RATE_SHARE of R,
   counted at /_aws/ses (filtered by the campaign's From address), or, if the stack does not
   get there within _FULL_RATE_DEADLINE_S, goes on at the rate it holds (reported as such).
3. POSTs `samples` single emails, one every `interval` seconds on a fixed schedule, each to a
   new recipient, noting the client's clock just before each request.
4. Reads each email's Send event (GET /emails/{id}): its `mail.timestamp` is LocalStack's clock,
   with microseconds, when it handled the SendEmail call (same machine, same clock).
   /_aws/ses lists every email too, but its Timestamp is cut to the second: it gives the rates
   of both lanes while the samples went out, and checks every sample reached SES once.
5. Cancels the campaign and waits until its emails stop reaching SES (the stack left idle).

An email whose Send event is not seen within `timeout` seconds of its POST is counted as
missing, and as slower than every other sample in the percentiles (never dropped).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig
from ems_devstack.services import (
    CAMPAIGN_SENDER_NAMES,
    LOCAL_SERVICE_SETTINGS,
    TRANSACTIONAL_CONCURRENCY,
    local_services,
)
from ems_devstack.ses_outbox import sent_emails
from ems_devstack.stack import LocalStackStack

DEFAULT_RECIPIENTS: Final = 20_000
DEFAULT_SAMPLES: Final = 150
DEFAULT_INTERVAL_S: Final = 0.4
DEFAULT_TIMEOUT_S: Final = 60.0
WARM_UP_EMAILS: Final = 2 * TRANSACTIONAL_CONCURRENCY  # each concurrent invocation gets some
GOAL_P99_S: Final = 1.0
REQUIRED_RECIPIENTS: Final = 20_000  # issue 7: a campaign of at least this many sends meanwhile
TEMPLATE: Final = "bench-receipt"
RATE_VARIABLE: Final = "EMS_SEND_RATE_OVERRIDE"
# The campaign is at full rate once this share of R reaches SES over RATE_WINDOW_S.
FULL_RATE_SHARE: Final = 0.95
RATE_WINDOW_S: Final = 5.0
_SCHEDULE_AHEAD: Final = timedelta(minutes=10)  # the candidate's date, moved to now later
_START_AHEAD: Final = timedelta(seconds=2)
_SCHEDULED_DEADLINE_S: Final = 180.0
_SENDING_DEADLINE_S: Final = 90.0
# A campaign reaches its steady rate within seconds of its first send: past this, waiting
# longer does not raise it, and the samples are taken at whatever rate it has (reported).
_FULL_RATE_DEADLINE_S: Final = 20.0
_IDLE_QUIET_S: Final = 6.0  # longer than the senders' 5 s cache of a campaign's status
_IDLE_DEADLINE_S: Final = 60.0
_EVENT_GRACE_S: Final = 15.0  # for the tracker to record a Send event SES published in time
_CAMPAIGN_HTML: Final = (
    "<html><head><title>Bench {{fname}}</title></head>"
    "<body><p>Hello {{fname}}, campaign email {{n}}.</p></body></html>"
)
_STARTED: Final = time.monotonic()


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"[tx-bench {time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile: a value of the sample (math.inf sorts last)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Sample:
    """One POST /emails and what became of it."""

    email_id: str
    to: str
    posted_at: float  # the client's clock (epoch s) just before the request
    answered_s: float  # until the API's 202
    ses_at: float | None = None  # the Send event's mail.timestamp (epoch s)
    at_ses: int = 0  # how often /_aws/ses lists it

    @property
    def latency_s(self) -> float:
        """POST to the SES call; math.inf if no Send event was seen."""
        return math.inf if self.ses_at is None else self.ses_at - self.posted_at


@dataclass(frozen=True)
class TransactionalFigures:
    """What one run measured."""

    recipients: int  # the campaign's accepted recipients
    configured_rate: float  # R, emails/s, both lanes together
    rate_before: float  # campaign emails/s at SES over RATE_WINDOW_S before the samples
    campaign_rate: float  # campaign emails/s at SES while the samples went out
    transactional_rate: float  # the samples' emails/s at SES, same window
    window_s: int  # that window: the whole seconds from the first POST to the last
    interval_s: float
    timeout_s: float
    samples: tuple[Sample, ...]
    warm_up: tuple[Sample, ...]  # before the campaign; not among the samples
    campaign_sent: int  # campaign emails SES took before the cancel took hold
    setup_s: float  # template, candidate, compile, launch, ramp-up
    seconds: float  # the whole run

    @property
    def latencies(self) -> list[float]:
        """Every sample's latency in seconds (math.inf for a missing one)."""
        return [sample.latency_s for sample in self.samples]

    def p(self, q: float) -> float:
        """A latency percentile in seconds (math.inf when it falls on a missing email)."""
        return percentile(self.latencies, q)

    @property
    def missing(self) -> list[Sample]:
        """Samples not seen at SES within the timeout."""
        return [s for s in self.samples if s.latency_s > self.timeout_s]

    @property
    def at_ses_without_event(self) -> int:
        """Missing samples /_aws/ses lists all the same (sent; Send event not recorded)."""
        return sum(1 for s in self.missing if s.at_ses)

    @property
    def sent_twice(self) -> int:
        """Samples /_aws/ses lists more than once."""
        return sum(1 for s in self.samples if s.at_ses > 1)

    @property
    def warm_up_text(self) -> str:
        """The warm-up emails' slowest latency, for the report."""
        slowest = max(sample.latency_s for sample in self.warm_up)
        return f"> {self.timeout_s:g} s (missing)" if math.isinf(slowest) else f"{slowest:.2f} s"

    @property
    def api_p50(self) -> float:
        """Median time until the API's answer to POST /emails."""
        return percentile([s.answered_s for s in self.samples], 50)

    @property
    def api_p99(self) -> float:
        """Its 99th percentile."""
        return percentile([s.answered_s for s in self.samples], 99)

    @property
    def total_rate(self) -> float:
        """Both lanes, emails/s at SES, during the window."""
        return self.campaign_rate + self.transactional_rate

    @property
    def at_full_rate(self) -> bool:
        """Whether SES took at least FULL_RATE_SHARE of R while the samples went out."""
        return self.total_rate >= FULL_RATE_SHARE * self.configured_rate

    def latency_text(self, q: float) -> str:
        """A latency percentile for the report."""
        value = self.p(q)
        return f"> {self.timeout_s:g} s (missing)" if math.isinf(value) else f"{value:.2f} s"


# --- the stack ------------------------------------------------------------------------------


def configured_rate(stack: LocalStackStack) -> float:
    """R: the send rate the stack's campaign senders were started with.

    Read from a running campaign sender's environment (what `make up` gave it); the default
    `make up` sets if none can be read.
    """
    for service in local_services(stack.config):
        if service.name not in CAMPAIGN_SENDER_NAMES:
            continue
        pid = stack.services.process(service).pid()
        if pid is None:
            continue
        try:
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in environment:
            name, _, value = entry.decode(errors="replace").partition("=")
            if name == RATE_VARIABLE and value:
                return float(value)
    return float(LOCAL_SERVICE_SETTINGS[RATE_VARIABLE])


class Outbox:
    """LocalStack's record of what its SES sent (/_aws/ses), by From address."""

    def __init__(self, localstack_url: str) -> None:
        self.localstack_url = localstack_url

    def messages(self, source: str) -> list[dict[str, Any]]:
        """Every email sent From `source`."""
        return sent_emails(self.localstack_url, source=source)

    def count(self, source: str) -> int:
        """How many emails were sent From `source`."""
        return len(self.messages(source))


def _epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _eventually[T](
    probe: Callable[[], T | None], *, deadline_s: float, what: str, every_s: float = 1.0
) -> T:
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= end:
            msg = f"{what}: not within {deadline_s:.0f} s"
            raise TimeoutError(msg)
        time.sleep(every_s)


def _checked(response: httpx.Response, *expected: int) -> dict[str, Any]:
    if response.status_code not in expected:
        msg = f"{response.request.method} {response.request.url.path}: {response.status_code}"
        raise RuntimeError(f"{msg} {response.text[:500]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def _api_client() -> httpx.Client:
    return httpx.Client(
        base_url=os.environ["EMS_API_URL"],
        headers={"X-Api-Key": os.environ["EMS_API_KEY"]},
        timeout=30,
    )


# --- the campaign ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """The names one run uses, all new to it."""

    token: str
    sender_domain: str

    @property
    def campaign_id(self) -> str:
        return f"bench-tx-{self.token}"

    @property
    def campaign_from(self) -> str:
        return f"bench-campaign-{self.token}@{self.sender_domain}"

    @property
    def transactional_from(self) -> str:
        return f"bench-tx-{self.token}@{self.sender_domain}"

    def campaign_address(self, index: int) -> str:
        return f"c{index}@campaign-{self.token}.bench.example.org"

    def transactional_address(self, index: int) -> str:
        return f"t{index}@tx-{self.token}.bench.example.org"

    def warm_up_address(self, index: int) -> str:
        return f"w{index}@tx-{self.token}.bench.example.org"


def _put_template(api: httpx.Client) -> None:
    _checked(
        api.put(
            f"/templates/{TEMPLATE}",
            json={
                "subject": "Your receipt {{order}}",
                "html": "<p>Hello {{fname}}, thank you for order {{order}}.</p>",
                "text": "Hello {{fname}}, thank you for order {{order}}.",
            },
        ),
        200,
        201,
    )


def _create_campaign(api: httpx.Client, run: _Run, recipients: int) -> None:
    """Upload the template and the candidate to the assets bucket; POST /campaigns for it."""
    infra = InfraSettings()
    s3 = AwsClients().client("s3")
    prefix = f"bench/transactional/{run.token}"
    s3.put_object(
        Bucket=infra.assets_bucket, Key=f"{prefix}/campaign.html", Body=_CAMPAIGN_HTML.encode()
    )
    candidate = {
        "campaign_id": run.campaign_id,
        "date": (datetime.now(UTC) + _SCHEDULE_AHEAD).isoformat(timespec="seconds"),
        "templateS3Uri": f"s3://{infra.assets_bucket}/{prefix}/campaign.html",
        "from": run.campaign_from,
        "segments": [
            {
                "list_name": "bench",
                "recipients": [
                    {"to_address": run.campaign_address(i), "fname": f"N{i}", "n": str(i)}
                    for i in range(recipients)
                ],
            }
        ],
    }
    body = json.dumps(candidate).encode()
    # Under the candidates prefix, as every candidate must be (uploads expire there).
    key = f"{infra.candidates_prefix}bench-transactional-{run.token}.json"
    s3.put_object(Bucket=infra.assets_bucket, Key=key, Body=body)
    say(f"candidate of {recipients:,} recipients ({len(body) / 1e6:.1f} MB) uploaded")
    uri = f"s3://{infra.assets_bucket}/{key}"
    request = {"candidateS3Uri": uri, "campaign_id": run.campaign_id}
    created = _checked(api.post("/campaigns", json=request), 201, 202)
    say(f"{created['campaign_id']} {created['status']}: the API verifies the candidate")


def _status(api: httpx.Client, campaign_id: str) -> dict[str, Any]:
    return _checked(api.get(f"/campaigns/{campaign_id}"), 200)


def _launch(api: httpx.Client, campaign_id: str) -> int:
    """Wait until it is SCHEDULED, move its date to now, wait until SENDING; its recipients."""
    failed = {"REJECTED", "FAILED", "CANCELLED"}

    def scheduled() -> dict[str, Any] | None:
        body = _status(api, campaign_id)
        if body["status"] in failed:
            msg = f"{campaign_id} {body['status']}: {body.get('problems')} {body.get('error')}"
            raise RuntimeError(msg)
        return body if body["status"] == "SCHEDULED" else None

    body = _eventually(scheduled, deadline_s=_SCHEDULED_DEADLINE_S, what=f"{campaign_id} SCHEDULED")
    accepted = int(body["recipients"]["accepted"])
    say(f"{campaign_id} SCHEDULED: {accepted:,} recipients accepted; moving its date to now")
    start = (datetime.now(UTC) + _START_AHEAD).isoformat(timespec="milliseconds")
    _checked(api.patch(f"/campaigns/{campaign_id}", json={"date": start}), 200)

    def sending() -> dict[str, Any] | None:
        body = _status(api, campaign_id)
        if body["status"] in failed:
            msg = f"{campaign_id} {body['status']}: {body.get('error')}"
            raise RuntimeError(msg)
        return body if body["status"] == "SENDING" else None

    body = _eventually(sending, deadline_s=_SENDING_DEADLINE_S, what=f"{campaign_id} SENDING")
    say(f"{campaign_id} SENDING: {body['emails_enqueued']:,} emails enqueued")
    return accepted


def _wait_full_rate(outbox: Outbox, source: str, rate: float) -> float:
    """Campaign emails a second at SES over the last RATE_WINDOW_S, once at full rate.

    Gives up after _FULL_RATE_DEADLINE_S and returns the last rate (the report shows it).
    """
    seen: list[tuple[float, int]] = []
    end = time.monotonic() + _FULL_RATE_DEADLINE_S
    last_said = 0.0
    while True:
        seen.append((time.monotonic(), outbox.count(source)))
        now, count = seen[-1]
        past = [(t, c) for t, c in seen if now - t >= RATE_WINDOW_S]
        if past:
            then, before = past[-1]
            measured = (count - before) / (now - then)
            if measured >= FULL_RATE_SHARE * rate:
                say(f"campaign at full rate: {measured:.1f}/s at SES (R = {rate:g}/s)")
                return measured
            if now >= end:
                say(
                    f"WARNING: the campaign stays at {measured:.1f}/s, below"
                    f" {FULL_RATE_SHARE:.0%} of R = {rate:g}/s: measuring at that rate"
                )
                return measured
            if now - last_said >= 5:
                say(f"campaign ramping up: {count:,} at SES, {measured:.1f}/s (R = {rate:g}/s)")
                last_said = now
        time.sleep(1.0)


# --- the samples ----------------------------------------------------------------------------


def _post_one(api: httpx.Client, run: _Run, to: str, index: int) -> Sample:
    body = {
        "to": to,
        "template": TEMPLATE,
        "data": {"fname": f"T{index}", "order": f"{run.token}-{index}"},
        "from": run.transactional_from,
        "tags": {"bench": "transactional"},
    }
    posted_at = time.time()
    answer = _checked(api.post("/emails", json=body), 202)
    return Sample(answer["email_id"], to, posted_at, time.time() - posted_at)


def _post_samples(api: httpx.Client, run: _Run, samples: int, interval_s: float) -> list[Sample]:
    """POST one email every `interval_s` (a fixed schedule: a slow answer is not waited out)."""
    posted: list[Sample] = []
    first = time.monotonic()
    for index in range(samples):
        time.sleep(max(0.0, first + index * interval_s - time.monotonic()))
        posted.append(_post_one(api, run, run.transactional_address(index), index))
        if (index + 1) % 25 == 0:
            say(f"{index + 1} of {samples} emails posted")
    return posted


def _warm_up(api: httpx.Client, outbox: Outbox, run: _Run, timeout_s: float) -> list[Sample]:
    """WARM_UP_EMAILS emails at once, each seen at SES: the lane's senders are built."""
    say(f"warming the transactional lane: {WARM_UP_EMAILS} emails")
    posted = [_post_one(api, run, run.warm_up_address(i), i) for i in range(WARM_UP_EMAILS)]
    return _collect(api, outbox, run, posted, timeout_s)


def _send_time(api: httpx.Client, email_id: str) -> float | None:
    """The Send event's mail.timestamp (epoch s), once the tracker has recorded it."""
    response = api.get(f"/emails/{email_id}")
    if response.status_code != 200:
        return None
    for event in response.json().get("events", []):
        if event["event_type"] == "Send":
            return _epoch(event["event"]["mail"]["timestamp"])
    return None


def _collect(
    api: httpx.Client, outbox: Outbox, run: _Run, posted: list[Sample], timeout_s: float
) -> list[Sample]:
    """Each sample's SES time, polled until every one is in or past its timeout (and grace)."""
    found: dict[str, float] = {}
    end = max(s.posted_at for s in posted) + timeout_s + _EVENT_GRACE_S
    while len(found) < len(posted) and time.time() < end:
        for sample in posted:
            if sample.email_id not in found and (at := _send_time(api, sample.email_id)):
                found[sample.email_id] = at
        if len(found) < len(posted):
            say(f"Send events seen for {len(found)} of {len(posted)} emails")
            time.sleep(1.0)
    listed = Counter(
        address
        for message in outbox.messages(run.transactional_from)
        for address in message["Destination"]["ToAddresses"]
    )
    return [
        replace(sample, ses_at=found.get(sample.email_id), at_ses=listed[sample.to])
        for sample in posted
    ]


def _campaign_rate(outbox: Outbox, source: str, start: int, end: int) -> float:
    """Campaign emails a second at SES over the whole seconds [start, end) (epoch s)."""
    in_window = sum(
        1 for m in outbox.messages(source) if start <= int(_epoch(m["Timestamp"])) < end
    )
    return in_window / max(1, end - start)


def _cancel(api: httpx.Client, outbox: Outbox, run: _Run) -> int:
    """Cancel the campaign; wait until none of its emails reach SES any more; how many did."""
    response = api.post(f"/campaigns/{run.campaign_id}/cancel")
    say(f"{run.campaign_id} cancelled ({response.status_code}); waiting for its sends to stop")
    last = outbox.count(run.campaign_from)
    quiet_since = time.monotonic()
    end = quiet_since + _IDLE_DEADLINE_S
    while time.monotonic() - quiet_since < _IDLE_QUIET_S and time.monotonic() < end:
        time.sleep(1.0)
        count = outbox.count(run.campaign_from)
        if count != last:
            last, quiet_since = count, time.monotonic()
    return last


# --- the measurement ------------------------------------------------------------------------


def measure_transactional(
    recipients: int = DEFAULT_RECIPIENTS,
    samples: int = DEFAULT_SAMPLES,
    interval_s: float = DEFAULT_INTERVAL_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> TransactionalFigures:
    """Run the whole measurement against the running local stack (its launcher and senders on).

    Needs the stack's settings in the environment (`bench.launch_bench.with_stack`).
    """
    if samples < 2:
        msg = f"at least 2 samples are needed, not {samples}"
        raise ValueError(msg)
    started = time.monotonic()
    stack = LocalStackStack(StackConfig.from_environment())
    rate = configured_rate(stack)
    run = _Run(uuid.uuid4().hex[:10], InfraSettings().sender_domain)
    outbox = Outbox(stack.config.localstack_url)
    say(f"run {run.token}: R = {rate:g}/s, campaign of {recipients:,}, {samples} samples")
    with _api_client() as api:
        _put_template(api)
        warm_up = _warm_up(api, outbox, run, timeout_s)
        _create_campaign(api, run, recipients)
        try:
            accepted = _launch(api, run.campaign_id)
            rate_before = _wait_full_rate(outbox, run.campaign_from, rate)
            setup_s = time.monotonic() - started
            say(f"posting {samples} emails, one every {interval_s:g} s")
            posted = _post_samples(api, run, samples, interval_s)
            collected = _collect(api, outbox, run, posted, timeout_s)
            start = math.ceil(collected[0].posted_at)
            end = math.floor(collected[-1].posted_at)
            campaign_rate = _campaign_rate(outbox, run.campaign_from, start, end)
            transactional_rate = sum(
                1 for s in collected if s.ses_at is not None and start <= s.ses_at < end
            ) / max(1, end - start)
        finally:
            campaign_sent = _cancel(api, outbox, run)
    figures = TransactionalFigures(
        recipients=accepted,
        configured_rate=rate,
        rate_before=rate_before,
        campaign_rate=campaign_rate,
        transactional_rate=transactional_rate,
        window_s=end - start,
        interval_s=interval_s,
        timeout_s=timeout_s,
        samples=tuple(collected),
        warm_up=tuple(warm_up),
        campaign_sent=campaign_sent,
        setup_s=setup_s,
        seconds=time.monotonic() - started,
    )
    say(describe(figures))
    return figures


def describe(figures: TransactionalFigures) -> str:
    """The figures on a few lines."""
    f = figures
    lines = [
        f"POST /emails -> SES call, {len(f.samples)} emails while a campaign of"
        f" {f.recipients:,} sends: p50 {f.latency_text(50)}, p95 {f.latency_text(95)},"
        f" p99 {f.latency_text(99)}, max {f.latency_text(100)} (goal: p99 < {GOAL_P99_S:g} s);"
        f" {len(f.missing)} missing after {f.timeout_s:g} s ({f.at_ses_without_event} of them"
        f" at /_aws/ses nonetheless), {f.sent_twice} sent twice",
        f"  SES took over the {f.window_s} s window: campaign {f.campaign_rate:.1f}/s +"
        f" transactional {f.transactional_rate:.1f}/s = {f.total_rate:.1f}/s, R ="
        f" {f.configured_rate:g}/s (the campaign alone just before: {f.rate_before:.1f}/s)",
        f"  API answer p50 {f.api_p50 * 1000:.0f} ms, p99 {f.api_p99 * 1000:.0f} ms; setup"
        f" {f.setup_s:.0f} s, whole run {f.seconds:.0f} s; {f.campaign_sent:,} campaign emails"
        " sent before the cancel took hold",
        f"  warm-up before the campaign: {len(f.warm_up)} emails at once, the slowest"
        f" {f.warm_up_text}",
    ]
    lines += [f"  missing: {s.email_id} to {s.to}" for s in f.missing[:10]]
    return "\n".join(lines)


def report_rows(figures: TransactionalFigures) -> list[tuple[str, str, str, bool | None]]:
    """(figure, measured, goal, met) for the report's section."""
    f = figures
    full = FULL_RATE_SHARE * f.configured_rate
    return [
        ("POST /emails to the SES call: p50", f.latency_text(50), "reference", None),
        ("POST /emails to the SES call: p99", f.latency_text(99), f"< {GOAL_P99_S:g} s",
         f.p(99) < GOAL_P99_S),
        ("POST /emails to the SES call: p95 / max",
         f"{f.latency_text(95)} / {f.latency_text(100)}", "reference", None),
        (f"Emails posted (one every {f.interval_s:g} s) / not at SES within {f.timeout_s:g} s",
         f"{len(f.samples)} / {len(f.missing)}", "none missing", not f.missing),
        ("Campaign sending meanwhile: recipients", f"{f.recipients:,}",
         f">= {REQUIRED_RECIPIENTS:,}", f.recipients >= REQUIRED_RECIPIENTS),
        (f"SES rate while measured ({f.window_s} s): campaign + transactional",
         f"{f.campaign_rate:.1f} + {f.transactional_rate:.1f} = {f.total_rate:.1f}/s",
         f"full rate: >= {full:g}/s ({FULL_RATE_SHARE:g} R, R = {f.configured_rate:g}/s)",
         f.at_full_rate),
        ("Campaign alone, just before", f"{f.rate_before:.1f}/s", "reference", None),
        (f"Warm-up, before the campaign: {len(f.warm_up)} emails at once, the slowest",
         f.warm_up_text, "reference: a cold lane builds its senders first", None),
        ("API answer to POST /emails: p50 / p99",
         f"{f.api_p50 * 1000:.0f} ms / {f.api_p99 * 1000:.0f} ms", "reference", None),
    ]  # fmt: skip


def method_text(figures: TransactionalFigures) -> str:
    """How the section's figures were measured, in one paragraph."""
    f = figures
    text = (
        "`bench/transactional_bench.py` drives the running local stack through its API; the"
        f" stack's launcher, senders ({len(CAMPAIGN_SENDER_NAMES)} campaign, 1 transactional"
        f" running {TRANSACTIONAL_CONCURRENCY} invocations at once as its event source mapping,"
        f" sharing one limiter at R = {f.configured_rate:g}/s, transactional lane first) and"
        f" tracker do the work. A campaign of {f.recipients:,} recipients (candidateS3Uri) is"
        f" scheduled for now; once SES takes its emails at {FULL_RATE_SHARE:g} R (or after"
        f" {_FULL_RATE_DEADLINE_S:g} s, at whatever rate it holds), {len(f.samples)} single"
        f" emails are POSTed, one every {f.interval_s:g} s, each to a new address, the client's"
        " clock noted just before each request. Before the campaign,"
        f" {len(f.warm_up)} emails are POSTed at once and awaited at SES, apart from the samples:"
        " a lane's first invocations build its sender (Lambda's cold start, paid once per"
        " environment; the slowest of them is reported). An email's SES time is its Send event's"
        " `mail.timestamp` (GET /emails/{id}): LocalStack's clock, in microseconds, when it"
        " handled the SendTemplatedEmail call, on the same machine. LocalStack's /_aws/ses"
        " (times to the second) gives the rates, over the whole seconds from the first POST to"
        " the last, and checks that each email reached SES once. An email not at SES within"
        f" {f.timeout_s:g} s counts as missing, and as slower than every other; percentiles are"
        " nearest-rank. The campaign is cancelled at the end."
    )
    if not f.at_full_rate:
        text += (
            " In this run SES took less than the full rate in all, so the latencies above were"
            " measured at the rate shown, not at R."
        )
    return text


def main() -> None:
    """Print the figures."""
    from bench.launch_bench import with_stack  # noqa: PLC0415 - only the CLI needs the stack

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS)
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S, help="s")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="s after its POST")
    args = parser.parse_args()
    figures = with_stack(
        lambda: measure_transactional(args.recipients, args.samples, args.interval, args.timeout),
        pause=False,
    )
    print(describe(figures))


if __name__ == "__main__":
    main()
