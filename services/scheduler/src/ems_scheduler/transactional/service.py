"""Transactional email's use cases: templates, single and bulk sends, reading an email back.

Plain Python over injected adapters, like `CampaignService`. A send checks every recipient
(the campaign compiler's address rule and template fields, the suppression list), stores the
answer under the Idempotency-Key (if any) and the request, then puts the emails on the
transactional queue, which the sender drains first (docs/transactional.md).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from email_validator import EmailNotValidError

from ems_common.campaigns import utc_now
from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.formats.send_batch import MAX_SEND_BATCH_BYTES, send_batch_body
from ems_common.formats.tags import EMAIL_ID_TAG
from ems_common.problems import Problem
from ems_common.suppressions import Suppression, most_telling, suppression_key
from ems_common.transactional import (
    EMAILS_PER_QUEUE_MESSAGE,
    TRANSACTIONAL_CAMPAIGN_ID,
    EmailId,
    email_id,
    new_request_id,
    ses_template_name,
)
from ems_scheduler.shared.handlebars import TemplateFields, TemplateSyntaxError, template_fields
from ems_scheduler.shared.recipients import AddressChecker, RejectionReason
from ems_scheduler.shared.request_digest import request_digest
from ems_scheduler.shared.request_fields import (
    configuration_set_problem,
    sender_domain_problem,
    split_s3_uri,
)
from ems_scheduler.shared.ses_template_store import SES_TEMPLATE_MAX_BYTES
from ems_scheduler.shared.template_source import TemplateNotFoundError
from ems_scheduler.shared.unsubscribe_links import (
    UNSUBSCRIBE_HEADER_NAMES,
    UNSUBSCRIBE_URL_FIELD,
    UnsubscribeLinks,
    unsubscribe_headers,
)
from ems_scheduler.transactional.models import (
    AcceptedEmail,
    BulkBody,
    BulkRecipient,
    EmailBody,
    RejectedEmail,
    SendAnswer,
    TemplateBody,
    TemplateContentBody,
    TemplateRecord,
)
from ems_scheduler.transactional.request_store import Remembered, StoredRequest

logger = logging.getLogger(__name__)

# SQS takes at most 10 entries and 256 KiB a SendMessageBatch call.
_ENTRIES_PER_CALL = 10
_BYTES_PER_CALL = 250_000
# One email's line must fit one queue message, with room for the batch's own fields.
_MAX_LINE_BYTES = MAX_SEND_BATCH_BYTES - 1_000
TOO_LARGE = "too_large"


class RequestProblemError(ValueError):
    """The request cannot be served as sent; `problems` lists what to fix by JSON path."""

    def __init__(self, kind: str, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.kind = kind
        self.problems = problems


class TemplateNotFound(LookupError):  # noqa: N818 - reads as the API's 404
    """No template of that name."""


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was used for a different request."""


class EmailNotFound(LookupError):  # noqa: N818 - reads as the API's 404
    """No email of that id."""


# --- adapters ---------------------------------------------------------------------------------


class Templates(Protocol):
    """Template records (`template_records.TemplateRecords`)."""

    def create(self, record: TemplateRecord) -> None: ...
    def put(self, record: TemplateRecord) -> None: ...
    def get(self, name: str) -> TemplateRecord | None: ...
    def delete(self, name: str) -> bool: ...
    def page(self, *, limit: int, start: str | None) -> tuple[list[TemplateRecord], str | None]: ...


class SesTemplateStore(Protocol):
    """SES templates (`shared.ses_template_store.SesTemplates`)."""

    def put(self, name: str, *, subject: str, html: str, text: str | None = None) -> None: ...
    def get(self, name: str) -> tuple[str, str, str | None] | None: ...
    def delete(self, name: str) -> None: ...
    def render(self, name: str, data: str) -> str: ...


class TemplateObjects(Protocol):
    """Reads an HTML part from S3 (`shared.template_source.S3TemplateSource`)."""

    def read_template(self, uri: str, limit: int) -> bytes: ...


