"""What the scheduler's API tests share: settings from a made-up environment."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from ems_common.settings import InfraSettings
from ems_scheduler.settings import SchedulerSettings
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

API_KEY = "test-key-123"
UNSUBSCRIBE_KEYS = UnsubscribeKeys({1: b"u" * 32}, 1)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> SchedulerSettings:
    """SchedulerSettings whose Terraform names are "x" and whose limits are small."""
    for name in InfraSettings.model_fields:
        monkeypatch.setenv(f"EMS_{name.upper()}", "x")
    monkeypatch.delenv("EMS_LAUNCHER_TICKS_QUEUE_URL")
    monkeypatch.setenv("EMS_CANDIDATES_PREFIX", "candidates/")
    monkeypatch.setenv("EMS_ALLOWED_TEMPLATE_BUCKETS", "[]")
    monkeypatch.setenv("EMS_PART_LINES", "100")
    monkeypatch.setenv("EMS_MAX_REQUEST_BYTES", "2048")
    monkeypatch.setenv("EMS_REJECTIONS_SHOWN", "10")
    monkeypatch.setenv("EMS_MAX_DAYS_AHEAD", "365")
    monkeypatch.setenv("EMS_UNSUBSCRIBE_KEYS", UNSUBSCRIBE_KEYS.to_json())
    return SchedulerSettings(api_key=SecretStr(API_KEY))
