"""Where a large candidate may be: under the candidates prefix, where uploads expire.

The request is refused before EMS reads anything: no adapter is made at all.
"""

from __future__ import annotations

import orjson
import pytest

from ems_scheduler.campaigns.candidate import InvalidCandidateError
from ems_scheduler.campaigns.service import CampaignAdapters, CampaignService
from ems_scheduler.settings import SchedulerSettings


def _no_aws() -> CampaignAdapters:
    pytest.fail("a misplaced candidate must be refused before any AWS call")


@pytest.mark.parametrize(
    "key", ["summer.json", "templates/summer.json", "bench/candidates/summer.json", "Candidates/x"]
)
def test_a_candidate_outside_the_candidates_prefix_is_a_400_saying_where_to_put_it(
    settings: SchedulerSettings, key: str
) -> None:
    settings = settings.model_copy(update={"assets_bucket": "ems-assets"})
    service = CampaignService(settings, _no_aws)
    body = orjson.dumps({"candidateS3Uri": f"s3://ems-assets/{key}"})

    with pytest.raises(InvalidCandidateError) as refused:
        service.create(body, public_url="https://api.example.com")

    (problem,) = refused.value.problems
    assert problem["path"] == "$.candidateS3Uri"
    assert "s3://ems-assets/candidates/" in problem["message"]
