"""Benchmark: the shared send limiter against the local stack's SES and DynamoDB.

    .venv/bin/python -m bench.limiter_bench [--rate 12] [--seconds 20] [--workers 1 4]
        [--threads 2] [--no-configuration-set]

For each worker count, that many processes share one fresh limiter (rate R, CAMPAIGN lane)
and send SES v2 `SendEmail` (a template) to LocalStack SES flat out for S seconds, each call
timestamped at the client just before it starts. What one worker sends a second alone (80 %
of it) is measured first and set as the limiter's worker send rate, which decides its stripes.

Per run: the average rate against R, the most calls in any one-second window (the goal:
never above R), DynamoDB requests per send (reads and writes), and CPU time per email (whole
worker, and the limiter's share). Starts the local stack if it is not up (`main` only); the
SES events the sends publish are drained from the tracker queue after each run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING, Any, Final

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_sender.limiter import Lane, LimiterSettings, Tuning, build_send_limiter
from ems_sender.limiter.logic import stripe_count

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# LocalStack SES through the configuration set (which puts each send's events into Firehose)
# takes about 50-70 ms a call and sustains about 20 calls/s in all from 4 processes on 2
# cores: R = 12 is what one worker with two threads sustains, with the stack to spare.
# Without the configuration set (--no-configuration-set) a call takes about 7 ms: R = 40.
DEFAULT_RATE: Final = 12.0
DEFAULT_SECONDS: Final = 20.0
DEFAULT_WORKERS: Final = (1, 4)
TEMPLATE: Final = "ems-limiter-bench"
BENCH_TAG: Final = "ems-bench"
DEFAULT_THREADS: Final = 2  # per worker: one takes a slot while the other is in SES
_START_DELAY_S: Final = 0.5  # from the last worker ready to the common start
_READY_TIMEOUT_S: Final = 120.0
PROBE_S: Final = 2.0


@dataclass(frozen=True)
class LimiterFigures:
    """What one run measured (all workers together)."""

    rate: float
    workers: int
    threads: int
    worker_send_rate: float
    stripes: int
    configuration_set: bool
    seconds: float
    sends: int
    max_in_one_second: int
    dynamodb_reads: int
    dynamodb_writes: int
    conflicts: int
    forfeited: int
    cpu_seconds: float
    limiter_cpu_seconds: float
    send_errors: int

    @property
    def dynamodb_requests(self) -> int:
        """Limiter reads and writes."""
        return self.dynamodb_reads + self.dynamodb_writes

    @property
    def achieved_rate(self) -> float:
        """Sends per second over the run."""
        return self.sends / self.seconds

    @property
    def rate_ratio(self) -> float:
        """Achieved rate / R (the goal: at least 0.95)."""
        return self.achieved_rate / self.rate

    @property
    def requests_per_send(self) -> float:
        """DynamoDB limiter requests per email sent."""
        return self.dynamodb_requests / max(1, self.sends)

    @property
    def cpu_ms_per_email(self) -> float:
        """Worker CPU time per email (SES call included)."""
        return 1000 * self.cpu_seconds / max(1, self.sends)

    @property
    def limiter_cpu_ms_per_email(self) -> float:
        """The limiter's part of it (acquire and pacing, sleeping excluded)."""
        return 1000 * self.limiter_cpu_seconds / max(1, self.sends)


@dataclass(frozen=True)
class _WorkerResult:
    stamps: list[float]
    dynamodb_reads: int
    dynamodb_writes: int
    conflicts: int
    forfeited: int
    cpu_seconds: float
    limiter_cpu_seconds: float
    send_errors: int


