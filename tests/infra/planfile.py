"""Reading `terraform show -json` of a plan: planned resources, policy statements, references.

Values Terraform only knows after apply are missing from a resource's `after` and flagged in
its `after_unknown`; `Unknown` stands for them here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "(known after apply)"
_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Resource:
    """One resource or data source as planned."""

    address: str
    mode: str
    type: str
    values: dict[str, Any]
    unknown: dict[str, Any] = field(default_factory=dict)

    @property
    def module_address(self) -> str:
        """The module instance it is in ('' at the root)."""
        suffix = f"{'data.' if self.mode == 'data' else ''}{self.type}."
        head, _, _ = self.address.rpartition(suffix)
        return head.removesuffix(".")

    @property
    def config_address(self) -> str:
        """Its address in the configuration: without count/for_each keys."""
        return _INDEX.sub("", self.address)

    def is_unknown(self, *path: str | int) -> bool:
        """Whether the value at `path` is known only after apply."""
        node: Any = self.unknown
        for step in path:
            if node is True:
                return True
            if isinstance(node, dict) and isinstance(step, str):
                node = node.get(step, False)
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                return False
        return node is True


class Plan:
    """A plan JSON document, with the lookups the infra tests need."""

    def __init__(self, document: dict[str, Any], name: str = "plan") -> None:
        self.document = document
        self.name = name
        self.resources = list(self._resources())

    @classmethod
    def from_json(cls, text: str, name: str = "plan") -> Plan:
        """Parse `terraform show -json` output."""
        return cls(json.loads(text), name)

    def _resources(self) -> Iterator[Resource]:
        seen: set[str] = set()
        for change in self.document.get("resource_changes", []):
            actions = change["change"]["actions"]
            if actions == ["delete"]:
                continue
            seen.add(change["address"])
            yield Resource(
                address=change["address"],
                mode=change["mode"],
                type=change["type"],
                values=change["change"].get("after") or {},
                unknown=change["change"].get("after_unknown") or {},
            )
        # Data sources read while planning are in the prior state only.
        prior = self.document.get("prior_state", {}).get("values", {}).get("root_module", {})
        for resource in _module_resources(prior):
            if resource["address"] not in seen:
                yield Resource(
                    address=resource["address"],
                    mode=resource["mode"],
                    type=resource["type"],
                    values=resource.get("values") or {},
                )

    def managed(self, resource_type: str) -> list[Resource]:
        """The planned resources of one type."""
        return [r for r in self.resources if r.mode == "managed" and r.type == resource_type]

    def data(self, resource_type: str) -> list[Resource]:
        """The data sources of one type."""
        return [r for r in self.resources if r.mode == "data" and r.type == resource_type]

    def expression_references(self, resource: Resource, attribute: str) -> list[str]:
        """What the configuration's expression of `attribute` refers to (e.g. data.x.y.json)."""
        module: dict[str, Any] = self.document.get("configuration", {}).get("root_module", {})
        parts = resource.config_address.split(".")
        while parts and parts[0] == "module":
            module = module.get("module_calls", {}).get(parts[1], {}).get("module", {})
            parts = parts[2:]
        local_address = ".".join(parts)
        for config in module.get("resources", []):
            if config.get("address") == local_address:
                expression = config.get("expressions", {}).get(attribute, {})
                return list(expression.get("references", []))
        return []


def _module_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _module_resources(child)


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement, normalised (the policy JSON's and the data source's shapes)."""

    where: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_actions: bool
    not_resources: bool
    has_principal: bool

    def wildcards(self) -> list[str]:
        """What in it is a wildcard: the action "*", "service:*", the resource "*"."""
        found = [f"Action {a!r}" for a in self.actions if _is_wildcard_action(a)]
        found += [f"Resource {r!r}" for r in self.resources if r == "*"]
        if self.not_actions:
            found.append("NotAction (everything else)")
        if self.not_resources:
            found.append("NotResource (everything else)")
        return found


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or bool(re.fullmatch(r"[A-Za-z0-9-]+:\*", action))


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) if v is not None else UNKNOWN for v in value)


def statements_of_policy_json(text: str, where: str) -> list[Statement]:
    """The statements of a policy document in IAM's JSON."""
    document = json.loads(text)
    raw = document.get("Statement", [])
    items = [raw] if isinstance(raw, dict) else raw
    return [
        Statement(
            where=where,
            sid=item.get("Sid", ""),
            effect=item.get("Effect", "Allow"),
            actions=_strings(item.get("Action")),
            resources=_strings(item.get("Resource")),
            not_actions="NotAction" in item,
            not_resources="NotResource" in item,
            has_principal="Principal" in item or "NotPrincipal" in item,
        )
        for item in items
    ]


def statements_of_document(source: Resource) -> list[Statement]:
    """The statements of an aws_iam_policy_document data source, as planned."""
    return [
        Statement(
            where=source.address,
            sid=item.get("sid") or "",
            effect=item.get("effect") or "Allow",
            actions=_strings(item.get("actions")),
            resources=_strings(item.get("resources")),
            not_actions=bool(item.get("not_actions")),
            not_resources=bool(item.get("not_resources")),
            has_principal=bool(item.get("principals") or item.get("not_principals")),
        )
        for item in source.values.get("statement") or []
    ]
