"""The counters kept per campaign and segment (and per transactional template and day).

The sender counts what no SES event will report (failed, suppressed), the tracker what the
events say; `ems_common.dal.metrics` stores them, the API reads them.
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


def rates(counts: dict[str, int], total: int) -> dict[str, float | None]:
    """The usual rates: delivery, bounce and complaint per sent; open and click per delivered."""

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    sent = counts.get(Metric.SENT, 0)
    delivered = counts.get(Metric.DELIVERED, 0)
    bounced = counts.get(Metric.BOUNCED_HARD, 0) + counts.get(Metric.BOUNCED_SOFT, 0)
    return {
        "delivery_rate": ratio(delivered, sent),
        "bounce_rate": ratio(bounced, sent),
        "complaint_rate": ratio(counts.get(Metric.COMPLAINED, 0), sent),
        "open_rate": ratio(counts.get(Metric.OPENED_UNIQUE, 0), delivered),
        "click_rate": ratio(counts.get(Metric.CLICKED_UNIQUE, 0), delivered),
        "progress": ratio(counts.get(Metric.FINISHED, 0), total),
    }
