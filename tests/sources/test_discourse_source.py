"""Forum extraction through HttpHook against the sandbox: output, paging and requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from community_monitoring.records import DELETED_USER, Post
from community_monitoring.sources import ItemProblem
from community_monitoring.sources.discourse import (
    FIRST_POST_FIELDS,
    TOPIC_FIELDS,
    DiscourseClient,
    _kept,
    build_topic_post,
    category_paths,
    fetch_forum_topics,
)
from community_monitoring.sources.http import ApiClient, HttpPolicy, InvalidResponseError, UpstreamError
from community_sandbox import Sandbox
from scenario_files import days, forum_post, forum_topic, iso, write_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)


def use_forum(monkeypatch: pytest.MonkeyPatch, running: Sandbox, conn_id: str) -> None:
    """The Airflow connection ``conn_id`` pointed at the sandbox's forum, with an API key."""
    conn = {
        "conn_type": "http",
        "host": f"{running.base_url}/discourse",
        "extra": {"Api-Key": "k", "Api-Username": "system"},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def forum(topic_count: int) -> tuple[list[dict], list[dict]]:
    topics, posts = [], []
    post_id = 1
    for i in range(topic_count):
        created = NOW - days(40) + days(i * 0.5)
        thread = [forum_post(post_id, 100 + i, 1, f"author{i}", created, raw=f"Question {i}")]
        post_id += 1
        if i % 2:
            thread.append(
                forum_post(
                    post_id,
                    100 + i,
                    2,
                    "forum.staffer",
                    created + days(0.1),
                    raw="Which version?",
                    staff=True,
                )
            )
            post_id += 1
        topics.append(forum_topic(100 + i, f"Topic {i}", created, thread))
        posts += thread
    posts.sort(key=lambda p: p["created_at"])
    for new_id, p in enumerate(posts, start=1):
        p["id"] = new_id
    return topics, posts


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    topics, posts = forum(80)
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=posts)
    running = Sandbox(scenario).start()
    use_forum(monkeypatch, running, "discourse_test")
    yield running
    running.stop()


def test_topics_created_in_window_with_their_replies(sandbox: Sandbox) -> None:
    client = DiscourseClient(ApiClient("discourse_test", "forum"))
    posts = list(fetch_forum_topics(client, NOW - days(30), NOW, "https://forum.example"))
    # Topics are created every 12 hours from T-40d: (T-30d, T] holds topics 21..79 (topic 20 is at T-30d).
    created = [p.created_at for p in posts]
    assert all(NOW - days(30) < c <= NOW for c in created)
    assert [p.title for p in posts] == [f"Topic {i}" for i in range(21, 80)]
    answered = [p for p in posts if p.replies]
    assert answered
    assert all(r.author_platform_staff for p in answered for r in p.replies)
    assert posts[0].url.startswith("https://forum.example/t/topic-")
    assert posts[0].category == "Troubleshooting"


CATEGORIES = [
    {"id": 1, "name": "Troubleshooting", "slug": "troubleshooting"},
    {"id": 7, "name": "Mobile", "slug": "mobile", "parent_category_id": 1},
    {"id": 8, "name": "iOS", "slug": "ios", "parent_category_id": 7},
    {"id": 9, "name": "Feature Ideas", "slug": "feature-ideas"},
]


# /categories.json answered with its first page only: Feature Ideas alone.
FEATURE_IDEAS_ONLY = {
    "service": "discourse",
    "path": r"/categories\.json$",
    "kind": "body",
    "body": json.dumps(
        {
            "category_list": {
                "categories": [
                    {"id": 9, "name": "Feature Ideas", "subcategory_ids": [], "read_restricted": False}
                ]
            }
        }
    ),
    "content_type": "application/json",
}


def forum_in_categories(
    root: Path, category_ids: tuple[int, ...], faults: list[dict[str, Any]] | None = None
) -> Path:
    """A forum with ``CATEGORIES`` and one topic ("Topic n") in each category id given, in order."""
    topics, posts = [], []
    for n, category in enumerate(category_ids):
        created = NOW - days(3 - n * 0.5)
        thread = [forum_post(n + 1, 100 + n, 1, f"author{n}", created, raw=f"Question {n}")]
        topics.append(forum_topic(100 + n, f"Topic {n}", created, thread, category_id=category))
        posts += thread
    scenario = write_scenario(root, NOW, topics=topics, posts=posts, faults=faults)
    (scenario / "discourse" / "categories.json").write_text(json.dumps(CATEGORIES), encoding="utf-8")
    return scenario


