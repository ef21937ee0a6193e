"""Dead-letter queue routes: counts, a peek at the messages, a redrive back to the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from ems_scheduler.api.errors import ApiError, ErrorView
from ems_scheduler.dead_letters.queues import (
    BODY_SHOWN,
    MAX_PEEK,
    DeadLetter,
    DeadLetterQueues,
    RedriveRunningError,
    UnknownQueueError,
)

_ERRORS: dict[str | int, type[BaseModel] | dict[Any, Any] | None] = {
    400: ErrorView,
    401: ErrorView,
    403: ErrorView,
    404: ErrorView,
}


class DlqCountView(BaseModel):
    """One queue's DLQ and how many messages it holds."""

    queue: str = Field(description="The queue's name, e.g. send")
    messages: int = Field(description="Approximate messages in its DLQ (visible and in flight)")


class DlqListView(BaseModel):
    """Every queue's DLQ."""

    queues: list[DlqCountView]


class DeadLetterView(BaseModel):
    """One dead-lettered message."""

    message_id: str
    sent_at: datetime | None = Field(description="When it was first sent (UTC)")
    receive_count: int = Field(description="How often it was received")
    reason: str | None = Field(description="Why EMS dead-lettered it, when it said")
    body: str = Field(description=f"The body, cut to {BODY_SHOWN} characters")
    body_truncated: bool

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterView:
        """The view of a peeked message."""
        return cls(
            message_id=letter.message_id,
            sent_at=letter.sent_at,
            receive_count=letter.receive_count,
            reason=letter.reason,
            body=letter.body,
            body_truncated=letter.body_truncated,
        )


class DlqPeekView(BaseModel):
    """A peek at a DLQ: the messages stay on it."""

    queue: str
    messages: list[DeadLetterView]


class RedriveView(BaseModel):
    """A started redrive."""

    queue: str
    task_handle: str = Field(description="SQS's handle of the message move task")
    source_arn: str
    destination_arn: str
    messages_to_move: int = Field(description="Approximate messages on the DLQ when it started")


class DlqPath(BaseModel):
    """The queue in the URL."""

    queue: str = Field(max_length=64)


class DlqPeekQuery(BaseModel):
    """How many messages to peek at."""

    limit: int = Field(default=MAX_PEEK, ge=1, le=MAX_PEEK)


def dlq_api(dead_letters: DeadLetterQueues) -> APIBlueprint:
    """The /dlq routes, bound to `dead_letters`."""
    api = APIBlueprint(
        "dlq",
        __name__,
        url_prefix="/dlq",
        abp_tags=[Tag(name="dlq")],
        abp_security=[{"api_key": []}],
    )

    def known(queue: str) -> str:
        names = dead_letters.queue_names()
        if queue not in names:
            raise ApiError(404, "not_found", str(UnknownQueueError(queue, names)))
        return queue

    @api.get("", responses={200: DlqListView, **_ERRORS})
    def list_dlqs() -> dict[str, Any]:
        """Approximate messages in each queue's dead-letter queue."""
        counts = dead_letters.counts()
        return DlqListView(
            queues=[DlqCountView(queue=name, messages=n) for name, n in counts.items()]
        ).model_dump(mode="json")

    @api.get("/<queue>", responses={200: DlqPeekView, **_ERRORS})
    def peek(path: DlqPath, query: DlqPeekQuery) -> dict[str, Any]:
        """Up to `limit` messages of a DLQ, with why they are there; they are not deleted."""
        name = known(path.queue)
        letters = dead_letters.peek(name, query.limit)
        return DlqPeekView(
            queue=name, messages=[DeadLetterView.of(letter) for letter in letters]
        ).model_dump(mode="json")

    @api.post("/<queue>/redrive", responses={202: RedriveView, 409: ErrorView, **_ERRORS})
    def redrive(path: DlqPath) -> tuple[dict[str, Any], int]:
        """Move a DLQ's messages back to its queue (409 while a redrive of it runs)."""
        name = known(path.queue)
        try:
            task = dead_letters.redrive(name)
        except RedriveRunningError as error:
            raise ApiError(409, "conflict", str(error)) from error
        view = RedriveView(
            queue=name,
            task_handle=task.task_handle,
            source_arn=task.source_arn,
            destination_arn=task.destination_arn,
            messages_to_move=task.messages_to_move,
        )
        return view.model_dump(mode="json"), 202

    return api
