"""The engine end to end: lines, parts, manifest, rejections, and the campaign's problems."""

import dataclasses
import hashlib
import io
import logging
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from typing import IO, Any

import orjson
import pytest
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ems_common.formats import CampaignFileLine
from ems_common.suppressions import ALL, CAMPAIGNS, Suppression
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.compiler import (
    SES_TEMPLATE_MAX_BYTES,
    CampaignManifest,
    CandidateChangedError,
    CompiledCampaign,
    CompileSettings,
    RejectionReason,
    compile_campaign,
)
from ems_scheduler.campaigns.compiler import compile as compile_module
from ems_scheduler.campaigns.compiler.blocklist import Blocklist
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys, UnsubscribeLinks
from tests.unit.scheduler.campaigns.compiler_fakes import (
    BUCKET,
    DEFAULT_HTML,
    DEFAULT_TEMPLATE,
    NOW,
    SETTINGS,
    Sink,
    Templates,
    candidate,
    opener,
    recipient,
    segment,
)

PLAIN_TEMPLATE = f"s3://{BUCKET}/templates/plain.html"
PLAIN_HTML = "<html><head><title>Plain</title></head><body><p>Hello</p></body></html>"


def compile_document(
    document: dict[str, Any] | bytes | Callable[[], IO[bytes]],
    *,
    sink: Sink | None = None,
    templates: Templates | None = None,
    compile_settings: CompileSettings = SETTINGS,
    **options: Any,
) -> tuple[CompiledCampaign, Sink]:
    sink = sink or Sink()
    open_candidate = document if callable(document) else opener(document)
    result = compile_campaign(
        open_candidate,
        settings=compile_settings,
        templates=templates
        or Templates({DEFAULT_TEMPLATE: DEFAULT_HTML, PLAIN_TEMPLATE: PLAIN_HTML}),
        sink=sink,
        now=NOW,
        **options,
    )
    return result, sink


def problems_of(document: dict[str, Any], **options: Any) -> list[tuple[str, str]]:
    sink = Sink()
    with pytest.raises(InvalidCandidateError) as caught:
        compile_document(document, sink=sink, **options)
    assert sink.parts == {}, "nothing may be written for a rejected campaign"
    return [(problem["path"], problem["message"]) for problem in caught.value.problems]


def fan(count: int, domain: str = "example.com", **fields: str) -> list[dict[str, str]]:
    return [recipient(f"user{index}@{domain}", **fields) for index in range(count)]


PERSON = {"fname": "Ann", "unsub_link": "https://example.com/u/1"}


# --- lines, parts, manifest --------------------------------------------------------------------


