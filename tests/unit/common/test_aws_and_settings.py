"""The client factory honours the standard endpoint variables; settings come from the env."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ems_common.aws import AwsClients
from ems_common.settings import AwsSettings, InfraSettings


def test_clients_use_the_general_and_the_per_service_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the local stack's variables, as .ems/local.env sets them
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    clients = AwsClients(region="eu-west-1")

    # Then DynamoDB goes to DynamoDB Local and everything else to LocalStack
    assert clients.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:8000"
    assert clients.client("sqs").meta.endpoint_url == "http://127.0.0.1:4566"
    assert clients.client("ses").meta.region_name == "eu-west-1"
    # And a client is built once and shared
    assert clients.client("sqs") is clients.client("sqs")


def test_without_endpoint_variables_clients_go_to_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    clients = AwsClients(region="us-east-1")
    assert clients.client("sqs").meta.endpoint_url == "https://sqs.us-east-1.amazonaws.com"


def test_missing_infra_settings_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in InfraSettings.model_fields:
        monkeypatch.delenv(f"EMS_{name.upper()}", raising=False)
    with pytest.raises(ValidationError) as error:
        InfraSettings()
    missing = {str(e["loc"][0]) for e in error.value.errors() if e["type"] == "missing"}
    required = {n for n, f in InfraSettings.model_fields.items() if f.is_required()}
    assert missing == required


def test_region_comes_from_aws_region_or_its_older_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert AwsSettings().region == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert AwsSettings().region == "ap-south-1"
