"""The metric a campaign that paused itself emits, against the alarms Terraform sets on it.

The tracker (the reputation brake) and the sender (SES refused the sender) each log one
`EMS / CampaignsPaused` data point in CloudWatch's embedded metric format, with one dimension,
`by`. A CloudWatch alarm matches a metric by its namespace, name and exact set of dimensions:
one more dimension (Powertools adds `service` when POWERTOOLS_SERVICE_NAME is set) and the
alarms of terraform/modules/alarms would watch a metric nothing emits. The handlers run here
for real; only the tracker and sender they drive are stand-ins that report a paused campaign.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ems_common.campaigns import PausedBy
from ems_common.lambda_handlers import METRICS_NAMESPACE, PAUSED_METRIC
from ems_sender.handlers import send
from ems_sender.limiter import Lane
from ems_tracker.handlers import track
from ems_tracker.ingest import BatchOutcome

ALARMS = Path(__file__).parents[3] / "terraform" / "modules" / "alarms" / "main.tf"
_STRING_ASSIGNMENT = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"\s*$', re.MULTILINE)


@dataclass
class _TrackerThatBraked:
    """A tracker whose batch paused one campaign (what `Tracker.process_batch` says)."""

    stats: Counter[str] = field(default_factory=Counter)

    def process_batch(self, bodies: Sequence[str]) -> BatchOutcome:
        return BatchOutcome(failed=[], finished=set(), completed=[], paused=["spring"])


@dataclass
class _WatchThatPaused:
    paused: list[str] = field(default_factory=lambda: ["spring"])

    def take_paused(self) -> list[str]:
        paused, self.paused = self.paused, []
        return paused


@dataclass
class _SenderThatPaused:
    """A sender that paused one campaign because SES refused its sender."""

    watch: _WatchThatPaused = field(default_factory=_WatchThatPaused)
    gate: object = None  # no limiter: its counts are not logged
    threads: int = 1

    def summary(self) -> dict[str, int]:
        return {}


@pytest.fixture(autouse=True)
def _no_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on AWS (tests/infra checks that no function sets it).
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)


def _metrics_logged(out: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents among the lines written."""
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def _paused_points(out: str) -> list[tuple[str, str, list[list[str]], str]]:
    """(namespace, metric, dimension sets, `by`) of each CampaignsPaused point logged."""
    return [
        (directive["Namespace"], metric["Name"], directive["Dimensions"], document.get("by", ""))
        for document in _metrics_logged(out)
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        if metric["Name"] == PAUSED_METRIC
    ]


def test_the_brake_logs_one_paused_point_by_brake(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tracker whose batch paused a campaign
    monkeypatch.setattr(track, "warm_tracker", _TrackerThatBraked)

    # When the handler runs
    track.handler({"Records": []}, None)

    # Then one data point, with `by` its only dimension
    points = _paused_points(capsys.readouterr().out)
    assert points == [(METRICS_NAMESPACE, PAUSED_METRIC, [["by"]], PausedBy.BRAKE.value)]


def test_a_sender_ses_refused_logs_one_paused_point_by_ses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(send, "warm_sender", lambda _lane: _SenderThatPaused())

    send._handle(Lane.CAMPAIGN, {"Records": []}, None)

    points = _paused_points(capsys.readouterr().out)
    assert points == [(METRICS_NAMESPACE, PAUSED_METRIC, [["by"]], PausedBy.SES.value)]


def test_terraform_alarms_on_the_metric_the_code_names() -> None:
    text = ALARMS.read_text()
    names = dict(_STRING_ASSIGNMENT.findall(text))
    assert names["ems_namespace"] == METRICS_NAMESPACE
    assert names["paused_metric"] == PAUSED_METRIC
    # an alarm per way a campaign pauses itself (an operator's pause emits nothing)
    self_pauses = re.search(r"self_pauses = \{(.*?)\n  \}", text, re.DOTALL)
    assert self_pauses is not None, f"no self_pauses map in {ALARMS}"
    keys = set(re.findall(r"^\s*(\w+)\s*=", self_pauses.group(1), re.MULTILINE))
    assert keys == {PausedBy.BRAKE.value, PausedBy.SES.value}
    assert re.search(r"dimensions\s*=\s*\{\s*by\s*=\s*each\.key\s*\}", text), "alarm by `by`"
