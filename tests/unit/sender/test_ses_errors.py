"""SES v2's answers sorted by what the sender does about them, from a real botocore client
(its answers stubbed at the HTTP layer's edge)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from ems_common.formats.campaign_file import CampaignFileLine
from ems_sender.dal.ses import (
    AmbiguousSendError,
    MissingSetupError,
    PermanentSendError,
    SenderRefusedError,
    SendingPausedError,
    SesSender,
    ThrottledError,
    TransientSendError,
)

LINE = CampaignFileLine.for_recipient(
    from_email_address="News <news@example.com>",
    to_address="ann@example.org",
    template_name="t",
    template_data={},
    campaign_id="c1",
    segment_id="s",
    configuration_set_name="ems",
)


def _client() -> Any:
    return boto3.client(
        "sesv2",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _answer(code: str, message: str, status: int = 400) -> type[Exception]:
    client = _client()
    sender = SesSender(client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_email", service_error_code=code, service_message=message, http_status_code=status
        )
        try:
            sender.send(LINE)
        except Exception as error:
            return type(error)
    pytest.fail("SES's error answer raised nothing")


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        ("TooManyRequestsException", "Maximum sending rate exceeded.", ThrottledError),
        ("LimitExceededException", "Daily message quota exceeded.", ThrottledError),
        ("SendingPausedException", "Sending is paused for this account.", SendingPausedError),
        ("AccessDeniedException", "not authorized to perform ses:SendEmail", SenderRefusedError),
        ("MailFromDomainNotVerifiedException", "MAIL FROM not verified", SenderRefusedError),
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in"
            " region US-EAST-1: news@example.com",
            SenderRefusedError,
        ),
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in"
            " region US-EAST-1: ann@example.org",  # the sandbox refuses this recipient
            PermanentSendError,
        ),
        ("NotFoundException", "Configuration set <gone> does not exist.", MissingSetupError),
        ("BadRequestException", "Illegal address", PermanentSendError),
    ],
)
def test_each_answer_is_sorted_by_what_to_do(code: str, message: str, kind: type) -> None:
    assert _answer(code, message) is kind


def test_a_server_error_is_transient() -> None:
    assert _answer("InternalFailure", "oops", status=500) is TransientSendError


def test_a_read_timeout_after_the_request_left_is_ambiguous() -> None:
    client = _client()
    sender = SesSender(client)

    def lost(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    client.meta.events.register("before-send.sesv2.SendEmail", lost)
    with pytest.raises(AmbiguousSendError, match="ReadTimeoutError"):
        sender.send(LINE)
