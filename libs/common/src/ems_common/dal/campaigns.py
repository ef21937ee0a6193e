"""Campaign records in DynamoDB: conditional writes make every state change race-safe."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError
from pydantic import ValidationError

from ems_common import keys
from ems_common.campaigns import (
    PAUSABLE,
    Campaign,
    CampaignStatus,
    LaunchCheckpoint,
    Pause,
    PausedBy,
    utc_iso,
    utc_now,
)
from ems_common.dal.items import from_item, to_item, update_expression

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

# The campaign itself; other items under the same partition (launch checkpoints) use other
# sort keys, so one campaign's data can be read and deleted together.
CAMPAIGN_SK: Final = "CAMPAIGN"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


# The changes that go with leaving VERIFYING for anything but SCHEDULED (which sets the date):
# the index time a VERIFYING campaign carries (see _to_item) must not read as a date after it.
LEAVING_VERIFYING: Final[Mapping[str, None]] = {keys.CAMPAIGN_SCHEDULED_AT: None}


class CampaignExistsError(Exception):
    """A campaign with that id is already stored."""

    def __init__(self, existing: Campaign) -> None:
        super().__init__(f"campaign {existing.campaign_id} already exists")
        self.existing = existing


class CampaignNotFoundError(LookupError):
    """No campaign with that id."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no campaign {campaign_id!r}")
        self.campaign_id = campaign_id


class StatusConflictError(Exception):
    """The campaign is not in a state that allows the change."""

    def __init__(self, campaign: Campaign, wanted: Iterable[CampaignStatus], action: str) -> None:
        allowed = ", ".join(sorted(wanted))
        super().__init__(
            f"campaign {campaign.campaign_id} is {campaign.status}: {action} needs {allowed}"
        )
        self.campaign = campaign
        self.allowed = frozenset(wanted)


def _to_item(campaign: Campaign) -> dict[str, Any]:
    values = campaign.model_dump(mode="json")
    # The index's range key: one text form, so that string order is time order. While the date
    # is unknown (VERIFYING) it holds the time verification began, so that the reconciler finds
    # a verification that never ended by the same query (`due`); the model shows no date then.
    at = campaign.scheduled_at or (
        campaign.created_at if campaign.status is CampaignStatus.VERIFYING else None
    )
    values[keys.CAMPAIGN_SCHEDULED_AT] = utc_iso(at) if at else None
    return to_item({keys.PARTITION_KEY: campaign.campaign_id, keys.SORT_KEY: CAMPAIGN_SK, **values})


def _from_item(item: Mapping[str, Any]) -> Campaign:
    values = from_item(item)
    values.pop(keys.PARTITION_KEY, None)
    values.pop(keys.SORT_KEY, None)
    if values.get(keys.CAMPAIGN_STATUS) == CampaignStatus.VERIFYING.value:
        values[keys.CAMPAIGN_SCHEDULED_AT] = None  # its index time, not a date (see _to_item)
    return Campaign.model_validate(values)


def _campaigns(items: Iterable[Mapping[str, Any]]) -> list[Campaign]:
    """Items to campaigns; one item that is not a campaign record is logged, not fatal."""
    campaigns = []
    for item in items:
        try:
            campaigns.append(_from_item(item))
        except ValidationError:
            logger.exception("skipping an item of the campaigns table that is not a campaign")
    return campaigns


