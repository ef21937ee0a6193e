"""The data formats EMS services exchange: the campaign file, send batches, tags.

The campaign candidate is the scheduler's alone (`ems_scheduler.campaigns.candidate`), SES
events the tracker's (`ems_tracker.ses_events`).
"""

from ems_common.formats.campaign_file import (
    CampaignFileLine,
    Destination,
    EmailContent,
    EmailTag,
    TemplateContent,
)
from ems_common.formats.tags import (
    CAMPAIGN_ID_TAG,
    SEGMENT_ID_TAG,
    TAG_TEXT_MAX_LENGTH,
    TagText,
    check_tag_text,
    tag_text_problem,
)

__all__ = [
    "CAMPAIGN_ID_TAG",
    "SEGMENT_ID_TAG",
    "TAG_TEXT_MAX_LENGTH",
    "CampaignFileLine",
    "Destination",
    "EmailContent",
    "EmailTag",
    "TagText",
    "TemplateContent",
    "check_tag_text",
    "tag_text_problem",
]
