"""SES email events, parsed into models.

SES publishes each event as one JSON document: into the configuration set's Firehose stream
(one record, a line of an object in the events bucket: what EMS reads), or to an SNS topic.
Two JSON forms exist:

* configuration-set event publishing (what EMS's configuration set sends): the type is in
  ``eventType`` - Send, Delivery, Bounce, Complaint, Reject, Open, Click, "Rendering Failure",
  DeliveryDelay, Subscription;
* identity feedback notifications: the type is in ``notificationType`` - Bounce, Complaint,
  Delivery - and ``mail`` carries no tags.

Field names follow AWS's "Contents of event data that Amazon SES publishes to Amazon SNS" and
"Amazon SNS notification contents for Amazon SES". AWS reserves the right to add fields, so
unknown fields are ignored everywhere, never refused.
"""

from datetime import datetime
from typing import Annotated, Any, Final, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ems_common.formats.tags import CAMPAIGN_ID_TAG, EMAIL_ID_TAG, SEGMENT_ID_TAG
from ems_common.problems import Problem, validation_problems


class _SesObject(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


# --- the mail object, common to every event --------------------------------------------------


class MailHeader(_SesObject):
    """One original header of the email (``mail.headers``)."""

    name: str
    value: str


class CommonHeaders(_SesObject):
    """The parsed common headers of the email (``mail.commonHeaders``)."""

    from_: list[str] = Field(default_factory=list, alias="from")
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)
    sender: list[str] = Field(default_factory=list)
    reply_to: list[str] = Field(default_factory=list, alias="replyTo")
    return_path: str | None = Field(default=None, alias="returnPath")
    message_id: str | None = Field(default=None, alias="messageId")
    date: str | None = None
    subject: str | None = None


class Mail(_SesObject):
    """The email an event is about (``mail``).

    Headers are optional: Rendering Failure and DeliveryDelay events carry none, and identity
    notifications carry them only when configured to.
    """

    timestamp: datetime
    message_id: str = Field(alias="messageId")
    source: str
    source_arn: str | None = Field(default=None, alias="sourceArn")
    source_ip: str | None = Field(default=None, alias="sourceIp")
    caller_identity: str | None = Field(default=None, alias="callerIdentity")
    sending_account_id: str = Field(alias="sendingAccountId")
    destination: list[str]
    headers_truncated: bool | None = Field(default=None, alias="headersTruncated")
    headers: list[MailHeader] = Field(default_factory=list)
    common_headers: CommonHeaders | None = Field(default=None, alias="commonHeaders")
    # SES's own tags (ses:configuration-set, ses:source-ip ...) and the send's EmailTags.
    tags: dict[str, list[str]] = Field(default_factory=dict)

    def tag(self, name: str) -> str | None:
        """The value of tag ``name``, or None when the email does not carry it."""
        values = self.tags.get(name)
        return values[0] if values else None


# --- the per-type objects ----------------------------------------------------------------------

BounceType = Literal["Permanent", "Transient", "Undetermined"]


class BouncedRecipient(_SesObject):
    """One recipient of ``bounce.bouncedRecipients``."""

    email_address: str = Field(alias="emailAddress")
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class Bounce(_SesObject):
    """The ``bounce`` object.

    ``bounce_sub_type`` stays a string (General, NoEmail, Suppressed, OnAccountSuppressionList,
    MailboxFull, MessageTooLarge, ContentRejected, AttachmentRejected ...): AWS adds sub-types.
    """

    bounce_type: BounceType = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType")
    bounced_recipients: list[BouncedRecipient] = Field(alias="bouncedRecipients")
    timestamp: datetime
    feedback_id: str = Field(alias="feedbackId")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = Field(default=None, alias="remoteMtaIp")

    @property
    def is_permanent(self) -> bool:
        """True for a hard bounce: the address should not be mailed again."""
        return self.bounce_type == "Permanent"


class ComplainedRecipient(_SesObject):
    """One recipient of ``complaint.complainedRecipients``."""

    email_address: str = Field(alias="emailAddress")


