"""Reading a compiled campaign: its manifest and its parts, checked against the manifest."""

import hashlib
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from ems_common.campaign_files import manifest_key, part_key
from ems_common.formats.manifest import CampaignManifest, PartEntry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class CorruptPartError(RuntimeError):
    """A part does not match its manifest entry (size, digest or line count)."""


class CampaignFileMissingError(RuntimeError):
    """The campaign file (its manifest or a part) is not in the bucket."""


_MISSING: Final = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


def _missing(error: ClientError, campaign_id: str, what: str) -> CampaignFileMissingError | None:
    if error.response.get("Error", {}).get("Code") not in _MISSING:
        return None
    return CampaignFileMissingError(
        f"the {what} of campaign {campaign_id} is not in the campaigns bucket (it expired, or was"
        " deleted): create the campaign again to send it"
    )


class CampaignFileReader:
    """Reads the campaigns bucket."""

    def __init__(self, client: "S3Client", bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def manifest(self, campaign_id: str) -> CampaignManifest:
        """The campaign's manifest (CampaignFileMissingError when it is gone)."""
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=manifest_key(campaign_id))["Body"]
        except ClientError as error:
            raise _missing(error, campaign_id, "manifest") or error from error
        return CampaignManifest.from_json(body.read())

    def part_lines(self, campaign_id: str, entry: PartEntry) -> list[bytes]:
        """The part's lines, verified: a damaged part must not be half sent."""
        try:
            data = self._s3.get_object(Bucket=self._bucket, Key=part_key(campaign_id, entry.index))[
                "Body"
            ].read()
        except ClientError as error:
            raise _missing(error, campaign_id, f"part {entry.index}") or error from error
        lines = data.splitlines()
        if (
            len(data) != entry.bytes
            or hashlib.sha256(data).hexdigest() != entry.sha256
            or len(lines) != entry.lines
        ):
            msg = f"part {entry.index} of campaign {campaign_id} does not match its manifest"
            raise CorruptPartError(msg)
        return lines
