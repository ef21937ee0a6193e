"""A 20,000-recipient campaign through the whole local stack: launcher, senders in
SendBulkEmail calls at the shared rate, SES events through the tracker, COMPLETED with every
Delivery counted; LocalStack's /_aws/ses shows each accepted recipient got exactly one email.

The rate it reached is printed (`make bench` reports it against its goal, from the same kind
of run: bench/campaign_bench.py); the test asserts what a user checks, not a speed.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from tests.e2e.test_sender import _create, _sent_to, template_uri  # noqa: F401 - a fixture
from tests.e2e.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

RECIPIENTS = 20_000


def test_a_20000_recipient_campaign_sends_each_recipient_exactly_one_email(
    api: httpx.Client,
    template_uri: str,  # noqa: F811 - the fixture
    localstack_url: str,
) -> None:
    # Given a campaign of 20,000 recipients, due in a few seconds
    created = _create(api, template_uri, RECIPIENTS, seconds_ahead=10)
    campaign_id = created["campaign_id"]
    accepted = created["recipients"]["accepted"]
    assert accepted == RECIPIENTS
    templates = {segment["template_name"] for segment in created["segments"]}
    due = datetime.fromisoformat(created["date"]).timestamp()

    # When it is sent, it is COMPLETED with every email delivered and counted
    def completed() -> dict[str, int] | None:
        status = api.get(f"/campaigns/{campaign_id}").json()["status"]
        assert status in {"SCHEDULED", "LAUNCHING", "SENDING", "COMPLETED"}, status
        if status != "COMPLETED":
            return None
        metrics: dict[str, int] = api.get(f"/campaigns/{campaign_id}/metrics").json()
        return metrics

    metrics = eventually(completed, deadline_s=1500, what="COMPLETED", interval_s=2)
    seconds = time.time() - due
    rate = accepted / seconds
    print(f"\n{accepted:,} emails, due to COMPLETED: {seconds:.0f} s, {rate:.0f} emails/s")
    assert (metrics["sent"], metrics["delivered"], metrics["finished"]) == (accepted,) * 3
    assert (metrics["failed"], metrics["ambiguous"]) == (0, 0)

    # Then SES took exactly one email for each accepted recipient
    sent = _sent_to(localstack_url, templates)
    assert len(sent) == accepted
    assert max(sent.values()) == 1
