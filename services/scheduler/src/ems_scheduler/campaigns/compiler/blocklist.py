"""Who a campaign leaves out by the suppression list, and why, for each of its lists.

Verification reads the whole suppression list once (`SuppressionList.by_address`) and asks,
for each recipient of a segment, whether a suppression covers that segment's list: `all` and
`campaigns` cover every list, `list:<name>` its own. A recipient the recipient's own request
covers is rejected as `unsubscribed`, any other as `suppressed` (`docs/tracking.md`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ems_common.suppressions import ALL, CAMPAIGNS, LIST_PREFIX, Suppression
from ems_scheduler.shared.recipients import RejectionReason

_EMPTY: Final[Mapping[str, RejectionReason]] = MappingProxyType({})


def _reason(suppressions: Iterable[Suppression]) -> RejectionReason:
    found = list(suppressions)
    if any(s.is_unsubscribe for s in found):
        return RejectionReason.UNSUBSCRIBED
    return RejectionReason.SUPPRESSED


@dataclass(frozen=True)
class Blocklist:
    """Lower-cased addresses left out of every list, and of one list, with the reason."""

    everywhere: Mapping[str, RejectionReason] = field(default_factory=dict)
    by_list: Mapping[str, Mapping[str, RejectionReason]] = field(default_factory=dict)

    @classmethod
    def of(cls, by_address: Mapping[str, list[Suppression]]) -> Blocklist:
        """The blocklist of the stored suppressions, by address."""
        everywhere: dict[str, RejectionReason] = {}
        by_list: dict[str, dict[str, RejectionReason]] = {}
        for address, suppressions in by_address.items():
            wide = [s for s in suppressions if s.scope in {ALL, CAMPAIGNS}]
            if wide:
                everywhere[address] = _reason(wide)
            for suppression in suppressions:
                if suppression.scope.startswith(LIST_PREFIX):
                    name = suppression.scope.removeprefix(LIST_PREFIX)
                    by_list.setdefault(name, {})[address] = _reason([suppression])
        return cls(everywhere, by_list)

    @classmethod
    def suppressed(cls, addresses: Iterable[str]) -> Blocklist:
        """Addresses suppressed from every list (as a hard bounce is)."""
        return cls({a.lower(): RejectionReason.SUPPRESSED for a in addresses})

    def for_list(self, list_name: str) -> Mapping[str, RejectionReason]:
        """The addresses only list `list_name` leaves out (besides `everywhere`)."""
        return self.by_list.get(list_name, _EMPTY)
