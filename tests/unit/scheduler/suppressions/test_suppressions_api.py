"""The suppression routes over an in-memory suppression list: list, filter, show, add, lift."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from ems_common.suppressions import ALL, CAMPAIGNS, Suppression, SuppressionReason
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.suppressions.service import SuppressionsService
from ems_scheduler.wiring import create_app
from tests.support.suppressions import InMemorySuppressions
from tests.unit.scheduler.conftest import API_KEY

AUTH = {"X-Api-Key": API_KEY}
NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def store() -> InMemorySuppressions:
    store = InMemorySuppressions()
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        store.add(
            Suppression(
                address=address,
                scope=CAMPAIGNS,
                reason=SuppressionReason.COMPLAINT,
                source="ses:Complaint",
                suppressed_at=NOW,
            )
        )
    return store


@pytest.fixture
def client(store: InMemorySuppressions, settings: SchedulerSettings) -> Iterator[FlaskClient]:
    app = create_app(
        settings.model_copy(update={"max_request_bytes": 2_000_000}),
        object(),  # type: ignore[arg-type]
        suppressions=SuppressionsService(lambda: store),
    )
    with app.test_client() as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/suppressions"),
        ("post", "/suppressions"),
        ("get", "/suppressions/a@example.com"),
        ("delete", "/suppressions/a@example.com"),
    ],
)
def test_every_suppression_route_needs_the_key(
    client: FlaskClient, store: InMemorySuppressions, method: str, path: str
) -> None:
    assert getattr(client, method)(path).status_code == 401
    assert getattr(client, method)(path, headers={"X-Api-Key": "nope"}).status_code == 403
    assert len(store.items) == 3  # nothing was lifted


def test_suppressions_come_in_pages_by_token(client: FlaskClient) -> None:
    # When the first page of two is asked for
    first = client.get("/suppressions?limit=2", headers=AUTH)

    # Then it holds two, with a token for the rest
    assert first.status_code == 200
    body = first.json
    assert body is not None
    assert [s["address"] for s in body["suppressions"]] == ["a@example.com", "b@example.com"]
    assert body["suppressions"][0] == {
        "address": "a@example.com",
        "scope": "campaigns",
        "reason": "complaint",
        "detail": None,
        "source": "ses:Complaint",
        "campaign_id": None,
        "suppressed_at": "2030-01-01T00:00:00Z",
    }
    token = body["next_page"]
    assert isinstance(token, str)
    assert "@" not in token  # opaque

    # When the next page is asked for by that token, it is the last
    second = client.get(f"/suppressions?limit=2&page={token}", headers=AUTH).json
    assert second is not None
    assert [s["address"] for s in second["suppressions"]] == ["c@example.com"]
    assert second["next_page"] is None


def test_suppressions_default_to_pages_of_50(client: FlaskClient) -> None:
    body = client.get("/suppressions", headers=AUTH).json
    assert body is not None
    assert len(body["suppressions"]) == 3
    assert body["next_page"] is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=many", "page=%25%25%25", "scope=everyone", "reason=bored"],
)
def test_bad_suppression_paging_or_filters_are_a_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/suppressions?{query}", headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"  # type: ignore[index]


def test_an_import_suppresses_every_address_in_its_scope_and_says_how_many_were_new(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    addresses = [f"person{i}@example.org" for i in range(10_000)] + ["A@example.com"]
    response = client.post(
        "/suppressions",
        json={"addresses": addresses, "scope": "campaigns", "reason": "manual", "detail": "CRM"},
        headers=AUTH,
    )
    assert response.status_code == 400  # 10,001 is one too many for one request
    assert len(store.items) == 3

    response = client.post(
        "/suppressions",
        json={"addresses": addresses[-5000:], "scope": "campaigns", "detail": "CRM"},
        headers=AUTH,
    )
    assert response.status_code == 200, response.json
    assert response.json == {
        "added": 4999,
        "already_suppressed": 1,  # A@example.com was, in that scope
        "scope": "campaigns",
        "reason": "manual",
    }
    assert store.items[("person9999@example.org", CAMPAIGNS)].detail == "CRM"
    listed = client.get("/suppressions?scope=campaigns&reason=manual&limit=200", headers=AUTH)
    assert {s["reason"] for s in listed.json["suppressions"]} == {"manual"}  # type: ignore[index]


def test_an_import_with_bad_addresses_adds_nothing_and_lists_each_by_its_place(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    response = client.post(
        "/suppressions",
        json={"addresses": ["ok@example.org", "not an address", "x@", "also.ok@example.org"]},
        headers=AUTH,
    )
    assert response.status_code == 400
    body = response.json
    assert body is not None
    assert [p["path"] for p in body["problems"]] == ["$.addresses[1]", "$.addresses[2]"]
    assert len(store.items) == 3


def test_a_bad_scope_in_an_import_is_a_400_by_path(client: FlaskClient) -> None:
    response = client.post(
        "/suppressions", json={"addresses": ["a@example.org"], "scope": "list:"}, headers=AUTH
    )
    assert response.status_code == 400
    assert [p["path"] for p in response.json["problems"]] == ["$.scope"]  # type: ignore[index]


def test_an_address_shows_every_scope_it_is_suppressed_in(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    store.add(Suppression(address="A@example.com", scope=ALL, reason=SuppressionReason.MANUAL))
    body = client.get("/suppressions/A@Example.com", headers=AUTH).json
    assert body is not None
    assert body["address"] == "a@example.com"
    assert sorted(s["scope"] for s in body["suppressions"]) == ["all", "campaigns"]
    assert client.get("/suppressions/zed@example.com", headers=AUTH).status_code == 404


def test_lifting_one_scope_leaves_the_others(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    store.add(Suppression(address="a@example.com", scope=ALL, reason=SuppressionReason.MANUAL))
    assert client.delete("/suppressions/a@example.com?scope=all", headers=AUTH).status_code == 204
    assert ("a@example.com", CAMPAIGNS) in store.items
    again = client.delete("/suppressions/a@example.com?scope=all", headers=AUTH)
    assert again.status_code == 404
    assert "in scope all" in again.json["message"]  # type: ignore[index]


def test_removing_a_blank_address_is_a_400(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    response = client.delete("/suppressions/%20%20%20", headers=AUTH)

    assert response.status_code == 400
    assert response.json["problems"][0]["path"].endswith("address")  # type: ignore[index]
    assert len(store.items) == 3


def test_removing_a_suppression_is_a_204_then_a_404(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    first = client.delete("/suppressions/B@Example.com", headers=AUTH)
    second = client.delete("/suppressions/B@Example.com", headers=AUTH)

    assert first.status_code == 204
    assert first.data == b""
    assert ("b@example.com", CAMPAIGNS) not in store.items
    assert second.status_code == 404
    assert second.json == {
        "error": "not_found",
        "message": "B@Example.com is not on the suppression list: there is nothing to lift",
        "problems": [],
    }


def test_an_address_with_a_slash_is_one_path_segment(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    store.add(Suppression(address="a/b@example.com", scope=ALL, reason=SuppressionReason.MANUAL))

    response = client.delete("/suppressions/a%2Fb@example.com", headers=AUTH)

    assert response.status_code == 204
    assert not store.of("a/b@example.com")
