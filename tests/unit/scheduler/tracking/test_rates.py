"""The rates the API derives from a campaign's counters."""

from ems_scheduler.tracking.rates import rates


def test_rates_are_per_sent_and_per_delivered_and_absent_before_any() -> None:
    counts = {
        "sent": 200,
        "delivered": 180,
        "bounced_hard": 10,
        "bounced_soft": 10,
        "complained": 1,
        "opened_unique": 90,
        "clicked_unique": 18,
        "finished": 200,
    }

    got = rates(counts, total=400)

    assert got == {
        "delivery_rate": 0.9,
        "bounce_rate": 0.1,
        "complaint_rate": 0.005,
        "open_rate": 0.5,
        "click_rate": 0.1,
        "progress": 0.5,
    }
    assert set(rates({}, total=0).values()) == {None}
