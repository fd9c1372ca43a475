"""GitLab issues and their non-system notes, through python-gitlab and the ``gitlab_default`` connection.

Issues come from the project's issue list (``created_after`` the window start, newest first), so
those requests are O(pages). Notes are the one O(items) exception: GitLab has no project-wide
notes endpoint and notes have no date filter, so they are read per issue, but only for issues
created in the window whose ``user_notes_count`` says they have at least one human note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from community_monitoring.records import Post, Reply
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.timeutil import isoformat_z, parse_time

if TYPE_CHECKING:
    from airflow.sdk.definitions.connection import Connection
    from gitlab import Gitlab

log = logging.getLogger(__name__)

GITLAB_CONN_ID = "gitlab_default"
DEFAULT_GITLAB_URL = "https://gitlab.com"
PER_PAGE = 100
TIMEOUT_SECONDS = 30


def gitlab_url(conn: Connection) -> str:
    """The GitLab base URL from a connection's host (python-gitlab appends ``/api/v4`` itself)."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_GITLAB_URL
    if "://" not in host:
        # URI-style connections split the URL: ``gitlab://:token@gitlab.example.com:8443``.
        host = f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else "")
    # A host copied from API docs would otherwise become .../api/v4/api/v4.
    return host.removesuffix("/api/v4")


def gitlab_client(conn_id: str = GITLAB_CONN_ID) -> Gitlab:
    """A python-gitlab client for the Airflow connection: host = base URL, password = private token."""
    import gitlab
    from airflow.sdk.bases.hook import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if not conn.password:
        raise ValueError(f"Airflow connection {conn_id!r} has no GitLab private token (set its password)")
    return gitlab.Gitlab(
        gitlab_url(conn),
        private_token=conn.password,
        per_page=PER_PAGE,
        # 5xx are retried with backoff; 429s obey Retry-After (python-gitlab's default).
        retry_transient_errors=True,
        timeout=TIMEOUT_SECONDS,
    )


def _is_not_found(exc: Exception) -> bool:
    return getattr(exc, "response_code", None) == 404


