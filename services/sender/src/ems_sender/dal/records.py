"""Once per recipient: a record per (campaign, recipient), claimed before the SES call and
completed after it, both with conditional writes.

A redelivered message, a message enqueued twice, or two workers holding the same email: the
claim lets exactly one of them call SES; the others see the record and skip (or, while the
claim is fresh, come back later). What remains possible: a worker that dies after SES accepted
the email and before it completed the record leaves a claim that expires; unless the tracker
has applied one of the email's SES events to the record by then (then the re-claim completes
it without sending), the email is sent again. The sender counts those re-claims (`reclaimed`,
`recovered`) so the window is visible.
"""

import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ems_common.campaigns import utc_iso, utc_now
from ems_common.dal.emails import EmailKey
from ems_common.dal.items import from_item, to_item, update_expression
from ems_common.dal.metrics import CampaignMetrics
from ems_common.emails import (
    CLAIM_OWNER,
    CLAIM_UNTIL,
    CLAIMED_AT,
    CLAIMS,
    COMPLETED_AT,
    EXPIRES_AT,
    FINAL_STATES,
    FINISHED_AT,
    REASON,
    SEGMENT_ID,
    SES_MESSAGE_ID,
    STATE,
    EmailRecord,
    EmailState,
)
from ems_common.metrics import Metric

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CONDITION_FAILED: Final = "ConditionalCheckFailedException"

# Outcomes the sender counts in the campaign's metrics: no SES event will report the first two
# (they finish the email); an ambiguous one waits for its events to finish it.
_COUNTED: Final = {
    EmailState.FAILED: (Metric.FAILED, True),
    EmailState.SUPPRESSED: (Metric.SUPPRESSED, True),
    EmailState.AMBIGUOUS: (Metric.AMBIGUOUS, False),
}


class ClaimOutcome(StrEnum):
    """What a claim found."""

    CLAIMED = "claimed"
    RECLAIMED = "reclaimed"  # an expired claim of a worker that died: maybe sent already
    # An expired claim of a worker that died after SES accepted the email: the tracker has
    # applied an SES event (Send, Delivery, ...) to the record, so it must not be sent again.
    ACCEPTED_BEFORE = "accepted_before"
    DONE = "done"  # already sent, failed or suppressed: nothing to do
    BUSY = "busy"  # another worker holds a fresh claim: try later


class EmailRecords:
    """The emails table."""

    def __init__(
        self,
        client: "DynamoDBClient",
        table: str,
        *,
        claim_seconds: int,
        ttl_days: int,
        metrics: CampaignMetrics | None = None,
    ) -> None:
        self._db = client
        self._table = table
        self._metrics = metrics
        self._claim_seconds = claim_seconds
        self._ttl_seconds = ttl_days * 86_400

    def claim(self, key: EmailKey, *, owner: str, segment: str) -> ClaimOutcome:
        """Claim the email for sending, unless it is done or freshly claimed by another."""
        now = int(time.time())
        values = {
            ":claimed": EmailState.CLAIMED.value,
            ":owner": owner,
            ":until": now + self._claim_seconds,
            ":now": now,
            ":segment": segment,
            ":expires": now + self._ttl_seconds,
            ":at": utc_iso(utc_now()),
        }
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=key.item_key(),
                UpdateExpression=(
                    "SET #state = :claimed, #owner = :owner, #until = :until, #segment = :segment,"
                    " #expires = :expires, #at = :at ADD #claims :one"
                ),
                ConditionExpression=(
                    "attribute_not_exists(#state) OR (#state = :claimed AND #until < :now)"
                ),
                ExpressionAttributeNames={
                    "#state": STATE,
                    "#owner": CLAIM_OWNER,
                    "#until": CLAIM_UNTIL,
                    "#segment": SEGMENT_ID,
                    "#expires": EXPIRES_AT,
                    "#at": CLAIMED_AT,
                    "#claims": CLAIMS,
                },
                ExpressionAttributeValues=to_item({**values, ":one": 1}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            current = self.get(key)
            if current is not None and current.state in FINAL_STATES:
                return ClaimOutcome.DONE
            return ClaimOutcome.BUSY
        record = EmailRecord.model_validate(from_item(response["Attributes"]))
        if record.accepted_by_ses:
            # A claimed record with a message id or an event's time: the tracker has applied
            # one of its SES events (the sender writes the id only with SENT, a final state).
            return ClaimOutcome.ACCEPTED_BEFORE
        return ClaimOutcome.CLAIMED if record.claims <= 1 else ClaimOutcome.RECLAIMED

    def get(self, key: EmailKey) -> EmailRecord | None:
        """The record, or None."""
        item = self._db.get_item(TableName=self._table, Key=key.item_key(), ConsistentRead=True)
        return EmailRecord.model_validate(from_item(item["Item"])) if "Item" in item else None

    def release(self, key: EmailKey, *, owner: str) -> None:
        """Give a claim back (the email was not sent: it will be tried again)."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=key.item_key(),
                ConditionExpression="#state = :claimed AND #owner = :owner",
                ExpressionAttributeNames={"#state": STATE, "#owner": CLAIM_OWNER},
                ExpressionAttributeValues=to_item(
                    {":claimed": EmailState.CLAIMED.value, ":owner": owner}
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise

    def complete(
        self,
        key: EmailKey,
        state: EmailState,
        *,
        segment: str,
        ses_message_id: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Record the outcome (SENT with its SES message id, FAILED with a reason, ...).

        FAILED, SUPPRESSED and AMBIGUOUS also count in the campaign's metrics, in the same
        transaction; True when that made the email's final state known (the campaign may be
        complete).
        """
        now = int(time.time())
        changes: dict[str, Any] = {
            STATE: state.value,
            SEGMENT_ID: segment,
            COMPLETED_AT: utc_iso(utc_now()),
            EXPIRES_AT: now + self._ttl_seconds,
        }
        if ses_message_id is not None:
            changes[SES_MESSAGE_ID] = ses_message_id
        if reason is not None:
            changes[REASON] = reason
        counted = _COUNTED.get(state) if self._metrics is not None else None
        finishes = counted is not None and counted[1]
        if finishes:
            changes[FINISHED_AT] = changes[COMPLETED_AT]
        expression, names, values = update_expression(changes)
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": key.item_key(),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if counted is None or self._metrics is None:
            self._db.update_item(**update)
            return False
        metric = counted[0]
        if finishes:
            # Counted with the record, once: the first completion sets finished_at.
            update["ConditionExpression"] = "attribute_not_exists(#finished)"
            names["#finished"] = FINISHED_AT
            deltas = {metric: 1, Metric.FINISHED: 1}
        else:
            # Counted once: only the claim it came from can become it.
            update["ConditionExpression"] = "#prior = :claimed"
            names["#prior"] = STATE
            values.update(to_item({":claimed": EmailState.CLAIMED.value}))
            deltas = {metric: 1}
        steps: list[Any] = [
            {"Update": update},
            self._metrics.add_step(key.scope, segment, deltas),
        ]
        try:
            self._db.transact_write_items(TransactItems=steps)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False  # completed before (a redelivery): counted then
        return finishes
