"""Where a compiled campaign lives in the campaigns bucket: one place for the key scheme.

`campaigns/<campaign_id>/manifest.json` and `campaigns/<campaign_id>/part-00001.jsonl`, ...
The scheduler writes them; the launcher reads them.
"""

from typing import Final

CAMPAIGN_PREFIX: Final = "campaigns"


def campaign_prefix(campaign_id: str) -> str:
    """The folder of one campaign."""
    return f"{CAMPAIGN_PREFIX}/{campaign_id}/"


def part_key(campaign_id: str, index: int) -> str:
    """Key of part `index` (from 1)."""
    return f"{campaign_prefix(campaign_id)}part-{index:05d}.jsonl"


def manifest_key(campaign_id: str) -> str:
    """Key of the manifest."""
    return f"{campaign_prefix(campaign_id)}manifest.json"