def test_lines_are_the_campaign_file_models_lines_byte_for_byte() -> None:
    # Given two segments with their own sender, configuration set and subject
    document = candidate(
        segment(
            "vip",
            recipient("Ann@Example.COM", fname='Zoë "Z" \\o/', unsub_link="https://x/u?a=1&b=2"),
            recipient("bob@example.org", unsub_link="https://x/u/2", fname="Bob\n\t</script>"),
            **{"from": "VIP Desk <vip@mail.example.com>", "configuration_set": "vip-set"},
        ),
        segment("rest", recipient("cy@bücher.de", fname="Cy", unsub_link="u", extra="\u2028")),
        subject="Summer sale",
    )

    # When it is compiled
    result, sink = compile_document(document)

    # Then every line is exactly what CampaignFileLine writes for that recipient
    names = {entry.list_name: entry.template_name for entry in result.manifest.segments}
    expected = [
        CampaignFileLine.for_recipient(
            from_email_address="VIP Desk <vip@mail.example.com>",
            to_address="Ann@example.com",
            template_name=names["vip"],
            template_data={"fname": 'Zoë "Z" \\o/', "unsub_link": "https://x/u?a=1&b=2"},
            campaign_id="summer-sale",
            segment_id="vip",
            configuration_set_name="vip-set",
        ),
        CampaignFileLine.for_recipient(
            from_email_address="VIP Desk <vip@mail.example.com>",
            to_address="bob@example.org",
            template_name=names["vip"],
            template_data={"unsub_link": "https://x/u/2", "fname": "Bob\n\t</script>"},
            campaign_id="summer-sale",
            segment_id="vip",
            configuration_set_name="vip-set",
        ),
        CampaignFileLine.for_recipient(
            from_email_address=SETTINGS.default_from,
            to_address="cy@xn--bcher-kva.de",
            template_name=names["rest"],
            template_data={"fname": "Cy", "unsub_link": "u", "extra": "\u2028"},
            campaign_id="summer-sale",
            segment_id="rest",
            configuration_set_name=SETTINGS.default_configuration_set,
        ),
    ]
    assert sink.lines() == [line.to_json_line().encode() for line in expected]
    assert all(CampaignFileLine.from_json_line(line) for line in sink.lines())


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(_TEXT.filter(lambda key: key != "to_address"), _TEXT, max_size=5),
    local=st.from_regex(r"[A-Za-z0-9_+-]{1,12}", fullmatch=True),
)
def test_any_personalization_data_gives_the_models_line(data: dict[str, str], local: str) -> None:
    document = candidate(
        segment("s", {"to_address": f"{local}@Example.org", **data}),
        templateS3Uri=PLAIN_TEMPLATE,
    )

    result, sink = compile_document(document)

    # The domain lower-cased; the local part kept, but for RFC 2142's role names (NEWS@, ...),
    # which email-validator lower-cases
    kept = local.lower() if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES else local
    expected = CampaignFileLine.for_recipient(
        from_email_address=SETTINGS.default_from,
        to_address=f"{kept}@example.org",
        template_name=result.templates[0].name,
        template_data=data,
        campaign_id="summer-sale",
        segment_id="s",
        configuration_set_name=SETTINGS.default_configuration_set,
    )
    assert sink.lines() == [expected.to_json_line().encode()]


def test_parts_hold_part_lines_each_and_the_manifest_describes_them() -> None:
    document = candidate(
        segment("a", *fan(5, **PERSON)), segment("b", *fan(2, "b.example", **PERSON))
    )

    result, sink = compile_document(document)  # part_lines=3

    manifest = result.manifest
    assert [(part.index, part.lines) for part in manifest.parts] == [(1, 3), (2, 3), (3, 1)]
    for part in manifest.parts:
        data = sink.parts[part.index]
        assert part.bytes == len(data)
        assert part.sha256 == hashlib.sha256(data).hexdigest()
        assert data.endswith(b"\n")
        assert data.count(b"\n") == part.lines
    assert manifest.part_lines == 3
    assert manifest.campaign_id == result.campaign_id == "summer-sale"
    assert len(sink.lines()) == manifest.totals.accepted == 7
    assert CampaignManifest.from_json(manifest.to_json()) == manifest


def test_a_campaign_with_nothing_to_send_writes_no_part() -> None:
    document = candidate(segment("a"), segment("b", recipient("not-an-address", **PERSON)))

    result, sink = compile_document(document)

    assert sink.parts == {}
    assert result.manifest.parts == []
    assert result.manifest.totals.rejected == 1


@pytest.mark.parametrize("in_flight", [0, 1, 3])
def test_parts_are_written_in_order_whatever_the_queue(in_flight: int) -> None:
    document = candidate(segment("a", *fan(20, **PERSON)))
    compile_settings = dataclasses.replace(SETTINGS, part_lines=2, parts_in_flight=in_flight)

    result, sink = compile_document(document, compile_settings=compile_settings)

    assert list(sink.parts) == list(range(1, 11))
    assert [part.index for part in result.manifest.parts] == list(range(1, 11))


def test_a_failing_sink_stops_the_compile_with_its_error() -> None:
    document = candidate(segment("a", *fan(20, **PERSON)))
    sink = Sink(fail_at=2)

    with pytest.raises(OSError, match="upload of part 2 failed"):
        compile_document(document, sink=sink)

    assert 3 not in sink.parts


# --- resolution: templates, subjects, senders --------------------------------------------------


