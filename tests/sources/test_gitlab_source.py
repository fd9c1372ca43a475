"""GitLab extraction with the real python-gitlab client against the sandbox: output and requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gitlab
import pytest
import requests

from community_monitoring.item_cache import ItemCache
from community_monitoring.records import Post
from community_monitoring.sources import ItemProblem
from community_monitoring.sources.gitlab import (
    GitlabIssuesClient,
    fetch_gitlab_issues,
    gitlab_client,
    normalise_issue,
    normalise_note,
)
from community_monitoring.sources.http import HttpPolicy, InvalidResponseError, UpstreamError
from community_sandbox import Sandbox
from scenario_files import days
from scenario_files_more import gitlab_issue, gitlab_note, write_more_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
PROJECT = "acme/widgets"
OTHER = "acme/other"
DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
FAST = HttpPolicy(connect_timeout=1.0, read_timeout=1.0, max_attempts=2, base_delay=0.0, max_wait=5.0)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in range(1, 8)]
    issues[2] = gitlab_issue(
        PROJECT, 3, "Issue 3", "user3", NOW - days(3), state="closed", closed_at=NOW - days(1)
    )
    issues.append(gitlab_issue(PROJECT, 8, "Other team", "user8", NOW - days(2), labels=["Gitaly"]))
    issues.append(gitlab_issue(PROJECT, 9, "Old", "user9", NOW - days(60)))
    issues.append(gitlab_issue(PROJECT, 10, "After T", "user10", NOW + days(1)))
    notes = [
        gitlab_note(11, 1, "helper", NOW - days(0.5), "Which version?"),
        gitlab_note(12, 1, "helper", NOW - days(0.4), "added ~bug label", system=True),
        # Issue 2 has only a system note: GitLab's user_notes_count is 0, so no notes request.
        gitlab_note(13, 2, "helper", NOW - days(1.5), "added ~Mattermost label", system=True),
        gitlab_note(14, 3, "helper", NOW - days(2), "Fixed in 18.6"),
        gitlab_note(15, 3, "user3", NOW - days(1.5), "Thanks!"),
        gitlab_note(16, 9, "helper", NOW - days(59)),
        gitlab_note(17, 10, "helper", NOW + days(1.1)),
    ]
    other = [gitlab_issue(OTHER, 1, "Unlabelled", "someone", NOW - days(1), labels=[])]
    scenario = write_more_scenario(
        tmp_path / "s",
        NOW,
        gitlab={PROJECT: {"issues": issues, "notes": notes}, OTHER: {"issues": other}},
    )
    running = Sandbox(scenario).start()
    yield running
    running.stop()


def small_pages_client(sandbox: Sandbox) -> GitlabIssuesClient:
    return GitlabIssuesClient(gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="t", per_page=2))


def test_issues_created_in_window_with_their_human_notes(sandbox: Sandbox) -> None:
    projects = {PROJECT: ["Mattermost"], OTHER: []}
    posts = list(fetch_gitlab_issues(small_pages_client(sandbox), projects, NOW - days(30), NOW))
    assert [p.source_id for p in posts] == [f"{PROJECT}#{n}" for n in range(1, 8)] + [f"{OTHER}#1"]
    by_iid = {p.number: p for p in posts if p.container == PROJECT}
    assert [r.reply_id for r in by_iid[1].replies] == ["11"]  # the label note is not a reply
    assert by_iid[2].replies == ()
    assert [(r.author, r.kind) for r in by_iid[3].replies] == [("helper", "note"), ("user3", "note")]
    assert by_iid[3].state == "closed"
    assert by_iid[3].closed_at == NOW - days(1)
    first = by_iid[1]
    assert first.channel == "gitlab"
    assert first.url == f"https://gitlab.com/{PROJECT}/-/issues/1"
    assert first.author == "user1"
    assert first.state == "open"
    assert first.labels == ("Mattermost",)
    assert first.body == "Details follow."
    assert first.created_at == NOW - days(1)


def test_internal_notes_are_not_replies_and_are_never_cached(tmp_path: Path) -> None:
    """Internal notes (``confidential`` before GitLab 15.0) are for project members: the author cannot
    read them, so a staff member's internal note leaves the issue unanswered."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    notes = [
        {**gitlab_note(21, 1, "helper", NOW - days(0.5), "Looks like their proxy."), "internal": True},
        {**gitlab_note(22, 2, "helper", NOW - days(1.5), "Known issue."), "confidential": True},
        gitlab_note(23, 2, "helper", NOW - days(1.2), "Which version are you on?"),
        {**gitlab_note(24, 2, "helper", NOW - days(1.1), "Public after all."), "internal": False},
    ]
    scenario = write_more_scenario(tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}})
    running = Sandbox(scenario).start()
    try:
        cache = ItemCache.in_memory()
        for _ in range(2):  # read, then served by the cache: the same replies
            client = GitlabIssuesClient(gitlab.Gitlab(f"{running.base_url}/gitlab", private_token="t"))
            posts = {
                p.number: p
                for p in fetch_gitlab_issues(
                    client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW, cache=cache
                )
            }
            assert posts[1].replies == ()
            assert [r.reply_id for r in posts[2].replies] == ["23", "24"]
    finally:
        running.stop()


