"""SQS-triggered: send the emails of each message (Lambda's partial-batch contract).

`campaign_handler` drains the send queue (`BatchSender`: a launcher batch at a time, in
SendBulkEmail calls), `transactional_handler` the transactional lane (`Sender`: each email
alone, SendEmail); the limiter gives the transactional lane first call on the account's send
rate. An invocation's messages are handled `send_threads` at a time, so that several SES calls
are in flight. Messages reported in `batchItemFailures` are delivered again; the others are
deleted.
"""

import functools
import threading
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ems_common.aws import AwsClients, client_config
from ems_common.campaigns import PausedBy
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.lambda_handlers import (
    METRICS_NAMESPACE,
    PAUSED_METRIC,
    RetryLater,
    process_sqs_batch,
    service_logger,
)
from ems_sender.bulk import BatchSender
from ems_sender.dal.account import AccountStanding
from ems_sender.dal.batches import BatchRecords
from ems_sender.dal.queues import Requeue
from ems_sender.dal.records import EmailRecords
from ems_sender.dal.ses import SesSender
from ems_sender.gate import LimiterGate, build_gate
from ems_sender.limiter import Lane
from ems_sender.messages import Outcome
from ems_sender.recent_suppressions import RecentSuppressions
from ems_sender.sending import Sender
from ems_sender.settings import SenderSettings
from ems_sender.watch import CampaignWatch, Timing


def _timing(settings: SenderSettings) -> Timing:
    return Timing(
        paused_hold_s=settings.paused_hold_seconds,
        ses_paused_retry_s=settings.ses_paused_retry_seconds,
        stop_margin_s=settings.stop_margin_seconds,
    )


def build_sender(
    lane: Lane, settings: SenderSettings, clients: AwsClients | None = None
) -> Sender | BatchSender:
    """A sender for `lane`, wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    # One attempt per SES call: the sender owns the retry policy (see dal/ses.py).
    ses_clients = AwsClients(config=client_config(max_attempts=1))
    dynamodb = clients.client("dynamodb")
    metrics = CampaignMetrics(dynamodb, settings.campaigns_table)
    campaigns = CampaignRepository(
        dynamodb, settings.campaigns_table, settings.campaigns_status_index
    )
    gate = build_gate(settings, settings.rate_limits_table, clients)
    if lane is Lane.CAMPAIGN:
        return BatchSender(
            batches=BatchRecords(
                dynamodb,
                settings.emails_table,
                claim_seconds=settings.claim_seconds,
                ttl_days=settings.record_ttl_days,
                metrics=metrics,
            ),
            ses=SesSender(ses_clients.client("sesv2")),
            requeue=Requeue(clients.client("sqs")),
            suppressions=RecentSuppressions(
                SuppressionList(dynamodb, settings.suppressions_table),
                settings.suppressions_day_index,
            ),
            # Campaign email waits while SES has the account under review.
            watch=CampaignWatch(
                campaigns,
                AccountStanding(
                    lambda: ses_clients.client("sesv2"),
                    cache_seconds=settings.account_check_seconds,
                ),
                _timing(settings),
            ),
            gate=gate,
            metrics=metrics,
            queue_url=settings.send_queue_url,
            dlq_url=settings.send_dlq_url,
            requeue_busy_after_s=settings.requeue_busy_after_seconds,
            threads=settings.send_threads,
        )
    return Sender(
        records=EmailRecords(
            dynamodb,
            settings.emails_table,
            claim_seconds=settings.claim_seconds,
            ttl_days=settings.record_ttl_days,
            metrics=metrics,
        ),
        ses=SesSender(ses_clients.client("sesv2")),
        requeue=Requeue(clients.client("sqs")),
        suppressions=SuppressionList(dynamodb, settings.suppressions_table),
        campaigns=campaigns,
        gate=gate,
        queue_url=settings.transactional_queue_url,
        dlq_url=settings.transactional_dlq_url,
        lane=lane,
        requeue_busy_after_s=settings.requeue_busy_after_seconds,
        metrics=metrics,
        timing=_timing(settings),
        threads=settings.send_threads,
    )


_BUILDING = threading.Lock()


def warm_sender(lane: Lane) -> Sender | BatchSender:
    """The lane's sender, built on the first invocation and kept while the environment is warm.

    Built once even when invocations start together (the local runtime runs a lane's
    concurrent invocations as threads of one process): the others wait for it rather than
    each building one on a busy CPU.
    """
    with _BUILDING:
        return _built(lane)


@functools.cache
def _built(lane: Lane) -> Sender | BatchSender:
    return build_sender(lane, SenderSettings())


def forget_warm_senders() -> None:
    """Build the next sender afresh (a new environment's, as after a cold start)."""
    _built.cache_clear()


def _campaign_id(body: str) -> str | None:
    return str(orjson.loads(body)["campaign_id"])


def _handle(lane: Lane, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    sender = warm_sender(lane)
    logger = service_logger("ems-sender")

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 if context else float("inf")

    def send(message: SQSRecord) -> None:
        if sender.process(message.body, time_left) is Outcome.RETRY:
            raise RetryLater

    response = process_sqs_batch(
        event, context, send, logger=logger, campaign_id_of=_campaign_id, threads=sender.threads
    )
    for campaign_id in sender.watch.take_paused():
        # A metric the alarms watch (EMS / CampaignsPaused): the sender's setup needs a look.
        with single_metric(
            name=PAUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("by", PausedBy.SES.value)
        logger.warning("campaign %s paused: SES refused it", campaign_id)
    summary = sender.summary()
    if isinstance(sender.gate, LimiterGate):
        # Slots forfeited: reserved, then not sent on in time (a sender kept off the CPU, or
        # its messages ran out): what the lane lost of the account's rate.
        stats = sender.gate.limiter.stats
        summary |= {
            "slots_reserved": stats.slots_reserved,
            "slots_granted": stats.slots_granted,
            "slots_forfeited": stats.slots_forfeited,
        }
    logger.info("%s lane so far: %s", lane, summary)
    return response


def campaign_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """The send queue (campaign emails)."""
    return _handle(Lane.CAMPAIGN, event, context)


def transactional_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """The transactional lane."""
    return _handle(Lane.TRANSACTIONAL, event, context)
