"""The campaign verification and compilation engine: pure Python, no AWS calls, streaming.

``compile_campaign`` is the entry point (compile.py says what it does, step by step); the
caller supplies the candidate stream, a TemplateSource, a PartSink, the suppression list and
the clock, then creates the returned SES templates and stores the returned manifest.
"""

from ems_scheduler.campaigns.compiler.campaign_templates import SesTemplate
from ems_scheduler.campaigns.compiler.compile import (
    CompiledCampaign,
    CompileSettings,
    RejectedRecipient,
    compile_campaign,
    new_campaign_id,
)
from ems_scheduler.campaigns.compiler.manifest import (
    CampaignManifest,
    PartEntry,
    RecipientTally,
    SegmentEntry,
)
from ems_scheduler.campaigns.compiler.parts import PartSink
from ems_scheduler.campaigns.compiler.reader import CandidateChangedError, CandidateOpener
from ems_scheduler.shared.handlebars import TemplateFields, TemplateSyntaxError, template_fields
from ems_scheduler.shared.recipients import RejectionReason, sendable_address
from ems_scheduler.shared.ses_template_store import SES_TEMPLATE_MAX_BYTES
from ems_scheduler.shared.template_source import TemplateNotFoundError, TemplateSource

__all__ = [
    "SES_TEMPLATE_MAX_BYTES",
    "CampaignManifest",
    "CandidateChangedError",
    "CandidateOpener",
    "CompileSettings",
    "CompiledCampaign",
    "PartEntry",
    "PartSink",
    "RecipientTally",
    "RejectedRecipient",
    "RejectionReason",
    "SegmentEntry",
    "SesTemplate",
    "TemplateFields",
    "TemplateNotFoundError",
    "TemplateSource",
    "TemplateSyntaxError",
    "compile_campaign",
    "new_campaign_id",
    "sendable_address",
    "template_fields",
]