# GitLab's REST issues and notes carry their author as a basic user: id, username, name, state,
# avatar and web URLs, no "bot" flag (that comes only with a full user, or a merge request's author).
# The bot users GitLab makes for access tokens and service accounts are told by the username GitLab
# gives them; a "bot" flag is still read where one is sent.
@pytest.mark.parametrize(
    ("username", "flag", "is_bot"),
    [
        ("project_20699_bot_4f2a9c1e8b7d6a5f0e1d2c3b4a596877", None, True),  # project access token
        ("project_278964_bot", None, True),  # the first token of a project, before GitLab 16
        ("project_278964_bot3", None, True),  # a later one
        ("group_9970_bot_0a1b2c3d4e5f60718293a4b5c6d7e8f9", None, True),  # group access token
        ("service_account_5e6f7a8b9c0d1e2f", None, True),  # a service account's default name
        ("service_account_group_9970_5e6f7a8b9c0d1e2f", None, True),
        ("jdoe", True, True),  # a payload that says so
        ("jdoe", None, False),
        ("project_manager", None, False),
        ("project_12_botanist", None, False),
        ("my_project_12_bot", None, False),
        ("service_account_fan", None, False),
    ],
)
def test_gitlab_bot_users_are_told_by_their_generated_usernames(
    username: str, flag: bool | None, is_bot: bool
) -> None:
    author = {
        "id": 7,
        "username": username,
        "name": "****",
        "state": "active",
        "web_url": "https://gitlab.com/x",
    }
    if flag is not None:
        author["bot"] = flag
    issue = {**gitlab_issue(PROJECT, 1, "Automated report", username, NOW - days(1)), "author": author}
    note = {**gitlab_note(21, 1, username, NOW - days(0.5), "Reminder."), "author": author}
    assert normalise_issue(issue, PROJECT).author_is_bot is is_bot
    reply = normalise_note(note)
    assert reply is not None
    assert reply.author_is_bot is is_bot


def test_a_confidential_issue_is_not_public(tmp_path: Path) -> None:
    """Only its author and the project's members read it: it must not reach a public digest."""
    issues = [
        gitlab_issue(PROJECT, 1, "Open to all", "user1", NOW - days(1)),
        {**gitlab_issue(PROJECT, 2, "Customer data in here", "user2", NOW - days(1)), "confidential": True},
    ]
    scenario = write_more_scenario(tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": []}})
    with Sandbox(scenario) as running:
        client = GitlabIssuesClient(gitlab.Gitlab(f"{running.base_url}/gitlab", private_token="t"))
        found = {
            p.number: p.public
            for p in fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW)
        }
    assert found == {1: True, 2: False}


