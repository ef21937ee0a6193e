"""The fault plan: what is killed when, where the launcher crashes, which messages go twice,
when the campaign is paused by its operator and when SES pauses the account.

Drawn once from the run's seed before anything happens, so the same seed (and campaign size)
gives the same plan. What the services do in between (which SES or DynamoDB call an injected
fault hits, how a batch interleaves with a kill) depends on timing and is not replayed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# Crash points of the launcher (`ems_devstack.faults.CRASH_POINTS`):
# after a SendMessageBatch and before its checkpoint (that batch is enqueued again on resume),
# and after the checkpoint.
LAUNCHER_CRASH_POINTS: Final = ("launcher.after_send", "launcher.after_checkpoint")


@dataclass(frozen=True)
class Kill:
    """SIGKILL `service` `at_s` seconds into the fault phase; start it again `restart_s` later."""

    at_s: float
    service: str
    restart_s: float


@dataclass(frozen=True)
class Copy:
    """Deliver launcher message `index` (in launch order) once more, `delay_s` after launch."""

    index: int
    delay_s: float


class HoldKind(StrEnum):
    """A stop the campaign must come through with every email sent once."""

    PAUSE = "operator pause"  # POST /campaigns/{id}/pause, then /resume
    SES_PAUSE = "SES account pause"  # SES v2 PutAccountSendingAttributes(SendingEnabled=false)


@dataclass(frozen=True)
class Hold:
    """Stop the campaign `at_s` seconds into the fault phase, for `lasts_s`."""

    at_s: float
    kind: HoldKind
    lasts_s: float


@dataclass(frozen=True)
class FaultPlan:
    """Everything the run does to the stack, decided up front."""

    launcher_crash: str  # EMS_FAULTS entry, e.g. "launcher.after_send:2"
    kills: tuple[Kill, ...]
    poison_at_s: tuple[float, ...]  # one per poison message, seconds into the fault phase
    copies: tuple[Copy, ...]
    holds: tuple[Hold, ...] = ()

    def describe(self) -> str:
        """One line for the log."""
        first = ", ".join(f"{k.service}@{k.at_s:.0f}s" for k in self.kills[:6])
        holds = ", ".join(f"{h.kind}@{h.at_s:.0f}s for {h.lasts_s:.0f}s" for h in self.holds)
        return (
            f"launcher crashes at {self.launcher_crash}; kills: {first}"
            f"{' ...' if len(self.kills) > 6 else ''}; {len(self.poison_at_s)} poison messages;"
            f" {len(self.copies)} send-queue messages delivered twice; holds: {holds or 'none'}"
        )


@dataclass(frozen=True)
class PlanShape:
    """What the plan is drawn for: the services, the campaign's launch, the fault phase."""

    launcher: str
    senders: Sequence[str]
    tracker: str
    launcher_calls: int  # SendMessageBatch calls the launch makes
    messages: int  # send-queue messages the launch makes
    poisons: int
    fault_seconds: float  # the longest the fault phase may last
    first_kill_s: float = 3.0
    kill_gap_s: tuple[float, float] = (6.0, 12.0)
    restart_s: tuple[float, float] = (0.5, 4.0)
    duplicate_fraction: float = 0.2
    copy_delay_s: tuple[float, float] = (0.0, 30.0)
    hold_s: tuple[float, float] = (4.0, 10.0)


def plan_faults(rng: random.Random, shape: PlanShape) -> FaultPlan:
    """Draw the plan. The first kills take each kind of service once (launcher, a campaign
    sender, the tracker, in random order), the next ones any of them, senders twice as often.
    """
    if shape.launcher_calls < 1 or shape.messages < 1 or not shape.senders:
        msg = f"nothing to plan for: {shape}"
        raise ValueError(msg)
    crash = f"{rng.choice(LAUNCHER_CRASH_POINTS)}:{rng.randint(1, shape.launcher_calls)}"

    def sender() -> str:
        return rng.choice(list(shape.senders))

    opening = [shape.launcher, sender(), shape.tracker]
    rng.shuffle(opening)
    weighted = [shape.launcher, shape.tracker, *shape.senders, *shape.senders]
    kills: list[Kill] = []
    at = shape.first_kill_s
    while at < shape.fault_seconds:
        service = opening[len(kills)] if len(kills) < len(opening) else rng.choice(weighted)
        kills.append(Kill(round(at, 1), service, round(rng.uniform(*shape.restart_s), 1)))
        at += rng.uniform(*shape.kill_gap_s)
    poison_window = min(shape.fault_seconds, 20.0)
    poison_at = tuple(round(rng.uniform(0, poison_window), 1) for _ in range(shape.poisons))
    count = min(shape.messages, max(1, round(shape.messages * shape.duplicate_fraction)))
    copies = tuple(
        Copy(index, round(rng.uniform(*shape.copy_delay_s), 1))
        for index in sorted(rng.sample(range(shape.messages), count))
    )
    return FaultPlan(crash, tuple(kills), poison_at, copies, _holds(rng, shape))


def _holds(rng: random.Random, shape: PlanShape) -> tuple[Hold, ...]:
    """An operator pause and an SES account pause, in random order, apart, within the first
    half of the fault phase (while the campaign still sends)."""
    kinds = [HoldKind.PAUSE, HoldKind.SES_PAUSE]
    rng.shuffle(kinds)
    window = shape.fault_seconds / 2
    holds = []
    at = rng.uniform(shape.first_kill_s, window / 2)
    for kind in kinds:
        lasts = round(rng.uniform(*shape.hold_s), 1)
        holds.append(Hold(round(at, 1), kind, lasts))
        at += lasts + rng.uniform(2.0, max(2.0, window / 2 - lasts))
    return tuple(holds)
