"""Benchmark: compile a generated million-recipient campaign, against an orjson floor.

    .venv/bin/python -m bench.compile_bench [--recipients 1000000] [--sink file|null]

1. Generates a candidate (several segments, 3-4 personalization fields each, a few percent
   invalid and duplicate addresses; subject and sender after the recipients) to a temp file.
2. The floor: orjson alone loads the same file and re-emits one campaign-file line per
   recipient, with no checks at all.
3. The engine: compile_campaign end to end (both passes, templates, checks, parts through a
   file or null sink).

Each measured step runs in its own child process, which reports its wall time and its peak
RSS (VmHWM, the high-water mark of the process doing the work, interpreter included).
"""

import argparse
import multiprocessing
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

BUCKET: Final = "ems-assets"
TEMPLATE_URI: Final = f"s3://{BUCKET}/templates/summer.html"
VIP_TEMPLATE_URI: Final = f"s3://{BUCKET}/templates/vip.html"
TEMPLATE_HTML: Final = (
    "<!doctype html><html><head><title>Summer sale, {{fname}}</title></head><body>"
    "<p>Hi {{fname}} {{lname}},</p>{{#if city}}<p>Deals in {{city}}</p>{{/if}}"
    "<a href='{{unsub_link}}'>unsubscribe</a></body></html>"
)
VIP_HTML: Final = "<html><body><p>Dear {{fname}}, your code: {{code}}</p></body></html>"
SEGMENTS: Final = ("newsletter", "customers", "trial-users", "vip")
PART_LINES: Final = 50_000
FIRST_NAMES: Final = ("Ann", "Bob", "Zoë", "Łukasz", "Mary-Jane", "O'Neil", "Chloé", "Raj")
LAST_NAMES: Final = ("Lee", "Smith", "García", "Müller", "Nguyen", "Kowalski", 'Dé "Q"')
DOMAINS: Final = ("example.com", "Mail.Example.org", "corp.example.net", "bücher.de", "x.io")
LOCAL_NAMES: Final = ("ann", "bob", "zoe", "lukasz", "mary-jane", "o'neil", "chloe", "raj")
INVALID: Final = ("no-at-sign", "two@@example.com", "space in@example.com", "dot.@example.com")


# --- the candidate -----------------------------------------------------------------------------