def test_requests_pages_and_notes_only_where_humans_wrote(sandbox: Sandbox) -> None:
    projects = {PROJECT: ["Mattermost"]}
    list(fetch_gitlab_issues(small_pages_client(sandbox), projects, NOW - days(30), NOW))
    log = sandbox.requests_log
    paths = [r["path"] for r in log]
    issue_pages = [r for r in log if r["path"] == "/gitlab/api/v4/projects/acme%2Fwidgets/issues"]
    # 8 labelled issues created since the window start (issue 10, after T, included), 2 per page.
    assert len(issue_pages) == 4
    assert issue_pages[0]["query"] == {
        "state": ["all"],
        "created_after": ["2026-10-19T09:00:00Z"],
        "labels": ["Mattermost"],
        "order_by": ["created_at"],
        "sort": ["desc"],
        "per_page": ["2"],
    }
    note_paths = [p for p in paths if p.endswith("/notes")]
    # Only the in-window issues with a human note: not #2 (system note only), #9 or #10.
    assert note_paths == [
        "/gitlab/api/v4/projects/acme%2Fwidgets/issues/1/notes",
        "/gitlab/api/v4/projects/acme%2Fwidgets/issues/3/notes",
    ]
    assert "/gitlab/api/v4/projects/acme%2Fwidgets" not in paths  # lazy: no GET of the project
    assert not [p for p in paths if p.rsplit("/", 1)[-1].isdigit()]  # nor of single issues
    assert all(r["status"] == 200 for r in log)


def test_client_from_airflow_connection(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "host": f"{sandbox.base_url}/gitlab/", "password": "secret-token"}
    monkeypatch.setenv("AIRFLOW_CONN_GITLAB_TEST", json.dumps(conn))
    client = GitlabIssuesClient(gitlab_client("gitlab_test"))
    posts = list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW))
    assert len(posts) == 7
    first = next(r for r in sandbox.requests_log if r["path"].endswith("/issues"))
    assert first["query"]["per_page"] == ["100"]


