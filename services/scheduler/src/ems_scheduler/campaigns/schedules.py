"""One-time EventBridge Scheduler schedules that launch a campaign at its date.

LocalStack stores these but never fires them; the launcher's every-minute sweep covers that
locally and on AWS alike, so a schedule only makes the launch prompt, never possible.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


def schedule_name(campaign_id: str) -> str:
    """The schedule's name for a campaign (<= 64 characters)."""
    return f"campaign-{campaign_id}"


def at_expression(moment: datetime) -> str:
    """Scheduler's one-time expression, in UTC to the second."""
    return f"at({moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


class CampaignSchedules:
    """Creates, moves and removes a campaign's one-time schedule."""

    def __init__(
        self,
        client: EventBridgeSchedulerClient,
        *,
        group: str,
        target_arn: str,
        role_arn: str,
    ) -> None:
        self._scheduler = client
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn

    def put(self, campaign_id: str, moment: datetime) -> str:
        """Schedule the launch of `campaign_id` at `moment` (create, or move an existing one)."""
        name = schedule_name(campaign_id)
        request = {
            "Name": name,
            "GroupName": self._group,
            "ScheduleExpression": at_expression(moment),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps({"campaign_id": campaign_id}),
            },
            "ActionAfterCompletion": "DELETE",
        }
        try:
            self._scheduler.create_schedule(**request)  # type: ignore[arg-type]
        except self._scheduler.exceptions.ConflictException:
            self._scheduler.update_schedule(**request)  # type: ignore[arg-type]
        return name

    def delete(self, campaign_id: str) -> None:
        """Remove the schedule; a missing one (already fired and deleted) is fine."""
        try:
            self._scheduler.delete_schedule(Name=schedule_name(campaign_id), GroupName=self._group)
        except self._scheduler.exceptions.ResourceNotFoundException:
            return

    def exists(self, campaign_id: str) -> bool:
        """Whether the campaign has a schedule."""
        try:
            self._scheduler.get_schedule(Name=schedule_name(campaign_id), GroupName=self._group)
        except self._scheduler.exceptions.ResourceNotFoundException:
            return False
        return True
