"""SQS-triggered: verify and compile a campaign whose candidate is in S3.

One message per campaign. A failure raises, so SQS redelivers it, and after maxReceiveCount it
goes to the compile DLQ; the campaign then stays VERIFYING until an operator redrives it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ems_scheduler.service import CampaignService, build_service
from ems_scheduler.settings import SchedulerSettings

logger = logging.getLogger(__name__)
_service: CampaignService | None = None


def _get_service() -> CampaignService:
    # Built on the first invocation, reused while the Lambda environment is warm.
    global _service  # noqa: PLW0603
    if _service is None:
        _service = build_service(SchedulerSettings())
    return _service


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Compile each campaign named in the batch; report the ones that failed."""
    failures = []
    for record in event.get("Records", []):
        try:
            campaign_id = json.loads(record["body"])["campaign_id"]
            campaign = _get_service().compile_stored(str(campaign_id))
            logger.info(
                "compile job for %s done: %s", campaign_id, campaign.status if campaign else "gone"
            )
        except Exception:
            logger.exception("compile job %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
