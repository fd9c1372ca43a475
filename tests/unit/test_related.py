"""Related items across channels (SPEC §4, "Related items"): matches, states as of T, actions, duplicates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from builders import SCHEDULE_IDEA, SETTINGS, T, ago, post, release
from builders import jira_ticket as ticket
from community_monitoring.records import JiraTicket, JiraVersion, Post, Release, StatusMove
from community_monitoring.related import (
    ActionOverride,
    Related,
    also_posted_text,
    coming_in,
    comparable_text,
    decide_action,
    find_related,
    fold_duplicates,
    jira_state,
    post_state,
)
from community_monitoring.roster import StaffRoster
from community_monitoring.settings import load_settings
from community_monitoring.sheet_plan import ReleasesAt

NEW = ago(hours=2)

ROSTER = StaffRoster.parse('{"github": ["amy"], "bots": ["forum-bot"]}')


def settings(**related: Any) -> Any:
    return load_settings({"related": related}) if related else SETTINGS


PUSH_BUG = post(
    title="Android push notifications not delivered after upgrading",
    body="Since the upgrade to 10.5 push notifications are not delivered on Android.",
    number=12,
    created=NEW,
)
UNRELATED = post(
    title="LDAP sync fails with a timeout", body="Our LDAP sync stops after 60 seconds.", number=13
)
PUSH_TICKET = ticket(
    "MM-61500",
    "Push notifications not delivered on Android after upgrade",
    status="In Progress",
    status_category="In Progress",
    resolution=None,
    fix_versions=("11.3",),
)
RELEASED_11_1 = (release("v11.1.0", days_ago=5),)


def keys_for(new: Post, found: dict[str, tuple[Related, ...]]) -> list[str]:
    return [r.key for r in found.get(new.url, ())]


# The schedule idea scores about 0.59 against MM-61501 (and nothing against MM-61500).
@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(0.35, ["MM-61501"]), (0.55, ["MM-61501"]), (0.65, []), (0.9, [])],
)
def test_a_match_is_shown_only_above_the_threshold(threshold: float, expected: list[str]) -> None:
    found = find_related(
        [SCHEDULE_IDEA], [], [ticket(), PUSH_TICKET], RELEASED_11_1, settings(threshold=threshold), T
    )
    assert keys_for(SCHEDULE_IDEA, found) == expected


@pytest.mark.parametrize(("nudge", "expected"), [(0.0, ["MM-61501"]), (0.001, [])])
def test_a_score_equal_to_the_threshold_is_a_match(nudge: float, expected: list[str]) -> None:
    loose = find_related([SCHEDULE_IDEA], [], [ticket()], (), settings(threshold=0.1), T)
    score = loose[SCHEDULE_IDEA.url][0].score
    exact = find_related([SCHEDULE_IDEA], [], [ticket()], (), settings(threshold=score + nudge), T)
    assert keys_for(SCHEDULE_IDEA, exact) == expected


def test_each_post_gets_its_own_matches_and_unrelated_posts_none() -> None:
    found = find_related(
        [SCHEDULE_IDEA, PUSH_BUG, UNRELATED], [], [ticket(), PUSH_TICKET], RELEASED_11_1, SETTINGS, T
    )
    assert {url: [r.key for r in items] for url, items in found.items()} == {
        SCHEDULE_IDEA.url: ["MM-61501"],
        PUSH_BUG.url: ["MM-61500"],
    }
    assert found[SCHEDULE_IDEA.url][0].summary == "MM-61501 · Done · fixed in 11.1"


@pytest.mark.parametrize(
    ("case", "candidate", "expected"),
    [
        ("the post itself is no match", PUSH_BUG, []),
        ("the same post, edited, is still itself", replace(PUSH_BUG, body="Edited since."), []),
        (
            "an earlier forum topic",
            post(channel="forum", number=77, title=PUSH_BUG.title, created=ago(days=9)),
            ["topic 77"],
        ),
        (
            "created just after T: did not exist",
            post(channel="forum", number=78, title=PUSH_BUG.title, created=T + timedelta(minutes=1)),
            [],
        ),
        (
            "created at T exactly",
            post(channel="forum", number=79, title=PUSH_BUG.title, created=T),
            ["topic 79"],
        ),
        (
            "a GitLab issue",
            post(channel="gitlab", number=5, source_id="g/p#5", title=PUSH_BUG.title),
            ["g/p#5"],
        ),
        (
            "a UserVoice suggestion",
            post(channel="uservoice", number=4387, title=PUSH_BUG.title),
            ["suggestion 4387"],
        ),
        (
            "Stack Overflow questions are not candidates",
            post(channel="stackoverflow", number=6, title=PUSH_BUG.title),
            [],
        ),
        (
            "pull requests are not candidates",
            post(number=90, source_id="o/r#90", title=PUSH_BUG.title, is_pull_request=True),
            [],
        ),
        (
            "a bot's issue is not a candidate (its items are never listed)",
            post(
                number=91,
                source_id="o/r#91",
                title=PUSH_BUG.title,
                author="renovate[bot]",
                author_is_bot=True,
            ),
            [],
        ),
        (
            "nor is the topic of a bot the roster names, which the forum does not flag",
            post(channel="forum", number=92, title=PUSH_BUG.title, author="Forum-Bot"),
            [],
        ),
        (
            "nor an issue by a name ending in [bot] that the platform does not flag",
            post(number=93, source_id="o/r#93", title=PUSH_BUG.title, author="helper[bot]"),
            [],
        ),
    ],
)
def test_which_posts_are_candidates(case: str, candidate: Post, expected: list[str]) -> None:
    found = find_related([PUSH_BUG], [candidate], [], (), SETTINGS, T, roster=ROSTER)
    assert keys_for(PUSH_BUG, found) == expected, case


def test_an_author_copy_folded_into_the_post_is_not_shown_again_as_related() -> None:
    copy = post(channel="forum", number=80, title=PUSH_BUG.title, created=NEW)
    other = post(channel="forum", number=81, title=PUSH_BUG.title, author="zoe", created=ago(days=3))
    found = find_related([PUSH_BUG], [copy, other], [], (), SETTINGS, T, also_posted={PUSH_BUG.url: (copy,)})
    assert keys_for(PUSH_BUG, found) == ["topic 81"]


@pytest.mark.parametrize(
    ("case", "earlier", "own_copy"),
    [
        (
            "the author's topic of two days ago is their own copy",
            post(channel="forum", number=82, title=PUSH_BUG.title, created=ago(days=2)),
            True,
        ),
        (
            "the author's name in another case is the same author",
            post(channel="forum", number=83, title=PUSH_BUG.title, author="ALICE", created=ago(days=2)),
            True,
        ),
        (
            "another author's topic is a related item",
            post(channel="forum", number=84, title=PUSH_BUG.title, author="zoe", created=ago(days=2)),
            False,
        ),
        (
            "the author's issue on the same channel is a related item (two items on one channel never fold)",
            post(number=85, source_id="o/r#85", title=PUSH_BUG.title, created=ago(days=2)),
            False,
        ),
        (
            "a copy posted after the post is not the one it copies",
            post(channel="gitlab", number=86, source_id="g/p#86", title=PUSH_BUG.title, created=ago(hours=1)),
            False,
        ),
        (
            "a deleted account is many people",
            post(channel="forum", number=87, title=PUSH_BUG.title, author="ghost", created=ago(days=2)),
            False,
        ),
        (
            "a topic related but less similar than a copy is not a copy",
            post(
                channel="forum",
                number=88,
                title="Android push notifications",
                body="Are notifications supported at all on tablets?",
                created=ago(days=2),
            ),
            False,
        ),
    ],
)
def test_the_authors_earlier_copy_on_another_channel_is_marked_as_their_own(
    case: str, earlier: Post, own_copy: bool
) -> None:
    """SPEC §4: the same author posting the same thing on two channels is "also posted on", also when
    the first copy was posted on an earlier day (and listed then), not a related item."""
    new = replace(PUSH_BUG, author=earlier.author) if earlier.author == "ghost" else PUSH_BUG
    found = find_related([new], [earlier], [], (), settings(threshold=0.2), T)
    (item,) = found[new.url]
    assert item.own_copy is own_copy, case
    assert (item.post is earlier) if own_copy else True


def _copy(channel: str, number: int, days: float, **kwargs: Any) -> Post:
    """The author's copy of PUSH_BUG on ``channel``, posted ``days`` before T."""
    fields = {"title": PUSH_BUG.title, "body": PUSH_BUG.body, **kwargs}
    return post(
        channel=channel, number=number, source_id=f"{channel}-{number}", created=ago(days=days), **fields
    )


