"""The sender's shared send limiter: rate, rolling 24 h quota and transactional priority.

Every sender process (several locally, many Lambdas on AWS) asks one `SendLimiter` before each
SES send; they share one DynamoDB item per limiter name in the `rate_limits_table`.

- Rate: the item holds one chain of send slots spaced `(1 + tolerance) / R` apart. A worker
  reserves a block of consecutive slots (a quarter of a second of the whole rate) with one
  conditional write, then sends on each slot when it comes due (`pace`/`take`); a send more
  than the tolerance late skips its slot. So no one-second window holds more than R sends,
  whichever workers hold the slots, and no credit piles up while idle (no bursts). The item
  sees about four successful writes a second whatever R and the number of workers.
- Quota: the same item counts sends granted per hour; the last 25 hours are summed (erring
  high by at most an hour) against Max24HourSend x fraction, or SES's SentLast24Hours if
  higher. When it is spent, grants are empty with `QUOTA_EXHAUSTED` and the time the oldest
  hour leaves the window: the sender puts its emails back on the queue until then.
- Priority: campaigns reserve at most `campaign_lookahead_s` ahead of now, and leave free
  slots inside their blocks in proportion to a decaying estimate of transactional demand kept
  in the item; transactional email takes those first, then the chain's next slots ahead of
  any campaign still to come. With no transactional traffic campaigns get the whole rate; a
  transactional email never waits longer than the lookahead behind campaign slots. Campaigns
  also leave a share of the daily quota unused for transactional email.
- Concurrency is not counted here: SES limits rate and quota, not concurrent calls. It is
  bounded where it is cheap to bound: on AWS by the send queues' event source mapping
  `maximum_concurrency` (and the function's reserved concurrency), locally by the number of
  sender processes, and within a process by its sending threads. The rate holds whatever the
  concurrency; a process needs enough threads to keep up with its slots
  (threads >= R x SES latency per active process), or late slots lapse unused.
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
