"""The objects of SES events that the tracker queue's messages name, and what is in them.

SES publishes every event of the configuration set into a Firehose stream, which writes them in
batches as objects of the events bucket (under its prefix); each new object is an S3 event
notification on the tracker queue. Here: which objects a notification names (S3's own
`s3:TestEvent` names none), reading one, and splitting it into its SES event documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# What S3 sends a queue when a notification is set up ("Event": "s3:TestEvent"): no object.
TEST_EVENT: Final = "s3:TestEvent"
_CREATED: Final = "ObjectCreated:"
_GONE: Final = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404"})
_DENIED: Final = frozenset({"AccessDenied", "403", "KMS.AccessDeniedException"})
_SHOWN: Final = 200  # characters of an unreadable body quoted in a reason
# Objects of one batch read at once: a GET is mostly waiting, and a batch of small objects
# (one per Firehose buffer, or per PutRecordBatch on LocalStack) would otherwise wait in turn.
READ_CONCURRENCY: Final = 10


class NotificationError(ValueError):
    """A tracker queue message that is not an S3 notification of an object of SES events."""


class UnreadableObjectError(RuntimeError):
    """An object a notification names cannot be read now (gone, access denied, S3 failing).

    The message fails: SQS delivers it again, and after maxReceiveCount moves it to the DLQ.
    """


@dataclass(frozen=True)
class EventObject:
    """One object of SES events, as a notification names it."""

    bucket: str
    key: str
    version_id: str | None = None

    def __str__(self) -> str:
        version = f" (version {self.version_id})" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{version}"


def split_documents(text: str) -> list[str]:
    """The JSON documents of an object, each as the text it was written as.

    SES follows each event with a newline; documents written back to back, or spread over
    lines, are found too (the standard library's `raw_decode` reads one value and says where it
    ends, which orjson cannot). Text that is not JSON is cut at the end of its line and kept as
    one document, so that it can be dead-lettered alone and the rest still read.
    """
    decoder = json.JSONDecoder()
    documents: list[str] = []
    at, end = 0, len(text)
    while True:
        while at < end and text[at].isspace():
            at += 1
        if at >= end:
            return documents
        try:
            _, stop = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            newline = text.find("\n", at)
            stop = end if newline < 0 else newline
        documents.append(text[at:stop])
        at = stop


class EventObjects:
    """Reads the objects of SES events under one bucket's prefix, and nothing else."""

    def __init__(self, s3: S3Client, *, bucket: str, prefix: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.prefix = prefix

    def named_by(self, body: str) -> list[EventObject]:
        """The objects an S3 event notification names ([] for S3's test event).

        NotificationError, saying what the message is instead, for anything else: not JSON,
        not an S3 notification, an event other than an object created, or an object outside
        the SES events (only the events bucket's prefix holds them).
        """
        try:
            notification = json.loads(body)
        except json.JSONDecodeError as error:
            msg = f"not an S3 event notification: not valid JSON ({error}): {body[:_SHOWN]!r}"
            raise NotificationError(msg) from None
        if not isinstance(notification, dict):
            msg = (
                "not an S3 event notification: a JSON"
                f" {type(notification).__name__}, not an object with Records"
            )
            raise NotificationError(msg)
        if notification.get("Event") == TEST_EVENT:
            return []
        records = notification.get("Records")
        if not isinstance(records, list) or not records:
            kind = "an SES event" if "eventType" in notification else "a JSON object"
            msg = (
                f"not an S3 event notification: {kind} without Records"
                " (the tracker queue takes S3 notifications of new objects of SES events)"
            )
            raise NotificationError(msg)
        return [self._object_of(record, index) for index, record in enumerate(records)]

    def _object_of(self, record: Any, index: int) -> EventObject:
        where = f"Records[{index}]"
        if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
            msg = f"{where} is not an S3 event record (eventSource is not aws:s3)"
            raise NotificationError(msg)
        name = str(record.get("eventName", ""))
        if not name.startswith(_CREATED):
            msg = f"{where} is S3 event {name!r}, not an object created"
            raise NotificationError(msg)
        try:
            s3 = record["s3"]
            bucket = str(s3["bucket"]["name"])
            # S3 URL-encodes keys in notifications (a space is "+")
            key = unquote_plus(str(s3["object"]["key"]))
            version = s3["object"].get("versionId")
        except (KeyError, TypeError, AttributeError) as error:
            msg = f"{where} names no object (s3.bucket.name, s3.object.key): missing {error}"
            raise NotificationError(msg) from None
        if bucket != self.bucket or not key.startswith(self.prefix):
            msg = (
                f"{where} names s3://{bucket}/{key}, not an object of SES events"
                f" (s3://{self.bucket}/{self.prefix}...)"
            )
            raise NotificationError(msg)
        return EventObject(bucket, key, str(version) if version else None)

    def read(self, found: EventObject) -> str:
        """The object's text; UnreadableObjectError saying why it cannot be read."""
        try:
            if found.version_id:
                response = self._s3.get_object(
                    Bucket=found.bucket, Key=found.key, VersionId=found.version_id
                )
            else:
                response = self._s3.get_object(Bucket=found.bucket, Key=found.key)
            data = response["Body"].read()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _GONE:
                why = "it is gone (expired or deleted): its events cannot be applied"
            elif code in _DENIED:
                why = (
                    "access denied: the tracker's role needs s3:GetObject on the events prefix"
                    " and kms:Decrypt on the events key"
                )
            else:
                why = "S3 failed"
            raise UnreadableObjectError(f"cannot read {found}: {code}: {why}") from error
        # Not UTF-8 (never from SES) still splits: each bad line is dead-lettered alone.
        return bytes(data).decode("utf-8", errors="replace")

    def read_all(
        self, named: Iterable[EventObject]
    ) -> dict[EventObject, str | UnreadableObjectError]:
        """Each object's text, read concurrently; for one that cannot be read, why (not raised).

        boto3 clients are thread-safe; at most READ_CONCURRENCY reads at a time.
        """
        unique = list(dict.fromkeys(named))
        if not unique:
            return {}

        def attempt(found: EventObject) -> str | UnreadableObjectError:
            try:
                return self.read(found)
            except UnreadableObjectError as error:
                return error

        with ThreadPoolExecutor(max_workers=min(READ_CONCURRENCY, len(unique))) as pool:
            return dict(zip(unique, pool.map(attempt, unique), strict=True))
