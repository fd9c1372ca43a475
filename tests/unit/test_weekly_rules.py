"""The weekly stale review (SPEC §4, weekly) as a table, evaluated as of T."""

from __future__ import annotations

from datetime import timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.records import Post
from community_monitoring.rules import find_stale_posts, last_activity

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
