"""The counters kept per campaign and segment (and per transactional template and day).

The sender counts what no SES event will report (failed, suppressed), the tracker what the
events say; `ems_common.dal.metrics` stores them, the API reads them (and derives the rates:
`ems_scheduler.tracking.rates`).
"""

from enum import StrEnum


class Metric(StrEnum):
    """One counter (an attribute of the metrics item)."""

    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED_HARD = "bounced_hard"
    BOUNCED_SOFT = "bounced_soft"
    COMPLAINED = "complained"
    REJECTED = "rejected"
    OPENED_UNIQUE = "opened_unique"
    OPENED_TOTAL = "opened_total"
    CLICKED_UNIQUE = "clicked_unique"
    CLICKED_TOTAL = "clicked_total"
    RENDERING_FAILURES = "rendering_failures"
    DELIVERY_DELAYS = "delivery_delays"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"  # refused by SES for good at the send call (the sender counts it)
    SUPPRESSED = "suppressed"  # skipped, on the suppression list (the sender counts it)
    FINISHED = "finished"  # emails that reached a final sending state
    # SES's answer to the send call was lost (a read timeout after the request left): sent or
    # not is unknown until its events come. Never sent again (the sender counts it).
    AMBIGUOUS = "ambiguous"
    # Emails the reconciler settled without a final outcome: no delivery or bounce report came
    # in time, or they are held on a dead-letter queue (counted in finished too).
    UNCONFIRMED = "unconfirmed"


# What the reputation brake judges (`ems_tracker.brake`); a resumed campaign keeps their values at
# its resume (`Campaign.brake_baseline`), and the brake judges what came since.
BRAKE_COUNTERS = (Metric.SENT, Metric.BOUNCED_HARD, Metric.COMPLAINED)
