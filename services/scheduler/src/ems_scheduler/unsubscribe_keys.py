"""The keys that seal unsubscribe links: made by EMS itself, kept where the API key is kept.

On AWS a Secrets Manager secret holds them (Terraform creates it empty: a key made by Terraform
would sit in its state). The first API or compile worker that finds it empty makes a key and
stores it with a fixed client request token, so that of several doing so at once exactly one
key is stored, and every one of them goes on with that one. Locally `make up` makes the key
file and hands it over in `EMS_UNSUBSCRIBE_KEYS`.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

logger = logging.getLogger(__name__)

# Secrets Manager keeps one version per client request token: a second PutSecretValue with this
# token and another value is refused, so concurrent first starts agree on one key.
FIRST_KEY_REQUEST_TOKEN: Final = "ems-unsubscribe-keys-first-version-0001"  # noqa: S105 - an id
_NO_VALUE: Final = frozenset({"ResourceNotFoundException"})
_ALREADY_STORED: Final = frozenset({"ResourceExistsException", "InvalidRequestException"})


class SecretsClient(Protocol):
    """The Secrets Manager calls used (boto3's client)."""

    def get_secret_value(self, *, SecretId: str) -> Any: ...  # noqa: N803 - boto3's names

    def put_secret_value(
        self,
        *,
        SecretId: str,  # noqa: N803
        SecretString: str,  # noqa: N803
        ClientRequestToken: str,  # noqa: N803
    ) -> Any: ...


def _read(client: SecretsClient, secret_id: str) -> str | None:
    try:
        answer = client.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _NO_VALUE:
            return None
        raise
    value = str(answer.get("SecretString") or "").strip()
    return value or None


def load_unsubscribe_keys(client: SecretsClient, secret_id: str) -> UnsubscribeKeys:
    """The keys in `secret_id`, made and stored first if it has none yet."""
    stored = _read(client, secret_id)
    if stored is None:
        fresh = UnsubscribeKeys.generate()
        try:
            client.put_secret_value(
                SecretId=secret_id,
                SecretString=fresh.to_json(),
                ClientRequestToken=FIRST_KEY_REQUEST_TOKEN,
            )
            logger.warning("made the first unsubscribe key and stored it in %s", secret_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _ALREADY_STORED:
                raise
        stored = _read(client, secret_id)  # whoever stored first, this is the key to use
        if stored is None:
            msg = f"the unsubscribe keys secret {secret_id} has no value after storing one"
            raise RuntimeError(msg)
    return UnsubscribeKeys.from_json(stored)
