"""The SES message tags EMS writes on every send, and SES's rule for tag text.

The campaign file writes these tags (``EmailTags``), SES copies them into ``mail.tags`` of every
event it publishes, and the tracker reads them back: the names live here and nowhere else.
"""

import re
from typing import Annotated, Final

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CAMPAIGN_ID_TAG: Final = "campaignId"
"""Tag name carrying the campaign id on every email EMS sends."""

SEGMENT_ID_TAG: Final = "segmentId"
"""Tag name carrying the segment id (the segment's ``list_name``) on every email EMS sends."""

EMAIL_ID_TAG: Final = "emailId"
"""Tag name carrying a transactional email's id (``ems_common.transactional``).

A transactional email's ``campaignId`` is the one value
``ems_common.transactional.TRANSACTIONAL_CAMPAIGN_ID`` (so the
CloudWatch destination's ``campaignId`` dimension does not grow a metric per email) and its
``segmentId`` is its template's name; its record is found by this tag.
"""

RESERVED_TAGS: Final = frozenset({CAMPAIGN_ID_TAG, SEGMENT_ID_TAG, EMAIL_ID_TAG})
"""Tag names EMS writes itself: a caller's own tags may not use them."""

TAG_TEXT_MAX_LENGTH: Final = 256
"""SES's limit for a tag name or value."""

# SES accepts only these characters in tag names and values (both API v1 and v2).
_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_NOT_TAG_CHARACTER = re.compile(r"[^A-Za-z0-9_-]")


def tag_text_problem(text: str) -> str | None:
    """Say what is wrong with ``text`` as an SES tag name or value, or return None if it is valid.

    Valid text is 1 to 256 characters of ASCII letters, digits, underscore and dash.
    """
    if not text:
        return "must not be empty: SES tags need 1 to 256 characters"
    if len(text) > TAG_TEXT_MAX_LENGTH:
        return (
            f"is {len(text)} characters long: SES tags allow at most {TAG_TEXT_MAX_LENGTH}, "
            "shorten it"
        )
    if _TAG_TEXT.fullmatch(text) is None:
        bad = sorted(set(_NOT_TAG_CHARACTER.findall(text)))
        shown = ", ".join(repr(character) for character in bad)
        return (
            f"{text[:60]!r} contains {shown}: SES tags allow only ASCII letters, digits, "
            "'_' and '-', so replace or remove those characters"
        )
    return None


def check_tag_text(text: str) -> str:
    """Return ``text`` unchanged if SES accepts it as a tag name or value, else raise ValueError.

    The error is a pydantic ``PydanticCustomError`` (a ValueError), so this works both as a
    pydantic validator and from plain code.
    """
    problem = tag_text_problem(text)
    if problem is not None:
        raise PydanticCustomError("ses_tag_text", "{problem}", {"problem": problem})
    return text


TagText = Annotated[str, AfterValidator(check_tag_text)]
"""A string SES accepts as a tag name or value."""
