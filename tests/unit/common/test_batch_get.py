"""`batch_get`: BatchGetItem in calls of 100 keys, unprocessed keys asked again."""

from __future__ import annotations

from typing import Any

from ems_common.dal.items import BATCH_GET_MAX, batch_get, to_item


class FakeDynamoDB:
    """Answers every key as found, except that each call's last key comes back unprocessed once."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.deferred: set[str] = set()

    def batch_get_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(RequestItems)
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        last = keys[-1]["pk"]["S"]
        if last not in self.deferred and len(keys) > 1:
            self.deferred.add(last)
            return {
                "Responses": {table: keys[:-1]},
                "UnprocessedKeys": {table: {**request, "Keys": keys[-1:]}},
            }
        return {"Responses": {table: keys}, "UnprocessedKeys": {}}


def test_every_key_is_asked_in_calls_of_at_most_100_and_unprocessed_ones_again() -> None:
    db = FakeDynamoDB()
    keys = [to_item({"pk": f"k{n:03}"}) for n in range(250)]

    found = list(batch_get(db, "t", keys, ConsistentRead=True))

    assert sorted(item["pk"]["S"] for item in found) == [f"k{n:03}" for n in range(250)]
    assert max(len(call["t"]["Keys"]) for call in db.calls) == BATCH_GET_MAX
    assert len(db.calls) == 6  # 100, 100, 50, each with its unprocessed last key again
    assert all(call["t"]["ConsistentRead"] is True for call in db.calls)