class Suppressed(Protocol):
    """The suppression list (`SuppressionList`)."""

    def blocking(
        self, addresses: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], list[Suppression]]: ...


class Requests(Protocol):
    """Requests and idempotency keys (`request_store.TransactionalStore`)."""

    def put_request(self, answer: SendAnswer) -> None: ...
    def get_request(self, request_id: str) -> StoredRequest | None: ...
    def remember(
        self, key: str, digest: str, status: int, answer: SendAnswer
    ) -> Remembered | None: ...
    def recall(self, key: str) -> Remembered | None: ...
    def mark_queued(self, key: str) -> None: ...


class Queue(Protocol):
    """The transactional queue (`ems_common.dal.send_queue.SendQueue`)."""

    def send(self, bodies: Sequence[bytes]) -> None: ...


@dataclass
class TransactionalAdapters:
    """Everything the transactional service reads and writes."""

    templates: Templates
    ses_templates: SesTemplateStore
    objects: TemplateObjects
    suppressions: Suppressed
    requests: Requests
    queue: Queue
    # Each recipient's unsubscribe link (marketing templates), pointing at the given public URL.
    unsubscribe_links: Callable[[str], UnsubscribeLinks]


@dataclass(frozen=True)
class TransactionalDefaults:
    """The deployment's defaults and what EMS may read."""

    default_from: str
    configuration_set: str
    template_buckets: frozenset[str]
    sender_domain: str | None = None  # the only domain a From may be on; None: any (tests)
    configuration_sets: frozenset[str] | None = None  # sets a request may name; None: any


@dataclass(frozen=True)
class SendOutcome:
    """A send's answer, its HTTP status, and whether it was a replay of a stored one."""

    answer: SendAnswer
    status: int
    replayed: bool


@dataclass(frozen=True)
class EmailLocation:
    """Where an email's record is: its id (the record's scope) and its address."""

    email_id: str
    request_id: str
    template: str
    address: str


