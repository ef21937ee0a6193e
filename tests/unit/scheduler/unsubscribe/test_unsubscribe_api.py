"""The public unsubscribe routes over an in-memory suppression list and a counting fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient

from ems_common.suppressions import CAMPAIGNS, list_scope
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys, UnsubscribeLinks
from ems_scheduler.unsubscribe.service import UnsubscribeService
from ems_scheduler.wiring import create_app
from tests.support.suppressions import InMemorySuppressions

TODAY = date(2026, 12, 6)
KEYS = UnsubscribeKeys({3: b"z" * 32}, 3)
ANN = "Ann.Lee@Example.org"


class Counter:
    """Remembers which emails' unsubscribes were counted, once each (as the table does)."""

    def __init__(self) -> None:
        self.counted: set[tuple[str, str, str]] = set()
        self.calls = 0

    def count(self, scope: str, address: str, list_name: str) -> bool:
        self.calls += 1
        key = (scope, address, list_name)
        if key in self.counted:
            return False
        self.counted.add(key)
        return True


def _links(keys: UnsubscribeKeys = KEYS) -> UnsubscribeLinks:
    return UnsubscribeLinks(keys, base_url="https://api.example.com", max_age_days=400)


@pytest.fixture
def store() -> InMemorySuppressions:
    return InMemorySuppressions()


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def client(
    store: InMemorySuppressions, counter: Counter, settings: SchedulerSettings
) -> Iterator[FlaskClient]:
    service = UnsubscribeService(_links, lambda: store, lambda: counter, today=lambda: TODAY)
    app = create_app(settings, object(), unsubscribe=service)  # type: ignore[arg-type]
    with app.test_client() as test_client:
        yield test_client


def _token(**overrides: object) -> str:
    values: dict[str, object] = {
        "address": ANN,
        "campaign_id": "spring",
        "list_name": "customers",
        "today": TODAY,
    }
    values.update(overrides)
    return _links().token(**values)  # type: ignore[arg-type]


def test_the_page_says_what_the_link_is_for_and_changes_nothing(
    client: FlaskClient, store: InMemorySuppressions, counter: Counter
) -> None:
    response = client.get(f"/u/{_token()}")  # no API key: a public route
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    assert "customers" in page
    assert "a***@example.org" in page
    assert "ann.lee" not in page.lower()  # the page does not spell the address out
    assert 'name="scope" value="list"' in page
    assert 'name="scope" value="campaigns"' in page
    assert store.items == {}
    assert counter.calls == 0


def test_a_one_click_post_unsubscribes_from_the_list_once(
    client: FlaskClient, store: InMemorySuppressions, counter: Counter
) -> None:
    token = _token()
    # When Gmail POSTs as RFC 8058 says, twice
    for _ in range(2):
        response = client.post(
            f"/u/{token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    # Then the address is off that list, once, counted once on the campaign's email
    [suppression] = store.items.values()
    assert (suppression.address, suppression.scope) == ("ann.lee@example.org", "list:customers")
    assert (suppression.reason, suppression.source, suppression.campaign_id) == (
        "unsubscribe",
        "one-click",
        "spring",
    )
    assert counter.counted == {("spring", "ann.lee@example.org", "customers")}


def test_an_empty_post_is_a_one_click_unsubscribe(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    assert client.post(f"/u/{_token()}").status_code == 200
    assert ("ann.lee@example.org", list_scope("customers")) in store.items


def test_the_page_can_unsubscribe_from_every_campaign_email(
    client: FlaskClient, store: InMemorySuppressions
) -> None:
    response = client.post(f"/u/{_token()}", data={"scope": "campaigns"})
    assert response.status_code == 200
    assert "no more campaign email" in response.get_data(as_text=True)
    assert [s.scope for s in store.items.values()] == [CAMPAIGNS]


def _resigned() -> str:
    other = UnsubscribeKeys({3: b"y" * 32}, 3)  # same key id, another key
    return _links(other).token(ANN, "spring", "customers", TODAY)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "A" * 300,
        _token()[:-6],  # cut short by a mail program
        _token()[:40],
        _resigned(),
        _token(today=TODAY - timedelta(days=401)),  # older than links live
    ],
    ids=["garbled", "long junk", "truncated", "half", "re-signed", "expired"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_gets_a_404_page_that_reveals_nothing_and_changes_nothing(
    client: FlaskClient, store: InMemorySuppressions, token: str, method: str
) -> None:
    response = getattr(client, method)(f"/u/{token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This link is not valid" in page
    assert "ann" not in page.lower()
    assert "customers" not in page
    assert store.items == {}


def test_only_the_link_itself_is_public(client: FlaskClient) -> None:
    assert client.get("/u/abc/more").status_code == 401
    assert client.get("/u/").status_code == 401


def test_openapi_documents_the_public_unsubscribe_routes(client: FlaskClient) -> None:
    spec = client.get("/openapi.json", headers={"X-Api-Key": "test-key-123"}).json
    assert spec is not None
    route = spec["paths"]["/u/{token}"]
    assert set(route) >= {"get", "post"}
    assert "security" not in route["get"]
