"""The limiter's settings, read from `EMS_*` environment variables.

Standalone (no resource names) so that it can be unit-tested alone; the sender's settings
inherit it next to `InfraSettings`, whose `rate_limits_table` names the shared table.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ems_common.settings import ENV_PREFIX


class LimiterSettings(BaseSettings):
    """How fast, how much per day, and how the shared send limiter takes its tokens."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    limiter_name: str = Field(
        default="sender",
        min_length=1,
        max_length=200,
        description=(
            "Namespace of the shared limiter item: every sender with the same name shares one"
            " rate and one daily quota (tests and benchmarks use their own)"
        ),
    )
    send_rate_override: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Emails per second, used as is instead of SES MaxSendRate (local stack, tests:"
            " LocalStack always answers 1/s)"
        ),
    )
    send_rate_cap: float | None = Field(
        default=None, gt=0, description="Upper bound on SES MaxSendRate, before the fraction"
    )
    send_rate_fraction: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description=(
            "Share of min(MaxSendRate, cap) EMS uses: leaves room for mail the account sends"
            " outside EMS"
        ),
    )
    daily_quota_override: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Emails per rolling 24 hours, used as is instead of SES Max24HourSend (local stack,"
            " tests: LocalStack always answers 200)"
        ),
    )
    daily_quota_fraction: float = Field(
        default=0.95, gt=0, le=1, description="Share of SES Max24HourSend EMS uses"
    )
    ses_quota_cache_seconds: float = Field(
        default=300, ge=0, description="How long SES's send quota (v2 GetAccount) is reused"
    )
    limiter_block_seconds: float = Field(
        default=0.25,
        ge=0.01,
        le=1,
        description=(
            "Size of a block of send slots taken from the shared item, in seconds of sending"
            " at the full rate: the item sees about 1/this successful writes a second"
        ),
    )
    limiter_campaign_lookahead_seconds: float = Field(
        default=0.25,
        ge=0.01,
        le=5,
        description=(
            "How far ahead of now campaign blocks may be reserved: the longest a transactional"
            " email can wait behind campaign slots already handed out. A quarter second keeps"
            " that wait well inside the 1 s goal (at 0.5 s it was the largest share of the"
            " transactional p50); blocks reach half as far, so the item takes twice the writes"
            " (docs/benchmarks.md counts their cost)"
        ),
    )
    limiter_pacing_tolerance_seconds: float = Field(
        default=0.02,
        ge=0.001,
        le=0.2,
        description=(
            "How late after its slot a send may still start; slots are spaced (1 + this)/rate"
            " apart so that late sends never put more than the rate into any 1 s window"
        ),
    )
    limiter_worker_send_rate: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Emails per second one sender process can send (its threads x emails a call / SES"
            " latency): the slots are dealt in ceil(rate / this) interleaved stripes, so that a"
            " process holding a block keeps up with it; set it too high and slots lapse unused."
            " With bulk calls and a few threads a Lambda sends hundreds a second: one stripe"
            " up to R = 300"
        ),
    )
    limiter_burst_fraction: float = Field(
        default=0.01,
        ge=0,
        le=0.1,
        description=(
            "Room for SendBulkEmail calls: a call carries up to this fraction of R (over the"
            " stripes) plus one email, and the grid runs that much below R so that no second"
            " holds more than R sends (0: one email a call). 1 % keeps the grid, pacing"
            " tolerance included, at 0.97 R or more, leaving room for slots that lapse"
        ),
    )
    transactional_headroom: float = Field(
        default=1.5,
        ge=1,
        description="Campaigns leave this multiple of the recent transactional demand free",
    )
    transactional_max_share: float = Field(
        default=0.5,
        ge=0,
        lt=1,
        description="Most of the rate that is held back from campaigns for transactional email",
    )
    transactional_demand_half_life_seconds: float = Field(
        default=30,
        gt=0,
        description="Half-life of the shared estimate of transactional demand",
    )
    transactional_quota_reserve_fraction: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description=(
            "Share of the daily quota campaigns may not use, so transactional email still goes"
            " out after a campaign has spent the rest"
        ),
    )

    @model_validator(mode="after")
    def _lookahead_holds_a_block(self) -> Self:
        if self.limiter_campaign_lookahead_seconds < self.limiter_block_seconds:
            msg = (
                "EMS_LIMITER_CAMPAIGN_LOOKAHEAD_SECONDS must be at least"
                " EMS_LIMITER_BLOCK_SECONDS, or a worker cannot take its next block before its"
                " current one runs out"
            )
            raise ValueError(msg)
        return self
