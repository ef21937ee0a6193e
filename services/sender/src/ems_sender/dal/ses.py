"""SES v2 `SendEmail`, with errors sorted by what to do about them.

A campaign-file line is the `SendEmail` request (`CampaignFileLine.send_email_request`), so what
the compiler wrote is what SES gets. boto3 would retry throttling silently; the sender's client
makes one attempt per call (`max_attempts=1`) and owns the retry policy, and a botocore event
hook counts every throttling answer SES gives.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from ems_common.formats.campaign_file import CampaignFileLine

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Slow down: the account's send rate (TooManyRequestsException) or its daily quota
# (LimitExceededException) is used up for now. "Throttling" is the generic AWS code.
THROTTLING_CODES: Final = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
# SES refuses these for good: sending again would fail again (SES v2 SendEmail's errors).
PERMANENT_CODES: Final = frozenset(
    {
        "MessageRejected",  # e.g. an unverified sender, or a recipient SES will not mail
        "MailFromDomainNotVerifiedException",
        "NotFoundException",  # the template or configuration set does not exist
        "BadRequestException",  # a parameter SES refuses (an address, the template data ...)
        "AccountSuspendedException",
        "SendingPausedException",
    }
)


class ThrottledError(Exception):
    """SES said slow down (rate or daily quota): try again later, nothing is wrong."""


class PermanentSendError(Exception):
    """SES refused this email for good; the reason says why."""


class TransientSendError(Exception):
    """SES or the network failed this time (5xx, timeout): retry with backoff."""


@dataclass
class SesCounters:
    """What SES answered, counted at the client."""

    throttled: int = 0
    calls: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


class SesSender:
    """Sends campaign-file lines through SES v2."""

    def __init__(self, client: "SESV2Client") -> None:
        self._ses = client
        self.counters = SesCounters()
        client.meta.events.register("after-call.sesv2.SendEmail", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.counters.calls += 1
        code = parsed.get("Error", {}).get("Code")
        if code:
            self.counters.by_code[code] = self.counters.by_code.get(code, 0) + 1
            if code in THROTTLING_CODES:
                self.counters.throttled += 1

    def send(self, line: CampaignFileLine) -> str:
        """SES's message id for the email, or one of the three errors."""
        try:
            response = self._ses.send_email(**line.send_email_request())
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code in THROTTLING_CODES:
                raise ThrottledError(message or code) from error
            if code in PERMANENT_CODES:
                raise PermanentSendError(f"{code}: {message}") from error
            raise TransientSendError(f"{code}: {message}") from error
        except BotoCoreError as error:
            raise TransientSendError(f"{type(error).__name__}: {error}") from error
        return response["MessageId"]
