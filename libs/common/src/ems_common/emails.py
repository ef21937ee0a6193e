"""The email record: one item per (campaign or transactional request, recipient) in the emails
table, the one definition the sender, the tracker and the API read and write.

The sender claims the record before the SES call and completes it after (`EmailState`,
`ses_message_id`, `reason` ...); the tracker adds when each kind of SES event first happened
(`sent_at`, `delivered_at` ...; counts of opens and clicks), one conditional write per event,
creating the record if the sender wrote none; the API shows it.
An email's status (`EmailStatus`) is derived from those fields, so a late Send never undoes a
Delivery. The item's key is `ems_common.dal.emails.EmailKey`.

Attribute names are the model's field names: the constants below name them for update and
condition expressions, each checked against the model when this module loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from ems_common import keys


class EmailState(StrEnum):
    """Where the sender is with one email."""

    CLAIMED = "CLAIMED"  # a worker is sending it
    SENT = "SENT"  # SES accepted it (ses_message_id is set)
    FAILED = "FAILED"  # SES refused it for good (reason is set)
    SUPPRESSED = "SUPPRESSED"  # the address is on the suppression list
    # SES's answer was lost after the request left (a read timeout): sent or not is unknown
    # until its events come. Never sent again: a second email is worse than a late answer.
    AMBIGUOUS = "AMBIGUOUS"


# The sender is done with these: a later claim skips them.
FINAL_STATES: Final = frozenset(
    {EmailState.SENT, EmailState.FAILED, EmailState.SUPPRESSED, EmailState.AMBIGUOUS}
)


class EmailStatus(StrEnum):
    """One email's status, as the API shows it."""

    QUEUED = "QUEUED"  # no worker has taken it yet
    SENDING = "SENDING"  # a sender holds it
    SENT = "SENT"  # SES accepted it
    DELIVERY_DELAYED = "DELIVERY_DELAYED"
    DELIVERED = "DELIVERED"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    SOFT_BOUNCED = "SOFT_BOUNCED"
    BOUNCED = "BOUNCED"
    COMPLAINED = "COMPLAINED"
    REJECTED = "REJECTED"
    RENDERING_FAILED = "RENDERING_FAILED"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"
    AMBIGUOUS = "AMBIGUOUS"  # SES's answer was lost; its events will tell


HARD_BOUNCE: Final = "Permanent"
"""SES's bounceType of a hard bounce."""


