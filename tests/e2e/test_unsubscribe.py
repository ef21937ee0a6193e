"""One-click unsubscribe and consent, on the local stack: checked at /_aws/ses and the API only.

Every campaign email carries RFC 8058's two headers with a link unique to its recipient and list;
POSTing to it as Gmail does unsubscribes at once and idempotently, a GET changes nothing; an
unsubscribe made while a campaign sends stops the address's remaining email of that list; later
campaigns honour it by list, and "all campaign email" spares transactional email.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_sender.recent_suppressions import REFRESH_SECONDS
from tests.e2e.test_sender import _outbox
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.e2e

HTML = (
    "<html><head><title>News for {{fname}}</title></head><body><p>Hi {{fname}}</p>"
    "<p><a href='{{unsubscribe_url}}'>Unsubscribe</a></p></body></html>"
)


@pytest.fixture(scope="module")
def template_uri(aws: AwsClients, settings: InfraSettings) -> str:
    key = f"templates/unsubscribe-{uuid.uuid4().hex[:6]}.html"
    aws.client("s3").put_object(Bucket=settings.assets_bucket, Key=key, Body=HTML.encode())
    return f"s3://{settings.assets_bucket}/{key}"


@pytest.fixture
def public(local_stack: Any) -> Iterator[httpx.Client]:
    """A client without the API key: what a mail client or a recipient's browser is."""
    with httpx.Client(timeout=30) as client:
        yield client


