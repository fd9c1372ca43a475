"""Pages that repeat earlier pages: repeats dropped, a page of nothing new an invalid answer (a table)."""

from __future__ import annotations

from typing import Any

import pytest

from community_monitoring.sources.http import Call, InvalidResponseError, NewItemsOnly


def ids(raw: Any) -> Any:
    return raw.get("id") if isinstance(raw, dict) else None


@pytest.mark.parametrize(
    ("pages", "kept", "error"),
    [
        pytest.param([[{"id": 1}, {"id": 2}], [{"id": 3}]], [1, 2, 3], None, id="no repeats"),
        pytest.param(
            [[{"id": 1}, {"id": 2}], [{"id": 2}, {"id": 3}]], [1, 2, 3], None, id="one pushed down: dropped"
        ),
        pytest.param(
            [[{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}]], [1, 2], "page 2 holds only", id="page again"
        ),
        pytest.param([[{"id": 1}], []], [1], None, id="an empty last page"),
        pytest.param([[{"x": 1}], [{"x": 1}]], [None, None], None, id="items without a key are kept"),
        # No API gives an id as a list or an object: the item is kept for its own check to name (a
        # TypeError here failed the whole channel without naming it).
        pytest.param(
            [[{"id": [1]}, {"id": 2}], [{"id": {"n": 3}}]], [[1], 2, {"n": 3}], None, id="unhashable ids kept"
        ),
    ],
)
def test_new_items_only(pages: list[list[dict[str, Any]]], kept: list[Any], error: str | None) -> None:
    new_only = NewItemsOnly(Call("uservoice", "GET", "/api/v2/admin/suggestions"), ids)
    seen: list[Any] = []

    def read_all() -> None:
        for number, page in enumerate(pages, start=1):
            seen.extend(item.get("id") for item in new_only(page, number))

    if error is None:
        read_all()
    else:
        with pytest.raises(
            InvalidResponseError, match=rf"uservoice: GET /api/v2/admin/suggestions .*{error}"
        ):
            read_all()
    assert seen == kept
