"""DynamoDB update expressions built from plain changes."""

from ems_common.dal.items import update_expression


def test_values_are_set_none_removes_and_adds_add_each_behind_a_placeholder() -> None:
    expression, names, values = update_expression({"status": "SENT", "error": None}, {"opens": 1})

    assert expression == "SET #f0 = :v0 REMOVE #f1 ADD #a0 :a0"
    assert names == {"#f0": "status", "#f1": "error", "#a0": "opens"}
    assert values == {":v0": {"S": "SENT"}, ":a0": {"N": "1"}}


def test_adds_alone_make_an_add_expression() -> None:
    expression, names, _ = update_expression({}, {"sent": 2, "finished": 1})

    assert expression == "ADD #a0 :a0, #a1 :a1"
    assert names == {"#a0": "sent", "#a1": "finished"}