def max_in_window(stamps: Sequence[float], window_s: float = 1.0) -> int:
    """The most timestamps in any half-open window [t, t + window_s)."""
    ordered = sorted(stamps)
    best, first = 0, 0
    for last, stamp in enumerate(ordered):
        while stamp - ordered[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def _ensure_template(ses: SESClient) -> None:
    with contextlib.suppress(ses.exceptions.AlreadyExistsException):
        ses.create_template(
            Template={
                "TemplateName": TEMPLATE,
                "SubjectPart": "Limiter bench {{n}}",
                "HtmlPart": "<p>Email {{n}}</p>",
                "TextPart": "Email {{n}}",
            }
        )


@dataclass(frozen=True)
class _Job:
    name: str
    rate: float
    seconds: float
    index: int
    threads: int
    configuration_set: bool


class _Worker:
    """One sender process: `threads` threads take CAMPAIGN slots and send on each one.

    Threads, as in the sender: one SES call at a time per thread. The process connects, says
    it is ready, and runs from the start the parent gives every worker.
    """

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.infra = InfraSettings()
        self.clients = AwsClients()
        self.ses = self.clients.client("sesv2")
        # Open the connections before the clock starts (not counted as limiter requests).
        self.ses.get_account()
        self.clients.client("dynamodb").describe_table(TableName=self.infra.rate_limits_table)
        self.extra: dict[str, Any] = (
            {"ConfigurationSetName": self.infra.configuration_set_name}
            if job.configuration_set
            else {}
        )
        self.lock = threading.Lock()
        self.count = 0
        self.errors = 0

    def send(self, number: int) -> None:
        try:
            self.ses.send_email(
                FromEmailAddress=self.infra.default_from,
                Destination={"ToAddresses": [f"bench{self.job.index}-{number}@example.org"]},
                Content={
                    "Template": {
                        "TemplateName": TEMPLATE,
                        "TemplateData": json.dumps({"n": number}),
                    }
                },
                EmailTags=[{"Name": BENCH_TAG, "Value": "limiter"}],
                **self.extra,
            )
        except Exception:  # counted and reported: the run goes on
            with self.lock:
                self.errors += 1

    def _next_number(self) -> int:
        with self.lock:
            self.count += 1
            return self.count

    def _run_threads(self, target: Callable[[], None]) -> None:
        threads = [threading.Thread(target=target) for _ in range(self.job.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def probe(self) -> float:
        """Sends a second, flat out without the limiter, for PROBE_S."""
        end = time.time() + PROBE_S

        def loop() -> None:
            while time.time() < end:
                self.send(-self._next_number())

        self._run_threads(loop)
        probed, self.count, self.errors = self.count, 0, 0
        return probed / PROBE_S

    def run(self, start_at: float, worker_send_rate: float) -> _WorkerResult:
        """Send on the limiter's slots from `start_at` for the job's seconds."""
        settings = LimiterSettings(
            limiter_name=self.job.name,
            send_rate_override=self.job.rate,
            daily_quota_override=1_000_000_000,
            limiter_worker_send_rate=worker_send_rate,
        )
        limiter = build_send_limiter(settings, self.infra.rate_limits_table, clients=self.clients)
        end = start_at + self.job.seconds
        stamps: list[float] = []
        limiter_cpu = [0.0]

        def loop() -> None:
            while time.time() < end:
                before = time.thread_time()
                grant = limiter.take(Lane.CAMPAIGN, max_wait_s=max(0.0, end - time.time()))
                spent = time.thread_time() - before
                now = time.time()
                with self.lock:
                    limiter_cpu[0] += spent
                    if not grant or now >= end:
                        continue
                    stamps.append(now)
                self.send(self._next_number())

        time.sleep(max(0.0, start_at - time.time()))
        cpu_started = time.process_time()
        self._run_threads(loop)
        cpu = time.process_time() - cpu_started
        stats = limiter.stats
        return _WorkerResult(
            stamps=stamps,
            dynamodb_reads=stats.dynamodb_reads,
            dynamodb_writes=stats.dynamodb_writes,
            conflicts=stats.conflicts,
            forfeited=stats.slots_forfeited,
            cpu_seconds=cpu,
            limiter_cpu_seconds=limiter_cpu[0],
            send_errors=self.errors,
        )


def _worker(
    job: _Job,
    ready: Queue[float],
    go: Queue[tuple[float, float]],
    results: Queue[_WorkerResult],
) -> None:
    """A worker process's life: connect, say it is ready, run from the common start."""
    worker = _Worker(job)
    ready.put(0.0)
    start_at, worker_send_rate = go.get()
    results.put(worker.run(start_at, worker_send_rate))


def measure_limiter(
    rate: float,
    seconds: float,
    workers: int,
    *,
    threads: int = DEFAULT_THREADS,
    configuration_set: bool = True,
    worker_send_rate: float | None = None,
) -> LimiterFigures:
    """Run `workers` processes sharing one fresh limiter at `rate` for `seconds`.

    `worker_send_rate` (what one process sends a second, which sets the stripes) defaults
    to 80 % of what one worker sends flat out, alone, as an operator would set
    EMS_LIMITER_WORKER_SEND_RATE. Needs the local stack's settings in the environment
    (`bench.launch_bench.with_stack`).
    """
    _ensure_template(AwsClients().client("ses"))
    name = f"bench-{uuid.uuid4().hex[:10]}"
    if worker_send_rate is None:
        probe = _Worker(_Job(name, rate, seconds, -1, threads, configuration_set))
        worker_send_rate = 0.8 * probe.probe()
        time.sleep(1)  # LocalStack publishes the probe's events
    context = multiprocessing.get_context("spawn")
    ready: Queue[float] = context.Queue()
    go: Queue[tuple[float, float]] = context.Queue()
    results: Queue[_WorkerResult] = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(
                _Job(name, rate, seconds, index, threads, configuration_set),
                ready,
                go,
                results,
            ),
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=_READY_TIMEOUT_S)
        start_at = time.time() + _START_DELAY_S
        for _ in processes:
            go.put((start_at, worker_send_rate))
        collected = [results.get(timeout=seconds + _READY_TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    stamps = [stamp for result in collected for stamp in result.stamps]
    return LimiterFigures(
        rate=rate,
        workers=workers,
        threads=threads,
        worker_send_rate=worker_send_rate,
        stripes=stripe_count(rate, Tuning(worker_send_rate=worker_send_rate)),
        configuration_set=configuration_set,
        seconds=seconds,
        sends=len(stamps),
        max_in_one_second=max_in_window(stamps),
        dynamodb_reads=sum(r.dynamodb_reads for r in collected),
        dynamodb_writes=sum(r.dynamodb_writes for r in collected),
        conflicts=sum(r.conflicts for r in collected),
        forfeited=sum(r.forfeited for r in collected),
        cpu_seconds=sum(r.cpu_seconds for r in collected),
        limiter_cpu_seconds=sum(r.limiter_cpu_seconds for r in collected),
        send_errors=sum(r.send_errors for r in collected),
    )


def _is_bench_event(body: str) -> bool:
    try:
        payload: Any = json.loads(body)
        if isinstance(payload, dict) and "Message" in payload and "Type" in payload:
            payload = json.loads(payload["Message"])
        tags = payload.get("mail", {}).get("tags", {})
    except (ValueError, AttributeError):
        return False
    return BENCH_TAG in tags


def drain_bench_events(sqs: SQSClient, queue_url: str, *, quiet_s: float = 3.0) -> int:
    """Delete the bench's SES events from the tracker queue, leaving everything else.

    Stops once no bench event has arrived for `quiet_s` (SES publishes them asynchronously).
    """
    deleted = 0
    last_seen = time.monotonic()
    while time.monotonic() - last_seen < quiet_s:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30
        ).get("Messages", [])
        ours = [m for m in messages if _is_bench_event(m["Body"])]
        others = [m for m in messages if not _is_bench_event(m["Body"])]
        if ours:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ours)
                ],
            )
            deleted += len(ours)
            last_seen = time.monotonic()
        if others:  # not ours: visible again at once for their owner
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(others)
                ],
            )
    return deleted


