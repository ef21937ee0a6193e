"""The data formats EMS services exchange: the campaign candidate, the campaign file, tags.

SES events are read by the tracker alone: `ems_tracker.ses_events`.
"""

from ems_common.formats.campaign_file import (
    CampaignFileLine,
    Destination,
    EmailContent,
    EmailTag,
    TemplateContent,
)
from ems_common.formats.candidate import (
    CampaignCandidate,
    CampaignDate,
    InvalidCandidateError,
    Problem,
    Recipient,
    S3Uri,
    Segment,
    json_path,
    parse_campaign_candidate,
    parse_campaign_date,
    split_s3_uri,
    validation_problems,
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
    "CampaignCandidate",
    "CampaignDate",
    "CampaignFileLine",
    "Destination",
    "EmailContent",
    "EmailTag",
    "InvalidCandidateError",
    "Problem",
    "Recipient",
    "S3Uri",
    "Segment",
    "TagText",
    "TemplateContent",
    "check_tag_text",
    "json_path",
    "parse_campaign_candidate",
    "parse_campaign_date",
    "split_s3_uri",
    "tag_text_problem",
    "validation_problems",
]
