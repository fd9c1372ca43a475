"""The closeout's thank-yous: what happened to each nominee is saved, also when some failed, so the
tracking sheet and the summary are made for the others and name the failures."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from community_monitoring.closeout_plan import CloseoutPlan, Nominee, ThankResult
from community_monitoring.errors import SettingsError, UncertainDelivery, WritesFailed
from community_monitoring.params import CloseoutParams
from community_monitoring.pipeline.closeout import each_nominee, load_results

PARAMS = CloseoutParams("11.2", "2026-11-16", "https://x.example/a", False)


def nominee(sid: int) -> Nominee:
    return Nominee(sid, f"Idea {sid}", f"https://uv.example/s/{sid}", f"Name {sid}", "MM-1", "Done", "11.2")


class Store:
    """The run store's plans, in memory."""

    def __init__(self) -> None:
        self.plans: dict[str, Any] = {}

    def save_plan(self, name: str, data: Any) -> None:
        self.plans[name] = data

    def plan(self, name: str) -> Any:
        return self.plans[name]


REFUSED = RuntimeError("UserVoice answered 404: suggestion not found")


@pytest.mark.parametrize(
    ("fail", "error", "outcomes"),
    [
        ({}, None, ["thanked", "thanked", "thanked"]),
        # One refused: the others are made, all three saved, then the task fails naming it.
        ({2: REFUSED}, WritesFailed, ["thanked", "failed", "thanked"]),
        (
            {1: REFUSED, 3: UncertainDelivery("may have arrived")},
            UncertainDelivery,
            ["failed", "thanked", "failed"],
        ),
        # Bad settings stop at once: the nominees after it were not tried, and say so.
        ({2: SettingsError("settings key 'x' is wrong")}, SettingsError, ["thanked", "failed", "failed"]),
    ],
)
def test_every_outcome_is_saved_before_the_task_fails(
    fail: dict[int, Exception], error: type[Exception] | None, outcomes: list[str]
) -> None:
    run = SimpleNamespace(store=Store())
    plan = CloseoutPlan(PARAMS, tuple(nominee(i) for i in (1, 2, 3)), (), "Completed", 5, True)

    def thank(who: Nominee) -> ThankResult:
        if who.suggestion_id in fail:
            raise fail[who.suggestion_id]
        return ThankResult(who, "thanked", f"70{who.suggestion_id}")

    if error is None:
        each_nominee(run, plan, thank, "thank-yous")  # type: ignore[arg-type]
    else:
        with pytest.raises(error):
            each_nominee(run, plan, thank, "thank-yous")  # type: ignore[arg-type]
    saved = load_results(run)  # type: ignore[arg-type]
    assert [r.nominee.suggestion_id for r in saved] == [1, 2, 3]
    assert [r.outcome for r in saved] == outcomes
    for result in saved:
        if result.outcome == "thanked":
            assert (result.status_update_id, result.error) == (f"70{result.nominee.suggestion_id}", "")
        elif result.nominee.suggestion_id in fail:
            problem = fail[result.nominee.suggestion_id]
            assert result.error == f"{type(problem).__name__}: {problem}"
        else:
            assert result.error == "not tried: the task stopped before it"
