"""The `sesv2` provider: SES v2 sends on LocalStack's SES v1 machinery.

What is reused rather than rewritten:
- moto's SES backend (the one LocalStack's v1 provider uses): verified identities, the template
  store (a template made by v1 CreateTemplate is the v2 template of that name, as in AWS, where
  both APIs share one store), template rendering, configuration sets and their event
  destinations, and the send count GetSendQuota reports. Every message is also recorded there
  through the backend's own send_* calls, so v1 GetSendQuota / GetSendStatistics count it.
- LocalStack's `/_aws/ses` record (`ses_v1.EMAILS`, as `save_for_retrospection` keeps it), one
  entry per message, with `Headers` and `Tags` added to the v1 keys (`record_sent_email`).
- LocalStack's configuration-set emitter for Send and Delivery events, published to the
  configuration set's SNS and Firehose destinations through LocalStack's own clients (events.py).
  Destinations made with v2 are kept on the same moto backend, beside the one v1 keeps, and a v2
  listing shows both, as AWS shares them between the two APIs.

Behaviours follow AWS's pages, named where each rule is applied. Handlers take the parsed
request whole (`expand=False`), check it against botocore's `sesv2` model, and check their
answer against the output shape before returning it.
"""

from __future__ import annotations

import email
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any, Final, cast

from botocore.model import OperationModel
from localstack.aws.api import RequestContext, handler
from localstack.aws.api.ses import MessageTag
from localstack.services.plugins import ServiceLifecycleHook
from localstack.services.ses import provider as ses_v1
from localstack.services.ses.models import SentEmailBody
from localstack.services.ses.provider import EventDestinationPayload, register_ses_api_resource
from localstack.state import StateVisitor
from localstack.utils.time import timestamp
from moto.ses import exceptions as moto_errors
from moto.ses.models import SESBackend, ses_backends
from moto.ses.template import parse_template
from moto.ses.utils import is_valid_address

from ems_localstack_sesv2 import content, destinations
from ems_localstack_sesv2.errors import (
    AlreadyExistsError,
    BadRequestError,
    InternalServiceError,
    LimitExceededError,
    MessageRejectedError,
    NotFoundError,
    SendingPausedError,
    Sesv2Error,
)
from ems_localstack_sesv2.events import Event, message_events, publish_events
from ems_localstack_sesv2.schema import request_problems, response_problems, without_nones

LOG = logging.getLogger(__name__)

# GetAccount's SendQuota mirrors LocalStack's v1 GetSendQuota (moto's SESQuota: 200 emails a
# day, 1 a second, the sandbox defaults of https://docs.aws.amazon.com/ses/latest/dg/quotas.html);
# these variables of LocalStack's process override the two limits.
MAX_SEND_RATE_ENV: Final = "EMS_SESV2_MAX_SEND_RATE"
MAX_24_HOUR_SEND_ENV: Final = "EMS_SESV2_MAX_24_HOUR_SEND"

# BulkEmailEntryResult.Status values (botocore's BulkEmailStatus enum)
SUCCESS: Final = "SUCCESS"
MESSAGE_REJECTED: Final = "MESSAGE_REJECTED"
INVALID_PARAMETER: Final = "INVALID_PARAMETER"
FAILED: Final = "FAILED"

# Where v2's event destinations are kept on moto's SES backend, by configuration set and name
# (moto's own store, v1's, holds one destination per set: LocalStack's FIXME).
_V2_DESTINATIONS: Final = "ems_sesv2_event_destinations"


@dataclass(frozen=True)
class Rendered:
    """A template's parts with the data filled in."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class TemplateSource:
    """Where a message's template comes from: the store (by name) or the request (inline)."""

    name: str | None
    subject: str
    text: str
    html: str


def ses_backend(context: RequestContext) -> SESBackend:
    """moto's SES backend of the caller's account and region: the store v1 calls use."""
    backend: SESBackend = ses_backends[context.account_id][context.region]
    return backend


@contextmanager
def moto_errors_as_v2() -> Iterator[None]:
    """moto's SES v1 errors as their SES v2 counterparts (v2 has no v1-specific codes)."""
    try:
        yield
    except moto_errors.MessageRejectedError as exc:
        raise MessageRejectedError(exc.message) from exc
    except moto_errors.InvalidParameterValue as exc:
        raise BadRequestError(exc.message) from exc
    except moto_errors.TemplateDoesNotExist as exc:
        raise NotFoundError(exc.message) from exc