class Complaint(_SesObject):
    """The ``complaint`` object."""

    complained_recipients: list[ComplainedRecipient] = Field(alias="complainedRecipients")
    timestamp: datetime
    feedback_id: str = Field(alias="feedbackId")
    complaint_sub_type: str | None = Field(default=None, alias="complaintSubType")
    user_agent: str | None = Field(default=None, alias="userAgent")
    complaint_feedback_type: str | None = Field(default=None, alias="complaintFeedbackType")
    arrival_date: datetime | None = Field(default=None, alias="arrivalDate")


class Delivery(_SesObject):
    """The ``delivery`` object."""

    timestamp: datetime
    processing_time_millis: int | None = Field(default=None, alias="processingTimeMillis")
    recipients: list[str]
    smtp_response: str | None = Field(default=None, alias="smtpResponse")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = Field(default=None, alias="remoteMtaIp")


class Send(_SesObject):
    """The ``send`` object: empty today."""


class Reject(_SesObject):
    """The ``reject`` object: SES refused the email (e.g. it carried a virus)."""

    reason: str


class Open(_SesObject):
    """The ``open`` object."""

    ip_address: str = Field(alias="ipAddress")
    timestamp: datetime
    user_agent: str = Field(alias="userAgent")


class Click(_SesObject):
    """The ``click`` object."""

    ip_address: str = Field(alias="ipAddress")
    timestamp: datetime
    user_agent: str = Field(alias="userAgent")
    link: str
    link_tags: dict[str, list[str]] = Field(default_factory=dict, alias="linkTags")


class RenderingFailure(_SesObject):
    """The ``failure`` object: the template could not be rendered with the TemplateData."""

    template_name: str = Field(alias="templateName")
    error_message: str = Field(alias="errorMessage")


class DelayedRecipient(_SesObject):
    """One recipient of ``deliveryDelay.delayedRecipients``."""

    email_address: str = Field(alias="emailAddress")
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class DeliveryDelay(_SesObject):
    """The ``deliveryDelay`` object.

    ``delay_type`` stays a string (InternalFailure, General, MailboxFull, SpamDetected,
    RecipientServerError, IPFailure, TransientCommunicationFailure, Undetermined ...).
    """

    timestamp: datetime
    delay_type: str = Field(alias="delayType")
    expiration_time: datetime | None = Field(default=None, alias="expirationTime")
    delayed_recipients: list[DelayedRecipient] = Field(alias="delayedRecipients")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class TopicSubscriptionStatus(_SesObject):
    """A contact's status for one topic: OptIn or OptOut."""

    topic_name: str = Field(alias="topicName")
    subscription_status: str = Field(alias="subscriptionStatus")


class TopicPreferences(_SesObject):
    """A contact's topic preferences before or after a Subscription event."""

    unsubscribe_all: bool = Field(default=False, alias="unsubscribeAll")
    topic_subscription_status: list[TopicSubscriptionStatus] = Field(
        default_factory=list, alias="topicSubscriptionStatus"
    )


class Subscription(_SesObject):
    """The ``subscription`` object: the recipient changed their list-management preferences."""

    contact_list: str = Field(alias="contactList")
    timestamp: datetime
    source: str
    new_topic_preferences: TopicPreferences = Field(alias="newTopicPreferences")
    old_topic_preferences: TopicPreferences | None = Field(
        default=None, alias="oldTopicPreferences"
    )


# --- the records -------------------------------------------------------------------------------


class SesEventBase(_SesObject):
    """What every SES event and notification has: the ``mail`` object, and accessors on it."""

    mail: Mail

    @property
    def message_id(self) -> str:
        """The SES message id of the email the event is about."""
        return self.mail.message_id

    # The seed's example event carries hand-made tags "campaign_id" and "list_name"; EMS's own
    # sends carry campaignId and segmentId (tags.py), so for such events these return None.
    @property
    def campaign_id(self) -> str | None:
        """The campaign the email belongs to (its campaignId tag); None if untagged."""
        return self.mail.tag(CAMPAIGN_ID_TAG)

    @property
    def record_scope(self) -> str | None:
        """The partition of the email's record: its emailId tag (transactional), else campaign."""
        return self.mail.tag(EMAIL_ID_TAG) or self.campaign_id

    @property
    def segment_id(self) -> str | None:
        """The segment the email belongs to (its segmentId tag); None if untagged."""
        return self.mail.tag(SEGMENT_ID_TAG)

    @property
    def occurred_at(self) -> datetime:
        """When the event happened (the sending time for events that carry no time of their own)."""
        return self.mail.timestamp

    @property
    def recipients(self) -> list[str]:
        """The addresses the event is about (all the email's recipients unless narrower)."""
        return list(self.mail.destination)


