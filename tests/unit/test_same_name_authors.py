"""Two Stack Exchange users may share a display name: the account id tells whose reply it is."""

from __future__ import annotations

from typing import Any

import pytest

from builders import ROSTER, SETTINGS, T, ago
from community_monitoring.answers import answer_state
from community_monitoring.rules import has_response
from community_monitoring.sources.stackexchange import normalise_question


def owner(user_id: int | None, name: str = "Paul") -> dict[str, Any]:
    found: dict[str, Any] = {"display_name": name, "user_type": "registered"}
    if user_id is not None:
        found["user_id"] = user_id
    return found


def question(answerer: dict[str, Any]) -> Any:
    raw = {
        "question_id": 79900009,
        "title": "Webhook signature check fails",
        "body": "The signature never matches.",
        "owner": owner(1),
        "creation_date": int(ago(days=3).timestamp()),
        "tags": ["mattermost"],
    }
    answer = {
        "answer_id": 5,
        "question_id": 79900009,
        "owner": answerer,
        "creation_date": int(ago(days=1).timestamp()),
        "body": "Compare the raw body, not the parsed JSON: the order of keys changes the hash.",
    }
    return normalise_question(raw, [answer], [])


@pytest.mark.parametrize(
    ("answerer", "state", "responded"),
    [
        pytest.param(owner(2), "answered", True, id="another Paul"),
        pytest.param(owner(1), "unanswered", False, id="the asker"),
        pytest.param(owner(2, "paul"), "answered", True, id="another paul, other case"),
        pytest.param(owner(1, "Paul R."), "unanswered", False, id="the asker, renamed since"),
    ],
)
def test_the_account_id_tells_whose_reply_it_is(
    answerer: dict[str, Any], state: str, responded: bool
) -> None:
    post = question(answerer)
    assert answer_state(post, ROSTER, SETTINGS, T) == state
    assert has_response(post, ROSTER, T, SETTINGS) is responded
