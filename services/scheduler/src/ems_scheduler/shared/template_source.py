"""Reading HTML templates from S3: campaigns' segment templates, transactional htmlS3Uri parts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ems_scheduler.shared.request_fields import split_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket", "403", "AccessDenied"}


class TemplateNotFoundError(LookupError):
    """Raised by a TemplateSource: no object at that URI (or EMS may not read it)."""


class TemplateSource(Protocol):
    """Reads template objects (`S3TemplateSource` below; fakes in tests)."""

    def read_template(self, uri: str, limit: int) -> bytes:
        """The object's bytes; may stop after ``limit + 1`` bytes (longer is refused anyway).

        Raise TemplateNotFoundError if there is no such object; any other error is EMS's own
        failure and stops the compile.
        """
        ...


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