# The deciding ticket, and an earlier GitHub issue of someone else's, both less similar than the copies.
EARLIER_ISSUE = post(
    number=40,
    source_id="o/r#40",
    author="zoe",
    title="Push notifications not delivered on Android",
    created=ago(days=20),
)


@pytest.mark.parametrize(
    ("case", "copies", "max_shown", "others", "also_posted"),
    [
        (
            "copies on the forum and UserVoice leave both places to the issue and the ticket",
            [_copy("forum", 81, 2), _copy("uservoice", 82, 3)],
            2,
            ["o/r#40", "MM-61500"],
            ["topic 81", "suggestion 82"],
        ),
        (
            "one place: the best other item",
            [_copy("forum", 81, 2), _copy("uservoice", 82, 3)],
            1,
            ["o/r#40"],
            ["topic 81", "suggestion 82"],
        ),
        (
            "the best copy per channel is the author's copy; a second one there is a related item",
            [_copy("forum", 83, 2), _copy("forum", 84, 4, body="Android push broke after upgrading.")],
            3,
            ["o/r#40", "MM-61500", "topic 84"],
            ["topic 83"],
        ),
        (
            "copies of the same score on one channel: the first candidate is the copy",
            [_copy("forum", 85, 2), _copy("forum", 86, 3)],
            2,
            ["topic 86", "o/r#40"],
            ["topic 85"],
        ),
        (
            "a copy posted after the post is a related item",
            [_copy("forum", 87, 0.02)],
            2,
            ["topic 87", "o/r#40"],
            [],
        ),
        (
            "another author's post of the same text is a related item",
            [_copy("forum", 88, 2, author="bob"), _copy("uservoice", 89, 3)],
            2,
            ["topic 88", "o/r#40"],
            ["suggestion 89"],
        ),
        (
            "a deleted account's post is no one's copy",
            [_copy("forum", 80, 2, author="ghost")],
            2,
            ["topic 80", "o/r#40"],
            [],
        ),
    ],
)
def test_the_authors_copies_take_none_of_the_related_items_places(
    case: str, copies: list[Post], max_shown: int, others: list[str], also_posted: list[str]
) -> None:
    """SPEC §4: a post its author also posted on the forum and UserVoice on earlier days still shows
    its ``max_shown`` best other related items; the copies are "also posted on", best first."""
    new = replace(PUSH_BUG, author=copies[0].author) if copies[0].author == "ghost" else PUSH_BUG
    found = find_related(
        [new], [EARLIER_ISSUE, *copies], [PUSH_TICKET], (), settings(max_shown=max_shown, threshold=0.2), T
    )
    items = found[new.url]
    assert [r.key for r in items if not r.own_copy] == others, case
    assert [r.key for r in items if r.own_copy] == also_posted, case
    assert all(r.post is not None for r in items if r.own_copy)


