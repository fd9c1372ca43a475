"""GitLab issues and their non-system notes, through python-gitlab and the ``gitlab_default`` connection.

Issues come from the project's issue list (``created_after`` the window start, newest first), so
those requests are O(pages). Notes are the one O(items) exception: GitLab has no project-wide
notes endpoint and notes have no date filter, so they are read per issue, but only for issues
created in the window whose ``user_notes_count`` says they have at least one human note, and only
when the issue changed since its notes were last read: the human notes are kept in the item cache
(``item_cache.py``) with the issue's ``updated_at`` and note count (SPEC §9). An issue whose notes
answer 404 (deleted since the list named it) is left out and named in ``Fetched.problems``.

python-gitlab makes each request (token, base URL, timeouts) exactly once, with its own retries
off; ``http.send_with_retries`` decides what is retried and checks every page (a JSON array, or
an error naming the endpoint). Redirects are not followed (python-gitlab would send its token
header along to any host): a 3xx is an error naming the host it pointed to.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests
from pydantic import Field, StrictBool

from community_monitoring.errors import SettingsError
from community_monitoring.item_cache import CachedItem, kept_as_read
from community_monitoring.records import Post, Reply
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    Call,
    HttpPolicy,
    InvalidResponseError,
    NewItemsOnly,
    RawResponse,
    RedirectRefusedError,
    UpstreamError,
    counted_next,
    created_answer,
    endless_pages,
    linked_page,
    mask_secrets,
    next_link,
    origin_label,
    same_origin,
    send_with_retries,
    unread_next,
    with_body_deadline,
)
from community_monitoring.sources.items import Id, IsoTime, Item, ItemChecker, field_of
from community_monitoring.timeutil import isoformat_z, parse_time

if TYPE_CHECKING:
    from airflow.sdk.definitions.connection import Connection
    from gitlab import Gitlab

    from community_monitoring.item_cache import ItemCache

log = logging.getLogger(__name__)

GITLAB_CONN_ID = "gitlab_default"
SERVICE = "gitlab"
DEFAULT_GITLAB_URL = "https://gitlab.com"
PER_PAGE = 100
MAX_PAGES = 10_000
# The item cache's name for an issue's human notes (a new payload form needs a new name).
NOTES_CACHE = "gitlab.notes.v2"  # v2: internal notes left out


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


def gitlab_client(conn_id: str = GITLAB_CONN_ID, policy: HttpPolicy | None = None) -> Gitlab:
    """A python-gitlab client for the Airflow connection: host = base URL, password = private token."""
    import gitlab
    from airflow.sdk.bases.hook import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if not conn.password:
        # No retry mends it: a settings error fails the task at once, naming the connection.
        raise SettingsError(
            f"connection {conn_id!r} cannot be used: it has no GitLab private token (set its password)"
        )
    mask_secrets([conn.password])
    session = requests.Session()
    session.max_redirects = 0  # see GitlabApi
    return gitlab.Gitlab(
        gitlab_url(conn),
        private_token=conn.password,
        per_page=PER_PAGE,
        # One attempt per request: GitlabApi (http.send_with_retries) decides what is retried.
        retry_transient_errors=False,
        timeout=(policy or HttpPolicy.from_settings()).timeout,  # type: ignore[arg-type]
        session=session,
    )


class _LastResponse:
    """A requests response hook that keeps the last answer (python-gitlab's errors drop the headers)."""

    def __init__(self) -> None:
        self.response: requests.Response | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.response = response
        return response


def _last_response_of(session: requests.Session) -> _LastResponse:
    for hook in session.hooks.get("response", []):
        if isinstance(hook, _LastResponse):
            return hook
    hook = _LastResponse()
    session.hooks.setdefault("response", []).append(hook)
    return hook


def _moved_project(base_path: str, response: requests.Response) -> str | None:
    """The new path of a project GitLab redirects a call to, on its own host (None: not that).

    GitLab answers a call on a renamed or transferred project's old path with a 301/302 to the
    new one ("This resource has been moved permanently to …"); the operator's fix is the project
    path in the settings, not the connection's URL.
    """
    location = response.headers.get("location")
    if not (response.is_redirect and location):
        return None
    target = urljoin(response.url, location)
    if not same_origin(target, response.url):
        return None
    old, new = (_project_of(base_path, urlsplit(url).path) for url in (response.url, target))
    return new if old and new and new != old else None


def _project_of(base_path: str, path: str) -> str | None:
    """``group/project`` of an API path ``{base}/projects/group%2Fproject/...`` (None: not one)."""
    prefix = f"{base_path}/projects/"
    if not path.startswith(prefix):
        return None
    return unquote(path[len(prefix) :].split("/", 1)[0]) or None


class GitlabApi:
    """GitLab's REST API through python-gitlab, one attempt per request (retries: http.py)."""

    def __init__(
        self, gl: Gitlab, policy: HttpPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._gl = gl
        # Redirects are never followed: requests stops at the first one (TooManyRedirects) and
        # the 3xx is refused, naming its target; python-gitlab would resend PRIVATE-TOKEN to it.
        gl.session.max_redirects = 0
        self._last = _last_response_of(gl.session)
        self.policy = policy or HttpPolicy.from_settings()
        with_body_deadline(gl.session, self.policy)
        self._sleep = sleep
        self._base_path = urlsplit(gl.api_url).path.rstrip("/")
        self.gl_url = gl.url
        tokens = (gl.private_token, gl.oauth_token, gl.job_token)
        self._secrets = tuple(token for token in tokens if token)
        self.request_count = 0

    def _call(self, verb: str, url: str) -> Call:
        path = urlsplit(url).path
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        return Call(SERVICE, verb.upper(), path, secrets=self._secrets)

    def _send(self, verb: str, url: str, query: Mapping[str, Any], body: Any) -> RawResponse:
        from gitlab.exceptions import GitlabError

        self.request_count += 1
        self._last.response = None
        try:
            response = self._gl.http_request(
                verb,
                url,
                query_data=dict(query),
                post_data=body,
                obey_rate_limit=False,
                retry_transient_errors=False,
                max_retries=0,
            )
        except requests.TooManyRedirects as exc:
            if exc.response is None:
                raise
            response = exc.response
            moved = _moved_project(self._base_path, response)
            if moved is not None:
                detail = (
                    f"the project moved (renamed or transferred) to {moved}: not followed; put its new "
                    "path in the settings"
                )
                raise self._call(verb, url).error(
                    response.status_code, detail, RedirectRefusedError
                ) from None
        except GitlabError:
            if self._last.response is None:
                raise
            response = self._last.response
        return RawResponse.of(response)

    def get_list(
        self, url: str, query: Mapping[str, Any], linked_to: bool = False
    ) -> tuple[Call, Mapping[str, str], list[Any]]:
        """One page that must be a JSON array, with the answer's headers (for its Link);
        ``linked_to``: a page the one before linked to (``linked_page``)."""
        call = self._call("GET", url)
        headers, items = send_with_retries(
            call,
            lambda: self._send("get", url, query, None),
            lambda raw: linked_page(call, raw, linked_to),
            self.policy,
            sleep=self._sleep,
        )
        return call, headers, items

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[Any]]:
        """Every page of a list endpoint, following ``Link: rel="next"`` on the GitLab host only (a
        page whose ``X-Next-Page`` says more without that link is an invalid answer)."""
        url: str = path
        per_page = int(self._gl.per_page or PER_PAGE)
        query: Mapping[str, Any] = {**params, "per_page": per_page}
        read: set[str] = set()
        # A page of nothing but items of earlier pages: a server (or proxy) that answers the first
        # page whatever page is asked, while its Link goes on; its later items would be lost.
        new_only = NewItemsOnly(self._call("GET", path), _listed_id)
        counted = False  # the page before linked to this one from the list's total
        for number in range(1, MAX_PAGES + 1):
            call, headers, items = self.get_list(url, query, linked_to=counted)
            if (headers.get("x-next-page") or "").strip() and next_link(headers) is None:
                # GitLab names a next page in both headers; something on the way (a proxy) dropped
                # Link. Its checks (the list's total from rel="last", the same host, no page read
                # twice) are what make a walk safe to end or go on, so X-Next-Page is not followed
                # alone: ending here would lose every later page in a green run.
                detail = (
                    'X-Next-Page names a next page but there is no Link rel="next" (stripped on the way?)'
                )
                raise call.error(200, detail, InvalidResponseError)
            if len(items) >= per_page and next_link(headers) is None and not _paged(headers):
                # GitLab sends X-Page, X-Per-Page and X-Next-Page (empty on the last page) with every
                # page of an offset list (only X-Total, X-Total-Pages and rel="last" go past 10,000
                # records). A full page with none of them went through something that dropped the
                # headers it does not know: read as the last page, every later one would be lost.
                detail = (
                    f"a full page ({len(items)} items) without GitLab's pagination headers (Link, "
                    "X-Next-Page, X-Page: stripped on the way?): whether the list goes on cannot be told"
                )
                raise call.error(200, detail, InvalidResponseError)
            counted = counted_next(headers)
            yield new_only(items, number)
            read.add(url)
            following = next_link(headers)
            if following is None:
                return
            if not same_origin(following, self._gl.api_url):
                detail = f"its next-page link points to {origin_label(following)}, not to the GitLab host"
                raise call.error(200, detail, InvalidResponseError)
            unread_next(call, following, read)
            url, query = following, {}
        raise endless_pages(self._call("GET", path), MAX_PAGES)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """A write (a note): retried only when GitLab provably did not process it; its answer must be
        the note made (``created_answer``)."""
        call = self._call("POST", path)
        return send_with_retries(
            call,
            lambda: self._send("post", path, {}, dict(body)),
            lambda raw: created_answer(call, raw, "note"),
            self.policy,
            sleep=self._sleep,
        )


# Link counts: GitLab sends it with every page (rel="first" always), and a proxy that drops the
# headers it does not know keeps it (RFC 8288); without rel="next" it says the page is the last.
PAGINATION_HEADERS = ("link", "x-next-page", "x-page", "x-per-page")


def _paged(headers: Mapping[str, str]) -> bool:
    """Whether an answer carries GitLab's pagination headers (an empty X-Next-Page counts)."""
    return any(headers.get(name) is not None for name in PAGINATION_HEADERS)


def _listed_id(raw: Any) -> Any:
    """A listed issue's or note's id, to tell a repeated one (None: not told, kept)."""
    return raw.get("id") if isinstance(raw, dict) else None


class IssueNotFound(ValueError):
    """An issue's own endpoint answered 404: the issue was deleted or hidden from the token since
    the issue list named it (or was never there). 403 is not one: GitLab answers 404 for what the
    token may not see, and 403 for what it may not do, which is the same for every issue."""


def _project_path(project: str) -> str:
    return f"/projects/{quote(project, safe='')}"


class GitlabIssuesClient:
    """Raw issue and note items of GitLab projects, page by page (each page checked)."""

    def __init__(
        self, gl: Gitlab, policy: HttpPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._api = GitlabApi(gl, policy, sleep)

    @property
    def request_count(self) -> int:
        return self._api.request_count

    @property
    def base_url(self) -> str:
        """The GitLab host's URL (without ``/api/v4``)."""
        return str(self._api.gl_url)

    def issues(self, project_path: str, since: datetime, labels: Sequence[str] = ()) -> Iterator[Any]:
        """Issues created at or after ``since`` (GitLab's ``created_after`` is inclusive), newest first.

        ``labels``: the issue must carry all of them (GitLab's ``labels=a,b`` is an AND).
        """
        params: dict[str, Any] = {
            "state": "all",
            # The Z form: an offset's "+" is easy to lose in a query string along the way.
            "created_after": isoformat_z(since),
            "order_by": "created_at",
            "sort": "desc",
        }
        if labels:
            params["labels"] = ",".join(labels)
        try:
            for page in self._api.pages(f"{_project_path(project_path)}/issues", params):
                yield from page
        except UpstreamError as exc:
            if exc.status == 404:
                raise ValueError(
                    f"GitLab project {project_path!r} not found (or not visible to the token): {exc}"
                ) from None
            raise

    def notes(self, project_path: str, iid: int) -> Iterator[Any]:
        """Every note of one issue, oldest first (system notes included: the caller drops them);
        IssueNotFound when the issue is not there (any more) for the token."""
        params = {"order_by": "created_at", "sort": "asc"}
        try:
            for page in self._api.pages(f"{_project_path(project_path)}/issues/{iid}/notes", params):
                yield from page
        except UpstreamError as exc:
            if exc.status == 404:
                raise IssueNotFound(f"GitLab issue {project_path}#{iid} not found: {exc}") from None
            raise

    def create_note(self, project_path: str, iid: int, body: str) -> Any:
        return self._api.post(f"{_project_path(project_path)}/issues/{iid}/notes", {"body": body})


class GitlabUser(Item):
    username: str
    bot: StrictBool | None = None


class GitlabIssue(Item):
    """The fields of an issue that the normaliser and the rules read."""

    iid: Id
    created_at: IsoTime
    updated_at: IsoTime | None = None
    closed_at: IsoTime | None = None
    title: str  # every post has one (the rules read it): a null is an item error
    description: str | None = None
    # Open or not decides every list, and messages link the issue: both are needed (item errors).
    state: str = Field(min_length=1)
    web_url: str = Field(min_length=1)
    # Whether the author is staff or a bot decides every list, and GitLab always sends the author:
    # a deleted account's issues and notes move to its "ghost" user. An issue without the key is an
    # item error (named, the run red); a null still reads as "ghost".
    author: GitlabUser | None
    # GitLab always sends the list (empty when there are none). Read as "none" when left out, the
    # issue lost what routes it to its owner, types it (bug, feature) and leaves it out of the lists
    # (a label the settings exclude): an item error instead.
    labels: list[str]
    user_notes_count: int | None = None
    # Only its author and the project's members read it (never listed in a public digest).
    confidential: StrictBool | None = None


class GitlabNote(Item):
    id: Id
    created_at: IsoTime
    system: StrictBool = False
    # Visible to project members only (``confidential`` before GitLab 15.0): never the author's answer.
    internal: StrictBool | None = None
    confidential: StrictBool | None = None
    author: GitlabUser | None  # always sent, as on issues: a note without it is an item error
    body: str | None = None

    @property
    def public_reply(self) -> bool:
        """A person's note that the issue's author can read."""
        return not (self.system or self.internal or self.confidential)


# The usernames GitLab gives the bot users it makes: one per project or group access token
# ("project_<id>_bot_<hex>"; "project_<id>_bot" and "project_<id>_bot<n>" before GitLab 16) and a
# service account left with its default name ("service_account_<hex>", a group's
# "service_account_group_<id>_<hex>").
_BOT_USERNAME = re.compile(
    r"(?:project|group)_\d+_bot(?:\d*|_[0-9a-f]{8,})|service_account_(?:group_\d+_)?[0-9a-f]{8,}"
)


def _user(raw: dict[str, Any] | None) -> tuple[str, bool]:
    if not raw:
        return "ghost", False
    username = str(raw.get("username") or "ghost")
    # An issue's or a note's author is a basic user, which carries no "bot" flag (a full user and a
    # merge request's author do): the bot users GitLab makes are told by their generated usernames.
    return username, raw.get("bot") is True or _BOT_USERNAME.fullmatch(username) is not None


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
        # A confidential issue: only its author and the project's members read it.
        public=raw.get("confidential") is not True,
    )


def normalise_note(raw: dict[str, Any]) -> Reply | None:
    """A human note as a reply; ``None`` for system notes ("added ~bug label", "closed") and internal
    ones, which the issue's author cannot read."""
    if raw.get("system") or raw.get("internal") is True or raw.get("confidential") is True:
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


def _issue_name(project: str, raw: Any, index: int) -> str:
    iid = field_of(raw, "iid")
    if isinstance(iid, int) and not isinstance(iid, bool):
        return f"{project}#{iid}"
    return str(field_of(raw, "web_url") or f"{project}: issue {index + 1} of the list")


def _issues_in_window(
    client: GitlabIssuesClient,
    checker: ItemChecker,
    project: str,
    labels: Sequence[str],
    window: tuple[datetime, datetime],
) -> list[tuple[GitlabIssue, dict[str, Any]]]:
    since, until = window
    found: list[tuple[GitlabIssue, dict[str, Any]]] = []
    for index, raw in enumerate(client.issues(project, since, labels)):
        name = _issue_name(project, raw, index)
        # The post's source_id, when the issue has an iid.
        issue = checker.check(GitlabIssue, raw, name, name if name.startswith(f"{project}#") else "")
        if issue is None:
            continue
        if issue.created_at <= since:
            break  # newest first: every later page is older still
        if issue.created_at <= until:
            found.append((issue, raw))
    return sorted(found, key=lambda pair: pair[0].iid)


def _human_notes(
    client: GitlabIssuesClient, checker: ItemChecker, project: str, iid: int, counted: int
) -> tuple[list[Any], bool]:
    """The issue's public human notes as read, checked; and whether they can be trusted for the
    cache: every note passed its check (a bad one is skipped and named) and the notes endpoint
    listed at least the ``counted`` human notes that the issue's ``user_notes_count`` says it has."""
    kept: list[Any] = []
    complete = True
    human = 0
    for raw in client.notes(project, iid=iid):
        name = f"{project}#{iid} note {field_of(raw, 'id')}"
        note = checker.check(GitlabNote, raw, name)
        if note is None:
            complete = False
            continue
        human += not note.system
        if note.public_reply:
            kept.append(raw)
    if human < counted:
        # The issue counts more human notes than its notes page lists: a replica behind (which
        # still lists the label changes), or a page wrongly empty. Read as it is today, but not
        # kept: the next run asks again.
        log.warning(
            "GitLab %s#%s: its note count says %d human notes, its notes page lists %d",
            project,
            iid,
            counted,
            human,
        )
        return kept, False
    return kept, complete


def _note_payload(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields of a note that ``normalise_note`` reads: what the cache keeps of it."""
    author = raw.get("author") or {}
    return {
        "id": raw["id"],
        "created_at": raw["created_at"],
        "system": False,
        "author": {"username": author.get("username"), "bot": author.get("bot")} if author else None,
        "body": raw.get("body"),
    }


def _replies(checker: ItemChecker, project: str, iid: int, notes: list[Any]) -> list[Reply]:
    replies = []
    for raw in notes:
        reply = checker.build(f"{project}#{iid} note {field_of(raw, 'id')}", normalise_note, raw)
        if reply is not None:
            replies.append(reply)
    return replies


def _notes_version(issue: GitlabIssue) -> str | None:
    if issue.updated_at is None:
        return None
    # A note bumps its issue's updated_at, but GitLab throttles that touch (once a minute) and a
    # deleted note touches nothing: the human-note count changes in both cases.
    return f"{issue.updated_at.isoformat()} notes={issue.user_notes_count}"


class NotesReader:
    """Each issue's human notes: served from the cache while the issue is unchanged, else read."""

    def __init__(self, client: GitlabIssuesClient, checker: ItemChecker, cache: ItemCache | None) -> None:
        self._client = client
        self._checker = checker
        self._cache = cache
        self.read = 0
        self.unchanged = 0

    def of(self, project: str, issues: Sequence[GitlabIssue]) -> dict[int, list[Reply] | None]:
        """iid → replies, for the issues of one project that have human notes; None for an issue
        whose notes are not there any more (named in the problems, not cached)."""
        keys = {issue.iid: f"{self._client.base_url}/{project}#{issue.iid}" for issue in issues}
        versions = {keys[i.iid]: v for i in issues if (v := _notes_version(i)) is not None}
        cached = self._cache.get_many(NOTES_CACHE, versions) if self._cache else {}
        replies: dict[int, list[Reply] | None] = {}
        with kept_as_read(self._cache, NOTES_CACHE) as fresh:
            for issue in issues:
                key = keys[issue.iid]
                notes = cached.get(key)
                if isinstance(notes, list):
                    self.unchanged += 1
                else:
                    self.read += 1
                    try:
                        raw_notes, complete = _human_notes(
                            self._client, self._checker, project, issue.iid, issue.user_notes_count or 0
                        )
                    except IssueNotFound as exc:
                        # Gone since the list named it (a normal race): that issue is skipped, not the
                        # channel failed.
                        name = f"{project}#{issue.iid}"
                        self._checker.report(name, f"left out, its notes not read: {exc}", name)
                        replies[issue.iid] = None
                        continue
                    notes = [_note_payload(raw) for raw in raw_notes]
                    # An issue with a bad note is not cached: it is read, and named, again next run.
                    if key in versions and complete:
                        fresh.append(CachedItem(key, versions[key], notes))
                replies[issue.iid] = _replies(self._checker, project, issue.iid, notes)
        return replies


def _project_posts(
    client: GitlabIssuesClient,
    checker: ItemChecker,
    project: str,
    labels: Sequence[str],
    window: tuple[datetime, datetime],
    notes: NotesReader,
) -> list[Post]:
    posts: dict[int, Post] = {}
    with_notes: list[GitlabIssue] = []
    for issue, raw in _issues_in_window(client, checker, project, labels, window):
        name = f"{project}#{issue.iid}"
        post = checker.build(name, normalise_issue, raw, project, post_id=name)
        if post is None:
            continue
        posts[issue.iid] = post
        # An issue listed without its count (a sparse answer) may have notes: read them, never
        # take it for one nobody answered.
        if issue.user_notes_count is None or issue.user_notes_count > 0:
            with_notes.append(issue)
    for iid, replies in notes.of(project, with_notes).items():
        if replies is None:
            # Without its notes it would read as an issue nobody answered (listed as unanswered,
            # a reply drafted to it): left out, and named by the reader.
            del posts[iid]
        else:
            posts[iid] = posts[iid].with_replies(replies)
    return list(posts.values())


def fetch_gitlab_issues(
    client: GitlabIssuesClient,
    projects: Mapping[str, Sequence[str]],
    since: datetime,
    until: datetime,
    problems: list[ItemProblem] | None = None,
    *,
    cache: ItemCache | None = None,
) -> Iterator[Post]:
    """Issues created in (since, until] of each project (path → required labels), with their notes.

    Notes are fetched per issue (GitLab offers nothing wider), and only for issues whose
    ``user_notes_count`` is above 0: an issue with only system notes or none costs no request.
    With a ``cache``, an issue unchanged since its notes were last read costs none either. So note
    requests are bounded by the issues in the window that have a human note and changed.
    An item that is not what the API promises is skipped and named in ``problems``.
    """
    checker = ItemChecker("gitlab", problems)
    for project, labels in projects.items():
        # A lone label written as a string in the config is one label, not its characters.
        wanted = [labels] if isinstance(labels, str) else list(labels or ())
        notes = NotesReader(client, checker, cache)
        posts = _project_posts(client, checker, project, wanted, (since, until), notes)
        log.info(
            "GitLab %s (labels %s): %d issues created in the window; notes: %s read, %s unchanged (cache)",
            project,
            wanted,
            len(posts),
            f"{notes.read:,}",
            f"{notes.unchanged:,}",
        )
        yield from posts


def fetch(request: FetchRequest) -> Fetched:
    policy = HttpPolicy.from_settings(request.settings)
    client = GitlabIssuesClient(gitlab_client(policy=policy), policy)
    projects = request.settings.gitlab.projects
    problems: list[ItemProblem] = []
    posts = fetch_gitlab_issues(client, projects, request.since, request.until, problems, cache=request.cache)
    return Fetched(posts=posts, problems=problems)


def reply_sender(conn_id: str = GITLAB_CONN_ID, http: Any = None) -> Callable[[str, int, str], None]:
    """Posts a reply draft as an issue note.

    Retried only when GitLab provably did not take it (connection refused, 429, 503); after a
    timeout, a reset or another 5xx: ``AmbiguousWriteError``, nothing re-sent. ``http``: the
    ``http`` settings section (timeouts and retry bounds).
    """
    policy = HttpPolicy.from_settings(http)
    client = GitlabIssuesClient(gitlab_client(conn_id, policy), policy)

    def send(project_path: str, iid: int, body: str) -> None:
        client.create_note(project_path, iid, body)

    return send


def reply_reader(conn_id: str = GITLAB_CONN_ID, http: Any = None) -> Callable[[str, int, str], bool]:
    """``has_reply(project, iid, marker)``: whether one of the issue's notes carries ``marker``.

    Used before any resend of a reply whose first POST failed ambiguously (SPEC §6).
    """
    policy = HttpPolicy.from_settings(http)
    client = GitlabIssuesClient(gitlab_client(conn_id, policy), policy)

    def has_reply(project_path: str, iid: int, marker: str) -> bool:
        return any(marker in str(field_of(n, "body") or "") for n in client.notes(project_path, iid))

    return has_reply