def _address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def _campaign(
    api: httpx.Client, template_uri: str, segments: dict[str, list[str]], *, ahead_s: float = 2
) -> dict[str, Any]:
    response = api.post(
        "/campaigns",
        json={
            "campaign_id": f"unsub-{uuid.uuid4().hex[:10]}",
            "date": (datetime.now(UTC) + timedelta(seconds=ahead_s)).isoformat(),
            "templateS3Uri": template_uri,
            "segments": [
                {
                    "list_name": name,
                    "recipients": [{"to_address": a, "fname": a[:3]} for a in addresses],
                }
                for name, addresses in segments.items()
            ],
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _messages_to(localstack_url: str, templates: set[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for message in _outbox(localstack_url):
        if message.get("Template") in templates:
            for address in message["Destination"]["ToAddresses"]:
                found.setdefault(address, []).append(message)
    return found


def _wait_done(api: httpx.Client, campaign_id: str, deadline_s: float = 180) -> None:
    def done() -> bool:
        return bool(api.get(f"/campaigns/{campaign_id}").json()["status"] == "COMPLETED")

    eventually(done, deadline_s=deadline_s, what=f"campaign {campaign_id} COMPLETED", interval_s=1)


def _headers(message: dict[str, Any]) -> dict[str, str]:
    return {h["Name"]: h["Value"] for h in message.get("Headers") or []}


def _link(message: dict[str, Any]) -> str:
    value = _headers(message)["List-Unsubscribe"]
    return value.split(",")[0].strip().removeprefix("<").removesuffix(">")


def _other_key_id(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[1] = (raw[1] + 1) % 256  # the key id byte
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _templates(created: dict[str, Any]) -> set[str]:
    return {segment["template_name"] for segment in created["segments"]}


def test_every_campaign_email_carries_its_own_one_click_link(
    api: httpx.Client, template_uri: str, localstack_url: str, public: httpx.Client
) -> None:
    # Given a campaign to two lists
    news, vip = [_address("news") for _ in range(3)], [_address("vip") for _ in range(2)]
    created = _campaign(api, template_uri, {"news": news, "vip": vip})
    _wait_done(api, created["campaign_id"])

    # Then every email carries both headers, the link unique to its recipient and list ...
    sent = _messages_to(localstack_url, _templates(created))
    assert set(sent) == set(news + vip)
    links = set()
    for address, (message,) in sent.items():
        headers = _headers(message)
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = _link(message)
        assert link.startswith(os.environ["EMS_API_URL"].rstrip("/") + "/u/")
        assert address.split("@")[0] not in link  # the address is not in the URL
        links.add(link)
        # ... and the body's {{unsubscribe_url}} is the header's link
        assert json.loads(message["TemplateData"])["unsubscribe_url"] == link
        assert link in message["Body"]["html_part"]
        # ... and its page names its list, without changing anything
        page = public.get(link)
        assert page.status_code == 200
        assert ("news" if address in news else "vip") in page.text
    assert len(links) == len(news + vip)
    assert api.get(f"/suppressions/{news[0]}").status_code == 404


def test_a_one_click_post_as_gmail_sends_it_unsubscribes_fast_and_idempotently(
    api: httpx.Client, template_uri: str, localstack_url: str, public: httpx.Client
) -> None:
    ann = _address("ann")
    created = _campaign(api, template_uri, {"news": [ann]})
    _wait_done(api, created["campaign_id"])
    [message] = _messages_to(localstack_url, _templates(created))[ann]

    # When the mailbox provider POSTs the one-click body, twice
    answers = []
    for _ in range(2):
        started = time.monotonic()
        response = public.post(
            _link(message),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        answers.append((response.status_code, time.monotonic() - started))
    # Then both answer 200, in under a second
    assert [status for status, _ in answers] == [200, 200]
    assert max(seconds for _, seconds in answers) < 1.0
    # And the address is off the list "news", once, counted on the campaign
    listed = api.get(f"/suppressions/{ann}").json()
    assert [(s["scope"], s["reason"], s["source"]) for s in listed["suppressions"]] == [
        ("list:news", "unsubscribe", "one-click")
    ]
    metrics = api.get(f"/campaigns/{created['campaign_id']}/metrics").json()
    assert metrics["unsubscribed"] == 1
    assert metrics["segments"][0]["unsubscribed"] == 1
    assert api.get(f"/campaigns/{created['campaign_id']}/recipients/{ann}").json()[
        "unsubscribed_at"
    ]


@pytest.mark.parametrize("damage", ["truncate", "flip", "forge"])
def test_a_damaged_or_forged_link_gets_a_4xx_page(
    api: httpx.Client,
    template_uri: str,
    localstack_url: str,
    public: httpx.Client,
    damage: str,
) -> None:
    bob = _address("bob")
    created = _campaign(api, template_uri, {"news": [bob]})
    _wait_done(api, created["campaign_id"])
    [message] = _messages_to(localstack_url, _templates(created))[bob]
    link = _link(message)
    base, token = link.rsplit("/", 1)
    bad = {
        "truncate": token[:-5],
        "flip": token[:20] + ("A" if token[20] != "A" else "B") + token[21:],
        "forge": _other_key_id(token),  # as if sealed with a key EMS does not have
    }[damage]
    for method in ("get", "post"):
        response = getattr(public, method)(f"{base}/{bad}")
        assert 400 <= response.status_code < 500
        assert "bob" not in response.text
    assert api.get(f"/suppressions/{bob}").status_code == 404


def test_an_unsubscribe_while_a_campaign_sends_stops_the_rest_and_later_campaigns_by_list(
    api: httpx.Client,
    aws: AwsClients,
    settings: InfraSettings,
    template_uri: str,
    localstack_url: str,
    public: httpx.Client,
) -> None:
    # Given a campaign of a few thousand to "news", whose last recipient is carol
    carol = _address("carol")
    others = [_address("n") for _ in range(3000)]
    created = _campaign(api, template_uri, {"news": [*others, carol]}, ahead_s=10)
    campaign_id = created["campaign_id"]
    # Her link, from the campaign file EMS wrote (her email has not gone out yet)
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(
        Bucket=settings.campaigns_bucket, Prefix=f"campaigns/{campaign_id}/part-"
    )
    part = b"".join(
        s3.get_object(Bucket=settings.campaigns_bucket, Key=item["Key"])["Body"].read()
        for item in listed["Contents"]
    )
    [line] = [json.loads(x) for x in part.splitlines() if carol.encode() in x]
    headers = {h["Name"]: h["Value"] for h in line["Content"]["Template"]["Headers"]}
    link = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")

    # When the campaign has started sending, and she unsubscribes from the list
    def started() -> bool:
        return len(_messages_to(localstack_url, _templates(created))) > 0

    eventually(started, deadline_s=60, what="the campaign sending", interval_s=0.5)
    # (paused meanwhile, so that her email waits: the local stack sends 200 a second)
    assert api.post(f"/campaigns/{campaign_id}/pause").status_code == 200
    assert carol not in _messages_to(localstack_url, _templates(created))
    assert public.post(link, content="List-Unsubscribe=One-Click").status_code == 200
    # A sender reads new suppressions every REFRESH_SECONDS: past that, her email is stopped
    time.sleep(REFRESH_SECONDS + 2)
    assert api.post(f"/campaigns/{campaign_id}/resume").status_code == 200

    # Then no email reaches her afterwards, while everyone else gets theirs
    _wait_done(api, campaign_id, deadline_s=600)
    sent = _messages_to(localstack_url, _templates(created))
    assert carol not in sent
    assert len(sent) == len(others)
    assert api.get(f"/campaigns/{campaign_id}/metrics").json()["suppressed"] == 1

    # And a later campaign to the same list rejects her as unsubscribed ...
    again = _campaign(api, template_uri, {"news": [carol, _address("x")]}, ahead_s=3600)
    assert again["rejected_by_reason"] == {"unsubscribed": 1}
    # ... while one to another list sends to her
    other_list = _campaign(api, template_uri, {"offers": [carol]})
    _wait_done(api, other_list["campaign_id"])
    assert carol in _messages_to(localstack_url, _templates(other_list))
    api.post(f"/campaigns/{again['campaign_id']}/cancel")


def test_after_all_campaign_email_no_campaign_reaches_her_but_a_receipt_does(
    api: httpx.Client, template_uri: str, localstack_url: str, public: httpx.Client
) -> None:
    dora = _address("dora")
    created = _campaign(api, template_uri, {"news": [dora]})
    _wait_done(api, created["campaign_id"])
    [message] = _messages_to(localstack_url, _templates(created))[dora]

    # When she chooses "all campaign email" on the link's page
    done = public.post(_link(message), data={"scope": "campaigns"})
    assert done.status_code == 200

    # Then a campaign to any list rejects her as unsubscribed
    later = _campaign(api, template_uri, {"offers": [dora, _address("y")]}, ahead_s=3600)
    assert later["rejected_by_reason"] == {"unsubscribed": 1}
    api.post(f"/campaigns/{later['campaign_id']}/cancel")
    # ... and a transactional receipt still goes out to her
    name = f"receipt-{uuid.uuid4().hex[:6]}"
    template = api.post(
        "/templates", json={"name": name, "subject": "Your receipt", "html": "<p>Thanks</p>"}
    )
    assert template.status_code == 201, template.text
    receipt = api.post("/emails", json={"to": dora, "template": name})
    assert receipt.status_code == 202, receipt.text

    def delivered() -> bool:
        return dora in _messages_to(localstack_url, {f"ems-tx-{name}"})

    eventually(delivered, deadline_s=60, what="the receipt at /_aws/ses")


def test_an_import_of_ten_thousand_addresses_takes_seconds_and_pages_back(
    api: httpx.Client,
) -> None:
    run = uuid.uuid4().hex[:8]
    addresses = [f"imp{i}-{run}@example.org" for i in range(10_000)]
    started = time.monotonic()
    response = api.post(
        "/suppressions", json={"addresses": addresses, "scope": f"list:import-{run}"}
    )
    seconds = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 10_000
    print(f"POST /suppressions of 10,000 addresses: {seconds:.1f} s")  # reported, not asserted

    seen: set[str] = set()
    page: str | None = None
    while True:
        params: dict[str, Any] = {"scope": f"list:import-{run}", "limit": 200}
        if page:
            params["page"] = page
        body = api.get("/suppressions", params=params).json()
        seen.update(s["address"] for s in body["suppressions"])
        page = body["next_page"]
        if page is None:
            break
    assert seen == set(addresses)
