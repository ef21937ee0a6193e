"""`CampaignRepository.pause`: conditioned on the state read, resuming to it. DynamoDB is a
stand-in that answers GetItem with a stored item and checks the UpdateItem's status condition
(the expression DynamoDB would evaluate is asserted on, not evaluated)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ems_common.campaigns import Campaign, CampaignStatus, PausedBy
from ems_common.dal.campaigns import CampaignRepository, _to_item
from ems_common.dal.items import from_item, to_item

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class DynamoDB:
    def __init__(self, campaign: Campaign, *, moved_meanwhile: bool = False) -> None:
        self.item = _to_item(campaign)
        self.moved_meanwhile = moved_meanwhile
        self.updates: list[dict[str, Any]] = []

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self.item}

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.updates.append(request)
        if self.moved_meanwhile:
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": ""}}, "UpdateItem"
            )
        values = from_item(request["ExpressionAttributeValues"])
        names = request["ExpressionAttributeNames"]
        item = from_item(self.item)
        for name, value in values.items():
            placeholder = name.replace(":", "#")
            if placeholder in names and not name.startswith(":e"):
                item[names[placeholder]] = value
        item["status"] = CampaignStatus.PAUSED.value
        return {"Attributes": to_item(item)}


def _campaign(status: CampaignStatus) -> Campaign:
    return Campaign(
        campaign_id="c1",
        status=status,
        scheduled_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        request_hash="h",
    )


@pytest.mark.parametrize(
    ("status", "resume_to"),
    [(CampaignStatus.LAUNCHING, "LAUNCHING"), (CampaignStatus.SENDING, "SENDING")],
)
def test_a_pause_resumes_to_the_state_it_was_paused_in(
    status: CampaignStatus, resume_to: str
) -> None:
    db = DynamoDB(_campaign(status))
    repo = CampaignRepository(db, "campaigns", "by-status")  # type: ignore[arg-type]

    paused = repo.pause("c1", by=PausedBy.BRAKE, reason="bounces")

    assert paused is not None
    (update,) = db.updates
    # Only from the state read: a campaign cancelled or completed meanwhile is not paused
    assert from_item(update["ExpressionAttributeValues"])[":e0"] == status.value
    assert "#status IN (:e0)" in update["ConditionExpression"]
    pause = from_item(update["ExpressionAttributeValues"])
    stored = next(v for v in pause.values() if isinstance(v, dict) and "resume_to" in v)
    assert (stored["by"], stored["reason"], stored["resume_to"]) == ("brake", "bounces", resume_to)


@pytest.mark.parametrize(
    "status", [CampaignStatus.SCHEDULED, CampaignStatus.PAUSED, CampaignStatus.COMPLETED]
)
def test_a_campaign_in_no_state_to_pause_is_left_alone(status: CampaignStatus) -> None:
    db = DynamoDB(_campaign(status))
    repo = CampaignRepository(db, "campaigns", "by-status")  # type: ignore[arg-type]
    assert repo.pause("c1", by=PausedBy.SES, reason="x") is None
    assert db.updates == []


def test_a_campaign_that_moved_meanwhile_is_left_alone() -> None:
    db = DynamoDB(_campaign(CampaignStatus.SENDING), moved_meanwhile=True)
    repo = CampaignRepository(db, "campaigns", "by-status")  # type: ignore[arg-type]
    assert repo.pause("c1", by=PausedBy.SES, reason="x") is None
