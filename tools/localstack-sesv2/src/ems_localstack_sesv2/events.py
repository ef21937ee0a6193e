"""Send and Delivery events of a v2 send, built by LocalStack's own SES emitter, published to the
configuration set's event destinations: SNS topics and Firehose streams.

LocalStack's `SNSEmitter` builds the event JSON (eventType, mail, send / delivery) and hands it
to an SNS client's `publish`. It is reused as it is, to build the events only: it is given a
client that keeps each event (adding the header part of `mail`, a v2 feature the emitter has no
parameter for) instead of publishing it. The events of one SES call are then published to each
destination that takes them, as SES does:

- an SNS topic gets one Publish per event, through LocalStack's internal SNS client for the
  topic's account and region (the emitter's own);
- a Firehose stream gets the events as records (one per event: its JSON and a newline),
  through LocalStack's internal Firehose client with the destination's IAM role assumed, as
  SES assumes it. SES delivers events after the call, on its own time; here the events of the
  calls of `FLUSH_SECONDS` (0.5 s) go in together, in as few PutRecordBatch calls as the limits
  allow. LocalStack's Firehose does not buffer as Firehose does (it writes one S3 object per
  PutRecordBatch) and costs about 85 ms of LocalStack's CPU a call (it makes a client with an
  assumed role each time, and an S3 client for the object): one PutRecordBatch per SES call
  would cap the local stack at about a dozen calls a second. A longer interval would save
  LocalStack's CPU but make each object, and so each tracker batch, larger: a tracker stopped
  mid-batch (the fault suite gives it 10 s) then keeps more events out of sight for its queue's
  visibility timeout, and a sender that reclaims a dead sender's batch sends again the emails
  whose Send those events are (at 2 s, one `make chaos` run sent 67 emails twice). Events
  still pending when LocalStack stops are lost (test infrastructure: a stopped stack's events
  are of no use).

Other destination kinds (CloudWatch, EventBridge, Pinpoint) are stored but publish nothing here.
A destination that fails is logged; the messages stay sent (SES publishes after the call).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, cast

from localstack.aws.api import RequestContext
from localstack.aws.connect import connect_to
from localstack.services.ses.provider import EventDestinationPayload, SNSEmitter
from localstack.utils.aws.client_types import ServicePrincipal

from ems_localstack_sesv2.destinations import (
    FIREHOSE,
    SNS,
    firehose_record,
    record_batches,
    stream_arn,
    takes,
)

LOG = logging.getLogger(__name__)

# The principal SES assumes a destination's role as (the role's trust policy names it).
SES_PRINCIPAL: Final = cast(ServicePrincipal, "ses")
# SNS publishes of one call run on this many threads: each is an SNS call (about 30 ms here),
# so the 100 events of a 50-message bulk call one after the other would hold the call for 3 s.
SNS_PUBLISHERS: Final = 8
# Events for a stream are gathered this long, then put in together (the module's docstring says
# why not longer).
FLUSH_SECONDS: Final = 0.5
# An assumed-role client is made again after this long (LocalStack's sessions last an hour).
CLIENT_SECONDS: Final = 600.0
# The subject SES gives its SNS event notifications (LocalStack's emitter's).
_SNS_SUBJECT: Final = "Amazon SES Email Event Notification"
# The emitter wants a topic to publish to; the collecting client ignores it.
_NOWHERE: Final = "arn:aws:sns:us-east-1:000000000000:events-are-collected-not-published"

Event = dict[str, Any]


class _Collector:
    """Stands in for the emitter's SNS client: keeps each event, with the extra `mail` members."""

    def __init__(self, mail_members: Mapping[str, Any]) -> None:
        self.events: list[Event] = []
        self._mail_members = mail_members

    def publish(self, **kwargs: Any) -> None:
        """What the emitter would publish, kept instead."""
        event = json.loads(kwargs["Message"])
        event.setdefault("mail", {}).update(self._mail_members)
        self.events.append(event)


class _EventBuilder(SNSEmitter):
    """LocalStack's SES event emitter, building events into a `_Collector`."""

    def __init__(self, context: RequestContext, collector: _Collector) -> None:
        super().__init__(context)
        self._collector = collector

    def _client_for_topic(self, topic_arn: str) -> Any:  # type: ignore[override]
        # The base class's is a staticmethod; an instance method is called the same way.
        return self._collector


