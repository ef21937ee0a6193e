"""S3: the objects users upload (candidates, templates), and the compiled campaign files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Final, cast

from ems_common.campaign_files import campaign_prefix, manifest_key, part_key
from ems_scheduler.shared.request_fields import split_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND: Final = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class ObjectChangedError(RuntimeError):
    """The object was replaced between two reads."""


@dataclass(frozen=True)
class ObjectInfo:
    """What HeadObject tells about an object."""

    size: int
    content_type: str | None
    etag: str


class S3Objects:
    """Reads users' objects by s3:// URI."""

    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def head(self, uri: str) -> ObjectInfo | None:
        """Size, type and ETag of the object, or None if it does not exist."""
        bucket, key = split_s3_uri(uri)
        try:
            response = self._s3.head_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise
        return ObjectInfo(
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType"),
            etag=str(response.get("ETag", "")).strip('"'),
        )

    def read(self, uri: str) -> bytes:
        """The whole object (for templates, which are small)."""
        bucket, key = split_s3_uri(uri)
        return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def open(self, uri: str, *, if_match: str | None = None) -> BinaryIO:
        """A stream over the object (for candidates, which can be large).

        With `if_match` (an ETag from `head`), an object replaced since raises
        ObjectChangedError instead of mixing two versions into one read.
        """
        bucket, key = split_s3_uri(uri)
        try:
            if if_match:
                response = self._s3.get_object(Bucket=bucket, Key=key, IfMatch=if_match)
            else:
                response = self._s3.get_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in {"412", "PreconditionFailed"}:
                raise ObjectChangedError(uri) from error
            raise
        return cast("BinaryIO", response["Body"])


class CampaignFiles:
    """Where a campaign's compiled file lives: `campaigns/<id>/part-00001.jsonl`, manifest."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    prefix = staticmethod(campaign_prefix)
    part_key = staticmethod(part_key)
    manifest_key = staticmethod(manifest_key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write one object (encrypted at rest by the bucket's default encryption)."""
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        """Read one object."""
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def delete_campaign(self, campaign_id: str) -> int:
        """Delete every file of the campaign; returns how many."""
        deleted = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix(campaign_id)):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})  # type: ignore[typeddict-item]
                deleted += len(objects)
        return deleted


class S3PartSink:
    """The compiler's PartSink: each part goes to the campaigns bucket as it is finished."""

    def __init__(self, client: S3Client, bucket: str, campaign_id: str) -> None:
        self._files = CampaignFiles(client, bucket)
        self._campaign_id = campaign_id

    def write_part(self, index: int, data: bytes) -> None:
        """Upload part `index`."""
        self._files.put(
            self._files.part_key(self._campaign_id, index), data, "application/x-ndjson"
        )


CANDIDATE_UPLOAD_MAX_BYTES: Final = 1024**3
"""The largest candidate a browser may upload (a million recipients take about 150 MB)."""
UPLOAD_FORM_SECONDS: Final = 3600


@dataclass(frozen=True)
class UploadForm:
    """A presigned S3 POST: where a browser sends the file, the form's fields, and the object's
    URI once it is there."""

    url: str
    fields: dict[str, str]
    s3_uri: str


class CandidateUploads:
    """Presigned uploads of candidates to the assets bucket, straight from a browser.

    A large candidate never passes through the API (whose requests stop at 6 MB): the browser
    posts it to S3 with a form this signs for one key, one size range and one hour.
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        """Uploads to `bucket` under `prefix` (`InfraSettings.candidates_prefix`: where
        candidates expire, and the only place the API takes a candidateS3Uri from)."""
        self._s3 = client
        self._bucket = bucket
        self._prefix = prefix

    def form(self, key: str, *, redirect: str) -> UploadForm:
        """A form that puts one JSON file at `<prefix><key>`, then sends the browser to
        `redirect` (S3 adds bucket, key and etag to it)."""
        object_key = f"{self._prefix}{key}"
        fields = {"success_action_redirect": redirect, "Content-Type": "application/json"}
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=object_key,
            Fields=fields,
            Conditions=[
                {"success_action_redirect": redirect},
                {"Content-Type": "application/json"},
                ["content-length-range", 1, CANDIDATE_UPLOAD_MAX_BYTES],
            ],
            ExpiresIn=UPLOAD_FORM_SECONDS,
        )
        return UploadForm(
            url=str(post["url"]),
            fields={str(k): str(v) for k, v in post["fields"].items()},
            s3_uri=f"s3://{self._bucket}/{object_key}",
        )
