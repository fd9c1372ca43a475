"""The weekly stale review (SPEC §4, weekly) as a table, evaluated as of T."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, answer, post, reply
from community_monitoring.records import Post
from community_monitoring.rules import find_aged_out, find_stale_posts, last_activity
from community_monitoring.settings import load_settings

JIRA_BODY = "From https://mattermost.atlassian.net/browse/MM-1"


def stale(item: Post) -> bool:
    return any(
        i.post is item for items in find_stale_posts([item], ROSTER, SETTINGS, T).values() for i in items
    )


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("no activity for 10 days", post(created=ago(days=10)), True),
        ("created 5 days ago", post(created=ago(days=5)), False),
        ("exactly 7 days quiet is not older", post(created=ago(days=7)), False),
        (
            "a human reply 3 days ago",
            post(created=ago(days=20), replies=(reply("bob", at=ago(days=3)),)),
            False,
        ),
        (
            "the author's own reply counts",
            post(created=ago(days=20), replies=(reply("alice", at=ago(days=3)),)),
            False,
        ),
        (
            "a staff reply counts",
            post(created=ago(days=20), replies=(reply("staffer", at=ago(days=3)),)),
            False,
        ),
        (
            "a bot comment is no activity",
            post(created=ago(days=20), replies=(reply("ci[bot]", at=ago(days=1)),)),
            True,
        ),
        (
            "a roster bot is no activity",
            post(created=ago(days=20), replies=(reply("helper-bot", at=ago(days=1)),)),
            True,
        ),
        (
            "activity after T does not exist",
            post(created=ago(days=20), replies=(reply("bob", at=T + timedelta(hours=2)),)),
            True,
        ),
        ("closed before T", post(created=ago(days=20), state="closed", closed_at=ago(days=1)), False),
        (
            "closed after T",
            post(created=ago(days=20), state="closed", closed_at=T + timedelta(hours=1)),
            True,
        ),
        ("by staff", post(created=ago(days=20), author="staffer"), False),
        ("by a bot", post(created=ago(days=20), author="x[bot]"), False),
        ("Help Wanted from Jira", post(created=ago(days=20), labels=("Help Wanted",), body=JIRA_BODY), False),
        ("pull request", post(created=ago(days=20), is_pull_request=True), False),
        ("older than 180 days", post(created=ago(days=181)), False),
        ("GitLab issue", post(channel="gitlab", created=ago(days=12)), True),
        ("forum topics are not in this review", post(channel="forum", created=ago(days=12)), False),
        ("SO question, no accepted answer", post(channel="stackoverflow", created=ago(days=12)), True),
        (
            "SO question with an accepted answer before T",
            post(channel="stackoverflow", created=ago(days=12), accepted_at=ago(days=11)),
            False,
        ),
        (
            "SO answer accepted after T",
            post(
                channel="stackoverflow",
                created=ago(days=12),
                accepted_at=T + timedelta(days=1),
            ),
            True,
        ),
    ],
)
def test_stale(case: str, item: Post, expected: bool) -> None:
    assert stale(item) is expected, case


def test_grouped_by_channel_oldest_activity_first_with_last_actor() -> None:
    a = post(number=1, created=ago(days=30), replies=(reply("bob", at=ago(days=9)),))
    b = post(number=2, created=ago(days=40), replies=(reply("carol", at=ago(days=20)),))
    c = post(channel="gitlab", number=3, created=ago(days=15))
    found = find_stale_posts([a, b, c], ROSTER, SETTINGS, T)
    assert list(found) == ["github", "gitlab"]
    assert [(i.post, i.last_actor) for i in found["github"]] == [(b, "carol"), (a, "bob")]
    assert last_activity(c, ROSTER, T) == (c.created_at, "alice")


ASK = "Could you share the server logs?"
GAVE = "Here they are: the push proxy times out after 30 seconds."


def aged_out(item: Post, as_of: datetime = T) -> bool:
    return any(i.post is item for i in find_aged_out([item], ROSTER, SETTINGS, as_of))


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("forum topic, 40 days old, unanswered", post(channel="forum", created=ago(days=40)), True),
        ("GitHub issue, 40 days old, unanswered", post(created=ago(days=40)), True),
        ("GitLab issue, 100 days old", post(channel="gitlab", created=ago(days=100)), True),
        ("Stack Overflow question, 60 days old", post(channel="stackoverflow", created=ago(days=60)), True),
        ("still in the Help Wanted window (29 days)", post(channel="forum", created=ago(days=29)), False),
        ("exactly 30 days: has just left the window", post(created=ago(days=30)), True),
        ("older than the weekly window (181 days)", post(channel="forum", created=ago(days=181)), False),
        ("exactly 180 days: outside", post(created=ago(days=180)), False),
        (
            "only a me-too by someone else",
            post(created=ago(days=40), replies=(reply("bob", at=ago(days=35), body="+1"),)),
            True,
        ),
        ("answered", post(created=ago(days=40), replies=(answer("bob", at=ago(days=35)),)), False),
        (
            "waiting on the reporter",
            post(created=ago(days=40), replies=(answer("staffer", at=ago(days=35), body=ASK),)),
            False,
        ),
        (
            "waiting on us",
            post(
                created=ago(days=40),
                replies=(
                    answer("staffer", at=ago(days=35), body=ASK),
                    answer("alice", at=ago(days=34), body=GAVE),
                ),
            ),
            True,
        ),
        (
            "the answer came after T",
            post(channel="forum", created=ago(days=40), replies=(answer("bob", at=T + timedelta(hours=1)),)),
            True,
        ),
        ("closed before T", post(created=ago(days=40), state="closed", closed_at=ago(days=2)), False),
        ("closed after T", post(created=ago(days=40), state="closed", closed_at=T + timedelta(days=1)), True),
        (
            "accepted answer",
            post(channel="stackoverflow", created=ago(days=40), accepted_at=ago(days=39)),
            False,
        ),
        ("by staff", post(created=ago(days=40), author="staffer"), False),
        ("by a bot", post(created=ago(days=40), author="x[bot]"), False),
        ("Help Wanted from Jira", post(created=ago(days=40), labels=("Help Wanted",), body=JIRA_BODY), False),
        ("UserVoice is no aged-out channel", post(channel="uservoice", created=ago(days=40)), False),
    ],
)
def test_aged_out_without_an_answer(case: str, item: Post, expected: bool) -> None:
    assert aged_out(item) is expected, case


def test_aged_out_depends_on_the_point_in_time() -> None:
    topic = post(channel="forum", created=ago(days=31))
    assert not aged_out(topic, ago(days=2))  # still on the Help Wanted list then
    assert aged_out(topic, T)


def test_aged_out_reads_only_the_configured_channels() -> None:
    topic = post(channel="forum", created=ago(days=40))
    config = load_settings({"weekly": {"aged_out_channels": ["github"]}})
    assert find_aged_out([topic], ROSTER, config, T) == []


def test_aged_out_oldest_first_with_state_and_last_actor() -> None:
    newer = post(channel="forum", number=1, created=ago(days=40))
    older = post(
        number=2,
        created=ago(days=90),
        replies=(answer("staffer", at=ago(days=80), body=ASK), answer("alice", at=ago(days=70), body=GAVE)),
    )
    found = find_aged_out([newer, older], ROSTER, SETTINGS, T)
    assert [(i.post, i.state, i.last_actor) for i in found] == [
        (older, "waiting_on_us", "alice"),
        (newer, "unanswered", "alice"),
    ]


@pytest.mark.parametrize(
    ("case", "item", "state"),
    [
        ("no reply", post(created=ago(days=10)), "unanswered"),
        (
            "asked and quiet since",
            post(created=ago(days=20), replies=(answer("staffer", at=ago(days=9), body=ASK),)),
            "waiting_on_reporter",
        ),
        (
            "answered and quiet since",
            post(created=ago(days=20), replies=(answer("bob", at=ago(days=9)),)),
            "answered",
        ),
    ],
)
def test_stale_items_carry_their_answer_state(case: str, item: Post, state: str) -> None:
    [found] = find_stale_posts([item], ROSTER, SETTINGS, T)["github"]
    assert found.state == state, case