def test_segments_resolve_template_subject_sender_and_configuration_set() -> None:
    other = f"s3://{BUCKET}/templates/other.html"
    templates = Templates({DEFAULT_TEMPLATE: DEFAULT_HTML, other: "<p>{{code}}</p>"})
    document = candidate(
        segment("title", recipient("a@example.com", **PERSON)),
        segment("own", recipient("b@example.com", code="X"), templateS3Uri=other, subject="Code"),
        segment(
            "campaign-subject",
            recipient("c@example.com", **PERSON),
            configuration_set="seg-set",
            **{"from": "seg@mail.example.com"},
        ),
        **{"from": "campaign@mail.example.com"},
    )
    document["segments"][2]["subject"] = None  # falls back to the campaign's: none, so the title

    result, _ = compile_document(document, templates=templates)

    entries = {entry.list_name: entry for entry in result.manifest.segments}
    templates_by_name = {template.name: template for template in result.templates}
    title = templates_by_name[entries["title"].template_name]
    assert (title.subject, title.template_s3_uri) == ("Hello {{fname}}", DEFAULT_TEMPLATE)
    own = templates_by_name[entries["own"].template_name]
    assert (own.subject, own.html, own.template_s3_uri) == ("Code", "<p>{{code}}</p>", other)
    # same template and subject: one SES template
    assert entries["campaign-subject"].template_name == entries["title"].template_name
    assert len(result.templates) == 2
    assert result.manifest.template_names == sorted(templates_by_name)
    assert [entries[name].from_email_address for name in entries] == [
        "campaign@mail.example.com",
        "campaign@mail.example.com",
        "seg@mail.example.com",
    ]
    assert [entries[name].configuration_set_name for name in entries] == [
        SETTINGS.default_configuration_set,
        SETTINGS.default_configuration_set,
        "seg-set",
    ]


def test_the_subject_placeholders_are_required_too() -> None:
    document = candidate(
        segment(
            "a",
            recipient("a@example.com", **PERSON),
            recipient("b@example.com", **PERSON, tier="gold"),
        ),
        subject="Your {{tier}} offer",
    )

    result, _ = compile_document(document)

    assert result.manifest.totals.accepted == 1
    assert result.rejections[0].to_address == "a@example.com"
    assert result.rejections[0].detail == "lacks tier"


def test_fields_used_only_in_conditions_are_not_required() -> None:
    html = "<p>{{#if fname}}Hi {{fname}}{{else}}Hello{{/if}}{{#if vip}}!{{/if}} {{unsub_link}}</p>"
    templates = Templates({PLAIN_TEMPLATE: html})
    document = candidate(
        segment("a", recipient("a@example.com", unsub_link="u"), recipient("b@example.com")),
        templateS3Uri=PLAIN_TEMPLATE,
        subject="News",
    )

    result, _ = compile_document(document, templates=templates)

    assert result.manifest.totals.accepted == 1
    assert [(r.to_address, r.reason, r.detail) for r in result.rejections] == [
        ("b@example.com", RejectionReason.MISSING_FIELDS, "lacks unsub_link")
    ]


# --- rejections --------------------------------------------------------------------------------


