"""The API key on AWS: a Secrets Manager secret, read once when the API starts.

Terraform creates the secret without a value (a generated key would sit in the Terraform state);
the operator sets it once (docs/deploy.md). Until then the API answers 503 (not configured yet)
and logs how to set it.
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import SecretStr

# What Secrets Manager answers when the secret exists but has no value (or no secret at all).
_NO_VALUE_CODES = frozenset({"ResourceNotFoundException"})


class ApiKeyNotSetError(RuntimeError):
    """The API key secret has no value yet."""


class SecretsClient(Protocol):
    """The one Secrets Manager call used (boto3's client)."""

    def get_secret_value(self, *, SecretId: str) -> Any: ...  # noqa: N803 - boto3's name


def set_key_hint(secret_id: str) -> str:
    """How to give the secret its value (for the operator's log, never for a caller)."""
    return (
        f"the API key secret {secret_id} has no value yet: set one with `aws secretsmanager"
        f' put-secret-value --secret-id {secret_id} --secret-string "$(openssl rand -hex 32)"`'
    )


def read_api_key(client: SecretsClient, secret_id: str) -> SecretStr:
    """The API key held in `secret_id`; `ApiKeyNotSetError` while it has no value."""
    try:
        answer = client.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _NO_VALUE_CODES:
            raise ApiKeyNotSetError(set_key_hint(secret_id)) from error
        raise
    value = str(answer.get("SecretString") or "").strip()
    if not value:
        raise ApiKeyNotSetError(set_key_hint(secret_id))
    return SecretStr(value)
