"""`ems` against the running local API, as a person at a terminal would use it after `make up`.

The `local_stack` fixture exports EMS_API_URL and EMS_API_KEY, so `ems` needs no option; every
assertion is on what the user reads.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ems_cli.main import app
from ems_common.aws import AwsClients
from ems_common.settings import InfraSettings
from ems_devstack.stack import LocalStackStack

pytestmark = pytest.mark.e2e

TEMPLATE_HTML = "<html><head><title>Hi {{name}}</title></head><body>{{name}}</body></html>"


def _ems(*args: str) -> Result:
    # Wide, so that tables never wrap what the assertions look for.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_a_campaign_from_create_to_delete_through_the_cli(
    local_stack: LocalStackStack, aws: AwsClients, settings: InfraSettings, tmp_path: Path
) -> None:
    # Given a template in the assets bucket and a candidate file for two recipients
    key = f"templates/cli-{uuid.uuid4().hex[:8]}.html"
    aws.client("s3").put_object(
        Bucket=settings.assets_bucket, Key=key, Body=TEMPLATE_HTML.encode(), ContentType="text/html"
    )
    campaign_id = f"cli-{uuid.uuid4().hex[:10]}"
    date = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    candidate = tmp_path / "candidate.json"
    candidate.write_text(
        json.dumps(
            {
                "campaign_id": campaign_id,
                "date": date.isoformat(),
                "templateS3Uri": f"s3://{settings.assets_bucket}/{key}",
                "segments": [
                    {
                        "list_name": "cli-friends",
                        "recipients": [
                            {"to_address": "ann@example.org", "name": "Ann"},
                            {"to_address": "bob@example.org", "name": "Bob"},
                        ],
                    }
                ],
            }
        )
    )

    # When it is created, the summary says what EMS scheduled
    created = _ems("campaign", "create", str(candidate))
    assert created.exit_code == 0, created.output
    assert f"Created campaign {campaign_id}." in created.stdout
    assert "SCHEDULED" in created.stdout
    assert date.strftime("%Y-%m-%dT%H:%M:%SZ") in created.stdout
    assert "2 accepted, 0 rejected" in created.stdout

    # Describe shows it again, with its segment
    described = _ems("campaign", "describe", campaign_id)
    assert described.exit_code == 0, described.output
    assert f"Campaign {campaign_id}" in described.stdout
    assert "cli-friends" in described.stdout

    # It is listed among the scheduled campaigns
    listed = _ems("campaign", "list", "--status", "SCHEDULED", "--all")
    assert listed.exit_code == 0, listed.output
    assert campaign_id in listed.stdout

    # Moved a day later, the new date shows
    later = date + timedelta(days=1)
    moved = _ems("campaign", "reschedule", campaign_id, later.isoformat())
    assert moved.exit_code == 0, moved.output
    assert later.strftime("%Y-%m-%dT%H:%M:%SZ") in moved.stdout

    # Cancelled, it says so and can no longer move
    cancelled = _ems("campaign", "cancel", campaign_id)
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Cancelled campaign {campaign_id}." in cancelled.stdout
    assert "CANCELLED" in cancelled.stdout
    refused = _ems("campaign", "reschedule", campaign_id, later.isoformat())
    assert refused.exit_code == 1
    assert "HTTP 409 conflict" in refused.stderr

    # Deleted without a prompt, it is gone
    deleted = _ems("campaign", "delete", campaign_id, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert deleted.stdout.strip() == f"Deleted campaign {campaign_id}."
    gone = _ems("campaign", "describe", campaign_id)
    assert gone.exit_code == 1
    assert "HTTP 404 not_found" in gone.stderr