def test_each_recipient_problem_rejects_only_that_recipient() -> None:
    # Given recipients with every kind of problem, across two segments
    document = candidate(
        segment(
            "a",
            recipient("ann@example.com", **PERSON),
            recipient("not an address", **PERSON),
            recipient("ANN@EXAMPLE.COM", **PERSON),  # duplicate, whatever the case
            recipient("bounced@example.com", **PERSON),
            recipient("nofields@example.com"),
        ),
        segment(
            "b",
            recipient("Ann@example.com", **PERSON),  # duplicate across segments
            recipient("nofields@example.com", **PERSON),  # its first occurrence was rejected
            recipient("zoë@example.com", **PERSON),
        ),
    )

    # When it is compiled with a suppression list
    result, sink = compile_document(document, blocked=Blocklist.suppressed({"bounced@example.com"}))

    # Then the others go out, and each rejection says why
    assert [orjson.loads(line)["Destination"]["ToAddresses"][0] for line in sink.lines()] == [
        "ann@example.com",
        "nofields@example.com",
    ]
    assert [(r.segment, r.to_address, r.reason) for r in result.rejections] == [
        ("a", "not an address", RejectionReason.INVALID_ADDRESS),
        ("a", "ANN@EXAMPLE.COM", RejectionReason.DUPLICATE),
        ("a", "bounced@example.com", RejectionReason.SUPPRESSED),
        ("a", "nofields@example.com", RejectionReason.MISSING_FIELDS),
        ("b", "Ann@example.com", RejectionReason.DUPLICATE),
        ("b", "zoë@example.com", RejectionReason.INVALID_ADDRESS),
    ]
    assert result.rejections[0].detail is not None
    assert "@-sign" in result.rejections[0].detail
    assert result.rejections[3].detail == "lacks fname, unsub_link"
    a, b = result.manifest.segments
    assert (a.recipients, a.accepted, a.rejected) == (5, 1, 4)
    assert a.rejected_by_reason == {
        "duplicate": 1,
        "invalid_address": 1,
        "missing_fields": 1,
        "suppressed": 1,
    }
    assert (b.recipients, b.accepted, b.rejected) == (3, 1, 2)
    assert result.manifest.totals.model_dump() == {
        "recipients": 8,
        "accepted": 2,
        "rejected": 6,
        "rejected_by_reason": {
            "duplicate": 2,
            "invalid_address": 2,
            "missing_fields": 1,
            "suppressed": 1,
        },
    }
    assert result.rejections_total == 6


def test_rejections_listed_are_capped_and_all_counted() -> None:
    document = candidate(segment("a", *(recipient(f"bad{index}", **PERSON) for index in range(30))))
    compile_settings = dataclasses.replace(SETTINGS, rejections_shown=10)

    result, _ = compile_document(document, compile_settings=compile_settings)

    assert len(result.rejections) == 10
    assert result.rejections_total == 30
    assert result.manifest.totals.rejected_by_reason == {"invalid_address": 30}


def test_addresses_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    document = candidate(
        segment("a", recipient("secret.person@example.com", **PERSON), recipient("bad secret"))
    )

    with caplog.at_level(logging.DEBUG):
        compile_document(document)

    assert "secret" not in caplog.text


# --- the campaign's own problems ---------------------------------------------------------------


def test_every_campaign_problem_is_listed_together() -> None:
    # Given a candidate wrong in its date, templates and recipients at once
    big = f"s3://{BUCKET}/big.html"
    templates = Templates(
        {
            DEFAULT_TEMPLATE: DEFAULT_HTML,
            f"s3://{BUCKET}/text.txt": "Dear {{fname}}, plain text",
            f"s3://{BUCKET}/latin1.html": "<p>caf\xe9</p>".encode("latin-1"),
            f"s3://{BUCKET}/broken.html": "<p>\n{{#if a}}</p>",
            big: "<p>" + "x" * SES_TEMPLATE_MAX_BYTES + "</p>",
        }
    )
    document = candidate(
        segment("ok", recipient("a@example.com", **PERSON)),
        segment("other-bucket", templateS3Uri="s3://not-ours/t.html"),
        segment("missing", templateS3Uri=f"s3://{BUCKET}/missing.html"),
        segment("text", templateS3Uri=f"s3://{BUCKET}/text.txt"),
        segment("latin1", templateS3Uri=f"s3://{BUCKET}/latin1.html"),
        segment("broken", templateS3Uri=f"s3://{BUCKET}/broken.html"),
        segment("big", templateS3Uri=big),
        segment("shape", {"to_address": "b@example.com", "age": 42}),
        date=(NOW - timedelta(minutes=1)).isoformat(),
    )

    # Then all of them are reported, each at its path, and nothing is written
    problems = dict(problems_of(document, templates=templates))
    assert list(problems) == [
        "$.segments[7].recipients[0].age",
        "$.segments[1].templateS3Uri",
        "$.segments[2].templateS3Uri",
        "$.segments[3].templateS3Uri",
        "$.segments[4].templateS3Uri",
        "$.segments[5].templateS3Uri",
        "$.segments[6].templateS3Uri",
        "$.date",
    ]
    assert (
        "which EMS does not read templates from: upload the template to one of ems-assets"
        in (problems["$.segments[1].templateS3Uri"])
    )
    assert "does not exist" in problems["$.segments[2].templateS3Uri"]
    assert "does not look like HTML" in problems["$.segments[3].templateS3Uri"]
    assert "is not UTF-8" in problems["$.segments[4].templateS3Uri"]
    assert (
        "Handlebars error at line 2: {{#if}} is never closed"
        in (problems["$.segments[5].templateS3Uri"])
    )
    assert "larger than 500,000 bytes" in problems["$.segments[6].templateS3Uri"]
    assert "is not in the future" in problems["$.date"]