def message_events(
    context: RequestContext, payload: EventDestinationPayload, mail_members: Mapping[str, Any]
) -> list[Event]:
    """The Send and Delivery events of one sent message, as SES publishes them.

    Built by LocalStack's v1 emitter, plus the message's headers in `mail`, and always with
    `mail.sourceArn` (LocalStack drops it for v1 templated sends; SES's examples have it).
    """
    collector = _Collector(mail_members)
    builder = _EventBuilder(context, collector)
    builder.emit_send_event(payload, _NOWHERE, emit_source_arn=True)
    builder.emit_delivery_event(payload, _NOWHERE)
    return collector.events


def publish_events(
    destinations: Sequence[Mapping[str, Any]], events: Sequence[Event], *, source_arn: str
) -> None:
    """Publish one SES call's events to every destination (EventDestination) that takes them.

    `source_arn` is the configuration set's ARN: SES calls on its behalf (the aws:SourceArn a
    destination role's trust policy may require).
    """
    for destination in destinations:
        taken = [event for event in events if takes(destination, event)]
        if not taken:
            continue
        try:
            if destination.get(SNS):
                _to_topic(destination[SNS]["TopicArn"], taken)
            elif destination.get(FIREHOSE):
                _to_stream(destination[FIREHOSE], taken, source_arn=source_arn)
        except Exception:  # one destination's failure never fails the send or the others
            LOG.exception("sesv2: publishing events to destination %s failed", destination["Name"])


def _to_topic(topic_arn: str, events: Sequence[Event]) -> None:
    """One SNS Publish per event, with the emitter's client for the topic."""
    sns = SNSEmitter._client_for_topic(topic_arn)

    def publish(event: Event) -> None:
        sns.publish(TopicArn=topic_arn, Message=json.dumps(event), Subject=_SNS_SUBJECT)

    if len(events) == 1:
        publish(events[0])
        return
    with ThreadPoolExecutor(min(SNS_PUBLISHERS, len(events))) as pool:
        list(pool.map(publish, events))


def _to_stream(firehose: Mapping[str, str], events: Sequence[Event], *, source_arn: str) -> None:
    """The call's events into the stream's buffer: put in within FLUSH_SECONDS."""
    key = (firehose["DeliveryStreamArn"], firehose["IamRoleArn"], source_arn)
    with _BUFFERS_LOCK:
        buffer = _BUFFERS.get(key)
        if buffer is None:
            buffer = _BUFFERS[key] = _StreamBuffer(*key)
    buffer.add([firehose_record(event) for event in events])


class _StreamBuffer:
    """Records for one stream (one role, one configuration set), put in every FLUSH_SECONDS."""

    def __init__(self, stream: str, role: str, source_arn: str) -> None:
        self._arn = stream_arn(stream)
        self._role, self._source_arn = role, source_arn
        self._records: list[bytes] = []
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_made = 0.0

    def add(self, records: list[bytes]) -> None:
        """Keep `records`; the first of a spell starts the timer that puts them in."""
        with self._lock:
            self._records += records
            if self._timer is None:
                self._timer = threading.Timer(FLUSH_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Put what was gathered into the stream (a failure is logged, as SES would not tell)."""
        with self._lock:
            records, self._records, self._timer = self._records, [], None
        try:
            client = self._firehose()
            for batch in record_batches(records):
                answer = client.put_record_batch(
                    DeliveryStreamName=self._arn.name, Records=[{"Data": r} for r in batch]
                )
                if answer.get("FailedPutCount"):
                    LOG.warning(
                        "sesv2: Firehose %s refused %s of %s records",
                        self._arn.name,
                        answer["FailedPutCount"],
                        len(batch),
                    )
        except Exception:
            LOG.exception("sesv2: putting %d events into %s failed", len(records), self._arn.name)

    def _firehose(self) -> Any:
        """LocalStack's Firehose client with the destination's role assumed (kept a while)."""
        if self._client is None or time.monotonic() - self._client_made > CLIENT_SECONDS:
            self._client = connect_to.with_assumed_role(
                role_arn=self._role,
                service_principal=SES_PRINCIPAL,
                region_name=self._arn.region,
            ).firehose.request_metadata(
                source_arn=self._source_arn, service_principal=SES_PRINCIPAL
            )
            self._client_made = time.monotonic()
        return self._client


_BUFFERS: dict[tuple[str, str, str], _StreamBuffer] = {}
_BUFFERS_LOCK = threading.Lock()
