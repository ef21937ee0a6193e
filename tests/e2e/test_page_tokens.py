"""Forged page tokens against the running API: every paged route answers 400, never a 5xx.

A `page` token is sealed by the API for one list and its filters. Sent to the real API (and so
to DynamoDB Local behind it): base64 of JSON objects, some shaped like DynamoDB start keys,
other lists' real tokens, real tokens cut short or with a bit flipped, and huge ones. Each must
be a 400 that says to start again, and a list's own token must still page.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings

pytestmark = pytest.mark.e2e

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


def _b64(data: bytes, *, url: bool = True, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(data) if url else base64.b64encode(data)
    return (text if padded else text.rstrip(b"=")).decode()


def _json_b64(document: object, *, url: bool = True, padded: bool = False) -> str:
    return _b64(json.dumps(document).encode(), url=url, padded=padded)


DYNAMODB_KEY = {"pk": {"S": "x"}, "sk": {"S": "CAMPAIGN"}}
FORGED = [
    _json_b64({}),
    _json_b64(DYNAMODB_KEY),
    _json_b64(DYNAMODB_KEY, url=False, padded=True),
    _json_b64({**DYNAMODB_KEY, "status": {"S": "SCHEDULED"}, "scheduled_at": {"S": "2030"}}),
    _json_b64({"pk": {"S": "template#receipt"}, "sk": {"S": "TEMPLATE"}}),
    _json_b64({"pk": {"N": "1"}, "sk": {"B": "AAAA"}}),
    _json_b64({"pk": "x", "sk": "CAMPAIGN"}),
    _json_b64({"pk": {"S": ""}}),
    _json_b64({"pk": {"S": "x" * 2000}}),
    _json_b64({"after": "a@example.org\ncampaigns"}),  # the old unsigned suppressions token
    _json_b64({"after": "receipt"}),  # the old unsigned templates token
    _json_b64({"a": {"b": {"c": {"d": [1, 2, {"e": None}]}}}}),
    _json_b64([1, 2]),
    _json_b64("x"),
    _json_b64(None),
    _b64(bytes(range(256))),
    _b64(bytes([1, 1]) + b"\0" * 40),  # this layout's header, with nothing sealed behind it
    "%%%",
    "....",
    "A" * 2048,
    "A" * 2049,
    "A" * 20_000,
]


@pytest.fixture(scope="module")
def lists_with_pages(
    api: httpx.Client, aws: AwsClients, settings: InfraSettings
) -> Iterator[dict[str, str]]:
    """Two of everything a list holds, so that each has a second page at limit=1; the real
    `next_page` token of each list's first page."""
    tag = uuid.uuid4().hex[:8]
    addresses = [f"page-token-{tag}-{i}@example.org" for i in range(2)]
    templates = [f"page-token-{tag}-{i}" for i in range(2)]
    key = f"templates/page-token-{tag}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=b"<p>Hi {{n}}</p>")
    date = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    campaigns = [f"page-token-{tag}-{i}" for i in range(2)]

    added = api.post(
        "/suppressions",
        json={"addresses": addresses, "scope": "campaigns", "reason": "complaint"},
    )
    assert added.status_code == 200, added.text
    for name in templates:
        made = api.put(f"/templates/{name}", json={"subject": "Hi", "html": "<p>Hi</p>"})
        assert made.status_code == 201, made.text
    for campaign_id in campaigns:
        made = api.post(
            "/campaigns",
            json={
                "campaign_id": campaign_id,
                "date": date,
                "templateS3Uri": f"s3://{settings.assets_bucket}/{key}",
                "subject": "Hi",
                "segments": [
                    {"list_name": "l", "recipients": [{"to_address": "a@example.org", "n": "A"}]}
                ],
            },
        )
        assert made.status_code == 201, made.text

    tokens = {}
    for name, (path, filters) in LISTS.items():
        token = api.get(path, params={**filters, "limit": 1}).json().get("next_page")
        if token:
            tokens[name] = token
    assert {"campaigns", "campaigns SCHEDULED", "suppressions", "templates"} <= tokens.keys()
    yield tokens

    for campaign_id in campaigns:
        api.delete(f"/campaigns/{campaign_id}")
    for name in templates:
        api.delete(f"/templates/{name}")
    for address in addresses:
        api.delete(f"/suppressions/{address}")


def _get(api: httpx.Client, name: str, token: str) -> httpx.Response:
    path, filters = LISTS[name]
    return api.get(path, params={**filters, "limit": 1, "page": token})


def _assert_refused(response: httpx.Response, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.text[:300])
    assert response.json()["error"] == "bad_request", what


def test_each_list_pages_by_its_own_token(
    api: httpx.Client, lists_with_pages: dict[str, str]
) -> None:
    for name, token in lists_with_pages.items():
        response = _get(api, name, token)
        assert response.status_code == 200, (name, response.text)


def test_forged_tokens_are_a_400_on_every_paged_route(
    api: httpx.Client, lists_with_pages: dict[str, str]
) -> None:
    for name in LISTS:
        for token in FORGED:
            _assert_refused(_get(api, name, token), f"{name}: {token[:60]}")


def test_another_lists_token_is_a_400_that_says_to_start_again(
    api: httpx.Client, lists_with_pages: dict[str, str]
) -> None:
    for name, route in LISTS.items():
        for other, token in lists_with_pages.items():
            if LISTS[other] == route:
                continue
            response = _get(api, name, token)
            _assert_refused(response, f"{other}'s token on {name}")
            assert "start again without `page`" in response.json()["message"]


def test_cut_or_altered_real_tokens_are_a_400(
    api: httpx.Client, lists_with_pages: dict[str, str]
) -> None:
    for name, token in lists_with_pages.items():
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        altered = [raw[:cut] for cut in (1, 2, 14, 30, len(raw) - 1)]
        for index in (0, 1, 2, 13, 14, len(raw) // 2, len(raw) - 1):
            flipped = bytearray(raw)
            flipped[index] ^= 0x01
            altered.append(bytes(flipped))
        altered.append(raw + b"\0")
        for forged in altered:
            _assert_refused(_get(api, name, _b64(forged)), f"{name}: {forged!r}")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
_key_shaped = st.dictionaries(
    st.sampled_from(["pk", "sk", "status", "scheduled_at"]),
    st.dictionaries(st.sampled_from(["S", "N", "B"]), st.text(max_size=30), min_size=1),
    min_size=1,
)


@given(
    name=st.sampled_from(list(LISTS)),
    document=st.one_of(_json, _key_shaped),
    url=st.booleans(),
    padded=st.booleans(),
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_json_tokens_are_a_400(
    api: httpx.Client, name: str, document: object, url: bool, padded: bool
) -> None:
    token = _json_b64(document, url=url, padded=padded)
    _assert_refused(_get(api, name, token), f"{name}: {document!r}")
