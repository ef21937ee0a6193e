"""Plain rules of SES v2 messages: recipients, headers, tags, template data. No LocalStack here.

Each rule names the AWS page it comes from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

Header = dict[str, str]  # {"Name": ..., "Value": ...}, the model's MessageHeader
Tag = dict[str, str]  # {"Name": ..., "Value": ...}, the model's MessageTag

# "Maximum number of recipients per message: 50 ... A recipient is any To, CC, or BCC address."
# https://docs.aws.amazon.com/ses/latest/dg/quotas.html (SendBulkEmail: the same 50 across all
# its entries, as SendBulkTemplatedEmail documents: "The message may not include more than 50
# recipients, across the To:, CC: and BCC: fields" -
# https://docs.aws.amazon.com/ses/latest/APIReference/API_SendBulkTemplatedEmail.html).
MAX_RECIPIENTS: Final = 50

# MessageTag: "It can only contain ASCII letters (a-z, A-Z), numbers (0-9), underscores (_), or
# dashes (-). It can contain no more than 256 characters." (name and value alike)
# https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html
_TAG_TEXT: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
# SES's own auto-tags (ses:configuration-set ...) carry this prefix; LocalStack's v1 provider
# checks a tag name without it too.
SES_TAG_PREFIX: Final = "ses:"

# MessageHeader: "The combined length of the header name and value must not exceed 996
# characters." https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageHeader.html
MAX_HEADER_LENGTH: Final = 996

# "The following fields can't appear more than once in the header section of a message"
# https://docs.aws.amazon.com/ses/latest/dg/header-fields.html
SINGLE_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        "Accept-Language",
        "acceptLanguage",
        "Archived-At",
        "Auto-Submitted",
        "Bounces-to",
        "Comments",
        "Content-Alternative",
        "Content-Base",
        "Content-Class",
        "Content-Description",
        "Content-Disposition",
        "Content-Duration",
        "Content-ID",
        "Content-Language",
        "Content-Length",
        "Content-Location",
        "Content-MD5",
        "Content-Transfer-Encoding",
        "Content-Type",
        "Date",
        "Delivered-To",
        "Disposition-Notification-Options",
        "Disposition-Notification-To",
        "DKIM-Signature",
        "DomainKey-Signature",
        "Errors-To",
        "From",
        "Importance",
        "In-Reply-To",
        "Keywords",
        "List-Archive",
        "List-Help",
        "List-Id",
        "List-Owner",
        "List-Post",
        "List-Subscribe",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Message-Context",
        "Message-ID",
        "MIME-Version",
        "Organization",
        "Original-From",
        "Original-Message-ID",
        "Original-Recipient",
        "Original-Subject",
        "Precedence",
        "Priority",
        "References",
        "Reply-To",
        "Return-Path",
        "Return-Receipt-To",
        "Sender",
        "Solicitation",
        "Sensitivity",
        "Subject",
        "Thread-Index",
        "Thread-Topic",
        "User-Agent",
        "VBR-Info",
    )
)


def recipients(destination: Mapping[str, Sequence[str]] | None) -> list[str]:
    """Every To, CC and BCC address of a Destination, in that order."""
    if not destination:
        return []
    return [
        *destination.get("ToAddresses", []),
        *destination.get("CcAddresses", []),
        *destination.get("BccAddresses", []),
    ]


def recipient_count_problem(count: int) -> str | None:
    """Why `count` recipients cannot go in one message (or one bulk call), or None."""
    if count == 0:
        # "The message must include at least one recipient email address." (SendEmail, v1 and
        # v2 alike; each BulkEmailEntry's Destination likewise.)
        return "the message has no recipient: give at least one To, CC or BCC address"
    if count > MAX_RECIPIENTS:
        return f"Recipient count exceeds {MAX_RECIPIENTS} (got {count}): split the send"
    return None


def merge_headers(defaults: Iterable[Header], replacements: Iterable[Header]) -> list[Header]:
    """A bulk entry's headers: the template's, with the entry's taking precedence by name.

    "If a header is specified in BulkEmailEntry, it takes precedence over any header of the same
    name specified in Template ... If the header is not defined within Template, it will simply
    be added" (BulkEmailEntry.ReplacementHeaders,
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_BulkEmailEntry.html). Header
    names are case-insensitive (RFC 5322 section 1.2.2).
    """
    merged = [dict(header) for header in defaults]
    for header in replacements:
        same = [h for h in merged if h["Name"].lower() == header["Name"].lower()]
        if same:
            for h in same:
                h["Value"] = header["Value"]
        else:
            merged.append(dict(header))
    return merged


def header_problems(headers: Iterable[Header]) -> list[str]:
    """Headers SES refuses: too long, or a once-only field given twice."""
    problems: list[str] = []
    seen: set[str] = set()
    for header in headers:
        name, value = header["Name"], header["Value"]
        if len(name) + len(value) > MAX_HEADER_LENGTH:
            problems.append(
                f"header {name} is {len(name) + len(value)} characters long (name and value);"
                f" at most {MAX_HEADER_LENGTH} allowed"
            )
        key = name.lower()
        if key in SINGLE_HEADERS and key in seen:
            problems.append(f"header {name} can't appear more than once in a message")
        seen.add(key)
    return problems


def merge_tags(defaults: Iterable[Tag], replacements: Iterable[Tag]) -> list[Tag]:
    """A bulk entry's tags: DefaultEmailTags, with the entry's ReplacementTags winning by name.

    AWS documents both lists (API_SendBulkEmail, API_BulkEmailEntry) but not how they combine;
    the SES v1 API it mirrors describes DefaultTags as the tags "to apply to an email ... sent to
    a destination" and ReplacementTags as per-destination ones. Keeping both, the entry's value
    for a name it repeats, loses nothing the caller set.
    """
    by_name = {tag["Name"]: tag["Value"] for tag in defaults}
    by_name.update({tag["Name"]: tag["Value"] for tag in replacements})
    return [{"Name": name, "Value": value} for name, value in by_name.items()]


def tag_problems(tags: Iterable[Tag]) -> list[str]:
    """Tags whose name or value breaks SES's character rule (API_MessageTag)."""
    problems: list[str] = []
    for tag in tags:
        name, value = tag["Name"], tag["Value"]
        if not _TAG_TEXT.fullmatch(name.removeprefix(SES_TAG_PREFIX)):
            problems.append(f"tag name {name!r}: use 1-256 ASCII letters, digits, '_' or '-'")
        if not _TAG_TEXT.fullmatch(value):
            problems.append(
                f"tag {name} value {value!r}: use 1-256 ASCII letters, digits, '_' or '-'"
            )
    return problems