def test_the_authors_copy_is_found_among_many_equal_hits() -> None:
    """Hundreds of other authors' topics as similar as the copy: the copy, the last candidate, is
    still found (among all hits, not only the best), and the ties keep candidate order."""
    crowd = [_copy("forum", 1000 + i, 5, author=f"user{i}") for i in range(300)]
    found = find_related([PUSH_BUG], [*crowd, _copy("uservoice", 99, 3)], [], (), settings(max_shown=2), T)
    items = found[PUSH_BUG.url]
    assert [(r.key, r.own_copy) for r in items] == [
        ("topic 1000", False),
        ("topic 1001", False),
        ("suggestion 99", True),
    ]


def test_a_copy_folded_on_the_same_day_leaves_its_channel_to_no_earlier_copy() -> None:
    """The author posted on the forum today (folded: "also posted on") and on an earlier day: one
    item never names two copies on one channel, the earlier topic is an ordinary related item."""
    today = _copy("forum", 90, 0.01)
    earlier = _copy("forum", 91, 3)
    found = find_related(
        [PUSH_BUG], [today, earlier], [], (), settings(threshold=0.2), T, also_posted={PUSH_BUG.url: (today,)}
    )
    assert [(r.key, r.own_copy) for r in found[PUSH_BUG.url]] == [("topic 91", False)]


