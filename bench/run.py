"""`make bench`: every figure the issues ask for, next to its goal, into docs/benchmarks.md.

    .venv/bin/python -m bench.run [--recipients 1000000] [--emails 200000]
        [--tx-recipients 20000] [--tx-samples 150] [--tx-interval 0.4]

Measured on this machine, in this run; the report says which machine and when.
"""

import argparse
import os
import platform
import random
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.campaign_bench import (
    DEFAULT_RECIPIENTS as DEFAULT_CAMPAIGN_RECIPIENTS,
)
from bench.campaign_bench import (
    GOAL_EMAILS_PER_SECOND,
    CampaignFigures,
    measure_campaign,
)
from bench.compile_bench import measure_compile
from bench.cost import (
    DEFAULT_EMAILS_PER_DAY,
    DYNAMODB_USD_PER_READ_UNIT,
    DYNAMODB_USD_PER_WRITE_UNIT,
    FIREHOSE_RECORD_INCREMENT_BYTES,
    FIREHOSE_USD_PER_GB,
    GOAL_ALL_USD,
    GOAL_SEND_PATH_USD,
    GOAL_SENDER_GB_SECONDS_PER_EMAIL,
    GOAL_TRACKER_WRITE_UNITS_PER_EVENT,
    LAMBDA_USD_PER_GB_SECOND,
    LAMBDA_USD_PER_REQUEST,
    LOGS_USD_PER_GB,
    MILLION,
    NAIVE_REFERENCE_USD,
    S3_USD_PER_GET,
    S3_USD_PER_PUT,
    SECONDS_PER_DAY,
    SQS_USD_PER_REQUEST,
    CostModel,
    Dollars,
    EventMix,
    EventPath,
    LambdaSizing,
    firehose_billed_bytes,
    naive_reference,
    price,
)
from bench.launch_bench import LaunchFigures, measure_launch, with_services_paused, with_stack
from bench.limiter_bench import DEFAULT_RATE, LimiterFigures, measure_scaling
from bench.limiter_model import limiter_rows
from bench.requests_bench import DEFAULT_EMAILS as DEFAULT_SENDER_EMAILS
from bench.requests_bench import SenderFigures, measure_sender
from bench.tracker_bench import TrackerFigures, measure_tracker
from bench.transactional_bench import (
    DEFAULT_INTERVAL_S,
    DEFAULT_RECIPIENTS,
    DEFAULT_SAMPLES,
    FULL_RATE_SHARE,
    GOAL_P99_S,
    TransactionalFigures,
    measure_transactional,
    method_text,
    report_rows,
)
from chaos.run import Options as ChaosOptions
from chaos.run import run_verdict as run_chaos
from ems_devstack.services import LOCAL_SERVICE_SETTINGS

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
TX_SECTION = "## Transactional latency under campaign load"

type Row = tuple[str, str, str, bool | None]
type Paused = tuple[LaunchFigures, LimiterFigures, LimiterFigures, TrackerFigures, SenderFigures]


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _table(rows: list[Row]) -> list[str]:
    return [
        "| figure | measured | goal | met |",
        "| --- | --- | --- | --- |",
        *(
            f"| {name} | {value} | {goal} | {'n/a' if met is None else ('yes' if met else 'NO')} |"
            for name, value, goal, met in rows
        ),
    ]


def _per_email(sender: SenderFigures, *operations: str) -> float:
    return sender.sqs(*operations).calls / sender.emails