def test_a_topic_in_a_subcategory_carries_the_path_of_its_category(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discourse lists subcategories only when asked to (``include_subcategories``): without them a
    topic in "Troubleshooting > Mobile" had no category, so no category rule could decide it."""
    scenario = forum_in_categories(tmp_path / "s", (1, 7, 8, 9))
    running = Sandbox(scenario).start()
    try:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {
            p.title: p.category for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example")
        }
        asked = [r for r in running.requests_log if r["path"].endswith("/categories.json")]
        # Asked without it, the sandbox (as Discourse) lists the top level and its subcategories' ids.
        plain = requests.get(
            f"{running.base_url}/discourse/categories.json",
            headers={"Api-Key": "k", "Api-Username": "system"},
            timeout=5,
        ).json()["category_list"]["categories"]
    finally:
        running.stop()
    assert found == {
        "Topic 0": "Troubleshooting",
        "Topic 1": "Troubleshooting › Mobile",
        "Topic 2": "Troubleshooting › Mobile › iOS",
        "Topic 3": "Feature Ideas",
    }
    assert [r["query"] for r in asked] == [{"include_subcategories": ["true"]}]
    assert [(c["name"], c["subcategory_ids"], "subcategory_list" in c) for c in plain] == [
        ("Troubleshooting", [7], False),
        ("Feature Ideas", [], False),
    ]


def test_topics_not_everyone_may_read_are_not_public_and_withdrawn_replies_answer_no_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin key reads restricted categories, unlisted topics and hidden posts in /latest.json:
    listed as public, a customer's private outage report went to the public [Help Wanted]."""
    categories = [
        *CATEGORIES,
        {"id": 20, "name": "Customers", "slug": "customers", "read_restricted": True},
        {"id": 21, "name": "Acme", "slug": "acme", "parent_category_id": 20},
    ]
    cases = [  # (category, topic fields, first post fields)
        (1, {}, {}),
        (20, {}, {}),
        (21, {}, {}),
        (1, {"visible": False}, {}),
        (1, {}, {"hidden": True}),
        (1, {}, {}),
    ]
    topics, posts = [], []
    for n, (category, topic_fields, first_fields) in enumerate(cases):
        created = NOW - days(3 - n * 0.25)
        thread = [
            forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, raw=f"Question {n}", **first_fields)
        ]
        topics.append(
            forum_topic(100 + n, f"Topic {n}", created, thread, category_id=category, **topic_fields)
        )
        posts += thread
    withdrawn = forum_post(
        99, 105, 2, "helper", NOW - days(1), raw="(post deleted by author)", user_deleted=True
    )
    deleted = forum_post(98, 105, 3, "spammer", NOW - days(1), raw="buy now", deleted_at=iso(NOW - days(1)))
    hidden = forum_post(97, 105, 4, "rude", NOW - days(1), raw="rtfm", hidden=True)
    answered = forum_post(96, 100, 2, "helper", NOW - days(1), raw="Restart the server.")
    posts += [withdrawn, deleted, hidden, answered]
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=posts)
    (scenario / "discourse" / "categories.json").write_text(json.dumps(categories), encoding="utf-8")
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {p.title: p for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example")}
    assert {title: post.public for title, post in found.items()} == {
        "Topic 0": True,
        "Topic 1": False,  # a read-restricted category
        "Topic 2": False,  # under one
        "Topic 3": False,  # unlisted
        "Topic 4": False,  # its first post hidden after flags
        "Topic 5": True,
    }
    assert [r.body for r in found["Topic 0"].replies] == ["Restart the server."]
    assert found["Topic 5"].replies == ()


def test_a_topic_closed_after_t_is_open_at_t(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A topic's ``closed`` flag is what it is now; its small-action post says when it was closed."""
    from community_monitoring.answers import is_open_at

    topics, posts = [], []
    for n, closed_days_ago in enumerate([None, 1.0, -0.5]):  # not closed; closed before T; after T
        created = NOW - days(4 - n * 0.25)
        thread = [forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, raw=f"Question {n}")]
        if closed_days_ago is not None:
            thread.append(
                forum_post(
                    10 * n + 2,
                    100 + n,
                    2,
                    "system",
                    NOW - days(closed_days_ago),
                    raw="",
                    post_type=3,
                    action_code="closed.enabled",
                )
            )
        topics.append(forum_topic(100 + n, f"Topic {n}", created, thread, closed=closed_days_ago is not None))
        posts += thread
    scenario = write_scenario(tmp_path / "s", NOW + days(1), topics=topics, posts=posts)
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {
            p.title: p for p in fetch_forum_topics(client, NOW - days(30), NOW + days(1), "https://f.example")
        }
    assert {title: is_open_at(post, NOW) for title, post in found.items()} == {
        "Topic 0": True,
        "Topic 1": False,
        "Topic 2": True,  # closed half a day after T: still open in T's digest
    }
    assert found["Topic 2"].closed_at == NOW + days(0.5)
    assert all(post.replies == () for post in found.values())  # a small action answers no one


def test_a_topic_deleted_at_t_is_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin key still reads deleted topics (``deleted_at`` on the topic or on its first post):
    read as live, a spam topic deleted yesterday stayed in [Help Wanted] and [Triage]. One deleted
    after T existed at T (a backfill); one whose time is unreadable is named, not read either way."""
    cases = [  # (topic fields, first post fields)
        ({}, {}),
        ({"deleted_at": iso(NOW - days(1))}, {"deleted_at": iso(NOW - days(1))}),
        ({}, {"deleted_at": iso(NOW - days(0.5))}),
        ({"deleted_at": "yesterday"}, {}),
        ({"deleted_at": iso(NOW + days(0.5))}, {"deleted_at": iso(NOW + days(0.5))}),
    ]
    topics, posts = [], []
    for n, (topic_fields, first_fields) in enumerate(cases):
        created = NOW - days(4 - n * 0.25)
        fields = {"raw": f"Question {n}", **first_fields}
        thread = [forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, **fields)]
        topics.append(forum_topic(100 + n, f"Topic {n}", created, thread, **topic_fields))
        posts += thread
    scenario = write_scenario(tmp_path / "s", NOW + days(1), topics=topics, posts=posts)
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == ["Topic 0", "Topic 4"]
    assert [(p.item, p.post_id) for p in problems] == [("https://f.example/t/topic-103/103", "103")]
    assert "the topic's field 'deleted_at' is not a time: 'yesterday'" in problems[0].problem


def test_a_topic_withdrawn_by_its_author_at_t_is_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author who deletes their own topic withdraws it: Discourse replaces the first post's text
    with "(topic withdrawn by author, will be automatically deleted in 24 hours unless flagged)",
    sets its ``user_deleted`` and closes the topic; ``deleted_at`` comes only a day later. Read as
    live, it was listed in [Triage] for that day, the withdrawal notice as its text. The withdrawal
    is the first post's last edit (``updated_at``): one withdrawn after T existed at T (a backfill)."""
    withdrawn_text = "(topic withdrawn by author, will be automatically deleted in 24 hours unless flagged)"
    cases = [  # (first post fields)
        {},
        {"user_deleted": True, "updated_at": iso(NOW - days(0.5))},
        {"user_deleted": True},  # no time of the edit: withdrawn, as it stands now
        {"user_deleted": True, "updated_at": iso(NOW + days(0.5))},
        {"user_deleted": False, "updated_at": iso(NOW - days(0.5))},
        # When it was withdrawn cannot be told: named, never read as withdrawn (or as live).
        {"user_deleted": True, "updated_at": "yesterday"},
    ]
    topics, posts = [], []
    for n, first_fields in enumerate(cases):
        created = NOW - days(4 - n * 0.25)
        raw = withdrawn_text if first_fields.get("user_deleted") else f"Question {n}"
        thread = [forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, raw=raw)]
        thread[0].update(first_fields)
        if "updated_at" not in first_fields:
            thread[0].pop("updated_at")
        closed = bool(first_fields.get("user_deleted"))
        topics.append(forum_topic(100 + n, f"Topic {n}", created, thread, closed=closed))
        posts += thread
    scenario = write_scenario(tmp_path / "s", NOW + days(1), topics=topics, posts=posts)
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == ["Topic 0", "Topic 3", "Topic 4"]
    assert [p.problem for p in problems] == ["the first post's field 'updated_at' is not a time: 'yesterday'"]


