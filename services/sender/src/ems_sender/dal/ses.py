"""SES v2 `SendEmail` and `SendBulkEmail`, with errors sorted by what to do about them.

A campaign-file line is the `SendEmail` request (`CampaignFileLine.send_email_request`), so what
the compiler wrote is what SES gets. boto3 would retry throttling silently; the sender's client
makes one attempt per call (`max_attempts=1`) and owns the retry policy, and a botocore event
hook counts every throttling answer SES gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
)

from ems_common.formats.campaign_file import CampaignFileLine, send_bulk_email_request

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Slow down: the account's send rate (TooManyRequestsException) or its daily quota
# (LimitExceededException) is used up for now. "Throttling" is the generic AWS code.
THROTTLING_CODES: Final = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
# SES refuses this one email for good: sending it again would fail again.
PERMANENT_CODES: Final = frozenset(
    {
        "MessageRejected",  # e.g. a recipient SES will not mail (in the sandbox: unverified)
        "BadRequestException",  # a parameter SES refuses (an address, the template data ...)
    }
)
# What SES was asked to use (the template, the configuration set) is gone: a setup problem.
MISSING_SETUP_CODES: Final = frozenset({"NotFoundException"})
# SES has paused sending, for the account or the configuration set (SES's review, or an
# operator), or suspended the account: every email would get the same answer. Hold and retry
# (less and less often); nothing failed, and sending goes on when SES lifts it.
PAUSED_CODES: Final = frozenset({"SendingPausedException", "AccountSuspendedException"})
# SES refuses the sender itself: its identity, its MAIL FROM domain, EMS's permission. Every
# email of the same From would get the same answer: not an email's failure, a setup one.
SENDER_REFUSED_CODES: Final = frozenset(
    {"AccessDeniedException", "AccessDenied", "MailFromDomainNotVerifiedException"}
)
# SES may have taken the email before the answer was lost: sent or not is unknown.
_AMBIGUOUS: Final = (ReadTimeoutError, ConnectionClosedError)


class ThrottledError(Exception):
    """SES said slow down (rate or daily quota): try again later, nothing is wrong."""


class PermanentSendError(Exception):
    """SES refused this email for good; the reason says why."""


class TransientSendError(Exception):
    """SES or the network failed this time (5xx, timeout): retry with backoff."""


class MissingSetupError(PermanentSendError):
    """The template or configuration set SES was asked for does not exist: this email fails for
    good, and so would every other email of its campaign (which is paused instead)."""


class SendingPausedError(Exception):
    """SES paused sending (the account, or the configuration set): hold, retry later."""


class SenderRefusedError(Exception):
    """SES refused the sender (unverified identity, MAIL FROM, permission): fix the setup."""


class AmbiguousSendError(Exception):
    """The request left, the answer was lost: SES may have accepted the email."""


def _refuses_the_sender(code: str, message: str, line: CampaignFileLine) -> bool:
    """SES's "not verified" MessageRejected names the identities that failed: the sender's
    (a setup problem) or, in the sandbox, the recipient's (this email's)."""
    if code in SENDER_REFUSED_CODES:
        return True
    if code != "MessageRejected" or "not verified" not in message.lower():
        return False
    text = message.lower()
    if line.to_address.lower() in text:
        return False  # the sandbox refused this recipient
    sender = line.from_email_address.rsplit("<", 1)[-1].rstrip(">").strip().lower()
    return sender in text or sender.rpartition("@")[2] in text


@dataclass
class SesCounters:
    """What SES answered, counted at the client."""

    throttled: int = 0
    calls: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


class SesSender:
    """Sends campaign-file lines through SES v2."""

    def __init__(self, client: SESV2Client) -> None:
        self._ses = client
        self.counters = SesCounters()
        client.meta.events.register("after-call.sesv2.SendEmail", self._count)
        client.meta.events.register("after-call.sesv2.SendBulkEmail", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.counters.calls += 1
        code = parsed.get("Error", {}).get("Code")
        if code:
            self.counters.by_code[code] = self.counters.by_code.get(code, 0) + 1
            if code in THROTTLING_CODES:
                self.counters.throttled += 1

    def send(self, line: CampaignFileLine) -> str:
        """SES's message id for the email, or one of the errors above."""
        try:
            response = self._ses.send_email(**line.send_email_request())
        except ClientError as error:
            raise _call_error(error, line) from error
        except _AMBIGUOUS as error:
            raise AmbiguousSendError(f"{type(error).__name__}: {error}") from error
        except BotoCoreError as error:
            raise TransientSendError(f"{type(error).__name__}: {error}") from error
        return response["MessageId"]

    def send_bulk(
        self, lines: Sequence[CampaignFileLine], *, extra_tags: Mapping[str, str] | None = None
    ) -> list[EntryResult]:
        """One SendBulkEmail call for `lines` (one segment's, `send_bulk_email_request`): each
        line's outcome, by kind. An error of the whole call (throttling, SES's pause, a refused
        sender, a lost answer ...) raises as `send` does: it is every line's."""
        request = send_bulk_email_request(lines, extra_tags=extra_tags)
        try:
            response = self._ses.send_bulk_email(**request)
        except ClientError as error:
            raise _call_error(error, lines[0]) from error
        except _AMBIGUOUS as error:
            raise AmbiguousSendError(f"{type(error).__name__}: {error}") from error
        except BotoCoreError as error:
            raise TransientSendError(f"{type(error).__name__}: {error}") from error
        results = response["BulkEmailEntryResults"]
        if len(results) != len(lines):
            # SES answers one result per entry, in order; anything else cannot be matched up.
            msg = f"SendBulkEmail answered {len(results)} results for {len(lines)} entries"
            raise AmbiguousSendError(msg)
        return [_entry_result(result, line) for result, line in zip(results, lines, strict=True)]