def _request_rows(
    launched: LaunchFigures, tracked: TrackerFigures, sender: SenderFigures
) -> list[Row]:
    own, limiter = sender.dynamodb(limiter=False), sender.dynamodb(limiter=True)
    n = sender.emails
    sqs_text = " / ".join(
        f"{_per_email(sender, *ops):.3f}"
        for ops in (("ReceiveMessage",), ("DeleteMessage", "DeleteMessageBatch"),
                    ("ChangeMessageVisibility", "ChangeMessageVisibilityBatch"),
                    ("SendMessage", "SendMessageBatch"))
    )  # fmt: skip
    batch = launched.counter.total("sqs", ("SendMessageBatch",))
    return [
        ("Sender: SQS requests per email: receive / delete / change visibility / requeue",
         sqs_text, "reference", None),
        ("Sender: DynamoDB requests per email (records, suppressions, campaign); WCU / RCU",
         f"{own.calls / n:.3f}; {own.write_units / n:.2f} / {own.read_units / n:.2f}",
         "reference", None),
        (f"Sender: limiter DynamoDB requests per email (R = {sender.rate:g}/s); WCU / RCU",
         f"{limiter.calls / n:.3f}; {limiter.write_units / n:.2f} / {limiter.read_units / n:.2f}",
         "reference", None),
        ("Sender: SES calls per email", f"{sender.ses_calls / n:.3f}", "reference", None),
        ("Sender: invocations per email; handler wall time per email (local stack)",
         f"{sender.invocations / n:.4f}; {sender.seconds_per_email * 1000:.1f} ms"
         f" (SES {sender.ses_seconds_per_email * 1000:.1f} ms)", "reference", None),
        ("Launcher per 1,000 emails: S3 GET / SQS SendMessageBatch (billed) / DynamoDB writes",
         f"{launched.per_thousand('s3', 'GetObject'):.3f} /"
         f" {batch.calls * 1000 / launched.emails:.2f}"
         f" ({batch.billed_requests * 1000 / launched.emails:.2f}) /"
         f" {launched.counter.total('dynamodb').write_units * 1000 / launched.emails:.2f} WCU",
         "reference", None),
        ("Tracker: DynamoDB write units per event (read units)",
         f"{tracked.write_units_per_event:.2f} ({tracked.read_units_per_event:.2f})",
         f"<= {GOAL_TRACKER_WRITE_UNITS_PER_EVENT:g}",
         tracked.write_units_per_event <= GOAL_TRACKER_WRITE_UNITS_PER_EVENT),
    ]  # fmt: skip


def _dollar_row(name: str, dollars: Dollars, goal: str) -> str:
    values = (
        dollars.sqs, dollars.dynamodb, dollars.lambda_, dollars.s3, dollars.firehose, dollars.logs
    )  # fmt: skip
    cells = " | ".join(f"${value:.3f}" for value in values)
    return f"| {name} | {cells} | **${dollars.total:.3f}** | {goal} |"


