"""GitHub REST (v3) under ``/api/v3``, enough for PyGithub to list issues, comments and releases.

Files: ``github/<owner>/<repo>/issues.json``, ``comments.json``, ``releases.json`` and an
optional ``repo.json`` (fields merged into the synthesised repository object). A repository
without a folder exists and is empty (no issues, comments or releases), as in SPEC §8; inject a
``status`` fault with 404 to emulate a repository that does not exist. Every URL that
points at ``https://api.github.com`` is rewritten to the sandbox, because PyGithub refuses to
follow URLs on another host or port than its ``base_url``; ``html_url`` stays on github.com.
"""

from __future__ import annotations

import bisect
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from community_sandbox.indexing import ResultCache
from community_sandbox.loading import (
    ItemChecker,
    format_time,
    parse_time,
    read_json_array,
    read_optional_object,
    rewrite_urls,
)
from community_sandbox.routing import (
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    reason,
)

UPSTREAM_API = "https://api.github.com"
HTML_ROOT = "https://github.com"
DOCS = "https://docs.github.com/rest"
EPOCH = "1970-01-01T00:00:00Z"
RATE_LIMIT = 5000
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
ISSUE_URL = re.compile(r"/issues/(\d+)/?$")
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
# The account that "owns" the sandbox's token: comments posted through the API are written as it.
SANDBOX_USER = {"login": "sandbox-bot", "id": 1, "node_id": "U_sandbox", "type": "User", "site_admin": False}


@dataclass
class GithubRepoFiles:
    """One ``github/<owner>/<repo>/`` folder, checked but otherwise as written."""

    owner: str
    name: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    repo: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def comment_issue_number(comment: dict[str, Any]) -> int | None:
    match = ISSUE_URL.search(str(comment.get("issue_url") or ""))
    return int(match.group(1)) if match else None


def _load_repo(folder: Path, root: Path) -> GithubRepoFiles:
    files = GithubRepoFiles(owner=folder.parent.name, name=folder.name)

    path = folder / "issues.json"
    files.issues = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, issue in enumerate(files.issues):
        check.integer(issue, index, "number")
        check.time(issue, index, "created_at")
        check.time(issue, index, "updated_at", required=False)
        check.time(issue, index, "closed_at", required=False)
        check.author(issue, index, "user")
        if issue.get("state", "open") not in ("open", "closed"):
            raise check.fail(index, f'has a bad "state": {issue["state"]!r} (open or closed)')
    check.unique(files.issues, "number")
    numbers = {issue["number"] for issue in files.issues}

    path = folder / "comments.json"
    files.comments = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, comment in enumerate(files.comments):
        check.integer(comment, index, "id")
        check.require(comment, index, "issue_url")
        number = comment_issue_number(comment)
        if number is None:
            raise check.fail(
                index, f'has an "issue_url" not ending in /issues/<number>: {comment["issue_url"]!r}'
            )
        if number not in numbers:
            raise check.fail(index, f"points at issue #{number}, which is not in issues.json")
        check.time(comment, index, "created_at")
        check.time(comment, index, "updated_at", required=False)
        check.author(comment, index, "user")
    check.unique(files.comments, "id")

    path = folder / "releases.json"
    files.releases = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, release in enumerate(files.releases):
        check.require(release, index, "tag_name")
        if release.get("id") is not None:
            check.integer(release, index, "id")
        check.time(release, index, "created_at", required=False)
        check.time(release, index, "published_at", required=False)

    files.repo = read_optional_object(folder / "repo.json", root) or files.repo
    return files


def load_github(root: Path) -> dict[str, GithubRepoFiles]:
    """Every ``github/<owner>/<repo>/`` folder, keyed ``owner/repo``."""
    base = root / "github"
    repos: dict[str, GithubRepoFiles] = {}
    if not base.is_dir():
        return repos
    for owner in sorted(p for p in base.iterdir() if p.is_dir()):
        for folder in sorted(p for p in owner.iterdir() if p.is_dir()):
            files = _load_repo(folder, root)
            repos[files.full_name] = files
    return repos


def _default(obj: dict[str, Any], key: str, value: Any) -> None:
    """Fill a field that is missing or null (a null URL would break PyGithub just the same)."""
    if obj.get(key) is None:
        obj[key] = value


