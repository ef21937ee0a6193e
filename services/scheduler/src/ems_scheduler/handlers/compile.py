"""SQS-triggered: verify and compile a campaign whose candidate is in S3.

One message per campaign. A failure is reported, so SQS redelivers it; on the last attempt
before the compile DLQ the campaign is marked FAILED with the reason, so its client is not left
waiting on a VERIFYING campaign (FAILED campaigns may be created again under the same id).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ems_scheduler import wiring
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.settings import SchedulerSettings

logger = logging.getLogger(__name__)
_service: CampaignService | None = None


def _get_service() -> CampaignService:
    # Built on the first invocation, reused while the Lambda environment is warm.
    global _service  # noqa: PLW0603
    if _service is None:
        _service = wiring.campaign_service(SchedulerSettings())
    return _service


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Compile each campaign named in the batch; report the ones that failed."""
    failures = []
    service = _get_service()
    for record in event.get("Records", []):
        campaign_id = None
        try:
            campaign_id = str(json.loads(record["body"])["campaign_id"])
            campaign = service.compile_stored(campaign_id)
            logger.info(
                "compile job for %s done: %s", campaign_id, campaign.status if campaign else "gone"
            )
        except Exception as error:
            logger.exception("compile job %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
            received = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            if campaign_id and service.is_last_attempt(received):
                service.fail_verification(campaign_id, type(error).__name__)
    return {"batchItemFailures": failures}
