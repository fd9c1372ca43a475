"""SPEC §4 rules, one row per case, evaluated as of T."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, answer, post, reply
from community_monitoring.answers import (
    community_reply_to_staff_question,
    has_accepted_answer_at,
    is_by_author,
    is_substantive,
    replies_at,
)
from community_monitoring.records import Post
from community_monitoring.rules import (
    HelpWantedEntry,
    Release,
    RulesAsOf,
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
from community_monitoring.settings import Settings, load_settings

JIRA_BODY = "Mirrored from https://mattermost.atlassian.net/browse/MM-61234"


def posts_of(entries: tuple[HelpWantedEntry, ...]) -> tuple[Post, ...]:
    return tuple(e.post for e in entries)


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
        ("a +1 by someone else", post(replies=(reply("bob", body="+1"),)), False),
        (
            "same issue, any update? by someone else",
            post(replies=(reply("bob", body="same issue, any update?"),)),
            False,
        ),
        ("emoji only by staff", post(replies=(reply("staffer", body="👀"),)), False),
        ("a quote and a +1", post(replies=(reply("bob", body="> It is broken\n\n+1"),)), False),
        (
            "a me-too, then an answer",
            post(replies=(reply("bob", body="bump", at=ago(hours=3)), answer("carol"))),
            True,
        ),
        ("a real answer", post(replies=(answer("bob"),)), True),
        # A deleted account's reply on a deleted account's post may be the author's own follow-up:
        # the post stays listed (a look too many) rather than pass as answered (a post unseen).
        (
            "a deleted account's reply on a deleted account's post",
            post(author="deleted-user", replies=(answer("deleted-user"),)),
            False,
        ),
        ("GitHub's ghost on a ghost's issue", post(author="ghost", replies=(answer("ghost"),)), False),
        ("someone named on a ghost's issue", post(author="ghost", replies=(answer("bob"),)), True),
        ("a ghost on a named author's issue", post(author="alice", replies=(answer("ghost"),)), True),
        (
            "account ids decide where both have one",
            post(author="deleted-user", author_id="1", replies=(answer("deleted-user", author_id="2"),)),
            True,
        ),
    ],
)
def test_has_response(case: str, item: Post, expected: bool) -> None:
    assert has_response(item, ROSTER, T, SETTINGS) is expected, case
    # The reader the digests use decides the same.
    assert RulesAsOf(ROSTER, SETTINGS, T).has_response(item) is expected, case


@pytest.mark.parametrize(
    ("case", "labels", "body", "author", "channel", "expected"),
    [
        ("label and Jira link", ("Help Wanted",), JIRA_BODY, "alice", "github", True),
        ("label lower case and Jira link", ("help wanted",), JIRA_BODY, "alice", "github", True),
        ("label and sync account", ("Help Wanted",), "", "mattermost-jira-sync", "github", True),
        # Every issue the sync account opens is a mirrored Jira ticket (SPEC §4's "or").
        ("sync account, no label", (), "", "mattermost-jira-sync", "github", True),
        ("sync account, name in another case", (), "", "Mattermost-Jira-Sync", "github", True),
        ("sync account name on the forum", (), "", "mattermost-jira-sync", "forum", False),
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
    assert RulesAsOf(ROSTER, SETTINGS, T).is_help_wanted_from_jira(item) is expected, case
    assert RulesAsOf(ROSTER, SETTINGS, T).is_listable(item) is not expected, case


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("open", post(), True),
        ("closed before T", post(state="closed", closed_at=ago(days=1)), False),
        ("closed after T", post(state="closed", closed_at=T.replace(hour=12)), True),
        ("closed, time unknown", post(state="closed"), False),
        ("reopened after T", post(closed_at=ago(days=1), reopened_at=T.replace(hour=12)), False),
        ("reopened after T, closed at T", post(closed_at=T, reopened_at=T.replace(hour=12)), False),
        ("reopened before T", post(closed_at=ago(days=2), reopened_at=ago(days=1)), True),
        (
            "closed and reopened after T",
            post(closed_at=T.replace(hour=11), reopened_at=T.replace(hour=12)),
            True,
        ),
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
    ("only a me-too by someone else", post(replies=(reply("bob", at=ago(days=1), body="Same here!"),)), True),
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
    (
        "solved by its author (a marked solution) before T",
        post(
            channel="forum",
            replies=(reply("alice", at=ago(days=2), body="Fixed it myself"),),
            accepted_at=ago(days=2),
        ),
        False,
    ),
    ("a solution marked after T", post(channel="forum", accepted_at=T + timedelta(hours=1)), True),
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
        (
            "phrase wrapped onto the next line",
            _forum("Search", "Empty after\nupdate to 11.1"),
            RELEASES,
            True,
        ),
        # rv35: a blank line ends the paragraph: its last word and the next one's first are no phrase.
        (
            "phrase's words in two paragraphs",
            _forum("Search", "Search was fine before, broken after\n\nUpdate: it was the proxy"),
            RELEASES,
            False,
        ),
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
    assert (item in posts_of(sections.after_the_release)) is expected, case


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
    old = post(number=1, created=ago(days=6))
    newer = post(number=2, created=ago(days=4))
    topic = _forum("SAML broken after upgrade", number=3)
    sections = find_help_wanted_sections([newer, topic, old], ROSTER, SETTINGS, T, RELEASES)
    assert posts_of(sections.waiting_for_first_response) == (old, newer)
    assert posts_of(sections.after_the_release) == (topic,)
    assert sections.escalated == ()
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


def _where(item: Post, as_of: datetime, config: Settings = SETTINGS) -> tuple[str, HelpWantedEntry]:
    """The digest section the item is listed in as of ``as_of``, and its entry."""
    sections = find_help_wanted_sections([item], ROSTER, config, as_of, RELEASES)
    for name in ("escalated", *HELP_WANTED_SECTIONS):
        for entry in getattr(sections, name):
            return name, entry
    raise AssertionError("not listed")


HELP_WANTED_SECTIONS = ("waiting_for_first_response", "after_the_release", "new_reply_to_core_team_question")
GAVE = "It is 11.1.0 on Ubuntu, behind nginx."


def _asked_and_answered(question_days_ago: float, reply_days_ago: float, days_old: float = 20) -> Post:
    """A forum topic (20 days old) where staff asked and the author answered."""
    return post(
        channel="forum",
        created=ago(days=days_old),
        replies=(
            answer("forum.staffer", at=ago(days=question_days_ago), body="Which version?"),
            answer("alice", at=ago(days=reply_days_ago), body=GAVE),
        ),
    )


LADDER_CASES = [
    # (case, item, as_of, the section it is listed in, day on the list, ladder step, last call)
    ("first response: day 1", post(created=ago(days=2)), T, "waiting_for_first_response", 1, "listed", False),
    ("first response: day 2", post(created=ago(days=3)), T, "waiting_for_first_response", 2, "listed", False),
    (
        "first response: day 3 mentions the rotation",
        post(created=ago(days=4)),
        T,
        "waiting_for_first_response",
        3,
        "mention_rotation",
        False,
    ),
    (
        "first response: day 6 still in its section",
        post(created=ago(days=7, hours=1)),
        T,
        "waiting_for_first_response",
        6,
        "mention_rotation",
        False,
    ),
    ("first response: day 7 escalates", post(created=ago(days=8)), T, "escalated", 7, "escalated", False),
    (
        "the same post four days earlier: day 3",
        post(created=ago(days=8)),
        ago(days=4),
        "waiting_for_first_response",
        3,
        "mention_rotation",
        False,
    ),
    (
        "3 days before it ages out: last call",
        post(created=ago(days=27)),
        T,
        "escalated",
        26,
        "escalated",
        True,
    ),
    (
        "the same post a day earlier: no last call yet",
        post(created=ago(days=27)),
        ago(days=1),
        "escalated",
        25,
        "escalated",
        False,
    ),
    (
        "after the release: day 1",
        _forum("SAML broken after upgrade"),
        T,
        "after_the_release",
        1,
        "listed",
        False,
    ),
    (
        "core-team question answered yesterday: day 2",
        _asked_and_answered(3, 1),
        T,
        "new_reply_to_core_team_question",
        2,
        "listed",
        False,
    ),
    (
        "core-team question answered 6 days ago: day 7 escalates",
        _asked_and_answered(10, 6),
        T,
        "escalated",
        7,
        "escalated",
        False,
    ),
    # sc34: a new reply to a core-team question has no age window (SPEC §4 (b) 3), so it never ages
    # out of the list: 28 days after it was posted it is no "last call", and 40 days after still listed.
    (
        "core-team question answered, topic 28 days old: no last call",
        _asked_and_answered(5, 1, days_old=28),
        T,
        "new_reply_to_core_team_question",
        2,
        "listed",
        False,
    ),
    (
        "core-team question answered, topic 40 days old: still listed",
        _asked_and_answered(5, 1, days_old=40),
        T,
        "new_reply_to_core_team_question",
        2,
        "listed",
        False,
    ),
    (
        "the same topic before staff asked: waiting for a first response, day 4",
        _asked_and_answered(10, 6),
        ago(days=15),
        "waiting_for_first_response",
        4,
        "mention_rotation",
        False,
    ),
]


@pytest.mark.parametrize(("case", "item", "as_of", "section", "day", "step", "last_call"), LADDER_CASES)
def test_days_on_the_list_and_the_ladder(
    case: str, item: Post, as_of: datetime, section: str, day: int, step: str, last_call: bool
) -> None:
    found, entry = _where(item, as_of)
    assert (found, entry.day, entry.step, entry.last_call) == (section, day, step, last_call), case


@pytest.mark.parametrize(
    ("case", "item", "as_of", "state"),
    [
        ("waiting for a first response", post(created=ago(days=4)), T, "unanswered"),
        ("the author answered staff's question", _asked_and_answered(3, 1), T, "waiting_on_us"),
        (
            "before staff asked: no reply by anyone else",
            _asked_and_answered(3, 1),
            ago(days=12),
            "unanswered",
        ),
    ],
)
def test_entries_carry_the_answer_state(case: str, item: Post, as_of: datetime, state: str) -> None:
    assert _where(item, as_of)[1].state == state, case


def test_a_me_too_after_a_staff_question_is_no_new_reply() -> None:
    topic = post(
        channel="forum",
        created=ago(days=5),
        replies=(
            answer("forum.staffer", at=ago(days=3), body="Which version?"),
            reply("carol", at=ago(days=1), body="Same here, any update?"),
        ),
    )
    assert not has_new_reply_to_staff_question(topic, ROSTER, SETTINGS, T)


def test_escalated_items_from_every_section_sit_first_oldest_first() -> None:
    waiting = post(number=1, created=ago(days=9))
    older_waiting = post(number=2, created=ago(days=12))
    question = replace(_asked_and_answered(10, 6), number=3, url="https://example.test/forum/3")
    fresh = post(number=4, created=ago(days=3))
    sections = find_help_wanted_sections(
        [waiting, question, fresh, older_waiting], ROSTER, SETTINGS, T, RELEASES
    )
    assert posts_of(sections.escalated) == (question, older_waiting, waiting)
    assert [e.section for e in sections.escalated] == [
        "new_reply_to_core_team_question",
        "waiting_for_first_response",
        "waiting_for_first_response",
    ]
    assert posts_of(sections.waiting_for_first_response) == (fresh,)
    assert sections.new_reply_to_core_team_question == ()
    assert posts_of(sections.entries) == (question, older_waiting, waiting, fresh)


ROUTED = load_settings({"routing": [{"match": {"labels": ["Mobile"]}, "owner": "@mobile-team"}]})


@pytest.mark.parametrize(
    ("case", "item", "owner"),
    [
        ("a matching label", post(labels=("mobile",), created=ago(days=5)), "mobile-team"),
        ("no route matches", post(labels=("Server",), created=ago(days=5)), ""),
    ],
)
def test_entries_name_their_routed_owner(case: str, item: Post, owner: str) -> None:
    assert _where(item, T, ROUTED)[1].owner == owner, case


@pytest.mark.parametrize(
    "keywords",
    [
        ["SSO", "SSO login", "sso login page", "login"],
        ["c++", "C#", "node.js", ".net", "+1", "e-mail", "email"],
        ["a", "ab", "abc", "a b"],
        ["Straße", "kelvin", "saml"],  # outside ASCII: the plain alternation
    ],
)
def test_keyword_pattern_matches_like_the_plain_alternation(keywords: list[str]) -> None:
    """Whole words, case-insensitive, the longest keyword first where several start at one place."""
    import re

    from community_monitoring.rules import keyword_pattern

    ordered = sorted({k.casefold() for k in keywords}, key=len, reverse=True)
    # A space in a keyword is any run of white space with at most one line end in it (a phrase
    # wrapped onto the next line, not one whose words a blank line puts in two paragraphs).
    space = r"[^\S\n]*\n?[^\S\n]*"
    spaced = [re.escape(k).replace(re.escape(" "), rf"(?=\s){space}(?<=\s)") for k in ordered]
    plain = re.compile("|".join(rf"(?<!\w){k}(?!\w)" for k in spaced), re.IGNORECASE)
    pattern = keyword_pattern(keywords)
    assert pattern is not None
    texts = [
        "SSO Login page is down; sso login works, sso_login and ssologin do not",
        "C++ or c# or Node.JS, .NET, +1, e-mail/email, abc a b ab a",
        "STRASSE straße \u212aelvin SAML, a  b, a\nb, A\tB, a\n\nb, a \n \n b, a\r\n\r\nb, a \r\n b",
        "",
    ]
    for text in texts:
        found = [(m.start(), m.group(0)) for m in pattern.finditer(text)]
        assert found == [(m.start(), m.group(0)) for m in plain.finditer(text)]
    assert keyword_pattern(["", ""]) is None


def _plain_listable(item: Post) -> bool:
    """SPEC §4's list rules read plainly from the thread primitives of ``answers`` and the roster: the
    oracle the memoised ``RulesAsOf`` must agree with."""
    by_sync = item.author.casefold() == SETTINGS.github.jira_sync_account.casefold()
    mirrored = item.channel == "github" and (
        by_sync
        or ("help wanted" in {label.casefold() for label in item.labels} and "/browse/MM-" in item.body)
    )
    return (
        item.created_at <= T
        and not item.is_pull_request
        and not ROSTER.is_bot(item.author, item.author_is_bot)
        and not ROSTER.is_staff(item.channel, item.author, item.author_platform_staff)
        and not mirrored
    )


def _plain_has_response(item: Post) -> bool:
    return any(
        not is_by_author(item, r) and is_substantive(r, ROSTER, SETTINGS.responses)
        for r in replies_at(item, T)
    )


def _plain_waiting(item: Post) -> bool:
    return (
        item.channel in ("github", "forum")
        and _plain_listable(item)
        and is_open_at(item, T)
        and T - timedelta(days=30) < item.created_at <= T - timedelta(days=2)
        and not _plain_has_response(item)
        and not has_accepted_answer_at(item, T)
    )


def _plain_reply_to_staff(item: Post) -> bool:
    return (
        item.channel == "forum"
        and item.created_at <= T
        and is_open_at(item, T)
        and not ROSTER.is_bot(item.author, item.author_is_bot)
        and community_reply_to_staff_question(item, ROSTER, SETTINGS, T) is not None
    )


def test_the_list_rules_agree_with_a_plain_reading() -> None:
    """The digests read 100k posts through one memoised ``RulesAsOf``: over every mix of channel,
    author, label, body, age, state and replies, it answers as the plain reading above."""
    from itertools import product

    bodies = (
        "",
        "+1",
        "Same here.",
        "Which version are you on?",
        "Try restarting the server with the new TLS settings.",
        "see https://x.test/browse/MM-1",
    )
    posts = []
    for n, (channel, author, labels, body, created, state) in enumerate(
        product(
            ("github", "forum", "gitlab", "jira"),
            ("alice", "staffer", "forum.staffer", "helper-bot", "dep[bot]", "mattermost-jira-sync"),
            ((), ("Help Wanted",)),
            bodies[::2],
            (ago(hours=3), ago(days=3), ago(days=40), T + timedelta(hours=1)),
            ("open", "closed"),
        )
    ):
        said = ("Which version are you on?", "Same here.", "v10.5, logs attached", "+1")
        replies = tuple(
            reply(who, at=ago(hours=9 - h), body=said[(n + h) % 4])
            for h, who in enumerate(("forum.staffer", "alice", "staffer", "bob")[: 2 + n % 3])
        )
        posts.append(post(channel, author, created, replies, number=n, labels=labels, body=body, state=state))
    reader = RulesAsOf(ROSTER, SETTINGS, T)
    seen = set()
    for item in posts:
        answers = (
            reader.is_listable(item),
            reader.has_response(item),
            reader.is_waiting_for_first_response(item),
            reader.has_new_reply_to_staff_question(item),
        )
        assert answers == (
            _plain_listable(item),
            _plain_has_response(item),
            _plain_waiting(item),
            _plain_reply_to_staff(item),
        ), item.url
        seen.add(answers)
    # The mix reaches each answer both ways.
    assert all({a[n] for a in seen} == {True, False} for n in range(4)), seen
