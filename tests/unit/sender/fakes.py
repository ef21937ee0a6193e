"""In-memory stand-ins for what the sender talks to: DynamoDB's records and campaigns, SES, SQS
and the limiter. They only remember what they were asked; the behaviour under test (once per
email, errors by kind, holds) lives in `Sender`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ems_common.campaigns import PAUSABLE, Campaign, CampaignStatus, Held, Pause, PausedBy
from ems_common.dal.campaigns import StatusConflictError
from ems_common.dal.emails import EmailKey
from ems_common.emails import EmailState
from ems_common.formats import CampaignFileLine
from ems_common.formats.send_batch import SendBatch
from ems_common.formats.tags import EMAIL_ID_TAG
from ems_common.transactional import TRANSACTIONAL_CAMPAIGN_ID
from ems_sender.dal.account import Standing
from ems_sender.dal.records import ClaimOutcome
from ems_sender.limiter import Lane
from ems_sender.sending import Sender
from ems_sender.watch import Timing
from tests.support.suppressions import InMemorySuppressions

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class Records:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.expired_claims: dict[str, ClaimOutcome] = {}  # address -> what its re-claim finds

    def claim(self, key: EmailKey, *, owner: str, segment: str) -> ClaimOutcome:
        if key.recipient in self.expired_claims:
            self.items[(key.scope, key.recipient.lower())] = {"state": EmailState.CLAIMED}
            return self.expired_claims.pop(key.recipient)
        item = self.items.get((key.scope, key.recipient.lower()))
        if item is None:
            self.items[(key.scope, key.recipient.lower())] = {
                "state": EmailState.CLAIMED,
                "owner": owner,
            }
            return ClaimOutcome.CLAIMED
        if item["state"] is EmailState.CLAIMED:
            return ClaimOutcome.BUSY
        return ClaimOutcome.DONE

    def release(self, key: EmailKey, *, owner: str) -> None:
        self.items.pop((key.scope, key.recipient.lower()), None)

    def complete(self, key: EmailKey, state: EmailState, **details: Any) -> bool:
        self.items[(key.scope, key.recipient.lower())] = {"state": state, **details}
        return state in {EmailState.FAILED, EmailState.SUPPRESSED}

    def state(self, address: str) -> EmailState | None:
        item = self.items.get(("c1", address))
        return item["state"] if item else None


class Ses:
    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.fail = fail or {}
        self.sent: list[str] = []
        self.calls = 0
        self.before_send: Any = None  # called with the line before each send (to act meanwhile)

    def send(self, line: CampaignFileLine) -> str:
        self.calls += 1
        if self.before_send is not None:
            self.before_send(line)
        if line.to_address in self.fail:
            raise self.fail.pop(line.to_address)
        self.sent.append(line.to_address)
        return f"ses-{len(self.sent)}"


class Requeue:
    def __init__(self) -> None:
        self.later_calls: list[tuple[str, SendBatch, float]] = []
        self.dead: list[tuple[str, str]] = []

    def later(self, queue_url: str, body: str, delay_s: float) -> None:
        self.later_calls.append((queue_url, SendBatch.from_body(body), delay_s))

    def dead_letter(self, dlq_url: str, body: str, reason: str) -> None:
        self.dead.append((body, reason))

    def requeued(self) -> list[str]:
        """Every address put back on the queue, in order."""
        return [e.to_address for _, batch, _ in self.later_calls for e in batch.emails]


@dataclass
class Campaigns:
    """One status per campaign id (None: there is no such campaign)."""

    status: CampaignStatus | None
    pause_record: Pause | None = None
    held: Held | None = None
    transitions: list[tuple[str, CampaignStatus, str]] = field(default_factory=list)
    reads: int = 0

    def get(self, campaign_id: str) -> Campaign | None:
        self.reads += 1
        if self.status is None:
            return None
        return Campaign(
            campaign_id=campaign_id,
            status=self.status,
            scheduled_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            request_hash="h",
            pause=self.pause_record,
            held=self.held,
        )

    def transition(
        self,
        campaign_id: str,
        *,
        expected: Iterable[CampaignStatus],
        to: CampaignStatus,
        action: str,
        changes: Mapping[str, Any] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> Campaign:
        current = self.get(campaign_id)
        assert current is not None
        if self.status not in set(expected):
            raise StatusConflictError(current, expected, action)
        self.status = to
        if changes and changes.get("pause"):
            self.pause_record = Pause.model_validate(changes["pause"])
        self.transitions.append((campaign_id, to, action))
        campaign = self.get(campaign_id)
        assert campaign is not None
        return campaign

    def pause(self, campaign_id: str, *, by: PausedBy, reason: str) -> Campaign | None:
        """As `CampaignRepository.pause`: from LAUNCHING or SENDING only, back to where it was."""
        if self.status not in PAUSABLE:
            return None
        resume_to = "LAUNCHING" if self.status is CampaignStatus.LAUNCHING else "SENDING"
        self.pause_record = Pause(by=by, reason=reason, paused_at=NOW, resume_to=resume_to)
        self.status = CampaignStatus.PAUSED
        self.transitions.append((campaign_id, CampaignStatus.PAUSED, f"pause ({by})"))
        return self.get(campaign_id)

    def update(self, campaign_id: str, changes: Mapping[str, Any]) -> None:
        if "held" in changes:
            self.held = Held.model_validate(changes["held"])


class Gate:
    def __init__(self, pause_after: int | None = None) -> None:
        self.allowed = 0
        self.pause_after = pause_after

    def wait_for_send(self, lane: Lane) -> float | None:
        if self.pause_after is not None and self.allowed >= self.pause_after:
            return 600.0
        self.allowed += 1
        return None


class Account:
    """SES's standing of the account, as the test sets it."""

    def __init__(self, standing: Standing | None = None) -> None:
        self.standing = standing or Standing()

    def current(self) -> Standing:
        return self.standing