def test_schema_problems_still_come_with_template_problems() -> None:
    document = candidate(
        segment("a", recipient("a@example.com")),
        date="tomorrow",
        templateS3Uri="s3://not-ours/t.html",
    )

    assert [path for path, _ in problems_of(document)] == ["$.date", "$.templateS3Uri"]


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (NOW, "is not in the future"),
        (NOW + timedelta(days=365, seconds=1), "is more than 365 days ahead"),
    ],
)
def test_the_date_is_in_the_future_and_within_a_year(date: Any, message: str) -> None:
    document = candidate(segment("a", recipient("a@example.com", **PERSON)), date=date.isoformat())

    [(path, text)] = problems_of(document)

    assert path == "$.date"
    assert message in text


def test_a_date_just_within_a_year_is_fine() -> None:
    date = (NOW + timedelta(days=365)).isoformat()

    result, _ = compile_document(candidate(segment("a"), date=date))

    assert result.date == NOW + timedelta(days=365)


def test_a_segment_without_any_subject_is_a_problem() -> None:
    document = candidate(segment("a"), segment("b"), templateS3Uri=PLAIN_TEMPLATE)
    templates = Templates({PLAIN_TEMPLATE: "<p>no title</p>"})

    problems = problems_of(document, templates=templates)

    assert [path for path, _ in problems] == ["$.segments[0].subject", "$.segments[1].subject"]
    assert "give 'subject' on the campaign or the segment, or a <title>" in problems[0][1]


def test_a_subject_that_does_not_parse_is_a_problem_at_its_path() -> None:
    document = candidate(segment("a", subject="Hi {{#if x}}"), subject="fine")

    [(path, message)] = problems_of(document)

    assert path == "$.segments[0].subject"
    assert "{{#if}} is never closed" in message


def test_a_subject_that_makes_the_template_too_big_is_a_problem() -> None:
    html = "<p>" + "x" * (SES_TEMPLATE_MAX_BYTES - 10) + "</p>"
    templates = Templates({PLAIN_TEMPLATE: html})
    document = candidate(segment("a"), templateS3Uri=PLAIN_TEMPLATE, subject="a longer subject")

    [(path, message)] = problems_of(document, templates=templates)

    assert path == "$.subject"
    assert "SES templates hold at most 500,000 bytes" in message


# --- the campaign id ---------------------------------------------------------------------------


def test_the_campaign_id_comes_from_the_document_or_the_request_or_is_made() -> None:
    without_id = candidate(segment("a"))
    del without_id["campaign_id"]

    from_document, _ = compile_document(candidate(segment("a")))
    from_request, _ = compile_document(without_id, campaign_id="from-request")
    both, _ = compile_document(candidate(segment("a")), campaign_id="summer-sale")
    made, _ = compile_document(without_id, make_campaign_id=lambda: "made-1")

    assert [r.campaign_id for r in (from_document, from_request, both, made)] == [
        "summer-sale",
        "from-request",
        "summer-sale",
        "made-1",
    ]
    assert made.templates[0].name.startswith("ems-made-1-")


def test_a_request_and_document_naming_different_ids_is_a_problem() -> None:
    [(path, message)] = problems_of(candidate(segment("a")), campaign_id="other-id")

    assert path == "$.campaign_id"
    assert "'summer-sale' but the request names 'other-id'" in message


