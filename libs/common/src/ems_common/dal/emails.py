"""The emails table's key: one record per (campaign or request, recipient) (`ems_common.emails`).

The sender writes the record (claim, outcome), the tracker adds what SES's events say, the API
reads it; all three address it through this key.
"""

from dataclasses import dataclass
from typing import Any, Final

from ems_common import keys
from ems_common.dal.items import to_item

# Sort keys of the sender's send-batch records, in a campaign's partition of the emails table
# beside its recipients' records (an address never starts with "#batch#").
BATCH_SORT_KEY_PREFIX: Final = "#batch#"


def batch_sort_key(part: int, first_line: int) -> str:
    """The sort key of the send-batch record of the launcher's batch (part, first line)."""
    return f"{BATCH_SORT_KEY_PREFIX}{part:05d}#{first_line:08d}"


def is_batch_sort_key(sort_key: str) -> bool:
    """Whether an emails-table sort key is a send-batch record's (not a recipient's)."""
    return sort_key.startswith(BATCH_SORT_KEY_PREFIX)


def events_partition(scope: str, recipient: str) -> str:
    """The events table partition holding one email's raw events (one query lists them)."""
    return f"{scope}#{recipient.lower()}"


@dataclass(frozen=True)
class EmailKey:
    """One email: the campaign (or transactional request) and the recipient."""

    scope: str
    recipient: str

    def item_key(self) -> dict[str, Any]:
        """The DynamoDB key (recipients lower-cased: one record whatever the capitals)."""
        return to_item({keys.PARTITION_KEY: self.scope, keys.SORT_KEY: self.recipient.lower()})

    @property
    def events_partition(self) -> str:
        """Where this email's raw events are kept in the events table."""
        return events_partition(self.scope, self.recipient)