def line(address: str, campaign_id: str = "c1") -> CampaignFileLine:
    return CampaignFileLine.for_recipient(
        from_email_address="news@example.com",
        to_address=address,
        template_name="t",
        template_data={"name": "X"},
        campaign_id=campaign_id,
        segment_id="s",
        configuration_set_name="ems",
    )


def body(*addresses: str, campaign_id: str = "c1") -> str:
    return SendBatch(
        campaign_id=campaign_id,
        part=1,
        first_line=0,
        emails=[line(a, campaign_id) for a in addresses],
    ).model_dump_json(by_alias=True)


def transactional_body(*emails: tuple[str, str]) -> str:
    """A transactional batch: (email id, address) pairs, as the API queues them."""
    lines = [
        CampaignFileLine.for_recipient(
            from_email_address="shop@example.com",
            to_address=address,
            template_name="ems-tx-receipt",
            template_data={"order": "1"},
            campaign_id=TRANSACTIONAL_CAMPAIGN_ID,
            segment_id="receipt",
            configuration_set_name="ems",
            extra_tags={EMAIL_ID_TAG: email_id},
        )
        for email_id, address in emails
    ]
    return SendBatch(
        campaign_id=TRANSACTIONAL_CAMPAIGN_ID, part=1, first_line=0, emails=lines
    ).model_dump_json(by_alias=True)


@dataclass
class Rig:
    """A sender and the stand-ins it talks to."""

    sender: Sender
    records: Records
    ses: Ses
    requeue: Requeue
    campaigns: Campaigns
    account: Account


def make_sender(
    *,
    ses: Ses | None = None,
    status: CampaignStatus | None = CampaignStatus.SENDING,
    suppressed: Iterable[str] = (),
    gate: Gate | None = None,
    lane: Lane = Lane.CAMPAIGN,
    timing: Timing | None = None,
) -> Rig:
    records, requeue, ses = Records(), Requeue(), ses or Ses()
    campaigns, account = Campaigns(status), Account()
    sender = Sender(
        records=records,  # type: ignore[arg-type]
        ses=ses,  # type: ignore[arg-type]
        requeue=requeue,  # type: ignore[arg-type]
        suppressions=InMemorySuppressions(*suppressed),  # type: ignore[arg-type]
        campaigns=campaigns,  # type: ignore[arg-type]
        gate=gate or Gate(),
        queue_url="q",
        dlq_url="dlq",
        lane=lane,
        account=account,  # type: ignore[arg-type]
        timing=timing or Timing(),
    )
    return Rig(sender, records, ses, requeue, campaigns, account)