def test_a_topic_id_past_64_bits_is_named_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No API gives an id past 64 bits (JSON numbers are unbounded, Python's ints too): a topic listed
    with a 301-digit id became a 301-character source_id, and on Postgres the state table's
    VARCHAR(256) refused it, failing the whole day's snapshot, every channel's rows."""
    huge = 10**300
    topics, posts = [], []
    for n, topic_id in enumerate([100, huge]):
        created = NOW - days(3 - n * 0.5)
        thread = [forum_post(10 * n + 1, topic_id, 1, f"author{n}", created, raw=f"Question {n}")]
        topics.append(forum_topic(topic_id, f"Topic {n}", created, thread))
        posts += thread
    scenario = write_scenario(tmp_path / "s", NOW + days(1), topics=topics, posts=posts)
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == ["Topic 0"]
    assert len(problems) == 1
    assert "less than 9223372036854775808" in problems[0].problem


def test_a_topic_in_a_category_missing_from_the_list_gets_its_path_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forum that pages /categories.json gives its first page only (here: Feature Ideas alone):
    a topic in any other category got none. Each unlisted category, and its parents, is read once
    by id; one the forum does not have (404) leaves its topics without a category, and says so."""
    faults = [FEATURE_IDEAS_ONLY]
    scenario = forum_in_categories(tmp_path / "s", (1, 8, 8, 9, 42), faults)
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {
            p.title: p.category for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example")
        }
        shown = [r["path"] for r in running.requests_log if r["path"].endswith("/show.json")]
    assert found == {
        "Topic 0": "Troubleshooting",
        "Topic 1": "Troubleshooting › Mobile › iOS",
        "Topic 2": "Troubleshooting › Mobile › iOS",
        "Topic 3": "Feature Ideas",
        "Topic 4": "",
    }
    # The topics' unlisted categories first (1, 8, 42), then 8's parent, then its parent's (listed by now).
    assert shown == [f"/discourse/c/{n}/show.json" for n in (1, 8, 42, 7)]


@pytest.mark.parametrize("status", [403, 404])
def test_a_topic_in_a_category_the_forum_does_not_show_is_kept_out_of_the_public_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """A subcategory /categories.json does not list, whose /c/{id}/show.json answers 403 or 404 (an
    API key without the categories scope, a category only some groups read): whether it is
    restricted cannot be told. Read as public, its topics went to the public [Help Wanted]."""
    faults = [FEATURE_IDEAS_ONLY, {"service": "discourse", "path": r"/c/8/show\.json$", "status": status}]
    scenario = forum_in_categories(tmp_path / "s", (9, 8), faults)
    found, problems = read_forum(scenario, monkeypatch)
    assert {title: (post.category, post.public) for title, post in found.items()} == {
        "Topic 0": ("Feature Ideas", True),
        "Topic 1": ("", False),
    }
    assert problems == []


def test_categories_answered_without_read_restricted_are_an_invalid_answer_not_public(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discourse sends ``read_restricted`` with every category. Read as public when left out, a
    staff-only category's topics went to the public [Help Wanted] and the weekly review."""
    sparse = {"category_list": {"categories": [{"id": 9, "name": "Staff only", "subcategory_ids": []}]}}
    faults = [
        {
            "service": "discourse",
            "path": r"/categories\.json$",
            "kind": "body",
            "body": json.dumps(sparse),
            "content_type": "application/json",
        }
    ]
    scenario = forum_in_categories(tmp_path / "s", (9,), faults)
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum", policy=HttpPolicy(max_attempts=1)))
        with pytest.raises(InvalidResponseError, match=r"categories\.0\.read_restricted' is missing"):
            list(fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example"))


def test_a_topic_listed_without_visible_is_named_not_read_as_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discourse sends ``visible`` with every topic. Read as listed when left out, an unlisted topic
    went to the public digests."""
    scenario = forum_in_categories(tmp_path / "s", (9, 9))
    topics = json.loads((scenario / "discourse" / "topics.json").read_text())
    topics[1]["visible"] = False
    del topics[1]["visible"]
    faults = [
        {
            "service": "discourse",
            "path": r"/latest\.json$",
            "kind": "body",
            "body": json.dumps({"topic_list": {"topics": topics}}),
            "content_type": "application/json",
            "times": 1,
        }
    ]
    scenario = forum_in_categories(tmp_path / "s2", (9, 9), faults)
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        problems: list[ItemProblem] = []
        posts = list(fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example", problems=problems))
    assert [p.item for p in problems] == ["https://f.example/t/topic-101/101"]
    assert "field 'visible' is missing" in problems[0].problem
    assert all(p.public for p in posts if p.title == "Topic 0")


def latest_lists_only(topics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A fault that makes /latest.json list these topics and no other (the rest stay in /posts.json)."""
    latest = {"topic_list": {"topics": topics}, "users": []}
    return [
        {
            "service": "discourse",
            "path": r"/latest\.json$",
            "kind": "body",
            "body": json.dumps(latest),
            "content_type": "application/json",
        }
    ]


def test_a_topic_of_the_window_missing_from_latest_is_read_from_its_own_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """/latest.json pages by last activity: a topic that got a reply while its pages were read moved
    to a page already read (and one in a category the API user muted is never listed). Its first
    post still comes in /posts.json, so it is read from /t/{id}.json, replies and all; an unlisted
    one (``visible`` false) stays out, and the log says which; one deleted meanwhile is gone."""
    listed = forum_post(1, 100, 1, "alice", NOW - days(2), raw="Listed")
    bumped = forum_post(2, 101, 1, "bob", NOW - days(1), raw="Bumped during the walk")
    reply = forum_post(3, 101, 2, "carol", NOW - days(0.5), raw="A reply in it")
    later = forum_post(4, 102, 1, "dave", NOW + days(1), raw="After T")
    unlisted = forum_post(5, 103, 1, "erin", NOW - days(1), raw="Unlisted by a moderator")
    gone = forum_post(6, 104, 1, "frank", NOW - days(1), raw="Deleted since")
    topics = [
        forum_topic(100, "Listed", NOW - days(2), [listed]),
        forum_topic(101, "Bumped", NOW - days(1), [bumped, reply], category_id=8),
        forum_topic(102, "Later", NOW + days(1), [later]),
        forum_topic(103, "Unlisted", NOW - days(1), [unlisted], visible=False),
        forum_topic(104, "Gone", NOW - days(1), [gone]),
    ]
    deleted = {"service": "discourse", "path": r"/t/104\.json$", "status": 404, "body": '{"errors": []}'}
    faults = [*latest_lists_only([topics[0]]), deleted]
    scenario = write_scenario(
        tmp_path / "s",
        NOW,
        topics=topics,
        posts=[listed, bumped, reply, later, unlisted, gone],
        faults=faults,
    )
    (scenario / "discourse" / "categories.json").write_text(json.dumps(CATEGORIES), encoding="utf-8")
    problems: list[ItemProblem] = []
    with Sandbox(scenario) as running, caplog.at_level("WARNING"):
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {
            p.title: p for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example", problems)
        }
        views = sorted(r["path"].rsplit("/t/", 1)[1] for r in running.requests_log if "/t/" in r["path"])
    assert sorted(found) == ["Bumped", "Listed"]
    assert [r.body for r in found["Bumped"].replies] == ["A reply in it"]
    assert found["Bumped"].url == "https://f.example/t/topic-101/101"
    assert found["Bumped"].category == "Troubleshooting › Mobile › iOS"  # its categories read too
    assert problems == []
    assert views == ["101.json", "103.json", "104.json"]  # not 102: it starts after T
    [warning] = [r.getMessage() for r in caplog.records if "unlisted and left out" in r.getMessage()]
    assert warning.endswith("/t/103")


def test_a_listed_topic_skipped_as_malformed_is_not_said_to_be_missing_from_latest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A topic /latest.json lists in a shape the API does not promise is named as an item problem;
    the log does not also say /latest.json left it out."""
    good = forum_post(1, 100, 1, "alice", NOW - days(2), raw="Fine")
    odd = forum_post(2, 101, 1, "bob", NOW - days(1), raw="Odd topic")
    topics = [forum_topic(100, "Fine", NOW - days(2), [good]), forum_topic(101, "Odd", NOW - days(1), [odd])]
    malformed = {**topics[1], "category_id": "general"}
    faults = latest_lists_only([topics[0], malformed])
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=[good, odd], faults=faults)
    problems: list[ItemProblem] = []
    with Sandbox(scenario) as running, caplog.at_level("WARNING"):
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        titles = [
            p.title for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example", problems)
        ]
    assert titles == ["Fine"]
    # The topic's post is left out: its id says which post a later run may catch up on.
    assert [(p.item, p.post_id) for p in problems] == [("https://f.example/t/topic-101/101", "101")]
    assert not [r for r in caplog.records if "not in /latest.json" in r.getMessage()]


class ScriptedCategories:
    """Answers /categories.json with the page given."""

    def __init__(self, page: dict[str, Any]) -> None:
        self.page = page
        self.params: list[Any] = []

    def get_page(self, endpoint: str, model: Any, params: Any = None) -> Any:
        self.params.append(params)
        return model.model_validate(self.page)


def test_subcategories_listed_flat_with_their_parent_get_their_path() -> None:
    """A forum whose categories load page by page lists subcategories flat, each naming its parent."""
    page = {
        "category_list": {
            "categories": [
                {"id": 1, "name": "Troubleshooting", "subcategory_ids": [7], "read_restricted": False},
                {"id": 7, "name": "Mobile", "parent_category_id": 1, "read_restricted": False},
                {"id": 8, "name": "iOS", "parent_category_id": 7, "read_restricted": False},
                {"id": 9, "name": "Installation / Upgrade", "read_restricted": False},
                {"id": 10, "name": "Orphan", "parent_category_id": 99, "read_restricted": False},
                {"id": 11, "name": "Loop A", "parent_category_id": 12, "read_restricted": False},
                {"id": 12, "name": "Loop B", "parent_category_id": 11, "read_restricted": False},
            ]
        }
    }
    api = ScriptedCategories(page)
    names = category_paths(DiscourseClient(api).categories())  # type: ignore[arg-type]
    assert names[7] == "Troubleshooting › Mobile"
    assert names[8] == "Troubleshooting › Mobile › iOS"
    assert names[9] == "Installation / Upgrade"
    assert names[10] == "Orphan"  # its parent is not listed: its own name
    assert names[11].endswith("Loop A")  # a cycle ends
    assert api.params == [{"include_subcategories": "true"}]


def test_paging_stops_past_the_window(sandbox: Sandbox) -> None:
    client = DiscourseClient(ApiClient("discourse_test", "forum"))
    list(fetch_forum_topics(client, NOW - days(10), NOW, "https://forum.example"))
    log = sandbox.requests_log
    latest_pages = [r for r in log if r["path"].endswith("/latest.json")]
    post_pages = [r for r in log if r["path"].endswith("/posts.json")]
    # 80 topics, 30 per page, newest first; the 10-day window needs only the first page.
    assert len(latest_pages) == 1
    # 120 posts, 50 per page, newest first; the window's ~30 posts fit in one page, and the next
    # page, with none of the window's, ends the walk (ids follow creation only roughly).
    assert len(post_pages) == 2
    assert client.request_count == len(log)


def test_error_names_service_call_and_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = write_scenario(
        tmp_path / "down", NOW, faults=[{"service": "discourse", "path": "latest", "status": 500}]
    )
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_down")
        sleeps: list[float] = []
        api = ApiClient("discourse_down", "forum", max_attempts=3, base_delay=0.5, sleep=sleeps.append)
        with pytest.raises(UpstreamError, match=r"forum: GET /latest.json answered 500"):
            list(DiscourseClient(api).topics_active_since(NOW - days(1)))
        assert sleeps == [0.5, 1.0]  # exponential backoff between the three attempts


def test_rate_limit_wait_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = write_scenario(
        tmp_path / "busy",
        NOW,
        faults=[{"service": "discourse", "path": "latest", "status": 429, "times": 1, "retry_after": 7}],
    )
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_busy")
        sleeps: list[float] = []
        api = ApiClient("discourse_busy", "forum", sleep=sleeps.append)
        assert list(DiscourseClient(api).topics_active_since(NOW - days(1))) == []
        assert sleeps == [7.0]


def test_posts_of_deleted_accounts_are_kept_with_a_placeholder_author(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discourse keeps the posts of a deleted account with ``username: null`` (UserDestroyer sets
    their ``user_id`` to NULL; ``user_deleted`` is a withdrawal by the author, not this): the topic
    and the reply are kept, by DELETED_USER, not skipped as malformed."""
    asked = NOW - days(3)
    thread = [
        {
            **forum_post(1, 7, 1, "asker", asked, raw="SMTP test fails"),
            "username": None,
        },
        {**forum_post(2, 7, 2, "helper", asked + days(1), raw="Use port 587"), "username": None},
    ]
    scenario = write_scenario(
        tmp_path / "s", NOW, topics=[forum_topic(7, "SMTP", asked, thread)], posts=thread
    )
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_deleted")
        client = DiscourseClient(ApiClient("discourse_deleted", "forum"))
        problems: list[ItemProblem] = []
        found = list(fetch_forum_topics(client, NOW - days(30), NOW, "https://forum.test", problems))
    assert problems == []
    assert [(p.author, [r.author for r in p.replies]) for p in found] == [(DELETED_USER, [DELETED_USER])]


def test_an_accepted_solution_marks_the_topic_answered_from_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Solved plugin's ``accepted_answer`` post: the topic has an answer from that post on."""
    asked = NOW - days(3)
    solved_thread = [
        forum_post(1, 7, 1, "asker", asked, raw="SMTP test fails"),
        forum_post(2, 7, 2, "helper", asked + days(1), raw="Use port 587", accepted_answer=True),
    ]
    open_thread = [
        forum_post(3, 8, 1, "other", asked, raw="Push fails"),
        forum_post(4, 8, 2, "helper", asked + days(1), raw="Which app version?", accepted_answer=False),
    ]
    topics = [forum_topic(7, "SMTP", asked, solved_thread), forum_topic(8, "Push", asked, open_thread)]
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=solved_thread + open_thread)
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_solved")
        client = DiscourseClient(ApiClient("discourse_solved", "forum"))
        found = {p.number: p for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://forum.test")}
    assert found[7].accepted_at == asked + days(1)
    assert found[8].accepted_at is None


@pytest.mark.parametrize(
    ("raw", "fields", "kept"),
    [
        # The text, not its HTML, and none of the fields no Post is built from.
        (
            {"id": 7, "raw": "Hello", "cooked": "<p>Hello</p>", "username": "ana", "actions_summary": [1]},
            FIRST_POST_FIELDS,
            {"raw": "Hello", "username": "ana"},
        ),
        # A forum that leaves ``raw`` out (or empty): the HTML is the only text there is.
        (
            {"raw": "", "cooked": "<p>Hi</p>", "username": "bo"},
            FIRST_POST_FIELDS,
            {"raw": "", "cooked": "<p>Hi</p>", "username": "bo"},
        ),
        (
            {"id": 3, "slug": "s", "title": "T", "posters": [{"user_id": 1}], "closed": False, "views": 9},
            TOPIC_FIELDS,
            {"id": 3, "slug": "s", "title": "T", "closed": False},
        ),
    ],
)
def test_only_what_a_post_is_built_from_is_kept_while_the_window_is_read(
    raw: dict[str, object], fields: tuple[str, ...], kept: dict[str, object]
) -> None:
    assert _kept(raw, fields) == kept


def test_a_first_post_without_text_still_gives_its_html_as_the_body() -> None:
    topic = _kept(
        {"id": 5, "slug": "help", "title": "Help", "created_at": "2026-11-01T10:00:00Z"}, TOPIC_FIELDS
    )
    first = _kept(
        {"id": 50, "cooked": "<p>It fails</p>", "username": "cy", "created_at": "2026-11-01T10:00:00Z"},
        FIRST_POST_FIELDS,
    )
    post = build_topic_post(topic, first, [], {}, "https://forum.example.test")
    assert (post.body, post.author, post.url) == (
        "<p>It fails</p>",
        "cy",
        "https://forum.example.test/t/help/5",
    )


def test_a_topic_read_from_its_own_view_whose_later_posts_fail_is_named_not_kept_half_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept with only the posts its view inlines, a topic whose staff answer came later would read
    as unanswered; it is named as an item that could not be read instead."""
    first = forum_post(1, 101, 1, "bob", NOW - days(2), raw="Bumped during the walk")
    replies = [forum_post(10 + n, 101, 2 + n, "carol", NOW - days(1.5) + days(n / 100)) for n in range(21)]
    listed = forum_post(2, 100, 1, "alice", NOW - days(2), raw="Listed")
    topics = [
        forum_topic(100, "Listed", NOW - days(2), [listed]),
        forum_topic(101, "Bumped", NOW - days(2), [first, *replies]),
    ]
    broken = {"service": "discourse", "path": r"/t/101/posts\.json$", "status": 500, "body": "oops"}
    faults = [*latest_lists_only([topics[0]]), broken]
    scenario = write_scenario(
        tmp_path / "s", NOW, topics=topics, posts=[listed, first, *replies], faults=faults
    )
    problems: list[ItemProblem] = []
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        fast = HttpPolicy(connect_timeout=1.0, read_timeout=2.0, max_attempts=1, base_delay=0.0, max_wait=1.0)
        client = DiscourseClient(ApiClient("discourse_test", "forum", policy=fast))
        titles = [
            p.title for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example", problems)
        ]
        views = [r["path"] for r in running.requests_log if r["path"].endswith("/t/101.json")]
    assert titles == ["Listed"]
    # The topic's post is left out: its id says which post a later run may catch up on.
    assert [(p.item, p.post_id) for p in problems] == [("https://f.example/t/topic-101/101", "101")]
    assert "could not be read" in problems[0].problem
    assert len(views) == 1  # named once, not read again as a topic whose first post went missing


def kept_and_another(
    title: str, author: str, raw: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Topic 100 "Kept" and topic 101 ``title``, each of one post: (100's post, 101's post, topics)."""
    kept = forum_post(1, 100, 1, "alice", NOW - days(2), raw="Still here")
    other = forum_post(2, 101, 1, author, NOW - days(1), raw=raw)
    return (
        kept,
        other,
        [forum_topic(100, "Kept", NOW - days(2), [kept]), forum_topic(101, title, NOW - days(1), [other])],
    )


def read_forum(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Post], list[ItemProblem]]:
    """The forum topics of the last 30 days in ``scenario``, by title, and the items named."""
    problems: list[ItemProblem] = []
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        found = {
            p.title: p for p in fetch_forum_topics(client, NOW - days(30), NOW, "https://f.example", problems)
        }
    return found, problems


def view_without_full_stream(
    topic: dict[str, Any], posts: list[dict[str, Any]], stream: list[int] | None
) -> dict[str, Any]:
    """``/t/{id}.json`` answered with the topic's first 20 posts and ``stream`` as given (left out
    when None), as a fault: a real topic view always lists all its post ids."""
    post_stream: dict[str, Any] = {"posts": posts[:20]}
    if stream is not None:
        post_stream["stream"] = stream
    return {
        "service": "discourse",
        "path": rf"/t/{topic['id']}\.json$",
        "kind": "body",
        "body": json.dumps({**topic, "post_stream": post_stream}),
        "content_type": "application/json",
    }


@pytest.mark.parametrize("stream", ["left out", "shorter than posts_count"])
def test_a_topic_view_that_does_not_list_all_its_posts_is_named_not_read_as_the_whole_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, stream: str
) -> None:
    """A topic read from its own view whose stream is left out gives its first 20 posts only: kept,
    the staff answer after them was lost and the topic read as unanswered in a green run. It is named
    as unreadable, with its post id; a short topic whose view inlines all its posts is read whole
    without a stream. A stream shorter than posts_count (a stale counter, an ignored user) is read as
    it lists the posts, with a warning: naming it would turn every run red for a thread read whole."""
    first = forum_post(1, 101, 1, "bob", NOW - days(2), raw="Bumped during the walk")
    replies = [forum_post(10 + n, 101, 2 + n, "carol", NOW - days(1.5) + days(n / 100)) for n in range(21)]
    replies[-1] = forum_post(30, 101, 22, "forum.staffer", NOW - days(1), raw="Fixed in 10.2", staff=True)
    short_first = forum_post(2, 102, 1, "dan", NOW - days(2), raw="Short")
    short_reply = forum_post(3, 102, 2, "erin", NOW - days(1.8), raw="Me too")
    listed = forum_post(4, 100, 1, "alice", NOW - days(2), raw="Listed")
    long_posts = [first, *replies]
    topics = [
        forum_topic(100, "Listed", NOW - days(2), [listed]),
        forum_topic(101, "Long", NOW - days(2), long_posts),
        forum_topic(102, "Short", NOW - days(2), [short_first, short_reply]),
    ]
    ids = [p["id"] for p in long_posts][:20] if stream != "left out" else None
    faults = [
        *latest_lists_only([topics[0]]),
        view_without_full_stream(topics[1], long_posts, ids),
        view_without_full_stream(topics[2], [short_first, short_reply], None),
    ]
    scenario = write_scenario(
        tmp_path / "s",
        NOW,
        topics=topics,
        posts=[listed, short_first, short_reply, *long_posts],
        faults=faults,
    )
    found, problems = read_forum(scenario, monkeypatch)
    assert [r.body for r in found["Short"].replies] == ["Me too"]
    if stream == "left out":
        assert sorted(found) == ["Listed", "Short"]
        assert [(p.item, p.post_id) for p in problems] == [("https://f.example/t/topic-101/101", "101")]
        assert "22 posts" in problems[0].problem
        assert "could not be read" in problems[0].problem
    else:
        assert sorted(found) == ["Listed", "Long", "Short"]
        assert problems == []
        assert len(found["Long"].replies) == 19  # the stream's 20 posts: the first and 19 replies
        assert "stream lists 20 posts, posts_count says 22" in caplog.text


def test_a_reply_answered_without_post_type_names_its_topic_not_read_as_a_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Discourse post carries ``post_type``. Read as a regular reply when left out, a staff
    whisper took its topic off the lists as answered; dropped alone, the topic would read as
    unanswered. The topic is named as unreadable instead, with its post id, whether the reply came
    from /posts.json or from the topic's own view."""
    from community_sandbox.discourse import DiscourseService

    listed = forum_post(1, 100, 1, "alice", NOW - days(2), raw="Listed")
    whisper = forum_post(2, 100, 2, "forum.staffer", NOW - days(1.5), raw="Internal note", staff=True)
    fine = forum_post(3, 101, 1, "bob", NOW - days(2), raw="Fine")
    answer = forum_post(4, 101, 2, "forum.staffer", NOW - days(1.5), raw="Fixed in 10.2", staff=True)
    bumped = forum_post(5, 102, 1, "carol", NOW - days(2), raw="Bumped during the walk")
    unsure = forum_post(6, 102, 2, "forum.staffer", NOW - days(1.5), raw="Internal too", staff=True)
    topics = [
        forum_topic(100, "Listed", NOW - days(2), [listed, whisper]),
        forum_topic(101, "Fine", NOW - days(2), [fine, answer]),
        forum_topic(102, "Bumped", NOW - days(2), [bumped, unsure]),
    ]
    post = DiscourseService._post

    def without_type(self: DiscourseService, raw: dict[str, Any]) -> dict[str, Any]:
        served = post(self, raw)
        if served["id"] in (2, 6):
            del served["post_type"]  # a Discourse whose answer leaves it out
        return served

    monkeypatch.setattr(DiscourseService, "_post", without_type)
    # Topic 102 is read from its own view (/latest.json leaves it out), its replies with it.
    scenario = write_scenario(
        tmp_path / "s",
        NOW,
        topics=topics,
        posts=[listed, whisper, fine, answer, bumped, unsure],
        faults=latest_lists_only(topics[:2]),
    )
    found, problems = read_forum(scenario, monkeypatch)
    assert sorted(found) == ["Fine"]
    assert [r.body for r in found["Fine"].replies] == ["Fixed in 10.2"]
    assert [(p.item, p.post_id) for p in problems] == [
        ("https://f.example/t/topic-100/100", "100"),
        ("https://f.example/t/topic-102/102", "102"),
    ]
    assert all("post_type" in p.problem for p in problems)


@pytest.mark.parametrize(
    ("status", "named"),
    [(404, False), (403, True), (500, True)],
    ids=["404: deleted", "403: moved where the key cannot read", "500: unread"],
)
def test_a_listed_topic_whose_view_fails_is_gone_only_when_it_answers_404(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, named: bool
) -> None:
    """A topic /latest.json listed, deleted (spam, most often) before /posts.json was read: its first
    post is not there and its own view answers 404. It is gone, as one missing from /latest.json is;
    named as unreadable, it turned the run red for a topic nobody can answer any more.
    A 403 (moved to a category the API user cannot read) or a server error leaves it unread, and
    it is named."""
    kept, _, topics = kept_and_another("Spam", "spammer", "Buy now")
    fault = {"service": "discourse", "path": r"/t/101\.json$", "status": status, "body": '{"errors": []}'}
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=[kept], faults=[fault])
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == ["Kept"]
    if named:
        assert [(p.item, p.post_id) for p in problems] == [("https://f.example/t/topic-101/101", "101")]
        assert str(status) in problems[0].problem
    else:
        assert problems == []


