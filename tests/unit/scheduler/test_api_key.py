"""The API key on AWS: read from Secrets Manager when the API starts; 503 until it is set."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from flask import Flask
from pydantic import SecretStr, ValidationError

from ems_scheduler.api_key import ApiKeyNotSetError, read_api_key, set_key_hint
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.wsgi import ZAPPA_REQUEST_LOGGER, LazyApp

SECRET = "ems-prod-api-key"


@pytest.fixture
def secrets() -> Any:
    return boto3.client(
        "secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_the_key_is_the_secrets_value(secrets: Any) -> None:
    with Stubber(secrets) as stub:
        stub.add_response(
            "get_secret_value",
            {"SecretString": " k3y \n", "Name": SECRET},
            {"SecretId": SECRET},
        )
        assert read_api_key(secrets, SECRET).get_secret_value() == "k3y"


def test_a_secret_without_value_says_how_to_set_it(secrets: Any) -> None:
    with Stubber(secrets) as stub:
        stub.add_client_error("get_secret_value", "ResourceNotFoundException", "no AWSCURRENT")
        with pytest.raises(
            ApiKeyNotSetError, match="put-secret-value --secret-id ems-prod-api-key"
        ):
            read_api_key(secrets, SECRET)


def test_an_empty_secret_is_no_key(secrets: Any) -> None:
    with Stubber(secrets) as stub:
        stub.add_response("get_secret_value", {"SecretString": "  "}, {"SecretId": SECRET})
        with pytest.raises(ApiKeyNotSetError):
            read_api_key(secrets, SECRET)


def test_other_errors_are_not_hidden(secrets: Any) -> None:
    with Stubber(secrets) as stub:
        stub.add_client_error("get_secret_value", "AccessDeniedException", "no")
        with pytest.raises(Exception, match="AccessDenied"):
            read_api_key(secrets, SECRET)


def test_settings_need_a_key_or_its_secret(
    settings: SchedulerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMS_API_KEY", raising=False)
    monkeypatch.delenv("EMS_API_KEY_SECRET_ID", raising=False)
    fields = settings.model_dump(exclude={"api_key", "api_key_secret_id"})
    with pytest.raises(ValidationError, match="EMS_API_KEY_SECRET_ID"):
        SchedulerSettings(**fields)
    assert SchedulerSettings(**fields, api_key_secret_id=SECRET).api_key is None
    assert SchedulerSettings(**fields, api_key=SecretStr("k")).api_key is not None


def _call(app: LazyApp) -> tuple[str, dict[str, Any]]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    body = b"".join(app(environ, start_response))
    return seen["status"], json.loads(body)


def test_the_api_answers_503_until_the_key_is_set_then_serves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ready = Flask("ready")
    ready.add_url_rule("/health", "health", lambda: {"status": "ok"})
    attempts: list[int] = []

    def factory() -> Flask:
        attempts.append(1)
        if len(attempts) == 1:
            raise ApiKeyNotSetError(set_key_hint(SECRET))
        return ready

    app = LazyApp(factory)
    with caplog.at_level(logging.ERROR, logger="ems_scheduler.wsgi"):
        status, body = _call(app)
    assert status.startswith("503")
    # The caller is told the API is not configured yet and where the operator looks ...
    assert body["error"] == "not_configured"
    assert "not configured yet" in body["message"]
    assert "docs/deploy.md" in body["message"]
    # ... but not which secret, nor how to set it: that goes to the operator's log
    assert SECRET not in json.dumps(body)
    assert "put-secret-value" not in json.dumps(body)
    assert f"put-secret-value --secret-id {SECRET}" in caplog.text

    status, body = _call(app)
    assert status.startswith("200")
    assert body == {"status": "ok"}
    _call(app)
    assert len(attempts) == 2  # built once, then kept


def test_zappas_request_line_with_the_path_is_kept_out_of_the_logs() -> None:
    # Given zappa's request logger as its handler leaves it (INFO, like the root logger)
    request_log = logging.getLogger(ZAPPA_REQUEST_LOGGER)
    request_log.setLevel(logging.INFO)
    ready = Flask("ready")
    ready.add_url_rule("/health", "health", lambda: {"status": "ok"})

    # When the API serves its first request
    _call(LazyApp(lambda: ready))

    # Then a request's line (path and query string: addresses, tokens) is no longer written
    assert not request_log.isEnabledFor(logging.INFO)
    assert request_log.isEnabledFor(logging.WARNING)
