"""The campaigns' per-minute chart (`ems_common.timeline`), written from a batch's sums.

A per-batch writer (`Tracker.batch_writers`): after the batch's counters, one `ADD` per campaign
and minute its events happened in (`BatchSums.by_minute`). Transactional email has no chart:
its template's items and transactional scopes are left out.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from ems_common.dal.timeline import CampaignTimeline
from ems_common.transactional import TEMPLATE_PARTITION_PREFIX, is_transactional_scope
from ems_tracker.ingest import BatchSums

logger = logging.getLogger(__name__)


@dataclass
class TimelineWriter:
    """Adds a batch's counter changes to each campaign's minutes."""

    timeline: CampaignTimeline
    # The tracker's stats: a minute not written counts as `timeline_not_added`.
    stats: Counter[str] = field(default_factory=Counter)
    clock: Callable[[], float] = time.time

    def __call__(self, sums: BatchSums) -> None:
        """Write each campaign's minutes of `sums`. The timeline only draws a chart: a failed
        write is logged and counted, never retried (the counters, the numbers, are written)."""
        for (partition, minute), deltas in sorted(sums.by_minute.items()):
            if partition.startswith(TEMPLATE_PARTITION_PREFIX) or is_transactional_scope(partition):
                continue
            try:
                self.timeline.add(partition, minute, deltas, now=self.clock())
            except (ClientError, BotoCoreError) as error:
                self.stats["timeline_not_added"] += 1
                logger.warning("campaign %s: timeline not added to: %s", partition, error)
