"""The engine: verify a campaign candidate and compile it into SES templates and a campaign file.

``compile_campaign`` does the seed's "Campaign Verification", without any AWS call: the caller
passes what it needs to read (the candidate stream, templates), where the file's parts go, the
suppression list and the clock, then creates the SES templates and stores the manifest it
returns.

1. First pass over the candidate (reader.py): the header and the shape of every recipient.
2. Campaign checks, all collected: schema, campaign id, date (future, at most
   ``max_days_ahead`` ahead), templates (allowed bucket, exists, UTF-8 HTML, Handlebars that
   parses, subject and HTML within SES's size limit), a subject for every segment. Any problem
   raises InvalidCandidateError listing them all, before a single part is written.
3. Second pass: each recipient is checked (address, suppression, the template's fields,
   duplicates) and either becomes one campaign-file line or one rejection; rejections leave the
   rest of the campaign untouched. Lines go out in parts of ``part_lines`` lines, handed to
   the sink on a background thread while compiling goes on.

Recipients' addresses and data are personal: nothing here logs them.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from time import monotonic
from typing import Any, Final

import orjson
from email_validator import EmailNotValidError
from pydantic import BaseModel, ConfigDict, Field

from ems_common.formats.campaign_file import CampaignFileLine
from ems_common.problems import Problem, json_path
from ems_scheduler.campaigns.candidate import (
    CampaignHeader,
    InvalidCandidateError,
    check_campaign_id,
)
from ems_scheduler.campaigns.compiler.blocklist import Blocklist
from ems_scheduler.campaigns.compiler.campaign_templates import (
    SesTemplate,
    html_title,
    looks_like_html,
    ses_template_name,
)
from ems_scheduler.campaigns.compiler.manifest import (
    CampaignManifest,
    RecipientTally,
    SegmentEntry,
)
from ems_scheduler.campaigns.compiler.parts import PartSink, PartWriter
from ems_scheduler.campaigns.compiler.reader import (
    CandidateChangedError,
    CandidateLayout,
    CandidateOpener,
    iter_recipients,
    read_layout,
)
from ems_scheduler.shared.handlebars import TemplateFields, TemplateSyntaxError, template_fields
from ems_scheduler.shared.recipients import (
    AddressChecker,
    RejectionReason,
    SeenAddresses,
    fast_sendable_address,
)
from ems_scheduler.shared.request_fields import (
    configuration_set_problem,
    sender_domain_problem,
    split_s3_uri,
)
from ems_scheduler.shared.ses_template_store import SES_TEMPLATE_MAX_BYTES
from ems_scheduler.shared.template_source import TemplateNotFoundError, TemplateSource
from ems_scheduler.shared.unsubscribe_links import (
    UNSUBSCRIBE_URL_FIELD,
    UnsubscribeLinks,
    list_unsubscribe_value,
    unsubscribe_headers,
)

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS: Final = 0.5
_PROGRESS_EVERY: Final = 4096  # recipients between looks at the clock
_TO_MARK: Final = "ems-to-address-mark@invalid"
_LINK_MARK: Final = "https://ems-link-mark.invalid/u/mark"


def _linker(
    links: UnsubscribeLinks, campaign_id: str, now: datetime
) -> Callable[[str, str], tuple[str, str]]:
    """(address, list name) -> (that recipient's link, its List-Unsubscribe value)."""
    today = now.astimezone(UTC).date()

    def link(address: str, list_name: str) -> tuple[str, str]:
        return links.link(address, campaign_id, list_name, today)

    return link


@dataclass(frozen=True)
class CompileSettings:
    """The scheduler's defaults and limits for compiling."""

    template_buckets: frozenset[str]
    """Buckets templates may come from."""
    default_from: str
    """FromEmailAddress when neither segment nor campaign names one."""
    default_configuration_set: str
    """ConfigurationSetName when neither segment nor campaign names one."""
    sender_domain: str | None = None
    """The only domain a From may be on (the SES identity); None: any (tests)."""
    configuration_sets: frozenset[str] | None = None
    """The configuration sets a campaign may name (the default is always one); None: any."""
    part_lines: int = 50_000
    """Campaign-file lines per part (about 300 bytes each)."""
    parts_in_flight: int = 2
    """Finished parts that may wait for the sink (memory: about part_lines * 300 B each)."""
    rejections_shown: int = 100
    """Rejected recipients listed in the result (all are counted)."""
    problems_shown: int = 100
    """Recipient-shape problems listed in InvalidCandidateError (all are counted)."""
    max_days_ahead: int = 365
    """How far in the future a campaign date may be."""


class RejectedRecipient(BaseModel):
    """One recipient left out of the campaign, and why (personal data: return it, never log)."""

    model_config = ConfigDict(frozen=True)

    segment: str
    to_address: str
    reason: RejectionReason
    detail: str | None = None


class CompiledCampaign(BaseModel):
    """What the caller needs after a compile: templates to create, the manifest to store."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    date: datetime
    manifest: CampaignManifest
    templates: list[SesTemplate] = Field(description="Create these in SES before sending")
    rejections: list[RejectedRecipient] = Field(description="The first rejected recipients")
    rejections_total: int
    suppressions_as_of: datetime | None = Field(
        default=None, description="Suppressions made before this were left out"
    )


@dataclass
class _SegmentPlan:
    """Everything one segment's lines share, and its counts."""

    list_name: str
    template: SesTemplate
    from_address: str
    configuration_set: str
    required: frozenset[str]
    uses_link: bool = False  # the template prints {{unsubscribe_url}}
    prefix: bytes = b""  # the line up to the address
    middle: bytes = b""  # between the address and TemplateData
    suffix: bytes = b""  # after TemplateData, newline included (no unsubscribe header)
    before_link: bytes = b""  # after TemplateData, up to the List-Unsubscribe header's value
    after_link: bytes = b""  # after that value, newline included
    recipients: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def frame(self, campaign_id: str) -> None:
        """Cut a real CampaignFileLine into the bytes around the address and the data.

        Built by the model itself (which checks the tags), so the engine's lines are the
        model's lines byte for byte; tests check that on many recipients.
        """
        for headers in ([], unsubscribe_headers(list_unsubscribe_value(_LINK_MARK))):
            line = CampaignFileLine.for_recipient(
                from_email_address=self.from_address,
                to_address=_TO_MARK,
                template_name=self.template.name,
                template_data={},
                campaign_id=campaign_id,
                segment_id=self.list_name,
                configuration_set_name=self.configuration_set,
                headers=headers,
            ).to_json_line()
            encoded = line.encode()
            address = orjson.dumps(_TO_MARK)
            data = orjson.dumps("{}")
            before_address, after_address = encoded.split(address)
            between, after_data = after_address.split(b":" + data, 1)
            self.prefix = before_address
            self.middle = between + b":"
            if headers:
                self.before_link, self.after_link = after_data.split(
                    orjson.dumps(list_unsubscribe_value(_LINK_MARK))
                )
                self.after_link += b"\n"
            else:
                self.suffix = after_data + b"\n"

    def entry(self) -> SegmentEntry:
        rejected = sum(self.rejected.values())
        return SegmentEntry(
            list_name=self.list_name,
            template_s3_uri=self.template.template_s3_uri,
            template_name=self.template.name,
            from_email_address=self.from_address,
            configuration_set_name=self.configuration_set,
            recipients=self.recipients,
            accepted=self.accepted,
            rejected=rejected,
            rejected_by_reason=dict(sorted(self.rejected.items())),
        )


def new_campaign_id() -> str:
    """A fresh campaign id, for candidates and requests that name none."""
    return f"cmp-{uuid.uuid4().hex[:20]}"


def compile_campaign(
    open_candidate: CandidateOpener,
    *,
    settings: CompileSettings,
    templates: TemplateSource,
    sink: PartSink,
    now: datetime,
    blocked: Blocklist | None = None,
    links: UnsubscribeLinks | None = None,
    campaign_id: str | None = None,
    make_campaign_id: Callable[[], str] = new_campaign_id,
    progress: Callable[[int, int], None] | None = None,
) -> CompiledCampaign:
    """Verify the candidate, write its campaign file through ``sink``, return what to create.

    - ``open_candidate`` opens the candidate document; called twice (two passes), it must
      give the same bytes both times.
    - ``blocked`` says which recipients the suppression list leaves out of which list, and why.
    - ``links`` makes each recipient's unsubscribe link: it goes into the email's
      List-Unsubscribe header (with RFC 8058's List-Unsubscribe-Post), and into the template
      data as ``unsubscribe_url`` where the template prints it. Without it, no link is made.
    - ``campaign_id``: the id the request named (a CandidateReference's); the document may
      name one too, and if both do they must agree; with neither, ``make_campaign_id()``.
    - ``progress(done, total)`` is called with recipients compiled so far, at most every
      half second, and once at the end.

    Raises InvalidCandidateError (every structural problem, with JSON paths) before any part
    is written; CandidateChangedError if the two passes read different documents; the sink's
    or the template source's own errors as they are.
    """
    layout = read_layout(open_candidate, max_problems=settings.problems_shown)
    header, resolved_id, plans = _verify(
        layout,
        settings=settings,
        templates=templates,
        now=now,
        campaign_id=campaign_id,
        make_campaign_id=make_campaign_id,
    )
    for plan in plans:
        plan.frame(resolved_id)
    blocked = blocked or Blocklist()
    writer = PartWriter(sink, in_flight=settings.parts_in_flight)
    try:
        with open_candidate() as stream:
            rejections, rejections_total = _compile_recipients(
                iter_recipients(stream),
                plans,
                layout.recipient_counts,
                writer=writer,
                settings=settings,
                blocked=blocked,
                link=None if links is None else _linker(links, resolved_id, now),
                progress=progress,
            )
        parts = writer.close()
    except BaseException:
        writer.abort()
        raise
    segments = [plan.entry() for plan in plans]
    by_reason: Counter[str] = Counter()
    for plan in plans:
        by_reason.update(plan.rejected)
    distinct = {plan.template.name: plan.template for plan in plans}
    manifest = CampaignManifest(
        campaign_id=resolved_id,
        part_lines=settings.part_lines,
        parts=parts,
        segments=segments,
        totals=RecipientTally(
            recipients=sum(entry.recipients for entry in segments),
            accepted=sum(entry.accepted for entry in segments),
            rejected=sum(entry.rejected for entry in segments),
            rejected_by_reason=dict(sorted(by_reason.items())),
        ),
        template_names=sorted(distinct),
    )
    logger.info(
        "compiled campaign %s: %d accepted, %d rejected, %d parts",
        resolved_id,
        manifest.totals.accepted,
        manifest.totals.rejected,
        len(parts),
    )
    return CompiledCampaign(
        campaign_id=resolved_id,
        date=header.date,
        manifest=manifest,
        templates=list(distinct.values()),
        rejections=rejections,
        rejections_total=rejections_total,
    )


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LoadedTemplate:
    html: str
    fields: TemplateFields
    title: str | None


def _verify(
    layout: CandidateLayout,
    *,
    settings: CompileSettings,
    templates: TemplateSource,
    now: datetime,
    campaign_id: str | None,
    make_campaign_id: Callable[[], str],
) -> tuple[CampaignHeader, str, list[_SegmentPlan]]:
    problems = list(layout.problems)
    total = layout.problems_total
    header = layout.header
    loaded = _load_templates(layout, settings, templates, problems)
    if header is None:
        raise InvalidCandidateError(problems, total=total + len(problems) - len(layout.problems))
    resolved_id = _resolve_campaign_id(header, campaign_id, make_campaign_id, problems)
    problems.extend(_date_problems(header, now, settings.max_days_ahead))
    plans = _plan_segments(header, resolved_id, loaded, settings, problems)
    if problems:
        raise InvalidCandidateError(problems, total=total + len(problems) - len(layout.problems))
    return header, resolved_id, plans


def _resolve_campaign_id(
    header: CampaignHeader,
    requested: str | None,
    make_campaign_id: Callable[[], str],
    problems: list[Problem],
) -> str:
    if requested is not None:
        try:
            check_campaign_id(requested)
        except ValueError as error:
            problems.append(
                {"path": "$.campaign_id", "message": f"the request's campaign_id {error}"}
            )
            requested = None
    if requested and header.campaign_id and requested != header.campaign_id:
        problems.append(
            {
                "path": "$.campaign_id",
                "message": f"is {header.campaign_id!r} but the request names {requested!r}: "
                "give the id in one place, or the same in both",
            }
        )
    resolved = header.campaign_id or requested or make_campaign_id()
    return check_campaign_id(resolved)


def _date_problems(header: CampaignHeader, now: datetime, max_days_ahead: int) -> list[Problem]:
    date = header.date
    if date <= now:
        return [
            {
                "path": "$.date",
                "message": f"{date.isoformat()} is not in the future (it is now "
                f"{now.isoformat(timespec='seconds')}): pick a later date",
            }
        ]
    latest = now + timedelta(days=max_days_ahead)
    if date > latest:
        return [
            {
                "path": "$.date",
                "message": f"{date.isoformat()} is more than {max_days_ahead} days ahead: "
                f"pick a date before {latest.isoformat(timespec='seconds')}",
            }
        ]
    return []


def _template_uris(document: dict[str, Any]) -> dict[str, str]:
    """Each template URI the document names (valid or not), with the first path naming it."""
    found: dict[str, str] = {}
    campaign_uri = document.get("templateS3Uri")
    if isinstance(campaign_uri, str):
        found[campaign_uri] = json_path(("templateS3Uri",))
    segments = document.get("segments")
    if isinstance(segments, list):
        for index, segment in enumerate(segments):
            uri = segment.get("templateS3Uri") if isinstance(segment, dict) else None
            if isinstance(uri, str):
                found.setdefault(uri, json_path(("segments", index, "templateS3Uri")))
    return found


def _load_templates(
    layout: CandidateLayout,
    settings: CompileSettings,
    templates: TemplateSource,
    problems: list[Problem],
) -> dict[str, _LoadedTemplate]:
    # From the raw document, so that template problems are reported along with schema ones.
    loaded: dict[str, _LoadedTemplate] = {}
    for uri, path in _template_uris(layout.document).items():
        try:
            bucket, _ = split_s3_uri(uri)
        except ValueError:
            continue  # the schema problem is reported already
        message: str | None
        if bucket not in settings.template_buckets:
            allowed = ", ".join(sorted(settings.template_buckets)) or "(none configured)"
            message = (
                f"{uri} is in bucket {bucket!r}, which EMS does not read templates from: "
                f"upload the template to one of {allowed}"
            )
        else:
            message = _load_template(uri, templates, loaded)
        if message is not None:
            problems.append({"path": path, "message": message})
    return loaded


def _load_template(
    uri: str, templates: TemplateSource, loaded: dict[str, _LoadedTemplate]
) -> str | None:
    try:
        data = templates.read_template(uri, SES_TEMPLATE_MAX_BYTES)
    except TemplateNotFoundError:
        return f"{uri} does not exist (or EMS may not read it): upload the template or fix the URI"
    if len(data) > SES_TEMPLATE_MAX_BYTES:
        return (
            f"{uri} is larger than {SES_TEMPLATE_MAX_BYTES:,} bytes, SES's limit for a template: "
            "make the HTML smaller (link images instead of embedding them)"
        )
    try:
        html = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return f"{uri} is not UTF-8 text: save the template as UTF-8 HTML"
    if "\x00" in html or not looks_like_html(html):
        return f"{uri} does not look like HTML (no HTML tag found): upload the HTML template"
    try:
        fields = template_fields(html)
    except TemplateSyntaxError as error:
        return f"{uri} has a Handlebars error at {error}"
    loaded[uri] = _LoadedTemplate(html=html, fields=fields, title=html_title(html))
    return None


def _plan_segments(
    header: CampaignHeader,
    campaign_id: str,
    loaded: dict[str, _LoadedTemplate],
    settings: CompileSettings,
    problems: list[Problem],
) -> list[_SegmentPlan]:
    plans: list[_SegmentPlan] = []
    made: dict[tuple[str, str], SesTemplate] = {}
    for index, segment in enumerate(header.segments):
        uri = header.template_s3_uri_for(segment)
        template = loaded.get(uri)
        if template is None:
            continue  # its problem is reported already
        subject = header.subject_for(segment)
        subject_path = "$.subject" if segment.subject is None else f"$.segments[{index}].subject"
        if subject is None:
            subject, subject_path = template.title, json_path(("segments", index, "subject"))
        if subject is None:
            problems.append(
                {
                    "path": subject_path,
                    "message": f"segment {segment.list_name!r} has no subject: give 'subject' on "
                    f"the campaign or the segment, or a <title> in its template {uri}",
                }
            )
            continue
        try:
            fields = template.fields | template_fields(subject)
        except TemplateSyntaxError as error:
            problems.append(
                {"path": subject_path, "message": f"the subject has a Handlebars error at {error}"}
            )
            continue
        key = (uri, subject)
        if key not in made:
            made[key] = SesTemplate(
                name=ses_template_name(campaign_id, uri, subject),
                subject=subject,
                html=template.html,
                template_s3_uri=uri,
            )
            if made[key].size() > SES_TEMPLATE_MAX_BYTES:
                problems.append(
                    {
                        "path": subject_path,
                        "message": f"with its subject, template {uri} is {made[key].size():,} "
                        f"bytes: SES templates hold at most {SES_TEMPLATE_MAX_BYTES:,} bytes",
                    }
                )
        from_address = header.from_address_for(segment) or settings.default_from
        configuration_set = (
            header.configuration_set_for(segment) or settings.default_configuration_set
        )
        problems.extend(
            _setup_problems(header, segment, index, from_address, configuration_set, settings)
        )
        plans.append(
            _SegmentPlan(
                list_name=segment.list_name,
                template=made[key],
                from_address=from_address,
                configuration_set=configuration_set,
                # EMS fills {{unsubscribe_url}} itself: no recipient needs to bring it.
                required=fields.required - {UNSUBSCRIBE_URL_FIELD},
                uses_link=UNSUBSCRIBE_URL_FIELD in fields.required | fields.conditional,
            )
        )
    return plans


def _setup_problems(  # noqa: PLR0917 - one private call site
    header: CampaignHeader,
    segment: Any,
    index: int,
    from_address: str,
    configuration_set: str,
    settings: CompileSettings,
) -> list[Problem]:
    """The segment's sender and configuration set, checked against the deployment's (where
    they come from: the segment, else the campaign)."""
    problems: list[Problem] = []
    if settings.sender_domain is not None:
        problem = sender_domain_problem(from_address, settings.sender_domain)
        if problem is not None:
            path = f"$.segments[{index}].from" if segment.from_address else "$.from"
            problems.append({"path": path, "message": problem})
    allowed = settings.configuration_sets
    problem = (
        None
        if allowed is None
        else configuration_set_problem(
            configuration_set, allowed | {settings.default_configuration_set}
        )
    )
    if problem is not None:
        path = (
            f"$.segments[{index}].configuration_set"
            if segment.configuration_set
            else "$.configuration_set"
        )
        problems.append({"path": path, "message": problem})
    return problems


# --- compiling the recipients ------------------------------------------------------------------


def _compile_recipients(  # noqa: PLR0912, PLR0915 - the hot loop, kept in one frame on purpose
    records: Iterator[dict[str, Any]],
    plans: list[_SegmentPlan],
    counts: tuple[int, ...],
    *,
    writer: PartWriter,
    settings: CompileSettings,
    blocked: Blocklist,
    link: Callable[[str, str], tuple[str, str]] | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[RejectedRecipient], int]:
    total = sum(counts)
    seen = SeenAddresses(expected=total)
    seen_add = seen.add
    dumps = orjson.dumps
    fast = fast_sendable_address
    checked = AddressChecker().sendable
    part_lines = settings.part_lines
    shown = settings.rejections_shown
    rejections: list[RejectedRecipient] = []
    rejections_total = 0
    buffer = bytearray()
    lines = 0
    parts = 0
    done = 0
    last_report = monotonic()
    blocked_everywhere = blocked.everywhere

    for plan, count in zip(plans, counts, strict=True):
        prefix, middle, suffix = plan.prefix, plan.middle, plan.suffix
        before_link, after_link = plan.before_link, plan.after_link
        required = plan.required
        rejected = plan.rejected
        blocked_here = blocked.for_list(plan.list_name)
        list_name, uses_link = plan.list_name, plan.uses_link
        accepted = 0
        seen_in_segment = 0
        for record in islice(records, count):
            seen_in_segment += 1
            address = record.pop("to_address", None)
            if type(address) is not str:
                raise CandidateChangedError(_CHANGED)
            reason: RejectionReason | None = None
            detail: str | None = None
            sendable = fast(address)
            if sendable is None:
                try:
                    sendable = checked(address)
                except EmailNotValidError as error:
                    reason, detail = RejectionReason.INVALID_ADDRESS, str(error)
            if sendable is not None:
                key = sendable.lower()
                reason = blocked_here.get(key) or blocked_everywhere.get(key)
                if reason is not None:
                    pass
                elif not required <= record.keys():
                    reason = RejectionReason.MISSING_FIELDS
                    detail = "lacks " + ", ".join(sorted(required - record.keys()))
                elif not seen_add(key):
                    reason = RejectionReason.DUPLICATE
            if reason is None:
                buffer += prefix
                buffer += dumps(sendable)
                buffer += middle
                if link is None:
                    buffer += dumps(dumps(record).decode())
                    buffer += suffix
                else:
                    url, header = link(key, list_name)
                    if uses_link:
                        record[UNSUBSCRIBE_URL_FIELD] = url  # EMS's link, whatever the data said
                    buffer += dumps(dumps(record).decode())
                    buffer += before_link
                    buffer += dumps(header)
                    buffer += after_link
                accepted += 1
                lines += 1
                if lines == part_lines:
                    parts += 1
                    writer.put(parts, bytes(buffer), lines)
                    buffer.clear()
                    lines = 0
            else:
                rejected[reason] += 1
                rejections_total += 1
                if len(rejections) < shown:
                    rejections.append(
                        RejectedRecipient(
                            segment=plan.list_name, to_address=address, reason=reason, detail=detail
                        )
                    )
            if progress is not None and (done + seen_in_segment) % _PROGRESS_EVERY == 0:
                now = monotonic()
                if now - last_report >= PROGRESS_INTERVAL_SECONDS:
                    last_report = now
                    progress(done + seen_in_segment, total)
        if seen_in_segment != count:
            raise CandidateChangedError(_CHANGED)
        plan.recipients = count
        plan.accepted = accepted
        done += count
    if next(records, None) is not None:
        raise CandidateChangedError(_CHANGED)
    if lines:
        parts += 1
        writer.put(parts, bytes(buffer), lines)
    if progress is not None:
        progress(done, total)
    return rejections, rejections_total


_CHANGED: Final = (
    "the candidate read differently the second time: it changed while being compiled; "
    "compile it again (and read one version of the object both times)"
)
