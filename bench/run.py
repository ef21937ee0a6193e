"""`make bench`: every figure the issues ask for, next to its goal, into docs/benchmarks.md.

    .venv/bin/python -m bench.run [--recipients 1000000] [--emails 200000]
        [--tx-recipients 20000] [--tx-samples 150] [--tx-interval 0.4]

Measured on this machine, in this run; the report says which machine and when.
"""

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.compile_bench import measure_compile
from bench.launch_bench import LaunchFigures, measure_launch, with_services_paused, with_stack
from bench.limiter_bench import DEFAULT_RATE, LimiterFigures, measure_scaling
from bench.tracker_bench import TrackerFigures, measure_tracker
from bench.transactional_bench import (
    DEFAULT_INTERVAL_S,
    DEFAULT_RECIPIENTS,
    DEFAULT_SAMPLES,
    GOAL_P99_S,
    TransactionalFigures,
    measure_transactional,
    method_text,
    report_rows,
)

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
TX_SECTION = "## Transactional latency under campaign load"

type Row = tuple[str, str, str, bool | None]
type Paused = tuple[LaunchFigures, LimiterFigures, LimiterFigures, TrackerFigures]


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
    args = parser.parse_args()

    compiled = measure_compile(args.recipients)

    def paused() -> Paused:
        launched = measure_launch(args.emails)
        one, four = measure_scaling(args.rate, args.seconds, (1, 4))
        return launched, one, four, measure_tracker(args.tracked_emails)

    def on_the_stack() -> tuple[TransactionalFigures, Paused]:
        # First with the stack's launcher and senders running (a real campaign sends), then
        # with them paused for the benches that enqueue or send themselves.
        transactional = measure_transactional(args.tx_recipients, args.tx_samples, args.tx_interval)
        return transactional, with_services_paused(paused)

    tx, (launched, one, four, tracked) = with_stack(on_the_stack, pause=False)

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
        ("Transactional POST /emails to SES, campaign sending: p99 (p50)",
         f"{tx.latency_text(99)} ({tx.latency_text(50)})",
         f"< {GOAL_P99_S:g} s, campaign at full rate", tx.p(99) < GOAL_P99_S and tx.at_full_rate),
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
        " campaign-lane slots and calling LocalStack's SES `SendTemplatedEmail`; each call is"
        " timestamped at the client, and the busiest 1 s sliding window is reported. CPU time is"
        " the workers' own (user + system), SES client included.",
        f"- Tracker: `bench/tracker_bench.py` writes {tracked.events:,} SES events' worth of"
        " emails (Send and Delivery for each, opens, clicks, bounces, complaints, one in ten"
        " events delivered twice, shuffled) and applies them in one in-process tracker against"
        f" DynamoDB Local: {tracked.events:,} events in {tracked.seconds:.1f} s. Each event is"
        " a consistent read of its email and one transaction (raw event, email, counters);"
        " hard bounces and complaints add a suppression write.",
        "",
    ]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines[4 : 6 + len(rows)]))
    section = lines.index(TX_SECTION)
    print("\n" + "\n".join(lines[section : section + 4 + len(tx_rows)]))
    print(f"\nreport written to {REPORT}")


if __name__ == "__main__":
    main()