class GitlabIssuesClient:
    """Raw issue and note dicts of GitLab projects, page by page."""

    def __init__(self, gl: Gitlab) -> None:
        self._gl = gl

    def _project(self, path: str) -> Any:
        # lazy: no GET /projects/:path; the list calls below address the project by its path.
        return self._gl.projects.get(path, lazy=True)

    def issues(
        self, project_path: str, since: datetime, labels: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Issues created at or after ``since`` (GitLab's ``created_after`` is inclusive), newest first.

        ``labels``: the issue must carry all of them (GitLab's ``labels=a,b`` is an AND).
        """
        from gitlab.exceptions import GitlabGetError, GitlabListError

        filters: dict[str, Any] = {"labels": list(labels)} if labels else {}
        try:
            issues = self._project(project_path).issues.list(
                iterator=True,
                state="all",
                # The Z form: an offset's "+" is easy to lose in a query string along the way.
                created_after=isoformat_z(since),
                order_by="created_at",
                sort="desc",
                # python-gitlab cannot send labels=None (it joins the list): leave the key out.
                **filters,
            )
        except (GitlabGetError, GitlabListError) as exc:
            if _is_not_found(exc):
                raise ValueError(
                    f"GitLab project {project_path!r} not found (or not visible to the token): {exc}"
                ) from exc
            raise
        for issue in issues:
            yield issue.attributes

    def notes(self, project_path: str, iid: int) -> Iterator[dict[str, Any]]:
        """Every note of one issue, oldest first (system notes included: the caller drops them)."""
        from gitlab.exceptions import GitlabGetError, GitlabListError

        # lazy: no GET of the issue itself, only its notes pages.
        issue = self._project(project_path).issues.get(iid, lazy=True)
        try:
            notes = issue.notes.list(iterator=True, order_by="created_at", sort="asc")
        except (GitlabGetError, GitlabListError) as exc:
            if _is_not_found(exc):
                raise ValueError(f"GitLab issue {project_path}#{iid} not found: {exc}") from exc
            raise
        for note in notes:
            yield note.attributes


def _user(raw: dict[str, Any] | None) -> tuple[str, bool]:
    if not raw:
        return "ghost", False
    # GitLab marks bot users (project/group access tokens, service accounts) with "bot": true.
    return str(raw.get("username") or "ghost"), raw.get("bot") is True


def normalise_issue(raw: dict[str, Any], project: str) -> Post:
    author, is_bot = _user(raw.get("author"))
    iid = int(raw["iid"])
    closed_at = raw.get("closed_at")
    return Post(
        channel="gitlab",
        source_id=f"{project}#{iid}",
        url=str(raw.get("web_url") or f"{DEFAULT_GITLAB_URL}/{project}/-/issues/{iid}"),
        title=str(raw.get("title") or ""),
        body=str(raw.get("description") or ""),
        author=author,
        author_is_bot=is_bot,
        created_at=parse_time(raw["created_at"]),
        state="open" if raw.get("state") == "opened" else "closed",
        closed_at=parse_time(closed_at) if closed_at else None,
        labels=tuple(str(label) for label in raw.get("labels") or ()),
        container=project,
        number=iid,
        updated_at=parse_time(raw["updated_at"]) if raw.get("updated_at") else None,
    )


def normalise_note(raw: dict[str, Any]) -> Reply | None:
    """A human note as a reply; ``None`` for system notes ("added ~bug label", "closed")."""
    if raw.get("system"):
        return None
    author, is_bot = _user(raw.get("author"))
    return Reply(
        reply_id=str(raw["id"]),
        author=author,
        author_is_bot=is_bot,
        created_at=parse_time(raw["created_at"]),
        body=str(raw.get("body") or ""),
        kind="note",
    )


def fetch_gitlab_issues(
    client: GitlabIssuesClient,
    projects: Mapping[str, Sequence[str]],
    since: datetime,
    until: datetime,
) -> Iterator[Post]:
    """Issues created in (since, until] of each project (path → required labels), with their notes.

    Notes are fetched per issue (GitLab offers nothing wider), and only for issues whose
    ``user_notes_count`` is above 0: an issue with only system notes or none costs no request.
    So note requests are bounded by the issues created in the window that have a human note.
    """
    for project, labels in projects.items():
        # A lone label written as a string in the config is one label, not its characters.
        wanted = [labels] if isinstance(labels, str) else list(labels or ())
        raws: list[dict[str, Any]] = []
        for raw in client.issues(project, since, wanted):
            created = parse_time(raw["created_at"])
            if created <= since:
                break  # newest first: every later page is older still
            if created <= until:
                raws.append(raw)
        note_requests = 0
        posts: list[Post] = []
        for raw in sorted(raws, key=lambda r: int(r["iid"])):
            post = normalise_issue(raw, project)
            if int(raw.get("user_notes_count") or 0) > 0:
                note_requests += 1
                replies = [r for r in map(normalise_note, client.notes(project, iid=int(raw["iid"]))) if r]
                post = post.with_replies(replies)
            posts.append(post)
        log.info(
            "GitLab %s (labels %s): %d issues created in the window, notes read for %d of them",
            project,
            wanted,
            len(posts),
            note_requests,
        )
        yield from posts


def fetch(request: FetchRequest) -> Fetched:
    client = GitlabIssuesClient(gitlab_client())
    projects = request.settings.gitlab.projects
    return Fetched(posts=fetch_gitlab_issues(client, projects, request.since, request.until))


def reply_sender(conn_id: str = GITLAB_CONN_ID) -> Callable[[str, int, str], None]:
    """Posts a reply draft as an issue note."""
    gl = gitlab_client(conn_id)

    def send(project_path: str, iid: int, body: str) -> None:
        project = gl.projects.get(project_path, lazy=True)
        project.issues.get(iid, lazy=True).notes.create({"body": body})

    return send
