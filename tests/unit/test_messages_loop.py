"""Closing the loop in the rendered messages: who is mentioned where, and only they (SPEC §4, §7)."""

from __future__ import annotations

import re

import pytest

from builders import SETTINGS, T, ago, post
from community_monitoring.messages import render_uservoice_review
from community_monitoring.uservoice_review import UserVoiceReview

NEEDS_QUESTION = UserVoiceReview(
    status_drift=(),
    needs_question=(post(channel="uservoice", created=ago(hours=3), title="Dark mode"),),
    offers=(),
)
NOTHING = UserVoiceReview(status_drift=(), needs_question=(), offers=())


def mentions(text: str) -> list[str]:
    return re.findall(r"(?<![\w`])@[a-z0-9._-]+", text)


@pytest.mark.parametrize(
    ("case", "review", "pm", "expected"),
    [
        ("something to look at: the PM is mentioned in the header", NEEDS_QUESTION, "pat.pm", ["@pat.pm"]),
        ("nothing to look at: nobody is pinged", NOTHING, "pat.pm", []),
        ("no PM configured", NEEDS_QUESTION, "", []),
    ],
)
def test_uservoice_review_mentions_the_pm(
    case: str, review: UserVoiceReview, pm: str, expected: list[str]
) -> None:
    text = render_uservoice_review(review, SETTINGS, T, pm=pm).text
    header = text.splitlines()[0]
    assert header.startswith("[UserVoice Review]"), case
    assert mentions(header) == expected, case
    assert mentions(text) == expected, case