def test_missing_token_is_a_settings_error_naming_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A settings error fails the task at once: a plain ValueError was retried for minutes."""
    from community_monitoring.errors import SettingsError

    monkeypatch.setenv("AIRFLOW_CONN_GITLAB_NOPASS", json.dumps({"conn_type": "http", "host": "x"}))
    with pytest.raises(
        SettingsError, match="connection 'gitlab_nopass' cannot be used: it has no GitLab private"
    ):
        gitlab_client("gitlab_nopass")


def test_unknown_project_is_named(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match=r"GitLab project 'acme/missing' not found"):
        list(fetch_gitlab_issues(small_pages_client(sandbox), {"acme/missing": []}, NOW - days(30), NOW))


def test_demo_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(DEMO) as running:
        conn = {"conn_type": "http", "host": f"{running.base_url}/gitlab", "password": "demo-token"}
        monkeypatch.setenv("AIRFLOW_CONN_GITLAB_DEMO", json.dumps(conn))
        client = GitlabIssuesClient(gitlab_client("gitlab_demo"))
        now = running.scenario.now
        projects = {"gitlab-org/omnibus-gitlab": ["Mattermost"]}
        posts = {p.number: p for p in fetch_gitlab_issues(client, projects, now - days(180), now)}
        note_calls = [r for r in running.requests_log if r["path"].endswith("/notes")]
    # #9150 lacks the label, #9201 is after T, #7702 is older than the window.
    assert sorted(posts) == [9030, 9041, 9090, 9112, 9120, 9131, 9144, 9188, 9190, 9193]
    assert [r.author for r in posts[9090].replies] == ["rpatel", "jmiller-ops", "jmiller-ops"]
    # #9041: a system label note is dropped, the gitlab-bot note stays (the roster calls it a bot).
    assert [r.author for r in posts[9041].replies] == ["gitlab-bot"]
    assert posts[9120].state == "closed"
    assert posts[9188].replies == ()
    assert len(note_calls) == 5  # 9030, 9041, 9090, 9112, 9120: the issues with human notes


def test_a_posted_reply_is_found_by_its_marker(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from community_monitoring.sources.gitlab import reply_reader, reply_sender

    conn = {"conn_type": "http", "host": f"{sandbox.base_url}/gitlab/", "password": "secret-token"}
    monkeypatch.setenv("AIRFLOW_CONN_GITLAB_TEST", json.dumps(conn))
    send, has_reply = reply_sender("gitlab_test"), reply_reader("gitlab_test")
    marker = "<!-- community-monitoring:reply:gitlab:acme/widgets#3 -->"
    assert not has_reply(PROJECT, 3, marker)
    send(PROJECT, 3, f"Hi, thanks!\n\n{marker}")
    assert has_reply(PROJECT, 3, marker)
    assert not has_reply(PROJECT, 1, marker)


# ----- notes are read again only for issues changed since (SPEC §9) ------------------------------

NOTES_OF = "/gitlab/api/v4/projects/acme%2Fwidgets/issues/{}/notes"


def cached_fetch(
    sandbox: Sandbox,
    cache: ItemCache | None,
    as_of: datetime = NOW,
    problems: list[ItemProblem] | None = None,
) -> dict[int, Post]:
    client = small_pages_client(sandbox)
    posts = fetch_gitlab_issues(
        client, {PROJECT: ["Mattermost"]}, as_of - days(30), as_of, problems, cache=cache
    )
    return {p.number: p for p in posts}


def note_calls(sandbox: Sandbox, start: int = 0) -> list[str]:
    log = sandbox.requests_log[start:]
    return [r["path"] for r in log if r["method"] == "GET" and r["path"].endswith("/notes")]


def test_second_fetch_of_unchanged_issues_reads_no_notes(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ItemCache.in_memory()
    first = cached_fetch(sandbox, cache)
    assert note_calls(sandbox) == [NOTES_OF.format(1), NOTES_OF.format(3)]
    start = len(sandbox.requests_log)
    with caplog.at_level(logging.INFO, logger="community_monitoring.sources.gitlab"):
        second = cached_fetch(sandbox, cache)
    assert note_calls(sandbox, start) == []
    assert len(sandbox.requests_log) - start == 4  # the issue pages only
    assert second == first
    assert [(r.reply_id, r.author, r.created_at) for r in second[3].replies] == [
        ("14", "helper", NOW - days(2)),
        ("15", "user3", NOW - days(1.5)),
    ]
    assert any("notes: 0 read, 2 unchanged (cache)" in m for m in caplog.messages)


def test_an_issue_with_a_new_note_is_read_again(sandbox: Sandbox) -> None:
    cache = ItemCache.in_memory()
    cached_fetch(sandbox, cache)
    # A new note bumps the issue's updated_at and its user_notes_count, as on GitLab.
    small_pages_client(sandbox).create_note(PROJECT, 3, "Still broken in 18.6.1")
    start = len(sandbox.requests_log)
    posts = cached_fetch(sandbox, cache)
    # Issue 3's notes, now three: two pages of two. Issue 1 is unchanged: served.
    assert note_calls(sandbox, start) == [NOTES_OF.format(3)] * 2
    assert [r.body for r in posts[3].replies][-1] == "Still broken in 18.6.1"
    assert [r.reply_id for r in posts[1].replies] == ["11"]
    start = len(sandbox.requests_log)
    assert cached_fetch(sandbox, cache) == posts
    assert note_calls(sandbox, start) == []  # read once after the change, then served again


def test_a_backfill_is_served_by_the_cache_of_a_later_day(sandbox: Sandbox) -> None:
    cache = ItemCache.in_memory()
    cached_fetch(sandbox, cache)  # today's run
    start = len(sandbox.requests_log)
    as_of = NOW - days(1.2)  # a backfill: issues 2..7 were created by then
    backfill = cached_fetch(sandbox, cache, as_of)
    assert note_calls(sandbox, start) == []
    assert backfill == cached_fetch(sandbox, None, as_of)  # the same as read afresh: nothing lost
    # Today's notes are served with their own times; the rules judge them as of T.
    assert [r.created_at for r in backfill[3].replies] == [NOW - days(2), NOW - days(1.5)]


def test_the_cache_survives_a_new_process(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first = cached_fetch(sandbox, ItemCache.from_url(url))
    start = len(sandbox.requests_log)
    assert cached_fetch(sandbox, ItemCache.from_url(url)) == first
    assert note_calls(sandbox, start) == []


def test_an_issue_with_a_bad_note_is_read_and_named_every_time(tmp_path: Path) -> None:
    issues = [gitlab_issue(PROJECT, 1, "Issue 1", "user1", NOW - days(1))]
    bad = gitlab_note(12, 1, "helper", NOW - days(0.4), "an author without a username")
    bad["author"] = {"id": 640}
    notes = [gitlab_note(11, 1, "helper", NOW - days(0.5), "Which version?"), bad]
    cache = ItemCache.in_memory()
    scenario = write_more_scenario(tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}})
    with Sandbox(scenario) as running:
        for _ in range(2):
            problems: list[ItemProblem] = []
            posts = cached_fetch(running, cache, problems=problems)
            assert [(p.item, p.post_id) for p in problems] == [(f"{PROJECT}#1 note 12", "")]
            assert [r.reply_id for r in posts[1].replies] == ["11"]
        assert note_calls(running) == [NOTES_OF.format(1)] * 2


# ----- an issue gone between the list and its notes (SPEC §6: an item, not the channel) -----------


def test_an_issue_whose_notes_answer_404_is_left_out_named_and_never_cached(tmp_path: Path) -> None:
    """One issue deleted (or hidden from the token) between the issue list and its notes failed the
    whole channel. It is one item that could not be read: named, and left out (without its notes it
    would read as unanswered); nothing is cached for it, so the next run reads its notes again."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2, 3)]
    notes = [gitlab_note(10 + n, n, "helper", NOW - days(n - 0.5), "Which version?") for n in (1, 2, 3)]
    faults = [
        {"service": "gitlab", "path": "/issues/2/notes$", "status": 404, "body": {"message": "404 Not found"}}
    ]
    scenario = write_more_scenario(
        tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}}, faults=faults
    )
    cache = ItemCache.in_memory()
    with Sandbox(scenario) as running:
        for _ in range(2):
            problems: list[ItemProblem] = []
            posts = cached_fetch(running, cache, problems=problems)
            [problem] = problems
            assert (problem.channel, problem.item) == ("gitlab", f"{PROJECT}#2")
            assert problem.problem.startswith(
                "left out, its notes not read: GitLab issue acme/widgets#2 not found"
            )
            assert "GET /projects/acme%2Fwidgets/issues/2/notes answered 404" in problem.problem
            assert sorted(posts) == [1, 3]
            assert [r.reply_id for r in posts[3].replies] == ["13"]
        assert note_calls(running) == [NOTES_OF.format(n) for n in (1, 2, 3)] + [NOTES_OF.format(2)]


