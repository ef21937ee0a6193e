"""Typed settings, read from the environment.

Every resource name a service needs comes from Terraform: the `platform` module's
`service_settings` output is a map whose keys are exactly the fields of `InfraSettings`,
and it reaches a service as environment variables `EMS_<KEY>` (written to `.ems/local.env`
by `make up` locally, set on each Lambda function on AWS). No name is written twice: a test
compares these fields with the applied Terraform output.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "EMS_"


class InfraSettings(BaseSettings):
    """Names and addresses of the deployed AWS resources (Terraform's `service_settings`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    assets_bucket: str = Field(description="Bucket where users upload templates and candidates")
    candidates_prefix: str = Field(
        description="Key prefix of uploaded candidates in the assets bucket, where they expire"
    )
    campaigns_bucket: str = Field(description="Bucket holding compiled campaign files")
    send_queue_url: str = Field(description="SQS queue the sender drains")
    send_dlq_url: str = Field(description="Dead-letter queue of the send queue")
    tracker_queue_url: str = Field(
        description="SQS queue of S3 notifications, one per new object of SES events"
    )
    tracker_dlq_url: str = Field(description="Dead-letter queue of the tracker queue")
    transactional_queue_url: str = Field(
        description="SQS queue of the transactional lane, sent before campaign traffic"
    )
    transactional_dlq_url: str = Field(description="Dead-letter queue of the transactional lane")
    compile_queue_url: str = Field(description="SQS queue of large candidates to verify")
    compile_dlq_url: str = Field(description="Dead-letter queue of the compile queue")
    ses_events_stream: str = Field(
        description="Firehose stream the configuration set publishes every SES event to"
    )
    ses_events_bucket: str = Field(
        description="Bucket the stream writes the events to, as objects of newline-delimited JSON"
    )
    ses_events_prefix: str = Field(
        description="Key prefix of the event objects in that bucket (they expire after some days)"
    )
    configuration_set_name: str = Field(description="Default SES configuration set")
    sender_domain: str = Field(description="SES identity (domain) EMS sends from")
    default_from: str = Field(description="Default FromEmailAddress, on the sender domain")
    campaigns_table: str = Field(description="DynamoDB table of campaigns")
    campaigns_status_index: str = Field(description="Index of campaigns by status and date")
    emails_table: str = Field(description="DynamoDB table of emails (one per recipient)")
    emails_message_id_index: str = Field(description="Index of emails by SES message id")
    suppressions_table: str = Field(description="DynamoDB table of suppressed addresses")
    suppressions_day_index: str = Field(
        description="Index of suppressions by the day they were made, in time order"
    )
    events_table: str = Field(description="DynamoDB table of raw SES events (with a TTL)")
    rate_limits_table: str = Field(description="DynamoDB table holding the shared send limiter")
    launcher_rule_name: str = Field(description="EventBridge rule that triggers the launcher")
    schedule_group_name: str = Field(description="EventBridge Scheduler group for campaigns")
    launcher_target_arn: str = Field(
        description="What a campaign's one-time schedule invokes: the launcher (a queue locally)"
    )
    schedule_role_arn: str = Field(description="Role EventBridge Scheduler assumes to invoke it")
    launcher_ticks_queue_url: str | None = Field(
        default=None,
        description="Local stack only: queue the launcher rule targets, since Lambda cannot run",
    )


class RecordSettings(BaseSettings):
    """How long email records are kept: the sender writes them, the API's request items match."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    record_ttl_days: int = Field(default=400, ge=1, description="How long email records are kept")


class AwsSettings(BaseSettings):
    """Where AWS is: the region, and optional endpoints for the local stack.

    boto3 itself honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`; they are read
    here only so that tools can show and check them.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        description="AWS region",
    )
    endpoint_url: str | None = Field(
        default=None,
        validation_alias="AWS_ENDPOINT_URL",
        description="One endpoint for every AWS service (LocalStack)",
    )
