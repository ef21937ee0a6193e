"""The rates the API shows next to a campaign's or a template's counters (plain Python)."""

from ems_common.metrics import Metric


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
