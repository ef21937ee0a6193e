"""The whole local stack for end-to-end tests.

The session reuses a stack that `make up` already brought up, or brings one up itself (and
takes it down again at the end). Tests reach AWS only through the Terraform outputs, read from
`.ems/local.env` exactly as the services read them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.config import StackConfig
from ems_devstack.services import CAMPAIGN_SENDER_NAMES
from ems_devstack.ses_events import EventObjectsTap
from ems_devstack.stack import LocalStackStack, parse_env_file


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackStack]:
    """The running local stack, with its settings exported into this process's environment."""
    stack = LocalStackStack(StackConfig.from_environment())
    started_here = not stack.is_up()
    if started_here:
        stack.up()
    env = parse_env_file(stack.config.env_file.read_text())
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield stack
    if started_here and not os.environ.get("EMS_KEEP_STACK"):
        stack.down()


@pytest.fixture(scope="session")
def settings(local_stack: LocalStackStack) -> InfraSettings:
    """Resource names, from the environment the stack wrote (Terraform's outputs)."""
    return InfraSettings()  # every field comes from the environment


@pytest.fixture(scope="session")
def aws(local_stack: LocalStackStack) -> AwsClients:
    """boto3 clients, pointed at the stack by the AWS_ENDPOINT_URL* variables."""
    return AwsClients()


@pytest.fixture(scope="session")
def localstack_url(local_stack: LocalStackStack) -> str:
    """LocalStack's edge URL (for its /_aws/ses mailbox)."""
    return local_stack.config.localstack_url


@pytest.fixture(scope="session")
def api(local_stack: LocalStackStack) -> Iterator[httpx.Client]:
    """An HTTP client for the running API, with the key `make up` made."""
    with httpx.Client(
        base_url=os.environ["EMS_API_URL"],
        headers={"X-Api-Key": os.environ["EMS_API_KEY"]},
        timeout=120,
    ) as client:
        yield client


@pytest.fixture
def senders_stopped(local_stack: LocalStackStack) -> Iterator[None]:
    """The stack's campaign senders off for one test (it counts or sends the queue itself)."""
    for name in CAMPAIGN_SENDER_NAMES:
        local_stack.services.stop(name, grace_s=10)
    yield
    for name in CAMPAIGN_SENDER_NAMES:
        local_stack.services.start(name, dict(os.environ))


@pytest.fixture
def events_tap(aws: AwsClients, settings: InfraSettings) -> EventObjectsTap:
    """The objects of SES events written to the events bucket from now on.

    The tracker's queue has its consumer (and the stack's other traffic); reading the objects
    its notifications name instead, the test sees every event published and takes none from
    the tracker.
    """
    return EventObjectsTap(
        aws.client("s3"), bucket=settings.ses_events_bucket, prefix=settings.ses_events_prefix
    )
