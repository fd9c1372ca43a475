"""PyGithub, unchanged, against the sandbox's GitHub REST emulation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import github
import pytest
import requests

from community_sandbox import Sandbox


def gh_issue(number: int, hour: int, **extra: Any) -> dict[str, Any]:
    """A GitHub issue as the REST API returns it, with upstream URLs the sandbox must rewrite."""
    stamp = f"2026-11-16T{hour:02d}:00:00Z"
    issue: dict[str, Any] = {
        "id": 5000 + number,
        "number": number,
        "url": f"https://api.github.com/repos/o/r/issues/{number}",
        "html_url": f"https://github.com/o/r/issues/{number}",
        "title": f"Issue {number}",
        "user": {"login": f"user{number}", "type": "User"},
        "labels": [],
        "state": "open",
        "created_at": stamp,
        "updated_at": stamp,
        "author_association": "NONE",
        "body": f"Body {number}",
    }
    issue.update(extra)
    return issue


def gh_comment(comment_id: int, number: int, created: str, updated: str | None = None) -> dict[str, Any]:
    return {
        "id": comment_id,
        "issue_url": f"https://api.github.com/repos/o/r/issues/{number}",
        "user": {"login": "helper", "type": "User"},
        "created_at": f"2026-11-16T{created}:00Z",
        "updated_at": f"2026-11-16T{updated or created}:00Z",
        "author_association": "MEMBER",
        "body": f"Comment {comment_id}",
    }


ISSUES = [
    gh_issue(1, 1, state="closed", closed_at="2026-11-16T01:30:00Z"),
    gh_issue(2, 2, html_url=None, pull_request={"url": "https://api.github.com/repos/o/r/pulls/2"}),
    gh_issue(3, 3, updated_at="2026-11-16T09:00:00Z", labels=[{"name": "bug"}]),
    gh_issue(4, 4, state="closed", pull_request={}),
    gh_issue(5, 5, labels=[{"name": "Bug"}, {"name": "help wanted"}]),
    gh_issue(6, 6),
    gh_issue(7, 7),
]
COMMENTS = [
    gh_comment(101, 3, "03:30"),
    gh_comment(102, 3, "04:30", updated="08:30"),
    gh_comment(103, 5, "05:30"),
    gh_comment(104, 6, "06:30"),
    gh_comment(105, 1, "01:30"),
    gh_comment(106, 7, "07:30"),
]
RELEASES = [
    {
        "id": 1,
        "tag_name": "v1.0",
        "created_at": "2026-10-01T00:00:00Z",
        "published_at": "2026-10-01T00:00:00Z",
    },
    {"id": 3, "tag_name": "v1.2-rc", "prerelease": True, "created_at": "2026-11-10T00:00:00Z"},
    {
        "id": 2,
        "tag_name": "v1.1",
        "created_at": "2026-11-01T00:00:00Z",
        "published_at": "2026-11-01T00:00:00Z",
    },
]


@pytest.fixture
def sandbox(write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]) -> Sandbox:
    root = write_scenario(
        {
            "github/o/r/issues.json": ISSUES,
            "github/o/r/comments.json": COMMENTS,
            "github/o/r/releases.json": RELEASES,
        }
    )
    return start_sandbox(root)


def client(sandbox: Sandbox, **kwargs: Any) -> github.Github:
    return github.Github(
        base_url=f"{sandbox.base_url}/api/v3",
        auth=github.Auth.Token("t"),
        per_page=2,
        seconds_between_requests=None,
        seconds_between_writes=None,
        **kwargs,
    )


def list_requests(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.requests_log if entry["path"] == path]


def test_issues_since_across_pages_in_order_with_prs(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")
    since = datetime(2026, 11, 16, 2, tzinfo=UTC)

    issues = list(repo.get_issues(state="all", since=since, sort="created", direction="asc"))

    assert [issue.number for issue in issues] == [2, 3, 4, 5, 6, 7]
    # Raw list data only: reading attributes PyGithub lacks would trigger extra GETs.
    assert [bool(issue._rawData.get("pull_request")) for issue in issues] == [
        True,
        False,
        True,
        False,
        False,
        False,
    ]
    assert len(list_requests(sandbox, "/api/v3/repos/o/r/issues")) == 3  # 6 items, 2 per page


def test_issue_defaults_filters_and_counts(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")

    open_desc = [issue.number for issue in repo.get_issues()]
    labelled = [issue.number for issue in repo.get_issues(state="all", labels=["BUG"])]
    by_update = [issue.number for issue in repo.get_issues(state="all", sort="updated")]

    assert open_desc == [7, 6, 5, 3, 2]  # GitHub's defaults: open, newest created first
    assert labelled == [5, 3]
    assert by_update[0] == 3
    assert repo.get_issue(3).comments == 2


def test_urls_point_at_the_sandbox_but_html_at_github(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")
    issue = repo.get_issue(2)

    assert repo.url == f"{sandbox.base_url}/api/v3/repos/o/r"
    assert issue.url == f"{sandbox.base_url}/api/v3/repos/o/r/issues/2"
    assert issue.pull_request.raw_data["url"] == f"{sandbox.base_url}/api/v3/repos/o/r/pulls/2"
    assert issue.html_url == "https://github.com/o/r/pull/2"
    assert issue.comments_url == f"{sandbox.base_url}/api/v3/repos/o/r/issues/2/comments"


def test_repo_wide_comments_one_request_per_page(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")
    since = datetime(2026, 11, 16, 3, tzinfo=UTC)
    sandbox.requests_log.clear()

    comments = list(repo.get_issues_comments(sort="updated", direction="asc", since=since))

    assert [comment.id for comment in comments] == [101, 103, 104, 106, 102]
    calls = list_requests(sandbox, "/api/v3/repos/o/r/issues/comments")
    assert len(calls) == 3 == len(sandbox.requests_log)
    assert calls[0]["query"]["since"] == ["2026-11-16T03:00:00Z"]


def test_issue_comments_and_releases(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")

    assert [c.id for c in repo.get_issue(3).get_comments()] == [101, 102]
    assert [r.tag_name for r in repo.get_releases()] == ["v1.2-rc", "v1.1", "v1.0"]
    assert repo.get_latest_release().tag_name == "v1.1"


def test_posting_a_comment_is_recorded_and_visible(sandbox: Sandbox) -> None:
    repo = client(sandbox).get_repo("o/r")

    created = repo.get_issue(6).create_comment("Fixed in v1.2")

    assert created.body == "Fixed in v1.2"
    assert [entry["body"] for entry in sandbox.outbox] == [{"body": "Fixed in v1.2"}]
    assert sandbox.outbox[0]["service"] == "github"
    assert sandbox.outbox[0]["path"] == "/api/v3/repos/o/r/issues/6/comments"
    assert repo.get_issue(6).comments == 2
    assert created.id in [c.id for c in repo.get_issues_comments()]


def test_link_header_exactly_as_github_writes_it(sandbox: Sandbox) -> None:
    api = f"{sandbox.base_url}/api/v3/repos/o/r/issues"

    first = requests.get(api, params={"state": "all", "per_page": 2}, timeout=5)
    middle = requests.get(api, params={"state": "all", "per_page": 2, "page": 2}, timeout=5)
    last = requests.get(api, params={"state": "all", "per_page": 2, "page": 4}, timeout=5)

    assert first.headers["Link"] == (
        f'<{api}?state=all&per_page=2&page=2>; rel="next", <{api}?state=all&per_page=2&page=4>; rel="last"'
    )
    assert middle.headers["Link"] == (
        f'<{api}?state=all&per_page=2&page=1>; rel="prev", <{api}?state=all&per_page=2&page=3>; rel="next", '
        f'<{api}?state=all&per_page=2&page=4>; rel="last", <{api}?state=all&per_page=2&page=1>; rel="first"'
    )
    assert last.headers["Link"] == (
        f'<{api}?state=all&per_page=2&page=3>; rel="prev", <{api}?state=all&per_page=2&page=1>; rel="first"'
    )
    assert len(last.json()) == 1
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"


def test_rate_limit_headers_and_errors(sandbox: Sandbox) -> None:
    base = f"{sandbox.base_url}/api/v3"

    one = requests.get(f"{base}/repos/o/r", timeout=5)
    two = requests.get(f"{base}/repos/o/r/issues/999", timeout=5)

    assert int(one.headers["x-ratelimit-remaining"]) - int(two.headers["x-ratelimit-remaining"]) == 1
    assert two.headers["x-ratelimit-resource"] == "core"
    assert two.headers["x-ratelimit-used"] == "2"
    assert two.status_code == 404
    assert two.json()["message"] == "Not Found"
    assert "documentation_url" in two.json()
    unauthenticated = requests.post(f"{base}/repos/o/r/issues/6/comments", json={"body": "x"}, timeout=5)
    assert unauthenticated.status_code == 401
    assert sandbox.outbox == []


def test_pygithub_retries_a_secondary_rate_limit(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    fault = {"service": "github", "path": r"/issues$", "status": 403, "times": 1, "retry_after": 0}
    sandbox = start_sandbox(write_scenario({"github/o/r/issues.json": ISSUES}, faults=[fault]))
    repo = client(sandbox).get_repo("o/r")

    numbers = [issue.number for issue in repo.get_issues(state="all")]

    assert numbers == [7, 6, 5, 4, 3, 2, 1]
    statuses = [entry["status"] for entry in list_requests(sandbox, "/api/v3/repos/o/r/issues")]
    assert statuses[:2] == [403, 200]


def test_a_user_written_without_its_type_is_served_with_the_one_github_gives(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    # A hand-trimmed user ({"login": ...}): GitHub names app accounts "name[bot]" and types them Bot.
    issues = [
        gh_issue(1, 1, user={"login": "dependabot[bot]"}),
        gh_issue(2, 2, user={"login": "ana"}),
        gh_issue(3, 3, user={"login": "renovate[bot]", "type": "User"}),  # as written, when given
        gh_issue(4, 4, user=None),
    ]
    comment = {**gh_comment(101, 2, "03:30"), "user": {"login": "github-actions[bot]"}}
    sandbox = start_sandbox(
        write_scenario({"github/o/r/issues.json": issues, "github/o/r/comments.json": [comment]})
    )
    repo = client(sandbox).get_repo("o/r")

    served = {issue.number: issue.user for issue in repo.get_issues(state="all")}
    assert (served[1].type, served[2].type, served[3].type, served[4]) == ("Bot", "User", "User", None)
    assert [c.user.type for c in repo.get_issues_comments()] == ["Bot"]
