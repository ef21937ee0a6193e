"""Claiming an email's record: what the conditional write's answer says about the email."""

from __future__ import annotations

from typing import Any

import pytest

from ems_common.dal.emails import EmailKey
from ems_common.dal.items import to_item
from ems_common.emails import SENT_AT, SES_MESSAGE_ID
from ems_sender.dal.records import ClaimOutcome, EmailRecords


class DynamoDB:
    """Answers the claim's UpdateItem with the record as it is after the write."""

    def __init__(self, after: dict[str, Any]) -> None:
        self.after = after
        self.calls: list[dict[str, Any]] = []

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"Attributes": to_item(self.after)}


def _claim(after: dict[str, Any]) -> tuple[ClaimOutcome, DynamoDB]:
    db = DynamoDB({"pk": "c1", "sk": "a@example.org", "state": "CLAIMED", **after})
    records = EmailRecords(db, "emails", claim_seconds=30, ttl_days=1)  # type: ignore[arg-type]
    return records.claim(EmailKey("c1", "a@example.org"), owner="me", segment="s"), db


def test_a_first_claim_is_claimed() -> None:
    outcome, db = _claim({"claims": 1})
    assert outcome is ClaimOutcome.CLAIMED
    # The whole record comes back, to see what the tracker wrote on it
    assert db.calls[0]["ReturnValues"] == "ALL_NEW"


def test_an_expired_claim_without_ses_events_is_reclaimed() -> None:
    assert _claim({"claims": 2})[0] is ClaimOutcome.RECLAIMED


@pytest.mark.parametrize(
    "tracked",
    [
        {SES_MESSAGE_ID: "m-1", SENT_AT: "2030-01-01T00:00:00+00:00"},
        {SES_MESSAGE_ID: "m-1"},  # the tracker writes the id with every event it applies
        {SENT_AT: "2030-01-01T00:00:00+00:00"},
    ],
)
def test_an_expired_claim_of_an_email_with_ses_events_was_accepted_before(
    tracked: dict[str, Any],
) -> None:
    assert _claim({"claims": 2, **tracked})[0] is ClaimOutcome.ACCEPTED_BEFORE
