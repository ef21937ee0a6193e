"""The SES v2 errors this provider answers, as botocore's `sesv2` model declares them.

Codes and HTTP statuses are the model's error shapes (`MessageRejected` 400,
`BadRequestException` 400, `NotFoundException` 404, ...), so boto3 raises
`client.exceptions.<Code>` exactly as it does against AWS. LocalStack serialises a
`ServiceException` with its `code` as the rest-json error type.
"""

from __future__ import annotations

from localstack.aws.api import ServiceException


class Sesv2Error(ServiceException):
    """An SES v2 error; subclasses carry the model's code and status."""

    code: str = "InternalServiceErrorException"
    status_code: int = 500
    sender_fault: bool = False


class BadRequestError(Sesv2Error):
    """The input is invalid (the model: "The input you provided is invalid")."""

    code = "BadRequestException"
    status_code = 400
    sender_fault = True


class MessageRejectedError(Sesv2Error):
    """The message cannot be sent (an unverified sender, for one)."""

    code = "MessageRejected"
    status_code = 400
    sender_fault = True


class NotFoundError(Sesv2Error):
    """A named resource (template, configuration set) does not exist."""

    code = "NotFoundException"
    status_code = 404
    sender_fault = True


class AlreadyExistsError(Sesv2Error):
    """A resource with that name exists already (CreateEmailTemplate)."""

    code = "AlreadyExistsException"
    status_code = 400
    sender_fault = True


class SendingPausedError(Sesv2Error):
    """Sending is paused for the account, or for the configuration set (the model's
    SendingPausedException: "The message can't be sent because the account's ability to send
    email is currently paused")."""

    code = "SendingPausedException"
    status_code = 400
    sender_fault = True


class InternalServiceError(Sesv2Error):
    """The emulator built an answer its own model rejects: a bug here, not in the caller."""

    code = "InternalServiceErrorException"
    status_code = 500
    sender_fault = False


class LimitExceededError(Sesv2Error):
    """A quota would be exceeded (the model's LimitExceededException: "There are too many
    instances of the specified resource type"), such as 10 event destinations in a set."""

    code = "LimitExceededException"
    status_code = 400
    sender_fault = True