def test_an_empty_notes_page_of_an_issue_that_counts_notes_is_not_cached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The list says issue 2 has a human note, its notes page answers ``[]`` once (a replica behind):
    read as no reply that day, but not cached, or the wrong answer would stand until the issue
    changed. The next run reads its notes again and finds the reply."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    notes = [gitlab_note(10 + n, n, "helper", NOW - days(n - 0.5), "Which version?") for n in (1, 2)]
    empty = {
        "service": "gitlab",
        "path": "/issues/2/notes$",
        "kind": "body",
        "body": "[]",
        "content_type": "application/json",
        "times": 1,
    }
    scenario = write_more_scenario(
        tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}}, faults=[empty]
    )
    cache = ItemCache.in_memory()
    with Sandbox(scenario) as running:
        with caplog.at_level(logging.WARNING, logger="community_monitoring.sources.gitlab"):
            first = cached_fetch(running, cache)
        assert first[2].replies == ()
        assert any(
            "acme/widgets#2: its note count says 1 human notes, its notes page lists 0" in m
            for m in caplog.messages
        )
        second = cached_fetch(running, cache)
        assert [r.reply_id for r in second[2].replies] == ["12"]
        third = cached_fetch(running, cache)
        assert third == second
        # Issue 1 read once and then served; issue 2 read until its notes were there, then served.
        assert note_calls(running) == [NOTES_OF.format(1), NOTES_OF.format(2), NOTES_OF.format(2)]


