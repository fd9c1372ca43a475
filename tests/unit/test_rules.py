"""SPEC §4 rules, one row per case, evaluated as of T."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.records import Post
from community_monitoring.rules import (
    Release,
    asks_a_question,
    find_help_wanted_sections,
    find_new_posts,
    has_new_reply_to_staff_question,
    has_response,
    is_help_wanted_from_jira,
    is_open_at,
    is_waiting_for_first_response,
    latest_release,
)

JIRA_BODY = "Mirrored from https://mattermost.atlassian.net/browse/MM-61234"


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("no replies", post(), False),
        ("reply by the author only", post(replies=(reply("alice"),)), False),
        ("author case differs", post(replies=(reply("ALICE"),)), False),
        ("reply by a bot flag", post(replies=(reply("ci", author_is_bot=True),)), False),
        ("reply by a [bot] name", post(replies=(reply("dependabot[bot]"),)), False),
        ("reply by a roster bot", post(replies=(reply("helper-bot"),)), False),
        ("reply by someone else", post(replies=(reply("bob"),)), True),
        ("reply by staff", post(replies=(reply("staffer"),)), True),
        ("reply by someone else after T", post(replies=(reply("bob", at=T.replace(hour=10)),)), False),
        ("reply exactly at T", post(replies=(reply("bob", at=T),)), True),
    ],
)
def test_has_response(case: str, item: Post, expected: bool) -> None:
    assert has_response(item, ROSTER, T) is expected, case


@pytest.mark.parametrize(
    ("case", "labels", "body", "author", "channel", "expected"),
    [
        ("label and Jira link", ("Help Wanted",), JIRA_BODY, "alice", "github", True),
        ("label lower case and Jira link", ("help wanted",), JIRA_BODY, "alice", "github", True),
        ("label and sync account", ("Help Wanted",), "", "mattermost-jira-sync", "github", True),
        ("label, no Jira origin", ("Help Wanted",), "Anyone can pick this up", "alice", "github", False),
        ("Jira link, no label", ("Bug",), JIRA_BODY, "alice", "github", False),
        (
            "link not ending in a key",
            ("Help Wanted",),
            "https://x.atlassian.net/browse/MM-1/extra",
            "a",
            "github",
            False,
        ),
        ("not GitHub", ("Help Wanted",), JIRA_BODY, "alice", "forum", False),
    ],
)
def test_help_wanted_from_jira(
    case: str, labels: tuple[str, ...], body: str, author: str, channel: str, expected: bool
) -> None:
    item = post(channel=channel, labels=labels, body=body, author=author)
    assert is_help_wanted_from_jira(item, SETTINGS) is expected, case


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("open", post(), True),
        ("closed before T", post(state="closed", closed_at=ago(days=1)), False),
        ("closed after T", post(state="closed", closed_at=T.replace(hour=12)), True),
        ("closed, time unknown", post(state="closed"), False),
    ],
)
def test_is_open_at(case: str, item: Post, expected: bool) -> None:
    assert is_open_at(item, T) is expected, case


WAITING_CASES = [
    ("community GitHub issue, 3 days old, no reply", post(), True),
    ("forum topic, 5 days old", post(channel="forum", created=ago(days=5)), True),
    ("exactly T - 2 days (included)", post(created=ago(days=2)), True),
    (
        "a second younger than 2 days",
        post(created=ago(days=2) + timedelta(seconds=1)),
        False,
    ),
    ("younger than 2 days", post(created=ago(days=1, hours=23)), False),
    ("exactly T - 30 days (excluded)", post(created=ago(days=30)), False),
    ("just inside 30 days", post(created=ago(days=29, hours=23)), True),
    ("answered by someone else", post(replies=(reply("bob", at=ago(days=1)),)), False),
    ("only the author replied", post(replies=(reply("alice", at=ago(days=1)),)), True),
    ("only a bot replied", post(replies=(reply("renovate[bot]", at=ago(days=1)),)), True),
    ("answer came after T", post(replies=(reply("bob", at=T.replace(hour=11)),)), True),
    ("closed before T", post(state="closed", closed_at=ago(days=1)), False),
    ("closed after T", post(state="closed", closed_at=T.replace(hour=11)), True),
    ("by staff (platform)", post(author_platform_staff=True), False),
    ("by staff (roster)", post(author="staffer"), False),
    ("forum roster staff", post(channel="forum", author="forum.staffer"), False),
    ("by a bot", post(author="dependabot[bot]"), False),
    ("bot flag", post(author="x", author_is_bot=True), False),
    ("pull request", post(is_pull_request=True), False),
    ("Help Wanted from Jira", post(labels=("Help Wanted",), body=JIRA_BODY), False),
    ("Help Wanted without Jira origin", post(labels=("Help Wanted",), body="plain"), True),
    ("created after T", post(created=T.replace(hour=10)), False),
    ("GitLab is not in this digest", post(channel="gitlab"), False),
]


@pytest.mark.parametrize(("case", "item", "expected"), WAITING_CASES)
def test_waiting_for_first_response(case: str, item: Post, expected: bool) -> None:
    assert is_waiting_for_first_response(item, ROSTER, SETTINGS, T) is expected, case


RELEASES = [
    Release("v11.1.0", "v11.1.0", ago(days=8)),
    Release("v11.0.0", "v11.0.0", ago(days=33)),
    Release("v11.2.0-rc1", "rc", ago(days=1), prerelease=True),
    Release("v11.2.0", "draft", None, draft=True),
    Release("v11.3.0", "future", T.replace(day=20)),
]


def test_latest_release_ignores_drafts_prereleases_and_future() -> None:
    release = latest_release(RELEASES, T)
    assert release is not None
    assert release.tag == "v11.1.0"


def test_latest_release_none_before_any() -> None:
    assert latest_release(RELEASES, ago(days=60)) is None


def _forum(title: str, body: str = "", created_hours_ago: float = 3, **kwargs: object) -> Post:
    return post(channel="forum", title=title, body=body, created=ago(hours=created_hours_ago), **kwargs)


@pytest.mark.parametrize(
    ("case", "item", "releases", "expected"),
    [
        ("SAML in title", _forum("SAML login fails"), RELEASES, True),
        ("upgrade in body", _forum("Server down", "Broke after upgrading to 11.1"), RELEASES, True),
        ("after updating phrase", _forum("Search", "Search is empty after updating"), RELEASES, True),
        ("keyword case-insensitive", _forum("ldap sync stopped"), RELEASES, True),
        ("no keyword", _forum("Emoji picker is slow"), RELEASES, False),
        ("keyword inside another word", _forum("Clustered index advice"), RELEASES, False),
        ("created before the interval", _forum("SAML login fails", created_hours_ago=30), RELEASES, False),
        ("release too long ago", _forum("SAML login fails"), [Release("v1", "v1", ago(days=15))], False),
        ("no release", _forum("SAML login fails"), [], False),
        ("by staff", _forum("SAML login fails", author_platform_staff=True), RELEASES, False),
        ("GitHub issue", post(title="SAML login fails", created=ago(hours=3)), RELEASES, False),
    ],
)
def test_after_the_release(case: str, item: Post, releases: list[Release], expected: bool) -> None:
    sections = find_help_wanted_sections([item], ROSTER, SETTINGS, T, releases)
    assert (item in sections.after_the_release) is expected, case


def _thread(*posts: tuple[str, str, float], staff_flag: bool = False) -> Post:
    """A forum topic opened by alice 5 days ago with (author, body, hours-ago) replies."""
    replies = tuple(
        reply(
            author,
            at=ago(hours=hours),
            body=body,
            author_platform_staff=staff_flag and author.startswith("staff"),
        )
        for author, body, hours in posts
    )
    return post(channel="forum", created=ago(days=5), replies=replies)


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        (
            "staff asked, author replied",
            _thread(("forum.staffer", "Which version?", 30), ("alice", "11.1", 5)),
            True,
        ),
        (
            "staff (platform flag) asked, another member replied",
            _thread(("staff.flagged", "Logs?", 30), ("carol", "here", 5), staff_flag=True),
            True,
        ),
        (
            "staff answered again",
            _thread(
                ("forum.staffer", "Which version?", 30), ("alice", "11.1", 5), ("forum.staffer", "Thanks", 2)
            ),
            False,
        ),
        (
            "latest staff post is no question",
            _thread(("forum.staffer", "Fixed in 11.2.", 30), ("alice", "ok", 5)),
            False,
        ),
        (
            "question mark only in a URL",
            _thread(("forum.staffer", "See https://d.example/?a=1", 30), ("alice", "ok", 5)),
            False,
        ),
        (
            "reply came after T",
            _thread(("forum.staffer", "Which version?", 30), ("alice", "11.1", -2)),
            False,
        ),
        ("no reply yet", _thread(("forum.staffer", "Which version?", 30)), False),
        (
            "only a bot replied",
            _thread(("forum.staffer", "Which version?", 30), ("helper-bot", "ping", 5)),
            False,
        ),
        ("no staff post", _thread(("bob", "Which version?", 30), ("alice", "11.1", 5)), False),
    ],
)
def test_new_reply_to_core_team_question(case: str, item: Post, expected: bool) -> None:
    assert has_new_reply_to_staff_question(item, ROSTER, SETTINGS, T) is expected, case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Which version are you running?", True),
        ("See https://docs.example/?q=1 for details.", False),
        ("> Is it broken?\nLet me check.", False),
        ("```\nwhy?\n```\nDone.", False),
        ('[quote="alice"]Why?[/quote]\nFixed.', False),
        ("Use `a?b` then", False),
    ],
)
def test_asks_a_question(text: str, expected: bool) -> None:
    assert asks_a_question(text) is expected


def test_sections_are_oldest_first_and_disjoint() -> None:
    old = post(number=1, created=ago(days=10))
    newer = post(number=2, created=ago(days=4))
    topic = _forum("SAML broken after upgrade", number=3)
    sections = find_help_wanted_sections([newer, topic, old], ROSTER, SETTINGS, T, RELEASES)
    assert sections.waiting_for_first_response == (old, newer)
    assert sections.after_the_release == (topic,)
    assert sections.total == 3


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("created in the interval", post(created=ago(hours=5)), True),
        ("created exactly at T", post(created=T), True),
        ("created exactly at T - 1 day", post(created=ago(days=1)), False),
        ("created after T", post(created=T.replace(hour=10)), False),
        ("by staff", post(created=ago(hours=5), author="staffer"), False),
        ("by a bot", post(created=ago(hours=5), author="x[bot]"), False),
        ("pull request", post(created=ago(hours=5), is_pull_request=True), False),
        ("Help Wanted from Jira", post(created=ago(hours=5), labels=("Help Wanted",), body=JIRA_BODY), False),
        ("GitLab issue", post(channel="gitlab", created=ago(hours=5)), True),
        ("answered already (still new)", post(created=ago(hours=5), replies=(reply("bob"),)), True),
    ],
)
def test_new_posts_for_triage(case: str, item: Post, expected: bool) -> None:
    assert (item in find_new_posts([item], ROSTER, SETTINGS, T)) is expected, case


def test_new_posts_sorted_by_creation() -> None:
    first = post(number=1, created=ago(hours=20))
    second = replace(first, source_id="o/r#2", url="https://example.test/2", created_at=ago(hours=2))
    assert find_new_posts([second, first], ROSTER, SETTINGS, T) == [first, second]
