"""GitHub issues and their comments, through PyGithub and the github provider's connection.

Requests stay O(pages): issues come from the repository list endpoint and comments from the
repository-wide comments endpoint with ``since`` (never one call per issue).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from community_monitoring.records import Post, Release, Reply
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.sources.http import http_base_delay, http_max_attempts
from community_monitoring.timeutil import parse_time

if TYPE_CHECKING:
    from github import Github

log = logging.getLogger(__name__)

GITHUB_CONN_ID = "github_default"
STAFF_ASSOCIATIONS = frozenset({"OWNER", "MEMBER"})


def make_github_hook_class() -> type:
    """The github provider's hook, building a client without PyGithub's per-request pacing."""
    from airflow.providers.github.hooks.github import GithubHook
    from github import Auth, Github, GithubRetry

    class CommunityGithubHook(GithubHook):
        def get_conn(self) -> Github:
            if self.client is not None:
                return self.client
            conn = self.get_connection(self.github_conn_id)
            if not conn.password:
                # GitHub App credentials: the provider's own logic handles them.
                return super().get_conn()
            kwargs: dict[str, Any] = {
                "auth": Auth.Token(conn.password),
                "per_page": 100,
                # O(pages) requests already; the default 0.25 s pause per request only slows runs.
                "seconds_between_requests": None,
                "seconds_between_writes": None,
                "retry": GithubRetry(total=http_max_attempts() - 1, backoff_factor=http_base_delay()),
                "timeout": 30,
                # No GET /repos/o/r just to build the URLs of the list endpoints.
                "lazy": True,
            }
            if conn.host:
                kwargs["base_url"] = conn.host.rstrip("/")
            self.client = Github(**kwargs)
            return self.client

    return CommunityGithubHook


def github_client(conn_id: str = GITHUB_CONN_ID) -> Github:
    return make_github_hook_class()(github_conn_id=conn_id).get_conn()


def _raw(obj: Any) -> dict[str, Any]:
    # ``raw_data`` on a list item triggers a GET of the item (PyGithub "completes" it), which
    # would make requests O(items); the list response already holds every field we read.
    return obj._rawData


def _login(user: dict[str, Any] | None) -> tuple[str, bool]:
    if not user:
        return "ghost", False
    login = str(user.get("login") or "ghost")
    return login, user.get("type") == "Bot"


def normalise_issue(raw: dict[str, Any], repo: str) -> Post:
    author, is_bot = _login(raw.get("user"))
    closed_at = raw.get("closed_at")
    return Post(
        channel="github",
        source_id=f"{repo}#{raw['number']}",
        url=str(raw.get("html_url") or f"https://github.com/{repo}/issues/{raw['number']}"),
        title=str(raw.get("title") or ""),
        body=str(raw.get("body") or ""),
        author=author,
        author_is_bot=is_bot,
        author_platform_staff=raw.get("author_association") in STAFF_ASSOCIATIONS,
        created_at=parse_time(raw["created_at"]),
        state="open" if raw.get("state") == "open" else "closed",
        closed_at=parse_time(closed_at) if closed_at else None,
        labels=tuple(str(label.get("name", "")) for label in raw.get("labels") or ()),
        container=repo,
        is_pull_request=bool(raw.get("pull_request")),
        number=int(raw["number"]),
        updated_at=parse_time(raw["updated_at"]) if raw.get("updated_at") else None,
    )


def issue_number_of_comment(raw: dict[str, Any]) -> int:
    issue_url = str(raw.get("issue_url") or "")
    try:
        return int(issue_url.rstrip("/").rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise ValueError(f"GitHub comment {raw.get('id')} has no usable issue_url: {issue_url!r}") from None


def normalise_comment(raw: dict[str, Any]) -> Reply:
    author, is_bot = _login(raw.get("user"))
    return Reply(
        reply_id=str(raw["id"]),
        author=author,
        author_is_bot=is_bot,
        author_platform_staff=raw.get("author_association") in STAFF_ASSOCIATIONS,
        created_at=parse_time(raw["created_at"]),
        body=str(raw.get("body") or ""),
        kind="comment",
    )


def normalise_release(raw: dict[str, Any]) -> Release:
    published = raw.get("published_at")
    return Release(
        tag=str(raw.get("tag_name") or raw.get("name") or ""),
        name=str(raw.get("name") or raw.get("tag_name") or ""),
        published_at=parse_time(published) if published else None,
        draft=bool(raw.get("draft")),
        prerelease=bool(raw.get("prerelease")),
        url=str(raw.get("html_url") or ""),
    )


class GithubIssuesClient:
    """Raw issue, comment and release dicts of one repository, page by page."""

    def __init__(self, gh: Github) -> None:
        self._gh = gh

    def _repo(self, full_name: str) -> Any:
        # With a lazy client (as the hook builds it) this sends no GET /repos/o/r.
        return self._gh.get_repo(full_name)

    def issues(self, repo: str, since: datetime) -> Iterator[dict[str, Any]]:
        for issue in self._repo(repo).get_issues(state="all", since=since, sort="created", direction="desc"):
            yield _raw(issue)

    def comments(self, repo: str, since: datetime) -> Iterator[dict[str, Any]]:
        for comment in self._repo(repo).get_issues_comments(sort="updated", direction="asc", since=since):
            yield _raw(comment)

    def releases(self, repo: str) -> Iterator[dict[str, Any]]:
        for release in self._repo(repo).get_releases():
            yield _raw(release)


def fetch_github_issues(
    client: GithubIssuesClient, repos: Iterable[str], since: datetime, until: datetime
) -> Iterator[Post]:
    """Issues (and PRs, marked) created in (since, until] with every comment since ``since``.

    Comments on an issue are never older than the issue, so ``since`` on the repository-wide
    comments endpoint loses none of the comments on these issues.
    """
    for repo in repos:
        posts: dict[int, Post] = {}
        for raw in client.issues(repo, since):
            created = parse_time(raw["created_at"])
            if created <= since:
                break  # newest first: every later page is older still
            if created <= until:
                posts[int(raw["number"])] = normalise_issue(raw, repo)
        replies: dict[int, list[Reply]] = defaultdict(list)
        comment_count = 0
        for raw in client.comments(repo, since):
            number = issue_number_of_comment(raw)
            if number in posts:
                replies[number].append(normalise_comment(raw))
                comment_count += 1
        log.info(
            "GitHub %s: %d issues/PRs created in the window, %d comments", repo, len(posts), comment_count
        )
        for number, post in sorted(posts.items()):
            yield post.with_replies(replies.get(number, ()))


def fetch_github_releases(client: GithubIssuesClient, repo: str) -> list[Release]:
    return [normalise_release(raw) for raw in client.releases(repo)]


def fetch(request: FetchRequest) -> Fetched:
    """The configured repositories' issues, and the product repository's releases."""
    client = GithubIssuesClient(github_client())
    github = request.settings.github
    releases = fetch_github_releases(client, github.product_repo)
    log.info("GitHub: %d releases of %s", len(releases), github.product_repo)
    return Fetched(
        posts=fetch_github_issues(client, github.repos, request.since, request.until), releases=releases
    )


def reply_sender(conn_id: str = GITHUB_CONN_ID) -> Callable[[str, int, str], None]:
    """Posts a reply draft as an issue comment: one POST, no GET of the issue first (lazy client)."""
    gh = github_client(conn_id)

    def send(repo: str, number: int, body: str) -> None:
        gh.get_repo(repo).get_issue(number).create_comment(body)

    return send
