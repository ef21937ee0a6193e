"""Campaign metrics: one counter item per (campaign, segment) in the campaigns table.

Counters move by `ADD`: the sender's FAILED/SUPPRESSED and an unsubscribe link's count in the
same transaction as the email's record; the tracker adds up a batch of events' changes and
writes one `ADD` per item after it has written the events' records (docs/tracking.md, "The
crash window"). The reconciler's recount sets them to what the records say, only if they did
not move meanwhile (`correct`). A campaign's numbers are its segments' items summed: one
query, and no single hot item for every event of a large campaign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.campaigns import Campaign, CampaignStatus, utc_iso, utc_now
from ems_common.dal.campaigns import CampaignRepository, StatusConflictError
from ems_common.dal.items import from_item, to_item, update_expression
from ems_common.metrics import Metric
from ems_common.transactional import is_transactional_scope, metrics_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

METRICS_SK_PREFIX: Final = "METRICS#"
# Emails that carry no segment (transactional sends) are counted under this one.
NO_SEGMENT: Final = "-"


def metrics_key(scope: str, segment: str | None) -> dict[str, Any]:
    """The DynamoDB key of the metrics item an email of ``scope`` and ``segment`` counts in.

    A campaign's segment item; for a transactional email, its template's item of the day
    (``ems_common.transactional.metrics_partition``).
    """
    partition, item_segment = metrics_partition(scope, segment)
    return to_item(
        {
            keys.PARTITION_KEY: partition,
            keys.SORT_KEY: f"{METRICS_SK_PREFIX}{item_segment or NO_SEGMENT}",
        }
    )


class TransactionCancelledError(RuntimeError):
    """A condition of the transaction did not hold: nothing of it was written."""


@dataclass
class CampaignNumbers:
    """A campaign's counters, in total and per segment."""

    total: Counter[str] = field(default_factory=Counter)
    segments: dict[str, Counter[str]] = field(default_factory=dict)


class CampaignMetrics:
    """Reads the metrics items, and builds the transaction step that adds to one."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add_step(
        self, campaign_id: str, segment: str | None, deltas: Mapping[Metric, int]
    ) -> dict[str, Any] | None:
        """A TransactWriteItems `Update` adding `deltas` (None when there is nothing to add)."""
        moved = {metric: n for metric, n in deltas.items() if n}
        if not moved:
            return None
        expression, names, values = update_expression({}, {m.value: n for m, n in moved.items()})
        return {
            "Update": {
                "TableName": self._table,
                "Key": metrics_key(campaign_id, segment),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def add(self, campaign_id: str, segment: str | None, deltas: Mapping[Metric, int]) -> bool:
        """Add `deltas` to one metrics item at once (no transaction); False if all were 0."""
        step = self.add_step(campaign_id, segment, deltas)
        if step is None:
            return False
        self._db.update_item(**step["Update"])
        return True

    def correct(
        self,
        campaign_id: str,
        segment: str,
        *,
        stored: Mapping[str, int],
        counted: Mapping[Metric, int],
    ) -> bool:
        """Set one segment's counters to `counted`, only if the item still holds exactly
        `stored` (as `read` gave it: absent counters absent); False if it moved meanwhile.

        Counters not in `counted` are left as they are (but still checked).
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        conditions: list[str] = []
        for i, metric in enumerate(Metric):
            names[f"#m{i}"] = metric.value
            if metric.value in stored:
                values[f":was{i}"] = int(stored[metric.value])
                conditions.append(f"#m{i} = :was{i}")
            else:
                conditions.append(f"attribute_not_exists(#m{i})")
        sets = []
        for i, metric in enumerate(Metric):
            if metric in counted:
                values[f":now{i}"] = int(counted[metric])
                sets.append(f"#m{i} = :now{i}")
        if not sets:
            return True
        try:
            self._db.update_item(
                TableName=self._table,
                Key=metrics_key(campaign_id, segment),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def transact(self, steps: list[Any]) -> None:
        """Write `steps` in one transaction (TransactionCancelledError if a condition fails)."""
        try:
            self._db.transact_write_items(TransactItems=steps)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise TransactionCancelledError(str(error)) from error
            raise

    def read(self, campaign_id: str) -> CampaignNumbers:
        """Every segment's counters and their sum (one strongly consistent query).

        ``campaign_id`` is a metrics partition: a campaign id, or ``template#<name>`` for a
        transactional template (whose segments are days).
        """
        numbers = CampaignNumbers()
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": keys.PARTITION_KEY, "#sk": keys.SORT_KEY},
            ExpressionAttributeValues=to_item({":pk": campaign_id, ":prefix": METRICS_SK_PREFIX}),
            ConsistentRead=True,
        ):
            for raw in page.get("Items", []):
                item = from_item(raw)
                segment = str(item[keys.SORT_KEY]).removeprefix(METRICS_SK_PREFIX)
                counts: Counter[str] = Counter(
                    {m.value: int(item[m.value]) for m in Metric if m.value in item}
                )
                numbers.segments[segment] = counts
                numbers.total.update(counts)
        return numbers


def complete_if_finished(
    campaigns: CampaignRepository, metrics: CampaignMetrics, campaign_id: str
) -> bool:
    """Mark a SENDING campaign COMPLETED once every accepted email reached a final state.

    Called after a write that finished emails of the campaign; True if this call completed it.
    A transactional email's scope is no campaign: nothing to complete, nothing read.
    """
    if is_transactional_scope(campaign_id):
        return False
    campaign = campaigns.get(campaign_id)
    if campaign is None or campaign.status is not CampaignStatus.SENDING:
        return False
    expected = campaign.recipients.accepted
    if expected == 0:
        return False  # not a compiled campaign (nothing says how many emails to wait for)
    if metrics.read(campaign_id).total[Metric.FINISHED.value] < expected:
        return False
    try:
        campaigns.transition(
            campaign_id,
            expected=[CampaignStatus.SENDING],
            to=CampaignStatus.COMPLETED,
            action="complete",
            changes={"completed_at": utc_iso(utc_now())},
        )
    except StatusConflictError:
        return False  # another worker completed it (or it was cancelled) meanwhile
    return True


def settle_unfinished(
    campaigns: CampaignRepository,
    metrics: CampaignMetrics,
    campaign: Campaign,
    numbers: CampaignNumbers,
    note: str,
) -> int:
    """Complete a SENDING campaign whose last emails will not finish: count each segment's
    unfinished emails `unconfirmed` (and finished), and move the campaign to COMPLETED with
    `note`, all in one transaction (a second reconciler's attempt changes nothing). Returns how
    many emails were settled (0 if another worker completed it meanwhile)."""
    steps: list[Any] = []
    settled = 0
    for segment in campaign.segments:
        done = numbers.segments.get(segment.list_name, Counter())[Metric.FINISHED.value]
        left = max(0, segment.accepted - done)
        if left:
            settled += left
            step = metrics.add_step(
                campaign.campaign_id,
                segment.list_name,
                {Metric.UNCONFIRMED: left, Metric.FINISHED: left},
            )
            if step is not None:
                steps.append(step)
    steps.append(
        {
            "Update": campaigns.transition_step(
                campaign.campaign_id,
                expected=[CampaignStatus.SENDING],
                to=CampaignStatus.COMPLETED,
                changes={"completed_at": utc_iso(utc_now()), "settled": note},
            )
        }
    )
    try:
        metrics.transact(steps)
    except TransactionCancelledError:
        return 0
    return settled
