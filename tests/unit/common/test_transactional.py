"""Transactional ids and where their counters go."""

from datetime import UTC, date, datetime

import pytest

from ems_common import keys
from ems_common.dal.items import from_item
from ems_common.dal.metrics import metrics_key
from ems_common.formats.tags import tag_text_problem
from ems_common.transactional import (
    EmailId,
    email_id,
    metrics_partition,
    new_request_id,
    template_name_problem,
)


def test_an_email_id_is_tag_text_and_parses_back() -> None:
    request = new_request_id(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))
    the_id = email_id(request, 999)
    assert tag_text_problem(the_id) is None
    assert EmailId.parse(the_id) == EmailId(request, 999, date(2026, 11, 23))
    assert new_request_id(datetime(2026, 11, 23, tzinfo=UTC)) != new_request_id(
        datetime(2026, 11, 23, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    "text", ["", "tx-20261123-abc-1", "tx-20261340-0123456789ab-1", "x-20261123-0123456789ab-1"]
)
def test_what_is_no_email_id_parses_to_none(text: str) -> None:
    assert EmailId.parse(text) is None


def test_a_transactional_email_counts_in_its_templates_item_of_the_day() -> None:
    scope = "tx-20261123-0123456789ab-3"
    assert metrics_partition(scope, "receipt") == ("template#receipt", "2026-11-23")
    assert metrics_partition("summer-sale", "vip") == ("summer-sale", "vip")
    key = from_item(metrics_key(scope, "receipt"))
    assert key == {keys.PARTITION_KEY: "template#receipt", keys.SORT_KEY: "METRICS#2026-11-23"}


@pytest.mark.parametrize(
    ("name", "ok"), [("receipt_v2-1", True), ("a" * 49, False), ("a b", False)]
)
def test_template_names(name: str, ok: bool) -> None:
    assert (template_name_problem(name) is None) is ok