def similar_tickets() -> list[JiraTicket]:
    """Least similar first, so that candidate order alone would give the wrong answer."""
    return [
        ticket("MM-3", "Push notifications", resolution=None),
        ticket("MM-2", "Push notifications not delivered on Android after upgrade", resolution=None),
        ticket("MM-1", "Android push notifications not delivered", resolution=None),
    ]


@pytest.mark.parametrize(
    ("max_shown", "expected"),
    [(1, ["MM-1"]), (2, ["MM-1", "MM-2"]), (3, ["MM-1", "MM-2", "MM-3"])],
)
def test_at_most_max_shown_best_first(max_shown: int, expected: list[str]) -> None:
    found = find_related(
        [PUSH_BUG], [], similar_tickets(), (), settings(max_shown=max_shown, threshold=0.2), T
    )
    assert keys_for(PUSH_BUG, found) == expected
    scores = [r.score for r in found[PUSH_BUG.url]]
    assert scores == sorted(scores, reverse=True)


def test_switched_off_relates_nothing() -> None:
    assert find_related([PUSH_BUG], [], [PUSH_TICKET], (), settings(enabled=False), T) == {}


@pytest.mark.parametrize(
    ("case", "releases", "as_of", "state", "released_in"),
    [
        ("11.1.0 published before T", RELEASED_11_1, T, "Done · fixed in 11.1", "11.1"),
        (
            "the same ticket ten days earlier: the release was not out yet",
            RELEASED_11_1,
            T - timedelta(days=10),
            "Done · fixVersion v11.1, not released yet",
            None,
        ),
        ("a tag without the patch number", (release("v11.1", 1),), T, "Done · fixed in 11.1", "11.1"),
        (
            "a draft release",
            (release("v11.1.0", 1, draft=True),),
            T,
            "Done · fixVersion v11.1, not released yet",
            None,
        ),
        (
            "a prerelease",
            (release("v11.1.0", 1, prerelease=True),),
            T,
            "Done · fixVersion v11.1, not released yet",
            None,
        ),
        (
            "11.10 is not 11.1, but 11.1 is older than every release known: shipped",
            (release("v11.10.0", 1),),
            T,
            "Done · fixed in 11.1",
            "11.1",
        ),
        (
            "11.1.1 is not 11.1, but came after it: 11.1 shipped",
            (release("v11.1.1", 1),),
            T,
            "Done · fixed in 11.1",
            "11.1",
        ),
        (
            "11.0 released, 11.1 not yet",
            (release("v11.0.0", 1),),
            T,
            "Done · fixVersion v11.1, not released yet",
            None,
        ),
    ],
)
def test_a_fix_version_is_released_only_by_a_release_published_by_t(
    case: str, releases: tuple[Release, ...], as_of: Any, state: str, released_in: str | None
) -> None:
    shown, is_open, shipped = jira_state(ticket(), ReleasesAt.of(releases, as_of))
    assert (shown, is_open, shipped) == (state, False, released_in), case


@pytest.mark.parametrize(
    ("case", "item", "releases", "expected"),
    [
        ("done in 11.1, only 11.0 out", ticket(), (release("v11.0.0", 1),), "11.1"),
        ("done in 11.1, 11.1 out: shipped, not coming", ticket(), RELEASED_11_1, None),
        ("no release known at all", ticket(), (), "11.1"),
        (
            "the earliest unreleased fixVersion",
            ticket(fix_versions=("v11.3", "v11.2")),
            RELEASED_11_1,
            "11.2",
        ),
        (
            "won't fix ships nothing",
            ticket(status="Closed", resolution="Won't Fix", fix_versions=("v11.3",)),
            (),
            None,
        ),
        ("done without a fixVersion", ticket(fix_versions=()), (), None),
        (
            "resolved after T: still open at T",
            ticket(resolved_at=(T + timedelta(hours=3)).isoformat(), fix_versions=("v11.3",)),
            RELEASED_11_1,
            None,
        ),
        (
            "open with a fixVersion: planned, not built",
            ticket(
                status="In Progress", status_category="In Progress", resolution=None, fix_versions=("v11.3",)
            ),
            RELEASED_11_1,
            None,
        ),
    ],
)
def test_coming_in_names_the_release_a_built_feature_waits_for(
    case: str, item: JiraTicket, releases: tuple[Release, ...], expected: str | None
) -> None:
    assert coming_in(item, ReleasesAt.of(releases, T)) == expected, case


