"""SES events on the local stack: published the way SES publishes them, and read back.

LocalStack's SES (with tools/localstack-sesv2) publishes Send and Delivery itself; bounces,
complaints, opens, clicks and the rest it never produces, so tests, the chaos suite and the
benches publish them the way SES does: PutRecordBatch into the configuration set's Firehose
stream, each record the event's JSON and a newline. Firehose writes the records to the events
bucket (locally one object per call, at once: LocalStack's Firehose does not buffer), and S3
tells the tracker queue. The tracker consumes that queue, so a test that wants to see what was
published reads the objects in the bucket instead (`EventObjectsTap`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote_plus

if TYPE_CHECKING:
    from mypy_boto3_firehose import FirehoseClient
    from mypy_boto3_s3 import S3Client

# PutRecordBatch takes at most 500 records a call (Firehose API reference).
MAX_RECORDS_PER_CALL: Final = 500


def firehose_record(event: Mapping[str, Any] | str) -> bytes:
    """One event as SES puts it into Firehose: its JSON followed by a newline.

    A string is taken as the document itself (to publish something that is not valid JSON).
    """
    text = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
    return text.encode() + b"\n"


def publish_events(
    firehose: FirehoseClient, stream: str, events: Sequence[Mapping[str, Any] | str]
) -> None:
    """Put `events` into the stream as SES does, in as few calls as possible.

    Locally each call becomes one object in the events bucket, so events published together
    reach the tracker together, as one object of a buffer does on AWS.
    """
    for start in range(0, len(events), MAX_RECORDS_PER_CALL):
        chunk = events[start : start + MAX_RECORDS_PER_CALL]
        answer = firehose.put_record_batch(
            DeliveryStreamName=stream, Records=[{"Data": firehose_record(e)} for e in chunk]
        )
        if answer.get("FailedPutCount"):
            msg = f"Firehose {stream} refused {answer['FailedPutCount']} of {len(chunk)} records"
            raise RuntimeError(msg)


def s3_notification(
    bucket: str, key: str, *, region: str, size: int, etag: str, version_id: str | None = None
) -> str:
    """The S3 event notification S3 sends a queue for a new object (its documented shape).

    What the chaos suite sends a second time, as S3 (at least once) may.
    """
    created = {
        # S3 URL-encodes the key in notifications (a space as "+")
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": f"{time.time_ns():X}",
        **({"versionId": version_id} if version_id else {}),
    }
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:ems-local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "0", "x-amz-id-2": "0"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "tracker",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "ems-local"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": created,
        },
    }
    return json.dumps({"Records": [record]})


def _documents(text: str) -> Iterable[Any]:
    """The JSON documents of an object's lines (lines that are not JSON are skipped)."""
    for line in text.splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue


class EventObjectsTap:
    """The objects of SES events written to the events bucket since the tap was made.

    The tracker's queue has its consumer; the objects stay in the bucket (until they expire),
    so reading them shows every event SES, or a test, published, and takes none from the
    tracker.
    """

    def __init__(self, s3: S3Client, *, bucket: str, prefix: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        # Firehose writes under <prefix>YYYY/MM/DD/HH/: list from the hour before, not all
        self._start_after = f"{prefix}{datetime.now(UTC) - timedelta(hours=1):%Y/%m/%d/%H/}"
        self._seen: set[str] = set(self._keys())

    def _keys(self) -> list[str]:
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self.bucket, Prefix=self.prefix, StartAfter=self._start_after
        ):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def new_objects(self) -> list[str]:
        """Keys written since the last call (or since the tap was made), oldest first."""
        fresh = [key for key in self._keys() if key not in self._seen]
        self._seen.update(fresh)
        return fresh

    def read(self, key: str) -> str:
        """The text of one object."""
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()

    def collect(
        self,
        matches: Callable[[Any], bool],
        *,
        want: int,
        deadline_s: float,
        what: str,
    ) -> list[Any]:
        """Read new objects until `want` documents match; AssertionError after the deadline."""
        return [event for _, event in self.collect_by_object(matches, want, deadline_s, what)]

    def collect_by_object(
        self, matches: Callable[[Any], bool], want: int, deadline_s: float, what: str
    ) -> list[tuple[str, Any]]:
        """Like `collect`, with the key of the object each document was in."""
        found: list[tuple[str, Any]] = []
        end = time.monotonic() + deadline_s
        while True:
            for key in self.new_objects():
                found += [(key, doc) for doc in _documents(self.read(key)) if matches(doc)]
            if len(found) >= want:
                return found
            if time.monotonic() >= end:
                msg = f"{what}: {len(found)} of {want} seen within {deadline_s:.0f} s"
                raise AssertionError(msg)
            time.sleep(0.5)
