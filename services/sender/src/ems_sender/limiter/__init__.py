"""The sender's shared send limiter: rate, rolling 24 h quota and transactional priority.

Every sender process (several locally, many Lambdas on AWS) asks one `SendLimiter` before each
SES send; they share one DynamoDB item per limiter name in the `rate_limits_table`.

- Rate: send slots lie on one grid, spaced `(1 + tolerance) / R`, dealt in K interleaved
  stripes (K = R / what one process sends a second, `EMS_LIMITER_WORKER_SEND_RATE`). A
  worker reserves a block of its stripe's next slots (about a quarter second) with one
  conditional write, then sends on each slot when it comes due (`pace`/`take`); a send more
  than the tolerance late skips its slot. No slot is handed out twice, so no one-second
  window holds more than R sends, whichever workers hold them; no credit piles up while
  idle (no bursts); and each worker only has to keep up with R/K, so the rate scales with
  workers. The item sees a few writes a second, whatever R and the number of workers.
- Quota: the same item counts sends granted per hour; the last 25 hours are summed (erring
  high by at most an hour) against Max24HourSend x fraction, or SES's SentLast24Hours if
  higher. When it is spent, grants are empty with `QUOTA_EXHAUSTED` and the time the oldest
  hour leaves the window: the sender puts its emails back on the queue until then.
- Priority: campaign blocks reach at most `campaign_lookahead_s` ahead of now, and leave free
  slots inside them in proportion to a decaying estimate of transactional demand kept in the
  item; transactional email takes those first, then the earliest free slots of any stripe,
  ahead of any campaign block still to come. With no transactional traffic campaigns get
  the whole rate; a transactional email never waits longer than the lookahead behind
  campaign slots. Campaigns also leave a share of the daily quota to transactional email.
- Concurrency is not counted here: SES limits rate and quota, not concurrent calls. It is
  bounded where it is cheap to bound: on AWS by the send queues' event source mapping
  `maximum_concurrency` (and the function's reserved concurrency), locally by the number of
  sender processes, and within a process by its sending threads. The rate holds whatever the
  concurrency.
"""

from ems_sender.limiter.clock import Clock, SystemClock
from ems_sender.limiter.limiter import (
    LimiterStats,
    SendLimiter,
    Turns,
    build_send_limiter,
    tuning_from,
)
from ems_sender.limiter.model import Budget, DenyReason, Grant, Lane, Tuning
from ems_sender.limiter.settings import LimiterSettings

__all__ = [
    "Budget",
    "Clock",
    "DenyReason",
    "Grant",
    "Lane",
    "LimiterSettings",
    "LimiterStats",
    "SendLimiter",
    "SystemClock",
    "Tuning",
    "Turns",
    "build_send_limiter",
    "tuning_from",
]