def issues_list_served_as(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """A fault that serves the project's issue list as ``issues`` (a field left out, as a sparse
    answer would), the sandbox's own completion bypassed."""
    return {
        "service": "gitlab",
        "path": "/issues$",
        "kind": "body",
        "body": json.dumps(issues),
        "content_type": "application/json",
    }


def test_an_issue_listed_without_its_note_count_has_its_notes_read(tmp_path: Path) -> None:
    """GitLab always sends ``user_notes_count``. Read as 0, an issue listed without it was never
    asked for its notes: the weekly review listed an answered issue as unanswered, with its last
    activity at its creation, on a green run."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    notes = [gitlab_note(11, 1, "helper", NOW - days(0.5), "Which version?")]
    sparse = [dict(issue) for issue in issues]
    for issue in sparse:
        issue.pop("user_notes_count", None)
    listed = issues_list_served_as(sparse)
    scenario = write_more_scenario(
        tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}}, faults=[listed]
    )
    with Sandbox(scenario) as running:
        client = GitlabIssuesClient(gitlab.Gitlab(f"{running.base_url}/gitlab", private_token="t"))
        posts = list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW))
    by_iid = {p.number: p for p in posts}
    assert [r.reply_id for r in by_iid[1].replies] == ["11"]
    assert by_iid[2].replies == ()


def test_an_issue_listed_without_its_labels_is_named_not_read_as_unlabelled(tmp_path: Path) -> None:
    """GitLab always sends ``labels`` (empty when there are none). Read as none, an issue answered
    without them lost its owner's routing and the labels that keep it out of the lists; it is named
    as unreadable instead, with the post it leaves out."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    sparse = [dict(issue) for issue in issues]
    del sparse[1]["labels"]
    listed = issues_list_served_as(sparse)
    scenario = write_more_scenario(tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues}}, faults=[listed])
    problems: list[ItemProblem] = []
    with Sandbox(scenario) as running:
        client = GitlabIssuesClient(gitlab.Gitlab(f"{running.base_url}/gitlab", private_token="t"))
        posts = list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW, problems))
    assert [p.number for p in posts] == [1]
    assert [(p.item, p.post_id) for p in problems] == [(f"{PROJECT}#2", f"{PROJECT}#2")]
    assert "labels" in problems[0].problem


