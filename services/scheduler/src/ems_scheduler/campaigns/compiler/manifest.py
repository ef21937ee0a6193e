"""The manifest model lives in ems-common (the launcher reads it too); re-exported here."""

from ems_common.formats.manifest import (
    MANIFEST_FORMAT,
    CampaignManifest,
    PartEntry,
    RecipientTally,
    SegmentEntry,
)

__all__ = ["MANIFEST_FORMAT", "CampaignManifest", "PartEntry", "RecipientTally", "SegmentEntry"]