def _complete_user(obj: dict[str, Any], key: str) -> None:
    """GitHub sends every user with its ``type``: a hand-trimmed one without it is a "Bot" when its
    login is an app's (``name[bot]``, as GitHub names app accounts), else a "User". A copy: nested
    objects are shared with the scenario's data."""
    user = obj.get(key)
    if isinstance(user, dict) and user.get("type") is None and isinstance(user.get("login"), str):
        obj[key] = {**user, "type": "Bot" if user["login"].endswith("[bot]") else "User"}


def _label_names(issue: dict[str, Any]) -> set[str]:
    names = set()
    for label in issue.get("labels") or ():
        name = label.get("name") if isinstance(label, dict) else label
        if name:
            names.add(str(name).lower())
    return names


def _logins(users: Any) -> set[str]:
    return {str(u.get("login", "")).lower() for u in users or () if isinstance(u, dict)}


class RepoState:
    """One repository's issues, comments and releases, shaped as the API returns them.

    Lists are served from orders sorted once (``sorted_issues``, ``sorted_comments``) and from the
    lists queries built (``results``). A new comment changes its issue's ``comments`` and
    ``updated_at``, so ``add_comment`` drops both.
    """

    def __init__(self, files: GithubRepoFiles, api: str) -> None:
        self.full_name = files.full_name
        self.api_url = f"{api}/repos/{files.full_name}"
        self.html_url = f"{HTML_ROOT}/{files.full_name}"
        self.repo = self._repo_object(files, api)
        self.comments = [self._comment(rewrite_urls(c, UPSTREAM_API, api)) for c in files.comments]
        self.comment_by_id = {comment["id"]: comment for comment in self.comments}
        self.last_comment_id = max(self.comment_by_id, default=0)
        # Each issue's comments, in the order of ``comments`` (its issue_url is canonical by now).
        self.comments_of: dict[int, list[dict[str, Any]]] = {}
        for comment in self.comments:
            number = comment_issue_number(comment)
            if number is not None:
                self.comments_of.setdefault(number, []).append(comment)
        self.issues: dict[int, dict[str, Any]] = {}
        for raw in files.issues:
            issue = self._issue(rewrite_urls(raw, UPSTREAM_API, api))
            issue["comments"] = len(self.comments_of.get(issue["number"], ()))
            self.issues[issue["number"]] = issue
        # Parsed (created_at, updated_at) of each issue (by number) and comment (by id), on first use.
        self._issue_times: dict[int, tuple[datetime, datetime]] | None = None
        self._comment_times: dict[int, tuple[datetime, datetime]] | None = None
        # name -> (sort keys, items) in ascending order; keys are unique (number or id breaks ties).
        self._orders: dict[str, tuple[list[Any], list[dict[str, Any]]]] = {}
        self.results = ResultCache()
        self.releases = [
            self._release(rewrite_urls(r, UPSTREAM_API, api), index) for index, r in enumerate(files.releases)
        ]
        # Newest first, as GitHub lists them.
        self.releases.sort(
            key=lambda r: (parse_time(r.get("created_at") or r.get("published_at") or EPOCH), r["id"]),
            reverse=True,
        )

    def _repo_object(self, files: GithubRepoFiles, api: str) -> dict[str, Any]:
        owner_id = zlib.crc32(files.owner.encode())
        owner = {
            "login": files.owner,
            "id": owner_id,
            "type": "Organization",
            "url": f"{api}/users/{files.owner}",
            "html_url": f"{HTML_ROOT}/{files.owner}",
        }
        repo = {
            "id": zlib.crc32(files.full_name.encode()),
            "node_id": f"R_{zlib.crc32(files.full_name.encode()):x}",
            "name": files.name,
            "full_name": files.full_name,
            "owner": owner,
            "private": False,
            "html_url": self.html_url,
            "description": None,
            "fork": False,
            "url": self.api_url,
            "issues_url": f"{self.api_url}/issues{{/number}}",
            "issue_comment_url": f"{self.api_url}/issues/comments{{/number}}",
            "releases_url": f"{self.api_url}/releases{{/id}}",
            "pulls_url": f"{self.api_url}/pulls{{/number}}",
            "default_branch": "main",
            "has_issues": True,
            "archived": False,
            "disabled": False,
            "visibility": "public",
        }
        repo.update(rewrite_urls(files.repo, UPSTREAM_API, api))
        return repo

    def _issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        number = issue["number"]
        url = f"{self.api_url}/issues/{number}"
        _default(issue, "id", 1_000_000 + number)
        _default(issue, "url", url)
        _default(issue, "repository_url", self.api_url)
        _default(issue, "labels_url", f"{url}/labels{{/name}}")
        _default(issue, "comments_url", f"{url}/comments")
        _default(issue, "events_url", f"{url}/events")
        _default(issue, "state", "open")
        _default(issue, "updated_at", issue["created_at"])
        _default(issue, "closed_at", None)
        _default(issue, "labels", [])
        _default(issue, "author_association", "NONE")
        _default(issue, "type", None)  # github.com sends it on every issue: null where none is set
        _complete_user(issue, "user")
        pull = issue.get("pull_request")
        if pull is not None and pull is not False:
            # A copy: rewrite_urls shares nested objects with the scenario's data.
            pull = dict(pull) if isinstance(pull, dict) else {}
            _default(pull, "url", f"{self.api_url}/pulls/{number}")
            _default(pull, "html_url", f"{self.html_url}/pull/{number}")
            _default(pull, "diff_url", f"{self.html_url}/pull/{number}.diff")
            _default(pull, "patch_url", f"{self.html_url}/pull/{number}.patch")
            issue["pull_request"] = pull
            _default(issue, "html_url", f"{self.html_url}/pull/{number}")
        else:
            issue.pop("pull_request", None)
            _default(issue, "html_url", f"{self.html_url}/issues/{number}")
        return issue

    def _comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        number = comment_issue_number(comment)
        # Canonical issue_url: a copy-pasted URL of another repo would send PyGithub elsewhere.
        comment["issue_url"] = f"{self.api_url}/issues/{number}"
        _default(comment, "url", f"{self.api_url}/issues/comments/{comment['id']}")
        _default(comment, "html_url", f"{self.html_url}/issues/{number}#issuecomment-{comment['id']}")
        _default(comment, "updated_at", comment["created_at"])
        _default(comment, "author_association", "NONE")
        _complete_user(comment, "user")
        return comment

    def _release(self, release: dict[str, Any], index: int) -> dict[str, Any]:
        _default(release, "id", 2_000_000 + index)
        url = f"{self.api_url}/releases/{release['id']}"
        _default(release, "url", url)
        _default(release, "assets_url", f"{url}/assets")
        _default(release, "html_url", f"{self.html_url}/releases/tag/{release['tag_name']}")
        _default(release, "name", release["tag_name"])
        _default(release, "draft", False)
        _default(release, "prerelease", False)
        _default(release, "assets", [])
        return release

    # ----- orders and times, built once per change of the data ------------------------------

    def issue_times(self) -> dict[int, tuple[datetime, datetime]]:
        if self._issue_times is None:
            self._issue_times = {
                number: (parse_time(issue["created_at"]), parse_time(issue["updated_at"]))
                for number, issue in self.issues.items()
            }
        return self._issue_times

    def comment_times(self) -> dict[int, tuple[datetime, datetime]]:
        if self._comment_times is None:
            self._comment_times = {
                comment["id"]: (parse_time(comment["created_at"]), parse_time(comment["updated_at"]))
                for comment in self.comments
            }
        return self._comment_times

    def issue_key(self, sort: str) -> Callable[[dict[str, Any]], tuple[Any, int]]:
        """How GitHub orders issues by ``sort`` (created, updated, comments), ascending."""
        if sort == "comments":
            return lambda issue: (issue["comments"], issue["number"])
        times, slot = self.issue_times(), 0 if sort == "created" else 1
        return lambda issue: (times[issue["number"]][slot], issue["number"])

    def comment_key(self, sort: str) -> Callable[[dict[str, Any]], tuple[datetime, int]]:
        """How GitHub orders comments by ``sort`` (created, updated), ascending."""
        times, slot = self.comment_times(), 0 if sort == "created" else 1
        return lambda comment: (times[comment["id"]][slot], comment["id"])

    def _sorted(
        self, name: str, items: Any, key: Callable[[dict[str, Any]], Any]
    ) -> tuple[list[Any], list[dict[str, Any]]]:
        if name not in self._orders:
            keyed = sorted(((key(item), item) for item in items), key=itemgetter(0))
            self._orders[name] = ([k for k, _ in keyed], [item for _, item in keyed])
        return self._orders[name]

    def sorted_issues(self, sort: str) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every issue in ascending ``sort`` order, with its sort key."""
        return self._sorted(f"issues/{sort}", self.issues.values(), self.issue_key(sort))

    def sorted_comments(self, sort: str) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every comment in ascending ``sort`` order, with its sort key."""
        return self._sorted(f"comments/{sort}", self.comments, self.comment_key(sort))

    def updated_since(
        self, ordered: tuple[list[Any], list[dict[str, Any]]], since: datetime
    ) -> list[dict[str, Any]]:
        """The items of an ``updated`` order updated at or after ``since``: a bisect, not a scan."""
        keys, items = ordered
        # (since,) sorts before every (since, n): the first key at or after ``since``.
        return items[bisect.bisect_left(keys, (since,)) :]

    # ----- writes -------------------------------------------------------------------------

    def add_comment(self, number: int, body: str, now: datetime) -> dict[str, Any]:
        next_id = self.last_comment_id + 1
        stamp = format_time(now)
        comment = self._comment(
            {
                "id": next_id,
                "node_id": f"IC_sandbox{next_id}",
                "issue_url": f"{self.api_url}/issues/{number}",
                "user": dict(SANDBOX_USER),
                "created_at": stamp,
                "updated_at": stamp,
                "author_association": "MEMBER",
                "body": body,
            }
        )
        self.comments.append(comment)
        self.comment_by_id[next_id] = comment
        self.last_comment_id = next_id
        self.comments_of.setdefault(number, []).append(comment)
        issue = self.issues[number]
        issue["comments"] += 1
        issue["updated_at"] = stamp  # commenting bumps the issue, as on GitHub
        if self._comment_times is not None:
            self._comment_times[next_id] = (parse_time(stamp), parse_time(stamp))
        if self._issue_times is not None:
            self._issue_times[number] = (self._issue_times[number][0], parse_time(stamp))
        # The issue moved in the updated and comments orders, and every list may hold more.
        self._orders.clear()
        self.results.clear()
        return comment


