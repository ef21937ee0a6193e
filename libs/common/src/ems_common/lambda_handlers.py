"""How every EMS Lambda handler runs: one batch runner for SQS, one logger, one warm cache.

- SQS-fed handlers (sender lanes, tracker, compile worker) hand each message to their domain
  code through `process_sqs_batch`, which is Powertools for AWS Lambda's
  `BatchProcessor`: what raises is reported in `batchItemFailures` (SQS delivers it again, and
  after maxReceiveCount moves it to the DLQ); the rest is deleted. `RetryLater` asks for that
  redelivery without it being an error.
- Logs are Powertools' structured JSON, from every module logger of the service, carrying the
  Lambda request id and, while a message is handled, its campaign id (`service_logger`).
- What a warm Lambda environment keeps between invocations (the adapters and services a
  handler builds) is a `functools.cache`d builder in the handler module, built on the first
  invocation, never at import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

CAMPAIGN_ID_KEY: Final = "campaign_id"
METRICS_NAMESPACE: Final = "EMS"
"""The CloudWatch namespace of EMS's own metrics (Powertools' embedded metric format)."""
PAUSED_METRIC: Final = "CampaignsPaused"
"""A campaign paused itself (dimension `by`: brake, ses): the alarms module watches it."""
# The EMS packages whose module loggers log through the service's structured logger.
_EMS_PACKAGES: Final = frozenset(
    {"ems_common", "ems_scheduler", "ems_launcher", "ems_sender", "ems_tracker"}
)


class RetryLater(Exception):  # noqa: N818 - it names what happens, not a failure
    """Leave this message on the queue: SQS delivers it again after its visibility timeout,
    and moves it to the DLQ after maxReceiveCount. Not an error: nothing is logged for it."""


@functools.cache
def service_logger(service: str) -> Logger:
    """The structured (JSON) logger of `service`, which every EMS module logger then uses.

    Its level comes from the Lambda's log configuration (or `POWERTOOLS_LOG_LEVEL` /
    `LOG_LEVEL`), as Powertools reads it.
    """
    logger = Logger(service=service)
    copy_config_to_registered_loggers(source_logger=logger, include=set(_EMS_PACKAGES))
    return logger


def process_sqs_batch(
    event: Mapping[str, Any],
    context: Any,
    handle: Callable[[SQSRecord], None],
    *,
    logger: Logger,
    campaign_id_of: Callable[[str], str | None] = lambda _body: None,
    threads: int = 1,
) -> PartialItemFailureResponse:
    """Hand each message of an SQS event to `handle`; report the ones that raised.

    `campaign_id_of` tells, from a body, the campaign id the logs of its handling carry. With
    `threads` > 1 the messages are handled that many at a time (the senders: several SES calls
    in flight); Powertools' BatchProcessor still builds the answer, each message's outcome read
    from its thread in turn (its BatchProcessor runs handlers one after another).
    """
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def run(record: SQSRecord) -> None:
        campaign_id = _quietly(campaign_id_of, record.body)
        if campaign_id:
            logger.thread_safe_append_keys(**{CAMPAIGN_ID_KEY: campaign_id})
        try:
            handle(record)
        except RetryLater:
            raise
        except Exception:
            logger.exception("message %s failed; it will be retried", record.message_id)
            raise
        finally:
            logger.thread_safe_remove_keys([CAMPAIGN_ID_KEY])

    records = list(event.get("Records", []))
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(function_request_id=request_id)
    if threads <= 1 or len(records) <= 1:
        with processor(records, run, lambda_context=context):
            processor.process()
        return processor.response()
    with ThreadPoolExecutor(max_workers=min(threads, len(records))) as pool:
        futures = {
            str(record["messageId"]): pool.submit(run, SQSRecord(record)) for record in records
        }

        def outcome(record: SQSRecord) -> None:
            futures[record.message_id].result()  # re-raises what the message's handling raised

        with processor(records, outcome, lambda_context=context):
            processor.process()
    return processor.response()


def _quietly(read: Callable[[str], str | None], body: str) -> str | None:
    """What `read` finds in `body`, or None if the body is not what it expects."""
    try:
        return read(body)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        logging.getLogger(__name__).debug("no campaign id in a message body")
        return None
