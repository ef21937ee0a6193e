"""Benchmark: a campaign of 20,000 recipients, due to COMPLETED, on the running local stack.

    .venv/bin/python -m bench.campaign_bench [--recipients 20000]

Through the API only, with the stack's own launcher, campaign senders (SendBulkEmail calls at
the shared rate R, EMS_SEND_RATE_OVERRIDE) and tracker (SES events through Firehose, S3 and
the tracker queue): a campaign of `recipients` new addresses is POSTed due in a few seconds,
and timed from its date until it is COMPLETED with every Delivery counted (metrics: sent,
delivered and finished all equal to its recipients). LocalStack's /_aws/ses then shows whether
each recipient got exactly one email. The figure is emails per second, due to COMPLETED, on
this machine: LocalStack, DynamoDB Local and every EMS process share its cores.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig
from ems_devstack.ses_outbox import sent_emails

DEFAULT_RECIPIENTS: Final = 20_000
GOAL_EMAILS_PER_SECOND: Final = 100.0
_DUE_IN: Final = timedelta(seconds=15)  # the inline compile of 20,000 takes a few seconds
_DEADLINE_S: Final = 1800.0
_HTML: Final = (
    "<html><head><title>Bench {{name}}</title></head><body><p>Hi {{name}}, {{n}}.</p></body></html>"
)


@dataclass(frozen=True)
class CampaignFigures:
    """One large campaign's run."""

    recipients: int
    seconds: float  # its date to COMPLETED, every Delivery counted
    at_ses: int  # recipients with an email at /_aws/ses
    duplicates: int  # emails beyond one per recipient

    @property
    def emails_per_second(self) -> float:
        """Recipients per second, due to COMPLETED."""
        return self.recipients / self.seconds


def _say(message: str) -> None:
    print(f"[campaign-bench] {message}", flush=True)


def _outbox(localstack_url: str, template: str) -> Counter[str]:
    return Counter(
        address
        for message in sent_emails(localstack_url)
        if message.get("Template") == template
        for address in message["Destination"]["ToAddresses"]
    )


def measure_campaign(recipients: int = DEFAULT_RECIPIENTS) -> CampaignFigures:
    """Send one campaign on the running stack (its settings in the environment); its figures."""
    infra = InfraSettings()
    token = uuid.uuid4().hex[:8]
    key = f"templates/bench-campaign-{token}.html"
    AwsClients().client("s3").put_object(Bucket=infra.assets_bucket, Key=key, Body=_HTML.encode())
    due = datetime.now(UTC) + _DUE_IN
    request = {
        "date": due.isoformat(timespec="seconds"),
        "templateS3Uri": f"s3://{infra.assets_bucket}/{key}",
        "segments": [
            {
                "list_name": "bench",
                "recipients": [
                    {"to_address": f"c{i}-{token}@example.org", "name": f"N{i}", "n": str(i)}
                    for i in range(recipients)
                ],
            }
        ],
    }
    with httpx.Client(
        base_url=os.environ["EMS_API_URL"],
        headers={"X-Api-Key": os.environ["EMS_API_KEY"]},
        timeout=300,
    ) as api:
        created = api.post("/campaigns", json=request)
        if created.status_code != 201:
            msg = f"POST /campaigns answered {created.status_code}: {created.text[:500]}"
            raise RuntimeError(msg)
        body = created.json()
        campaign_id, template = body["campaign_id"], body["segments"][0]["template_name"]
        start = datetime.fromisoformat(body["date"]).timestamp()
        _say(f"{campaign_id}: {recipients:,} recipients, due {body['date']}")
        end = time.monotonic() + _DEADLINE_S
        last_note = 0.0
        while True:
            status = api.get(f"/campaigns/{campaign_id}").json()["status"]
            metrics = api.get(f"/campaigns/{campaign_id}/metrics").json()
            if status == "COMPLETED" and metrics["delivered"] >= recipients:
                seconds = time.time() - start
                break
            if status in {"FAILED", "CANCELLED", "REJECTED"} or time.monotonic() > end:
                msg = f"{campaign_id} is {status} (metrics {metrics}): no figure"
                raise RuntimeError(msg)
            if time.monotonic() - last_note >= 15:
                last_note = time.monotonic()
                _say(
                    f"{status}: sent {metrics['sent']:,}, delivered {metrics['delivered']:,},"
                    f" finished {metrics['finished']:,} of {recipients:,}"
                )
            time.sleep(1)
    sent = _outbox(StackConfig.from_environment().localstack_url, template)
    figures = CampaignFigures(
        recipients=recipients,
        seconds=seconds,
        at_ses=len(sent),
        duplicates=sum(sent.values()) - len(sent),
    )
    _say(
        f"COMPLETED in {figures.seconds:.0f} s: {figures.emails_per_second:.0f} emails/s;"
        f" {figures.at_ses:,} recipients at /_aws/ses, {figures.duplicates} duplicates"
    )
    return figures


def main() -> None:
    """Print the figures (the stack must be up: `make up`)."""
    from bench.launch_bench import with_stack  # noqa: PLC0415 - the stack helper, only here

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS)
    args = parser.parse_args()
    with_stack(lambda: measure_campaign(args.recipients), pause=False)


if __name__ == "__main__":
    main()
