"""`ems email send | bulk | show` against a stand-in API.

The bodies are made by the scheduler's own views (`SentEmailView`, `BulkView`, `EmailView`), so
a field renamed there fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ems_cli.client import MAX_BULK_RECIPIENTS
from ems_scheduler.api.transactional import BulkView, EmailView, SentEmailView
from ems_scheduler.tracking.reads import RecordedEvent
from ems_scheduler.transactional.models import AcceptedEmail, RejectedEmail
from tests.unit.cli.fakes import FakeApi, error_json, json_body, run_ems, sent_email

REQUEST_ID = "tx-20300101-0123456789ab"
EMAIL_ID = f"{REQUEST_ID}-0"
SEND = "POST /emails"
BULK = "POST /emails/bulk"


def _queued(request: httpx.Request) -> httpx.Response:
    """Answers POST /emails as EMS does (202 QUEUED)."""
    to = json_body(request)["to"]
    view = SentEmailView(request_id=REQUEST_ID, email_id=EMAIL_ID, to=to, status="QUEUED")
    return httpx.Response(202, json=view.model_dump(mode="json"))


def _bulk_answer(
    request_id: str = REQUEST_ID, *, replayed: bool = False
) -> Callable[[httpx.Request], httpx.Response]:
    """Answers a bulk request as EMS would: recipients whose address holds "bad" rejected."""

    def answer(request: httpx.Request) -> httpx.Response:
        emails, rejections = [], []
        for index, recipient in enumerate(json_body(request)["recipients"]):
            to = recipient["to"]
            if "bad" in to:
                message = f"{to!r} is not an email address"
                rejections.append(
                    RejectedEmail(index=index, to=to, reason="invalid_address", message=message)
                )
            else:
                emails.append(AcceptedEmail(index=index, to=to, email_id=f"{request_id}-{index}"))
        view = BulkView(
            request_id=request_id,
            accepted=len(emails),
            rejected=len(rejections),
            emails=emails,
            rejections=rejections,
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return httpx.Response(202, json=view.model_dump(mode="json"), headers=headers)

    return answer


def _recipients(count: int, *, bad: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [
        {"to": f"{'bad' if i in bad else 'user'}{i}@example.com", "data": {"n": i}}
        for i in range(count)
    ]


def _write(folder: Path, recipients: list[dict[str, Any]], name: str = "list.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(recipients))
    return path


def _email() -> dict[str, Any]:
    delivery = RecordedEvent(
        "Delivery",
        "2030-01-01T09:00:03.250+00:00",
        "m-1",
        {"eventType": "Delivery", "delivery": {"smtpResponse": "250 2.0.0 OK"}},
    )
    record = {
        "delivered_at": "2030-01-01T09:00:03+00:00",
        "opened_at": "2030-01-01T09:05:00+00:00",
        "opens": 2,
    }
    view = sent_email("transactional", "ann@example.com", record, delivery)
    return EmailView(
        **view.model_dump(),
        email_id=EMAIL_ID,
        request_id=REQUEST_ID,
        template="receipt",
        to="ann@example.com",
    ).model_dump(mode="json")


# --- ems email send --------------------------------------------------------------------------


def test_send_posts_every_option_and_the_key_and_prints_the_email_id(tmp_path: Path) -> None:
    # Given an API that queues the email
    api = FakeApi().on(SEND, _queued)

    # When every option is given
    result = run_ems(
        [
            *("email", "send", "--to", "ann@example.com", "--template", "receipt"),
            *("--data", '{"fname": "Ann", "items": [1, 2]}'),
            *("--from", "shop@example.com", "--configuration-set", "ems-local"),
            *("--tag", "kind=receipt", "--tag", "order=a=b"),
            *("--idempotency-key", "6f1c-42"),
        ],
        api,
        cwd=tmp_path,
    )

    # Then the body holds them by the API's names, the key is the header
    assert result.exit_code == 0, result.output
    (request,) = api.sent(SEND)
    assert json_body(request) == {
        "to": "ann@example.com",
        "template": "receipt",
        "data": {"fname": "Ann", "items": [1, 2]},
        "from": "shop@example.com",
        "configuration_set": "ems-local",
        "tags": {"kind": "receipt", "order": "a=b"},
    }
    assert request.headers["Idempotency-Key"] == "6f1c-42"
    assert f"Queued email {EMAIL_ID} to ann@example.com." in result.stdout
    assert f"ems email show {EMAIL_ID}" in result.stdout
    assert "Replayed" not in result.stdout


def test_send_without_options_sends_only_what_was_given(tmp_path: Path) -> None:
    api = FakeApi().on(SEND, _queued)

    result = run_ems(
        ["email", "send", "--to", "ann@example.com", "-t", "receipt"], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    (request,) = api.sent(SEND)
    assert json_body(request) == {"to": "ann@example.com", "template": "receipt"}
    assert "Idempotency-Key" not in request.headers


def test_send_reads_data_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "ann.json").write_text('{"fname": "Ann"}')
    api = FakeApi().on(SEND, _queued)

    result = run_ems(
        [
            *("email", "send", "--to", "ann@example.com", "-t", "receipt"),
            *("--data", f"@{tmp_path / 'ann.json'}"),
        ],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent(SEND)[0])["data"] == {"fname": "Ann"}


def test_send_reads_data_from_stdin(tmp_path: Path) -> None:
    api = FakeApi().on(SEND, _queued)

    result = run_ems(
        ["email", "send", "--to", "ann@example.com", "-t", "receipt", "--data", "@-"],
        api,
        cwd=tmp_path,
        input='{"fname": "Ann"}',
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent(SEND)[0])["data"] == {"fname": "Ann"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--data", "{fname: Ann}"], "--data is not JSON"),
        (["--data", '["Ann"]'], "--data must be a JSON object"),
        (["--data", "@/nonexistent/ann.json"], "cannot read the --data file /nonexistent/ann.json"),
        (["--data", "@"], "--data @ needs a file name"),
        (["--tag", "kind"], "--tag 'kind' is not NAME=VALUE"),
        (["--tag", "=receipt"], "--tag '=receipt' is not NAME=VALUE"),
        (["--tag", "a=1", "--tag", "a=2"], "--tag a is given twice"),
        (["--idempotency-key", "clé"], "--idempotency-key must be 1 to 255 printable ASCII"),
        (["--idempotency-key", "a b"], "--idempotency-key must be 1 to 255 printable ASCII"),
        (["--idempotency-key", "k" * 256], "--idempotency-key is 256 characters: at most 255"),
    ],
)
def test_send_usage_errors_exit_2_and_send_nothing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    api = FakeApi().on(SEND, _queued)

    result = run_ems(
        ["email", "send", "--to", "ann@example.com", "-t", "receipt", *options], api, cwd=tmp_path
    )

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert api.requests == []


def test_send_says_when_the_answer_was_a_replay(tmp_path: Path) -> None:
    def replayed(request: httpx.Request) -> httpx.Response:
        first = _queued(request)
        return httpx.Response(202, json=first.json(), headers={"Idempotent-Replayed": "true"})

    api = FakeApi().on(SEND, replayed)
    args = ["email", "send", "--to", "ann@example.com", "-t", "receipt"]

    result = run_ems([*args, "--idempotency-key", "k1"], api, cwd=tmp_path)
    as_json = run_ems([*args, "--idempotency-key", "k1", "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert f"Replayed: this Idempotency-Key already queued email {EMAIL_ID}" in result.stdout
    assert "nothing was sent again" in result.stdout
    # --json keeps stdout the API's answer; the replay is said on stderr
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["email_id"] == EMAIL_ID
    assert "Replayed" in as_json.stderr


def test_send_to_a_suppressed_address_prints_the_reason_and_path(tmp_path: Path) -> None:
    api = FakeApi().on(
        SEND,
        error_json(
            400,
            "invalid",
            "the email cannot be sent: see `problems`",
            ("$.to", "suppressed: ann@example.com is on the suppression list"),
        ),
    )

    result = run_ems(
        ["email", "send", "--to", "ann@example.com", "-t", "receipt"], api, cwd=tmp_path
    )

    assert result.exit_code == 1
    assert "the email cannot be sent: see `problems` (HTTP 400 invalid)" in result.stderr
    assert "$.to: suppressed: ann@example.com is on the suppression list" in result.stderr
    assert result.stdout == ""


# --- ems email bulk --------------------------------------------------------------------------


def test_bulk_sends_the_file_and_lists_the_rejections(tmp_path: Path) -> None:
    # Given a JSON array of 4 recipients of which 2 have bad addresses
    recipients = _recipients(4, bad=(1, 3))
    path = _write(tmp_path, recipients)
    api = FakeApi().on(BULK, _bulk_answer())

    # When
    result = run_ems(
        [
            *("email", "bulk", "--template", "notice", "--recipients", str(path)),
            *("--from", "news@example.com", "--tag", "kind=notice"),
            *("--idempotency-key", "n-42"),
        ],
        api,
        cwd=tmp_path,
    )

    # Then one request, with the recipients as in the file and the key as given
    assert result.exit_code == 0, result.output
    (request,) = api.sent(BULK)
    assert json_body(request) == {
        "template": "notice",
        "from": "news@example.com",
        "tags": {"kind": "notice"},
        "recipients": recipients,
    }
    assert request.headers["Idempotency-Key"] == "n-42"
    # and the counts, then each rejection: index in the file, address, reason, message
    out = result.stdout
    assert "Queued 2 emails with template notice; 2 recipients rejected." in out
    assert "Rejected recipients (2)" in out
    rows = [line.strip().split(maxsplit=3) for line in out.splitlines() if "bad" in line]
    assert rows == [
        ["1", "bad1@example.com", "invalid_address", "'bad1@example.com' is not an email address"],
        ["3", "bad3@example.com", "invalid_address", "'bad3@example.com' is not an email address"],
    ]
    assert result.stderr == ""  # one request: no progress


def test_bulk_reads_json_lines_from_stdin(tmp_path: Path) -> None:
    recipients = [{"to": "ann@example.com", "data": {"fname": "Ann"}}, {"to": "bob@example.com"}]
    lines = "\n".join(json.dumps(r) for r in recipients)
    api = FakeApi().on(BULK, _bulk_answer())

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", "-"],
        api,
        cwd=tmp_path,
        input=f"{lines}\n\n",
    )

    assert result.exit_code == 0, result.output
    assert json_body(api.sent(BULK)[0])["recipients"] == recipients
    assert "Queued 2 emails with template notice; 0 recipients rejected." in result.stdout
    assert "Rejected recipients" not in result.stdout


def test_bulk_splits_into_requests_of_1000_with_derived_keys(tmp_path: Path) -> None:
    # Given 2,001 recipients, one bad in each of the first two thousands and the last
    assert MAX_BULK_RECIPIENTS == 1_000
    recipients = _recipients(2_001, bad=(7, 1_005, 2_000))
    path = _write(tmp_path, recipients, "list.jsonl")
    path.write_text("\n".join(json.dumps(r) for r in recipients))
    api = FakeApi().on(BULK, _bulk_answer())

    # When
    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path), "--idempotency-key", "K"],
        api,
        cwd=tmp_path,
    )

    # Then three requests, in order, of 1,000, 1,000 and 1, keyed K-1, K-2, K-3
    assert result.exit_code == 0, result.output
    sent = api.sent(BULK)
    assert [len(json_body(r)["recipients"]) for r in sent] == [1_000, 1_000, 1]
    assert [r.headers["Idempotency-Key"] for r in sent] == ["K-1", "K-2", "K-3"]
    assert [json_body(r)["recipients"][0]["to"] for r in sent] == [
        "user0@example.com",
        "user1000@example.com",
        "bad2000@example.com",
    ]
    # and the rejections are listed by their index in the file, not in their request
    out = result.stdout
    assert "Queued 1,998 emails with template notice in 3 requests; 3 recipients rejected." in out
    assert [line.split()[:2] for line in out.splitlines() if "bad" in line] == [
        ["7", "bad7@example.com"],
        ["1005", "bad1005@example.com"],
        ["2000", "bad2000@example.com"],
    ]
    # with a line of progress per request on stderr
    assert "request 1 of 3: recipients 0 to 999: 999 accepted, 1 rejected" in result.stderr
    assert "request 2 of 3: recipients 1,000 to 1,999: 999 accepted, 1 rejected" in result.stderr
    assert "request 3 of 3: recipients 2,000 to 2,000: 0 accepted, 1 rejected" in result.stderr


def test_bulk_of_exactly_1000_is_one_request_with_the_key_as_given(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_000))
    api = FakeApi().on(BULK, _bulk_answer())

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path), "--idempotency-key", "K"],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    (request,) = api.sent(BULK)
    assert request.headers["Idempotency-Key"] == "K"


def test_bulk_without_a_key_sends_no_key_header(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_001))
    api = FakeApi().on(BULK, _bulk_answer())

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path)], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    assert [("Idempotency-Key" in r.headers) for r in api.sent(BULK)] == [False, False]


def test_bulk_json_merges_the_answers_with_indexes_in_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_002, bad=(1_001,)))
    api = FakeApi().on(BULK, _bulk_answer("r-1"), _bulk_answer("r-2", replayed=True))

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path), "--json"], api, cwd=tmp_path
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["accepted"], body["rejected"]) == (1_001, 1)
    assert [e["index"] for e in body["emails"]] == list(range(1_001))
    assert body["emails"][1_000] == {
        "index": 1_000,
        "to": "user1000@example.com",
        "email_id": "r-2-0",
    }
    assert [(r["index"], r["to"]) for r in body["rejections"]] == [(1_001, "bad1001@example.com")]
    assert body["requests"] == [
        {"request_id": "r-1", "first_index": 0, "recipients": 1_000, "replayed": False},
        {"request_id": "r-2", "first_index": 1_000, "recipients": 2, "replayed": True},
    ]


def test_bulk_says_which_requests_were_replays(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_500))
    api = FakeApi().on(BULK, _bulk_answer("r-1", replayed=True), _bulk_answer("r-2"))

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path), "--idempotency-key", "K"],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert "Replayed: request(s) 1 were answered before" in result.stdout
    assert "request 1 of 2: recipients 0 to 999: 1,000 accepted, 0 rejected (replayed)" in (
        result.stderr
    )


def test_a_failed_request_stops_the_send_and_says_what_was_queued(tmp_path: Path) -> None:
    # Given 2,500 recipients, and an API that refuses the second request (all of it rejected)
    path = _write(tmp_path, _recipients(2_500))
    api = FakeApi().on(
        BULK,
        _bulk_answer("r-1"),
        error_json(
            400,
            "invalid",
            "no recipient can be sent to: see `problems`",
            ("$.recipients[3].to", "suppressed"),
            ("$.template", "unknown"),
        ),
    )

    # When
    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path), "--idempotency-key", "K"],
        api,
        cwd=tmp_path,
    )

    # Then it stopped there (the third request was not sent) with the API's error
    assert result.exit_code == 1
    assert len(api.sent(BULK)) == 2
    err = result.stderr
    assert "no recipient can be sent to: see `problems` (HTTP 400 invalid)" in err
    # its paths count recipients from the start of the file
    assert "$.recipients[1003].to: suppressed" in err
    assert "$.template: unknown" in err
    assert "Request 2 of 3 failed: recipients 1,000 to 1,999 of" in err
    assert "Request 1 queued 1,000 emails" in err
    assert "same --idempotency-key" in err
    # and what the first request queued is still on stdout
    assert "Queued 1,000 emails with template notice; 0 recipients rejected." in result.stdout


def test_a_failed_request_without_a_key_says_where_to_go_on(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_200))
    api = FakeApi().on(BULK, _bulk_answer("r-1"), error_json(503, "unavailable", "try again later"))

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path)], api, cwd=tmp_path
    )

    assert result.exit_code == 1
    assert "would send those emails twice" in result.stderr
    assert "from index 1,000 on" in result.stderr


def test_no_answer_to_a_later_request_says_what_was_queued_before(tmp_path: Path) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    path = _write(tmp_path, _recipients(1_001))
    api = FakeApi().on(BULK, _bulk_answer("r-1"), slow)

    result = run_ems(
        [
            *("email", "bulk", "-t", "notice", "--recipients", str(path), "--json"),
            *("--idempotency-key", "K"),
        ],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 1
    assert "did not answer" in result.stderr
    assert "Request 2 of 2 failed: recipients 1,000 to 1,000" in result.stderr
    assert "same --idempotency-key" in result.stderr
    # the email ids of the first request are still printed for scripts
    body = json.loads(result.stdout)
    assert body["accepted"] == 1_000
    assert body["requests"][0]["request_id"] == "r-1"


def test_a_single_request_error_is_printed_as_the_api_said(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(2))
    api = FakeApi().on(
        BULK, error_json(400, "invalid", "no recipient left", ("$.recipients[1].to", "suppressed"))
    )

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path)], api, cwd=tmp_path
    )

    assert result.exit_code == 1
    assert "$.recipients[1].to: suppressed" in result.stderr
    assert "Request" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"to": "a@example.com"},', "list.json is not JSON"),
        ('{"to": "a@example.com"}\n{"to": oops}\n', "list.json line 2 is not JSON"),
        ('[{"to": "a@example.com"}, "b@example.com"]', "list.json, recipient 1: must be a JSON"),
        ('\n{"to": "a@example.com"}\n{"data": {}}\n', 'line 3 (recipient 1): needs "to"'),
        ('[{"to": "a@example.com", "data": [1]}]', '"data" must be a JSON object'),
        ('[{"to": "a@example.com", "name": "A"}]', "holds 'name': a recipient has only"),
        ("[]", "list.json holds no recipient"),
        ("\n\n", "list.json holds no recipient"),
    ],
)
def test_a_bad_recipients_file_is_a_usage_error_and_sends_nothing(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "list.json"
    path.write_text(content)
    api = FakeApi().on(BULK, _bulk_answer())

    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(path)], api, cwd=tmp_path
    )

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert api.requests == []


def test_an_unreadable_recipients_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_ems(
        ["email", "bulk", "-t", "notice", "--recipients", str(tmp_path / "nope.json")],
        cwd=tmp_path,
    )

    assert result.exit_code == 2
    assert "cannot read the recipients" in result.stderr
    assert "nope.json" in result.stderr


def test_a_key_too_long_for_its_derived_keys_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _recipients(1_001))
    api = FakeApi()

    result = run_ems(
        [
            *("email", "bulk", "-t", "notice", "--recipients", str(path)),
            *("--idempotency-key", "k" * 254),
        ],
        api,
        cwd=tmp_path,
    )

    assert result.exit_code == 2
    assert "--idempotency-key is 254 characters: at most 253" in result.stderr
    assert api.requests == []


# --- ems email show --------------------------------------------------------------------------


def test_show_gives_the_status_address_template_times_and_events(tmp_path: Path) -> None:
    api = FakeApi().on(f"GET /emails/{EMAIL_ID}", httpx.Response(200, json=_email()))

    result = run_ems(["email", "show", EMAIL_ID], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Email {EMAIL_ID}" in out
    facts = {
        line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1].strip()
        for line in out.splitlines()[1:]
        if len(line.split(maxsplit=1)) == 2
    }
    assert facts["Status"] == "OPENED"
    assert facts["To"] == "ann@example.com"
    assert facts["Template"] == "receipt"
    assert facts["Request"] == REQUEST_ID
    assert "2030-01-01T09:00:03Z" in facts["Delivered"]
    assert facts["Opens"] == "2"
    delivery = next(line for line in out.splitlines() if "Delivery " in line)
    assert "2030-01-01 09:00:03.250" in delivery
    assert "250 2.0.0 OK" in delivery


def test_show_json_is_the_api_answer(tmp_path: Path) -> None:
    body = _email()
    api = FakeApi().on(f"GET /emails/{EMAIL_ID}", httpx.Response(200, json=body))

    result = run_ems(["email", "show", EMAIL_ID, "--json"], api, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_show_an_unknown_email_prints_the_api_message(tmp_path: Path) -> None:
    api = FakeApi().on("GET /emails/tx-nope", error_json(404, "not_found", "no email 'tx-nope'"))

    result = run_ems(["email", "show", "tx-nope"], api, cwd=tmp_path)

    assert result.exit_code == 1
    assert "no email 'tx-nope' (HTTP 404 not_found)" in result.stderr


def test_an_email_id_stays_one_path_segment(tmp_path: Path) -> None:
    api = FakeApi()

    run_ems(["email", "show", "../templates/x"], api, cwd=tmp_path)

    assert api.requests[0].url.raw_path == b"/emails/..%2Ftemplates%2Fx"


def test_every_command_explains_itself_with_an_example(tmp_path: Path) -> None:
    for command in ("send", "bulk", "show"):
        result = run_ems(["email", command, "--help"], cwd=tmp_path, options=())
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, command
