"""SQS-triggered: verify and compile a campaign whose candidate is in S3.

One message per campaign. A failure is reported, so SQS redelivers it; on the last attempt
before the compile DLQ the campaign is marked FAILED with the reason, so its client is not left
waiting on a VERIFYING campaign (FAILED campaigns may be created again under the same id).
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ems_common.lambda_handlers import process_sqs_batch, service_logger
from ems_scheduler import wiring
from ems_scheduler.campaigns.service import CampaignService
from ems_scheduler.settings import SchedulerSettings

logger = logging.getLogger(__name__)


@functools.cache
def warm_service() -> CampaignService:
    """The campaign service, built on the first invocation and kept while the environment is
    warm."""
    return wiring.campaign_service(SchedulerSettings())


def _campaign_id(body: str) -> str:
    return str(json.loads(body)["campaign_id"])


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Compile each campaign named in the batch; report the ones that failed."""
    service = warm_service()

    def compile_one(message: SQSRecord) -> None:
        campaign_id = None
        try:
            campaign_id = _campaign_id(message.body)
            campaign = service.compile_stored(campaign_id)
            logger.info(
                "compile job for %s done: %s", campaign_id, campaign.status if campaign else "gone"
            )
        except Exception as error:
            received = int(message.attributes.approximate_receive_count or "1")
            if campaign_id and service.is_last_attempt(received):
                service.fail_verification(campaign_id, type(error).__name__)
            raise

    return process_sqs_batch(
        event,
        context,
        compile_one,
        logger=service_logger("ems-scheduler"),
        campaign_id_of=_campaign_id,
    )
