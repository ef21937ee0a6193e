"""A campaign's counters, counted again from its email records (plain Python, no AWS).

The tracker writes each event to its email's record first and adds a batch's counters after
(docs/tracking.md): a tracker stopped in between leaves events on the records that no counter
took. The records are the truth the counters summarise, so the reconciler counts them again
and corrects the counters (`ems_launcher.reconciler`). Each counter's rule here is the one by
which the tracker and the sender move it, read off the record they leave.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ems_common.emails import (
    BOUNCE_TYPE,
    BOUNCED_AT,
    CLICKED_AT,
    CLICKS,
    COMPLAINED_AT,
    DELAYED_AT,
    DELIVERED_AT,
    FINISHED_AT,
    HARD_BOUNCE,
    OPENED_AT,
    OPENS,
    REJECTED_AT,
    RENDERING_FAILED_AT,
    SEGMENT_ID,
    SENT_AT,
    STATE,
    UNSUBSCRIBED_AT,
    EmailRecord,
    EmailState,
)
from ems_common.metrics import Metric

RECOUNTED: Final = frozenset(Metric) - {Metric.UNCONFIRMED}
"""What the records tell: every counter but `unconfirmed`, which only the reconciler's settling
moves (counted on no record)."""

# A counter per email that has this field, or is in this sender's state.
_FIELDS: Final = (
    (Metric.SENT, SENT_AT),
    (Metric.DELIVERED, DELIVERED_AT),
    (Metric.COMPLAINED, COMPLAINED_AT),
    (Metric.REJECTED, REJECTED_AT),
    (Metric.OPENED_UNIQUE, OPENED_AT),
    (Metric.CLICKED_UNIQUE, CLICKED_AT),
    (Metric.RENDERING_FAILURES, RENDERING_FAILED_AT),
    (Metric.DELIVERY_DELAYS, DELAYED_AT),
    (Metric.UNSUBSCRIBED, UNSUBSCRIBED_AT),
    (Metric.FINISHED, FINISHED_AT),
)
_STATES: Final = {
    EmailState.FAILED: Metric.FAILED,
    EmailState.SUPPRESSED: Metric.SUPPRESSED,
    EmailState.AMBIGUOUS: Metric.AMBIGUOUS,
}

RECORD_FIELDS: Final = (
    *(name for _, name in _FIELDS),
    SEGMENT_ID,
    STATE,
    BOUNCED_AT,
    BOUNCE_TYPE,
    OPENS,
    CLICKS,
)
"""The record's attributes a recount reads (a query may read only these)."""


def count_records(
    records: Iterable[EmailRecord | Mapping[str, Any]],
    into: dict[str | None, Counter[Metric]] | None = None,
) -> dict[str | None, Counter[Metric]]:
    """Each segment's counters (by the records' `segment_id`; None: no segment) as `records`
    say, added to `into` if given (to count a campaign page by page). Every counter of
    `RECOUNTED` is in each segment's Counter, 0 included."""
    counts = {} if into is None else into
    for raw in records:
        record = EmailRecord.of(raw)
        segment = counts.get(record.segment_id)
        if segment is None:
            segment = counts[record.segment_id] = Counter(dict.fromkeys(RECOUNTED, 0))
        for metric, name in _FIELDS:
            if record.has(name):
                segment[metric] += 1
        if record.bounced_at is not None:
            hard = record.bounce_type == HARD_BOUNCE
            segment[Metric.BOUNCED_HARD if hard else Metric.BOUNCED_SOFT] += 1
        segment[Metric.OPENED_TOTAL] += record.opens
        segment[Metric.CLICKED_TOTAL] += record.clicks
        state_metric = _STATES.get(record.state) if record.state is not None else None
        if state_metric is not None:
            segment[state_metric] += 1
    return counts