@pytest.mark.parametrize("in_latest", [True, False], ids=["listed in latest", "only in posts"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body><h1>404 Not Found</h1><hr>nginx</body></html>", "text/html"),
        ('{"message": "Not Found"}', "application/json"),
        ("", "text/plain"),
    ],
    ids=["a proxy's HTML page", "a gateway's JSON", "no body"],
)
def test_a_404_that_is_not_the_forums_own_answer_leaves_the_topic_named_not_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_latest: bool, body: str, content_type: str
) -> None:
    """Only the forum's own not-found error (``{"errors": [...]}``) says a topic was deleted. A 404
    from something in front of it (a proxy, a firewall rule on /t/) dropped the topic from every
    digest, the run green."""
    kept, first, topics = kept_and_another("Blocked", "bob", "Blank window after upgrade")
    blocked = {
        "service": "discourse",
        "path": r"/t/101\.json$",
        "kind": "body",
        "status": 404,
        "body": body,
        "content_type": content_type,
    }
    # Listed in /latest.json with its first post missing from /posts.json, or the other way round.
    faults = [blocked] if in_latest else [*latest_lists_only([topics[0]]), blocked]
    posts = [kept] if in_latest else [kept, first]
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=posts, faults=faults)
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == ["Kept"]
    assert [p.post_id for p in problems] == ["101"]
    assert "/t/101.json answered 404" in problems[0].problem


