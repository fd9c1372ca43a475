"""GitHub extraction with the real PyGithub client against the sandbox: output and requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from github import Auth, Github

from community_monitoring.sources.github import (
    GithubIssuesClient,
    fetch_github_issues,
    fetch_github_releases,
    github_client,
)
from community_sandbox import Sandbox
from scenario_files import days, github_comment, github_issue, write_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
REPO = "mattermost/mattermost"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    issues = [github_issue(REPO, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in range(1, 8)]
    issues.append(github_issue(REPO, 8, "A PR", "dev", NOW - days(1), pull_request={"url": "x"}))
    issues.append(github_issue(REPO, 9, "Old", "user9", NOW - days(60)))
    issues.append(github_issue(REPO, 10, "After T", "user10", NOW + days(1)))
    comments = [
        github_comment(REPO, 100 + i, 1 + i % 3, "helper", NOW - days(0.5) + days(i / 100)) for i in range(5)
    ]
    comments.append(github_comment(REPO, 200, 9, "helper", NOW - days(59)))
    releases = [
        {
            "id": 1,
            "tag_name": "v11.1.0",
            "name": "v11.1.0",
            "draft": False,
            "prerelease": False,
            "published_at": "2026-11-10T16:00:00Z",
            "created_at": "2026-11-10T16:00:00Z",
            "html_url": "https://github.com/r/1",
        },
    ]
    scenario = write_scenario(
        tmp_path / "s", NOW, github={REPO: {"issues": issues, "comments": comments, "releases": releases}}
    )
    running = Sandbox(scenario).start()
    yield running
    running.stop()


def small_pages_client(sandbox: Sandbox) -> GithubIssuesClient:
    gh = Github(
        base_url=f"{sandbox.base_url}/api/v3",
        auth=Auth.Token("t"),
        per_page=2,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )
    return GithubIssuesClient(gh)


def test_fetch_issues_with_comments_as_of_window(sandbox: Sandbox) -> None:
    posts = list(fetch_github_issues(small_pages_client(sandbox), [REPO], NOW - days(30), NOW))
    numbers = [p.number for p in posts]
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 8]  # not the 60-day-old one, not the one after T
    by_number = {p.number: p for p in posts}
    assert by_number[8].is_pull_request
    assert not by_number[1].is_pull_request
    assert [r.reply_id for r in by_number[1].replies] == ["100", "103"]
    assert by_number[1].url == f"https://github.com/{REPO}/issues/1"
    assert by_number[1].author == "user1"


def test_requests_are_one_per_page_never_one_per_issue(sandbox: Sandbox) -> None:
    list(fetch_github_issues(small_pages_client(sandbox), [REPO], NOW - days(30), NOW))
    paths = [r["path"] for r in sandbox.requests_log]
    comment_pages = [p for p in paths if p.endswith("/issues/comments")]
    issue_pages = [p for p in paths if p.endswith(f"/repos/{REPO}/issues")]
    # 5 comments updated since the window start, 2 per page → 3 pages.
    assert len(comment_pages) == 3
    # Issues come newest first: 10 issues updated since, but paging stops once past the window.
    assert len(issue_pages) <= 5
    assert not [p for p in paths if p.rsplit("/", 1)[-1].isdigit()]
    assert f"/api/v3/repos/{REPO}" not in paths  # the lazy client never fetches the repository itself
    query = next(r["query"] for r in sandbox.requests_log if r["path"].endswith("/issues/comments"))
    assert query["since"] == ["2026-10-19T09:00:00Z"]


def test_releases(sandbox: Sandbox) -> None:
    [release] = fetch_github_releases(small_pages_client(sandbox), REPO)
    assert release.tag == "v11.1.0"
    assert release.published_at == datetime(2026, 11, 10, 16, tzinfo=UTC)


def test_hook_reads_the_airflow_connection(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "github", "host": f"{sandbox.base_url}/api/v3", "password": "secret-token"}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_TEST", json.dumps(conn))
    client = GithubIssuesClient(github_client("github_test"))
    posts = list(fetch_github_issues(client, [REPO], NOW - days(30), NOW))
    assert len(posts) == 8
    query = next(r["query"] for r in sandbox.requests_log if r["path"].endswith(f"/repos/{REPO}/issues"))
    assert query["per_page"] == ["100"]


def test_a_posted_reply_is_found_by_its_marker(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from community_monitoring.sources.github import reply_reader, reply_sender

    conn = {"conn_type": "github", "host": f"{sandbox.base_url}/api/v3", "password": "secret-token"}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_TEST", json.dumps(conn))
    send, has_reply = reply_sender("github_test"), reply_reader("github_test")
    marker = "<!-- community-monitoring:reply:github:x#3 -->"
    assert not has_reply(REPO, 3, marker)
    send(REPO, 3, f"Hi, thanks!\n\n{marker}")
    assert has_reply(REPO, 3, marker)
    assert not has_reply(REPO, 2, marker)  # another issue
    assert not has_reply(REPO, 3, "<!-- community-monitoring:reply:github:x#4 -->")
    looked = [r for r in sandbox.requests_log if r["method"] == "GET" and r["path"].endswith("/3/comments")]
    assert looked
    assert all(r["path"] == f"/api/v3/repos/{REPO}/issues/3/comments" for r in looked)