def _cost_section(
    model: CostModel,
    *,
    sizing: LambdaSizing,
    path: EventPath,
    send_path: Dollars,
    in_all: Dollars,
    sender: SenderFigures,
    tracked: TrackerFigures,
) -> list[str]:
    events = model.mix.events_per_email
    tracker_dollars = Dollars(
        sqs=in_all.sqs - send_path.sqs, dynamodb=in_all.dynamodb - send_path.dynamodb,
        lambda_=in_all.lambda_ - send_path.lambda_, s3=in_all.s3 - send_path.s3,
        firehose=in_all.firehose - send_path.firehose, logs=in_all.logs - send_path.logs,
    )  # fmt: skip
    event_path = price(path.per_event.scaled(events * MILLION))
    emails_per_day = path.events_per_second * SECONDS_PER_DAY / events
    usage, per_event = model.send_path_per_email, model.tracker_per_event
    operations = "; ".join(
        f"{service}: " + ", ".join(f"{name} {calls:.3f}" for name, calls in
                                   sender.operations(service).items())
        for service in ("sqs", "dynamodb", "ses")
    )  # fmt: skip
    return [
        "## Cost model",
        "",
        "`bench/cost.py` prices the usage measured above at us-east-1 list prices, per million"
        " emails; SES's own $0.10 per 1,000 emails ($100 per million) is outside the goals.",
        "",
        "| per million emails | SQS | DynamoDB | Lambda | S3 | Firehose | CloudWatch Logs | total |"
        " goal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        _dollar_row("send path (launcher + sender)", send_path, f"<= ${GOAL_SEND_PATH_USD:.2f}"),
        _dollar_row(f"tracker ({events:g} events per email)", tracker_dollars, "reference"),
        _dollar_row(
            "of which the event path (SES -> Firehose -> S3 -> SQS)", event_path, "reference"
        ),
        _dollar_row("in all", in_all, f"<= ${GOAL_ALL_USD:.2f}"),
        "",
        "Largest part: "
        + "; ".join(
            f"{name}, {next(iter(dollars.by_service()))}"
            f" (${next(iter(dollars.by_service().values())):.3f} of ${dollars.total:.3f})"
            for name, dollars in (("send path", send_path), ("in all", in_all))
        )
        + ".",
        "",
        "Inputs, measured in this run (DynamoDB units as DynamoDB Local reports them with"
        " ReturnConsumedCapacity=TOTAL, index writes included):",
        "",
        f"- Send path, per email: {usage.sqs_requests:.4f} billed SQS requests (each 64 KB"
        f" chunk of a payload is one), {usage.dynamodb_write_units:.3f} DynamoDB write and"
        f" {usage.dynamodb_read_units:.3f} read units, {usage.lambda_requests:.4f} Lambda"
        f" invocations, {usage.lambda_gb_seconds:.5f} GB-s, {usage.s3_gets:.6f} S3 GET,"
        f" {usage.log_bytes:.1f} log bytes. The sender's calls per email by operation:"
        f" {operations}.",
        f"- Lambda time: the sender's handler wall time per email,"
        f" {sender.seconds_per_email * 1000:.1f} ms, at {sizing.sender_memory_mb} MB (the"
        " memory is read from terraform/modules/app/main.tf). It is a local-stack figure:"
        f" LocalStack's SES took {sender.ses_seconds_per_email * 1000:.1f} ms a call of it, on"
        " 2 shared cores; SES on AWS answers in its own time, which Lambda bills the same way."
        f" The tracker's: {tracked.seconds / tracked.events * 1000:.1f} ms an event against"
        f" DynamoDB Local, at {sizing.tracker_memory_mb} MB; the launcher's: its enqueue time"
        f" at {sizing.launcher_memory_mb} MB.",
        f"- Tracker, per event: {per_event.dynamodb_write_units:.2f} write and"
        f" {per_event.dynamodb_read_units:.2f} read units (measured over the tracker bench's"
        f" mix). Events per email: Send + Delivery + {model.mix.opens_per_email:g}"
        f" open + {model.mix.clicks_per_email:g} click = {events:g} (`--opens-per-email`,"
        " `--clicks-per-email`).",
        "- Event path (derived, `bench.cost.EventPath`): SES puts each event into Firehose as"
        f" one record of {path.event_bytes:,.0f} bytes on average (the tracker bench's events"
        f" as compact JSON), billed as {firehose_billed_bytes(path.event_bytes) // 1024} KB (each"
        f" record is rounded up to the next {FIREHOSE_RECORD_INCREMENT_BYTES // 1024} KB)."
        " Firehose writes an object when its buffer is"
        f" {path.buffer_seconds} s old or {path.buffer_mb} MB full (Terraform's"
        " `ses_events_buffer_seconds` / `_mb`); at a steady"
        f" {emails_per_day:,.0f} emails a day (`--emails-per-day`) that is"
        f" {path.events_per_object:,.0f} events an object,"
        f" {events * MILLION / path.events_per_object:,.0f} objects per million emails."
        " Each object is one S3 PUT (Firehose), one S3 GET (the tracker), one SQS request"
        " (S3's notification) and"
        f" 2/{sizing.tracker_batch_size} of a receive and a delete and"
        f" 1/{sizing.tracker_batch_size} of an invocation (Terraform's batch size, full"
        " batches). The events bucket's S3 Bucket Key makes KMS requests a few an hour, left"
        " out. A quiet stream writes at most one object per buffer time, however few events it"
        f" holds: {30 * SECONDS_PER_DAY // path.buffer_seconds:,} objects a month at most,"
        f" ${30 * SECONDS_PER_DAY / path.buffer_seconds * (S3_USD_PER_PUT + S3_USD_PER_GET):.2f}"
        " of S3 requests.",
        "- CloudWatch Logs: the INFO messages the sender logged, plus an estimated"
        " 160 bytes of Lambda's JSON envelope a line; the tracker's logs are not counted."
        " Empty SQS receives (the event source mapping's idle polling, a fixed cost a month,"
        " not per email) are left out.",
        "",
        "Prices (us-east-1, list, checked 2026-11-23; DynamoDB on-demand after its 1 November"
        " 2024 cut):"
        f" SQS standard ${SQS_USD_PER_REQUEST * MILLION:.2f} per million requests;"
        f" DynamoDB on-demand ${DYNAMODB_USD_PER_WRITE_UNIT * MILLION:.3f} per million write"
        f" and ${DYNAMODB_USD_PER_READ_UNIT * MILLION:.3f} per million read request units;"
        f" Lambda x86 ${LAMBDA_USD_PER_GB_SECOND:.10f} per GB-s and"
        f" ${LAMBDA_USD_PER_REQUEST * MILLION:.2f} per million requests;"
        f" Firehose (Direct PUT) ${FIREHOSE_USD_PER_GB:.3f} per GB ingested, each record"
        f" rounded up to {FIREHOSE_RECORD_INCREMENT_BYTES // 1024} KB;"
        f" S3 ${S3_USD_PER_GET * 1000:.4f} per 1,000 GET and ${S3_USD_PER_PUT * 1000:.3f} per"
        f" 1,000 PUT; CloudWatch Logs ${LOGS_USD_PER_GB:.2f} per GB ingested; Secrets Manager"
        " (read once per cold start) left out. Free tiers are ignored.",
        "",
        "The naive reference: one SQS message (sent, received, deleted: 3 requests, $1.20 a"
        " million) and one DynamoDB write at the price before November 2024 ($1.25 a million)"
        f" for the email and for each event after its Send ({events - 1:g}): {events:g} x"
        f" $2.45 = ${naive_reference(events):.2f} per million, the issue's \"about"
        f' ${NAIVE_REFERENCE_USD:g}". The issue does not state its inputs; this is the'
        " combination of them that gives its figure.",
    ]