def test_an_invalid_campaign_id_from_the_request_is_a_problem() -> None:
    without_id = candidate(segment("a"))
    del without_id["campaign_id"]

    [(path, message)] = problems_of(without_id, campaign_id="has spaces")

    assert path == "$.campaign_id"
    assert "the request's campaign_id 'has spaces' contains ' '" in message


# --- streaming ---------------------------------------------------------------------------------


def test_a_candidate_that_changes_between_the_passes_is_detected() -> None:
    first = orjson.dumps(candidate(segment("a", *fan(3, **PERSON))))
    second = orjson.dumps(candidate(segment("a", *fan(4, **PERSON))))
    reads = iter([first, second])

    with pytest.raises(CandidateChangedError, match="changed while being compiled"):
        compile_document(lambda: io.BytesIO(next(reads)))


def test_progress_is_reported_at_most_every_half_second_and_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = iter(range(0, 1000))
    monkeypatch.setattr(compile_module, "monotonic", lambda: next(ticks) * 0.3)
    reports: list[tuple[int, int]] = []
    document = candidate(
        segment("a", *fan(10_000, **PERSON)), segment("b", *fan(5000, "b.org", **PERSON))
    )
    compile_settings = dataclasses.replace(SETTINGS, part_lines=5000)

    compile_document(
        document, compile_settings=compile_settings, progress=lambda *r: reports.append(r)
    )

    # checked every 4096 recipients; the fake clock moves 0.3 s a look
    assert reports == [(8192, 15_000), (15_000, 15_000)]