def _address(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.02:  # invalid
        return f"{rng.choice(INVALID)}{index}"
    if roll < 0.025:  # a local part SES cannot send to
        return f"zoë{index}@example.com"
    domain = DOMAINS[index % len(DOMAINS)]
    local = f"{LOCAL_NAMES[index % 8]}.user{index}"
    if roll < 0.05:
        local = local.upper()
    elif roll < 0.06:
        local = "info" if index % 2 else "Sales"
        domain = f"shop{index}.example.com"
    return f"{local}@{domain}"


def write_candidate(path: Path, recipients: int, seed: int = 7) -> int:
    """Write the candidate to ``path``, streaming; return its size in bytes."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    per_segment = recipients // len(SEGMENTS)
    counts = [per_segment] * len(SEGMENTS)
    counts[0] += recipients - per_segment * len(SEGMENTS)
    index = 0
    earlier: list[str] = []
    with path.open("wb") as out:
        out.write(b'{"campaign_id":"bench-summer","date":')
        out.write(orjson.dumps((datetime.now(UTC) + timedelta(days=30)).isoformat()))
        out.write(b',"templateS3Uri":' + orjson.dumps(TEMPLATE_URI) + b',"segments":[')
        for number, (name, count) in enumerate(zip(SEGMENTS, counts, strict=True)):
            head: dict[str, Any] = {"list_name": name}
            if name == "vip":
                head |= {"templateS3Uri": VIP_TEMPLATE_URI, "subject": "For you, {{fname}}"}
            out.write((b"," if number else b"") + orjson.dumps(head)[:-1] + b',"recipients":[')
            chunk: list[bytes] = []
            for position in range(count):
                if earlier and rng.random() < 0.01:  # a duplicate, in other case
                    address = rng.choice(earlier).swapcase()
                else:
                    address = _address(rng, index)
                    if len(earlier) < 10_000:
                        earlier.append(address)
                record = {
                    "to_address": address,
                    "fname": FIRST_NAMES[index % 8],
                    "lname": LAST_NAMES[index % 7],
                    "unsub_link": f"https://example.com/u/{index:x}?t={rng.getrandbits(40):x}",
                }
                if name == "vip":
                    record["code"] = f"VIP-{index:06d}"
                elif index % 3 == 0:
                    record["city"] = "Zürich"
                if index % 97 == 0:
                    del record["lname"]  # a missing field
                chunk.append(orjson.dumps(record))
                index += 1
                if len(chunk) == 10_000 or position == count - 1:
                    out.write((b"," if position >= len(chunk) else b"") + b",".join(chunk))
                    chunk = []
            out.write(b"]}")
        # campaign settings after the recipients: the reader must find them there too
        out.write(b'],"subject":"Summer sale","from":"EMS News <news@mail.example.com>"}')
    return path.stat().st_size


# --- sinks -------------------------------------------------------------------------------------


class NullSink:
    """Counts the bytes it is given."""

    def __init__(self) -> None:
        self.bytes = 0

    def write_part(self, index: int, data: bytes) -> None:
        self.bytes += len(data)


class FileSink:
    """Writes each part to a file in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bytes = 0

    def write_part(self, index: int, data: bytes) -> None:
        (self.folder / f"part-{index:05d}.jsonl").write_bytes(data)
        self.bytes += len(data)


def _sink(kind: str, folder: Path) -> NullSink | FileSink:
    if kind == "null":
        return NullSink()
    target = folder / "parts"
    target.mkdir(exist_ok=True)
    return FileSink(target)


# --- the measured steps (each in a child process) ----------------------------------------------


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def orjson_floor(path: Path, sink_kind: str, folder: Path) -> dict[str, Any]:
    """Load the candidate with orjson and write one line per recipient: no checks at all."""
    sink = _sink(sink_kind, folder)
    started = time.perf_counter()
    document = orjson.loads(path.read_bytes())
    tags = [{"Name": "campaignId", "Value": document["campaign_id"]}]
    buffer = bytearray()
    lines = parts = 0
    for segment in document["segments"]:
        segment_tags = [*tags, {"Name": "segmentId", "Value": segment["list_name"]}]
        for record in segment["recipients"]:
            address = record.pop("to_address")
            buffer += orjson.dumps(
                {
                    "FromEmailAddress": document["from"],
                    "Destination": {"ToAddresses": [address]},
                    "Content": {
                        "Template": {
                            "TemplateName": "ems-bench-summer-00000000",
                            "TemplateData": orjson.dumps(record).decode(),
                        }
                    },
                    "EmailTags": segment_tags,
                    "ConfigurationSetName": "ems-campaigns",
                }
            )
            buffer += b"\n"
            lines += 1
            if lines % PART_LINES == 0:
                parts += 1
                sink.write_part(parts, bytes(buffer))
                buffer.clear()
    if buffer:
        sink.write_part(parts + 1, bytes(buffer))
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
        "lines": lines,
        "bytes": sink.bytes,
    }


class _Templates:
    def read_template(self, uri: str, limit: int) -> bytes:
        return (VIP_HTML if uri == VIP_TEMPLATE_URI else TEMPLATE_HTML).encode()


def engine(path: Path, sink_kind: str, folder: Path) -> dict[str, Any]:
    """compile_campaign end to end."""
    from ems_scheduler.campaigns.compiler import CompileSettings, compile_campaign  # noqa: PLC0415
    from ems_scheduler.campaigns.compiler.blocklist import Blocklist  # noqa: PLC0415
    from ems_scheduler.shared.unsubscribe_links import (  # noqa: PLC0415
        UnsubscribeKeys,
        UnsubscribeLinks,
    )

    sink = _sink(sink_kind, folder)
    rss_before = _peak_rss_mb()
    progress_calls: list[float] = []
    started = time.perf_counter()
    result = compile_campaign(
        path.open,  # type: ignore[arg-type]
        settings=CompileSettings(
            template_buckets=frozenset({BUCKET}),
            default_from="news@mail.example.com",
            default_configuration_set="ems-campaigns",
            part_lines=PART_LINES,
        ),
        templates=_Templates(),
        sink=sink,
        now=datetime.now(UTC),
        blocked=Blocklist.suppressed({"ann.user0@example.com", "bob.user1@mail.example.org"}),
        # Every line carries its recipient's one-click unsubscribe link, as in production.
        links=UnsubscribeLinks(
            UnsubscribeKeys.generate(), base_url="https://api.example.com", max_age_days=400
        ),
        progress=lambda done, total: progress_calls.append(time.perf_counter()),
    )
    seconds = time.perf_counter() - started
    totals = result.manifest.totals
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "lines": totals.accepted,
        "bytes": sink.bytes,
        "rejected": dict(totals.rejected_by_reason),
        "parts": len(result.manifest.parts),
        "progress_calls": len(progress_calls),
    }