@pytest.mark.parametrize("in_latest", [True, False], ids=["listed in latest", "only in posts"])
@pytest.mark.parametrize(
    ("deleted", "listed"),
    [(NOW - days(0.5), ["Kept"]), (NOW + days(0.5), ["Kept", "Spam"])],
    ids=["deleted before T", "deleted after T (a backfill)"],
)
def test_a_topic_whose_view_says_it_was_deleted_is_gone_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_latest: bool, deleted: datetime, listed: list[str]
) -> None:
    """An admin's API key (``system``) still reads a deleted topic: its view answers 200 with
    ``deleted_at``. Read from there, a spam topic deleted by a moderator was listed as a new post.
    Deleted after T, it existed at T: a backfill lists it (the view's word alone, its post says
    nothing)."""
    kept, spam, topics = kept_and_another("Spam", "spammer", "Buy now")
    view = {
        "id": 101,
        "slug": "spam",
        "title": "Spam",
        "created_at": iso(NOW - days(1)),
        "category_id": None,
        "closed": False,
        "archived": False,
        "visible": True,
        "deleted_at": iso(deleted),
        "posts_count": 1,
        "post_stream": {"posts": [spam], "stream": [2]},
    }
    read_deleted = {"service": "discourse", "path": r"/t/101\.json$", "kind": "body", "body": view}
    # Listed in /latest.json, its first post not in /posts.json; or the other way round.
    faults = [read_deleted] if in_latest else [*latest_lists_only([topics[0]]), read_deleted]
    posts = [kept] if in_latest else [kept, spam]
    scenario = write_scenario(tmp_path / "s", NOW, topics=topics, posts=posts, faults=faults)
    found, problems = read_forum(scenario, monkeypatch)
    assert list(found) == listed
    assert problems == []