def measure_scaling(
    rate: float,
    seconds: float,
    workers: Sequence[int] = DEFAULT_WORKERS,
    *,
    threads: int = DEFAULT_THREADS,
    configuration_set: bool = True,
) -> list[LimiterFigures]:
    """One run per worker count, then the bench's SES events drained from the tracker queue."""
    figures = [
        measure_limiter(rate, seconds, count, threads=threads, configuration_set=configuration_set)
        for count in workers
    ]
    if configuration_set:
        drain_bench_events(AwsClients().client("sqs"), InfraSettings().tracker_queue_url)
    return figures


def describe(figures: LimiterFigures) -> str:
    """One line per run."""
    return (
        f"{figures.workers} worker(s) x {figures.threads} thread(s)"
        f" (~{figures.worker_send_rate:.0f}/s each: {figures.stripes} stripe(s)),"
        f" R={figures.rate:g}/s,"
        f" {figures.seconds:g} s{'' if figures.configuration_set else ' (no config set)'}:"
        f" {figures.sends} sends, average {figures.achieved_rate:.1f}/s"
        f" ({figures.rate_ratio:.1%} of R), max in any 1 s window {figures.max_in_one_second}"
        f" (R={figures.rate:g}), {figures.requests_per_send:.3f} DynamoDB requests/send"
        f" ({figures.dynamodb_writes / figures.seconds:.1f} writes/s, {figures.conflicts} lost,"
        f" {figures.dynamodb_reads / figures.seconds:.1f} reads/s),"
        f" {figures.forfeited} slots lapsed,"
        f" CPU {figures.cpu_ms_per_email:.2f} ms/email (limiter"
        f" {figures.limiter_cpu_ms_per_email:.3f}), {figures.send_errors} SES errors"
    )


def main() -> None:
    """Print the limiter's figures for 1 then 4 workers."""
    from bench.launch_bench import with_stack  # noqa: PLC0415 - only the CLI needs the stack

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--workers", type=int, nargs="+", default=list(DEFAULT_WORKERS))
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="per worker")
    parser.add_argument(
        "--no-configuration-set",
        action="store_true",
        help="send without the configuration set (LocalStack then takes ~7 ms a call, not ~50)",
    )
    args = parser.parse_args()
    runs = with_stack(
        lambda: measure_scaling(
            args.rate,
            args.seconds,
            args.workers,
            threads=args.threads,
            configuration_set=not args.no_configuration_set,
        )
    )
    for figures in runs:
        print(describe(figures))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
