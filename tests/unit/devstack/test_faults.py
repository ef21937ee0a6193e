"""Injected faults: DynamoDB throttling and SES errors, off unless a variable asks for them.

No network: the injected answers replace the HTTP exchange (or the call), and the endpoint is
one nothing listens on, so a call that got through would fail differently.
"""

from __future__ import annotations

import importlib
import random
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from ems_common.aws import AwsClients
from ems_devstack.faults import (
    CRASH_POINTS,
    DYNAMODB_THROTTLE_CODES,
    DYNAMODB_THROTTLE_VARIABLE,
    INJECTED_LOG_PREFIX,
    SES_ERROR_VARIABLE,
    SES_THROTTLE_VARIABLE,
    CrashPoint,
    install_crash_points,
    install_dynamodb_faults,
    install_from_environment,
    install_ses_faults,
    parse_crash_spec,
)

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    for name in (DYNAMODB_THROTTLE_VARIABLE, SES_THROTTLE_VARIABLE, SES_ERROR_VARIABLE):
        monkeypatch.delenv(name, raising=False)


def _client(service: str, attempts: int = 1) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        endpoint_url=NOWHERE,
        config=Config(
            retries={"total_max_attempts": attempts, "mode": "standard"},
            connect_timeout=0.5,
        ),
    )


def _get_item(client: Any) -> Any:
    return client.get_item(TableName="emails", Key={"pk": {"S": "c"}, "sk": {"S": "a@b.c"}})


def test_dynamodb_throttling_answers_with_a_throttling_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a client whose every call is throttled
    monkeypatch.setenv(DYNAMODB_THROTTLE_VARIABLE, "1")
    client = _client("dynamodb")
    install_dynamodb_faults(client, random.Random(7))

    # When it is called, Then it gets one of DynamoDB's throttling errors, parsed as the real one
    codes = set()
    for _ in range(20):
        with pytest.raises(ClientError) as error:
            _get_item(client)
        codes.add(error.value.response["Error"]["Code"])
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert codes == set(DYNAMODB_THROTTLE_CODES)


def test_a_throttled_dynamodb_call_goes_through_the_clients_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given every call throttled and a client allowed 3 attempts (no backoff sleeps)
    monkeypatch.setenv(DYNAMODB_THROTTLE_VARIABLE, "1")
    monkeypatch.setattr("time.sleep", lambda _s: None)
    client = _client("dynamodb", attempts=3)
    install_dynamodb_faults(client, random.Random(1))

    # Then the error surfaces after the client's retries, as a real throttling answer would
    with pytest.raises(ClientError) as error:
        _get_item(client)
    metadata: dict[str, Any] = dict(error.value.response["ResponseMetadata"])
    assert metadata["RetryAttempts"] == 2
    assert metadata["MaxAttemptsReached"] is True


def test_dynamodb_throttling_hits_about_the_asked_share_of_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a 30 % throttling chance
    monkeypatch.setenv(DYNAMODB_THROTTLE_VARIABLE, "0.3")
    client = _client("dynamodb")
    install_dynamodb_faults(client, random.Random(42))
    throttled = passed = 0
    for _ in range(500):
        try:
            _get_item(client)
        except ClientError:
            throttled += 1
        except EndpointConnectionError:  # got through to the (absent) endpoint
            passed += 1
    # Then about 30 % are throttled and the others really leave the process
    assert 110 < throttled < 190
    assert throttled + passed == 500


def test_no_variable_no_dynamodb_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client("dynamodb")
    install_dynamodb_faults(client)
    with pytest.raises(EndpointConnectionError):  # the call really left the process
        _get_item(client)


def test_the_harness_installs_dynamodb_faults_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ems_common.aws._client_hooks", [])  # this test's hooks only
    # Every service nowhere, whatever the environment says (e.g. a running local stack's).
    monkeypatch.setenv("AWS_ENDPOINT_URL", NOWHERE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", NOWHERE)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    quiet = AwsClients(region="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(EndpointConnectionError):
        _get_item(quiet.client("dynamodb"))

    monkeypatch.setenv(DYNAMODB_THROTTLE_VARIABLE, "1")
    assert install_from_environment()
    faulty = AwsClients(region="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as error:
        _get_item(faulty.client("dynamodb"))
    assert error.value.response["Error"]["Code"] in DYNAMODB_THROTTLE_CODES
    # And only DynamoDB's client: the others are left alone
    with pytest.raises(EndpointConnectionError):
        faulty.client("sqs").list_queues()


def test_ses_faults_answer_throttling_then_5xx_by_their_probabilities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SES_THROTTLE_VARIABLE, "0.5")
    monkeypatch.setenv(SES_ERROR_VARIABLE, "0.5")
    client = _client("ses")
    install_ses_faults(client, random.Random(3))
    codes = set()
    for _ in range(40):
        with pytest.raises(ClientError) as error:
            client.send_templated_email(
                Source="a@b.c",
                Destination={"ToAddresses": ["d@e.f"]},
                Template="t",
                TemplateData="{}",
            )
        codes.add(error.value.response["Error"]["Code"])
    assert codes == {"Throttling", "ServiceUnavailable"}


def test_each_injected_answer_is_logged_without_request_content(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(DYNAMODB_THROTTLE_VARIABLE, "1")
    client = _client("dynamodb")
    install_dynamodb_faults(client, random.Random(5))
    with caplog.at_level("INFO", logger="ems_devstack.faults"), pytest.raises(ClientError):
        _get_item(client)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ems_devstack.faults"]
    assert line.startswith(INJECTED_LOG_PREFIX + " dynamodb ")
    assert "a@b.c" not in line


class _Records:
    """Stands in for an adapter whose method is a crash point."""

    def __init__(self, outcomes: list[str]) -> None:
        self._outcomes = iter(outcomes)

    def claim(self) -> str:
        return next(self._outcomes)


def test_a_crash_point_dies_the_nth_time_its_method_returns_a_counted_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a crash point after the second claim that really claimed something
    point = CrashPoint(__name__, "_Records", "claim", when=lambda outcome: outcome == "claimed")
    monkeypatch.setitem(CRASH_POINTS, "test.after_claim", point)
    monkeypatch.setattr(_Records, "claim", _Records.claim)  # undone after the test
    deaths: list[str] = []
    install_crash_points({"test.after_claim": 2}, die=lambda: deaths.append("died"))
    records = _Records(["claimed", "busy", "done", "claimed", "claimed"])
    # When the method returns claimed, busy, done, then claimed
    for _ in range(4):
        records.claim()
    # Then the process died once, at the second counted return, which still returned its value
    assert deaths == ["died"]


def test_crash_specs_name_known_points_with_counts() -> None:
    assert parse_crash_spec("launcher.after_send:2, sender.after_claim") == {
        "launcher.after_send": 2,
        "sender.after_claim": 1,
    }
    assert parse_crash_spec("") == {}
    with pytest.raises(ValueError, match=r"unknown crash point 'sender\.after_lunch'"):
        parse_crash_spec("sender.after_lunch:1")


@pytest.mark.parametrize("name", sorted(CRASH_POINTS))
def test_every_crash_point_names_a_method_that_exists(name: str) -> None:
    point = CRASH_POINTS[name]
    owner = getattr(importlib.import_module(point.module), point.owner)
    assert callable(getattr(owner, point.method))
