"""The launcher's one handler, for both triggers.

- The every-minute EventBridge rule (a scheduled event): sweep every due campaign, then
  reconcile the campaigns under way (`ems_launcher.reconciler`: nothing stays stuck).
- A campaign's one-time Scheduler schedule (input `{"campaign_id": ...}`): that campaign.
- Locally, `python -m ems_devstack.runtime tick` calls it with a scheduled event.
"""

import functools
from typing import Any

from ems_common.aws import AwsClients
from ems_common.dal.campaigns import CampaignRepository
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.send_queue import SendQueue
from ems_common.lambda_handlers import service_logger
from ems_launcher.dal.campaign_files import CampaignFileReader
from ems_launcher.dal.email_records import CampaignEmailRecords
from ems_launcher.launcher import Launcher
from ems_launcher.reconciler import Reconciler
from ems_launcher.settings import LauncherSettings


def build_launcher(settings: LauncherSettings, clients: AwsClients | None = None) -> Launcher:
    """The launcher wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    return Launcher(
        settings=settings,
        campaigns=CampaignRepository(
            clients.client("dynamodb"), settings.campaigns_table, settings.campaigns_status_index
        ),
        files=CampaignFileReader(clients.client("s3"), settings.campaigns_bucket),
        queue=SendQueue(clients.client("sqs"), settings.send_queue_url),
        metrics=CampaignMetrics(clients.client("dynamodb"), settings.campaigns_table),
    )


def build_reconciler(settings: LauncherSettings, clients: AwsClients | None = None) -> Reconciler:
    """The reconciler wired to AWS (or the local stack)."""
    clients = clients or AwsClients()
    dynamodb = clients.client("dynamodb")
    return Reconciler(
        settings=settings,
        campaigns=CampaignRepository(
            dynamodb, settings.campaigns_table, settings.campaigns_status_index
        ),
        metrics=CampaignMetrics(dynamodb, settings.campaigns_table),
        records=CampaignEmailRecords(dynamodb, settings.emails_table),
    )


@functools.cache
def warm_launcher() -> Launcher:
    """The launcher, built on the first invocation and kept while the environment is warm."""
    return build_launcher(LauncherSettings())


@functools.cache
def warm_reconciler() -> Reconciler:
    """The reconciler, built on the first invocation and kept while the environment is warm."""
    return build_reconciler(LauncherSettings())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Launch the named campaign, or sweep for due ones."""
    launcher = warm_launcher()
    logger = service_logger("ems-launcher")
    logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    campaign_id = event.get("campaign_id")
    if isinstance(campaign_id, str):
        result = launcher.launch(campaign_id, time_left)
        logger.info("campaign %s: %s", campaign_id, result)
        return {"campaigns": {campaign_id: str(result)}}
    results = launcher.sweep(time_left)
    if results:
        logger.info("sweep: %s", results)
    reconciled = warm_reconciler().run(time_left)
    if reconciled:
        logger.info("reconciled: %s", reconciled)
    results.update(reconciled)
    return {"campaigns": {key: str(value) for key, value in results.items()}}
