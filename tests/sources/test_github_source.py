"""GitHub extraction with the real PyGithub client against the sandbox: output and requests."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from builders import rsa_private_key
from community_monitoring.errors import SettingsError
from community_monitoring.records import read_records, write_record_lines
from community_monitoring.sources import ItemProblem
from community_monitoring.sources.github import (
    GithubIssuesClient,
    fetch_github_issues,
    fetch_github_releases,
    github_client,
)
from community_monitoring.sources.http import InvalidResponseError, UpstreamError
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


def small_pages_client(sandbox: Sandbox, per_page: int = 2) -> GithubIssuesClient:
    gh = Github(
        base_url=f"{sandbox.base_url}/api/v3",
        auth=Auth.Token("t"),
        per_page=per_page,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )
    return GithubIssuesClient(gh)


def test_fetch_issues_with_comments_as_of_window(sandbox: Sandbox) -> None:
    posts = list(fetch_github_issues(small_pages_client(sandbox), [REPO], NOW - days(30), NOW))
    numbers = sorted(p.number for p in posts)
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 8]  # not the 60-day-old one, not the one after T
    created = [p.created_at for p in posts]
    assert created == sorted(created, reverse=True)  # streamed as the newest-first pages arrive
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
    # By creation: numbered pages in an order by update time move a comment edited mid-walk to the
    # end, and the next page's first comment onto a page already read (lost in a green run).
    assert (query["sort"], query["direction"]) == (["created"], ["asc"])


class _RepeatingComments:
    """A comments list whose second page starts with the first page's last comment again."""

    def __init__(self, comments: list[dict[str, Any]]) -> None:
        self._comments = comments

    def comments(self, repo: str, since: datetime) -> Iterator[Any]:
        yield from self._comments[:2]
        yield from self._comments[1:]


def test_a_comment_read_again_on_the_next_page_counts_once() -> None:
    from community_monitoring.sources.github import _comments_by_issue

    raw = [github_comment(REPO, 100 + i, 1, "helper", NOW - days(1) + days(i / 100)) for i in range(3)]
    read = _comments_by_issue(_RepeatingComments(raw), REPO, NOW - days(30))  # type: ignore[arg-type]
    assert [r.reply_id for r in read.replies[1]] == ["100", "101", "102"]
    assert read.count == 3


def test_posts_stream_as_the_issue_pages_arrive(sandbox: Sandbox) -> None:
    posts = fetch_github_issues(small_pages_client(sandbox), [REPO], NOW - days(30), NOW)
    first = next(posts)
    issue_pages = [r for r in sandbox.requests_log if r["path"].endswith(f"/repos/{REPO}/issues")]
    comment_pages = [r for r in sandbox.requests_log if r["path"].endswith("/issues/comments")]
    # Comments first (all 3 pages: the join needs them), then one page of issues: not all of them.
    assert (len(comment_pages), len(issue_pages)) == (3, 1)
    rest = list(posts)
    by_number = {p.number: p for p in (first, *rest)}
    assert len(by_number) == 8
    assert [r.reply_id for r in by_number[2].replies] == ["101", "104"]
    assert by_number[7].replies == ()


class ListsOnly:
    """Issue and comment lists as given (newest issues first), without the sandbox's own checks."""

    def __init__(self, issues: list[Any], comments: list[Any]) -> None:
        self._issues, self._comments = issues, comments

    def issues(self, repo: str, since: datetime) -> Iterator[Any]:
        return iter(self._issues)

    def comments(self, repo: str, since: datetime) -> Iterator[Any]:
        return iter(self._comments)


