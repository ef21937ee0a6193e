"""What a campaign candidate and a transactional request both accept, checked the same way.

S3 object URIs (templates, candidates), subjects, sender addresses and SES configuration set
names: pydantic types whose errors say what to fix.
"""

import re
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# Bucket names: 3-63 lowercase letters, digits, dots and dashes, starting and ending alphanumeric.
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)")
# SES's rule for configuration set names.
_CONFIGURATION_SET = re.compile(r"[A-Za-z0-9_-]{1,64}")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``; raise ValueError saying what is wrong."""
    match = _S3_URI.fullmatch(uri)
    if match is None or match["key"].endswith("/"):
        raise PydanticCustomError(
            "s3_uri",
            "{value} is not an S3 object URI: write it like s3://my-bucket/templates/welcome.html",
            {"value": repr(uri[:120])},
        )
    return match["bucket"], match["key"]


def _check_s3_uri(uri: str) -> str:
    split_s3_uri(uri)
    return uri


def _check_subject(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError(
            "subject_blank",
            "is blank: write a subject, or leave the field out to use the template's <title>",
        )
    if "\r" in text or "\n" in text:
        raise PydanticCustomError(
            "subject_line_break", "contains a line break: write the subject on one line"
        )
    return text


def _check_from_address(text: str) -> str:
    shown = repr(text[:120])
    if not text.isascii():
        # SES takes 7-bit ASCII addresses; a non-ASCII display name needs MIME encoding.
        raise PydanticCustomError(
            "from_address_ascii",
            "{value} contains non-ASCII characters: SES needs a plain ASCII sender, or a display "
            "name MIME-encoded like =?UTF-8?B?...?= <news@mail.example.com>",
            {"value": shown},
        )
    try:
        validate_email(
            text, allow_display_name=True, allow_smtputf8=False, check_deliverability=False
        )
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "from_address",
            "{value} is not a sender address ({reason}): write it like "
            "news@mail.example.com or News <news@mail.example.com>",
            {"value": shown, "reason": str(error)},
        ) from None
    return text


def _check_configuration_set(text: str) -> str:
    if _CONFIGURATION_SET.fullmatch(text) is None:
        raise PydanticCustomError(
            "configuration_set",
            "{value} is not an SES configuration set name: 1 to 64 ASCII letters, digits, "
            "'_' and '-'",
            {"value": repr(text[:120])},
        )
    return text


S3Uri = Annotated[str, AfterValidator(_check_s3_uri)]
"""An ``s3://bucket/key`` URI naming one object."""

Subject = Annotated[str, AfterValidator(_check_subject)]
"""An email subject: one line, not blank (it may hold Handlebars placeholders)."""

FromAddress = Annotated[str, AfterValidator(_check_from_address)]
"""An ASCII sender address, optionally with a display name: ``News <news@example.com>``."""

ConfigurationSetName = Annotated[str, AfterValidator(_check_configuration_set)]
"""An SES configuration set name."""


def sender_domain_problem(from_address: str, sender_domain: str) -> str | None:
    """Why SES would refuse `from_address` for this deployment, or None.

    EMS sends from one SES identity, the sender domain, and its role may send only From that
    domain: any other From is refused by SES at the first email (AccessDenied), so it is
    refused here, at create, instead.
    """
    address = from_address.rsplit("<", 1)[-1].rstrip(">").strip()
    domain = address.rpartition("@")[2].lower()
    if domain == sender_domain.lower():
        return None
    return (
        f"{address!r} is not on the sender domain {sender_domain}: EMS sends only from"
        f" addresses @{sender_domain} (its verified SES identity); use one, or leave the field"
        " out for the default"
    )


def configuration_set_problem(name: str, allowed: frozenset[str]) -> str | None:
    """Why `name` is no configuration set EMS may send through, or None."""
    if name in allowed:
        return None
    return (
        f"{name!r} is not a configuration set of this deployment (EMS tracks its email only"
        f" through {', '.join(sorted(allowed))}): use one of them, or leave the field out"
    )