def _child(
    step: Callable[[Path, str, Path], dict[str, Any]],
    path: Path,
    sink_kind: str,
    folder: Path,
    results: "multiprocessing.Queue[dict[str, Any]]",
) -> None:
    results.put(step(path, sink_kind, folder))


def run_in_child(
    step: Callable[[Path, str, Path], dict[str, Any]], path: Path, sink_kind: str, folder: Path
) -> dict[str, Any]:
    """Run one step in a fresh process, so that its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    process = context.Process(target=_child, args=(step, path, sink_kind, folder, results))
    process.start()
    outcome = results.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{step.__name__} failed with exit code {process.exitcode}")
    shutil.rmtree(folder / "parts", ignore_errors=True)
    return outcome


@dataclass(frozen=True)
class Row:
    name: str
    seconds: float
    peak_rss_mb: float
    lines: int
    output_mb: float


@dataclass(frozen=True)
class CompileFigures:
    """The floor's and the engine's measurements on one generated candidate."""

    recipients: int
    candidate_mb: float
    floor: dict[str, Any]
    engine: dict[str, Any]


def measure_compile(recipients: int, sink: str = "file") -> CompileFigures:
    """Generate a candidate of `recipients`, then measure the orjson floor and the engine."""
    with tempfile.TemporaryDirectory(prefix="ems-compile-bench-") as name:
        folder = Path(name)
        path = folder / "candidate.json"
        started = time.perf_counter()
        size = write_candidate(path, recipients)
        generated = time.perf_counter() - started
        print(
            f"candidate: {recipients:,} recipients in {len(SEGMENTS)} segments, "
            f"{size / 1e6:.0f} MB, generated in {generated:.1f} s; sink: {sink}"
        )
        floor = run_in_child(orjson_floor, path, sink, folder)
        compiled = run_in_child(engine, path, sink, folder)
    return CompileFigures(recipients, size / 1e6, floor, compiled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--sink", choices=("file", "null"), default="file")
    arguments = parser.parse_args()
    figures = measure_compile(arguments.recipients, arguments.sink)
    floor, compiled = figures.floor, figures.engine

    rows = [
        Row("orjson floor (load + re-emit)", floor["seconds"], floor["peak_rss_mb"],
            floor["lines"], floor["bytes"] / 1e6),
        Row("engine (compile_campaign)", compiled["seconds"], compiled["peak_rss_mb"],
            compiled["lines"], compiled["bytes"] / 1e6),
    ]  # fmt: skip
    print()
    print(f"| {'step':<30} | {'wall s':>7} | {'peak RSS MB':>11} | {'lines':>9} | {'out MB':>7} |")
    print(f"|{'-' * 32}|{'-' * 9}|{'-' * 13}|{'-' * 11}|{'-' * 9}|")
    for row in rows:
        print(
            f"| {row.name:<30} | {row.seconds:>7.1f} | {row.peak_rss_mb:>11.0f} | "
            f"{row.lines:>9,} | {row.output_mb:>7.0f} |"
        )
    print()
    rate = arguments.recipients / compiled["seconds"]
    print(
        f"engine: {rate:,.0f} recipients/s, {compiled['seconds'] / floor['seconds']:.1f}x the "
        f"floor; {compiled['parts']} parts; RSS before compiling "
        f"{compiled['rss_before_mb']:.0f} MB; progress reported {compiled['progress_calls']} times"
    )
    print(f"rejected: {compiled['rejected']}")


if __name__ == "__main__":
    main()