class BounceRecord(SesEventBase):
    """A bounce, whether published as an event or as an identity notification."""

    bounce: Bounce

    @property
    def occurred_at(self) -> datetime:
        """When SES received the bounce."""
        return self.bounce.timestamp

    @property
    def recipients(self) -> list[str]:
        """The addresses that bounced."""
        return [recipient.email_address for recipient in self.bounce.bounced_recipients]


class ComplaintRecord(SesEventBase):
    """A complaint, whether published as an event or as an identity notification."""

    complaint: Complaint

    @property
    def occurred_at(self) -> datetime:
        """When SES received the complaint."""
        return self.complaint.timestamp

    @property
    def recipients(self) -> list[str]:
        """The addresses that complained."""
        return [recipient.email_address for recipient in self.complaint.complained_recipients]


class DeliveryRecord(SesEventBase):
    """A delivery, whether published as an event or as an identity notification."""

    delivery: Delivery

    @property
    def occurred_at(self) -> datetime:
        """When the receiving server accepted the email."""
        return self.delivery.timestamp

    @property
    def recipients(self) -> list[str]:
        """The addresses the email was delivered to."""
        return list(self.delivery.recipients)


class SendEvent(SesEventBase):
    """``eventType: Send``: SES accepted the request and will try to deliver."""

    event_type: Literal["Send"] = Field(alias="eventType")
    send: Send = Field(default_factory=Send)


class DeliveryEvent(DeliveryRecord):
    """``eventType: Delivery``."""

    event_type: Literal["Delivery"] = Field(alias="eventType")


class BounceEvent(BounceRecord):
    """``eventType: Bounce``."""

    event_type: Literal["Bounce"] = Field(alias="eventType")


class ComplaintEvent(ComplaintRecord):
    """``eventType: Complaint``."""

    event_type: Literal["Complaint"] = Field(alias="eventType")


class RejectEvent(SesEventBase):
    """``eventType: Reject``: SES accepted the request but refused to send the email."""

    event_type: Literal["Reject"] = Field(alias="eventType")
    reject: Reject


class OpenEvent(SesEventBase):
    """``eventType: Open``: the recipient opened the email."""

    event_type: Literal["Open"] = Field(alias="eventType")
    open: Open

    @property
    def occurred_at(self) -> datetime:
        """When the email was opened."""
        return self.open.timestamp


class ClickEvent(SesEventBase):
    """``eventType: Click``: the recipient followed a link."""

    event_type: Literal["Click"] = Field(alias="eventType")
    click: Click

    @property
    def occurred_at(self) -> datetime:
        """When the link was followed."""
        return self.click.timestamp


class RenderingFailureEvent(SesEventBase):
    """``eventType: Rendering Failure``: the email was not sent, its template failed to render."""

    # SNS records spell it with a space; the spelling without it is what the console and the
    # event-type enums use, accepted too so that a change of spelling does not lose failures.
    event_type: Literal["Rendering Failure", "RenderingFailure"] = Field(alias="eventType")
    failure: RenderingFailure


class DeliveryDelayEvent(SesEventBase):
    """``eventType: DeliveryDelay``: delivery is being retried after a temporary failure."""

    event_type: Literal["DeliveryDelay"] = Field(alias="eventType")
    delivery_delay: DeliveryDelay = Field(alias="deliveryDelay")

    @property
    def occurred_at(self) -> datetime:
        """When the delay was recorded."""
        return self.delivery_delay.timestamp

    @property
    def recipients(self) -> list[str]:
        """The addresses whose delivery is delayed."""
        return [recipient.email_address for recipient in self.delivery_delay.delayed_recipients]


class SubscriptionEvent(SesEventBase):
    """``eventType: Subscription``: the recipient changed their subscription preferences."""

    event_type: Literal["Subscription"] = Field(alias="eventType")
    subscription: Subscription

    @property
    def occurred_at(self) -> datetime:
        """When the preferences changed."""
        return self.subscription.timestamp