def main() -> None:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=200_000)
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="send rate R (LocalStack's SES, through the configuration set, sustains ~20/s)",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each send run")
    parser.add_argument("--tracked-emails", type=int, default=500, help="emails whose events")
    parser.add_argument(
        "--tx-recipients",
        type=int,
        default=DEFAULT_RECIPIENTS,
        help="the campaign sending while transactional latency is measured",
    )
    parser.add_argument(
        "--tx-samples", type=int, default=DEFAULT_SAMPLES, help="transactional emails timed"
    )
    parser.add_argument(
        "--tx-interval", type=float, default=DEFAULT_INTERVAL_S, help="seconds between two"
    )
    parser.add_argument(
        "--sender-emails",
        type=int,
        default=DEFAULT_SENDER_EMAILS,
        help="emails the real sender sends while its AWS requests are counted",
    )
    mix = EventMix()
    parser.add_argument("--opens-per-email", type=float, default=mix.opens_per_email)
    parser.add_argument("--clicks-per-email", type=float, default=mix.clicks_per_email)
    parser.add_argument(
        "--emails-per-day",
        type=float,
        default=DEFAULT_EMAILS_PER_DAY,
        help="steady sending volume the event path is priced at (how full an object is)",
    )
    parser.add_argument(
        "--campaign-recipients",
        type=int,
        default=DEFAULT_CAMPAIGN_RECIPIENTS,
        help="the campaign timed from its date to COMPLETED on the local stack",
    )
    parser.add_argument(
        "--chaos-seed",
        type=int,
        default=None,
        help="the fault suite's seed (default: a random one, printed)",
    )
    args = parser.parse_args()

    compiled = measure_compile(args.recipients)

    def paused() -> Paused:
        launched = measure_launch(args.emails)
        one, four = measure_scaling(args.rate, args.seconds, (1, 4))
        tracked = measure_tracker(args.tracked_emails)
        return launched, one, four, tracked, measure_sender(args.sender_emails)

    def on_the_stack() -> tuple[CampaignFigures, TransactionalFigures, Paused]:
        # First with the stack's launcher and senders running (real campaigns send), then
        # with them paused for the benches that enqueue or send themselves.
        campaign = measure_campaign(args.campaign_recipients)
        transactional = measure_transactional(args.tx_recipients, args.tx_samples, args.tx_interval)
        return campaign, transactional, with_services_paused(paused)

    campaign, tx, (launched, one, four, tracked, sender) = with_stack(on_the_stack, pause=False)
    chaos_seed = args.chaos_seed or random.SystemRandom().randrange(1, 10**6)
    chaos = run_chaos(ChaosOptions(seed=chaos_seed))
    sizing = LambdaSizing.from_terraform()
    mix = EventMix(args.opens_per_email, args.clicks_per_email)
    path = EventPath.at_volume(args.emails_per_day, mix, sizing, tracked.event_bytes)
    model = CostModel(
        send_path_per_email=launched.usage(sizing) + sender.usage(sizing),
        tracker_per_event=tracked.usage(sizing, path),
        mix=mix,
    )
    send_path, in_all = model.send_path_per_million(), model.all_per_million()

    engine, floor = compiled.engine, compiled.floor
    rows: list[Row] = [
        ("Compile 1M recipients: wall time", f"{engine['seconds']:.1f} s", "<= 30 s",
         engine["seconds"] <= 30),
        ("Compile 1M recipients: peak RSS", f"{engine['peak_rss_mb']:.0f} MB", "< 300 MB",
         engine["peak_rss_mb"] < 300),
        ("orjson floor (parse + re-emit, same data, same run)", f"{floor['seconds']:.1f} s",
         "reference", None),
        ("SQS requests per 1,000 emails enqueued", f"{launched.calls_per_thousand:.2f}",
         "<= 3", launched.calls_per_thousand <= 3),
        ("Enqueue throughput (local stack)", f"{launched.emails_per_second:,.0f} emails/s",
         "1M in 60 s on AWS (16,667/s)", None),
        (f"Send rate, 4 workers, R = {args.rate:g}/s: most sends in any 1 s window",
         f"{four.max_in_one_second}", f"<= {args.rate:g}", four.max_in_one_second <= args.rate),
        ("Send rate, 4 workers: average over the run / R", f"{four.rate_ratio:.3f}", ">= 0.95",
         four.rate_ratio >= 0.95),
        ("Send rate, 1 worker: average / R (scaling 1 -> 4 workers)",
         f"{one.rate_ratio:.3f} -> {four.rate_ratio:.3f}", "reference", None),
        ("Our CPU time per email (limiter + SES client), 4 workers",
         f"{four.cpu_ms_per_email:.2f} ms", "reference", None),
        ("Limiter DynamoDB requests per email sent, 4 workers",
         f"{four.requests_per_send:.3f}", "reference", None),
        ("Tracker: SES events ingested a second, 1 worker (DynamoDB Local)",
         f"{tracked.events_per_second:,.0f} events/s", "reference", None),
        ("Tracker: DynamoDB requests per event", f"{tracked.requests_per_event:.2f}",
         "reference", None),
        ("Transactional POST /emails to SES, campaign sending: p99 (p50), at what share of R",
         f"{tx.latency_text(99)} ({tx.latency_text(50)}),"
         f" {tx.total_rate / tx.configured_rate:.2f} R",
         f"< {GOAL_P99_S:g} s at >= {FULL_RATE_SHARE:g} R",
         tx.p(99) < GOAL_P99_S and tx.at_full_rate),
        (f"A {campaign.recipients:,}-recipient campaign, its date to COMPLETED with every"
         " Delivery counted (local stack, 2 cores)",
         f"{campaign.emails_per_second:.0f} emails/s ({campaign.seconds:.0f} s;"
         f" {campaign.at_ses:,} at SES, {campaign.duplicates} twice)",
         f">= {GOAL_EMAILS_PER_SECOND:g} emails/s, each recipient once",
         campaign.emails_per_second >= GOAL_EMAILS_PER_SECOND
         and campaign.at_ses == campaign.recipients and campaign.duplicates == 0),
        ("Sender Lambda GB-s per email (handler wall time x memory)",
         f"{sender.usage(sizing).lambda_gb_seconds:.5f}",
         f"<= {GOAL_SENDER_GB_SECONDS_PER_EMAIL:g}",
         sender.usage(sizing).lambda_gb_seconds <= GOAL_SENDER_GB_SECONDS_PER_EMAIL),
        *_request_rows(launched, tracked, sender),
        *limiter_rows(sender, sizing),
        ("AWS cost per million emails, send path (launcher + sender), beyond SES's $100",
         f"${send_path.total:.3f}", f"<= ${GOAL_SEND_PATH_USD:.2f}",
         send_path.total <= GOAL_SEND_PATH_USD),
        (f"AWS cost per million emails in all (+ tracker, {model.mix.events_per_email:g} events"
         " per email), beyond SES's $100", f"${in_all.total:.2f}", f"<= ${GOAL_ALL_USD:.2f}",
         in_all.total <= GOAL_ALL_USD),
        (f"Duplicates / lost under `make chaos` (default size: {chaos.tally.accepted:,}"
         f" recipients, seed {chaos_seed})",
         f"{chaos.tally.duplicate_emails} / {len(chaos.tally.lost)}", "0 / 0",
         chaos.ok and not chaos.tally.duplicates and not chaos.tally.lost),
        ("Naive design: one SQS message and one DynamoDB write per email and per event",
         f"${naive_reference(model.mix.events_per_email):.2f}",
         f"reference (issue: about ${NAIVE_REFERENCE_USD:g})", None),
    ]  # fmt: skip
    tx_rows = report_rows(tx)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit"
        f" `{_commit()}`, on {_machine()}. Every figure is measured in that run.",
        "",
        *_table(rows),
        "",
        *_cost_section(
            model,
            sizing=sizing,
            path=path,
            send_path=send_path,
            in_all=in_all,
            sender=sender,
            tracked=tracked,
        ),
        "",
        TX_SECTION,
        "",
        *_table(tx_rows),
        "",
        method_text(tx),
        "",
        "## How each is measured",
        "",
        f"- Compile: `bench/compile_bench.py` generates a {compiled.recipients:,}-recipient"
        f" candidate ({compiled.candidate_mb:.0f} MB, 4 segments, a few percent invalid and"
        " duplicate addresses) and runs `compile_campaign` end to end in a child process"
        " (both passes, every check, parts written to files); peak RSS is that process's"
        " high-water mark. The floor loads the same file with orjson and re-emits one line per"
        " recipient with no checks.",
        f"- Launch: `bench/launch_bench.py` writes a compiled campaign of {launched.emails:,}"
        " emails to the local stack's campaigns bucket and times one launcher enqueuing it"
        f" (S3 reads, packing, SendMessageBatch, a DynamoDB checkpoint per call):"
        f" {launched.batch_calls} SendMessageBatch calls in {launched.seconds:.1f} s. LocalStack"
        " on 2 shared cores is slower per call than SQS; on AWS the same calls number the same.",
        f"- Send rate: `bench/limiter_bench.py` runs 1, then 4 worker processes sharing one"
        f" limiter at R = {args.rate:g}/s for {args.seconds:g} s each, every one acquiring"
        " campaign-lane slots and calling LocalStack's SES v2 `SendEmail`; each call is"
        " timestamped at the client, and the busiest 1 s sliding window is reported. CPU time is"
        " the workers' own (user + system), SES client included.",
        f"- Tracker: `bench/tracker_bench.py` writes {tracked.events:,} SES events' worth of"
        " emails (records as the sender leaves them; Send and Delivery for each, opens, clicks,"
        " bounces, complaints, one in ten events delivered twice, shuffled) and applies them in"
        f" one in-process tracker against DynamoDB Local, in batches of {tracked.batch_size}"
        f" (Terraform's batch size): {tracked.events:,} events in {tracked.seconds:.1f} s."
        " Each event is one conditional update of its email's record; each batch adds one"
        " counter update per segment; bounces, complaints (and rejects, rendering failures,"
        " delays, subscriptions) also keep their raw JSON, and hard bounces and complaints add"
        " a suppression write. Its DynamoDB capacity units are those DynamoDB reports"
        " (ReturnConsumedCapacity), derived by AWS's rules where it reports none.",
        f"- Requests: `bench/requests_bench.py` launches a campaign of {sender.emails:,} emails"
        " (a real template, the stack's configuration set) and drains the send queue with the"
        " real campaign handler (its Sender built by `build_sender`) fed by the local runtime's"
        f" SQS poller, {sizing.sender_batch_size} messages an invocation as Terraform's event"
        f" source mapping, one limiter of its own at R = {sender.rate:g}/s;"
        " `bench/aws_requests.py` counts every request of every client it builds by service"
        " and operation (botocore hooks), with DynamoDB's consumed capacity. Receives that"
        " return nothing (an idle poller) are left out. The launcher's requests are counted"
        " the same way in the launch above.",
        f"- Large campaign: `bench/campaign_bench.py` POSTs a campaign of {campaign.recipients:,}"
        " new addresses through the API, due in 15 s, and times it from its date until it is"
        " COMPLETED with every Delivery counted (sent, delivered and finished all equal to its"
        " recipients), with the stack's own launcher, two campaign senders (SendBulkEmail, R ="
        f" {LOCAL_SERVICE_SETTINGS['EMS_SEND_RATE_OVERRIDE']}/s) and tracker (events through"
        " Firehose, S3 and SQS); /_aws/ses then shows how many"
        " recipients got an email and how many got two.",
        "- Limiter at AWS rates: `bench/limiter_model.py` runs the senders' own functions"
        " (`burst_size`, `stripe_count`, `grid_spacing_us`, `block_size`) at the default settings"
        " for R = 100, 300 and 1,000/s; a limiter write's capacity units are the sender bench's;"
        " the senders' GB-s per email assumes `sender_max_concurrency` senders running"
        " throughout, each billed while it waits.",
        f"- Chaos: the default `make chaos` run (`chaos.run.run_verdict`, seed {chaos_seed}):"
        f" {chaos.tally.accepted:,} recipients sent while services are killed and SES and"
        " DynamoDB faults are injected; duplicates and losses counted at /_aws/ses"
        " (`docs/chaos.md`).",
        "",
    ]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines[4 : 6 + len(rows)]))
    section = lines.index(TX_SECTION)
    print("\n" + "\n".join(lines[section : section + 4 + len(tx_rows)]))
    print(f"\nreport written to {REPORT}")


if __name__ == "__main__":
    main()
