"""`make demo` against the running local stack, with a small campaign: what its user sees.

It must exit 0, every sendable recipient must get exactly one email (read at LocalStack's
/_aws/ses), and the metrics table it prints must add up.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from demo.run import SEGMENTS, main, plan_campaign, rejected_counts
from ems_devstack.stack import LocalStackStack
from tests.e2e.test_sender import _outbox

pytestmark = pytest.mark.e2e

RECIPIENTS = 150
DEADLINE_S = 90


def _table_total(output: str, label: str) -> int:
    """The Total column of the metrics table's row `label` (the first number after it)."""
    match = re.search(rf"^{re.escape(label)}\s+([\d,]+)", output, re.MULTILINE)
    assert match is not None, f"no {label!r} row in:\n{output}"
    return int(match.group(1).replace(",", ""))


def test_the_demo_sends_each_sendable_recipient_one_email_and_says_so(
    local_stack: LocalStackStack,
    api: httpx.Client,
    localstack_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the running stack and a campaign id of our own
    campaign_id = f"demo-e2e-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()

    # When the demo runs with a small campaign
    code = main(["--recipients", str(RECIPIENTS), "--campaign-id", campaign_id])
    output = capsys.readouterr().out

    # Then it succeeds, in time
    assert code == 0, output
    assert time.monotonic() - started < DEADLINE_S, output
    headline = f"Campaign {campaign_id}  COMPLETED"
    assert headline in output
    # ending with the console's page of the campaign
    last = output.strip().splitlines()[-1]
    assert last.startswith(f"Console: {os.environ['EMS_API_URL']}/console/campaigns/{campaign_id}")

    # And every sendable recipient got exactly one email of this campaign
    plan = plan_campaign(
        RECIPIENTS,
        campaign_id=campaign_id,
        date=datetime.now(UTC),
        template_uris={spec.template_file: "s3://unused/x.html" for spec in SEGMENTS},
    )
    campaign = api.get(f"/campaigns/{campaign_id}").json()
    templates = {segment["template_name"] for segment in campaign["segments"]}
    received = Counter(
        address.lower()
        for message in _outbox(localstack_url)
        if message.get("Template") in templates
        for address in message["Destination"]["ToAddresses"]
    )
    assert received == Counter(plan.sendable)

    # And the printed metrics table's totals match
    table = output[output.index(headline) : output.index("Rejected recipients:")]
    sendable = len(plan.sendable)
    for label in ("Recipients", "Sent", "Delivered", "Finished"):
        assert _table_total(table, label) == sendable, label
    for label in ("Failed", "Suppressed", "Bounced"):
        assert _table_total(table, label) == 0, label

    # And the rejected recipients are summed up by reason, as planned
    reasons = ", ".join(
        f"{n} {reason}" for reason, n in sorted(rejected_counts(RECIPIENTS).items())
    )
    assert f"Rejected recipients: {RECIPIENTS - sendable} of {RECIPIENTS} ({reasons})" in output
    assert "the demo planned" not in output

    # And the transactional emails were delivered, the bulk's two rejections shown
    transactional = [line for line in output.splitlines() if line.lstrip().startswith("tx-")]
    assert len(transactional) == 5, output
    assert all("DELIVERED" in line for line in transactional), output
    assert re.search(r"not-an-address\s+invalid_address", output)
    assert re.search(r"bounced\.demo@example\.org\s+suppressed", output)

    # And it says where to look next
    assert f"ems campaign metrics {campaign_id}" in output
    assert "make down" in output