def test_a_reply_deleted_after_t_answered_at_t(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin key reads a reply a moderator deleted, with its ``deleted_at``: one deleted after T
    was there at T, so a backfill (or a run as of T) reads it as the reply it was that day. Dropped
    whenever it was deleted, its topic was listed in T's [Help Wanted] as never answered. A
    ``deleted_at`` that is no time names the topic (whether the reply stood at T cannot be told)."""
    cases = {  # title → the reply's deleted_at
        "Deleted before T": iso(NOW - days(1)),
        "Deleted at T": iso(NOW),
        "Deleted after T": iso(NOW + days(0.5)),
        "Deleted when": "yesterday",
    }
    topics, posts = [], []
    for n, (title, deleted_at) in enumerate(cases.items()):
        created = NOW - days(4 - n * 0.25)
        thread = [
            forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, raw=f"Question {n}"),
            forum_post(
                10 * n + 2,
                100 + n,
                2,
                "helper",
                created + days(1),
                raw="Raise MaxFileSize.",
                deleted_at=deleted_at,
            ),
        ]
        topics.append(forum_topic(100 + n, title, created, thread))
        posts += thread
    found, problems = read_forum(write_scenario(tmp_path / "s", NOW, topics=topics, posts=posts), monkeypatch)
    assert {title: [r.body for r in post.replies] for title, post in found.items()} == {
        "Deleted before T": [],
        "Deleted at T": [],
        "Deleted after T": ["Raise MaxFileSize."],
    }
    assert [(p.item.rsplit("/", 1)[-1], p.problem) for p in problems] == [
        ("103", "its post 2's field 'deleted_at' is not a time: 'yesterday'")
    ]


def _topics_with_state_moves(tmp_path: Path, cases: dict[str, tuple[bool, list[tuple[float, str]]]]) -> Path:
    """A forum scenario of one topic per title: (closed now, its closing and reopening small actions
    as (days before T, action code))."""
    topics, posts = [], []
    for n, (title, (closed, moves)) in enumerate(cases.items()):
        created = NOW - days(4 - n * 0.25)
        thread = [forum_post(10 * n + 1, 100 + n, 1, f"author{n}", created, raw=f"Question {n}")]
        for k, (days_before, code) in enumerate(moves):
            thread.append(
                forum_post(
                    10 * n + 2 + k,
                    100 + n,
                    2 + k,
                    "system",
                    NOW - days(days_before),
                    raw="",
                    post_type=3,
                    action_code=code,
                )
            )
        topics.append(forum_topic(100 + n, title, created, thread, closed=closed))
        posts += thread
    return write_scenario(tmp_path / "s", NOW + days(1), topics=topics, posts=posts)


def _topics_at(monkeypatch: pytest.MonkeyPatch, scenario: Path, until: datetime) -> dict[str, Post]:
    """The scenario's forum topics, by title, as a run at ``until`` reads them (a month's window)."""
    with Sandbox(scenario) as running:
        use_forum(monkeypatch, running, "discourse_test")
        client = DiscourseClient(ApiClient("discourse_test", "forum"))
        return {p.title: p for p in fetch_forum_topics(client, NOW - days(30), until, "https://f.example")}


def test_a_topic_reopened_after_t_was_closed_at_t(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reopening a topic posts a "closed.disabled" small action, and the topic's ``closed`` flag is
    what it is now: one closed before T and reopened after it was closed in T's run (a backfill);
    read as open, it was listed in [Help Wanted] as waiting for a first response."""
    from community_monitoring.answers import is_open_at

    cases = {  # title → its closings and reopenings: (days before T, action code)
        "Reopened after T": [(2, "closed.enabled"), (-0.5, "closed.disabled")],
        "Reopened before T": [(2, "closed.enabled"), (1, "closed.disabled")],
        "Closed and reopened after T": [(-0.25, "closed.enabled"), (-0.5, "closed.disabled")],
        "Reopened twice": [
            (3, "closed.enabled"),
            (2.5, "closed.disabled"),
            (1, "autoclosed.enabled"),
            (-0.25, "autoclosed.disabled"),
            (-0.5, "closed.enabled"),
            (-0.75, "closed.disabled"),
        ],
    }
    scenario = _topics_with_state_moves(tmp_path, {title: (False, moves) for title, moves in cases.items()})
    found = _topics_at(monkeypatch, scenario, NOW)
    assert {title: is_open_at(post, NOW) for title, post in found.items()} == {
        "Reopened after T": False,
        "Reopened before T": True,
        "Closed and reopened after T": True,
        "Reopened twice": False,  # closed again a day before T, reopened after it
    }
    assert (found["Reopened after T"].closed_at, found["Reopened after T"].reopened_at) == (
        NOW - days(2),
        NOW + days(0.5),
    )
    assert all(post.replies == () for post in found.values())


