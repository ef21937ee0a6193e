"""The seed's own example candidate, through the compiler.

As written, the seed's candidate carries placeholders ("string") for its date and template URIs:
the compiler must reject it listing each of those with its path. Filled in with real values, it
must compile into exactly one campaign-file line of the seed's shape.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from ems_common.formats import CampaignFileLine
from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.compiler import compile_campaign
from tests.unit.scheduler.campaigns.compiler_fakes import BUCKET, NOW, SETTINGS, Sink, Templates
from tests.unit.scheduler.campaigns.test_candidate import strip_jsonc_comments

SEED = Path(__file__).parents[3] / "events" / "seed_candidate.jsonc"
SEED_TEMPLATE = f"s3://{BUCKET}/templates/seed.html"


def _seed() -> dict[str, object]:
    document: dict[str, object] = json.loads(strip_jsonc_comments(SEED.read_text()))
    return document


def _compile(document: dict[str, object], templates: Templates) -> tuple[object, Sink]:
    sink = Sink()
    body = orjson.dumps(document)
    result = compile_campaign(
        lambda: io.BytesIO(body), settings=SETTINGS, templates=templates, sink=sink, now=NOW
    )
    return result, sink


def test_the_seed_candidate_as_written_is_rejected_with_every_placeholder_named() -> None:
    with pytest.raises(InvalidCandidateError) as rejected:
        _compile(_seed(), Templates())
    paths = {problem["path"] for problem in rejected.value.problems}
    assert {"$.date", "$.templateS3Uri", "$.segments[0].templateS3Uri"} <= paths


def test_the_seed_candidate_filled_in_compiles_to_the_seed_line_shape() -> None:
    # Given the seed's candidate with a real date and template (its recipient keeps the
    # seed's personalization key "string")
    document = _seed()
    document["campaign_id"] = "seed-campaign"
    document["date"] = "2026-02-01T09:00:00+00:00"
    document["templateS3Uri"] = SEED_TEMPLATE
    segment = document["segments"][0]  # type: ignore[index]
    segment["templateS3Uri"] = SEED_TEMPLATE
    segment["recipients"][0]["to_address"] = "reader@example.com"
    templates = Templates(
        {SEED_TEMPLATE: "<html><head><title>News</title></head><body>{{string}}</body></html>"}
    )

    # When it is compiled
    result, sink = _compile(document, templates)

    # Then one line of the seed's shape goes to that recipient with that data
    lines = sink.lines()
    assert len(lines) == 1
    line = CampaignFileLine.from_json_line(lines[0])
    assert list(orjson.loads(lines[0])) == [
        "FromEmailAddress", "Destination", "Content", "EmailTags", "ConfigurationSetName",
    ]  # fmt: skip
    assert line.to_address == "reader@example.com"
    assert line.content.template.decoded_template_data() == {"string": "string"}
    assert (line.campaign_id, line.segment_id) == ("seed-campaign", "string")
    assert result.manifest.totals.accepted == 1  # type: ignore[attr-defined]