def other_product(name: str, day: str | None, released: bool = True, archived: bool = False) -> JiraVersion:
    return JiraVersion(name=name, released=released, archived=archived, release_date=day)


DESKTOP_OUT = other_product("Desktop v5.10", "2026-11-02")  # T is 2026-11-18


@pytest.mark.parametrize(
    ("case", "fix_versions", "versions", "state", "released_in", "waits_for"),
    [
        (
            "Desktop released before T",
            ("Desktop v5.10",),
            (DESKTOP_OUT,),
            "Done · fixed in Desktop v5.10",
            "Desktop v5.10",
            None,
        ),
        (
            "Mobile released after T (a backfill)",
            ("Mobile v2.22.0",),
            (other_product("Mobile v2.22.0", "2026-11-25"),),
            "Done · fixVersion Mobile v2.22.0, not released yet",
            None,
            "Mobile v2.22.0",
        ),
        (
            "Desktop archived without a release",
            ("Desktop v5.9",),
            (other_product("Desktop v5.9", None, released=False, archived=True),),
            "Done · fixVersion Desktop v5.9, archived without a release",
            None,
            None,
        ),
        (
            "11.2 not on GitHub yet, Desktop out",
            ("v11.2", "Desktop v5.10"),
            (other_product("v11.2", "2026-11-17"), DESKTOP_OUT),
            "Done · fixed in Desktop v5.10",
            "Desktop v5.10",
            None,
        ),
        (
            "both out: the server's release first",
            ("Desktop v5.10", "v11.1"),
            (DESKTOP_OUT,),
            "Done · fixed in 11.1",
            "11.1",
            None,
        ),
    ],
)
def test_another_products_version_is_released_as_jira_dates_it(
    case: str,
    fix_versions: tuple[str, ...],
    versions: tuple[JiraVersion, ...],
    state: str,
    released_in: str | None,
    waits_for: str | None,
) -> None:
    item = ticket(fix_versions=fix_versions, versions=versions)
    released = ReleasesAt.of(RELEASED_11_1, T)
    shown, is_open, shipped = jira_state(item, released)
    assert (shown, is_open, shipped) == (state, False, released_in), case
    assert coming_in(item, released) == waits_for, case


def test_a_feature_shipped_in_another_products_release_is_already_available() -> None:
    shipped = ticket(fix_versions=("Desktop v5.10",), versions=(DESKTOP_OUT,))
    (item,) = find_related([SCHEDULE_IDEA], [], [shipped], RELEASED_11_1, settings(), T)[SCHEDULE_IDEA.url]
    assert decide_action("feature_proposal", [item]) == ActionOverride(
        "already_available", shipped.key, shipped.url, "Desktop v5.10"
    )


def test_a_related_ticket_built_for_an_unreleased_version_says_so() -> None:
    found = find_related([SCHEDULE_IDEA], [], [ticket(fix_versions=("v11.3",))], RELEASED_11_1, settings(), T)
    (item,) = found[SCHEDULE_IDEA.url]
    assert (item.released_in, item.coming_in, item.is_open) == (None, "11.3", False)