def test_compiling_streams_instead_of_holding_the_candidate() -> None:
    # 60,000 recipients: about 6 MB of candidate and 24 MB of campaign file. What grows with
    # the campaign is only the duplicate table (8 bytes a slot); the rest is a few buffers.
    document = orjson.dumps(
        candidate(segment("a", *fan(60_000, fname="Ann Lee", unsub_link="https://example.com/u/x")))
    )
    compile_settings = dataclasses.replace(SETTINGS, part_lines=200)

    class DroppingSink:
        def write_part(self, index: int, data: bytes) -> None:
            pass

    tracemalloc.start()
    try:
        compile_campaign(
            opener(document),
            settings=compile_settings,
            templates=Templates(),
            sink=DroppingSink(),
            now=NOW,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(document) > 5_000_000
    assert peak < len(document) / 2, f"peak {peak:,} bytes"


# --- one-click unsubscribe and scoped suppressions (issue 17) ---------------------------------

LINKED_TEMPLATE = f"s3://{BUCKET}/templates/linked.html"
LINKED_HTML = (
    "<html><head><title>News</title></head>"
    "<body><p>Hi {{fname}}</p><a href='{{unsubscribe_url}}'>unsubscribe</a></body></html>"
)


def _links() -> UnsubscribeLinks:
    return UnsubscribeLinks(
        UnsubscribeKeys({1: b"k" * 32}, 1), base_url="https://api.example.com", max_age_days=400
    )


def test_every_line_carries_its_recipients_one_click_headers_and_link() -> None:
    # Given two segments, one whose template prints {{unsubscribe_url}} and one that does not
    document = candidate(
        segment("news", recipient("ann@example.com", fname="Ann"), templateS3Uri=LINKED_TEMPLATE),
        segment("vip", recipient("bob@example.com", **PERSON)),
    )
    templates = Templates({DEFAULT_TEMPLATE: DEFAULT_HTML, LINKED_TEMPLATE: LINKED_HTML})

    # When it is compiled with unsubscribe links
    result, sink = compile_document(document, templates=templates, links=_links())

    # Then each line is a SendEmail request with RFC 8058's two headers, unique to its recipient
    lines = [CampaignFileLine.from_json_line(line) for line in sink.lines()]
    assert [line.to_address for line in lines] == ["ann@example.com", "bob@example.com"]
    urls = []
    for line, list_name in zip(lines, ["news", "vip"], strict=True):
        headers = dict(line.headers)
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
        assert url.startswith("https://api.example.com/u/")
        target = _links().open(url.rsplit("/", 1)[1], NOW.date())
        assert (target.address, target.campaign_id, target.list_name) == (
            line.to_address,
            "summer-sale",
            list_name,
        )
        urls.append(url)
    # And the template that prints the link gets EMS's link, the same as the header's
    assert lines[0].content.template.decoded_template_data()["unsubscribe_url"] == urls[0]
    # The other keeps its own data as it was (its own unsub_link too), without the field
    assert lines[1].content.template.decoded_template_data() == PERSON
    assert result.manifest.totals.accepted == 2


def test_without_links_no_header_is_written() -> None:
    _, sink = compile_document(candidate(segment("a", recipient("ann@example.com", **PERSON))))
    [line] = [CampaignFileLine.from_json_line(line) for line in sink.lines()]
    assert line.headers == []


def test_suppressions_leave_out_recipients_by_list_and_say_unsubscribed_apart() -> None:
    document = candidate(
        segment(
            "news",
            recipient("bounced@example.com", **PERSON),
            recipient("left-news@example.com", **PERSON),
            recipient("left-all@example.com", **PERSON),
        ),
        segment("vip", recipient("left-news-too@example.com", **PERSON)),
    )
    blocked = Blocklist.of(
        {
            "bounced@example.com": [
                Suppression(address="bounced@example.com", scope=ALL, reason="hard_bounce")
            ],
            "left-news@example.com": [
                Suppression(
                    address="left-news@example.com", scope="list:news", reason="unsubscribe"
                )
            ],
            "left-news-too@example.com": [
                Suppression(
                    address="left-news-too@example.com", scope="list:news", reason="unsubscribe"
                )
            ],
            "left-all@example.com": [
                Suppression(address="left-all@example.com", scope=CAMPAIGNS, reason="unsubscribe")
            ],
        }
    )

    result, sink = compile_document(document, blocked=blocked)

    # The vip recipient only left "news": the vip email still goes to them
    sent = [orjson.loads(line)["Destination"]["ToAddresses"][0] for line in sink.lines()]
    assert sent == ["left-news-too@example.com"]
    assert [(r.to_address, r.reason) for r in result.rejections] == [
        ("bounced@example.com", RejectionReason.SUPPRESSED),
        ("left-news@example.com", RejectionReason.UNSUBSCRIBED),
        ("left-all@example.com", RejectionReason.UNSUBSCRIBED),
    ]


# --- the deployment's sender domain and configuration sets -------------------------------------

DEPLOYED = dataclasses.replace(
    SETTINGS,
    sender_domain="mail.example.com",
    configuration_sets=frozenset({"ems-campaigns", "ems-vip"}),
)


def test_a_from_off_the_sender_domain_or_an_unknown_configuration_set_is_refused_at_its_path() -> (
    None
):
    # Given a campaign whose From is on another domain, and a segment naming a set EMS lacks
    document = candidate(
        segment("news", recipient("a@example.com", **PERSON)),
        segment(
            "vip",
            recipient("b@example.com", **PERSON),
            configuration_set="no-such-set",
            **{"from": "VIP <vip@mail.example.com>"},
        ),
        segment("partners", recipient("c@example.com", **PERSON), **{"from": "x@partner.org"}),
        **{"from": "News <news@other.example>"},
    )

    problems = dict(problems_of(document, compile_settings=DEPLOYED))

    # Then each is reported where it was written, saying what to use instead
    assert set(problems) == {
        "$.from",
        "$.segments[1].configuration_set",
        "$.segments[2].from",
    }
    assert "not on the sender domain mail.example.com" in problems["$.from"]
    assert "'x@partner.org'" in problems["$.segments[2].from"]
    assert "ems-campaigns, ems-vip" in problems["$.segments[1].configuration_set"]


def test_the_deployments_own_sender_and_sets_are_accepted() -> None:
    document = candidate(
        segment("news", recipient("a@example.com", **PERSON)),
        segment("vip", recipient("b@example.com", **PERSON), configuration_set="ems-vip"),
        **{"from": "News <NEWS@Mail.Example.com>"},
    )
    compiled, _ = compile_document(document, compile_settings=DEPLOYED)
    assert [s.configuration_set_name for s in compiled.manifest.segments] == [
        "ems-campaigns",
        "ems-vip",
    ]
