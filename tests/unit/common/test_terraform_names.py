"""Names the code and Terraform both write: a test fails if the two drift apart.

The SES tag names are Terraform locals (the CloudWatch event destination's dimensions) and
constants in `ems_common.formats.tags` (what the sender writes and the tracker reads). The
other names reach the code from Terraform's outputs and are compared with the applied stack
in the e2e suite; these two cannot be, because they are no output.
"""

import re
from pathlib import Path

from ems_common.formats.tags import CAMPAIGN_ID_TAG, EMAIL_ID_TAG, SEGMENT_ID_TAG

PLATFORM = Path(__file__).parents[3] / "terraform" / "modules" / "platform" / "main.tf"


# python-hcl2 8.1.4 as locked installs without its package __init__ (nothing to import), so
# the simple `name = "text"` assignments are read with a pattern.
_STRING_ASSIGNMENT = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"\s*$', re.MULTILINE)


def _platform_locals() -> dict[str, str]:
    return dict(_STRING_ASSIGNMENT.findall(PLATFORM.read_text()))


def test_the_tag_names_terraform_uses_are_the_codes() -> None:
    terraform = _platform_locals()
    assert terraform["ses_campaign_id_tag"] == CAMPAIGN_ID_TAG
    assert terraform["ses_segment_id_tag"] == SEGMENT_ID_TAG


def test_the_email_id_tag_is_no_cloudwatch_dimension() -> None:
    # One metric per transactional email would cost a fortune in CloudWatch.
    assert EMAIL_ID_TAG not in PLATFORM.read_text()