@pytest.mark.parametrize(
    ("case", "item", "state", "is_open"),
    [
        ("in progress with a fixVersion", PUSH_TICKET, "In Progress · fixVersion 11.3", True),
        (
            "to do, no fixVersion",
            ticket(status="To Do", status_category="To Do", resolution=None, fix_versions=()),
            "To Do",
            True,
        ),
        (
            "won't fix is closed but shipped nothing",
            ticket(status="Closed", resolution="Won't Fix"),
            "Closed · Won't Fix",
            False,
        ),
        ("done without a fixVersion", ticket(fix_versions=()), "Done · Fixed", False),
        ("resolution named like the status", ticket(resolution="Done", fix_versions=()), "Done", False),
        ("done category without a resolution", ticket(resolution=None, fix_versions=()), "Done", False),
        (
            "resolved after T: still open at T",
            ticket(resolved_at=(T + timedelta(hours=3)).isoformat(), fix_versions=("11.3",)),
            "Open · fixVersion 11.3",
            True,
        ),
        (
            "moved to Done after T without a resolution: open at T",
            ticket(resolution=None, resolved_at=(T + timedelta(hours=3)).isoformat(), fix_versions=()),
            "Open",
            True,
        ),
        (
            "resolved before T",
            ticket(resolved_at=ago(days=1).isoformat(), fix_versions=()),
            "Done · Fixed",
            False,
        ),
    ],
)
def test_ticket_state_open_or_resolved_at_t(case: str, item: JiraTicket, state: str, is_open: bool) -> None:
    shown, open_at_t, shipped = jira_state(item, ReleasesAt.of(RELEASED_11_1, T))
    assert (shown, open_at_t, shipped) == (state, is_open, None), case


@pytest.mark.parametrize(
    ("case", "item", "state", "is_open"),
    [
        ("open issue", post(), "open", True),
        ("closed before T", post(state="closed", closed_at=ago(days=1)), "closed", False),
        ("closed after T: open at T", post(state="closed", closed_at=T + timedelta(hours=1)), "open", True),
        ("closed, time unknown", post(state="closed"), "closed", False),
        ("UserVoice shows its status", post(channel="uservoice", status="Planned"), "Planned", True),
        (
            "UserVoice: a status set after T shows the one it had at T",
            post(
                channel="uservoice",
                status="Completed",
                status_moves=(
                    StatusMove(ago(days=3), "Planned"),
                    StatusMove(T + timedelta(hours=2), "Completed"),
                ),
            ),
            "Planned",
            True,
        ),
        (
            "UserVoice: its first status came after T: none at T, so open",
            post(
                channel="uservoice",
                status="Under Review",
                status_moves=(StatusMove(T + timedelta(hours=2), "Under Review"),),
            ),
            "open",
            True,
        ),
    ],
)
def test_post_state_at_t(case: str, item: Post, state: str, is_open: bool) -> None:
    assert post_state(item, T) == (state, is_open), case


def related(
    kind: str = "jira",
    key: str = "MM-1",
    is_open: bool = True,
    released_in: str | None = None,
    coming_in: str | None = None,
) -> Related:
    return Related(kind, key, f"https://x.test/{key}", "t", 0.5, "s", is_open, released_in, coming_in)  # type: ignore[arg-type]


SHIPPED = related(key="MM-61501", is_open=False, released_in="11.1")
OPEN = related(key="MM-61500")
RESOLVED_UNRELEASED = related(key="MM-7", is_open=False, coming_in="11.3")
DECLINED = related(key="MM-8", is_open=False)


@pytest.mark.parametrize(
    ("case", "post_type", "items", "expected"),
    [
        (
            "feature shipped in a release",
            "feature_proposal",
            (SHIPPED,),
            ActionOverride("already_available", "MM-61501", SHIPPED.url, "11.1"),
        ),
        (
            "the shipped ticket decides even when not the closest",
            "feature_proposal",
            (OPEN, SHIPPED),
            ActionOverride("already_available", "MM-61501", SHIPPED.url, "11.1"),
        ),
        (
            "feature built, its release not out: coming in that release",
            "feature_proposal",
            (RESOLVED_UNRELEASED,),
            ActionOverride("coming", "MM-7", RESOLVED_UNRELEASED.url, "11.3"),
        ),
        (
            "a shipped ticket wins over one still waiting for its release",
            "feature_proposal",
            (RESOLVED_UNRELEASED, SHIPPED),
            ActionOverride("already_available", "MM-61501", SHIPPED.url, "11.1"),
        ),
        ("feature whose ticket was declined", "feature_proposal", (DECLINED,), None),
        ("a bug is not told it is coming", "bug", (RESOLVED_UNRELEASED,), None),
        ("feature with an open ticket", "feature_proposal", (OPEN,), None),
        (
            "bug with an open ticket",
            "bug",
            (RESOLVED_UNRELEASED, OPEN),
            ActionOverride("tracked", "MM-61500", OPEN.url),
        ),
        ("bug with only a shipped ticket", "bug", (SHIPPED,), None),
        ("an open issue is no ticket", "bug", (related("github", "o/r#1"),), None),
        ("troubleshooting is left alone", "troubleshooting", (OPEN, SHIPPED), None),
        ("question is left alone", "question", (OPEN, SHIPPED), None),
        ("nothing related", "bug", (), None),
    ],
)
def test_decide_action(
    case: str, post_type: str, items: tuple[Related, ...], expected: ActionOverride | None
) -> None:
    assert decide_action(post_type, items) == expected, case