class GithubService(Service):
    name = "github"
    prefix = "/api/v3"
    host_path = "/api/v3"

    @classmethod
    def load(cls, root: Path) -> dict[str, GithubRepoFiles]:
        return load_github(root)

    def __init__(self, data: dict[str, GithubRepoFiles], context: ServiceContext) -> None:
        super().__init__(data, context)
        self.api = f"{context.base_url}{self.prefix}"
        # GitHub owner/repo names are case-insensitive.
        self.repos = {key.lower(): RepoState(files, self.api) for key, files in (data or {}).items()}
        self.used = 0
        self.reset_at = int(time.time()) + 3600
        self.route("GET", r"/rate_limit", self.rate_limit)
        self.route("GET", r"/user", lambda request: json_response(dict(SANDBOX_USER)))
        self.route("GET", REPO, self.get_repo)
        self.route("GET", REPO + r"/issues", self.list_issues)
        self.route("GET", REPO + r"/issues/comments", self.list_repo_comments)
        self.route("GET", REPO + r"/issues/comments/(?P<id>\d+)", self.get_comment)
        self.route("GET", REPO + r"/issues/(?P<number>\d+)", self.get_issue)
        self.route("GET", REPO + r"/issues/(?P<number>\d+)/comments", self.list_issue_comments)
        self.route("POST", REPO + r"/issues/(?P<number>\d+)/comments", self.create_comment)
        self.route("GET", REPO + r"/releases", self.list_releases)
        self.route("GET", REPO + r"/releases/latest", self.latest_release)
        self.route("GET", REPO + r"/releases/tags/(?P<tag>.+)", self.release_by_tag)
        self.route("GET", REPO + r"/releases/(?P<id>\d+)", self.release_by_id)

    # ----- errors and headers -------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        if message is None:
            if status in (403, 429):
                message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            else:
                message = reason(status)
        return json_response({"message": message, "documentation_url": DOCS, "status": str(status)}, status)

    def validation_failed(self, field_name: str, code: str = "invalid") -> Response:
        body = {
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "field": field_name, "code": code}],
            "documentation_url": DOCS,
            "status": "422",
        }
        return json_response(body, 422)

    def authorize(self, request: Request) -> Response | None:
        # Reading public repositories needs no token; writing does.
        if request.method != "GET" and not request.header("authorization"):
            return self.error_response(401, "Requires authentication")
        return None

    def finish(self, request: Request, response: Response) -> Response:
        self.used += 1
        response.set_header("x-ratelimit-limit", str(RATE_LIMIT))
        response.set_header("x-ratelimit-remaining", str(max(RATE_LIMIT - self.used, 0)))
        response.set_header("x-ratelimit-reset", str(self.reset_at))
        response.set_header("x-ratelimit-used", str(self.used))
        response.set_header("x-ratelimit-resource", "core")
        response.set_header("X-GitHub-Media-Type", "github.v3; format=json")
        return response

    # ----- helpers ------------------------------------------------------------------------

    def repo_of(self, request: Request) -> RepoState:
        """The repository asked about; one without a scenario folder exists, with no data (SPEC §8)."""
        owner, name = unquote(request.params["owner"]), unquote(request.params["repo"])
        key = f"{owner}/{name}".lower()
        if key not in self.repos:
            self.repos[key] = RepoState(GithubRepoFiles(owner=owner, name=name), self.api)
        return self.repos[key]

    def page_links(self, request: Request, page: int, last: int) -> str | None:
        """A Link header exactly as GitHub writes it: prev, next, last, first; other params kept."""
        if last <= 1 and page <= 1:
            return None
        pairs = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k != "page"]

        def link(number: int, rel: str) -> str:
            # GitHub keeps the caller's parameters and puts ``page`` last.
            query = urlencode([*pairs, ("page", str(number))], safe=":,")
            return f'<{self.context.base_url}{request.path}?{query}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        return ", ".join(links)

    def paginate(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = min(max(request.int_arg("per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
        page = max(request.int_arg("page", 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        response = json_response(items[(page - 1) * per_page : page * per_page])
        links = self.page_links(request, page, last)
        if links:
            response.set_header("Link", links)
        return response

    def since_arg(self, request: Request) -> datetime | Response | None:
        value = request.arg("since")
        if not value:
            return None
        try:
            return parse_time(value)
        except ValueError:
            return self.validation_failed("since")

    # ----- handlers -----------------------------------------------------------------------

    def rate_limit(self, request: Request) -> Response:
        core = {
            "limit": RATE_LIMIT,
            "remaining": max(RATE_LIMIT - self.used - 1, 0),
            "reset": self.reset_at,
            "used": self.used + 1,
            "resource": "core",
        }
        return json_response({"resources": {"core": core}, "rate": core})

    def get_repo(self, request: Request) -> Response:
        repo = self.repo_of(request)
        return json_response(repo.repo)

    def list_issues(self, request: Request) -> Response:
        repo = self.repo_of(request)
        state = request.arg("state") or "open"
        sort = request.arg("sort") or "created"
        direction = request.arg("direction") or "desc"
        if state not in ("open", "closed", "all"):
            return self.validation_failed("state")
        if sort not in ("created", "updated", "comments"):
            return self.validation_failed("sort")
        if direction not in ("asc", "desc"):
            return self.validation_failed("direction")
        since = self.since_arg(request)
        if isinstance(since, Response):
            return since
        labels = frozenset(x.strip().lower() for x in (request.arg("labels") or "").split(",") if x.strip())
        creator = (request.arg("creator") or "").lower()
        assignee = (request.arg("assignee") or "").lower()

        def build() -> list[dict[str, Any]]:
            def keep(issue: dict[str, Any]) -> bool:
                if state != "all" and issue["state"] != state:
                    return False
                if labels and not labels <= _label_names(issue):
                    return False
                if creator and str((issue.get("user") or {}).get("login", "")).lower() != creator:
                    return False
                assignees = _logins(issue.get("assignees")) | _logins([issue.get("assignee")])
                if assignee == "none":
                    return not assignees
                if assignee == "*":
                    return bool(assignees)
                return not assignee or assignee in assignees

            if since is None:
                ordered = repo.sorted_issues(sort)[1]
            else:
                # Only the issues updated since are sorted: the day's, not the repository's.
                recent = repo.updated_since(repo.sorted_issues("updated"), since)
                ordered = recent if sort == "updated" else sorted(recent, key=repo.issue_key(sort))
            found = [issue for issue in ordered if keep(issue)]
            if direction == "desc":
                found.reverse()  # no two keys are equal, so this is the descending sort
            return found

        key = ("issues", state, sort, direction, since, labels, creator, assignee)
        return self.paginate(request, repo.results.get(key, build))

    def get_issue(self, request: Request) -> Response:
        repo = self.repo_of(request)
        issue = repo.issues.get(int(request.params["number"]))
        return json_response(issue) if issue else self.error_response(404)

    def list_repo_comments(self, request: Request) -> Response:
        repo = self.repo_of(request)
        sort = request.arg("sort") or "created"
        direction = request.arg("direction") or "asc"
        if sort not in ("created", "updated") or direction not in ("asc", "desc"):
            return self.validation_failed("sort" if sort not in ("created", "updated") else "direction")
        since = self.since_arg(request)
        if isinstance(since, Response):
            return since

        def build() -> list[dict[str, Any]]:
            if since is None:
                found = list(repo.sorted_comments(sort)[1])
            else:
                found = repo.updated_since(repo.sorted_comments("updated"), since)
                if sort != "updated":
                    found.sort(key=repo.comment_key(sort))
            if direction == "desc":
                found.reverse()  # ids break ties, so this is the descending sort
            return found

        key = ("comments", sort, direction, since)
        return self.paginate(request, repo.results.get(key, build))

    def get_comment(self, request: Request) -> Response:
        repo = self.repo_of(request)
        found = repo.comment_by_id.get(int(request.params["id"]))
        return json_response(found) if found else self.error_response(404)

    def list_issue_comments(self, request: Request) -> Response:
        repo = self.repo_of(request)
        number = int(request.params["number"])
        if number not in repo.issues:
            return self.error_response(404)
        since = self.since_arg(request)
        if isinstance(since, Response):
            return since

        def build() -> list[dict[str, Any]]:
            times = repo.comment_times()
            found = [
                c for c in repo.comments_of.get(number, ()) if since is None or times[c["id"]][1] >= since
            ]
            found.sort(key=repo.comment_key("created"))
            return found

        return self.paginate(request, repo.results.get(("issue comments", number, since), build))

    def create_comment(self, request: Request) -> Response:
        repo = self.repo_of(request)
        number = int(request.params["number"])
        if number not in repo.issues:
            return self.error_response(404)
        try:
            payload = request.json()
        except ValueError:
            return self.error_response(400, "Problems parsing JSON")
        body = payload.get("body") if isinstance(payload, dict) else None
        if not isinstance(body, str) or not body:
            return self.validation_failed("body", "missing_field")
        comment = repo.add_comment(number, body, self.context.clock())
        return json_response(comment, 201, {"Location": comment["url"]})

    def list_releases(self, request: Request) -> Response:
        repo = self.repo_of(request)
        return self.paginate(request, repo.releases)

    def latest_release(self, request: Request) -> Response:
        repo = self.repo_of(request)
        published = [r for r in repo.releases if not r["draft"] and not r["prerelease"]]
        return json_response(published[0]) if published else self.error_response(404)

    def release_by_tag(self, request: Request) -> Response:
        repo = self.repo_of(request)
        tag = unquote(request.params["tag"])
        found = [r for r in repo.releases if r["tag_name"] == tag]
        return json_response(found[0]) if found else self.error_response(404)

    def release_by_id(self, request: Request) -> Response:
        repo = self.repo_of(request)
        wanted = int(request.params["id"])
        found = [r for r in repo.releases if r["id"] == wanted]
        return json_response(found[0]) if found else self.error_response(404)
