"""The console's pages with Flask's test client, around fakes of the API's services."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta
from html import unescape

import pytest
from flask.testing import FlaskClient

from ems_common.campaigns import (
    Campaign,
    CampaignStatus,
    Held,
    Pause,
    PausedBy,
    Recount,
    RecountOutcome,
    utc_now,
)
from ems_common.dal.items import from_item, to_item
from ems_common.dal.metrics import CampaignNumbers
from ems_common.suppressions import Suppression, SuppressionReason
from ems_scheduler.tracking.reads import RecordedEvent
from tests.unit.scheduler.conftest import API_KEY
from tests.unit.scheduler.console.conftest import NOW, World, campaign, csrf_of, sign_in


def _text(response: object) -> str:
    return unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _cell(page: str, segment: str, metric: str) -> str:
    found = re.search(rf'data-segment="{segment}" data-metric="{metric}">([^<]*)', page)
    assert found, f"no cell {segment}/{metric}"
    return found.group(1).strip()


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console",
        "/console/campaigns",
        "/console/campaigns/spring",
        "/console/campaigns/spring/live",
        "/console/campaigns/spring/rejections.csv",
        "/console/suppressions",
        "/console/templates/receipt",
        "/console/dlq/send",
        "/console/new",
    ],
)
def test_every_console_page_sends_a_stranger_to_sign_in(anonymous: FlaskClient, path: str) -> None:
    response = anonymous.get(path)

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/sign-in")


def test_an_api_key_header_opens_no_console_page(anonymous: FlaskClient) -> None:
    response = anonymous.get("/console/campaigns", headers={"X-Api-Key": API_KEY})

    assert response.status_code == 303  # the console takes its session, never the header


def test_htmx_is_told_where_to_sign_in(anonymous: FlaskClient) -> None:
    response = anonymous.get("/console/campaigns/spring/live", headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/console/sign-in")


def test_signing_in_with_the_key_starts_a_strict_httponly_session(
    anonymous: FlaskClient,
) -> None:
    response = sign_in(anonymous)

    assert response.status_code == 303
    assert response.headers["Location"] == "/console/campaigns"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ems_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert "Expires=" in cookie
    assert "Secure" not in cookie  # the test client is localhost: plain http works there
    assert anonymous.get("/console/campaigns").status_code == 200


def test_the_cookie_is_secure_away_from_localhost(anonymous: FlaskClient) -> None:
    page = anonymous.get("/console/sign-in", base_url="https://ems.example.com")
    response = anonymous.post(
        "/console/sign-in",
        data={"api_key": API_KEY, "csrf_token": csrf_of(page.get_data(as_text=True))},
        base_url="https://ems.example.com",
        headers={"Referer": "https://ems.example.com/console/sign-in"},
    )

    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_key_is_refused_and_says_so(anonymous: FlaskClient) -> None:
    response = sign_in(anonymous, "not-the-key")

    assert response.status_code == 401
    assert "That is not the API key" in _text(response)
    assert anonymous.get("/console/campaigns").status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for_and_nowhere_else(
    anonymous: FlaskClient,
) -> None:
    asked = anonymous.get("/console/campaigns/spring").headers["Location"]
    page = anonymous.get(asked).get_data(as_text=True)
    response = anonymous.post(
        "/console/sign-in",
        data={"api_key": API_KEY, "csrf_token": csrf_of(page), "next": "/console/campaigns/spring"},
    )
    assert response.headers["Location"] == "/console/campaigns/spring"

    # (each sign-in starts a fresh session, and a fresh CSRF token)
    page = anonymous.get("/console/campaigns").get_data(as_text=True)
    elsewhere = anonymous.post(
        "/console/sign-in",
        data={"api_key": API_KEY, "csrf_token": csrf_of(page), "next": "https://evil.example/"},
    )
    assert elsewhere.headers["Location"] == "/console/campaigns"


def test_a_form_without_its_csrf_token_is_refused(anonymous: FlaskClient) -> None:
    assert anonymous.post("/console/sign-in", data={"api_key": API_KEY}).status_code == 400
    assert anonymous.get("/console/campaigns").status_code == 303


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
    console: FlaskClient, world: World
) -> None:
    response = console.post("/console/campaigns/spring/pause", data={})

    assert response.status_code == 400
    assert "The CSRF token is missing" in _text(response)
    assert world.campaigns.campaigns["spring"].status is CampaignStatus.SENDING


def test_sign_out_ends_the_session(console: FlaskClient) -> None:
    page = console.get("/console/campaigns").get_data(as_text=True)

    response = console.post("/console/sign-out", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    assert console.get("/console/campaigns").status_code == 303


def test_static_files_are_public_and_nothing_else_is(anonymous: FlaskClient) -> None:
    assert anonymous.get("/console/static/console.css").status_code == 200
    assert anonymous.get("/console/static/htmx-2.0.11.min.js").status_code == 200
    assert anonymous.get("/console/static/../blueprint.py").status_code in {303, 404}
    assert anonymous.get("/console/staticx/console.css").status_code == 303


# --- campaigns ------------------------------------------------------------------------------


def test_the_campaign_list_shows_numbers_newest_first_and_filters(console: FlaskClient) -> None:
    page = _text(console.get("/console/campaigns"))

    order = re.findall(r'<tr data-campaign="([^"]+)"', page)
    assert order == ["later", "spring", "winter"]
    spring = page[page.index('data-campaign="spring"') :]
    assert '<td class="n" data-metric="sent">79</td>' in spring
    assert '<td class="n" data-metric="delivered">70</td>' in spring
    assert '<td class="n" data-metric="bounce_rate">6.33%</td>' in spring
    assert '<td class="n" data-metric="complaint_rate">1.27%</td>' in spring

    filtered = _text(console.get("/console/campaigns?status=COMPLETED"))
    assert re.findall(r'<tr data-campaign="([^"]+)"', filtered) == ["winter"]


def test_a_campaign_page_shows_the_apis_numbers_per_segment_and_refreshes_while_sending(
    console: FlaskClient,
) -> None:
    response = console.get("/console/campaigns/spring")
    page = _text(response)

    assert response.status_code == 200
    assert 'id="campaign-status">SENDING' in page
    assert 'hx-trigger="every 5s"' in page
    assert _cell(page, "total", "sent") == "79"
    assert _cell(page, "gold", "sent") == "78"
    assert _cell(page, "silver", "sent") == "1"
    assert _cell(page, "total", "bounced") == "5"
    assert _cell(page, "gold", "opened") == "35"
    # the chart's data: every minute from the first to the last, quiet ones at 0
    assert '"sent":[50,0,29,0]' in page
    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_finished_campaign_does_not_refresh(console: FlaskClient) -> None:
    page = _text(console.get("/console/campaigns/winter"))

    assert "hx-trigger" not in page
    assert "No events yet" in page


def test_the_live_part_alone_is_served_for_htmx(console: FlaskClient) -> None:
    page = _text(console.get("/console/campaigns/spring/live"))

    assert '<section id="live"' in page
    assert "<html" not in page


def test_an_unknown_or_malformed_campaign_is_a_404_page(console: FlaskClient) -> None:
    assert console.get("/console/campaigns/nope").status_code == 404
    assert console.get("/console/campaigns/" + "x" * 300).status_code == 404
    assert console.get("/console/campaigns/spring/launch").status_code == 404


def test_rejected_recipients_download_as_csv(console: FlaskClient) -> None:
    response = console.get("/console/campaigns/spring/rejections.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.get_data(as_text=True).splitlines() == [
        "segment,to_address,reason",
        "gold,not-an-address,invalid_address",
        "silver,ann@example.com,duplicate",
    ]


def test_expired_rejection_details_are_said_to_be_gone_and_the_counts_stay(
    console: FlaskClient, world: World
) -> None:
    deleted_on = utc_now() - timedelta(days=1)
    world.campaigns.campaigns["winter"].rejections_expire_at = deleted_on

    page = _text(console.get("/console/campaigns/winter"))
    download = console.get("/console/campaigns/winter/rejections.csv")

    assert 'id="rejections-expired"' in page
    assert "addresses were deleted on " + deleted_on.strftime("%Y-%m-%d") in page
    assert "not-an-address" not in page
    assert "2 rejected in all." in page  # the counts by reason stay
    assert "rejections.csv" not in page
    assert download.status_code == 410
    assert "addresses were deleted on" in _text(download)
    kept = _text(console.get("/console/campaigns/spring"))
    assert 'id="rejections-expiry">Their addresses are kept until 2030-01-31 09:00:00 UTC' in kept


def test_a_paused_campaign_says_who_paused_it_why_and_what_resuming_does(
    console: FlaskClient, world: World
) -> None:
    world.campaigns.campaigns["spring"] = campaign(
        "spring",
        CampaignStatus.PAUSED,
        pause=Pause(
            by=PausedBy.BRAKE,
            reason="bounce rate 6.3% over 5% of 79 sent",
            paused_at=NOW,
            resume_to="LAUNCHING",
        ),
    )

    page = _text(console.get("/console/campaigns/spring"))

    assert "Paused by brake (the reputation brake" in page
    assert "at 2030-01-01 09:00:00 UTC" in page
    assert '<span id="pause-why">bounce rate 6.3% over 5% of 79 sent</span>' in page
    assert "Resuming goes back to LAUNCHING" in page
    assert 'id="action-resume"' in page
    assert 'id="action-pause"' not in page


def test_a_held_sending_campaign_and_a_settled_one_say_so(
    console: FlaskClient, world: World
) -> None:
    world.campaigns.campaigns["spring"].held = Held(reason="SES sending is paused", at=NOW)
    world.campaigns.campaigns["winter"].settled = "3 emails had no final event after 24 h"
    world.campaigns.campaigns["winter"].held = Held(reason="old news", at=NOW)

    sending = _text(console.get("/console/campaigns/spring"))
    completed = _text(console.get("/console/campaigns/winter"))

    assert 'id="held-reason">Its email waits on SES (last held 2030-01-01 09:00:00 UTC)' in sending
    assert "SES sending is paused" in sending
    assert "3 emails had no final event after 24 h" in completed
    assert "counted unconfirmed" in completed
    assert "old news" not in completed  # held only means something while SENDING


def test_ambiguous_and_unconfirmed_rows_show_only_when_some_are_counted(
    console: FlaskClient, world: World
) -> None:
    quiet = _text(console.get("/console/campaigns/spring"))
    world.tracking.numbers["winter"] = CampaignNumbers(
        total=Counter(sent=10, ambiguous=2, unconfirmed=1, finished=10),
        segments={"gold": Counter(sent=10, ambiguous=2, unconfirmed=1, finished=10)},
    )

    page = _text(console.get("/console/campaigns/winter"))

    assert 'data-metric="ambiguous"' not in quiet
    assert 'data-metric="unconfirmed"' not in quiet
    assert _cell(page, "total", "ambiguous") == "2"
    assert _cell(page, "gold", "unconfirmed") == "1"
    assert _cell(page, "silver", "ambiguous") == "0"
    assert 'id="ambiguous-meaning"' in page
    assert 'id="unconfirmed-meaning"' in page


def test_the_campaign_list_pages_with_the_apis_sealed_tokens(
    console: FlaskClient, world: World
) -> None:
    for n in range(30):
        name = f"bulk-{n:02}"
        world.campaigns.campaigns[name] = campaign(name, CampaignStatus.COMPLETED)

    first = _text(console.get("/console/campaigns"))
    token = re.search(r'rel="next" href="/console/campaigns\?page=([^"]+)"', first)
    assert token, "no next page"
    second = _text(console.get(f"/console/campaigns?page={token.group(1)}"))
    forged = console.get("/console/campaigns?page=" + token.group(1)[:-4] + "AAAA")

    shown = re.findall(r'<tr data-campaign="([^"]+)"', first + second)
    assert sorted(shown) == sorted(world.campaigns.campaigns)
    assert "ann@example.com" not in token.group(1)  # a token tells nothing of where it starts
    assert forged.status_code == 400
    assert "start again without `page`" in _text(forged)


def test_pause_and_resume_go_through_a_confirmation(console: FlaskClient, world: World) -> None:
    page = _text(console.get("/console/campaigns/spring"))
    assert 'href="/console/campaigns/spring/pause"' in page
    assert 'id="action-resume"' not in page

    confirm = _text(console.get("/console/campaigns/spring/pause"))
    assert "Pause campaign spring?" in confirm
    assert world.campaigns.campaigns["spring"].status is CampaignStatus.SENDING

    done = console.post("/console/campaigns/spring/pause", data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303
    after = _text(console.get(done.headers["Location"]))
    assert 'id="campaign-status">PAUSED' in after
    assert "Paused by operator" in after
    assert 'id="action-resume"' in after

    confirm = _text(console.get("/console/campaigns/spring/resume"))
    console.post("/console/campaigns/spring/resume", data={"csrf_token": csrf_of(confirm)})
    assert world.campaigns.campaigns["spring"].status is CampaignStatus.SENDING


def test_a_refused_change_says_why(console: FlaskClient) -> None:
    confirm = _text(console.get("/console/campaigns/winter/pause"))
    assert "cannot be paused" in confirm

    done = console.post("/console/campaigns/winter/pause", data={"csrf_token": csrf_of(confirm)})
    page = _text(console.get(done.headers["Location"]))
    assert "Not done: campaign winter is COMPLETED: pause needs" in page


def test_reschedule_sends_the_new_date(console: FlaskClient, world: World) -> None:
    confirm = _text(console.get("/console/campaigns/later/reschedule"))
    assert '<label for="date">' in confirm

    console.post(
        "/console/campaigns/later/reschedule",
        data={"csrf_token": csrf_of(confirm), "date": "2031-01-01T09:00:00+00:00"},
    )
    assert world.campaigns.rescheduled == ["2031-01-01T09:00:00+00:00"]


def test_a_recipient_shows_its_email_and_its_suppressions(
    console: FlaskClient, world: World
) -> None:
    world.tracking.records[("spring", "bob@example.com")] = {
        "state": "SENT",
        "segment_id": "gold",
        "sent_at": "2030-01-01T09:00:02+00:00",
        "delivered_at": "2030-01-01T09:00:04+00:00",
    }
    world.suppression_table.add(
        Suppression(
            address="bob@example.com", scope="campaigns", reason=SuppressionReason.COMPLAINT
        )
    )

    page = _text(console.get("/console/campaigns/spring/recipient?address=Bob@Example.com"))

    assert 'id="recipient-status">DELIVERED' in page
    assert "2030-01-01 09:00:04 UTC" in page
    assert "<td>campaigns</td><td>complaint</td>" in page

    console.post(
        "/console/suppressions/remove",
        data={
            "csrf_token": csrf_of(page),
            "address": "bob@example.com",
            "scope": "campaigns",
            "next": "/console/campaigns/spring/recipient?address=bob@example.com",
        },
    )
    assert world.suppression_table.of("bob@example.com") == []


def test_a_recipients_history_is_its_records_times_and_counts_and_its_kept_events(
    console: FlaskClient, world: World
) -> None:
    # Send, Delivery, Open and Click leave only times and counts on the record; a complaint is
    # also kept as SES published it
    world.tracking.records[("spring", "cy@example.com")] = {
        "segment_id": "gold",
        "ses_message_id": "m-1",
        "sent_at": "2030-01-01T09:00:02+00:00",
        "delivered_at": "2030-01-01T09:00:04+00:00",
        "opened_at": "2030-01-01T09:05:00+00:00",
        "opens": 3,
        "clicked_at": "2030-01-01T09:06:00+00:00",
        "clicks": 2,
        "complained_at": "2030-01-01T10:00:00+00:00",
    }
    complaint = {"eventType": "Complaint", "complaint": {"complaintFeedbackType": "abuse"}}
    world.tracking.kept[("spring", "cy@example.com")] = [
        RecordedEvent("Complaint", "2030-01-01T10:00:00+00:00", "m-1", complaint)
    ]

    page = _text(console.get("/console/campaigns/spring/recipient?address=cy@example.com"))

    assert 'id="recipient-status">COMPLAINED' in page
    for label, moment in (
        ("Sent", "09:00:02"),
        ("Delivered", "09:00:04"),
        ("First opened", "09:05:00"),
        ("First clicked", "09:06:00"),
        ("Complained", "10:00:00"),
    ):
        assert f"<dt>{label}</dt><dd>2030-01-01 {moment} UTC</dd>" in page
    assert '<dd id="recipient-opens">3</dd>' in page
    assert '<dd id="recipient-clicks">2</dd>' in page
    kept = page[page.index('<ol id="recipient-events">') : page.index("</ol>")]
    assert re.findall(r"<strong>([^<]+)</strong>", kept) == ["Complaint"]
    assert '"complaintFeedbackType": "abuse"' in kept


def test_a_recipient_without_kept_events_says_where_its_history_is(
    console: FlaskClient, world: World
) -> None:
    world.tracking.records[("spring", "dee@example.com")] = {
        "segment_id": "gold",
        "sent_at": "2030-01-01T09:00:02+00:00",
        "delivered_at": "2030-01-01T09:00:04+00:00",
    }

    page = _text(console.get("/console/campaigns/spring/recipient?address=dee@example.com"))

    assert 'id="recipient-status">DELIVERED' in page
    assert '<p id="recipient-events">None kept for this email.</p>' in page
    assert "Sends, deliveries, opens and clicks show as the times and counts above" in page


def test_a_recipient_with_no_record_yet_says_why_there_may_be_none(
    console: FlaskClient, world: World
) -> None:
    # A sent campaign email has no record until the tracker applies its first SES event
    sending = _text(console.get("/console/campaigns/spring/recipient?address=eve@example.com"))
    world.campaigns.campaigns["winter"].settled = "3 emails had no final event after 24 h"
    settled = _text(console.get("/console/campaigns/winter/recipient?address=eve@example.com"))

    assert "SES's first event for it has not come in yet" in sending
    assert "the campaign is SENDING" in sending
    assert "SES's events for it never came" in settled
    assert "counted unconfirmed" in settled


def test_a_recounted_campaign_is_listed_and_shown_as_any_other(
    console: FlaskClient, world: World
) -> None:
    # As the store gives it back: the reconciler's recount and the compile's suppression read
    recounted = campaign(
        "recounted",
        CampaignStatus.SENDING,
        suppressions_as_of=NOW - timedelta(minutes=5),
        recount=Recount(
            spell=(76, NOW),
            started_at=NOW,
            counters={"gold": {"delivered": 60}},
            records={"gold": {"delivered": 70}},
            counted_at=NOW + timedelta(seconds=3),
            outcome=RecountOutcome.CORRECTED,
        ),
    )
    stored = from_item(to_item(recounted.model_dump(mode="json")))
    world.campaigns.campaigns["recounted"] = Campaign.model_validate(stored)

    listed = _text(console.get("/console/campaigns?status=SENDING"))
    shown = console.get("/console/campaigns/recounted")

    assert re.findall(r'<tr data-campaign="([^"]+)"', listed) == ["recounted", "spring"]
    assert shown.status_code == 200
    assert 'id="campaign-status">SENDING' in _text(shown)


# --- suppressions ---------------------------------------------------------------------------


def test_suppressions_are_added_searched_and_listed_by_scope(
    console: FlaskClient, world: World
) -> None:
    page = _text(console.get("/console/suppressions"))

    response = console.post(
        "/console/suppressions",
        data={
            "csrf_token": csrf_of(page),
            "addresses": "ann@example.com\nBen@Example.com\n",
            "scope": "list",
            "list_name": "vip",
            "reason": "manual",
            "detail": "asked by phone",
        },
    )

    assert response.status_code == 303
    listed = _text(console.get(response.headers["Location"]))
    assert "Suppressed in list:vip: 2 added, 0 already there." in listed
    assert '<th scope="row">ben@example.com</th><td>list:vip</td>' in listed
    found = _text(console.get("/console/suppressions?address=ann@example.com"))
    assert "asked by phone" in found
    assert "ben@example.com" not in found


def test_bad_addresses_are_named_by_line_and_none_is_added(
    console: FlaskClient, world: World
) -> None:
    page = _text(console.get("/console/suppressions"))

    response = console.post(
        "/console/suppressions",
        data={"csrf_token": csrf_of(page), "addresses": "ok@example.com\nnope", "scope": "all"},
    )

    listed = _text(console.get(response.headers["Location"]))
    assert "line 2:" in listed
    assert world.suppression_table.items == {}


def test_a_csv_import_takes_its_columns_and_the_forms_defaults(
    console: FlaskClient, world: World
) -> None:
    page = _text(console.get("/console/suppressions"))
    csv_text = "address,scope,reason\nann@example.com,,\nben@example.com,campaigns,complaint\n"

    response = console.post(
        "/console/suppressions/import",
        data={
            "csrf_token": csrf_of(page),
            "scope": "all",
            "reason": "manual",
            "file": (io.BytesIO(csv_text.encode()), "list.csv"),
        },
        content_type="multipart/form-data",
    )

    listed = _text(console.get(response.headers["Location"]))
    assert "Imported 2 addresses: 2 added, 0 already suppressed." in listed
    assert {
        (s.address, s.scope, s.reason.value) for s in world.suppression_table.items.values()
    } == {
        ("ann@example.com", "all", "manual"),
        ("ben@example.com", "campaigns", "complaint"),
    }


# --- templates, dead letters, new campaigns ----------------------------------------------------


def test_a_template_preview_is_rendered_with_sample_data(console: FlaskClient) -> None:
    page = _text(console.get("/console/templates/receipt"))
    assert 'Subject: <strong id="preview-subject">Your receipt Sample order</strong>' in page

    mine = console.post(
        "/console/templates/receipt",
        data={"csrf_token": csrf_of(page), "data": '{"order": "A-17"}'},
    )
    assert "Your receipt A-17" in _text(mine)
    assert 'sandbox srcdoc="' in mine.get_data(as_text=True)

    bad = console.post(
        "/console/templates/receipt", data={"csrf_token": csrf_of(page), "data": "[1]"}
    )
    assert "must be a JSON object" in _text(bad)
    assert console.get("/console/templates/nope").status_code == 404


def test_dead_letters_are_counted_peeked_and_redriven(console: FlaskClient, world: World) -> None:
    assert '<a href="/console/dlq/send">send</a></th><td class="n">1</td>' in _text(
        console.get("/console/dlq")
    )
    page = _text(console.get("/console/dlq/send"))
    assert "SES refused: AccessDenied" in page

    response = console.post("/console/dlq/send/redrive", data={"csrf_token": csrf_of(page)})

    assert world.dead_letters.redriven == ["send"]
    assert "Redrive started" in _text(console.get(response.headers["Location"]))
    assert console.get("/console/dlq/nope").status_code == 404


def test_a_new_campaign_is_created_from_an_upload_or_a_presigned_one(
    console: FlaskClient, world: World
) -> None:
    response = console.get("/console/new")
    page = _text(response)
    assert 'action="https://assets.s3.amazonaws.com/"' in page
    assert "/console/static/uploaded.html" in page
    assert (
        "form-action 'self' https://assets.s3.amazonaws.com"
        in response.headers["Content-Security-Policy"]
    )

    small = console.post(
        "/console/new",
        data={"csrf_token": csrf_of(page), "candidate": (io.BytesIO(b'{"x": 1}'), "c.json")},
        content_type="multipart/form-data",
    )
    large = console.post(
        "/console/new",
        data={
            "csrf_token": csrf_of(page),
            "s3_uri": "s3://assets/candidates/x.json",
            "campaign_id": "big",
        },
    )

    assert small.headers["Location"] == "/console/campaigns/later"
    assert large.status_code == 303
    assert world.campaigns.created == [
        b'{"x": 1}',
        b'{"candidateS3Uri":"s3://assets/candidates/x.json","campaign_id":"big"}',
    ]


@pytest.mark.parametrize(
    "path", ["/console/suppressions", "/console/campaigns/spring", "/console/new"]
)
def test_pages_are_made_for_small_screens_and_keyboards(console: FlaskClient, path: str) -> None:
    page = _text(console.get(path))

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert 'class="skip" href="#main"' in page
    # every control has a label
    for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        if 'type="hidden"' in control:
            continue
        control_id = re.search(r'id="([^"]+)"', control)
        assert control_id, control
        assert f'for="{control_id.group(1)}"' in page, control


def test_no_console_route_is_served_without_the_session(anonymous: FlaskClient) -> None:
    # Every route the app has under /console, each method: only the sign-in page and the static
    # files answer a stranger; everything else sends them to sign in.
    app = anonymous.application
    served = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = anonymous.open(path, method=method)
            if response.status_code != 303:
                served.append((method, rule.rule, response.status_code))
    assert served == [
        ("GET", "/console/sign-in", 200),
        ("POST", "/console/sign-in", 400),  # no CSRF token: refused before the key is read
    ]
    # static files are public by their name alone (a file name with an extension)
    assert anonymous.get("/console/static/missing.css").status_code == 404


def test_a_too_large_upload_says_to_use_s3(console: FlaskClient) -> None:
    page = _text(console.get("/console/new"))

    response = console.post(
        "/console/new",
        data={"csrf_token": csrf_of(page), "candidate": (io.BytesIO(b"x" * 5000), "c.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 413  # the test settings take 2,048 bytes
    assert "upload it to S3" in _text(response)


def test_an_overlong_address_is_refused_politely(console: FlaskClient) -> None:
    long_address = "a" * 300 + "@example.com"

    found = console.get(f"/console/suppressions?address={long_address}")
    recipient = console.get(f"/console/campaigns/spring/recipient?address={long_address}")

    assert found.status_code == 200
    assert "at most 254 characters" in _text(found)
    assert recipient.status_code == 303