def test_override_action_texts() -> None:
    assert ActionOverride("already_available", "MM-61501", "u", "11.1").action == (
        "Already available in 11.1 (MM-61501): reply with the release and its documentation"
    )
    assert (
        ActionOverride("tracked", "MM-61500", "u").action == "Tracked in MM-61500: link the ticket in a reply"
    )
    assert ActionOverride("coming", "MM-7", "u", "11.3").action == (
        "Coming in 11.3 (MM-7): reply that the next release brings it"
    )


def test_comparable_text_keeps_the_first_paragraph_of_prose() -> None:
    body = (
        "<!-- describe the issue -->\n### Summary\n> quoted: Cannot connect\n"
        "Push fails, see https://example.com/log and `mmctl`.\n```\nstack\n\ntrace\n```\n\nSecond paragraph."
    )
    assert comparable_text("Title", body).split() == ["Title", "Push", "fails,", "see", "and", "."]


GITHUB_COPY = post(
    title="Push notifications not delivered on Android", body="Since 10.5.", number=21, created=ago(hours=5)
)
FORUM_COPY = post(
    channel="forum",
    author="Alice",
    title="Android push notifications not delivered",
    number=22,
    created=ago(hours=3),
)


@pytest.mark.parametrize(
    ("case", "posts", "kept", "copies"),
    [
        ("same author, two channels", (FORUM_COPY, GITHUB_COPY), [21], {21: [22]}),
        (
            "same author, same channel",
            (GITHUB_COPY, post(title=FORUM_COPY.title, number=23, created=ago(hours=1))),
            [21, 23],
            {},
        ),
        ("another author", (GITHUB_COPY, replace(FORUM_COPY, author="bob")), [21, 22], {}),
        (
            "same author, two channels, different things",
            (GITHUB_COPY, post(channel="forum", title="LDAP sync times out", number=24, created=NEW)),
            [21, 24],
            {},
        ),
        (
            "a second GitHub copy is not folded through the forum copy",
            (GITHUB_COPY, FORUM_COPY, post(title=FORUM_COPY.title, number=25, created=ago(hours=1))),
            [21, 25],
            {21: [22]},
        ),
    ],
)
def test_fold_duplicates(
    case: str, posts: tuple[Post, ...], kept: list[int], copies: dict[int, list[int]]
) -> None:
    kept_posts, also_posted = fold_duplicates(posts, SETTINGS)
    assert sorted(p.number or 0 for p in kept_posts) == sorted(kept), case
    numbers = {p.url: p.number for p in posts}
    assert {numbers[url]: [p.number for p in found] for url, found in also_posted.items()} == copies, case


def test_folding_keeps_the_given_order_and_can_be_switched_off() -> None:
    posts = (UNRELATED, FORUM_COPY, GITHUB_COPY)
    assert fold_duplicates(posts, SETTINGS)[0] == (UNRELATED, GITHUB_COPY)
    assert fold_duplicates(posts, settings(enabled=False)) == (posts, {})


def test_also_posted_text_names_the_channel() -> None:
    assert also_posted_text((FORUM_COPY,)) == f"also posted on Forum {FORUM_COPY.url}"
    assert also_posted_text(()) == ""