class SendKind(StrEnum):
    """What one email's SES outcome asks the sender to do."""

    SENT = "sent"
    REFUSED = "refused"  # this email, for good (FAILED)
    THROTTLED = "throttled"  # later, soon
    PAUSED = "paused"  # SES paused or suspended sending: hold
    SENDER_REFUSED = "sender_refused"  # the campaign's sender: pause the campaign
    MISSING_SETUP = "missing_setup"  # its template or configuration set is gone: pause
    TRANSIENT = "transient"  # later, after a backoff


@dataclass(frozen=True)
class EntryResult:
    """One email's outcome in a bulk call."""

    kind: SendKind
    message_id: str | None = None
    error: str | None = None


# SendBulkEmail's per-entry statuses (BulkEmailEntryResult.Status), by what they ask for.
_ENTRY_KINDS: Final = {
    "SUCCESS": SendKind.SENT,
    "MESSAGE_REJECTED": SendKind.REFUSED,
    "INVALID_PARAMETER": SendKind.REFUSED,
    "MAIL_FROM_DOMAIN_NOT_VERIFIED": SendKind.SENDER_REFUSED,
    "CONFIGURATION_SET_NOT_FOUND": SendKind.MISSING_SETUP,
    "TEMPLATE_NOT_FOUND": SendKind.MISSING_SETUP,
    "INVALID_SENDING_POOL_NAME": SendKind.MISSING_SETUP,
    "ACCOUNT_SUSPENDED": SendKind.PAUSED,
    "ACCOUNT_SENDING_PAUSED": SendKind.PAUSED,
    "CONFIGURATION_SET_SENDING_PAUSED": SendKind.PAUSED,
    "ACCOUNT_THROTTLED": SendKind.THROTTLED,
    "ACCOUNT_DAILY_QUOTA_EXCEEDED": SendKind.THROTTLED,
    "TRANSIENT_FAILURE": SendKind.TRANSIENT,
    "FAILED": SendKind.TRANSIENT,
}


def _entry_result(result: Mapping[str, Any], line: CampaignFileLine) -> EntryResult:
    status = str(result.get("Status", "FAILED"))
    error = str(result.get("Error") or status)
    kind = _ENTRY_KINDS.get(status, SendKind.TRANSIENT)  # an unknown status: try again later
    if kind is SendKind.SENT:
        return EntryResult(SendKind.SENT, message_id=str(result.get("MessageId") or ""))
    if kind is SendKind.REFUSED and _refuses_the_sender("MessageRejected", error, line):
        kind = SendKind.SENDER_REFUSED
    return EntryResult(kind, error=f"{status}: {error}")


def _call_error(error: ClientError, line: CampaignFileLine) -> Exception:
    """The sender's exception for an SES error answer to a call carrying `line`."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code in THROTTLING_CODES:
        return ThrottledError(message or code)
    if code in PAUSED_CODES:
        return SendingPausedError(f"{code}: {message}")
    if _refuses_the_sender(code, message, line):
        return SenderRefusedError(f"{code}: {message}")
    if code in MISSING_SETUP_CODES:
        return MissingSetupError(f"{code}: {message}")
    if code in PERMANENT_CODES:
        return PermanentSendError(f"{code}: {message}")
    return TransientSendError(f"{code}: {message}")
