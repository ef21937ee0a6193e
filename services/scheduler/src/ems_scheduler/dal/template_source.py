"""The compiler's TemplateSource, reading templates from S3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ems_common.formats.candidate import split_s3_uri
from ems_scheduler.compiler.compile import TemplateNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket", "403", "AccessDenied"}


class S3TemplateSource:
    """Reads at most `limit + 1` bytes of a template (longer is refused anyway)."""

    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def read_template(self, uri: str, limit: int) -> bytes:
        """The template's bytes, or TemplateNotFoundError."""
        bucket, key = split_s3_uri(uri)
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{limit}")
        except self._s3.exceptions.ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                raise TemplateNotFoundError(uri) from error
            raise
        return response["Body"].read()


class S3PartSink:
    """The compiler's PartSink: each part goes to the campaigns bucket as it is finished."""

    def __init__(self, client: S3Client, bucket: str, campaign_id: str) -> None:
        from ems_scheduler.dal.objects import CampaignFiles  # noqa: PLC0415 - avoid a cycle

        self._files = CampaignFiles(client, bucket)
        self._campaign_id = campaign_id

    def write_part(self, index: int, data: bytes) -> None:
        """Upload part `index`."""
        self._files.put(
            self._files.part_key(self._campaign_id, index), data, "application/x-ndjson"
        )
