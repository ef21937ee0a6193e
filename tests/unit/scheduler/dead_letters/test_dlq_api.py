"""The /dlq routes around a fake set of DLQs, and the SQS adapter against a stubbed client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber
from flask.testing import FlaskClient

from ems_scheduler.dead_letters.queues import (
    BODY_SHOWN,
    DeadLetter,
    QueuePair,
    RedriveRunningError,
    RedriveTask,
    SqsDeadLetters,
    UnknownQueueError,
)
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.wiring import create_app
from tests.unit.scheduler.conftest import API_KEY

KEY = API_KEY
AUTH = {"X-Api-Key": KEY}
NAMES = ["send", "transactional", "tracker", "compile"]
SENT = datetime(2030, 1, 1, tzinfo=UTC)


class FakeDeadLetters:
    """Four DLQs in memory; the send DLQ holds one unreadable message."""

    def __init__(self) -> None:
        self.letters = {name: list[DeadLetter]() for name in NAMES}
        self.letters["send"].append(
            DeadLetter("m-1", SENT, 3, "not a send batch: x", '{"junk": 1}', body_truncated=False)
        )
        self.running: set[str] = set()
        self.peeks: list[tuple[str, int]] = []

    def queue_names(self) -> list[str]:
        return list(NAMES)

    def counts(self) -> dict[str, int]:
        return {name: len(letters) for name, letters in self.letters.items()}

    def peek(self, name: str, limit: int) -> list[DeadLetter]:
        self.peeks.append((name, limit))
        return self.letters[name][:limit]

    def redrive(self, name: str) -> RedriveTask:
        if name in self.running:
            raise RedriveRunningError(f"a redrive of the {name} DLQ is already running")
        self.running.add(name)
        return RedriveTask("handle-1", f"arn:{name}-dlq", f"arn:{name}", len(self.letters[name]))


@pytest.fixture
def dead_letters() -> FakeDeadLetters:
    return FakeDeadLetters()


@pytest.fixture
def client(dead_letters: FakeDeadLetters, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    app = create_app(settings, object(), dead_letters=dead_letters)  # type: ignore[arg-type]
    with app.test_client() as test_client:
        yield test_client


def test_the_routes_need_the_key(client: FlaskClient) -> None:
    assert client.get("/dlq").status_code == 401
    assert client.get("/dlq/send", headers={"X-Api-Key": "nope"}).status_code == 403
    assert client.post("/dlq/send/redrive").status_code == 401


def test_list_counts_every_dlq(client: FlaskClient) -> None:
    response = client.get("/dlq", headers=AUTH)

    assert response.status_code == 200
    assert response.json == {
        "queues": [
            {"queue": "send", "messages": 1},
            {"queue": "transactional", "messages": 0},
            {"queue": "tracker", "messages": 0},
            {"queue": "compile", "messages": 0},
        ]
    }


def test_peek_shows_the_messages_with_their_reason(
    client: FlaskClient, dead_letters: FakeDeadLetters
) -> None:
    response = client.get("/dlq/send?limit=3", headers=AUTH)

    assert response.status_code == 200
    assert dead_letters.peeks == [("send", 3)]
    assert response.json == {
        "queue": "send",
        "messages": [
            {
                "message_id": "m-1",
                "sent_at": "2030-01-01T00:00:00Z",
                "receive_count": 3,
                "reason": "not a send batch: x",
                "body": '{"junk": 1}',
                "body_truncated": False,
            }
        ],
    }


@pytest.mark.parametrize("limit", ["0", "11", "many"])
def test_peek_limit_is_1_to_10(client: FlaskClient, limit: str) -> None:
    response = client.get(f"/dlq/send?limit={limit}", headers=AUTH)

    assert response.status_code == 400
    assert response.json["error"] == "bad_request"  # type: ignore[index]


@pytest.mark.parametrize(("method", "path"), [("get", "/dlq/sned"), ("post", "/dlq/sned/redrive")])
def test_an_unknown_queue_is_a_404_naming_the_queues(
    client: FlaskClient, method: str, path: str
) -> None:
    response = getattr(client, method)(path, headers=AUTH)

    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    for name in NAMES:
        assert name in response.json["message"]


def test_redrive_starts_a_move_and_a_second_is_a_409(client: FlaskClient) -> None:
    first = client.post("/dlq/send/redrive", headers=AUTH)
    second = client.post("/dlq/send/redrive", headers=AUTH)

    assert first.status_code == 202
    assert first.json == {
        "queue": "send",
        "task_handle": "handle-1",
        "source_arn": "arn:send-dlq",
        "destination_arn": "arn:send",
        "messages_to_move": 1,
    }
    assert second.status_code == 409
    assert second.json["error"] == "conflict"  # type: ignore[index]
    assert "already running" in second.json["message"]  # type: ignore[index]


def test_openapi_lists_the_dlq_routes(client: FlaskClient) -> None:
    paths = client.get("/openapi.json", headers=AUTH).json["paths"]  # type: ignore[index]

    assert {"/dlq", "/dlq/{queue}", "/dlq/{queue}/redrive"} <= set(paths)


# --- the SQS adapter -------------------------------------------------------------------------

DLQ_URL = "https://sqs.test/1/ems-send-dlq"
QUEUE_URL = "https://sqs.test/1/ems-send"


@pytest.fixture
def stubbed() -> Iterator[tuple[SqsDeadLetters, Stubber]]:
    sqs = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    pairs = {"send": QueuePair("send", QUEUE_URL, DLQ_URL)}
    with Stubber(sqs) as stubber:
        yield SqsDeadLetters(pairs, lambda: sqs), stubber
        stubber.assert_no_pending_responses()


def _arn(stubber: Stubber, url: str, arn: str) -> None:
    stubber.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": arn}},
        {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
    )


def _count(stubber: Stubber, visible: int, in_flight: int) -> None:
    stubber.add_response(
        "get_queue_attributes",
        {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            }
        },
        {"QueueUrl": DLQ_URL, "AttributeNames": ANY},
    )


def test_adapter_counts_visible_and_in_flight(
    stubbed: tuple[SqsDeadLetters, Stubber],
) -> None:
    dead_letters, stubber = stubbed
    _count(stubber, 2, 1)

    assert dead_letters.counts() == {"send": 3}


def test_adapter_peeks_briefly_and_cuts_long_bodies(
    stubbed: tuple[SqsDeadLetters, Stubber],
) -> None:
    dead_letters, stubber = stubbed
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r",
        "Body": "x" * (BODY_SHOWN + 5),
        "Attributes": {"SentTimestamp": "1893456000000", "ApproximateReceiveCount": "4"},
        "MessageAttributes": {"reason": {"DataType": "String", "StringValue": "bad json"}},
    }
    stubber.add_response(
        "receive_message",
        {"Messages": [message]},
        {
            "QueueUrl": DLQ_URL,
            "MaxNumberOfMessages": 10,
            "VisibilityTimeout": 1,
            "WaitTimeSeconds": 0,
            "MessageSystemAttributeNames": ANY,
            "MessageAttributeNames": ["reason"],
        },
    )

    (letter,) = dead_letters.peek("send", 50)

    assert letter.message_id == "m-1"
    assert letter.sent_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert letter.receive_count == 4
    assert letter.reason == "bad json"
    assert len(letter.body) == BODY_SHOWN
    assert letter.body_truncated


def test_adapter_redrives_from_the_dlq_arn_to_the_queue_arn(
    stubbed: tuple[SqsDeadLetters, Stubber],
) -> None:
    dead_letters, stubber = stubbed
    _arn(stubber, DLQ_URL, "arn:dlq")
    _arn(stubber, QUEUE_URL, "arn:queue")
    _count(stubber, 5, 0)
    stubber.add_response(
        "list_message_move_tasks", {"Results": []}, {"SourceArn": "arn:dlq", "MaxResults": 10}
    )
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "h"},
        {"SourceArn": "arn:dlq", "DestinationArn": "arn:queue"},
    )

    assert dead_letters.redrive("send") == RedriveTask("h", "arn:dlq", "arn:queue", 5)


def test_adapter_says_when_a_redrive_already_runs(
    stubbed: tuple[SqsDeadLetters, Stubber],
) -> None:
    dead_letters, stubber = stubbed
    _arn(stubber, DLQ_URL, "arn:dlq")
    _arn(stubber, QUEUE_URL, "arn:queue")
    _count(stubber, 5, 0)
    stubber.add_response("list_message_move_tasks", {"Results": []}, None)
    stubber.add_client_error(
        "start_message_move_task",
        "InvalidParameterValue",
        "There is already a task running. Only one active task is allowed for a source queue.",
    )

    with pytest.raises(RedriveRunningError, match="already running"):
        dead_letters.redrive("send")


def test_adapter_refuses_an_unknown_queue(stubbed: tuple[SqsDeadLetters, Stubber]) -> None:
    dead_letters, _ = stubbed

    with pytest.raises(UnknownQueueError, match="use one of send"):
        dead_letters.peek("nope", 1)
