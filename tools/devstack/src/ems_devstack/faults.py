"""Faults for the fault tests (`make chaos`, the e2e suite): never part of a deployed service.

The local runtime (`python -m ems_devstack.runtime`) calls `install_from_environment()` before it
loads a handler, so a service started with these variables misbehaves on purpose; nothing in the
services' own code knows about faults:

- `EMS_FAULTS=launcher.after_checkpoint:3` makes the process die (as SIGKILL would: no cleanup,
  no finally) the third time it passes that point. A point is a method of a service's adapter,
  wrapped here (`CRASH_POINTS`), so a test can kill a process at an exact place instead of
  racing a timer.
- `EMS_FAULT_SES_THROTTLE` / `EMS_FAULT_SES_5XX` (0 to 1): that share of SES sends is answered
  with throttling or a 503 before it leaves the process.
- `EMS_FAULT_DYNAMODB_THROTTLE` (0 to 1): that share of DynamoDB calls is answered with
  throttling, through the client's retry policy like a real throttle.

The SES and DynamoDB faults reach every client the service builds through
`ems_common.aws.add_client_hook`.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from botocore.awsrequest import AWSResponse, HTTPHeaders

from ems_common.aws import add_client_hook

logger = logging.getLogger(__name__)

FAULTS_VARIABLE: Final = "EMS_FAULTS"
# Each injected answer is logged with this prefix, then the service and the error code, so a
# fault run can count them in the services' logs (no address or request content is logged).
INJECTED_LOG_PREFIX: Final = "fault injected:"
_EXIT_LIKE_SIGKILL: Final = 137


@dataclass(frozen=True)
class CrashPoint:
    """Where a named crash point is: after `method` of `owner` in `module` returns.

    `when` says which results count (all by default): a claim that found the email done, say,
    is not the moment after a claim.
    """

    module: str
    owner: str
    method: str
    when: Callable[[Any], bool] = lambda _result: True


# The places the fault tests kill a process at, by the names they use (chaos/plan.py too).
CRASH_POINTS: Final[Mapping[str, CrashPoint]] = {
    # A campaign sender holds a fresh claim on a launcher batch and has not called SES yet.
    "sender.after_claim": CrashPoint(
        "ems_sender.dal.batches",
        "BatchRecords",
        "claim",
        when=lambda claim: str(claim.outcome) in {"claimed", "reclaimed"},
    ),
    # SES accepted a SendBulkEmail call; its sender has not recorded it yet.
    "sender.after_send": CrashPoint("ems_sender.dal.ses", "SesSender", "send_bulk"),
    # The launcher enqueued a batch of messages and has not checkpointed it yet.
    "launcher.after_send": CrashPoint("ems_common.dal.send_queue", "SendQueue", "send"),
    # The launcher checkpointed a batch (its lease renewed).
    "launcher.after_checkpoint": CrashPoint(
        "ems_common.dal.campaigns", "CampaignRepository", "hold_launch", when=bool
    ),
}


def parse_crash_spec(spec: str) -> dict[str, int]:
    """`name:count,name2` to {name: count} (a count of 1 when left out); unknown names refused."""
    counts: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = entry.partition(":")
        if name not in CRASH_POINTS:
            known = ", ".join(sorted(CRASH_POINTS))
            msg = f"{FAULTS_VARIABLE} names an unknown crash point {name!r}: use one of {known}"
            raise ValueError(msg)
        counts[name] = int(count or "1")
    return counts


def install_crash_points(
    counts: Mapping[str, int], die: Callable[[], None] = lambda: os._exit(_EXIT_LIKE_SIGKILL)
) -> None:
    """Wrap each named point's method so that the process dies the `count`-th time it passes."""
    hits: Counter[str] = Counter()
    for name, count in counts.items():
        point = CRASH_POINTS[name]
        owner = getattr(importlib.import_module(point.module), point.owner)
        original = getattr(owner, point.method)

        @functools.wraps(original)
        def wrapper(
            *args: Any,
            _name: str = name,
            _count: int = count,
            _point: CrashPoint = point,
            _original: Callable[..., Any] = original,
            **kwargs: Any,
        ) -> Any:
            result = _original(*args, **kwargs)
            if _point.when(result):
                hits[_name] += 1
                if hits[_name] >= _count:
                    die()
            return result

        setattr(owner, point.method, wrapper)


SES_THROTTLE_VARIABLE: Final = "EMS_FAULT_SES_THROTTLE"
SES_ERROR_VARIABLE: Final = "EMS_FAULT_SES_5XX"
# The calls that send email, in SES v1 and v2.
SES_SEND_OPERATIONS: Final = (
    "ses.SendTemplatedEmail",
    "ses.SendBulkTemplatedEmail",
    "sesv2.SendEmail",
    "sesv2.SendBulkEmail",
)


def install_ses_faults(
    client: Any, rng: random.Random | None = None, environ: Mapping[str, str] = os.environ
) -> None:
    """Make `client` answer some SES sends with throttling or a 5xx, as SES can.

    Probabilities come from `EMS_FAULT_SES_THROTTLE` and `EMS_FAULT_SES_5XX` (0 to 1); unset,
    nothing is installed. The fake answer short-circuits the call before it leaves the process
    (botocore's `before-call` event), so SES never sees the email.
    """
    throttle = float(environ.get(SES_THROTTLE_VARIABLE) or 0)
    server_error = float(environ.get(SES_ERROR_VARIABLE) or 0)
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

    for operation in SES_SEND_OPERATIONS:
        client.meta.events.register(f"before-call.{operation}", answer)


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


def install_dynamodb_faults(
    client: Any, rng: random.Random | None = None, environ: Mapping[str, str] = os.environ
) -> None:
    """Make `client` answer some DynamoDB calls with throttling, as an overloaded table does.

    The probability comes from `EMS_FAULT_DYNAMODB_THROTTLE` (0 to 1); unset, nothing is
    installed. The fake answer replaces the HTTP exchange (botocore's `before-send` event), so
    it goes through the client's retry policy like a real throttling answer: the code sees an
    error only when every attempt was throttled.
    """
    throttle = float(environ.get(DYNAMODB_THROTTLE_VARIABLE) or 0)
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


def _client_faults(service: str, client: Any) -> None:
    if service in {"ses", "sesv2"}:
        install_ses_faults(client)
    elif service == "dynamodb":
        install_dynamodb_faults(client)


def install_from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """Install every fault the environment asks for; True if any was asked for.

    Call it before the service builds its clients (the local runtime does, before loading the
    handler).
    """
    crashes = parse_crash_spec(environ.get(FAULTS_VARIABLE, ""))
    if crashes:
        install_crash_points(crashes)
    wanted = any(
        environ.get(name)
        for name in (SES_THROTTLE_VARIABLE, SES_ERROR_VARIABLE, DYNAMODB_THROTTLE_VARIABLE)
    )
    if wanted:
        add_client_hook(_client_faults)
    return bool(crashes) or wanted
