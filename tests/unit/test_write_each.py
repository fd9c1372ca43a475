"""A list of writes goes on past a failure and names every failure at the end."""

from __future__ import annotations

import pytest

from community_monitoring.errors import SettingsError, UncertainDelivery, WritesFailed
from community_monitoring.pipeline.run import write_each


def writer(fail: dict[int, Exception]) -> tuple[list[int], object]:
    made: list[int] = []

    def write(item: int) -> int:
        if item in fail:
            raise fail[item]
        made.append(item)
        return item * 10

    return made, write


def test_every_write_is_tried_and_each_failure_named() -> None:
    made, write = writer({2: RuntimeError("locked"), 4: RuntimeError("gone")})
    with pytest.raises(
        WritesFailed,
        match=r"2 of 5 replies failed, the others were made: #2: RuntimeError: locked; #4: RuntimeError: gone$",
    ):
        write_each([1, 2, 3, 4, 5], write, lambda i: f"#{i}", "replies")
    assert made == [1, 3, 5]


def test_all_made_returns_what_each_write_gave() -> None:
    made, write = writer({})
    assert write_each([1, 2], write, str, "replies") == [10, 20]
    assert made == [1, 2]


def test_a_write_that_may_have_arrived_makes_the_error_one_that_is_not_retried() -> None:
    _, write = writer({1: UncertainDelivery("may or may not have arrived"), 2: RuntimeError("locked")})
    with pytest.raises(UncertainDelivery, match="2 of 3 thank-yous failed"):
        write_each([1, 2, 3], write, str, "thank-yous")


def test_bad_settings_fail_at_once() -> None:
    made, write = writer({1: SettingsError("settings key 'x' is wrong")})
    with pytest.raises(SettingsError):
        write_each([1, 2], write, str, "replies")
    assert made == []


def test_many_failures_name_the_first_ten() -> None:
    _, write = writer({i: RuntimeError("no") for i in range(15)})
    with pytest.raises(
        WritesFailed,
        match=r"15 of 15 replies failed, none was made: .*#9: RuntimeError: no; and 5 more \(see the task log\)$",
    ):
        write_each(range(15), write, lambda i: f"#{i}", "replies")