def test_a_notes_page_that_lists_only_the_label_change_of_an_issue_that_counts_a_reply_is_not_cached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A replica behind still lists the issue's older system note (the label added) but not the
    newer reply the issue counts: not an empty page, but as wrong. Not cached: the next run finds
    the reply."""
    issues = [gitlab_issue(PROJECT, 2, "Issue 2", "user2", NOW - days(2))]
    label = gitlab_note(20, 2, "bot", NOW - days(2), "added ~Mattermost label", system=True)
    reply = gitlab_note(21, 2, "helper", NOW - days(1), "Which version?")
    behind = {
        "service": "gitlab",
        "path": "/issues/2/notes$",
        "kind": "body",
        "body": json.dumps([label]),
        "content_type": "application/json",
        "times": 1,
    }
    scenario = write_more_scenario(
        tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": [label, reply]}}, faults=[behind]
    )
    cache = ItemCache.in_memory()
    with Sandbox(scenario) as running:
        with caplog.at_level(logging.WARNING, logger="community_monitoring.sources.gitlab"):
            first = cached_fetch(running, cache)
        assert first[2].replies == ()
        second = cached_fetch(running, cache)
        assert [r.reply_id for r in second[2].replies] == ["21"]
        assert cached_fetch(running, cache) == second
        assert note_calls(running) == [NOTES_OF.format(2), NOTES_OF.format(2)]
    assert any("its note count says 1 human notes, its notes page lists 0" in m for m in caplog.messages)


@pytest.mark.parametrize(("status", "retry_after"), [(401, None), (403, None), (429, 0), (500, None)])
def test_other_note_failures_still_fail_the_channel(
    tmp_path: Path, status: int, retry_after: int | None
) -> None:
    """Only a 404 is the issue's own: a refused token, a forbidden project, a rate limit that does
    not lift or a failing server are the channel's, after the retries."""
    issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    notes = [gitlab_note(10 + n, n, "helper", NOW - days(n - 0.5), "Which version?") for n in (1, 2)]
    failing: dict[str, object] = {"service": "gitlab", "path": "/issues/2/notes$", "status": status}
    if retry_after is not None:
        failing["retry_after"] = retry_after
    faults = [{"service": "gitlab", "path": "/issues/1/notes$", "status": 404}, failing]
    scenario = write_more_scenario(
        tmp_path / "s", NOW, gitlab={PROJECT: {"issues": issues, "notes": notes}}, faults=faults
    )
    with Sandbox(scenario) as running:
        gl = gitlab.Gitlab(f"{running.base_url}/gitlab", private_token="glpat-test")
        client = GitlabIssuesClient(gl, FAST, sleep=lambda seconds: None)
        problems: list[ItemProblem] = []
        with pytest.raises(UpstreamError) as caught:
            list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW, problems))
    assert (caught.value.status, caught.value.endpoint) == (status, "/projects/acme%2Fwidgets/issues/2/notes")
    assert [(p.item, p.post_id) for p in problems] == [(f"{PROJECT}#1", f"{PROJECT}#1")]


class LinkStripping(requests.adapters.HTTPAdapter):
    """A proxy on the way that drops the Link header (some do): GitLab's X-Next-Page is left."""

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        response.headers.pop("Link", None)
        return response


class PaginationStripping(requests.adapters.HTTPAdapter):
    """A proxy on the way that passes only the headers it knows: Link and every X- header dropped."""

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        for name in list(response.headers):
            if name.lower() == "link" or name.lower().startswith("x-"):
                response.headers.pop(name)
        return response


@pytest.mark.parametrize(
    ("proxy", "error"),
    [
        # The walk follows Link only (its checks are on Link): a page whose X-Next-Page names another
        # while Link was stripped on the way ended the list at its first page, in a green run.
        pytest.param(
            LinkStripping,
            'X-Next-Page names a next page but there is no Link rel="next"',
            id="Link stripped, X-Next-Page kept",
        ),
        # GitLab sends X-Page, X-Per-Page and X-Next-Page (empty on the last page) with every page of
        # an offset list, and Link while there is more; only X-Total, X-Total-Pages and rel="last" go
        # past 10,000 records. A full page with none of them was read as the list's last: every later
        # page lost, the run green.
        pytest.param(
            PaginationStripping,
            r"a full page \(2 items\) without GitLab's pagination headers",
            id="every pagination header stripped",
        ),
    ],
)
def test_a_page_that_lost_its_pagination_on_the_way_is_an_invalid_answer(
    sandbox: Sandbox, proxy: type[requests.adapters.HTTPAdapter], error: str
) -> None:
    """A page with fewer items than asked for ends the list whatever its headers; a full one whose
    next page cannot be told fails the read, asked once (a proxy's doing: asking again changes nothing)."""
    projects = {PROJECT: ["Mattermost"]}
    whole = gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="glpat-proxied")  # 7 of 100
    whole.session.mount("http://", proxy())
    assert len(list(fetch_gitlab_issues(GitlabIssuesClient(whole, FAST), projects, NOW - days(30), NOW))) == 7
    start = len(sandbox.requests_log)
    paged = gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="glpat-proxied", per_page=2)
    paged.session.mount("http://", proxy())
    with pytest.raises(
        InvalidResponseError, match=r"^gitlab: GET /projects/acme%2Fwidgets/issues answered 200: " + error
    ):
        list(fetch_gitlab_issues(GitlabIssuesClient(paged, FAST), projects, NOW - days(30), NOW))
    assert len(sandbox.requests_log) - start == 1