class BounceNotification(BounceRecord):
    """``notificationType: Bounce`` (identity notification; no tags)."""

    notification_type: Literal["Bounce"] = Field(alias="notificationType")


class ComplaintNotification(ComplaintRecord):
    """``notificationType: Complaint`` (identity notification; no tags)."""

    notification_type: Literal["Complaint"] = Field(alias="notificationType")


class DeliveryNotification(DeliveryRecord):
    """``notificationType: Delivery`` (identity notification; no tags)."""

    notification_type: Literal["Delivery"] = Field(alias="notificationType")


SesEvent = Annotated[
    SendEvent
    | DeliveryEvent
    | BounceEvent
    | ComplaintEvent
    | RejectEvent
    | OpenEvent
    | ClickEvent
    | RenderingFailureEvent
    | DeliveryDelayEvent
    | SubscriptionEvent,
    Field(discriminator="event_type"),
]
"""An event published through a configuration set, told apart by ``eventType``."""

SesNotification = Annotated[
    BounceNotification | ComplaintNotification | DeliveryNotification,
    Field(discriminator="notification_type"),
]
"""An identity feedback notification, told apart by ``notificationType``."""


def _tags(union: Any, field: str) -> frozenset[str]:
    # Read the type names off the models' Literal annotations, so each is written only once.
    members = get_args(get_args(union)[0])
    return frozenset(
        tag for member in members for tag in get_args(member.model_fields[field].annotation)
    )


EVENT_TYPES: Final = _tags(SesEvent, "event_type")
"""Every ``eventType`` value parse_ses_event understands."""

NOTIFICATION_TYPES: Final = _tags(SesNotification, "notification_type")
"""Every ``notificationType`` value parse_ses_event understands."""

_EVENT_ADAPTER: Final[TypeAdapter[SesEvent]] = TypeAdapter(SesEvent)
_NOTIFICATION_ADAPTER: Final[TypeAdapter[SesNotification]] = TypeAdapter(SesNotification)


class MalformedEventError(ValueError):
    """The document is not an SES event EMS can read; ``problems`` says where, if known."""

    def __init__(self, reason: str, problems: list[Problem] | None = None) -> None:
        self.reason = reason
        self.problems = problems or []
        listed = "; ".join(f"{problem['path']}: {problem['message']}" for problem in self.problems)
        super().__init__(f"{reason}: {listed}" if listed else reason)


class UnknownEventTypeError(MalformedEventError):
    """Well-formed JSON with an ``eventType``/``notificationType`` EMS does not model (yet)."""


def parse_ses_event(message: str | bytes) -> SesEvent | SesNotification:
    """Parse one SES event document (a line of an object of events) into its model.

    Raises MalformedEventError (UnknownEventTypeError for a type not modelled) saying what is
    wrong, with JSON paths for field problems.
    """
    try:
        body = orjson.loads(message)
    except orjson.JSONDecodeError as error:
        raise MalformedEventError(f"SES event is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise MalformedEventError(
            f"SES event must be a JSON object, got a JSON {type(body).__name__}"
        )
    if body.get("Type") == "Notification" and "Message" in body:
        raise MalformedEventError(
            "got the SNS envelope, not the SES event: pass its Message field (Sns.Message)"
        )

    adapter: TypeAdapter[Any]
    if "eventType" in body:
        key, known, adapter = "eventType", EVENT_TYPES, _EVENT_ADAPTER
    elif "notificationType" in body:
        key, known, adapter = "notificationType", NOTIFICATION_TYPES, _NOTIFICATION_ADAPTER
    else:
        raise MalformedEventError(
            "SES event has neither eventType (configuration-set event publishing) nor "
            "notificationType (identity notifications)"
        )
    kind = body[key]
    if not isinstance(kind, str) or kind not in known:
        raise UnknownEventTypeError(
            f"unknown SES {key} {kind!r}: expected one of {', '.join(sorted(known))}"
        )
    try:
        parsed: SesEvent | SesNotification = adapter.validate_python(body)
    except ValidationError as error:
        # Pydantic puts the discriminator's value first in every location of a tagged union.
        problems = validation_problems(error, skip_loc_prefix=1)
        raise MalformedEventError(f"SES {key} {kind!r} is malformed", problems) from error
    return parsed