def test_a_bad_comment_is_named_only_when_its_issue_is_read() -> None:
    issues = [github_issue(REPO, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    issues.append(github_issue(REPO, 9, "Old but active", "user9", NOW - days(60)))
    good = github_comment(REPO, 100, 1, "helper", NOW - days(0.5))
    bad_in_window = {**github_comment(REPO, 101, 2, "helper", NOW - days(0.5)), "user": "nobody"}
    bad_on_old_issue = {**github_comment(REPO, 102, 9, "helper", NOW - days(0.5)), "user": "nobody"}
    no_issue = {**github_comment(REPO, 103, 1, "helper", NOW - days(0.5)), "issue_url": "https://x/y"}
    client = ListsOnly(issues, [good, bad_in_window, bad_on_old_issue, no_issue, "not a comment"])
    problems: list[ItemProblem] = []
    posts = list(fetch_github_issues(client, [REPO], NOW - days(30), NOW, problems))  # type: ignore[arg-type]
    assert [p.number for p in posts] == [1, 2]
    assert [r.reply_id for p in posts for r in p.replies] == ["100"]
    # Named in reading order; the bad comment on the 60-day-old issue is none of this run's business.
    assert [p.item for p in problems] == [
        f"{REPO}#2 comment 101",
        f"{REPO}: comment 103",
        f"{REPO}: comment None",
    ]
    assert "issue_url" in problems[1].problem
    assert "not an object" in problems[2].problem
    assert [p.post_id for p in problems] == ["", "", ""]  # their issues were kept


def test_an_issue_left_out_is_named_with_the_post_it_would_have_been() -> None:
    issues = [github_issue(REPO, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2)]
    issues[0]["labels"] = "bug"  # neither a list of names nor of label objects
    issues.append({**github_issue(REPO, 3, "No number", "u", NOW - days(3)), "number": "three"})
    problems: list[ItemProblem] = []
    posts = list(fetch_github_issues(ListsOnly(issues, []), [REPO], NOW - days(30), NOW, problems))  # type: ignore[arg-type]
    assert [p.number for p in posts] == [2]
    # The second has no number: which post it was is unknown, so none is owed a catch-up.
    assert [(p.item, p.post_id) for p in problems] == [
        (f"{REPO}#1", f"{REPO}#1"),
        (f"https://github.com/{REPO}/issues/3", ""),
    ]


def test_an_issue_met_again_on_the_next_page_is_read_once() -> None:
    first, second = (github_issue(REPO, n, f"Issue {n}", "u", NOW - days(n)) for n in (1, 2))
    comment = github_comment(REPO, 100, 2, "helper", NOW - days(0.5))
    posts = list(
        fetch_github_issues(ListsOnly([first, second, second], [comment]), [REPO], NOW - days(30), NOW)
    )  # type: ignore[arg-type]
    assert [(p.number, len(p.replies)) for p in posts] == [(1, 0), (2, 1)]


def test_an_issue_answered_without_its_labels_is_named_not_read_as_unlabelled() -> None:
    """GitHub always sends an issue's labels (empty when it has none). Read as "none", an answer
    without them listed a Help Wanted issue mirrored from Jira in the digests and the weekly review."""
    mirrored = {
        **github_issue(REPO, 2, "Mirrored", "u", NOW - days(2)),
        "labels": [{"name": "Help Wanted"}],
        "body": "https://mattermost.atlassian.net/browse/MM-61234",
    }
    sparse = dict(mirrored)
    del sparse["labels"]
    assert "field 'labels' is missing" in only_issue_2_named(sparse).problem


def only_issue_2_named(issue_2: dict[str, Any]) -> ItemProblem:
    """Reads issue 1 (fine) and ``issue_2``: issue 1 alone is read, issue 2 alone is named."""
    issues = [github_issue(REPO, 1, "Fine", "u", NOW - days(1)), issue_2]
    problems: list[ItemProblem] = []
    posts = list(fetch_github_issues(ListsOnly(issues, []), [REPO], NOW - days(30), NOW, problems))  # type: ignore[arg-type]
    assert [p.number for p in posts] == [1]
    [problem] = problems
    assert problem.item == f"{REPO}#2"
    return problem


def test_an_issues_type_is_read_as_github_sends_it_and_kept_in_the_run_store(tmp_path: Path) -> None:
    """GitHub's issue types ("Bug", "Feature"): an object with its name, null where none is set,
    absent on a GitHub that predates them. The post type rules read it as a label."""
    issue_type = {
        "id": 411,
        "node_id": "IT_kwDNAd3NAZs",
        "name": "Bug",
        "description": "An unexpected problem",
    }
    issues = [
        {**github_issue(REPO, 1, "Typed", "u1", NOW - days(1)), "type": issue_type},
        {**github_issue(REPO, 2, "Untyped", "u2", NOW - days(2)), "type": None},
        github_issue(REPO, 3, "Before issue types", "u3", NOW - days(3)),
        {**github_issue(REPO, 4, "A bare name", "u4", NOW - days(4)), "type": "Feature"},
    ]
    scenario = write_scenario(tmp_path / "s", NOW, github={REPO: {"issues": issues}})
    running = Sandbox(scenario).start()
    try:
        posts = list(fetch_github_issues(small_pages_client(running), [REPO], NOW - days(30), NOW))
    finally:
        running.stop()
    assert {p.number: p.issue_type for p in posts} == {1: "Bug", 2: "", 3: "", 4: "Feature"}
    stored = io.BytesIO()
    write_record_lines(posts, stored)
    assert [p.issue_type for p in read_records(stored.getvalue().splitlines())] == ["Bug", "", "", "Feature"]


def test_releases(sandbox: Sandbox) -> None:
    [release] = fetch_github_releases(small_pages_client(sandbox), REPO)
    assert release.tag == "v11.1.0"
    assert release.published_at == datetime(2026, 11, 10, 16, tzinfo=UTC)


def test_an_issue_answered_without_its_author_association_is_named_not_read_as_a_community_post() -> None:
    """GitHub always sends ``author_association``. Read as NONE when left out, an issue opened by a
    staff member the roster does not list (MEMBER) passed for a community post and was listed."""
    by_member = {
        **github_issue(REPO, 2, "Team's own", "core-dev", NOW - days(2)),
        "author_association": "MEMBER",
    }
    del by_member["author_association"]
    assert "field 'author_association' is missing" in only_issue_2_named(by_member).problem


class ReleasesOnly:
    def __init__(self, releases: list[Any]) -> None:
        self._releases = releases

    def releases(self, repo: str) -> Iterator[Any]:
        return iter(self._releases)


@pytest.mark.parametrize("hidden", ["draft", "prerelease"])
def test_a_release_answered_without_draft_or_prerelease_is_named_not_read_as_released(hidden: str) -> None:
    """Read as False, a release candidate answered without "prerelease" passed for the product's
    latest release (the release prompt, the "after the release" window, the sheet follow it)."""
    release = {
        "tag_name": "v11.2.0-rc1",
        "name": "v11.2.0-rc1",
        "published_at": "2026-11-17T10:00:00Z",
        "draft": False,
        "prerelease": True,
        "html_url": "https://github.com/mattermost/mattermost/releases/tag/v11.2.0-rc1",
    }
    final = {**release, "tag_name": "v11.1.0", "name": "v11.1.0", "prerelease": False}
    del release[hidden]
    problems: list[ItemProblem] = []
    releases = fetch_github_releases(ReleasesOnly([final, release]), REPO, problems)  # type: ignore[arg-type]
    assert [r.tag for r in releases] == ["v11.1.0"]
    [problem] = problems
    assert problem.item == f"{REPO} release v11.2.0-rc1"
    assert f"field '{hidden}' is missing" in problem.problem


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


def test_a_connection_without_a_token_is_a_settings_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's ValueError was retried like a passing fault, for minutes, naming no connection."""
    from community_monitoring.errors import SettingsError

    monkeypatch.setenv(
        "AIRFLOW_CONN_GITHUB_NOTOKEN", json.dumps({"conn_type": "github", "host": "https://api.github.com"})
    )
    with pytest.raises(SettingsError, match="connection 'github_notoken' cannot be used: No access token"):
        github_client("github_notoken")


def test_a_title_with_half_an_emoji_is_read_and_stored_not_a_failed_channel(tmp_path: Path) -> None:
    """JSON may escape half of a UTF-16 pair (``\\ud83d`` alone: a title cut in the middle of an
    emoji by a client counting UTF-16 units; RFC 8259 §8.2 lets JSON texts carry it). Python decodes
    it to a lone surrogate that no UTF-8 writer takes: the run store refused the post, and the whole
    channel failed every day the issue stayed in the window. It is read as U+FFFD, as invalid UTF-8 is."""
    issue = github_issue(REPO, 1, "Crash on start", "ana", NOW - days(1))
    page = json.dumps([issue]).replace("Crash on", "Crash \\ud83d on")
    fault = {
        "service": "github",
        "path": "/issues$",
        "kind": "body",
        "body": page,
        "content_type": "application/json",
    }
    scenario = write_scenario(tmp_path / "s", NOW, github={REPO: {"issues": [issue]}}, faults=[fault])
    with Sandbox(scenario) as running:
        posts = list(fetch_github_issues(small_pages_client(running), [REPO], NOW - days(30), NOW))
    assert [p.title for p in posts] == ["Crash \ufffd on start"]
    stored = io.BytesIO()
    assert write_record_lines(posts, stored) == 1
    assert [p.title for p in read_records([stored.getvalue()])] == ["Crash \ufffd on start"]


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_an_issue_dated_past_the_calendars_ends_is_named_not_a_failed_channel(stamp: str) -> None:
    """The smallest and largest times a .NET or Java service writes, in a zone other than UTC, lie
    outside Python's calendar once moved to UTC: the OverflowError failed the whole channel."""
    odd = {**github_issue(REPO, 2, "Odd", "u", NOW - days(2)), "created_at": stamp}
    assert "outside the calendar once in UTC" in only_issue_2_named(odd).problem


def test_the_primary_rate_limit_hours_from_its_reset_fails_the_read_at_once_naming_the_wait(
    tmp_path: Path,
) -> None:
    """GitHub's primary limit: 403 with x-ratelimit-remaining 0 and a reset hours away. Waited out
    blindly, the task would sleep through its time limit; the read fails now, saying how long."""
    issue = github_issue(REPO, 1, "Crash", "ana", NOW - days(1))
    reset = int(time.time()) + 3 * 3600
    fault = {
        "service": "github",
        "path": "/issues$",
        "status": 403,
        "body": {"message": "API rate limit exceeded for user ID 1."},
        "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    }
    scenario = write_scenario(tmp_path / "s", NOW, github={REPO: {"issues": [issue]}}, faults=[fault])
    started = time.monotonic()
    with (
        Sandbox(scenario) as running,
        pytest.raises(UpstreamError, match=r"answered 403: asked to wait 10\d\d\ds"),
    ):
        list(fetch_github_issues(production_like_client(running), [REPO], NOW - days(30), NOW))
    assert time.monotonic() - started < 10


def test_a_next_link_back_to_the_page_itself_ends_in_an_error_not_a_loop_or_doubled_issues(
    tmp_path: Path,
) -> None:
    """A list whose next page is the page it is on (a proxy that caches by path, a cursor that does
    not move): read twice at most, each issue once, then an error, never pages read for ever."""
    issue = github_issue(REPO, 1, "Crash", "ana", NOW - days(1))
    port = free_port()
    page = f"http://127.0.0.1:{port}/api/v3/repos/{REPO}/issues?state=all&page=1"
    fault = {
        "service": "github",
        "path": "/issues$",
        "kind": "body",
        "body": json.dumps([issue]),
        "content_type": "application/json",
        "headers": {"Link": f'<{page}>; rel="next"'},
    }
    scenario = write_scenario(tmp_path / "s", NOW, github={REPO: {"issues": [issue]}}, faults=[fault])
    posts: list[Any] = []
    with (
        Sandbox(scenario, port=port) as running,
        pytest.raises(
            InvalidResponseError, match=r"goes back to a page already read|holds only items of earlier pages"
        ),
    ):
        posts.extend(fetch_github_issues(production_like_client(running), [REPO], NOW - days(30), NOW))
    assert [p.number for p in posts] == [1]
    assert len([e for e in running.requests_log if e["path"].endswith("/issues")]) <= 3


def production_like_client(sandbox: Sandbox) -> GithubIssuesClient:
    """As ``github_client`` builds it: one attempt per request (PyGithub's GithubRetry would sleep
    until the primary limit resets), the HTTP layer deciding what is retried."""
    gh = Github(
        base_url=f"{sandbox.base_url}/api/v3", auth=Auth.Token("ghp_sandbox_token"), retry=None, lazy=True
    )
    return GithubIssuesClient(gh)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_github_app_connection_whose_key_cannot_sign_is_a_settings_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key was first used by the first request, whose PyJWT InvalidKeyError named neither the
    connection nor the key."""
    bad_key = "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"
    app = {"private_key": bad_key, "app_id": "123", "installation_id": 456}
    monkeypatch.setenv("AIRFLOW_CONN_GH_APP", json.dumps({"conn_type": "github", "extra": app}))
    with pytest.raises(
        SettingsError, match=r"connection 'gh_app' cannot be used: its GitHub App private key"
    ):
        github_client("gh_app")


def test_a_github_app_auth_whose_token_makers_are_not_found_is_named_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The masking of issued tokens wraps PyGithub internals (``_get_installation_authorization``,
    ``_app_auth.create_jwt``): a PyGithub without them masked nothing, and said nothing."""
    from community_monitoring.sources.github import _mask_issued_tokens

    class OtherAuth:
        token = "ghs_never_masked"

    with caplog.at_level(logging.WARNING, logger="community_monitoring.sources.github"):
        _mask_issued_tokens(OtherAuth())
    assert "_get_installation_authorization" in caplog.text
    assert "_app_auth.create_jwt" in caplog.text


def test_a_github_app_connection_gets_the_clients_own_settings_not_pygithubs_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection with GitHub App credentials (no token) was handed to the provider, whose client
    has PyGithub's defaults: GithubRetry re-sends a POST (a reply comment) after a 5xx and sleeps
    until a primary rate limit resets, hours if need be; 15 s timeouts, no body deadline, 30 items a
    page and a pause before every request. Only the App's credentials are the provider's."""
    app = {"private_key": rsa_private_key(), "app_id": "123", "installation_id": 456}
    host = "https://github.example.com/api/v3"
    monkeypatch.setenv("AIRFLOW_CONN_GH_APP", json.dumps({"conn_type": "github", "host": host, "extra": app}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_GH_TOKEN", json.dumps({"conn_type": "github", "host": host, "password": "t0ken"})
    )
    settings = (
        "base_url",
        "timeout",
        "per_page",
        "retry",
        "seconds_between_requests",
        "seconds_between_writes",
        "lazy",
    )

    def shown(gh: Github) -> dict[str, Any]:
        return {key: gh.requester.kwargs[key] for key in settings}

    with_app, with_token = github_client("gh_app"), github_client("gh_token")
    assert type(with_app.requester.auth).__name__ == "AppInstallationAuth"
    assert shown(with_app) == shown(with_token)
    assert shown(with_app)["retry"] is None


def test_a_server_that_ignores_the_page_asked_for_fails_the_read_not_a_green_run_short_of_issues(
    tmp_path: Path,
) -> None:
    """A proxy or server that answers page 1 whatever page is asked, while its Link goes on to the
    last page: every issue past page 1 would be dropped as a repeat and the list read as complete."""
    issues = [github_issue(REPO, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2, 3)]
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v3/repos/{REPO}/issues?per_page=1"

    def same_first_page(page: int, link: str | None) -> dict[str, Any]:
        fault: dict[str, Any] = {
            "service": "github",
            "path": "/issues$",
            "query": f"(^|&)page={page}(&|$)",
            "kind": "body",
            "body": json.dumps([issues[0]]),
            "content_type": "application/json",
        }
        if link:
            fault["headers"] = {"Link": link}
        return fault

    faults = [
        same_first_page(2, f'<{base}&page=3>; rel="next", <{base}&page=3>; rel="last"'),
        same_first_page(3, f'<{base}&page=1>; rel="first", <{base}&page=2>; rel="prev"'),
    ]
    scenario = write_scenario(tmp_path / "s", NOW, github={REPO: {"issues": issues}}, faults=faults)
    posts: list[Any] = []
    with (
        Sandbox(scenario, port=port) as running,
        pytest.raises(InvalidResponseError, match="page 2 holds only items of earlier pages"),
    ):
        posts.extend(
            fetch_github_issues(small_pages_client(running, per_page=1), [REPO], NOW - days(30), NOW)
        )
    assert [p.number for p in posts] == [1]
