"""Send and Delivery events of a v2 send, through LocalStack's own SES configuration-set emitter.

LocalStack's `SNSEmitter` builds the event JSON (eventType, mail, send / delivery) and publishes
it with an SNS client of the topic's account and region; `notify_event_destinations` picks the
configuration set's enabled SNS destinations and their event types. Both are reused as they
are: the one thing v2 adds is the header part of `mail` (custom headers are a v2 feature), which
the emitter has no parameter for. So `HeaderEmitter` hands the emitter an SNS client that adds
those members to `mail` on the way out, instead of building the events a second time here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from localstack.aws.api import RequestContext
from localstack.aws.api.ses import EventDestination, EventType
from localstack.services.ses.provider import EventDestinationPayload, SNSEmitter
from moto.ses.models import SESBackend


class _MailEnrichingClient:
    """The SNS client the emitter publishes with, adding members to the event's `mail`."""

    def __init__(self, client: Any, mail_members: Mapping[str, Any]) -> None:
        self._client = client
        self._mail_members = mail_members

    def publish(self, **kwargs: Any) -> Any:
        """SNS Publish of an SES event, with the extra `mail` members merged in."""
        event = json.loads(kwargs["Message"])
        event.setdefault("mail", {}).update(self._mail_members)
        return self._client.publish(**{**kwargs, "Message": json.dumps(event)})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class HeaderEmitter(SNSEmitter):
    """LocalStack's SES event emitter, whose events also carry the message's headers."""

    def __init__(self, context: RequestContext, mail_members: Mapping[str, Any]) -> None:
        super().__init__(context)
        self._mail_members = mail_members

    def _client_for_topic(self, topic_arn: str) -> Any:  # type: ignore[override]
        # The base class's is a staticmethod; an instance method is called the same way.
        return _MailEnrichingClient(SNSEmitter._client_for_topic(topic_arn), self._mail_members)


def publish_send_events(
    context: RequestContext,
    backend: SESBackend,
    configuration_set: str | None,
    payload: EventDestinationPayload,
    mail_members: Mapping[str, Any],
) -> None:
    """Publish Send and Delivery to the configuration set's SNS destinations, as a v1 send does.

    The loop is `localstack.services.ses.provider.notify_event_destinations`, which builds its
    own plain emitter; the difference is `HeaderEmitter`, and that a v2 event always carries
    `mail.sourceArn` (LocalStack drops it for v1 templated sends; SES's examples have it).
    """
    if not configuration_set:
        return
    found = backend.config_set_event_destination.get(configuration_set)
    if not found:
        return
    # moto keeps one destination per configuration set, as a dict (LocalStack's FIXME)
    destinations: list[EventDestination] = found if isinstance(found, list) else [found]  # type: ignore[list-item]
    emitter = HeaderEmitter(context, mail_members)
    for destination in destinations:
        sns = destination.get("SNSDestination")
        topic_arn = sns.get("TopicARN") if sns else None
        if not destination.get("Enabled") or not topic_arn:
            continue
        matching = destination.get("MatchingEventTypes") or []
        if EventType.send in matching:
            emitter.emit_send_event(payload, topic_arn, emit_source_arn=True)
        if EventType.delivery in matching:
            emitter.emit_delivery_event(payload, topic_arn)
