"""Once per recipient, a batch at a time: one record per launcher batch (50 emails), claimed
before its SES calls and updated after each, with conditional writes.

The record sits in the campaign's partition of the emails table (`batch_sort_key`): its owner
and claim time, how often it was claimed, and one character per email of the batch saying
where that email is (`LineState`). The launcher packs a campaign file the same way every time,
so a batch's (part, first line) names the same emails whichever message carries them.

A claim is a conditional write that takes the record if nobody holds it (or the holder's claim
ran out) and answers the record as it was: a second worker, or the same message delivered
twice, finds it held (`BUSY`) or its emails done. The holder writes the new states on the
condition that it still holds the record: at once for outcomes no SES event will report
(failed, suppressed, ambiguous: in the same transaction with their recipients' records and
the campaign's counters, so they are counted once), and for sent emails with its last write,
which gives the claim back. The window that remains: a holder that dies after SES accepted a
call and before that write. The next holder
finds those emails still pending; it sends again only those of them whose recipients' records
show no SES event (`seen`): SES's Send event arrives within seconds, the claim runs out after
minutes (docs/sending.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common import keys
from ems_common.campaigns import utc_iso, utc_now
from ems_common.dal.emails import EmailKey, batch_sort_key
from ems_common.dal.items import batch_get, from_item, to_item, update_expression
from ems_common.dal.metrics import CampaignMetrics
from ems_common.emails import (
    BOUNCED_AT,
    COMPLAINED_AT,
    COMPLETED_AT,
    DELIVERED_AT,
    EXPIRES_AT,
    FINAL_STATES,
    FINISHED_AT,
    REASON,
    REJECTED_AT,
    RENDERING_FAILED_AT,
    SEGMENT_ID,
    SENT_AT,
    STATE,
    EmailState,
)
from ems_common.metrics import Metric

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CONDITION_FAILED: Final = "ConditionalCheckFailedException"
_CANCELLED: Final = "TransactionCanceledException"
# What the record's attributes are called (its key is the emails table's).
OWNER: Final = "owner"
CLAIM_UNTIL: Final = "claim_until"
CLAIMS: Final = "claims"
LINES: Final = "lines"
# A recipient's record with any of these was seen by SES: SES took the email.
_SEEN_FIELDS: Final = (
    SENT_AT,
    DELIVERED_AT,
    BOUNCED_AT,
    COMPLAINED_AT,
    REJECTED_AT,
    RENDERING_FAILED_AT,
)


class LineState(StrEnum):
    """Where one email of a batch is (one character of the record's `lines`)."""

    PENDING = "."
    SENT = "S"  # SES accepted it
    RECOVERED = "R"  # a holder that died had it sent: its SES events say so
    FAILED = "F"
    SUPPRESSED = "X"
    AMBIGUOUS = "A"  # SES's answer was lost: never sent again
    DROPPED = "D"  # its campaign was cancelled

    @property
    def done(self) -> bool:
        """Whether nothing more is to be done for the email."""
        return self is not LineState.PENDING


# The outcomes the sender counts (no SES event reports them), and whether they finish the email.
COUNTED: Final = {
    LineState.FAILED: (EmailState.FAILED, Metric.FAILED, True),
    LineState.SUPPRESSED: (EmailState.SUPPRESSED, Metric.SUPPRESSED, True),
    LineState.AMBIGUOUS: (EmailState.AMBIGUOUS, Metric.AMBIGUOUS, False),
}


class ClaimOutcome(StrEnum):
    """What a claim found."""

    CLAIMED = "claimed"
    RECLAIMED = "reclaimed"  # its last holder's claim ran out: it may have sent some
    BUSY = "busy"  # another worker holds it
    MISMATCHED = "mismatched"  # its record has another number of emails: not the launcher's batch


@dataclass(frozen=True)
class BatchKey:
    """One launcher batch of a campaign."""

    campaign_id: str
    part: int
    first_line: int

    def item_key(self) -> dict[str, Any]:
        """The record's DynamoDB key."""
        return to_item(
            {
                keys.PARTITION_KEY: self.campaign_id,
                keys.SORT_KEY: batch_sort_key(self.part, self.first_line),
            }
        )


@dataclass(frozen=True)
class BatchClaim:
    """A claim's answer: the outcome and the batch's line states (as found)."""

    outcome: ClaimOutcome
    lines: str

    def state(self, position: int) -> LineState:
        """The state of the email at `position` in the batch."""
        return LineState(self.lines[position])


@dataclass(frozen=True)
class FinalOutcome:
    """An outcome no SES event will report, for one recipient."""

    address: str
    segment: str
    state: LineState
    reason: str


class LostClaimError(RuntimeError):
    """Another worker holds the batch now (this one's claim ran out): stop, it carries on."""


class BatchRecords:
    """The send-batch records (emails table), and the recipients' records they touch."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        claim_seconds: int,
        ttl_days: int,
        metrics: CampaignMetrics,
    ) -> None:
        self._db = client
        self._table = table
        self._metrics = metrics
        self._claim_seconds = claim_seconds
        self._ttl_seconds = ttl_days * 86_400

    @property
    def claim_seconds(self) -> int:
        """How long a claim holds before another worker may take the batch."""
        return self._claim_seconds

    def claim(self, key: BatchKey, *, size: int, owner: str) -> BatchClaim:
        """Take the batch (of `size` emails) for `owner`, unless another holds it."""
        now = int(time.time())
        names = {
            "#owner": OWNER,
            "#until": CLAIM_UNTIL,
            "#claims": CLAIMS,
            "#lines": LINES,
            "#expires": EXPIRES_AT,
        }
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=key.item_key(),
                UpdateExpression=(
                    "SET #owner = :owner, #until = :until, #lines = if_not_exists(#lines, :blank),"
                    " #expires = if_not_exists(#expires, :expires) ADD #claims :one"
                ),
                # A record of another size is another packing's batch: its states would not
                # say which of this message's emails are done, so it is never taken for it.
                ConditionExpression=(
                    "(attribute_not_exists(#owner) OR #until < :now)"
                    " AND (attribute_not_exists(#lines) OR size(#lines) = :size)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(
                    {
                        ":owner": owner,
                        ":until": now + self._claim_seconds,
                        ":now": now,
                        ":blank": LineState.PENDING.value * size,
                        ":expires": now + self._ttl_seconds,
                        ":one": 1,
                        ":size": size,
                    }
                ),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            found: Mapping[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            held = from_item(found) or self._get(key)
            recorded = str(held.get(LINES) or "")
            if recorded and len(recorded) != size:
                return BatchClaim(ClaimOutcome.MISMATCHED, recorded)
            return BatchClaim(ClaimOutcome.BUSY, _lines(held, size))
        before = from_item(response.get("Attributes") or {})
        # A holder recorded in the record, past its time: it died (or ran out of time) mid-way.
        outcome = ClaimOutcome.RECLAIMED if before.get(OWNER) else ClaimOutcome.CLAIMED
        return BatchClaim(outcome, _lines(before, size))

    def _get(self, key: BatchKey) -> dict[str, Any]:
        item = self._db.get_item(TableName=self._table, Key=key.item_key(), ConsistentRead=True)
        return from_item(item.get("Item") or {})

    def record(
        self,
        key: BatchKey,
        *,
        owner: str,
        lines: str,
        finals: Sequence[FinalOutcome] = (),
        release: bool = False,
    ) -> bool:
        """Write the batch's line states (and `finals`: their recipients' records and the
        campaign's counters, in one transaction), while `owner` holds it; `release` gives the
        claim back with it. True if some email of `finals` finished (the campaign may be
        complete). Raises LostClaimError if another worker holds the batch now."""
        names = {"#owner": OWNER, "#lines": LINES}
        expression = "SET #lines = :lines"
        if release:
            expression += " REMOVE #owner, #until"
            names["#until"] = CLAIM_UNTIL
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": key.item_key(),
            "UpdateExpression": expression,
            "ConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({":lines": lines, ":owner": owner}),
        }
        if not finals:
            try:
                self._db.update_item(**update)
            except ClientError as error:
                if error.response["Error"]["Code"] == _CONDITION_FAILED:
                    raise LostClaimError(str(key)) from error
                raise
            return False
        steps: list[Any] = [{"Update": update}]
        steps += [{"Update": self._final_update(key.campaign_id, final)} for final in finals]
        for segment, deltas in _deltas(finals).items():
            step = self._metrics.add_step(key.campaign_id, segment, deltas)
            if step is not None:
                steps.append(step)
        try:
            self._db.transact_write_items(TransactItems=steps)
        except ClientError as error:
            if error.response["Error"]["Code"] != _CANCELLED:
                raise
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise LostClaimError(str(key)) from error
            raise
        return any(COUNTED[final.state][2] for final in finals)

    def _final_update(self, campaign_id: str, final: FinalOutcome) -> dict[str, Any]:
        state, _, finishes = COUNTED[final.state]
        at = utc_iso(utc_now())
        changes: dict[str, Any] = {
            STATE: state.value,
            SEGMENT_ID: final.segment,
            REASON: final.reason,
            COMPLETED_AT: at,
            EXPIRES_AT: int(time.time()) + self._ttl_seconds,
        }
        if finishes:
            changes[FINISHED_AT] = at
        expression, names, values = update_expression(changes)
        return {
            "TableName": self._table,
            "Key": EmailKey(campaign_id, final.address).item_key(),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def seen(self, campaign_id: str, addresses: Iterable[str]) -> set[str]:
        """Of `addresses`, those SES took an email to in this campaign: their records carry an
        SES event (or a final state the sender wrote). Lower-cased."""
        wanted = sorted({address.lower() for address in addresses})
        found: set[str] = set()
        projection = ", ".join(f"#f{i}" for i in range(len(_SEEN_FIELDS) + 2))
        names = {f"#f{i}": name for i, name in enumerate((*_SEEN_FIELDS, STATE, keys.SORT_KEY))}
        item_keys = [EmailKey(campaign_id, address).item_key() for address in wanted]
        final = {state.value for state in FINAL_STATES}
        for raw in batch_get(
            self._db,
            self._table,
            item_keys,
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
            ConsistentRead=True,
        ):
            item = from_item(raw)
            if any(item.get(name) for name in _SEEN_FIELDS) or item.get(STATE) in final:
                found.add(str(item[keys.SORT_KEY]))
        return found


def _lines(item: Mapping[str, Any], size: int) -> str:
    lines = str(item.get(LINES) or "")
    return lines if len(lines) == size else LineState.PENDING.value * size


def _deltas(finals: Sequence[FinalOutcome]) -> dict[str, dict[Metric, int]]:
    by_segment: dict[str, dict[Metric, int]] = {}
    for final in finals:
        _, metric, finishes = COUNTED[final.state]
        deltas = by_segment.setdefault(final.segment, {})
        deltas[metric] = deltas.get(metric, 0) + 1
        if finishes:
            deltas[Metric.FINISHED] = deltas.get(Metric.FINISHED, 0) + 1
    return by_segment
