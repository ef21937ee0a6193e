"""The campaign use cases behind the API: create, list, describe, reschedule, cancel, delete.

Plain Python over injected adapters: the API calls it, tests give it fakes or the local stack.
"""

from __future__ import annotations

import functools
import io
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self, overload

import orjson

from ems_common.campaigns import (
    CANCELLABLE,
    NOT_LAUNCHED,
    PAUSABLE,
    REPLACEABLE,
    Campaign,
    CampaignStatus,
    PausedBy,
    Progress,
    RecipientCounts,
    Rejection,
    SegmentSummary,
    utc_iso,
    utc_now,
)
from ems_common.dal.campaigns import (
    LEAVING_VERIFYING,
    CampaignExistsError,
    CampaignRepository,
    StatusConflictError,
)
from ems_common.dal.metrics import CampaignMetrics
from ems_common.dal.suppressions import SuppressionList
from ems_common.metrics import BRAKE_COUNTERS
from ems_common.problems import Problem
from ems_scheduler.campaigns.candidate import (
    InvalidCandidateError,
    candidate_reference,
    check_campaign_id,
    parse_campaign_date,
)
from ems_scheduler.campaigns.compile_jobs import CompileJobs
from ems_scheduler.campaigns.compiler.blocklist import Blocklist
from ems_scheduler.campaigns.compiler.compile import (
    CompiledCampaign,
    CompileSettings,
    compile_campaign,
    new_campaign_id,
)
from ems_scheduler.campaigns.compiler.reader import CandidateChangedError
from ems_scheduler.campaigns.files import (
    CampaignFiles,
    CandidateUploads,
    ObjectChangedError,
    S3Objects,
    S3PartSink,
    UploadForm,
)
from ems_scheduler.campaigns.rejections import RejectedRecipients, RejectionDetails
from ems_scheduler.campaigns.schedules import CampaignSchedules
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.request_digest import request_digest
from ems_scheduler.shared.request_fields import split_s3_uri
from ems_scheduler.shared.ses_template_store import SesTemplates
from ems_scheduler.shared.template_source import S3TemplateSource
from ems_scheduler.shared.unsubscribe_links import UnsubscribeLinks

logger = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL_S = 2.0
# How much earlier than a compile's read of the suppression list its `suppressions_as_of` is
# set: a scan reads eventually consistent, DynamoDB's replicas agree within a second or so.
SUPPRESSION_READ_MARGIN = timedelta(minutes=5)


class CampaignConflictError(Exception):
    """The campaign id is taken by a different campaign."""


@dataclass(frozen=True)
class CreateOutcome:
    """A created (or replayed) campaign, its first rejected recipients while they are kept, and
    the HTTP status that says which."""

    campaign: Campaign
    http_status: int
    rejections: list[Rejection] = field(default_factory=list)


@dataclass
class CampaignAdapters:
    """Everything the service reads and writes."""

    campaigns: CampaignRepository
    rejections: RejectionDetails
    suppressions: SuppressionList
    objects: S3Objects
    files: CampaignFiles
    ses_templates: SesTemplates
    schedules: CampaignSchedules
    compile_jobs: CompileJobs
    template_source: S3TemplateSource
    part_sink: Callable[[str], S3PartSink]
    # Each recipient's unsubscribe link, pointing at the given public URL of the API.
    unsubscribe_links: Callable[[str], UnsubscribeLinks]
    # Presigned browser uploads of large candidates (the console).
    uploads: CandidateUploads | None = None
    # The counters, read when a campaign the brake paused is resumed (its new baseline).
    metrics: CampaignMetrics | None = None


class _Collaborator[T]:
    """A `CampaignService` attribute that is one of its adapters, taken from them when used."""

    def __init__(self, pick: Callable[[CampaignAdapters], T]) -> None:
        self._pick = pick

    @overload
    def __get__(self, service: None, owner: type[CampaignService]) -> Self: ...
    @overload
    def __get__(self, service: CampaignService, owner: type[CampaignService]) -> T: ...
    def __get__(self, service: CampaignService | None, owner: type[CampaignService]) -> Self | T:
        return self if service is None else self._pick(service._adapters())


