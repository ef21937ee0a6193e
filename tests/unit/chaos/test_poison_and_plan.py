"""Poison messages each consumer must refuse with a reason; the seeded fault plan."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from chaos.plan import LAUNCHER_CRASH_POINTS, HoldKind, PlanShape, plan_faults
from chaos.poison import (
    SEND_BATCH_POISON,
    SES_EVENT_POISON,
    TRACKER_MESSAGE_POISON,
    Poison,
    poison_messages,
)
from ems_common.formats.send_batch import SendBatch
from ems_tracker.dal.event_objects import EventObjects, NotificationError, split_documents
from ems_tracker.ses_events import MalformedEventError, parse_ses_event

POISONS = poison_messages(
    "run1", send_batch_queues=["send", "transactional"], ses_event_queues=["tracker"]
)


def test_every_kind_of_poison_for_every_queue_with_its_own_marker() -> None:
    assert len(POISONS) == 2 * len(SEND_BATCH_POISON) + len(SES_EVENT_POISON) + len(
        TRACKER_MESSAGE_POISON
    )
    assert len({p.marker for p in POISONS}) == len(POISONS)
    for poison in POISONS:
        assert poison.marker in poison.body
        assert poison.marker.startswith("chaos-poison-run1-")


@pytest.mark.parametrize("poison", [p for p in POISONS if p.queue != "tracker"], ids=str)
def test_send_batch_poison_is_no_send_batch(poison: object) -> None:
    with pytest.raises(ValidationError):
        SendBatch.from_body(poison.body)  # type: ignore[attr-defined]


@pytest.mark.parametrize("poison", [p for p in POISONS if p.queue == "tracker"], ids=str)
def test_ses_event_poison_is_no_ses_event(poison: object) -> None:
    with pytest.raises(MalformedEventError):
        parse_ses_event(poison.body)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "poison", [p for p in POISONS if p.queue == "tracker" and not p.in_events_stream], ids=str
)
def test_tracker_message_poison_names_no_object_of_ses_events(poison: Poison) -> None:
    # Given the reader of the events bucket's objects (it reads no object to refuse these)
    objects = EventObjects(None, bucket="events", prefix="ses-events/")  # type: ignore[arg-type]
    with pytest.raises(NotificationError):
        objects.named_by(poison.body)


@pytest.mark.parametrize("poison", [p for p in POISONS if p.in_events_stream], ids=str)
def test_event_poison_stays_one_document_of_its_object(poison: Poison) -> None:
    # Published between two other events, it is cut out alone (and dead-lettered alone)
    text = f'{{"a":1}}\n{poison.body}\n{{"b":2}}\n'
    assert split_documents(text) == ['{"a":1}', poison.body, '{"b":2}']


SHAPE = PlanShape(
    launcher="launcher",
    senders=("sender-campaign-1", "sender-campaign-2"),
    tracker="tracker",
    launcher_calls=2,
    messages=12,
    poisons=26,
    fault_seconds=60.0,
)


def test_the_same_seed_gives_the_same_plan() -> None:
    assert plan_faults(random.Random(7), SHAPE) == plan_faults(random.Random(7), SHAPE)
    assert plan_faults(random.Random(7), SHAPE) != plan_faults(random.Random(8), SHAPE)


@pytest.mark.parametrize("seed", range(20))
def test_the_first_kills_take_each_kind_of_service_once(seed: int) -> None:
    plan = plan_faults(random.Random(seed), SHAPE)

    first = {kill.service for kill in plan.kills[:3]}
    assert "launcher" in first
    assert "tracker" in first
    assert first & {"sender-campaign-1", "sender-campaign-2"}
    # Kills are spread over the fault phase, in order, each with a restart
    times = [kill.at_s for kill in plan.kills]
    assert times == sorted(times)
    assert times[0] == SHAPE.first_kill_s
    assert times[-1] < 60
    assert all(0.5 <= kill.restart_s <= 4.0 for kill in plan.kills)


@pytest.mark.parametrize("seed", range(20))
def test_the_launcher_crashes_at_a_point_its_launch_reaches(seed: int) -> None:
    plan = plan_faults(random.Random(seed), SHAPE)
    point, _, count = plan.launcher_crash.partition(":")
    assert point in LAUNCHER_CRASH_POINTS
    assert 1 <= int(count) <= SHAPE.launcher_calls


def test_copies_and_poison_times_fit_the_campaign() -> None:
    plan = plan_faults(random.Random(3), SHAPE)
    indexes = [copy.index for copy in plan.copies]
    assert len(indexes) == round(12 * 0.2)
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= i < 12 for i in indexes)
    assert len(plan.poison_at_s) == 26
    assert all(0 <= t <= 20 for t in plan.poison_at_s)
    assert "launcher crashes at" in plan.describe()


def test_a_campaign_without_messages_has_no_plan() -> None:
    with pytest.raises(ValueError, match="nothing to plan"):
        plan_faults(random.Random(1), PlanShape("l", ("s",), "t", 0, 0, 1, 10.0))


@pytest.mark.parametrize("seed", range(20))
def test_the_plan_pauses_the_campaign_and_the_ses_account_once_each_apart(seed: int) -> None:
    plan = plan_faults(random.Random(seed), SHAPE)
    assert sorted(h.kind for h in plan.holds) == sorted(HoldKind)
    first, second = plan.holds
    assert first.at_s + first.lasts_s < second.at_s  # one stop at a time
    assert all(h.at_s + h.lasts_s < SHAPE.fault_seconds for h in plan.holds)
