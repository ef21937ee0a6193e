"""Deliberate crashes at named points, for the fault tests (`make chaos`, the e2e suite).

Also injected SES answers (throttling, 5xx), see `install_ses_faults`, and DynamoDB throttling,
see `install_dynamodb_faults`.

Off unless `EMS_FAULTS` is set, e.g. `EMS_FAULTS=launcher.after_checkpoint:3` makes the
process die (as SIGKILL would: no cleanup, no finally) the third time it passes that point.
Nothing in normal operation sets it; it lets tests kill a process at an exact place instead of
racing a timer.
"""

import json
import logging
import os
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

from botocore.awsrequest import AWSResponse, HTTPHeaders

logger = logging.getLogger(__name__)

FAULTS_VARIABLE: Final = "EMS_FAULTS"
# Each injected answer is logged with this prefix, then the service and the error code, so a
# fault run can count them in the services' logs (no address or request content is logged).
INJECTED_LOG_PREFIX: Final = "fault injected:"
_EXIT_LIKE_SIGKILL: Final = 137
_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here if `EMS_FAULTS` names this point and its count is reached."""
    spec = os.environ.get(FAULTS_VARIABLE)
    if not spec:
        return
    for entry in spec.split(","):
        point, _, count = entry.strip().partition(":")
        if point == name:
            _hits[name] += 1
            if _hits[name] >= int(count or "1"):
                os._exit(_EXIT_LIKE_SIGKILL)


SES_THROTTLE_VARIABLE: Final = "EMS_FAULT_SES_THROTTLE"
SES_ERROR_VARIABLE: Final = "EMS_FAULT_SES_5XX"


def install_ses_faults(client: Any, rng: random.Random | None = None) -> None:
    """Make `client` answer some SES sends with throttling or a 5xx, as SES can.

    Probabilities come from `EMS_FAULT_SES_THROTTLE` and `EMS_FAULT_SES_5XX` (0 to 1); unset,
    nothing is installed. The fake answer short-circuits the call before it leaves the process
    (botocore's `before-call` event), so SES never sees the email.
    """
    throttle = float(os.environ.get(SES_THROTTLE_VARIABLE) or 0)
    server_error = float(os.environ.get(SES_ERROR_VARIABLE) or 0)
    if not throttle and not server_error:
        return
    chance = rng or random.Random()  # noqa: S311 - fault injection, not security

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        roll = chance.random()
        if roll < throttle:
            logger.info("%s ses Throttling", INJECTED_LOG_PREFIX)
            return _error(400, "Throttling", "Maximum sending rate exceeded.")
        if roll < throttle + server_error:
            logger.info("%s ses ServiceUnavailable", INJECTED_LOG_PREFIX)
            return _error(503, "ServiceUnavailable", "Service is unavailable (injected).")
        return None

    client.meta.events.register("before-call.ses.SendTemplatedEmail", answer)


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    response = AWSResponse("https://ses.invalid", status, HTTPHeaders(), None)
    return response, {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


DYNAMODB_THROTTLE_VARIABLE: Final = "EMS_FAULT_DYNAMODB_THROTTLE"
# What DynamoDB answers when a table or the account is over its throughput.
DYNAMODB_THROTTLE_CODES: Final = ("ProvisionedThroughputExceededException", "ThrottlingException")
_DYNAMODB_ERROR_PREFIX: Final = "com.amazonaws.dynamodb.v20120810#"


def install_dynamodb_faults(client: Any, rng: random.Random | None = None) -> None:
    """Make `client` answer some DynamoDB calls with throttling, as an overloaded table does.

    The probability comes from `EMS_FAULT_DYNAMODB_THROTTLE` (0 to 1); unset, nothing is
    installed. The fake answer replaces the HTTP exchange (botocore's `before-send` event), so
    it goes through the client's retry policy like a real throttling answer: the code sees an
    error only when every attempt was throttled.
    """
    throttle = float(os.environ.get(DYNAMODB_THROTTLE_VARIABLE) or 0)
    if not throttle:
        return
    chance = rng or random.Random()  # noqa: S311 - fault injection, not security

    def answer(**_: Any) -> AWSResponse | None:
        if chance.random() >= throttle:
            return None
        code = chance.choice(DYNAMODB_THROTTLE_CODES)
        logger.info("%s dynamodb %s", INJECTED_LOG_PREFIX, code)
        body = {"__type": _DYNAMODB_ERROR_PREFIX + code, "message": "Rate exceeded (injected)."}
        return AWSResponse(
            "https://dynamodb.invalid",
            400,
            HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"}),
            _Body(json.dumps(body).encode()),
        )

    client.meta.events.register("before-send.dynamodb", answer)


class _Body:
    """The raw body of a fake HTTP answer (botocore reads it through `stream()`)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content
