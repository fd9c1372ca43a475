"""GitLab REST v4 under ``/gitlab/api/v4``: enough for python-gitlab to read issues and notes.

Files: ``gitlab/<group>[/<subgroup>...]/<project>/issues.json`` and ``notes.json`` (notes point
at their issue through ``noteable_iid``), plus an optional ``project.json`` merged into the
synthesised project object. Without a ``gitlab/`` folder at all, GitLab has no data: every
project asked about by path (``group/project``) exists and has no issues. With one, a project
without a folder is a 404, as a project the token cannot see. Point python-gitlab at ``http://127.0.0.1:PORT/gitlab``; it
appends ``/api/v4`` itself.

Every ``https://gitlab.com/api/v4`` URL in the data (``_links``) is rewritten to the sandbox,
because python-gitlab warns about (and may mis-follow) URLs on another base; ``web_url`` stays
on gitlab.com so messages link to the real issue. Like gitlab.com with a token, every call
needs ``PRIVATE-TOKEN`` (or ``Authorization: Bearer``).
"""

from __future__ import annotations

import bisect
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from community_sandbox.indexing import ResultCache
from community_sandbox.loading import (
    ItemChecker,
    ScenarioError,
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
    text_response,
)

UPSTREAM_API = "https://gitlab.com/api/v4"
WEB_ROOT = "https://gitlab.com"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
RATE_LIMIT = 2000  # gitlab.com's authenticated API limit per minute
DEFAULT_RETRY_AFTER = 10
PROJECT = r"/projects/(?P<project>[^/]+)"
DATA_FILES = ("issues.json", "notes.json", "project.json")
# The account behind the sandbox's token: notes posted through the API are written as it.
SANDBOX_USER = {
    "id": 1,
    "username": "sandbox-bot",
    "name": "Sandbox Bot",
    "state": "active",
    "locked": False,
    "avatar_url": None,
    "web_url": f"{WEB_ROOT}/sandbox-bot",
}


@dataclass
class GitlabProjectFiles:
    """One ``gitlab/<namespace>/<project>/`` folder, checked but otherwise as written."""

    path: str  # path_with_namespace, e.g. gitlab-org/omnibus-gitlab
    issues: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    project: dict[str, Any] = field(default_factory=dict)


def _load_project(folder: Path, root: Path, base: Path) -> GitlabProjectFiles:
    files = GitlabProjectFiles(path=folder.relative_to(base).as_posix())

    path = folder / "issues.json"
    files.issues = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, issue in enumerate(files.issues):
        check.integer(issue, index, "iid")
        check.time(issue, index, "created_at")
        check.time(issue, index, "updated_at", required=False)
        check.time(issue, index, "closed_at", required=False)
        # A deleted account's issues and notes belong to GitLab's "ghost" user: write that user.
        check.author(issue, index, "author")
        if issue.get("state", "opened") not in ("opened", "closed"):
            raise check.fail(index, f'has a bad "state": {issue["state"]!r} (opened or closed)')
        labels = issue.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise check.fail(index, f'has bad "labels": {labels!r} (a list of label names)')
    check.unique(files.issues, "iid")
    iids = {issue["iid"] for issue in files.issues}

    path = folder / "notes.json"
    files.notes = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, note in enumerate(files.notes):
        check.integer(note, index, "id")
        if check.integer(note, index, "noteable_iid") not in iids:
            raise check.fail(index, f"points at issue {note['noteable_iid']}, which is not in issues.json")
        check.time(note, index, "created_at")
        check.time(note, index, "updated_at", required=False)
        check.author(note, index, "author")
    check.unique(files.notes, "id")

    files.project = read_optional_object(folder / "project.json", root) or files.project
    return files


