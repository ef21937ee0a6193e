"""The limiter at AWS-scale rates, computed from its own model (`ems_sender.limiter.logic`).

The local stack measures the limiter at the rates LocalStack sustains; what it does at
R = 100, 300 and 1,000 emails/s follows from the same functions the senders run, at the
default settings: the stripes K, the emails a SendBulkEmail call may carry k, the grid's rate
(R less the room bursts need, and the pacing tolerance), and one limiter write per block of
slots. A write's capacity units are the measured ones (the limiter item is the same size at
any rate); the senders' Lambda time assumes `sender_max_concurrency` senders running the whole
time, each billed while it waits for its slots (at R = 100 two senders are more than the rate
needs, but two is the least an SQS event source mapping runs).
"""

from __future__ import annotations

from typing import Final

from bench.cost import GOAL_SENDER_GB_SECONDS_PER_EMAIL, LambdaSizing, gb_seconds
from bench.requests_bench import SenderFigures
from ems_sender.limiter.limiter import tuning_from
from ems_sender.limiter.logic import block_size, burst_size, grid_spacing_us, stripe_count
from ems_sender.limiter.settings import LimiterSettings

AWS_RATES: Final = (100.0, 300.0, 1000.0)
MICROS: Final = 1_000_000

type Row = tuple[str, str, str, bool | None]


def limiter_rows(sender: SenderFigures, sizing: LambdaSizing) -> list[Row]:
    """One row per AWS rate: K, k, grid / R, limiter writes and WCU per email, sender GB-s."""
    tuning = tuning_from(LimiterSettings.model_validate({}))
    limiter = sender.dynamodb(limiter=True)
    units_per_write = limiter.write_units / limiter.calls if limiter.calls else 1.0
    rows: list[Row] = []
    for rate in AWS_RATES:
        stripes, burst = stripe_count(rate, tuning), burst_size(rate, tuning)
        grid = MICROS / grid_spacing_us(rate, tuning)
        writes = 1 / block_size(rate, tuning)
        senders = sizing.sender_max_concurrency
        lambda_gb_s = senders * gb_seconds(1 / grid, sizing.sender_memory_mb)
        rows.append(
            (
                f"Limiter at R = {rate:,.0f}/s (computed): stripes; emails a call; grid / R;"
                f" limiter writes (WCU) per email; sender GB-s per email, {senders} senders",
                f"{stripes}; {burst}; {grid / rate:.3f};"
                f" {writes:.4f} ({writes * units_per_write:.4f}); {lambda_gb_s:.5f}",
                f"grid >= 0.95 R (GB-s: reference, goal {GOAL_SENDER_GB_SECONDS_PER_EMAIL:g})",
                grid / rate >= 0.95,
            )
        )
    return rows
