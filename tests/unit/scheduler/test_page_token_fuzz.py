"""Every paged route refuses a page token it did not hand out for that very list, with a 400.

The app is the real one (routes, page tokens, error handlers) over in-memory services that hand
out DynamoDB-shaped start keys and record the start keys they are given: a forged token must be
a 400 that says to start again, and must never reach the store.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ems_common.campaigns import Campaign, CampaignStatus
from ems_common.suppressions import CAMPAIGNS, Suppression, SuppressionReason
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.transactional.models import TemplateRecord
from ems_scheduler.wiring import create_app
from tests.support.suppressions import InMemorySuppressions
from tests.unit.scheduler.conftest import API_KEY

AUTH = {"X-Api-Key": API_KEY}
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_PAGE_PARAMETER = 2048  # the routes' own limit on `page` (longer: a validation 400)


class FakeCampaigns:
    """Two pages; the first ends on a key shaped like the table's (or the status index's)."""

    def __init__(self) -> None:
        self.starts: list[Any] = []

    def list(
        self, *, status: CampaignStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        self.starts.append(start)
        if start is not None:
            return [], None
        key: dict[str, Any] = {"pk": {"S": "c1"}, "sk": {"S": "CAMPAIGN"}}
        if status is not None:
            key |= {"status": {"S": status.value}, "scheduled_at": {"S": "2030-01-01T00:00:00"}}
        return [], key


class FakeTemplates:
    """The transactional service's template list: names in order."""

    def __init__(self) -> None:
        self.starts: list[str | None] = []
        self.names = ["notice", "receipt", "reset"]

    def list_templates(
        self, *, limit: int, start: str | None
    ) -> tuple[list[TemplateRecord], str | None]:
        self.starts.append(start)
        names = [n for n in self.names if start is None or n > start]
        return [], (names[limit - 1] if len(names) > limit else None)


class RecordingSuppressions(InMemorySuppressions):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[str, str] | None] = []
        for address in ("a@example.com", "b@example.com", "c@example.com"):
            self.add(
                Suppression(
                    address=address,
                    scope=CAMPAIGNS,
                    reason=SuppressionReason.COMPLAINT,
                    suppressed_at=NOW,
                )
            )

    def page(self, **kwargs: Any) -> Any:
        self.starts.append(kwargs.get("start"))
        return super().page(**kwargs)


@dataclass
class World:
    client: FlaskClient
    campaigns: FakeCampaigns
    templates: FakeTemplates
    suppressions: RecordingSuppressions

    def starts(self) -> list[Any]:
        """Every start key a store was given."""
        return self.campaigns.starts + self.templates.starts + self.suppressions.starts


# Every paged route, with its filters: each is a list of its own.
LISTS: dict[str, tuple[str, dict[str, str]]] = {
    "campaigns": ("/campaigns", {}),
    "campaigns SCHEDULED": ("/campaigns", {"status": "SCHEDULED"}),
    "campaigns SENDING": ("/campaigns", {"status": "SENDING"}),
    "suppressions": ("/suppressions", {}),
    "suppressions in campaigns": ("/suppressions", {"scope": "campaigns"}),
    "suppressions by complaint": ("/suppressions", {"reason": "complaint"}),
    "templates": ("/templates", {}),
}


@pytest.fixture
def world(settings: SchedulerSettings) -> Iterator[World]:
    campaigns, templates, suppressions = FakeCampaigns(), FakeTemplates(), RecordingSuppressions()
    app = create_app(
        settings,
        campaigns,  # type: ignore[arg-type]
        transactional=templates,  # type: ignore[arg-type]
        suppressions=SuppressionsService(lambda: suppressions),
    )
    with app.test_client() as client:
        yield World(client, campaigns, templates, suppressions)


def _get(world: World, name: str, page: str | None = None) -> Any:
    path, filters = LISTS[name]
    query = {**filters, "limit": "1"} | ({} if page is None else {"page": page})
    return world.client.get(path, query_string=query, headers=AUTH)


def _first_token(world: World, name: str) -> str:
    response = _get(world, name)
    assert response.status_code == 200, response.json
    token = response.json["next_page"]
    assert isinstance(token, str)
    return token


def _assert_refused(response: Any) -> None:
    assert response.status_code == 400, (response.status_code, response.json)
    assert response.json["error"] == "bad_request"
    assert "page" in json.dumps(response.json["problems"])


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_pages_by_its_own_token(world: World, name: str) -> None:
    token = _first_token(world, name)

    response = _get(world, name, token)

    assert response.status_code == 200, response.json
    first, second = world.starts()
    assert first is None
    assert second is not None  # the store got back the start key its first page ended on


def test_another_lists_token_is_a_400_that_says_to_start_again(world: World) -> None:
    tokens = {name: _first_token(world, name) for name in LISTS}
    before = len(world.starts())

    for name, route in LISTS.items():
        for other, token in tokens.items():
            if LISTS[other] == route:
                continue
            response = _get(world, name, token)
            _assert_refused(response)
            assert "start again without `page`" in response.json["message"], (name, other)
    assert len(world.starts()) == before  # nothing reached a store


def _b64(data: bytes, alphabet: str, padded: bool) -> str:
    text = base64.urlsafe_b64encode(data) if alphabet == "url" else base64.b64encode(data)
    return (text if padded else text.rstrip(b"=")).decode()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
_dynamodb_keys = st.fixed_dictionaries(
    {"pk": st.fixed_dictionaries({"S": st.text(max_size=48)})},
    optional={
        "sk": st.fixed_dictionaries({"S": st.sampled_from(["CAMPAIGN", "TEMPLATE", "x"])}),
        "status": st.fixed_dictionaries({"S": st.sampled_from(list(CampaignStatus))}),
        "scheduled_at": st.fixed_dictionaries({"S": st.text(max_size=25)}),
    },
)
_forged_documents = st.one_of(
    st.dictionaries(st.text(max_size=10), _json_values, max_size=5),
    _dynamodb_keys,
    st.fixed_dictionaries({"after": st.emails()}),
    st.lists(st.text(max_size=20), max_size=3),
    st.text(max_size=40),
)
_forged_tokens = st.one_of(
    st.builds(
        lambda doc, alphabet, padded: _b64(json.dumps(doc).encode(), alphabet, padded),
        _forged_documents,
        st.sampled_from(["url", "standard"]),
        st.booleans(),
    ),
    st.binary(min_size=1, max_size=200).map(lambda raw: _b64(raw, "url", False)),
    st.text(min_size=1, max_size=100),
    st.text(min_size=MAX_PAGE_PARAMETER + 1, max_size=MAX_PAGE_PARAMETER + 50),
)


@given(name=st.sampled_from(list(LISTS)), token=_forged_tokens)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_forged_token_is_a_400_and_never_reaches_a_store(
    world: World, name: str, token: str
) -> None:
    before = len(world.starts())

    response = _get(world, name, token)

    _assert_refused(response)
    assert len(world.starts()) == before


@given(
    name=st.sampled_from(list(LISTS)),
    cut=st.integers(min_value=1, max_value=200),
    bit=st.integers(min_value=0),
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_truncated_or_altered_real_token_is_a_400(
    world: World, name: str, cut: int, bit: int
) -> None:
    token = _first_token(world, name)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    flipped = bytearray(raw)
    flipped[(bit // 8) % len(raw)] ^= 1 << (bit % 8)
    before = len(world.starts())

    for altered in (raw[: max(1, len(raw) - cut)], bytes(flipped), raw + b"\0"):
        _assert_refused(_get(world, name, _b64(altered, "url", False)))
    assert len(world.starts()) == before