def load_gitlab(root: Path) -> dict[str, GitlabProjectFiles] | None:
    """Every project folder under ``gitlab/`` (any depth: GitLab groups nest), keyed by path.

    None when there is no ``gitlab/`` folder: GitLab has no data, every project asked about exists.
    """
    base = root / "gitlab"
    projects: dict[str, GitlabProjectFiles] = {}
    if not base.is_dir():
        return None
    folders = {path.parent for name in DATA_FILES for path in base.rglob(name)}
    for folder in sorted(folders):
        if folder == base:
            raise ScenarioError("gitlab/: data files belong in gitlab/<group>/<project>/, not gitlab/")
        files = _load_project(folder, root, base)
        projects[files.path] = files
    return projects


def gitlab_time(value: datetime) -> str:
    """GitLab writes times with milliseconds: ``2026-11-18T09:00:00.123Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ProjectState:
    """One project's issues and notes, shaped as the API returns them.

    Lists are served from orders sorted once (``sorted_issues``) and from the lists queries built
    (``results``); a new note bumps its issue's ``updated_at``, so ``add_note`` drops both.
    """

    def __init__(self, files: GitlabProjectFiles, api: str) -> None:
        self.path = files.path
        # The id python-gitlab uses for every follow-up call: the data's own project_id when the
        # issues carry one, so /projects/20699/issues works as on gitlab.com.
        from_issues = {issue.get("project_id") for issue in files.issues} - {None}
        default_id = (
            from_issues.pop() if len(from_issues) == 1 else zlib.crc32(files.path.encode()) % 10_000_000
        )
        self.project = self._project_object(files, api, default_id)
        self.id = int(self.project["id"])
        self.api_url = f"{api}/projects/{self.id}"
        self.notes: list[dict[str, Any]] = [
            self._note(rewrite_urls(n, UPSTREAM_API, api)) for n in files.notes
        ]
        self.last_note_id = max((note["id"] for note in self.notes), default=0)
        # Each issue's notes, in the order of ``notes``.
        self.notes_of: dict[int, list[dict[str, Any]]] = {}
        for note in self.notes:
            self.notes_of.setdefault(note["noteable_iid"], []).append(note)
        # GitLab counts only human notes here; system notes ("changed the label") don't count.
        human = Counter(note["noteable_iid"] for note in self.notes if not note["system"])
        self.issues: dict[int, dict[str, Any]] = {}
        for raw in files.issues:
            issue = self._issue(rewrite_urls(raw, UPSTREAM_API, api))
            self.issues[issue["iid"]] = issue
        for issue in self.issues.values():
            issue["user_notes_count"] = human[issue["iid"]]
        # Parsed (created_at, updated_at) of each issue by iid, on first use.
        self._times: dict[int, tuple[datetime, datetime]] | None = None
        # order_by -> (times, issues), ascending by (time, iid).
        self._orders: dict[str, tuple[list[datetime], list[dict[str, Any]]]] = {}
        self.results = ResultCache()

    def _project_object(self, files: GitlabProjectFiles, api: str, default_id: int) -> dict[str, Any]:
        namespace, _, name = files.path.rpartition("/")
        project_id = files.project.get("id", default_id)
        project: dict[str, Any] = {
            "id": project_id,
            "name": name,
            "path": name,
            "name_with_namespace": " / ".join(files.path.split("/")),
            "path_with_namespace": files.path,
            "description": None,
            "default_branch": "master",
            "visibility": "public",
            "web_url": f"{WEB_ROOT}/{files.path}",
            "issues_enabled": True,
            "archived": False,
            "namespace": {
                "id": zlib.crc32(namespace.encode()) % 10_000_000,
                "name": namespace.rsplit("/", 1)[-1],
                "path": namespace.rsplit("/", 1)[-1],
                "kind": "group",
                "full_path": namespace,
                "web_url": f"{WEB_ROOT}/groups/{namespace}",
            },
            "_links": {
                "self": f"{api}/projects/{project_id}",
                "issues": f"{api}/projects/{project_id}/issues",
            },
        }
        project.update(rewrite_urls(files.project, UPSTREAM_API, api))
        return project

    def _issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        iid = issue["iid"]
        issue.setdefault("id", self.id * 100_000 + iid)
        issue.setdefault("project_id", self.id)
        issue.setdefault("state", "opened")
        issue.setdefault("labels", [])
        issue.setdefault("closed_at", None)
        if issue.get("updated_at") is None:
            issue["updated_at"] = issue["created_at"]
        issue.setdefault("web_url", f"{WEB_ROOT}/{self.path}/-/issues/{iid}")
        issue.setdefault("references", {"short": f"#{iid}", "full": f"{self.path}#{iid}"})
        url = f"{self.api_url}/issues/{iid}"
        issue.setdefault("_links", {"self": url, "notes": f"{url}/notes", "project": self.api_url})
        return issue

    def _note(self, note: dict[str, Any]) -> dict[str, Any]:
        note.setdefault("system", False)
        note.setdefault("noteable_type", "Issue")
        note.setdefault("project_id", self.project["id"])
        if note.get("updated_at") is None:
            note["updated_at"] = note["created_at"]
        return note

    def issue_times(self) -> dict[int, tuple[datetime, datetime]]:
        if self._times is None:
            self._times = {
                iid: (parse_time(issue["created_at"]), parse_time(issue["updated_at"]))
                for iid, issue in self.issues.items()
            }
        return self._times

    def sorted_issues(self, order_by: str) -> tuple[list[datetime], list[dict[str, Any]]]:
        """Every issue ascending by (``order_by`` time, iid), with those times; sorted once per change."""
        if order_by not in self._orders:
            times, slot = self.issue_times(), 0 if order_by == "created_at" else 1
            keyed = sorted((times[iid][slot], iid) for iid in self.issues)
            self._orders[order_by] = ([time for time, _ in keyed], [self.issues[iid] for _, iid in keyed])
        return self._orders[order_by]

    def add_note(self, iid: int, body: str, now: datetime) -> dict[str, Any]:
        issue = self.issues[iid]
        stamp = gitlab_time(now)
        self.last_note_id += 1
        note = self._note(
            {
                "id": self.last_note_id,
                "type": None,
                "body": body,
                "author": dict(SANDBOX_USER),
                "created_at": stamp,
                "updated_at": stamp,
                "system": False,
                "noteable_id": issue["id"],
                "noteable_type": "Issue",
                "noteable_iid": iid,
                "resolvable": False,
                "confidential": False,
                "internal": False,
            }
        )
        self.notes.append(note)
        self.notes_of.setdefault(iid, []).append(note)
        issue["user_notes_count"] += 1
        issue["updated_at"] = stamp  # a comment bumps the issue, as on GitLab
        if self._times is not None:
            self._times[iid] = (self._times[iid][0], parse_time(stamp))
        # The issue moved in the updated_at order, and its notes list grew.
        self._orders.clear()
        self.results.clear()
        return note


class GitlabService(Service):
    name = "gitlab"
    prefix = "/gitlab/api/v4"
    host_path = "/gitlab"

    @classmethod
    def load(cls, root: Path) -> dict[str, GitlabProjectFiles] | None:
        return load_gitlab(root)

    def __init__(self, data: dict[str, GitlabProjectFiles] | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        self.api = f"{context.base_url}{self.prefix}"
        self.projects = [ProjectState(files, self.api) for files in (data or {}).values()]
        # No gitlab/ folder: any project asked about by path exists, with no issues (SPEC §8).
        self.any_project_exists = data is None
        self.used = 0
        self.route("GET", r"/user", lambda request: json_response(dict(SANDBOX_USER)))
        self.route(
            "GET", r"/version", lambda request: json_response({"version": "18.6.0", "revision": "sandbox"})
        )
        self.route("GET", PROJECT, self.get_project)
        self.route("GET", PROJECT + r"/issues", self.list_issues)
        self.route("GET", PROJECT + r"/issues/(?P<iid>\d+)", self.get_issue)
        self.route("GET", PROJECT + r"/issues/(?P<iid>\d+)/notes", self.list_notes)
        self.route("POST", PROJECT + r"/issues/(?P<iid>\d+)/notes", self.create_note)

    # ----- errors, auth and headers -------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        if status == 429:
            # Rack::Attack answers in plain text; python-gitlab only reads Retry-After (int()).
            wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            return text_response("Retry later\n", 429, {"Retry-After": str(wait)})
        if status == 404 and message is None:
            return json_response({"error": "404 Not Found"}, 404)  # an unknown route
        return json_response({"message": message or f"{status} {reason(status)}"}, status)

    def bad_request(self, message: str) -> Response:
        # Grape's parameter validation errors use "error", not "message".
        return json_response({"error": message}, 400)

    def authorize(self, request: Request) -> Response | None:
        bearer = request.header("authorization").lower().startswith("bearer ")
        if not request.header("private-token") and not bearer:
            return self.error_response(401, "401 Unauthorized")
        return None

    def finish(self, request: Request, response: Response) -> Response:
        self.used += 1
        response.set_header("RateLimit-Limit", str(RATE_LIMIT))
        response.set_header("RateLimit-Observed", str(self.used))
        response.set_header("RateLimit-Remaining", str(max(RATE_LIMIT - self.used, 0)))
        if response.status == 429:
            response.set_header("RateLimit-Remaining", "0")
        # python-gitlab parses JSON only when told so; errors above already are JSON or text.
        if response.headers.get("Content-Type", "").startswith("application/json"):
            response.set_header("Content-Type", "application/json")
        return response

    # ----- helpers ------------------------------------------------------------------------

    def project_of(self, request: Request) -> ProjectState | None:
        wanted = unquote(request.params["project"]).strip("/")
        for project in self.projects:
            if wanted == str(project.id) or wanted.lower() == project.path.lower():
                return project
        if self.any_project_exists and "/" in wanted:
            # Remembered, so python-gitlab's follow-up calls by numeric id find it too.
            project = ProjectState(GitlabProjectFiles(path=wanted), self.api)
            self.projects.append(project)
            return project
        return None

    def paginate(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """One page, with GitLab's Link header (prev/next/first/last) and x-* headers."""
        per_page = request.int_arg("per_page", DEFAULT_PER_PAGE)
        per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)
        page = max(request.int_arg("page", 1), 1)
        total = len(items)
        last = max((total + per_page - 1) // per_page, 1)
        response = json_response(items[(page - 1) * per_page : page * per_page])
        pairs = [
            (k, v)
            for k, v in parse_qsl(request.query_string, keep_blank_values=True)
            if k not in ("page", "per_page")
        ]

        def link(number: int, rel: str) -> str:
            query = urlencode([*pairs, ("page", str(number)), ("per_page", str(per_page))], safe=":,")
            return f'<{self.context.base_url}{request.path}?{query}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
        links += [link(1, "first"), link(last, "last")]
        response.set_header("Link", ", ".join(links))
        response.set_header("x-next-page", str(page + 1) if page < last else "")
        response.set_header("x-page", str(page))
        response.set_header("x-per-page", str(per_page))
        response.set_header("x-prev-page", str(min(page - 1, last)) if page > 1 else "")
        response.set_header("x-total", str(total))
        response.set_header("x-total-pages", str(last))
        return response

    def time_arg(self, request: Request, name: str) -> datetime | Response | None:
        value = request.arg(name)
        if not value:
            return None
        try:
            return parse_time(value)
        except ValueError:
            return self.bad_request(f"{name} is invalid")

    # ----- handlers -----------------------------------------------------------------------

    def get_project(self, request: Request) -> Response:
        project = self.project_of(request)
        return (
            json_response(project.project) if project else self.error_response(404, "404 Project Not Found")
        )

    def list_issues(self, request: Request) -> Response:
        project = self.project_of(request)
        if project is None:
            return self.error_response(404, "404 Project Not Found")
        state = request.arg("state") or "all"
        order_by = request.arg("order_by") or "created_at"
        sort = request.arg("sort") or "desc"
        if state not in ("opened", "closed", "all"):
            return self.bad_request("state does not have a valid value")
        if order_by not in ("created_at", "updated_at"):
            return self.bad_request("order_by does not have a valid value")
        if sort not in ("asc", "desc"):
            return self.bad_request("sort does not have a valid value")
        bounds: dict[str, datetime] = {}
        for name in ("created_after", "created_before", "updated_after", "updated_before"):
            value = self.time_arg(request, name)
            if isinstance(value, Response):
                return value
            if value is not None:
                bounds[name] = value
        raw_labels = request.arg("labels") or ""
        labels = frozenset(label.strip() for label in raw_labels.split(",") if label.strip())
        times = project.issue_times()

        def keep(issue: dict[str, Any]) -> bool:
            if state != "all" and issue["state"] != state:
                return False
            created, updated = times[issue["iid"]]
            if "created_after" in bounds and created < bounds["created_after"]:
                return False
            if "created_before" in bounds and created > bounds["created_before"]:
                return False
            if "updated_after" in bounds and updated < bounds["updated_after"]:
                return False
            if "updated_before" in bounds and updated > bounds["updated_before"]:
                return False
            # GitLab's special values: None = no labels, Any = at least one.
            if labels == {"None"}:
                return not issue["labels"]
            if labels == {"Any"}:
                return bool(issue["labels"])
            return labels <= set(issue["labels"])

        def build() -> list[dict[str, Any]]:
            # The bounds on the order's own time pick a slice of it; the rest are checked one by one.
            keys, ordered = project.sorted_issues(order_by)
            field_name = order_by.removesuffix("_at")
            low, high = bounds.get(f"{field_name}_after"), bounds.get(f"{field_name}_before")
            start = 0 if low is None else bisect.bisect_left(keys, low)
            stop = len(keys) if high is None else bisect.bisect_right(keys, high)
            found = [issue for issue in ordered[start:stop] if keep(issue)]
            if sort == "desc":
                found.reverse()  # iids break ties, so this is the descending sort
            return found

        key = ("issues", state, order_by, sort, tuple(sorted(bounds.items())), labels)
        return self.paginate(request, project.results.get(key, build))

    def get_issue(self, request: Request) -> Response:
        project = self.project_of(request)
        if project is None:
            return self.error_response(404, "404 Project Not Found")
        issue = project.issues.get(int(request.params["iid"]))
        return json_response(issue) if issue else self.error_response(404, "404 Issue Not Found")

    def list_notes(self, request: Request) -> Response:
        project = self.project_of(request)
        if project is None:
            return self.error_response(404, "404 Project Not Found")
        iid = int(request.params["iid"])
        if iid not in project.issues:
            return self.error_response(404, "404 Issue Not Found")
        order_by = request.arg("order_by") or "created_at"
        sort = request.arg("sort") or "desc"
        if order_by not in ("created_at", "updated_at"):
            return self.bad_request("order_by does not have a valid value")
        if sort not in ("asc", "desc"):
            return self.bad_request("sort does not have a valid value")

        def build() -> list[dict[str, Any]]:
            found = list(project.notes_of.get(iid, ()))
            found.sort(key=lambda n: (parse_time(n[order_by]), n["id"]), reverse=sort == "desc")
            return found

        return self.paginate(request, project.results.get(("notes", iid, order_by, sort), build))

    def create_note(self, request: Request) -> Response:
        project = self.project_of(request)
        if project is None:
            return self.error_response(404, "404 Project Not Found")
        iid = int(request.params["iid"])
        if iid not in project.issues:
            return self.error_response(404, "404 Issue Not Found")
        # python-gitlab sends JSON; curl-style callers send a form.
        body: Any = None
        if request.is_json:
            try:
                payload = request.json()
            except ValueError:
                return self.bad_request("body is invalid")
            body = payload.get("body") if isinstance(payload, dict) else None
        else:
            body = (request.form().get("body") or [None])[-1]
        if not isinstance(body, str) or not body.strip():
            return self.bad_request("body is missing")
        note = project.add_note(iid, body, self.context.clock())
        return json_response(note, 201)
