"""SES tag names EMS writes, and SES's rule for tag text."""

import pytest

from ems_common.formats import (
    CAMPAIGN_ID_TAG,
    SEGMENT_ID_TAG,
    TAG_TEXT_MAX_LENGTH,
    check_tag_text,
    tag_text_problem,
)


def test_tag_names_are_the_ones_the_seeds_campaign_file_writes() -> None:
    assert (CAMPAIGN_ID_TAG, SEGMENT_ID_TAG) == ("campaignId", "segmentId")
    # The names themselves must pass SES's rule.
    assert tag_text_problem(CAMPAIGN_ID_TAG) is None
    assert tag_text_problem(SEGMENT_ID_TAG) is None


@pytest.mark.parametrize(
    "text",
    ["a", "summer-sale-2025", "vip_customers", "ABC-123_x", "x" * TAG_TEXT_MAX_LENGTH],
)
def test_valid_tag_text(text: str) -> None:
    assert tag_text_problem(text) is None
    assert check_tag_text(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("x" * (TAG_TEXT_MAX_LENGTH + 1), "is 257 characters long: SES tags allow at most 256"),
        ("VIP customers", "contains ' ': SES tags allow only ASCII letters, digits, '_' and '-'"),
        ("a.b/c", "contains '.', '/'"),
        ("café", "contains 'é'"),
        ("ses:operation", "contains ':'"),
    ],
)
def test_invalid_tag_text_says_what_to_fix(text: str, message: str) -> None:
    problem = tag_text_problem(text)

    assert problem is not None
    assert message in problem
    with pytest.raises(ValueError, match="SES tags"):
        check_tag_text(text)
