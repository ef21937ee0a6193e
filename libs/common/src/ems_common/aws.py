"""The one factory for boto3 clients.

Endpoints are left to boto3, which reads the standard `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>` variables (and `services` sections of the AWS config file); that
is how the same code talks to AWS, to LocalStack and to DynamoDB Local. Nothing here runs at
import time: clients are built when asked for, so tests and the local runtime can set the
environment first.

Harnesses that must see every client a service builds (the local runtime's fault injection,
`make bench`'s request counter) register a hook with `add_client_hook`; nothing in the
deployed code registers one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_firehose import FirehoseClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# Timeouts well under a Lambda's, so a hung connection fails the call, not the function.
DEFAULT_CONNECT_TIMEOUT_S = 5
DEFAULT_READ_TIMEOUT_S = 30
DEFAULT_MAX_ATTEMPTS = 3

ClientHook = Callable[[str, Any], None]
"""Called with (service name, new client) for every client the factory builds."""

_client_hooks: list[ClientHook] = []


def add_client_hook(hook: ClientHook) -> Callable[[], None]:
    """Have `hook` see every client built from now on; returns what removes it again."""
    _client_hooks.append(hook)
    return lambda: _client_hooks.remove(hook)


def client_config(
    *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, max_pool_connections: int = 10
) -> Config:
    """The botocore config every EMS client uses (standard retry mode, bounded timeouts)."""
    return Config(
        connect_timeout=DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout=DEFAULT_READ_TIMEOUT_S,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
    )


class AwsClients:
    """Builds and caches one boto3 client per service, thread-safely.

    `region` overrides the environment's region; `config` overrides `client_config()`.
    """

    def __init__(self, *, region: str | None = None, config: Config | None = None) -> None:
        self._session = boto3.session.Session(region_name=region)
        self._config = config or client_config()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def client(self, service: Literal["firehose"]) -> FirehoseClient: ...
    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["scheduler"]) -> EventBridgeSchedulerClient: ...
    @overload
    def client(self, service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def client(self, service: Literal["ses"]) -> SESClient: ...
    @overload
    def client(self, service: Literal["sesv2"]) -> SESV2Client: ...
    @overload
    def client(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["sts"]) -> STSClient: ...
    def client(self, service: str) -> Any:
        """The client for `service`, built on first use."""
        with self._lock:
            if service not in self._clients:
                client = self._session.client(
                    service,  # type: ignore[call-overload]
                    config=self._config,
                )
                for hook in tuple(_client_hooks):
                    hook(service, client)
                self._clients[service] = client
            return self._clients[service]

    @property
    def region(self) -> str:
        """The region the clients use."""
        return str(self._session.region_name)