class CampaignService:
    """The campaign use cases."""

    # Its collaborators, by name; all are made together on first use (no client at start).
    _campaigns = _Collaborator(lambda adapters: adapters.campaigns)
    _rejections = _Collaborator(lambda adapters: adapters.rejections)
    _suppressions = _Collaborator(lambda adapters: adapters.suppressions)
    _objects = _Collaborator(lambda adapters: adapters.objects)
    _files = _Collaborator(lambda adapters: adapters.files)
    _ses_templates = _Collaborator(lambda adapters: adapters.ses_templates)
    _schedules = _Collaborator(lambda adapters: adapters.schedules)
    _compile_jobs = _Collaborator(lambda adapters: adapters.compile_jobs)
    _template_source = _Collaborator(lambda adapters: adapters.template_source)
    _part_sink = _Collaborator(lambda adapters: adapters.part_sink)
    _unsubscribe_links = _Collaborator(lambda adapters: adapters.unsubscribe_links)
    _metrics = _Collaborator(lambda adapters: adapters.metrics)

    def __init__(
        self,
        settings: SchedulerSettings,
        adapters: Callable[[], CampaignAdapters],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._adapters = functools.cache(adapters)
        self._clock = clock
        self._compile_settings = CompileSettings(
            template_buckets=settings.template_buckets(),
            default_from=settings.default_from,
            default_configuration_set=settings.configuration_set_name,
            part_lines=settings.part_lines,
            rejections_shown=settings.rejections_shown,
            max_days_ahead=settings.max_days_ahead,
            sender_domain=settings.sender_domain,
            configuration_sets=settings.configuration_sets(),
        )

    # --- create -----------------------------------------------------------------------------

    def create(self, body: bytes, *, public_url: str) -> CreateOutcome:
        """Verify and schedule an inline candidate, or accept one in S3 for verification.

        `public_url` is the API's public URL, where the campaign's unsubscribe links point.
        """
        document = _json_object(body)
        reference = candidate_reference(document)  # InvalidCandidateError -> 400
        given = reference.campaign_id if reference else document.get("campaign_id")
        digest = request_digest(document)
        if isinstance(given, str):
            try:
                campaign_id = check_campaign_id(given)
            except ValueError as error:
                raise InvalidCandidateError(
                    [{"path": "$.campaign_id", "message": str(error)}]
                ) from error
            replay = self._replay(campaign_id, digest)
            if replay is not None:
                return replay
        else:
            campaign_id = new_campaign_id()  # a non-string id is reported by the compiler

        if reference is not None:
            return self._accept_reference(
                campaign_id, reference.candidate_s3_uri, digest, public_url
            )
        compiled = self._compile(campaign_id, lambda: io.BytesIO(body), public_url)
        campaign = self._schedule_compiled(compiled, digest, source="inline", uri=None)
        return CreateOutcome(campaign, 201, self.rejections_of(campaign))

    def _replay(self, campaign_id: str, digest: str) -> CreateOutcome | None:
        existing = self._campaigns.get(campaign_id)
        if existing is None or existing.status in REPLACEABLE:
            return None
        if existing.request_hash == digest:
            return CreateOutcome(existing, 200, self.rejections_of(existing))
        msg = (
            f"campaign {campaign_id} already exists with a different body: choose another"
            " campaign_id, or DELETE the existing campaign first"
        )
        raise CampaignConflictError(msg)

    def _accept_reference(
        self, campaign_id: str, uri: str, digest: str, public_url: str
    ) -> CreateOutcome:
        bucket, key = split_s3_uri(uri)
        if bucket not in self._compile_settings.template_buckets:
            allowed = ", ".join(sorted(self._compile_settings.template_buckets))
            raise InvalidCandidateError(
                [
                    {
                        "path": "$.candidateS3Uri",
                        "message": f"must be in a bucket EMS reads: {allowed}",
                    }
                ]
            )
        prefix = self._settings.candidates_prefix
        if not key.startswith(prefix):
            # Candidates hold recipients' addresses: only under the prefix do they expire.
            where = f"s3://{self._settings.assets_bucket}/{prefix}<name>.json"
            message = (
                f"must be under {prefix}, e.g. {where}: upload candidates there, where they"
                " expire once no longer needed"
            )
            raise InvalidCandidateError([{"path": "$.candidateS3Uri", "message": message}])
        if self._objects.head(uri) is None:
            raise InvalidCandidateError(
                [{"path": "$.candidateS3Uri", "message": "no such object: upload it first"}]
            )
        now = self._clock()
        campaign = Campaign(
            campaign_id=campaign_id,
            status=CampaignStatus.VERIFYING,
            created_at=now,
            updated_at=now,
            request_hash=digest,
            source="s3",
            candidate_s3_uri=uri,
            public_url=public_url,
            progress=Progress(step="queued for verification", done=0, updated_at=now),
        )
        stored = self._store_new(campaign)
        if stored is not campaign:
            return CreateOutcome(stored, 200)
        self._compile_jobs.submit(campaign_id)
        logger.info("campaign %s accepted for verification from S3", campaign_id)
        return CreateOutcome(campaign, 202)

    def _store_new(self, campaign: Campaign) -> Campaign:
        """Store; if a concurrent request stored the same campaign first, return that one."""
        try:
            self._campaigns.create(campaign, replaceable=REPLACEABLE)
        except CampaignExistsError as exists:
            if exists.existing.request_hash == campaign.request_hash:
                return exists.existing
            msg = f"campaign {campaign.campaign_id} already exists with a different body"
            raise CampaignConflictError(msg) from exists
        return campaign

    def _compile(
        self,
        campaign_id: str,
        opener: Callable[[], Any],
        public_url: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> CompiledCampaign:
        started = time.monotonic()
        # The scan reads eventually, and a write made just before it may not show: the sender
        # looks up what was suppressed since a little before (`SUPPRESSION_READ_MARGIN`).
        as_of = self._clock() - SUPPRESSION_READ_MARGIN
        blocked = Blocklist.of(self._suppressions.by_address())
        try:
            compiled = compile_campaign(
                opener,
                settings=self._compile_settings,
                templates=self._template_source,
                sink=self._part_sink(campaign_id),
                now=self._clock(),
                blocked=blocked,
                links=self._unsubscribe_links(public_url),
                campaign_id=campaign_id,
                progress=progress,
            )
        except BaseException:
            self._files.delete_campaign(campaign_id)
            raise
        if compiled.manifest.totals.accepted == 0:
            self._files.delete_campaign(campaign_id)
            reasons = compiled.manifest.totals.rejected_by_reason
            summary = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
            raise InvalidCandidateError(
                [{"path": "$.segments", "message": f"no recipient is sendable ({summary})"}]
            )
        logger.info("campaign %s compiled in %.1f s", campaign_id, time.monotonic() - started)
        return compiled.model_copy(update={"suppressions_as_of": as_of})

    def _schedule_compiled(
        self, compiled: CompiledCampaign, digest: str, *, source: str, uri: str | None
    ) -> Campaign:
        """Templates into SES, the manifest and the rejected recipients' details, the record,
        the schedule."""
        manifest_key = self._publish(compiled)
        now = self._clock()
        expire_at = self._keep_rejections(compiled)
        campaign = Campaign(
            campaign_id=compiled.campaign_id,
            status=CampaignStatus.SCHEDULED,
            scheduled_at=compiled.date,
            created_at=now,
            updated_at=now,
            request_hash=digest,
            source="s3" if source == "s3" else "inline",
            candidate_s3_uri=uri,
            rejections_expire_at=expire_at,
            **_compiled_fields(compiled, manifest_key),
        )
        stored = self._store_new(campaign)
        if stored is campaign:
            self._schedules.put(campaign.campaign_id, compiled.date)
        return stored

    def _keep_rejections(self, compiled: CompiledCampaign) -> datetime | None:
        """Store the first rejected recipients apart from the record, until they expire; when
        they do (None: there were none)."""
        if not compiled.rejections:
            return None
        expires_at = self._clock() + timedelta(days=self._settings.rejection_details_days)
        rejections = [
            Rejection(segment=r.segment, to_address=r.to_address, reason=str(r.reason))
            for r in compiled.rejections
        ]
        self._rejections.put(
            compiled.campaign_id, RejectedRecipients(rejections=rejections, expires_at=expires_at)
        )
        return expires_at

    def _publish(self, compiled: CompiledCampaign) -> str:
        """Create the campaign's SES templates and store its manifest; returns the key."""
        for template in compiled.templates:
            self._ses_templates.put(
                template.name, subject=template.subject, html=template.html, text=template.text
            )
        manifest_key = self._files.manifest_key(compiled.campaign_id)
        self._files.put(manifest_key, compiled.manifest.to_json(), "application/json")
        return manifest_key

    def upload_form(self, *, redirect: str) -> UploadForm:
        """A presigned form for a browser to upload a candidate to the assets bucket; create
        the campaign with its `s3_uri` as candidateS3Uri once it is there."""
        uploads = self._adapters().uploads
        if uploads is None:
            msg = "this deployment takes no browser uploads: give candidateS3Uri instead"
            raise RuntimeError(msg)
        return uploads.form(f"{uuid.uuid4().hex}.json", redirect=redirect)

    # --- the background verification of candidates in S3 -------------------------------------

    def compile_stored(self, campaign_id: str) -> Campaign | None:
        """Verify and compile a VERIFYING campaign whose candidate is in S3 (the worker's job)."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None or campaign.status is not CampaignStatus.VERIFYING:
            logger.info("campaign %s is no longer VERIFYING: nothing to compile", campaign_id)
            return campaign
        uri = campaign.candidate_s3_uri
        if uri is None:
            msg = f"campaign {campaign_id} is VERIFYING but names no candidate"
            raise ValueError(msg)
        last_write = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last_write
            if time.monotonic() - last_write >= PROGRESS_WRITE_INTERVAL_S or done == total:
                last_write = time.monotonic()
                view = Progress(step="verifying", done=done, total=total, updated_at=utc_now())
                self._campaigns.update(campaign_id, {"progress": view.model_dump(mode="json")})

        info = self._objects.head(uri)
        if info is None:
            gone: Problem = {"path": "$.candidateS3Uri", "message": "the object is gone"}
            return self._reject(campaign_id, [gone])
        try:
            # Both passes read the same version: pinned by its ETag.
            compiled = self._compile(
                campaign_id,
                lambda: self._objects.open(uri, if_match=info.etag),
                campaign.public_url or self._settings.public_api_url or "",
                progress,
            )
        except InvalidCandidateError as error:
            return self._reject(campaign_id, error.problems)
        except (CandidateChangedError, ObjectChangedError):
            problem: Problem = {
                "path": "$.candidateS3Uri",
                "message": "the object changed while EMS read it: upload it once, then retry",
            }
            return self._reject(campaign_id, [problem])

        manifest_key = self._publish(compiled)
        expire_at = self._keep_rejections(compiled)
        changes = {
            "scheduled_at": utc_iso(compiled.date),
            "progress": None,
            "rejections_expire_at": utc_iso(expire_at) if expire_at else None,
            **{k: _jsonable(v) for k, v in _compiled_fields(compiled, manifest_key).items()},
        }
        try:
            scheduled = self._campaigns.transition(
                campaign_id,
                expected={CampaignStatus.VERIFYING},
                to=CampaignStatus.SCHEDULED,
                action="schedule",
                changes=changes,
            )
        except StatusConflictError:
            # Cancelled or deleted while it compiled: leave nothing behind.
            self._files.delete_campaign(campaign_id)
            self._rejections.delete(campaign_id)
            return self._campaigns.get(campaign_id)
        self._schedules.put(campaign_id, compiled.date)
        return scheduled

    def is_last_attempt(self, receive_count: int) -> bool:
        """Whether a compile job received this often goes to the DLQ if it fails again."""
        limit = self._compile_jobs.max_receive_count()
        return limit is not None and receive_count >= limit

    def fail_verification(self, campaign_id: str, reason: str) -> None:
        """Mark a VERIFYING campaign FAILED: its last compile attempt broke on EMS's side."""
        try:
            self._campaigns.transition(
                campaign_id,
                expected={CampaignStatus.VERIFYING},
                to=CampaignStatus.FAILED,
                action="fail",
                changes={
                    "error": (
                        f"verification failed on EMS's side ({reason}); the job is in the compile"
                        " DLQ. POST the same request again to retry."
                    ),
                    "progress": None,
                    **LEAVING_VERIFYING,
                },
            )
        except StatusConflictError:
            return

    def _reject(self, campaign_id: str, problems: list[Problem]) -> Campaign | None:
        try:
            return self._campaigns.transition(
                campaign_id,
                expected={CampaignStatus.VERIFYING},
                to=CampaignStatus.REJECTED,
                action="reject",
                changes={"problems": list(problems), "progress": None, **LEAVING_VERIFYING},
            )
        except StatusConflictError as conflict:
            return conflict.campaign

    # --- read --------------------------------------------------------------------------------

    def get(self, campaign_id: str) -> Campaign:
        """One campaign (CampaignNotFoundError -> 404)."""
        return self._campaigns.require(campaign_id)

    def rejections_of(self, campaign: Campaign) -> list[Rejection]:
        """The campaign's first rejected recipients, while their details are kept ([] after)."""
        if campaign.rejections_expire_at is None:
            return []
        details = self._rejections.get(campaign.campaign_id, self._clock())
        return list(details.rejections) if details else []

    def list(
        self, *, status: CampaignStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        """A page of campaigns from `start`, and where the next starts (None: the last page)."""
        return self._campaigns.list_page(status=status, limit=limit, start=start)

    # --- change ------------------------------------------------------------------------------

    def reschedule(self, campaign_id: str, date_text: str) -> Campaign:
        """Move a SCHEDULED campaign's date."""
        try:
            moment = parse_campaign_date(date_text)
        except ValueError as error:
            raise InvalidCandidateError([{"path": "$.date", "message": str(error)}]) from error
        now = self._clock()
        if moment <= now:
            raise InvalidCandidateError([{"path": "$.date", "message": "must be in the future"}])
        if moment > now + timedelta(days=self._settings.max_days_ahead):
            raise InvalidCandidateError(
                [
                    {
                        "path": "$.date",
                        "message": f"must be at most {self._settings.max_days_ahead} days ahead",
                    }
                ]
            )
        campaign = self._campaigns.transition(
            campaign_id,
            expected={CampaignStatus.SCHEDULED},
            to=CampaignStatus.SCHEDULED,
            action="reschedule",
            changes={"scheduled_at": utc_iso(moment)},
        )
        self._schedules.put(campaign_id, moment)
        return campaign

    def cancel(self, campaign_id: str) -> Campaign:
        """Cancel before or during sending; cancelling a cancelled campaign changes nothing."""
        current = self._campaigns.require(campaign_id)
        if current.status is CampaignStatus.CANCELLED:
            return current
        verifying = current.status is CampaignStatus.VERIFYING
        campaign = self._campaigns.transition(
            campaign_id,
            # From the status read: a campaign that moved on meanwhile is a 409, not a surprise.
            expected={current.status} & CANCELLABLE or CANCELLABLE,
            to=CampaignStatus.CANCELLED,
            action="cancel",
            changes={
                "cancelled_at": utc_iso(self._clock()),
                "pause": None,
                **(LEAVING_VERIFYING if verifying else {}),
            },
        )
        self._schedules.delete(campaign_id)
        return campaign

    def pause(self, campaign_id: str) -> Campaign:
        """Pause a launching or sending campaign: nothing more is sent (its queued emails are
        held) until it is resumed. Pausing a paused campaign changes nothing."""
        current = self._campaigns.require(campaign_id)
        if current.status is CampaignStatus.PAUSED:
            return current
        reason = (
            f"paused by an operator: POST /campaigns/{campaign_id}/resume"
            f" (ems campaign resume {campaign_id}) to go on"
        )
        paused = self._campaigns.pause(campaign_id, by=PausedBy.OPERATOR, reason=reason)
        if paused is None:
            raise StatusConflictError(self._campaigns.require(campaign_id), PAUSABLE, "pause")
        return paused

    def resume(self, campaign_id: str) -> Campaign:
        """Resume a PAUSED campaign where it stopped (its held emails go out again, each once);
        resuming a campaign that is not paused changes nothing if it is sending."""
        current = self._campaigns.require(campaign_id)
        if current.status in PAUSABLE:
            return current
        if current.status is not CampaignStatus.PAUSED or current.pause is None:
            raise StatusConflictError(current, {CampaignStatus.PAUSED}, "resume")
        # The reconciler's watch starts again: a pause is no time without progress.
        changes: dict[str, Any] = {"pause": None, "watched": None}
        metrics = self._metrics
        if current.pause.by is PausedBy.BRAKE and metrics is not None:
            # The brake judges what is sent from now on, not the bounces it paused for.
            total = metrics.read(campaign_id).total
            changes["brake_baseline"] = {m.value: total[m.value] for m in BRAKE_COUNTERS}
        return self._campaigns.transition(
            campaign_id,
            expected={CampaignStatus.PAUSED},
            to=CampaignStatus(current.pause.resume_to),
            action="resume",
            changes=changes,
        )

    def delete(self, campaign_id: str) -> None:
        """Delete a campaign that never launched: record first (so nothing launches it), then
        its schedule, files and templates."""
        campaign = self._campaigns.require(campaign_id)
        deletable = set(NOT_LAUNCHED)
        if campaign.launched_at is None:
            deletable.add(CampaignStatus.CANCELLED)
        if campaign.status not in deletable:
            raise StatusConflictError(campaign, deletable, "delete")
        self._campaigns.delete(campaign_id, expected=deletable)
        self._rejections.delete(campaign_id)
        self._schedules.delete(campaign_id)
        self._files.delete_campaign(campaign_id)
        for name in campaign.template_names:
            self._ses_templates.delete(name)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidCandidateError(
            [{"path": "$", "message": f"the body is not valid JSON: {error}"}]
        ) from error
    if not isinstance(document, dict):
        raise InvalidCandidateError([{"path": "$", "message": "must be a JSON object"}])
    return document


def _compiled_fields(compiled: CompiledCampaign, manifest_key: str) -> dict[str, Any]:
    totals = compiled.manifest.totals
    return {
        "recipients": RecipientCounts(accepted=totals.accepted, rejected=totals.rejected),
        "rejected_by_reason": dict(totals.rejected_by_reason),
        "segments": [
            SegmentSummary(
                list_name=s.list_name,
                template_name=s.template_name,
                from_address=s.from_email_address,
                configuration_set=s.configuration_set_name,
                accepted=s.accepted,
                rejected=s.rejected,
            )
            for s in compiled.manifest.segments
        ],
        "template_names": list(compiled.manifest.template_names),
        "manifest_key": manifest_key,
        "suppressions_as_of": compiled.suppressions_as_of,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return utc_iso(value)
    return value