def _checked_request(context: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
    """The request without its absent (None) members; BadRequestException if it breaks the model."""
    operation = cast(OperationModel, context.operation)
    if problems := request_problems(operation, request):
        raise BadRequestError("; ".join(problems))
    cleaned: dict[str, Any] = without_nones(request)
    return cleaned


def _checked_response(context: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
    operation = cast(OperationModel, context.operation)
    if problems := response_problems(operation, response):
        LOG.error("sesv2 %s answer breaks its output shape: %s", operation.name, problems)
        raise InternalServiceError("; ".join(problems))
    return response


def _require_verified_sender(backend: SESBackend, sender: str, region: str) -> None:
    """MessageRejected for an unverified sender, in SES's words.

    "FromEmailAddress: The email address ... has to be verified" (API_SendEmail,
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html). moto's check is
    LocalStack's v1 one: the address, or its domain, is an identity.
    """
    if not backend._is_verified_address(sender):  # moto's own check, reused
        backend.rejected_messages_count += 1
        msg = (
            "Email address is not verified. The following identities failed the check in"
            f" region {region.upper()}: {sender}"
        )
        raise MessageRejectedError(msg)


def _require_configuration_set(backend: SESBackend, name: str | None) -> None:
    """NotFoundException for a configuration set that does not exist.

    NotFoundException: "The resource you attempted to access doesn't exist" (API_SendEmail
    errors); LocalStack's v1 words for the same case.
    """
    if name and name not in backend.config_sets:
        raise NotFoundError(f"Configuration set <{name}> does not exist.")


def _address_problems(addresses: list[str]) -> list[str]:
    """Addresses SES refuses: "If a recipient email address is invalid ... the entire message is
    rejected" (https://docs.aws.amazon.com/ses/latest/APIReference/API_SendEmail.html); moto's
    check (an @ and a domain), as LocalStack's v1 sends apply it.
    """
    return [f"{a}: {problem}" for a in addresses if (problem := is_valid_address(a))]


def _template_source(backend: SESBackend, template: Mapping[str, Any]) -> TemplateSource:
    """The template of Content.Template: inline TemplateContent, or one from the store."""
    inline = template.get("TemplateContent")
    if inline is not None:
        return TemplateSource(
            None, inline.get("Subject", ""), inline.get("Text", ""), inline.get("Html", "")
        )
    name = content.template_name(template)
    if name is None:
        msg = "Content.Template needs a TemplateName, a TemplateArn or TemplateContent"
        raise BadRequestError(msg)
    try:
        stored = backend.get_template(name)
    except moto_errors.TemplateDoesNotExist as exc:
        # NotFoundException (API_SendEmail errors), as v1 answers TemplateDoesNotExist
        raise NotFoundError(f"Template {name} does not exist.") from exc
    return TemplateSource(
        name,
        str(stored.get("subject_part") or ""),
        str(stored.get("text_part") or ""),
        str(stored.get("html_part") or ""),
    )


def _as_text(value: Any) -> Any:
    """Template data as moto's renderer takes it: numbers and booleans as the text JSON gives."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    return value


def render(source: TemplateSource, data: Mapping[str, Any]) -> Rendered | None:
    """The template rendered with moto's renderer, or None when data is missing for it.

    SES accepts such a send and reports a Rendering Failure event later ("The email wasn't sent
    because of a template rendering issue", https://docs.aws.amazon.com/ses/latest/dg/monitor-sending-activity.html);
    LocalStack emits no such event, so the message is recorded without a rendered body.
    """
    values = _as_text(dict(data))
    try:
        return Rendered(
            parse_template(source.subject, values),
            parse_template(source.text, values),
            parse_template(source.html, values),
        )
    except moto_errors.MissingRenderingAttributeException as exc:
        LOG.info("sesv2: template %s not rendered: %s", source.name, exc.message)
        return None


def _sender_of(request: Mapping[str, Any]) -> str:
    sender = request.get("FromEmailAddress")
    if not sender:
        msg = "FromEmailAddress is required: give the verified address the email comes from"
        raise BadRequestError(msg)
    return str(sender)


class _SnapshotEmails(dict[str, Any]):
    """LocalStack's record of the sent messages (`ses_v1.EMAILS`), whose `values()` is a
    snapshot.

    `GET /_aws/ses` iterates `EMAILS.values()` live, and fails ("dictionary changed size during
    iteration", a 500) whenever a message is saved meanwhile: while a campaign sends, nearly
    every listing once the record holds thousands. Patching the handler is not enough: the
    route binds it when it is registered, which the v1 provider does first if a v1 call (such as
    Terraform's SES resources) comes before any v2 one. The handler,
    `save_for_retrospection` (v1 sends) and `record_sent_email` (v2 sends) look the dict up in
    their module when called, so this one serves them whichever registered the route. `list()`
    of the values is one step under the GIL.
    """

    def values(self) -> list[Any]:  # type: ignore[override]  # a list, not a live view
        return list(super().values())


def record_sent_email(sent_email: dict[str, Any]) -> None:
    """Add a sent message to LocalStack's record at `/_aws/ses`, as `save_for_retrospection`
    does, but without the JSON file that it also writes for each message.

    Nothing reads those files (`/_aws/ses` lists the record in memory), and writing one for each
    message, tens of thousands in a campaign, took a tenth of LocalStack's CPU, which on 2 cores
    the senders share (docs/local-stack.md).
    """
    if not sent_email.get("Timestamp"):
        sent_email["Timestamp"] = timestamp()
    ses_v1.EMAILS[sent_email["Id"]] = sent_email


def snapshot_sent_emails() -> None:
    """Make LocalStack's record of sent messages list a snapshot (`_SnapshotEmails`), keeping
    what it holds."""
    if not isinstance(ses_v1.EMAILS, _SnapshotEmails):
        ses_v1.EMAILS = _SnapshotEmails(ses_v1.EMAILS)


class Sesv2Provider(ServiceLifecycleHook):
    """SES v2: SendEmail, SendBulkEmail, GetAccount and the email-template calls."""

    service = "sesv2"

    def on_after_init(self) -> None:
        """Make `/_aws/ses` exist even if no v1 call has loaded LocalStack's SES provider yet,
        listing a snapshot of the sent messages (`snapshot_sent_emails`)."""
        snapshot_sent_emails()
        register_ses_api_resource()  # type: ignore[no-untyped-call]  # LocalStack's, untyped

    def accept_state_visitor(self, visitor: StateVisitor) -> None:
        """The state is moto's SES backend, shared with v1 (reset and persisted with it)."""
        visitor.visit(ses_backends)

    # -- sending -------------------------------------------------------------------------------

    # Whether sending is paused, per (account, region): the account's own switch and each
    # configuration set's (PutAccountSendingAttributes, PutConfigurationSetSendingOptions).
    _paused_accounts: set[tuple[str, str]]
    _paused_sets: set[tuple[str, str, str]]

    def __init__(self) -> None:
        self._paused_accounts = set()
        self._paused_sets = set()

    def _refuse_if_paused(self, context: RequestContext, configuration_set: str | None) -> None:
        """SES answers SendingPausedException while the account's or the set's sending is off."""
        where = (context.account_id, context.region)
        if where in self._paused_accounts:
            raise SendingPausedError("Sending is paused for this account.")
        if configuration_set and (*where, configuration_set) in self._paused_sets:
            raise SendingPausedError(
                f"Sending is paused for the configuration set {configuration_set}."
            )

    @handler("PutAccountSendingAttributes", expand=False)
    def put_account_sending_attributes(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Switch the account's sending off or on (API_PutAccountSendingAttributes)."""
        request = _checked_request(context, request)
        where = (context.account_id, context.region)
        if request.get("SendingEnabled", True):
            self._paused_accounts.discard(where)
        else:
            self._paused_accounts.add(where)
        return _checked_response(context, {})

    @handler("PutConfigurationSetSendingOptions", expand=False)
    def put_configuration_set_sending_options(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Switch one configuration set's sending off or on
        (API_PutConfigurationSetSendingOptions)."""
        request = _checked_request(context, request)
        name = request["ConfigurationSetName"]
        _require_configuration_set(ses_backend(context), name)
        key = (context.account_id, context.region, name)
        if request.get("SendingEnabled", True):
            self._paused_sets.discard(key)
        else:
            self._paused_sets.add(key)
        return _checked_response(context, {})

    @handler("SendEmail", expand=False)
    def send_email(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """SendEmail with Simple, Raw or Template content (API_SendEmail)."""
        request = _checked_request(context, request)
        self._refuse_if_paused(context, request.get("ConfigurationSetName"))
        backend = ses_backend(context)
        email_content = request["Content"]
        kinds = [kind for kind in ("Simple", "Raw", "Template") if kind in email_content]
        if len(kinds) != 1:
            msg = f"Content must hold exactly one of Simple, Raw or Template, not {kinds or 'none'}"
            raise BadRequestError(msg)
        tags = list(request.get("EmailTags") or [])
        if problems := content.tag_problems(tags):
            raise BadRequestError("; ".join(problems))
        configuration_set = request.get("ConfigurationSetName")
        events: list[Event] = []
        if kinds == ["Raw"]:
            message_id = self._send_raw(context, backend, request, tags, events)
        else:
            sender = _sender_of(request)
            destination = request.get("Destination") or {}
            addresses = content.recipients(destination)
            if problem := content.recipient_count_problem(len(addresses)):
                raise BadRequestError(problem)
            _require_verified_sender(backend, sender, context.region)
            if problems := _address_problems([sender, *addresses]):
                raise BadRequestError("; ".join(problems))
            _require_configuration_set(backend, configuration_set)
            message = Message(
                sender, _destination(destination), tags, configuration_set, "SendEmail"
            )
            if kinds == ["Simple"]:
                message_id = self._send_simple(
                    context, backend, message, email_content["Simple"], events
                )
            else:
                template = email_content["Template"]
                source = _template_source(backend, template)
                try:
                    data = content.parse_template_data(
                        template.get("TemplateData"), field="Content.Template.TemplateData"
                    )
                except ValueError as exc:
                    raise BadRequestError(str(exc)) from exc
                headers = list(template.get("Headers") or [])
                if problems := content.header_problems(headers):
                    raise BadRequestError("; ".join(problems))
                message_id = self._send_templated(
                    context,
                    backend,
                    message,
                    source=source,
                    data_text=template.get("TemplateData") or "{}",
                    data=data,
                    headers=headers,
                    events=events,
                )
        self._publish(context, backend, configuration_set, events)
        return _checked_response(context, {"MessageId": message_id})

    @handler("SendBulkEmail", expand=False)
    def send_bulk_email(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """SendBulkEmail: one message per entry, a status per entry (API_SendBulkEmail).

        Whole-call checks first (the call's sender, configuration set, template and the 50
        recipient limit, which concern every entry alike); then each entry is sent on its own,
        and a bad entry gets its own Status and Error without touching the others
        (BulkEmailEntryResult: "The status of a message sent ..." per entry,
        https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_BulkEmailEntryResult.html).
        """
        request = _checked_request(context, request)
        self._refuse_if_paused(context, request.get("ConfigurationSetName"))
        backend = ses_backend(context)
        template = (request.get("DefaultContent") or {}).get("Template")
        if template is None:
            # BulkEmailContent: "You can specify a template message" - the only kind it has
            raise BadRequestError("DefaultContent.Template is required: name the template")
        sender = _sender_of(request)
        entries = list(request["BulkEmailEntries"])
        if not entries:
            raise BadRequestError("BulkEmailEntries is empty: give at least one entry")
        total = sum(len(content.recipients(entry.get("Destination"))) for entry in entries)
        if total > content.MAX_RECIPIENTS:
            raise BadRequestError(
                f"Recipient count exceeds {content.MAX_RECIPIENTS} ({len(entries)} entries,"
                f" {total} recipients): send at most {content.MAX_RECIPIENTS} per call"
            )
        _require_verified_sender(backend, sender, context.region)
        if problems := _address_problems([sender]):
            raise BadRequestError("; ".join(problems))
        configuration_set = request.get("ConfigurationSetName")
        _require_configuration_set(backend, configuration_set)
        source = _template_source(backend, template)
        default_data_text = template.get("TemplateData") or "{}"
        try:
            content.parse_template_data(
                default_data_text, field="DefaultContent.Template.TemplateData"
            )
        except ValueError as exc:
            raise BadRequestError(str(exc)) from exc
        default_tags = list(request.get("DefaultEmailTags") or [])
        if problems := content.tag_problems(default_tags):
            raise BadRequestError("; ".join(problems))
        default_headers = list(template.get("Headers") or [])
        events: list[Event] = []
        results = [
            self._send_bulk_entry(
                context,
                backend,
                entry,
                sender=sender,
                configuration_set=configuration_set,
                source=source,
                default_data_text=default_data_text,
                default_tags=default_tags,
                default_headers=default_headers,
                events=events,
            )
            for entry in entries
        ]
        # Messages are recorded one by one above (moto's backend is not thread-safe); their
        # events are published together, before the call answers, as for SendEmail.
        self._publish(context, backend, configuration_set, events)
        return _checked_response(context, {"BulkEmailEntryResults": results})

    def _send_bulk_entry(
        self,
        context: RequestContext,
        backend: SESBackend,
        entry: Mapping[str, Any],
        *,
        sender: str,
        configuration_set: str | None,
        source: TemplateSource,
        default_data_text: str,
        default_tags: list[content.Tag],
        default_headers: list[content.Header],
        events: list[Event],
    ) -> dict[str, str]:
        """One entry of a bulk call, sent alone; its BulkEmailEntryResult."""
        destination = entry.get("Destination") or {}
        addresses = content.recipients(destination)
        replacement = (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {}
        data_text = replacement.get("ReplacementTemplateData") or default_data_text
        tags = content.merge_tags(default_tags, entry.get("ReplacementTags") or [])
        headers = content.merge_headers(default_headers, entry.get("ReplacementHeaders") or [])
        problems = [
            problem
            for problem in (content.recipient_count_problem(len(addresses)),)
            if problem is not None
        ]
        problems += _address_problems(addresses)
        problems += content.tag_problems(tags)
        problems += content.header_problems(headers)
        try:
            data = content.parse_template_data(
                data_text, field="ReplacementTemplate.ReplacementTemplateData"
            )
        except ValueError as exc:
            problems.append(str(exc))
            data = {}
        if problems:
            return {"Status": INVALID_PARAMETER, "Error": "; ".join(problems)}
        message = Message(
            sender, _destination(destination), tags, configuration_set, "SendBulkEmail"
        )
        try:
            message_id = self._send_templated(
                context,
                backend,
                message,
                source=source,
                data_text=data_text,
                data=data,
                headers=headers,
                events=events,
            )
        except MessageRejectedError as exc:
            return {"Status": MESSAGE_REJECTED, "Error": exc.message}
        except Sesv2Error as exc:
            return {"Status": INVALID_PARAMETER, "Error": exc.message}
        except Exception as exc:  # one entry's failure never fails the others
            LOG.exception("sesv2: bulk entry to %s failed", addresses)
            return {"Status": FAILED, "Error": f"{type(exc).__name__}: {exc}"}
        return {"Status": SUCCESS, "MessageId": message_id}

    def _send_templated(
        self,
        context: RequestContext,
        backend: SESBackend,
        message: Message,
        *,
        source: TemplateSource,
        data_text: str,
        data: Mapping[str, Any],
        headers: list[content.Header],
        events: list[Event],
    ) -> str:
        rendered = render(source, data)
        with moto_errors_as_v2():
            if source.name is not None:
                message_id = backend.send_templated_email(
                    message.sender, source.name, data_text, message.destination
                ).id
            else:  # inline TemplateContent: not in the store, so recorded as a plain email
                subject = rendered.subject if rendered else source.subject
                body = (rendered.html or rendered.text) if rendered else source.html
                message_id = backend.send_email(
                    message.sender, subject, body, message.destination
                ).id
        record: dict[str, Any] = {
            "Template": source.name,
            "TemplateData": data_text,
        }
        if rendered is not None:
            record["Subject"] = rendered.subject
            record["Body"] = SentEmailBody(text_part=rendered.text, html_part=rendered.html)
        self._deliver(
            context,
            backend,
            message,
            message_id,
            headers,
            subject=rendered.subject if rendered else None,
            record=record,
            events=events,
        )
        return message_id

    def _send_simple(
        self,
        context: RequestContext,
        backend: SESBackend,
        message: Message,
        simple: Mapping[str, Any],
        events: list[Event],
    ) -> str:
        headers = list(simple.get("Headers") or [])
        if problems := content.header_problems(headers):
            raise BadRequestError("; ".join(problems))
        subject = simple["Subject"]["Data"]
        text = (simple["Body"].get("Text") or {}).get("Data")
        html = (simple["Body"].get("Html") or {}).get("Data")
        with moto_errors_as_v2():
            sent = backend.send_email(
                message.sender, subject, html or text or "", message.destination
            )
        record = {
            "Subject": subject,
            "Body": SentEmailBody(text_part=text or "", html_part=html),
        }
        self._deliver(
            context,
            backend,
            message,
            sent.id,
            headers,
            subject=subject,
            record=record,
            events=events,
        )
        return str(sent.id)

    def _send_raw(
        self,
        context: RequestContext,
        backend: SESBackend,
        request: Mapping[str, Any],
        tags: list[content.Tag],
        events: list[Event],
    ) -> str:
        data = request["Content"]["Raw"]["Data"]
        raw_text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
        mime = email.message_from_string(raw_text)
        destination = request.get("Destination") or {}
        # moto's send_raw_email adds the MIME To/CC/BCC to the Destination's addresses
        from_mime = [
            address
            for _, address in getaddresses([mime[h] for h in ("To", "Cc", "Bcc") if mime[h]])
            if address
        ]
        addresses = content.recipients(destination) + from_mime
        if problem := content.recipient_count_problem(len(addresses)):
            raise BadRequestError(problem)
        sender = request.get("FromEmailAddress") or mime["From"]
        if not sender:
            msg = "the raw message has no sender: give FromEmailAddress or a From header"
            raise BadRequestError(msg)
        _require_verified_sender(backend, str(sender), context.region)
        configuration_set = request.get("ConfigurationSetName")
        _require_configuration_set(backend, configuration_set)
        with moto_errors_as_v2():
            sent = backend.send_raw_email(
                # moto types it str, and takes None: then the MIME From is the sender
                cast(str, request.get("FromEmailAddress")),
                content.recipients(destination),
                raw_text,
            )
        headers = [{"Name": name, "Value": str(value)} for name, value in mime.items()]
        message = Message(
            sent.source,
            {"ToAddresses": list(sent.destinations)},
            tags,
            configuration_set,
            "SendEmail",
        )
        self._deliver(
            context,
            backend,
            message,
            sent.id,
            headers,
            subject=mime["Subject"],
            record={"RawData": raw_text},
            events=events,
            raw_headers=True,
        )
        return str(sent.id)

    def _deliver(
        self,
        context: RequestContext,
        backend: SESBackend,
        message: Message,
        message_id: str,
        headers: list[content.Header],
        *,
        subject: str | None,
        record: Mapping[str, Any],
        events: list[Event],
        raw_headers: bool = False,
    ) -> None:
        """Record the sent message at /_aws/ses and add its events to the call's `events`.

        The caller publishes the call's events once every message is recorded (`_publish`).
        """
        sent_email: dict[str, Any] = {
            "Id": message_id,
            "Region": context.region,
            "Source": message.sender,
            "Destination": dict(message.destination),
            **record,
            "Headers": headers,
            "Tags": message.tags,
        }
        record_sent_email(sent_email)
        addresses = content.recipients(message.destination)
        mail_members = content.event_headers(
            sender=message.sender,
            destination=message.destination,
            subject=subject,
            custom=headers,
            message_id=message_id,
        )
        if raw_headers:
            # A raw message's headers are all the caller's: list them as they are
            mail_members["headers"] = [{"name": h["Name"], "value": h["Value"]} for h in headers]
        payload = EventDestinationPayload(
            message_id=message_id,
            sender_email=message.sender,
            destination_addresses=addresses,
            tags=[
                MessageTag(Name=tag["Name"], Value=tag["Value"])
                for tag in message.tags
                + content.auto_tags(
                    message.operation,
                    configuration_set=message.configuration_set,
                    sender=message.sender,
                    source_ip=context.request.remote_addr if context.request else None,
                )
            ],
        )
        if message.configuration_set:
            events.extend(message_events(context, payload, mail_members))

    # -- configuration-set event destinations --------------------------------------------------

    def _publish(
        self,
        context: RequestContext,
        backend: SESBackend,
        configuration_set: str | None,
        events: list[Event],
    ) -> None:
        """Publish one call's events to the configuration set's destinations (events.py)."""
        if not configuration_set or not events:
            return
        source_arn = (
            f"arn:{context.partition}:ses:{context.region}:{context.account_id}"
            f":configuration-set/{configuration_set}"
        )
        publish_events(
            _event_destinations(backend, configuration_set), events, source_arn=source_arn
        )

    @handler("CreateConfigurationSetEventDestination", expand=False)
    def create_configuration_set_event_destination(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Add an event destination to a configuration set
        (API_CreateConfigurationSetEventDestination, SES API v2)."""
        request = _checked_request(context, request)
        backend = ses_backend(context)
        configuration_set = request["ConfigurationSetName"]
        _require_configuration_set(backend, configuration_set)
        name = request["EventDestinationName"]
        definition = request["EventDestination"]
        if problems := destinations.definition_problems(definition):
            raise BadRequestError("; ".join(problems))
        existing = _event_destinations(backend, configuration_set)
        if any(found["Name"] == name for found in existing):
            raise AlreadyExistsError(
                f"Event destination {name} already exists in configuration set"
                f" {configuration_set}: update it, or pick another name."
            )
        if len(existing) >= destinations.MAX_DESTINATIONS:
            raise LimitExceededError(
                f"Configuration set {configuration_set} has {len(existing)} event destinations,"
                f" the most SES allows ({destinations.MAX_DESTINATIONS}): delete one first."
            )
        _v2_destinations(backend).setdefault(configuration_set, {})[name] = (
            destinations.destination(name, definition)
        )
        return _checked_response(context, {})

    @handler("GetConfigurationSetEventDestinations", expand=False)
    def get_configuration_set_event_destinations(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Every event destination of a configuration set, v1's and v2's
        (API_GetConfigurationSetEventDestinations)."""
        request = _checked_request(context, request)
        backend = ses_backend(context)
        configuration_set = request["ConfigurationSetName"]
        _require_configuration_set(backend, configuration_set)
        return _checked_response(
            context, {"EventDestinations": _event_destinations(backend, configuration_set)}
        )

    @handler("UpdateConfigurationSetEventDestination", expand=False)
    def update_configuration_set_event_destination(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace an event destination's definition
        (API_UpdateConfigurationSetEventDestination)."""
        request = _checked_request(context, request)
        backend = ses_backend(context)
        configuration_set = request["ConfigurationSetName"]
        _require_configuration_set(backend, configuration_set)
        name = request["EventDestinationName"]
        definition = request["EventDestination"]
        if problems := destinations.definition_problems(definition):
            raise BadRequestError("; ".join(problems))
        _require_event_destination(backend, configuration_set, name)
        # A v1-made destination becomes a v2 one (v1 reads only its own store)
        _drop_v1_destination(backend, configuration_set, name)
        _v2_destinations(backend).setdefault(configuration_set, {})[name] = (
            destinations.destination(name, definition)
        )
        return _checked_response(context, {})

    @handler("DeleteConfigurationSetEventDestination", expand=False)
    def delete_configuration_set_event_destination(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Delete an event destination (API_DeleteConfigurationSetEventDestination)."""
        request = _checked_request(context, request)
        backend = ses_backend(context)
        configuration_set = request["ConfigurationSetName"]
        _require_configuration_set(backend, configuration_set)
        name = request["EventDestinationName"]
        _require_event_destination(backend, configuration_set, name)
        _drop_v1_destination(backend, configuration_set, name)
        _v2_destinations(backend).get(configuration_set, {}).pop(name, None)
        return _checked_response(context, {})

    # -- account ---------------------------------------------------------------------------------

    @handler("GetAccount", expand=False)
    def get_account(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The account's send quota and status (API_GetAccount).

        SendQuota mirrors LocalStack's v1 GetSendQuota (moto's fixed 200 a day, 1 a second, and
        its count of recipients sent), unless EMS_SESV2_MAX_SEND_RATE / EMS_SESV2_MAX_24_HOUR_SEND
        are set in LocalStack's environment. The emulator sends to any address, which is what
        production access means (in the sandbox "you can only send email to verified
        identities", GetAccount.ProductionAccessEnabled).
        """
        request = _checked_request(context, request)
        quota = ses_backend(context).get_send_quota()
        response = {
            "SendQuota": {
                "Max24HourSend": _float_env(MAX_24_HOUR_SEND_ENV, quota.max24_hour_send),
                "MaxSendRate": _float_env(MAX_SEND_RATE_ENV, quota.max_send_rate),
                "SentLast24Hours": float(quota.sent_last24_hours),
            },
            "SendingEnabled": (context.account_id, context.region) not in self._paused_accounts,
            "ProductionAccessEnabled": True,
            "EnforcementStatus": "HEALTHY",
            "DedicatedIpAutoWarmupEnabled": False,
        }
        return _checked_response(context, response)

    # -- templates: the v1 store, as in AWS -----------------------------------------------------

    @handler("CreateEmailTemplate", expand=False)
    def create_email_template(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """A template in the store v1 CreateTemplate fills (API_CreateEmailTemplate)."""
        request = _checked_request(context, request)
        name = request["TemplateName"]
        try:
            with moto_errors_as_v2():
                ses_backend(context).add_template(_template_info(name, request["TemplateContent"]))
        except moto_errors.TemplateNameAlreadyExists as exc:
            raise AlreadyExistsError(f"Template {name} already exists.") from exc
        return _checked_response(context, {})

    @handler("UpdateEmailTemplate", expand=False)
    def update_email_template(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace a stored template's content (API_UpdateEmailTemplate)."""
        request = _checked_request(context, request)
        name = request["TemplateName"]
        try:
            with moto_errors_as_v2():
                ses_backend(context).update_template(
                    _template_info(name, request["TemplateContent"])
                )
        except NotFoundError as exc:
            raise NotFoundError(f"Template {name} does not exist.") from exc
        return _checked_response(context, {})

    @handler("GetEmailTemplate", expand=False)
    def get_email_template(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """A stored template, whichever API made it (API_GetEmailTemplate)."""
        request = _checked_request(context, request)
        name = request["TemplateName"]
        source = _template_source(ses_backend(context), {"TemplateName": name})
        template_content = {"Subject": source.subject}
        if source.text:
            template_content["Text"] = source.text
        if source.html:
            template_content["Html"] = source.html
        return _checked_response(
            context, {"TemplateName": name, "TemplateContent": template_content}
        )

    @handler("DeleteEmailTemplate", expand=False)
    def delete_email_template(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Delete a stored template, or NotFoundException (API_DeleteEmailTemplate)."""
        request = _checked_request(context, request)
        name = request["TemplateName"]
        backend = ses_backend(context)
        if name not in backend.templates:
            raise NotFoundError(f"Template {name} does not exist.")
        backend.delete_template(name)
        return _checked_response(context, {})

    @handler("ListEmailTemplates", expand=False)
    def list_email_templates(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Every stored template, in one page (API_ListEmailTemplates)."""
        request = _checked_request(context, request)
        metadata = []
        for stored in ses_backend(context).list_templates():
            created = stored.get("Timestamp")
            item: dict[str, Any] = {"TemplateName": stored["template_name"]}
            if isinstance(created, datetime):
                item["CreatedTimestamp"] = created
            metadata.append(item)
        return _checked_response(context, {"TemplatesMetadata": metadata})


@dataclass(frozen=True)
class Message:
    """Who sends one message to whom, with which tags, by which call."""

    sender: str
    destination: dict[str, list[str]]
    tags: list[content.Tag]
    configuration_set: str | None
    operation: str


def _v2_destinations(backend: SESBackend) -> dict[str, dict[str, destinations.Destination]]:
    """v2's event destinations on moto's backend (reset and persisted with it), by set and name."""
    found: dict[str, dict[str, destinations.Destination]] | None = getattr(
        backend, _V2_DESTINATIONS, None
    )
    if found is None:
        found = {}
        setattr(backend, _V2_DESTINATIONS, found)
    return found


def _v1_destinations(backend: SESBackend, configuration_set: str) -> list[dict[str, Any]]:
    """What v1 CreateConfigurationSetEventDestination stored for the set (moto keeps one)."""
    found = backend.config_set_event_destination.get(configuration_set)
    if not found:
        return []
    return list(found) if isinstance(found, list) else [found]


def _event_destinations(
    backend: SESBackend, configuration_set: str
) -> list[destinations.Destination]:
    """Every destination of the set, as v2 lists them: v1's (converted), then v2's."""
    from_v1 = [
        converted
        for found in _v1_destinations(backend, configuration_set)
        if (converted := destinations.from_v1(found)) is not None
    ]
    return from_v1 + list(_v2_destinations(backend).get(configuration_set, {}).values())


def _require_event_destination(backend: SESBackend, configuration_set: str, name: str) -> None:
    """NotFoundException for a destination the set does not have."""
    if not any(found["Name"] == name for found in _event_destinations(backend, configuration_set)):
        raise NotFoundError(
            f"Event destination {name} does not exist in configuration set {configuration_set}."
        )


def _drop_v1_destination(backend: SESBackend, configuration_set: str, name: str) -> None:
    """Remove a v1-made destination of that name from moto's store, as v1's delete does."""
    if any(found.get("Name") == name for found in _v1_destinations(backend, configuration_set)):
        backend.config_set_event_destination.pop(configuration_set, None)
        backend.event_destinations.pop(name, None)


def _destination(destination: Mapping[str, Any]) -> dict[str, list[str]]:
    """A Destination as moto's send calls take it (a dict of address lists)."""
    return {kind: list(addresses) for kind, addresses in destination.items() if addresses}


def _template_info(name: str, template_content: Mapping[str, Any]) -> dict[str, Any]:
    """A template as moto's store keeps it (the keys its v1 CreateTemplate writes)."""
    return {
        "template_name": name,
        "subject_part": template_content.get("Subject", ""),
        "text_part": template_content.get("Text", ""),
        "html_part": template_content.get("Html", ""),
        "Timestamp": datetime.now(UTC),
    }


def _float_env(name: str, default: float) -> float:
    """A number from LocalStack's environment, else the default; a bad value says so."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        return float(raw)
    except ValueError:
        LOG.warning("sesv2: %s=%r is not a number; using %s", name, raw, default)
        return float(default)
