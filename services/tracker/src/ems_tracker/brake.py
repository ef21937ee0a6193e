"""The reputation brake: a campaign pauses itself before SES pauses the whole account.

SES reviews an account whose bounce rate reaches 5 % or whose complaint rate reaches 0.1 %
(and may pause it at higher rates), which stops every email, receipts included. A campaign
that crosses either rate on its own numbers, after enough of them to mean something, is
paused with the reason, and an alarm goes off; an operator resumes or cancels it
(docs/tracking.md). Plain Python: the tracker applies it after each batch of events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ems_common.metrics import BRAKE_COUNTERS, Metric


@dataclass(frozen=True)
class BrakeLimits:
    """When a campaign pauses itself (per environment: EMS_BRAKE_*)."""

    hard_bounce_rate: float = 0.05
    complaint_rate: float = 0.001
    min_sent: int = 500  # below this, a rate says too little


def brake_reason(
    counts: Mapping[str, int],
    limits: BrakeLimits,
    baseline: Mapping[str, int] | None = None,
) -> str | None:
    """Why the campaign with these counters must pause, or None if it may go on. A resumed
    campaign is judged on what came since its resume (`baseline`: the counters then)."""
    if baseline:
        counts = {m.value: int(counts.get(m.value, 0)) - int(baseline.get(m.value, 0))
                  for m in BRAKE_COUNTERS}  # fmt: skip
    sent = int(counts.get(Metric.SENT.value, 0))
    if sent < limits.min_sent:
        return None
    bounced = int(counts.get(Metric.BOUNCED_HARD.value, 0))
    complained = int(counts.get(Metric.COMPLAINED.value, 0))
    found = []
    if bounced / sent >= limits.hard_bounce_rate:
        found.append(
            f"hard-bounce rate {bounced / sent:.1%} ({bounced} of {sent} sent) reached the"
            f" limit of {limits.hard_bounce_rate:.1%}"
        )
    if complained / sent >= limits.complaint_rate:
        found.append(
            f"complaint rate {complained / sent:.2%} ({complained} of {sent} sent) reached the"
            f" limit of {limits.complaint_rate:.2%}"
        )
    if not found:
        return None
    since = " since its last resume" if baseline else ""
    return (
        "; ".join(found).capitalize()
        + since
        + ". Paused before SES reviews the account: check where the list came from (old or"
        " bought addresses bounce; unexpected mail is reported as spam), then resume or cancel"
    )