class XHeadersStripping(requests.adapters.HTTPAdapter):
    """A proxy on the way that drops the X- headers (not standard) and keeps Link (RFC 8288)."""

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        for name in list(response.headers):
            if name.lower().startswith("x-"):
                response.headers.pop(name)
        return response


@pytest.mark.parametrize("per_page", [4, 8])
def test_a_full_last_page_whose_link_names_no_next_page_ends_the_list(
    sandbox: Sandbox, per_page: int
) -> None:
    """Link without rel="next" (GitLab still sends rel="first", and rel="last" under 10,000
    records) says the page is the last, whatever became of the X- headers on the way: a proxy that
    dropped only those failed the channel on every list that filled its last page."""
    client = gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="glpat-proxied", per_page=per_page)
    client.session.mount("http://", XHeadersStripping())
    api = GitlabIssuesClient(client, FAST)
    assert len(list(api.issues(PROJECT, NOW - days(30), ["Mattermost"]))) == 8  # its last page full
    assert len(list(fetch_gitlab_issues(api, {PROJECT: ["Mattermost"]}, NOW - days(30), NOW))) == 7


class FirstPageOnly(requests.adapters.HTTPAdapter):
    """A proxy on the way that caches a list by its path: every page asked is answered with the
    first page's items, under the Link of the page asked (so the walk goes on to the last page)."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, bytes] = {}

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        path = (request.path_url or "").split("?")[0]
        body = response.content
        response._content = self.first.setdefault(path, body)
        return response


def test_a_server_that_ignores_the_page_asked_for_fails_the_read_not_a_green_run_short_of_issues(
    sandbox: Sandbox,
) -> None:
    """Each later page answered with the first page's issues, its Link going on to the last page:
    every issue past the first page was dropped as a repeat and the list read as complete."""
    paged = gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="glpat-proxied", per_page=2)
    paged.session.mount("http://", FirstPageOnly())
    with pytest.raises(
        InvalidResponseError,
        match=r"^gitlab: GET /projects/acme%2Fwidgets/issues answered 200: page 2 holds only items of earlier",
    ):
        list(
            fetch_gitlab_issues(
                GitlabIssuesClient(paged, FAST), {PROJECT: ["Mattermost"]}, NOW - days(30), NOW
            )
        )


def test_a_project_in_a_subgroup_is_read_like_any_other(tmp_path: Path) -> None:
    """GitLab nests groups: the project's full path goes into the API path encoded as one segment."""
    nested = "acme/platform/mobile/widgets"
    issues = [gitlab_issue(nested, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    notes = [gitlab_note(21, 1, "helper", NOW - days(0.5), "Which version?")]
    scenario = write_more_scenario(tmp_path / "s", NOW, gitlab={nested: {"issues": issues, "notes": notes}})
    running = Sandbox(scenario).start()
    try:
        posts = list(fetch_gitlab_issues(small_pages_client(running), {nested: []}, NOW - days(30), NOW))
        paths = {entry["path"] for entry in running.requests_log}
    finally:
        running.stop()
    assert [p.source_id for p in posts] == [f"{nested}#1", f"{nested}#2"]
    assert [r.reply_id for r in posts[0].replies] == ["21"]
    assert posts[0].url == f"https://gitlab.com/{nested}/-/issues/1"
    assert "/gitlab/api/v4/projects/acme%2Fplatform%2Fmobile%2Fwidgets/issues" in paths