class EmailRecord(BaseModel):
    """One email's item, without its key. Times are ISO 8601 text in UTC (`utc_iso`), so that
    string order is time order; `claim_until` and `expires_at` are epoch seconds."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # --- the sender's ---------------------------------------------------------------------
    state: EmailState | None = None
    segment_id: str | None = None
    claim_owner: str | None = None
    claim_until: int | None = None
    claims: int = 0
    claimed_at: str | None = None
    completed_at: str | None = None
    ses_message_id: str | None = None
    reason: str | None = None  # why SES refused it (FAILED)
    expires_at: int | None = None  # the table's TTL attribute (ems_common.keys.TTL_ATTRIBUTE)
    # --- the tracker's: when each kind of event first happened ------------------------------
    sent_at: str | None = None
    delivered_at: str | None = None
    delayed_at: str | None = None
    bounced_at: str | None = None
    bounce_type: str | None = None  # Permanent, Transient or Undetermined
    complained_at: str | None = None
    rejected_at: str | None = None
    rendering_failed_at: str | None = None
    opened_at: str | None = None
    opens: int = 0
    clicked_at: str | None = None
    clicks: int = 0
    unsubscribed_at: str | None = None
    # Short digests of the opens and clicks applied: one delivered twice is counted once.
    engagement_digests: frozenset[str] = frozenset()
    # --- both: when it reached its final sending state (counted once, by whoever set it) ----
    finished_at: str | None = None

    @classmethod
    def of(cls, record: EmailRecord | Mapping[str, Any]) -> EmailRecord:
        """`record` itself, or the record of plain values (as `from_item` gives them)."""
        return record if isinstance(record, EmailRecord) else cls.model_validate(record)

    def has(self, name: str) -> bool:
        """Whether attribute `name` is set (a "first time" field, say)."""
        return getattr(self, name) is not None

    @property
    def accepted_by_ses(self) -> bool:
        """Whether SES is known to have accepted the email: its message id is on the record
        (the sender's answer, or any of its SES events: the tracker writes the id with each)."""
        return self.ses_message_id is not None or any(self.has(n) for n in _EVENT_TIMES)

    @property
    def status(self) -> EmailStatus:
        """The most telling thing that happened to the email, whatever order events came in.

        A complaint, then a hard bounce, a rejection, a rendering failure, a click, an open, a
        delivery, a soft bounce, a delay, and SES accepting the email; else the sender's state.
        """
        bounced = self.bounced_at is not None
        precedence = (
            (self.complained_at is not None, EmailStatus.COMPLAINED),
            (bounced and self.bounce_type == HARD_BOUNCE, EmailStatus.BOUNCED),
            (self.rejected_at is not None, EmailStatus.REJECTED),
            (self.rendering_failed_at is not None, EmailStatus.RENDERING_FAILED),
            (self.clicked_at is not None, EmailStatus.CLICKED),
            (self.opened_at is not None, EmailStatus.OPENED),
            (self.delivered_at is not None, EmailStatus.DELIVERED),
            (bounced, EmailStatus.SOFT_BOUNCED),
            (self.delayed_at is not None, EmailStatus.DELIVERY_DELAYED),
            (self.sent_at is not None, EmailStatus.SENT),
        )
        for present, status in precedence:
            if present:
                return status
        return EmailStatus.QUEUED if self.state is None else _SENDER_STATES[self.state]


_SENDER_STATES: Final = {
    EmailState.FAILED: EmailStatus.FAILED,
    EmailState.SUPPRESSED: EmailStatus.SUPPRESSED,
    EmailState.SENT: EmailStatus.SENT,
    EmailState.CLAIMED: EmailStatus.SENDING,
    EmailState.AMBIGUOUS: EmailStatus.AMBIGUOUS,
}


def email_status(record: EmailRecord | Mapping[str, Any] | None) -> EmailStatus:
    """The status of the email whose record is `record` (QUEUED when there is none yet)."""
    return EmailStatus.QUEUED if record is None else EmailRecord.of(record).status


def _name(field: str) -> str:
    """`field`, which must be an attribute of EmailRecord (checked when this module loads)."""
    if field not in EmailRecord.model_fields:
        msg = f"{field!r} is no attribute of EmailRecord"
        raise AttributeError(msg)
    return field


# Attribute names, for the update and condition expressions of the sender and the tracker.
STATE: Final = _name("state")
SEGMENT_ID: Final = _name("segment_id")
CLAIM_OWNER: Final = _name("claim_owner")
CLAIM_UNTIL: Final = _name("claim_until")
CLAIMS: Final = _name("claims")
CLAIMED_AT: Final = _name("claimed_at")
COMPLETED_AT: Final = _name("completed_at")
SES_MESSAGE_ID: Final = _name(keys.EMAIL_SES_MESSAGE_ID)  # the message-id index key
REASON: Final = _name("reason")
EXPIRES_AT: Final = _name(keys.TTL_ATTRIBUTE)
SENT_AT: Final = _name("sent_at")
DELIVERED_AT: Final = _name("delivered_at")
DELAYED_AT: Final = _name("delayed_at")
BOUNCED_AT: Final = _name("bounced_at")
BOUNCE_TYPE: Final = _name("bounce_type")
COMPLAINED_AT: Final = _name("complained_at")
REJECTED_AT: Final = _name("rejected_at")
RENDERING_FAILED_AT: Final = _name("rendering_failed_at")
OPENED_AT: Final = _name("opened_at")
OPENS: Final = _name("opens")
CLICKED_AT: Final = _name("clicked_at")
CLICKS: Final = _name("clicks")
UNSUBSCRIBED_AT: Final = _name("unsubscribed_at")
ENGAGEMENT_DIGESTS: Final = _name("engagement_digests")
FINISHED_AT: Final = _name("finished_at")

# What only SES's events set: any of them on a record says SES accepted the email.
_EVENT_TIMES: Final = (
    SENT_AT,
    DELIVERED_AT,
    DELAYED_AT,
    BOUNCED_AT,
    COMPLAINED_AT,
    REJECTED_AT,
    RENDERING_FAILED_AT,
    OPENED_AT,
    CLICKED_AT,
)
