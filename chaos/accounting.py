"""What the run shows: who got how many emails, whether the metrics add up, where poison went.

Plain Python on what was read from the stack, so the verdict is unit-tested without one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from chaos.poison import Poison
from ems_common.campaigns import CampaignStatus

_REASON_SHOWN: Final = 70


@dataclass(frozen=True)
class Tally:
    """Emails at /_aws/ses against the campaign's accepted recipients."""

    accepted: int
    expected: int  # accepted and not suppressed: each must get exactly one email
    emailed: int  # distinct expected recipients who got at least one
    emails: int  # every email of the campaign at /_aws/ses, duplicates included
    duplicates: dict[str, int]  # address -> emails beyond the first
    lost: frozenset[str]  # expected recipients who got none
    unexpected: dict[str, int]  # suppressed or unknown addresses that got email

    @property
    def duplicate_emails(self) -> int:
        """Emails beyond one per recipient."""
        return sum(self.duplicates.values())

    @property
    def ok(self) -> bool:
        """Exactly one email per expected recipient, and none elsewhere."""
        return not self.duplicates and not self.lost and not self.unexpected


def tally(accepted: Collection[str], suppressed: Collection[str], outbox: Counter[str]) -> Tally:
    """Compare what went out (`outbox`: address -> emails) with who should get one.

    Addresses compare in lower case, as the sender's records key them.
    """
    accepted_set = {address.lower() for address in accepted}
    suppressed_set = {address.lower() for address in suppressed} & accepted_set
    expected = accepted_set - suppressed_set
    counts: Counter[str] = Counter()
    for address, n in outbox.items():
        counts[address.lower()] += n
    return Tally(
        accepted=len(accepted_set),
        expected=len(expected),
        emailed=sum(1 for address in expected if counts[address] > 0),
        emails=sum(counts.values()),
        duplicates={a: n - 1 for a, n in sorted(counts.items()) if a in expected and n > 1},
        lost=frozenset(expected - {a for a, n in counts.items() if n > 0}),
        unexpected={a: n for a, n in sorted(counts.items()) if a not in expected and n > 0},
    )


def metric_mismatches(
    metrics: Mapping[str, Any], counted: Tally, *, suppressed: int, failed: int = 0
) -> list[str]:
    """Where the API's campaign metrics disagree with what went out; empty if they add up.

    `suppressed` and `failed` are the emails the run expects the sender to have recorded so.
    """
    expectations = [
        ("total", counted.accepted, "accepted recipients"),
        ("sent", counted.emailed + len(counted.unexpected), "distinct recipients at /_aws/ses"),
        ("delivered", int(metrics.get("sent", -1)), "sent (LocalStack delivers every email)"),
        ("failed", failed, "emails SES refused for good"),
        ("suppressed", suppressed, "recipients suppressed before the launch"),
        ("finished", counted.accepted, "accepted recipients (every email final)"),
    ]
    problems = [
        f"{name} is {metrics.get(name)}, expected {want} ({why})"
        for name, want, why in expectations
        if metrics.get(name) != want
    ]
    parts = sum(int(metrics.get(name, 0)) for name in ("sent", "failed", "suppressed"))
    if parts != metrics.get("total"):
        problems.append(f"sent + failed + suppressed = {parts}, total is {metrics.get('total')}")
    if metrics.get("status") != CampaignStatus.COMPLETED:
        problems.append(f"status is {metrics.get('status')}, expected {CampaignStatus.COMPLETED}")
    return problems


@dataclass(frozen=True)
class DeadLetterSeen:
    """One message read on a DLQ."""

    queue: str  # the work queue's name: send, transactional, tracker, ...
    body: str
    reason: str | None


@dataclass
class PoisonReport:
    """Where the poison messages ended up, and what else the DLQs hold."""

    found: dict[str, str] = field(default_factory=dict)  # marker -> reason
    without_reason: list[Poison] = field(default_factory=list)
    wrong_queue: list[tuple[Poison, str]] = field(default_factory=list)
    missing: list[Poison] = field(default_factory=list)
    copies: Counter[str] = field(default_factory=Counter)  # marker -> times dead-lettered
    by_queue_and_reason: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """Every poison message in its own queue's DLQ, with a reason."""
        return not (self.without_reason or self.wrong_queue or self.missing)


def short_reason(reason: str | None) -> str:
    """A DLQ reason cut to its gist, for grouping (reasons quote the message's details)."""
    if not reason:
        return "(no reason: moved by SQS after maxReceiveCount)"
    gist = reason.split("(", 1)[0].strip()
    return gist if len(gist) <= _REASON_SHOWN else gist[: _REASON_SHOWN - 3] + "..."


def match_poison(poisons: Sequence[Poison], dead_letters: Sequence[DeadLetterSeen]) -> PoisonReport:
    """Find each poison message (by its marker) among the DLQ messages."""
    report = PoisonReport()
    for letter in dead_letters:
        report.by_queue_and_reason[(letter.queue, short_reason(letter.reason))] += 1
    for poison in poisons:
        here = [d for d in dead_letters if poison.marker in d.body]
        report.copies[poison.marker] = len(here)
        home = [d for d in here if d.queue == poison.queue]
        with_reason = [d for d in home if d.reason]
        if with_reason:
            report.found[poison.marker] = str(with_reason[0].reason)
        elif home:
            report.without_reason.append(poison)
        elif here:
            report.wrong_queue.append((poison, here[0].queue))
        else:
            report.missing.append(poison)
    return report