class TransactionalService:
    """Templates and transactional sends."""

    def __init__(
        self,
        defaults: TransactionalDefaults,
        adapters: Callable[[], TransactionalAdapters],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._defaults = defaults
        self._adapters = functools.cache(adapters)  # made on first use: no client at import
        self._clock = clock

    @property
    def _a(self) -> TransactionalAdapters:
        return self._adapters()

    # --- templates --------------------------------------------------------------------------

    def create_template(self, body: TemplateBody) -> TemplateRecord:
        """Register a new template (TemplateExistsError if the name is taken)."""
        html, record = self._checked(body.name, body, created_at=None)
        self._a.templates.create(record)
        try:
            self._a.ses_templates.put(
                record.ses_template_name, subject=body.subject, html=html, text=body.text
            )
        except BaseException:
            self._a.templates.delete(body.name)  # nothing half made
            raise
        logger.info("template %s created (%d bytes)", body.name, record.size_bytes)
        return record

    def put_template(self, name: str, body: TemplateContentBody) -> tuple[TemplateRecord, bool]:
        """Create or replace a template; True if it was created."""
        existing = self._a.templates.get(name)
        html, record = self._checked(
            name, body, created_at=existing.created_at if existing else None
        )
        self._a.ses_templates.put(
            record.ses_template_name, subject=body.subject, html=html, text=body.text
        )
        self._a.templates.put(record)
        logger.info("template %s %s", name, "replaced" if existing else "created")
        return record, existing is None

    def get_template(self, name: str) -> tuple[TemplateRecord, str, str | None]:
        """The record, the HTML and the text part."""
        record = self.require_template(name)
        content = self._a.ses_templates.get(record.ses_template_name)
        if content is None:
            raise TemplateNotFound(name)  # deleted from SES behind EMS's back
        _, html, text = content
        return record, html, text

    def preview_template(self, name: str, data: Mapping[str, Any]) -> str:
        """The MIME message SES renders of the template with `data` (TemplateRenderError)."""
        record = self.require_template(name)
        return self._a.ses_templates.render(record.ses_template_name, json.dumps(dict(data)))

    def require_template(self, name: str) -> TemplateRecord:
        """The record, or TemplateNotFound."""
        record = self._a.templates.get(name)
        if record is None:
            raise TemplateNotFound(name)
        return record

    def list_templates(
        self, *, limit: int, start: str | None
    ) -> tuple[list[TemplateRecord], str | None]:
        """A page of templates after the one named `start`, and the name the next page starts
        after (None: the last page)."""
        return self._a.templates.page(limit=limit, start=start)

    def delete_template(self, name: str) -> None:
        """Delete a template from SES and EMS (TemplateNotFound if there is none)."""
        record = self.require_template(name)
        self._a.ses_templates.delete(record.ses_template_name)
        self._a.templates.delete(name)
        logger.info("template %s deleted", name)

    def _checked(
        self, name: str, body: TemplateContentBody, *, created_at: datetime | None
    ) -> tuple[str, TemplateRecord]:
        html, html_path = self._html(body)
        parts = (("$.subject", body.subject), (html_path, html), ("$.text", body.text or ""))
        problems: list[Problem] = []
        fields = TemplateFields()
        for path, source in parts:
            try:
                fields |= template_fields(source)
            except TemplateSyntaxError as error:
                problems.append(
                    {"path": path, "message": f"is no template SES can render: {error}"}
                )
        size = sum(len(source.encode()) for _, source in parts)
        if size > SES_TEMPLATE_MAX_BYTES:
            problems.append(
                {
                    "path": "$",
                    "message": f"subject, HTML and text are {size:,} bytes together: SES allows"
                    f" {SES_TEMPLATE_MAX_BYTES:,}; make the HTML smaller (link images instead"
                    " of embedding them)",
                }
            )
        if problems:
            raise RequestProblemError(
                "invalid", "the template has problems: see `problems`", problems
            )
        now = self._clock()
        return html, TemplateRecord(
            name=name,
            subject=body.subject,
            has_text=body.text is not None,
            # A marketing template's {{unsubscribe_url}} is EMS's to fill, not the caller's.
            required_fields=sorted(
                fields.required - {UNSUBSCRIBE_URL_FIELD} if body.marketing else fields.required
            ),
            conditional_fields=sorted(fields.conditional),
            ses_template_name=ses_template_name(name),
            size_bytes=size,
            marketing=body.marketing,
            created_at=created_at or now,
            updated_at=now,
        )

    def _html(self, body: TemplateContentBody) -> tuple[str, str]:
        if body.html is not None:
            return body.html, "$.html"
        uri = body.html_s3_uri or ""
        path = "$.htmlS3Uri"
        bucket, _ = split_s3_uri(uri)
        if bucket not in self._defaults.template_buckets:
            allowed = ", ".join(sorted(self._defaults.template_buckets))
            raise RequestProblemError(
                "invalid",
                "the template has problems: see `problems`",
                [{"path": path, "message": f"must be in a bucket EMS reads: {allowed}"}],
            )
        try:
            data = self._a.objects.read_template(uri, SES_TEMPLATE_MAX_BYTES)
        except TemplateNotFoundError:
            raise RequestProblemError(
                "invalid",
                "the template has problems: see `problems`",
                [{"path": path, "message": f"{uri} does not exist (or EMS may not read it)"}],
            ) from None
        try:
            return data.decode("utf-8-sig"), path
        except UnicodeDecodeError:
            raise RequestProblemError(
                "invalid",
                "the template has problems: see `problems`",
                [{"path": path, "message": f"{uri} is not UTF-8 text: save it as UTF-8"}],
            ) from None

    # --- sending ----------------------------------------------------------------------------

    def send_one(
        self, body: EmailBody, idempotency_key: str | None, *, public_url: str = ""
    ) -> SendOutcome:
        """Queue one email; a recipient who cannot be sent to is a RequestProblemError.

        `public_url` is the API's public URL, where a marketing template's unsubscribe links
        point."""
        bulk = BulkBody.model_validate(
            {
                **body.model_dump(by_alias=True, exclude={"to", "data"}),
                "recipients": [{"to": body.to, "data": body.data}],
            }
        )
        return self._send(bulk, idempotency_key, kind="email", single=True, public_url=public_url)

    def send_bulk(
        self, body: BulkBody, idempotency_key: str | None, *, public_url: str = ""
    ) -> SendOutcome:
        """Queue every sendable recipient; the others are listed with their reason."""
        return self._send(body, idempotency_key, kind="bulk", single=False, public_url=public_url)

    def _send(
        self,
        body: BulkBody,
        idempotency_key: str | None,
        *,
        kind: str,
        single: bool,
        public_url: str,
    ) -> SendOutcome:
        digest = request_digest({"kind": kind, "body": body.model_dump(mode="json", by_alias=True)})
        if idempotency_key is not None:
            prior = self._a.requests.recall(idempotency_key)
            if prior is not None:
                return self._replay(prior, digest, body, idempotency_key, public_url)
        self._check_setup(body)
        template = self._template_for_send(body.template)
        answer, lines = self._plan(body, template, new_request_id(self._clock()), public_url)
        if not answer.emails:
            raise self._nothing_accepted(answer, single=single)
        if idempotency_key is not None:
            prior = self._a.requests.remember(idempotency_key, digest, 202, answer)
            if prior is not None:  # a concurrent request with the same key got there first
                return self._replay(prior, digest, body, idempotency_key, public_url)
        self._enqueue(answer, lines)
        if idempotency_key is not None:
            self._a.requests.mark_queued(idempotency_key)
        logger.info(
            "request %s: %d emails queued, %d rejected (template %s)",
            answer.request_id,
            len(answer.emails),
            len(answer.rejections),
            answer.template,
        )
        return SendOutcome(answer, 202, replayed=False)

    def _replay(
        self,
        prior: Remembered,
        digest: str,
        body: BulkBody,
        idempotency_key: str,
        public_url: str,
    ) -> SendOutcome:
        if prior.digest != digest:
            raise IdempotencyConflictError(
                "this Idempotency-Key was used for a different request in the last 24 hours:"
                " use a new key for a new request"
            )
        if not prior.queued:
            # The first attempt stopped before its emails were all queued: queue them again,
            # under the same ids (the sender sends each email id once).
            template = self._template_for_send(body.template)
            _, lines = self._plan(body, template, prior.answer.request_id, public_url)
            kept = {email.email_id for email in prior.answer.emails}
            self._enqueue(prior.answer, [line for line in lines if line.record_scope in kept])
            self._a.requests.mark_queued(idempotency_key)
            logger.info("request %s: queued again on a retry", prior.answer.request_id)
        return SendOutcome(prior.answer, prior.status, replayed=True)

    def _check_setup(self, body: BulkBody) -> None:
        """The request's sender and configuration set are the deployment's, or a 400 by path:
        SES would refuse every one of its emails otherwise."""
        problems: list[Problem] = []
        if body.from_address is not None and self._defaults.sender_domain is not None:
            problem = sender_domain_problem(body.from_address, self._defaults.sender_domain)
            if problem is not None:
                problems.append({"path": "$.from", "message": problem})
        if body.configuration_set is not None and self._defaults.configuration_sets is not None:
            allowed = self._defaults.configuration_sets | {self._defaults.configuration_set}
            problem = configuration_set_problem(body.configuration_set, allowed)
            if problem is not None:
                problems.append({"path": "$.configuration_set", "message": problem})
        if problems:
            raise RequestProblemError(
                "invalid", "the request has problems: see `problems`", problems
            )

    def _template_for_send(self, name: str) -> TemplateRecord:
        record = self._a.templates.get(name)
        if record is None:
            raise RequestProblemError(
                "invalid",
                "the request has problems: see `problems`",
                [
                    {
                        "path": "$.template",
                        "message": f"there is no template {name!r}: create it with POST /templates",
                    }
                ],
            )
        return record

    def _plan(
        self, body: BulkBody, template: TemplateRecord, request_id: str, public_url: str
    ) -> tuple[SendAnswer, list[CampaignFileLine]]:
        """Check every recipient; the answer and the lines of the accepted ones."""
        checker = AddressChecker()
        verdicts: list[tuple[int, BulkRecipient, str | RejectedEmail]] = []
        for index, recipient in enumerate(body.recipients):
            try:
                verdicts.append((index, recipient, checker.sendable(recipient.to)))
            except EmailNotValidError as error:
                verdicts.append(
                    (
                        index,
                        recipient,
                        _rejected(index, recipient, RejectionReason.INVALID_ADDRESS, str(error)),
                    )
                )
        # A marketing template's email is list mail: its list is the template.
        list_name = template.name if template.marketing else None
        suppressed = self._a.suppressions.blocking(
            (verdict, list_name) for _, _, verdict in verdicts if isinstance(verdict, str)
        )
        links = self._a.unsubscribe_links(public_url) if template.marketing else None
        seen: set[str] = set()
        emails: list[AcceptedEmail] = []
        rejections: list[RejectedEmail] = []
        lines: list[CampaignFileLine] = []
        for index, recipient, verdict in verdicts:
            if isinstance(verdict, RejectedEmail):
                rejections.append(verdict)
                continue
            blocked = suppressed.get((verdict, list_name), [])
            rejection = self._rejection(index, recipient, verdict, template, blocked, seen)
            if rejection is None:
                line = self._line(
                    body,
                    template,
                    verdict,
                    recipient.data,
                    email_id(request_id, index),
                    links=links,
                )
                if len(line.to_json_line().encode()) > _MAX_LINE_BYTES:
                    rejection = _rejected(
                        index,
                        recipient,
                        TOO_LARGE,
                        f"its data makes the email larger than {_MAX_LINE_BYTES:,} bytes:"
                        " send less data",
                    )
            if rejection is not None:
                rejections.append(rejection)
                continue
            seen.add(suppression_key(verdict))
            emails.append(
                AcceptedEmail(index=index, to=verdict, email_id=email_id(request_id, index))
            )
            lines.append(line)
        answer = SendAnswer(
            request_id=request_id, template=template.name, emails=emails, rejections=rejections
        )
        return answer, lines

    @staticmethod
    def _rejection(  # noqa: PLR0917 - one private call site
        index: int,
        recipient: BulkRecipient,
        address: str,
        template: TemplateRecord,
        blocked: list[Suppression],
        seen: set[str],
    ) -> RejectedEmail | None:
        key = suppression_key(address)
        found = most_telling(blocked)
        if found is not None:
            reason = (
                RejectionReason.UNSUBSCRIBED if found.is_unsubscribe else RejectionReason.SUPPRESSED
            )
            return _rejected(
                index,
                recipient,
                reason,
                f"the address is on the suppression list ({found.reason}, scope {found.scope});"
                f" DELETE /suppressions/{{address}}?scope={found.scope} lifts it",
            )
        if key in seen:
            return _rejected(
                index,
                recipient,
                RejectionReason.DUPLICATE,
                "an earlier recipient of this request has the same address",
            )
        missing = [f for f in template.required_fields if recipient.data.get(f) is None]
        if missing:
            return _rejected(
                index,
                recipient,
                RejectionReason.MISSING_FIELDS,
                f"data lacks {', '.join(missing)}, which template {template.name!r} prints",
            )
        return None

    def _line(
        self,
        body: BulkBody,
        template: TemplateRecord,
        address: str,
        data: Mapping[str, Any],
        the_email_id: str,
        *,
        links: UnsubscribeLinks | None,
    ) -> CampaignFileLine:
        headers = list(body.headers.items())
        if links is not None:  # a marketing template: one-click unsubscribe, its list the template
            url, value = links.link(address, the_email_id, template.name, self._clock().date())
            data = {**data, UNSUBSCRIBE_URL_FIELD: url}
            headers = [
                (name, text) for name, text in headers if name not in UNSUBSCRIBE_HEADER_NAMES
            ]
            headers += unsubscribe_headers(value)
        return CampaignFileLine.for_recipient(
            from_email_address=body.from_address or self._defaults.default_from,
            to_address=address,
            template_name=template.ses_template_name,
            template_data=data,
            campaign_id=TRANSACTIONAL_CAMPAIGN_ID,
            segment_id=template.name,
            configuration_set_name=body.configuration_set or self._defaults.configuration_set,
            extra_tags={EMAIL_ID_TAG: the_email_id, **body.tags},
            headers=headers,
        )

    @staticmethod
    def _nothing_accepted(answer: SendAnswer, *, single: bool) -> RequestProblemError:
        if single:
            rejection = answer.rejections[0]
            path = "$.data" if rejection.reason == RejectionReason.MISSING_FIELDS else "$.to"
            return RequestProblemError(
                rejection.reason,
                f"not sent: {rejection.message}",
                [{"path": path, "message": rejection.message}],
            )
        return RequestProblemError(
            "no_recipients",
            "not sent: no recipient could be accepted; see `problems`",
            [
                {
                    "path": f"$.recipients[{r.index}]"
                    + (".data" if r.reason == RejectionReason.MISSING_FIELDS else ".to"),
                    "message": f"{r.reason}: {r.message}",
                }
                for r in answer.rejections
            ],
        )

    def _enqueue(self, answer: SendAnswer, lines: Sequence[CampaignFileLine]) -> None:
        """Store the request, then put its emails on the transactional queue."""
        self._a.requests.put_request(answer)
        for bodies in _calls(_messages(lines)):
            self._a.queue.send(bodies)

    # --- reading ----------------------------------------------------------------------------

    def locate(self, the_email_id: str) -> EmailLocation:
        """Where the email `the_email_id` is recorded (EmailNotFound if EMS never issued it)."""
        parsed = EmailId.parse(the_email_id)
        request = self._a.requests.get_request(parsed.request_id) if parsed else None
        address = request.addresses.get(parsed.index) if request and parsed else None
        if parsed is None or request is None or address is None:
            raise EmailNotFound(the_email_id)
        return EmailLocation(the_email_id, parsed.request_id, request.template, address)


def _rejected(index: int, recipient: BulkRecipient, reason: str, message: str) -> RejectedEmail:
    return RejectedEmail(index=index, to=recipient.to, reason=str(reason), message=message)


def _messages(lines: Sequence[CampaignFileLine]) -> Iterator[bytes]:
    """Queue message bodies: up to EMAILS_PER_QUEUE_MESSAGE emails and MAX_SEND_BATCH_BYTES each."""
    batch: list[bytes] = []
    size = 0
    first = 0
    for index, line in enumerate(lines):
        encoded = line.to_json_line().encode()
        if batch and (
            len(batch) == EMAILS_PER_QUEUE_MESSAGE or size + len(encoded) > _MAX_LINE_BYTES
        ):
            yield send_batch_body(TRANSACTIONAL_CAMPAIGN_ID, 1, first, batch)
            batch, size, first = [], 0, index
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield send_batch_body(TRANSACTIONAL_CAMPAIGN_ID, 1, first, batch)


def _calls(bodies: Iterator[bytes]) -> Iterator[list[bytes]]:
    """SendMessageBatch calls: up to 10 entries and 250,000 bytes each."""
    call: list[bytes] = []
    size = 0
    for body in bodies:
        if call and (len(call) == _ENTRIES_PER_CALL or size + len(body) > _BYTES_PER_CALL):
            yield call
            call, size = [], 0
        call.append(body)
        size += len(body)
    if call:
        yield call