def test_a_topic_closed_or_archived_at_t_by_its_own_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A topic's closed and archived flags are two: unarchiving it before T leaves it closed at T
    when its closure ended only after T; and one closed now after a reopening past T was closed at T
    too (its last closing is after T, but the closure T stood in began before it)."""
    from community_monitoring.answers import is_open_at

    cases = {  # title → (closed now, its moves: (days before T, action code))
        "Unarchived before T, reopened after": (
            False,
            [
                (3, "closed.enabled"),
                (2, "archived.enabled"),
                (1, "archived.disabled"),
                (-0.5, "closed.disabled"),
            ],
        ),
        "Reopened after T, closed again": (
            True,
            [(2, "closed.enabled"), (-0.25, "closed.disabled"), (-0.5, "closed.enabled")],
        ),
        "Open at T, closed after": (
            True,
            [(2, "closed.enabled"), (1, "closed.disabled"), (-0.5, "closed.enabled")],
        ),
        "Archived, unarchived after T, closed flag never set": (
            False,
            [(2, "archived.enabled"), (-0.5, "archived.disabled")],
        ),
    }
    scenario = _topics_with_state_moves(tmp_path, cases)
    found = _topics_at(monkeypatch, scenario, NOW)
    assert {title: is_open_at(post, NOW) for title, post in found.items()} == {
        "Unarchived before T, reopened after": False,
        "Reopened after T, closed again": False,
        "Open at T, closed after": True,
        "Archived, unarchived after T, closed flag never set": False,
    }
    # The live run (T = now) reads each as it did: closed since its last closing, or open.
    now = NOW + days(1)
    live = _topics_at(monkeypatch, scenario, now)
    assert {title: (is_open_at(post, now), post.closed_at) for title, post in live.items()} == {
        "Unarchived before T, reopened after": (True, None),
        "Reopened after T, closed again": (False, NOW + days(0.5)),
        "Open at T, closed after": (False, NOW + days(0.5)),
        "Archived, unarchived after T, closed flag never set": (True, None),
    }