def parse_template_data(text: str | None, *, field: str) -> dict[str, Any]:
    """Template data as a dict; ValueError saying what to fix when it is not a JSON object.

    Template.TemplateData: "An object that defines the values to use for message variables in
    the template. This object is a set of key-value pairs."
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Template.html
    """
    if text is None or text == "":
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        msg = f"{field} is not valid JSON ({exc}): give a JSON object of template variables"
        raise ValueError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{field} must be a JSON object of template variables, got {type(data).__name__}"
        raise ValueError(msg)
    return data


def template_name(template: Mapping[str, Any]) -> str | None:
    """The template a Content.Template names: TemplateName, else the name in TemplateArn."""
    name = template.get("TemplateName")
    if name:
        return str(name)
    arn = template.get("TemplateArn")
    # arn:aws:ses:<region>:<account>:template/<name>
    if arn and "template/" in arn:
        return str(arn.split("template/", 1)[1])
    return None


def auto_tags(
    operation: str, *, configuration_set: str | None, sender: str, source_ip: str | None
) -> list[Tag]:
    """The tags SES adds to every event of a send, besides the caller's (its "auto-tags").

    AWS's event examples carry ses:configuration-set, ses:source-ip and ses:from-domain in
    mail.tags (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html);
    events captured from SES also carry ses:operation, the API call that sent the message
    ("SendRawEmail", "SendEmail", "SendBulkEmail"). ses:caller-identity and ses:outgoing-ip
    name an IAM user and an SES sending IP, which do not exist here, so they are left out.
    """
    tags = [{"Name": "ses:operation", "Value": operation}]
    if configuration_set:
        tags.append({"Name": "ses:configuration-set", "Value": configuration_set})
    if source_ip:
        tags.append({"Name": "ses:source-ip", "Value": source_ip})
    domain = sender.rpartition("@")[2].rstrip(">").strip()
    if domain:
        tags.append({"Name": "ses:from-domain", "Value": domain})
    return tags


def event_headers(
    *,
    sender: str,
    destination: Mapping[str, Sequence[str]],
    subject: str | None,
    custom: Iterable[Header],
    message_id: str,
) -> dict[str, Any]:
    """The `mail` members SES event records carry about headers, for a message SES assembled.

    Shape as in AWS's event examples (mail.headersTruncated, mail.headers as name/value pairs,
    mail.commonHeaders): https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html
    """
    to, cc = list(destination.get("ToAddresses", [])), list(destination.get("CcAddresses", []))
    headers = [{"name": "From", "value": sender}]
    if to:
        headers.append({"name": "To", "value": ", ".join(to)})
    if cc:
        headers.append({"name": "Cc", "value": ", ".join(cc)})
    if subject is not None:
        headers.append({"name": "Subject", "value": subject})
    headers.append({"name": "MIME-Version", "value": "1.0"})
    headers += [{"name": h["Name"], "value": h["Value"]} for h in custom]
    common: dict[str, Any] = {"from": [sender], "to": to, "messageId": message_id}
    if cc:
        common["cc"] = cc
    if subject is not None:
        common["subject"] = subject
    return {"headersTruncated": False, "headers": headers, "commonHeaders": common}