class CampaignRepository:
    """Reads and writes campaign records in the campaigns table."""

    def __init__(self, client: DynamoDBClient, table: str, status_index: str) -> None:
        self._db = client
        self._table = table
        self._status_index = status_index

    def _key(self, campaign_id: str) -> dict[str, Any]:
        return to_item({keys.PARTITION_KEY: campaign_id, keys.SORT_KEY: CAMPAIGN_SK})

    def get(self, campaign_id: str) -> Campaign | None:
        """The campaign, or None."""
        item = self._db.get_item(
            TableName=self._table, Key=self._key(campaign_id), ConsistentRead=True
        ).get("Item")
        return _from_item(item) if item else None

    def require(self, campaign_id: str) -> Campaign:
        """The campaign, or CampaignNotFoundError."""
        campaign = self.get(campaign_id)
        if campaign is None:
            raise CampaignNotFoundError(campaign_id)
        return campaign

    def create(self, campaign: Campaign, *, replaceable: Iterable[CampaignStatus] = ()) -> None:
        """Store a new campaign; CampaignExistsError if the id is taken (unless replaceable)."""
        allowed = sorted(replaceable)
        condition = f"attribute_not_exists({keys.PARTITION_KEY})"
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if allowed:
            placeholders = [f":r{i}" for i in range(len(allowed))]
            condition += f" OR #status IN ({', '.join(placeholders)})"
            names["#status"] = keys.CAMPAIGN_STATUS
            values.update(to_item(dict(zip(placeholders, allowed, strict=True))))
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": _to_item(campaign),
            "ConditionExpression": condition,
        }
        if names:
            request["ExpressionAttributeNames"] = names
            request["ExpressionAttributeValues"] = values
        try:
            self._db.put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            raise CampaignExistsError(self.require(campaign.campaign_id)) from error

    def save(self, campaign: Campaign, *, expected: Iterable[CampaignStatus], action: str) -> None:
        """Overwrite the record if its stored status is one of `expected` (compare-and-set)."""
        expected = sorted(expected)
        placeholders = [f":e{i}" for i in range(len(expected))]
        campaign.updated_at = utc_now()
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_to_item(campaign),
                ConditionExpression=f"#status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames={"#status": keys.CAMPAIGN_STATUS},
                ExpressionAttributeValues=to_item(dict(zip(placeholders, expected, strict=True))),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            current = self.require(campaign.campaign_id)
            raise StatusConflictError(current, expected, action) from error

    def transition_step(
        self,
        campaign_id: str,
        *,
        expected: Iterable[CampaignStatus],
        to: CampaignStatus,
        changes: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The UpdateItem request of `transition` (also a TransactWriteItems `Update`)."""
        expected = sorted(expected)
        placeholders = [f":e{i}" for i in range(len(expected))]
        updates = {
            keys.CAMPAIGN_STATUS: to.value,
            "updated_at": utc_iso(utc_now()),
            **(changes or {}),
        }
        expression, names, values = update_expression(updates)
        names["#status"] = keys.CAMPAIGN_STATUS
        values.update(to_item(dict(zip(placeholders, expected, strict=True))))
        condition = (
            f"attribute_exists({keys.PARTITION_KEY}) AND #status IN ({', '.join(placeholders)})"
        )
        for index, (name, value) in enumerate((where or {}).items()):
            names[f"#w{index}"] = name
            values.update(to_item({f":w{index}": value}))
            condition += f" AND #w{index} = :w{index}"
        return {
            "TableName": self._table,
            "Key": self._key(campaign_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def transition(
        self,
        campaign_id: str,
        *,
        expected: Iterable[CampaignStatus],
        to: CampaignStatus,
        action: str,
        changes: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> Campaign:
        """Move the campaign to `to` only if it is in `expected` (and each attribute of `where`
        still has the value given: a date read before, say); set `changes` with it."""
        expected = sorted(expected)
        request = self.transition_step(
            campaign_id, expected=expected, to=to, changes=changes, where=where
        )
        try:
            response = self._db.update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            raise StatusConflictError(self.require(campaign_id), expected, action) from error
        return _from_item(response["Attributes"])

    def pause(self, campaign_id: str, *, by: PausedBy, reason: str) -> Campaign | None:
        """Pause a LAUNCHING or SENDING campaign with `reason`, to resume to the state it was in
        (a paused launch goes on launching); None if it is in no state to pause (paused,
        cancelled, completed meanwhile). The move is conditioned on the state read."""
        current = self.get(campaign_id)
        if current is None or current.status not in PAUSABLE:
            return None
        pause = Pause(
            by=by,
            reason=reason,
            paused_at=utc_now(),
            resume_to="LAUNCHING" if current.status is CampaignStatus.LAUNCHING else "SENDING",
        )
        try:
            return self.transition(
                campaign_id,
                expected={current.status},
                to=CampaignStatus.PAUSED,
                action=f"pause ({by})",
                changes={"pause": pause.model_dump(mode="json")},
            )
        except StatusConflictError:
            return None

    def update(self, campaign_id: str, changes: Mapping[str, Any]) -> None:
        """Set fields (e.g. progress) without a status condition; the campaign must exist."""
        expression, names, values = update_expression(changes)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(campaign_id),
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists({keys.PARTITION_KEY})",
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        self._db.update_item(**request)

    def hold_launch(
        self,
        campaign_id: str,
        *,
        holder: str,
        checkpoint: LaunchCheckpoint,
        emails_enqueued: int,
    ) -> bool:
        """Record launch progress (and renew the lease) while `holder` still holds the launch.

        False when it no longer does: the campaign was cancelled, or another launcher took the
        launch over after the lease expired. Either way the caller must stop enqueuing.
        """
        return self._set_launch(
            campaign_id, held_by=holder, checkpoint=checkpoint, emails_enqueued=emails_enqueued
        )

    def take_over_launch(
        self, campaign_id: str, *, dead_holder: str, checkpoint: LaunchCheckpoint
    ) -> bool:
        """Take a LAUNCHING campaign over from a holder whose lease expired; False if beaten."""
        return self._set_launch(campaign_id, held_by=dead_holder, checkpoint=checkpoint)

    def _set_launch(
        self,
        campaign_id: str,
        *,
        held_by: str,
        checkpoint: LaunchCheckpoint,
        emails_enqueued: int | None = None,
    ) -> bool:
        """Write the launch checkpoint if the campaign is LAUNCHING and held by `held_by`."""
        changes: dict[str, Any] = {
            "launch": checkpoint.model_dump(mode="json"),
            "updated_at": utc_iso(utc_now()),
        }
        if emails_enqueued is not None:
            changes["emails_enqueued"] = emails_enqueued
        expression, names, values = update_expression(changes)
        names.update({"#status": keys.CAMPAIGN_STATUS, "#held": "launch", "#owner": "owner"})
        values.update(to_item({":launching": CampaignStatus.LAUNCHING.value, ":holder": held_by}))
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(campaign_id),
                UpdateExpression=expression,
                ConditionExpression="#status = :launching AND #held.#owner = :holder",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            return False
        return True

    def delete(self, campaign_id: str, *, expected: Iterable[CampaignStatus]) -> None:
        """Delete the record if its status is one of `expected`."""
        expected = sorted(expected)
        placeholders = [f":e{i}" for i in range(len(expected))]
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=self._key(campaign_id),
                ConditionExpression=f"#status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames={"#status": keys.CAMPAIGN_STATUS},
                ExpressionAttributeValues=to_item(dict(zip(placeholders, expected, strict=True))),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            raise StatusConflictError(self.require(campaign_id), expected, "delete") from error

    def list_page(
        self,
        *,
        status: CampaignStatus | None = None,
        limit: int = 50,
        start: Mapping[str, Any] | None = None,
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        """A page of campaigns (of one status, newest date first, when `status` is given; in the
        table's order otherwise) from `start`, and the start of the next page (DynamoDB's key,
        None at the end).

        `start` goes to DynamoDB as it is: callers pass back only what this returned (the API
        seals it into its page tokens, `ems_scheduler.shared.page_tokens`).
        """
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = dict(start)
        if status is None:
            request["FilterExpression"] = f"{keys.SORT_KEY} = :sk"
            request["ExpressionAttributeValues"] = to_item({":sk": CAMPAIGN_SK})
            response = self._db.scan(**request)
        else:
            request["IndexName"] = self._status_index
            request["KeyConditionExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": keys.CAMPAIGN_STATUS}
            request["ExpressionAttributeValues"] = to_item({":status": status.value})
            request["ScanIndexForward"] = False  # the newest date first, as the API says
            response = self._db.query(**request)
        campaigns = _campaigns(response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        return campaigns, dict(last) if last else None

    def due(self, now: datetime, *, status: CampaignStatus, limit: int = 100) -> list[Campaign]:
        """Campaigns in `status` whose date has come, oldest first (a query, never a scan)."""
        response = self._db.query(
            TableName=self._table,
            IndexName=self._status_index,
            KeyConditionExpression="#status = :status AND #at <= :now",
            ExpressionAttributeNames={
                "#status": keys.CAMPAIGN_STATUS,
                "#at": keys.CAMPAIGN_SCHEDULED_AT,
            },
            ExpressionAttributeValues=to_item({":status": status.value, ":now": utc_iso(now)}),
            Limit=limit,
        )
        return _campaigns(response.get("Items", []))
