"""The sender under faults: SES throttling and 5xx, and a worker killed mid-batch.

The local campaign senders are paused; each test runs its own sender processes (the same
handler, under the same local runtime) with faults switched on by environment variables, and
checks at LocalStack's /_aws/ses that every recipient got exactly one email.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.services import LOCAL_SERVICE_SETTINGS
from ems_sender.limiter.limiter import tuning_from
from ems_sender.limiter.logic import burst_size
from ems_sender.limiter.settings import LimiterSettings
from tests.e2e.test_sender import _create, _sent_to
from tests.e2e.waiting import eventually

# The stack's senders off: each test runs the senders it needs, with their faults.
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("senders_stopped")]

RECIPIENTS = 200


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = "templates/faults.html"
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket,
        Key=key,
        Body=b"<html><head><title>Hi {{name}}</title></head><body>{{code}}</body></html>",
    )
    return f"s3://{settings.assets_bucket}/{key}"


def _sender(**env: str) -> subprocess.Popen[bytes]:
    """A campaign sender process; claims and redeliveries fast, so that faults heal quickly."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "ems_devstack.runtime", "sqs",
            "--handler", "ems_sender.handlers.send:campaign_handler",
            "--queue-url-env", "EMS_SEND_QUEUE_URL", "--visibility-timeout", "5",
        ],
        env={
            **os.environ,
            # The same limiter settings as the local senders: they share one limiter.
            **LOCAL_SERVICE_SETTINGS,
            "EMS_CLAIM_SECONDS": "10",
            "EMS_REQUEUE_BUSY_AFTER_SECONDS": "5",
            **env,
        },
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _launched(api: httpx.Client) -> tuple[str, set[str]]:
    created = _create(api, os.environ["EMS_TEMPLATE_URI"], recipients=RECIPIENTS, seconds_ahead=2)

    def sending() -> bool:
        return bool(api.get(f"/campaigns/{created['campaign_id']}").json()["status"] == "SENDING")

    eventually(sending, deadline_s=60, what="the campaign launched")
    return created["campaign_id"], {s["template_name"] for s in created["segments"]}


def _all_sent(localstack_url: str, templates: set[str]) -> Counter[str]:
    def probe() -> Counter[str] | None:
        counts = _sent_to(localstack_url, templates)
        return counts if len(counts) >= RECIPIENTS else None

    # Generous: every third SES call fails, and each failure costs its batch a 2-5 s backoff.
    return eventually(probe, deadline_s=360, what=f"{RECIPIENTS} recipients served", interval_s=2)


@pytest.fixture
def template_env(template_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_TEMPLATE_URI", template_uri)


def test_ses_throttling_and_5xx_lose_nothing_and_duplicate_nothing(
    api: httpx.Client, localstack_url: str, template_env: Any
) -> None:
    # Given two senders whose SES answers a third of the calls with throttling or a 503
    senders = [_sender(EMS_FAULT_SES_THROTTLE="0.2", EMS_FAULT_SES_5XX="0.1") for _ in range(2)]
    try:
        _, templates = _launched(api)
        # Then everyone still gets exactly one email
        sent = _all_sent(localstack_url, templates)
        time.sleep(3)  # and nothing more arrives afterwards
        sent = _sent_to(localstack_url, templates)
    finally:
        for sender in senders:
            _stop(sender)
    assert len(sent) == RECIPIENTS
    assert max(sent.values()) == 1


def _one_call() -> int:
    """The most emails one SendBulkEmail call carries on the local stack."""
    settings = LimiterSettings.model_validate({})
    return burst_size(
        float(LOCAL_SERVICE_SETTINGS["EMS_SEND_RATE_OVERRIDE"]), tuning_from(settings)
    )


@pytest.mark.parametrize(
    ("crash", "most_duplicates"),
    [
        # Killed after claiming its second batch, before calling SES: nothing lost, nothing twice.
        ("sender.after_claim:2", lambda: 0),
        # Killed after SES accepted a call, before recording it: the documented window
        # (docs/sending.md). Once the claim expires the call's emails are recorded sent without
        # a second email if the tracker applied their Send events by then (`recovered`), else
        # sent again (`reclaimed`): at most one call's emails twice.
        ("sender.after_send:3", _one_call),
    ],
)
def test_a_sender_killed_mid_batch(
    api: httpx.Client,
    localstack_url: str,
    template_env: Any,
    crash: str,
    most_duplicates: Callable[[], int],
) -> None:
    # One message at a time: the crash point is the one place the process is.
    doomed = _sender(EMS_FAULTS=crash, EMS_SEND_THREADS="1")
    try:
        _, templates = _launched(api)
        assert doomed.wait(60) == 137, "the sender did not reach its crash point"
        healthy = _sender()
        try:
            sent = _all_sent(localstack_url, templates)
            time.sleep(3)
            sent = _sent_to(localstack_url, templates)
        finally:
            _stop(healthy)
    finally:
        _stop(doomed)
    assert len(sent) == RECIPIENTS
    assert sum(sent.values()) - len(sent) <= most_duplicates()
