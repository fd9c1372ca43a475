"""GitHub issues and their comments, through PyGithub and the github provider's connection.

Requests stay O(pages): issues come from the repository list endpoint and comments from the
repository-wide comments endpoint with ``since`` (never one call per issue).

PyGithub's ``Requester`` makes each request (auth, base URL, timeouts) exactly once; pages are
read raw and checked here (``http.send_with_retries``): an HTML page or ``{}`` where a list was
promised is an error, never an empty page, and 403/429 rate limits are waited out in GitHub's
own form (``Retry-After``, ``x-ratelimit-remaining: 0`` + ``x-ratelimit-reset``, the secondary
limit's message). A comment is a write: retried only when GitHub provably did not take it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urljoin, urlsplit

from pydantic import BeforeValidator, Field, StrictBool, ValidationError
from requests.structures import CaseInsensitiveDict

from community_monitoring.errors import SettingsError
from community_monitoring.records import Post, Release, Reply
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    SAFE_METHODS,
    Call,
    HttpPolicy,
    NewItemsOnly,
    RateLimit,
    RawResponse,
    RedirectRefusedError,
    counted_next,
    created_answer,
    endless_pages,
    leads_to_sign_in,
    linked_page,
    mask_issued_credential,
    mask_secrets,
    next_link,
    retry_after_seconds,
    same_origin,
    send_with_retries,
    unread_next,
    upstream_rate_limit,
    with_body_deadline,
)
from community_monitoring.sources.items import Id, IsoTime, Item, ItemChecker, field_of
from community_monitoring.timeutil import isoformat_z, parse_time

if TYPE_CHECKING:
    from github import Github

log = logging.getLogger(__name__)

GITHUB_CONN_ID = "github_default"
SERVICE = "github"
STAFF_ASSOCIATIONS = frozenset({"OWNER", "MEMBER"})
MAX_PAGES = 10_000
# GitHub: without Retry-After or a reset time, wait at least a minute after a secondary limit.
SECONDARY_RATE_WAIT = 60.0
# How GitHub's other secondary-limit messages end ("You have triggered an abuse detection
# mechanism. Please wait a few minutes before you try again.", still sent by GitHub Enterprise
# Server): a 403 to wait out, not a refusal.
SECONDARY_LIMIT_ENDINGS = (
    "please wait a few minutes before you try again.",
    "please retry your request again later.",
)
# Redirects that keep the method and body (RFC 9110 §15.4.8-9): a write may follow them.
SAME_METHOD_REDIRECTS = frozenset({307, 308})


class HandedAnswer(Exception):
    """An answer to a GET that PyGithub would act on by itself without end, handed as it came to
    ``http.send_with_retries`` (which asks again a bounded number of times, then names the call).

    A 202 Accepted (GitHub still computing the answer): PyGithub asks again every 2 s for as long
    as it lasts (its users saw 35 minutes, then a RecursionError). A redirect on its own host that
    still redirects after ``MAX_REDIRECTS``: PyGithub would follow it until the stack ran out.
    """

    def __init__(self, status: int, headers: Mapping[str, str], text: str) -> None:
        super().__init__(f"answered {status}")
        self.status = status
        self.headers = headers
        self.text = text

    @classmethod
    def of(cls, response: Any) -> HandedAnswer:
        return cls(response.status, CaseInsensitiveDict(response.headers), response.read())


def _own_redirect(connection: Any, response: Any) -> str | None:
    """Where a redirect on the connection's own scheme, host and port leads (None: not one)."""
    location = response.headers.get("location") if response.status in REDIRECT_STATUSES else None
    here = f"{connection.protocol}://{connection.host}:{connection.port}{connection.url}"
    target = urljoin(here, location) if location else ""
    return target if target and same_origin(here, target) and not leads_to_sign_in(target) else None


def _follow_own_redirects(connection: Any, base: Callable[[], Any]) -> Any:
    """``base()`` (a PyGithub connection's getresponse), with a GET's redirects on its own scheme,
    host and port followed here, query and all, and a GET's 202 handed to the retry loop.

    GitHub answers a list of a renamed or transferred repository with a 301 to
    ``/repositories/ID/…?<the query>``; PyGithub follows it to the path alone, so the list came
    back without ``state=all``, ``since`` and its order: open issues only, closed ones lost without
    a word. A write (a comment) there is answered 307, "send it again, as it is, there": followed
    too, on its own host only (the first was not processed). A redirect to another host, port or
    scheme is left to PyGithub (which refuses it).
    """
    response = base()
    read = connection.verb in SAFE_METHODS
    for _ in range(MAX_REDIRECTS):
        target = _own_redirect(connection, response)
        if target is None or not (read or response.status in SAME_METHOD_REDIRECTS):
            break
        moved = urlsplit(target)
        log.warning(
            "github: %s answered %d, moved to %s (a renamed or transferred repository): sent "
            "there; put the repository's new name in the settings",
            urlsplit(connection.url).path,
            response.status,
            moved.path,
        )
        # GitHub's Location carries the query; one that does not keeps the request's own.
        query = moved.query or urlsplit(connection.url).query
        connection.url = moved.path + (f"?{query}" if query else "")
        response = base()
    if read and (response.status == 202 or _own_redirect(connection, response) is not None):
        raise HandedAnswer.of(response)
    return response


def use_body_deadline(policy: HttpPolicy) -> None:
    """PyGithub opens a requests session of its own per connection: the connection classes it is
    given add the body deadline (``http.BodyDeadline``) to it, follow a GET's redirects on its own
    host with the query kept (a write's 307/308 too), and hand a GET's 202 or redirect loop to the
    retry loop (:func:`_follow_own_redirects`). PyGithub keeps them per process."""
    from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester

    class HttpConnection(HTTPRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            with_body_deadline(self.session, policy)

        def getresponse(self) -> Any:
            return _follow_own_redirects(self, super().getresponse)

    class HttpsConnection(HTTPSRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            with_body_deadline(self.session, policy)

        def getresponse(self) -> Any:
            return _follow_own_redirects(self, super().getresponse)

    Requester.injectConnectionClasses(HttpConnection, HttpsConnection)


def make_github_hook_class(policy: HttpPolicy | None = None) -> type:
    """The github provider's hook, building a client without PyGithub's pacing or its own retries."""
    from airflow.providers.github.hooks.github import GithubHook
    from github import Auth, Github

    http = policy or HttpPolicy.from_settings()

    class CommunityGithubHook(GithubHook):
        def get_conn(self) -> Github:
            if self.client is not None:
                return self.client
            conn = self.get_connection(self.github_conn_id)
            if conn.password:
                mask_secrets([conn.password])
                auth: Any = Auth.Token(conn.password)
            else:
                # GitHub App credentials: the provider reads them (key, app and installation ids) into
                # an installation's auth, and only that is taken from its client. The client itself
                # had PyGithub's defaults: GithubRetry, which re-sends a POST (a reply comment) after
                # a 5xx and sleeps until a primary rate limit resets, hours if need be; 15 s timeouts,
                # no body deadline, 30 items a page and a pause before every request.
                auth = super().get_conn().requester.auth
                self.client = None
                _check_app_key(auth)
                _mask_issued_tokens(auth)
            kwargs: dict[str, Any] = {
                "auth": auth,
                "per_page": 100,
                # O(pages) requests already; the default 0.25 s pause per request only slows runs.
                "seconds_between_requests": None,
                "seconds_between_writes": None,
                # One attempt per request: http.send_with_retries decides what is retried (PyGithub's
                # GithubRetry would re-send a POST after a 5xx and never retries a 429).
                "retry": None,
                # PyGithub takes one whole number of seconds for both connect and read.
                "timeout": github_timeout(http),
                # No GET /repos/o/r just to build the URLs of the list endpoints.
                "lazy": True,
            }
            if conn.host:
                kwargs["base_url"] = conn.host.rstrip("/")
            use_body_deadline(http)
            self.client = Github(**kwargs)
            return self.client

    return CommunityGithubHook


def _check_app_key(auth: Any) -> None:
    """A GitHub App's private key is used only when the first request wants a token: one that cannot
    sign raised PyJWT's own error there, naming neither the connection nor the key. It is tried now;
    a ValueError, which ``github_client`` turns into a SettingsError naming the connection."""
    app_auth = getattr(auth, "_app_auth", None)
    if app_auth is None:
        return
    try:
        app_auth.create_jwt()
    except Exception as exc:  # PyJWT's InvalidKeyError, cryptography's errors: the key is unusable
        raise ValueError(
            f"its GitHub App private key cannot sign a token ({type(exc).__name__}: {exc})"
        ) from None


def _mask_issued_tokens(auth: Any) -> None:
    """The tokens a GitHub App connection gets at run time (the app's JWT, each installation token
    it buys with it) are credentials as a connection's own are: each is handed to the scrubbing of
    every error and to Airflow's masker as it is made. An error page that echoed the request's
    Authorization header showed the installation token in the error and the alert."""

    def masking(make: Callable[..., Any], token_of: Callable[[Any], Any]) -> Callable[..., Any]:
        def made(*args: Any, **kwargs: Any) -> Any:
            result = make(*args, **kwargs)
            token = token_of(result)
            if isinstance(token, str) and token:
                mask_issued_credential(token)
            return result

        return made

    missing = []
    fetch = getattr(auth, "_get_installation_authorization", None)
    if callable(fetch):
        auth._get_installation_authorization = masking(fetch, lambda made: getattr(made, "token", None))
    else:
        missing.append("_get_installation_authorization")
    app_auth = getattr(auth, "_app_auth", None)
    create_jwt = getattr(app_auth, "create_jwt", None)
    if callable(create_jwt):
        app_auth.create_jwt = masking(create_jwt, lambda jwt: jwt)
    else:
        missing.append("_app_auth.create_jwt")
    if missing:
        # PyGithub internals, not its API: another version may lack them, and then the tokens the
        # App is issued would be left in errors and logs without a word.
        log.warning(
            "GitHub App auth %s has no %s: the tokens it is issued are not masked in errors or logs",
            type(auth).__name__,
            " or ".join(missing),
        )


def github_timeout(policy: HttpPolicy) -> int:
    """PyGithub's timeout (an int, for connect and read alike): the read timeout, rounded up."""
    return max(math.ceil(max(policy.connect_timeout, policy.read_timeout)), 1)


def github_client(conn_id: str = GITHUB_CONN_ID, policy: HttpPolicy | None = None) -> Github:
    try:
        return make_github_hook_class(policy)(github_conn_id=conn_id).get_conn()
    except ValueError as exc:
        # The provider's "No access token or authentication method provided": the connection is
        # wrong, which no retry mends (a SettingsError fails the task at once, naming it).
        raise SettingsError(f"connection {conn_id!r} cannot be used: {exc}") from None


def github_rate_limit(raw: RawResponse) -> RateLimit | None:
    """GitHub's forms: 403/429 with Retry-After, or x-ratelimit-remaining 0 and a reset time, or the
    message of a primary or secondary limit; any 429."""
    if raw.status not in (403, 429):
        return upstream_rate_limit(raw)
    wait = retry_after_seconds(raw.headers)
    if wait is not None:
        return RateLimit(wait)
    body = raw.json_or_none()
    message = str(body.get("message") or "").lower() if isinstance(body, dict) else ""
    if "secondary rate limit" in message or message.rstrip().endswith(SECONDARY_LIMIT_ENDINGS):
        return RateLimit(SECONDARY_RATE_WAIT)
    if raw.status == 429 or "rate limit" in message:
        return RateLimit(None)
    return None


class GithubApi:
    """GitHub's REST API through PyGithub's Requester, one attempt per request (retries: http.py)."""

    def __init__(
        self, gh: Github, policy: HttpPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ):
        self._requester = gh.requester
        self.per_page = gh.per_page
        self.policy = policy or HttpPolicy.from_settings()
        self._sleep = sleep
        self._base_url = self._requester.base_url.rstrip("/")
        self._base_path = urlsplit(self._base_url).path
        # Only a token given as such: a GitHub App installation's ``token`` is fetched when read (a POST
        # outside any retry, whose 5xx failed the whole channel here); its first request fetches it.
        from github import Auth

        auth = self._requester.auth
        token = auth.token if isinstance(auth, Auth.Token) else None
        self._secrets = (token,) if isinstance(token, str) and token else ()
        self.request_count = 0

    def _call(self, verb: str, url: str) -> Call:
        path = urlsplit(url).path
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        return Call(SERVICE, verb, path, secrets=self._secrets)

    def _send(self, call: Call, verb: str, url: str, params: Mapping[str, Any], body: Any) -> RawResponse:
        from github import GithubException

        self.request_count += 1
        absolute = self._base_url + url if url.startswith("/") else url
        try:
            status, headers, text = self._requester.requestJson(
                verb, url, parameters=dict(params), input=body
            )
        except HandedAnswer as answer:
            return RawResponse(answer.status, answer.headers, answer.text, absolute)
        except GithubException as exc:  # a hand-built client's own GithubRetry gave up
            return RawResponse(
                exc.status, CaseInsensitiveDict(exc.headers or {}), json.dumps(exc.data), absolute
            )
        except RecursionError:
            raise
        except RuntimeError as exc:  # PyGithub refuses a 301 to another host or scheme itself
            raise call.error(301, str(exc), RedirectRefusedError) from None
        return RawResponse(status, CaseInsensitiveDict(headers), text, absolute)

    def get_list(
        self, url: str, params: Mapping[str, Any], linked_to: bool = False
    ) -> tuple[Mapping[str, str], list[Any]]:
        """One page that must be a JSON array, with the answer's headers (for its Link);
        ``linked_to``: a page the one before linked to (``linked_page``)."""
        call = self._call("GET", url)
        return send_with_retries(
            call,
            lambda: self._send(call, "GET", url, params, None),
            lambda raw: linked_page(call, raw, linked_to),
            self.policy,
            rate_limit=github_rate_limit,
            sleep=self._sleep,
        )

    def pages(self, url: str, params: Mapping[str, Any]) -> Iterator[list[Any]]:
        """Every page of a list endpoint, following ``Link: rel="next"`` (always to the base host).
        A page of nothing but items of earlier pages is an error (a server that answers page 1
        whatever page is asked, while its Link goes on: every later item lost in a green run)."""
        next_url: str | None = url
        query: Mapping[str, Any] = {**params, "per_page": self.per_page}
        read: set[str] = set()
        new_only = NewItemsOnly(self._call("GET", url), _listed_id)
        counted = False  # the page before linked to this one from the list's total
        for number in range(1, MAX_PAGES + 1):
            if next_url is None:
                return
            headers, items = self.get_list(next_url, query, linked_to=counted)
            counted = counted_next(headers)
            yield new_only(items, number)
            read.add(next_url)
            next_url, query = unread_next(self._call("GET", next_url), next_link(headers), read), {}
        raise endless_pages(self._call("GET", url), MAX_PAGES)

    def post(self, url: str, body: Any) -> Any:
        """A write (a comment): retried only when GitHub provably did not process it; its answer must
        be the comment made (``created_answer``)."""
        call = self._call("POST", url)
        return send_with_retries(
            call,
            lambda: self._send(call, "POST", url, {}, body),
            lambda raw: created_answer(call, raw, "comment"),
            self.policy,
            rate_limit=github_rate_limit,
            sleep=self._sleep,
        )


def _listed_id(raw: Any) -> Any:
    """A listed issue's, comment's or release's id, to tell a repeated one (None: not told, kept)."""
    return raw.get("id") if isinstance(raw, dict) else None


class GithubUser(Item):
    login: str
    type: str | None = None


def _label_object(value: Any) -> Any:
    # GitHub's issue schema documents a label as an object or as its bare name (oneOf string/object).
    return {"name": value} if isinstance(value, str) else value


class GithubLabel(Item):
    # Every property of the issue schema's label object is optional: a label without a name has
    # nothing to match and is dropped by the normaliser, not an item error.
    name: str | None = None


LabelOrName = Annotated[GithubLabel, BeforeValidator(_label_object)]


class GithubIssueType(Item):
    # The issue type an organisation defines ("Bug", "Feature", "Task"): set by the issue form the
    # author picked or by a maintainer, like a label. GitHub sends null where none is set.
    name: str | None = None


class GithubIssue(Item):
    """The fields of an issue (or PR) that the normaliser and the rules read."""

    number: Id
    created_at: IsoTime
    updated_at: IsoTime | None = None
    closed_at: IsoTime | None = None
    title: str  # every post has one (the rules read it): a null is an item error
    body: str | None = None
    # Open or not decides every list, and messages link the issue: both are needed (item errors).
    state: str = Field(min_length=1)
    html_url: str = Field(min_length=1)
    user: GithubUser | None
    # GitHub always sends the list (empty when there are none). Read as "none", an answer without it
    # lists a Help Wanted issue mirrored from Jira, which every list excludes by its label.
    labels: list[LabelOrName]
    # GitHub always sends it (NONE for nobody in particular). Read as NONE when left out, a staff
    # member's issue (MEMBER, OWNER) passed for a community post and was listed.
    author_association: str
    pull_request: dict[str, Any] | None = None
    # Absent on a GitHub that predates issue types (GHES), null on an issue without one; a bare name
    # is read as a label's is.
    type: Annotated[GithubIssueType | None, BeforeValidator(_label_object)] = None


class GithubComment(Item):
    id: Id
    issue_url: str
    created_at: IsoTime
    user: GithubUser | None
    body: str | None = None
    author_association: str | None = None


class GithubRelease(Item):
    tag_name: str | None = None
    name: str | None = None
    published_at: IsoTime | None = None
    # GitHub always sends both. Read as False, a release answered without them made a draft or a
    # release candidate the product's latest release: the release prompt's closeout plan, the
    # "after the release" window and the sheet's released fixVersions follow it.
    draft: StrictBool
    prerelease: StrictBool
    html_url: str | None = None


def _login(user: GithubUser | None) -> tuple[str, bool]:
    if user is None:
        return "ghost", False
    return user.login or "ghost", user.type == "Bot"


# The normalisers take the checked item: its times are parsed once, by the check.


def normalise_issue(issue: GithubIssue, repo: str) -> Post:
    author, is_bot = _login(issue.user)
    return Post(
        channel="github",
        source_id=f"{repo}#{issue.number}",
        url=issue.html_url or f"https://github.com/{repo}/issues/{issue.number}",
        title=issue.title or "",
        body=issue.body or "",
        author=author,
        author_is_bot=is_bot,
        author_platform_staff=issue.author_association in STAFF_ASSOCIATIONS,
        created_at=issue.created_at,
        state="open" if issue.state == "open" else "closed",
        closed_at=issue.closed_at,
        labels=tuple(label.name for label in issue.labels if label.name),
        issue_type=(issue.type.name or "") if issue.type else "",
        container=repo,
        is_pull_request=bool(issue.pull_request),
        number=issue.number,
        updated_at=issue.updated_at,
    )


def issue_number_of_comment(raw: dict[str, Any]) -> int:
    issue_url = str(raw.get("issue_url") or "")
    try:
        return int(issue_url.rstrip("/").rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise ValueError(f"GitHub comment {raw.get('id')} has no usable issue_url: {issue_url!r}") from None


def normalise_comment(comment: GithubComment) -> Reply:
    author, is_bot = _login(comment.user)
    return Reply(
        reply_id=str(comment.id),
        author=author,
        author_is_bot=is_bot,
        author_platform_staff=comment.author_association in STAFF_ASSOCIATIONS,
        created_at=comment.created_at,
        body=comment.body or "",
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
    """Raw issue, comment and release items of one repository, page by page (each page checked)."""

    def __init__(
        self, gh: Github, policy: HttpPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._api = GithubApi(gh, policy, sleep)

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def issues(self, repo: str, since: datetime) -> Iterator[Any]:
        params = {"state": "all", "since": isoformat_z(since), "sort": "created", "direction": "desc"}
        for page in self._api.pages(f"/repos/{repo}/issues", params):
            yield from page

    def comments(self, repo: str, since: datetime) -> Iterator[Any]:
        """Comments updated since ``since``, oldest first by creation: pages are numbered, and a
        comment edited during the walk would move to the end of an order by update time, pushing the
        next page's first comment onto a page already read (one lost, one read twice)."""
        params = {"sort": "created", "direction": "asc", "since": isoformat_z(since)}
        for page in self._api.pages(f"/repos/{repo}/issues/comments", params):
            yield from page

    def releases(self, repo: str) -> Iterator[Any]:
        for page in self._api.pages(f"/repos/{repo}/releases", {}):
            yield from page

    def create_comment(self, repo: str, number: int, body: str) -> Any:
        return self._api.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})

    def issue_comments(self, repo: str, number: int) -> Iterator[Any]:
        """One issue's comments, oldest first (only to look for a reply this product posted)."""
        for page in self._api.pages(f"/repos/{repo}/issues/{number}/comments", {}):
            yield from page


def _issue_name(repo: str, raw: Any, index: int) -> str:
    number = field_of(raw, "number")
    if isinstance(number, int) and not isinstance(number, bool):
        return f"{repo}#{number}"
    return str(field_of(raw, "html_url") or f"{repo}: issue {index + 1} of the list")


def _comment_issue(raw: Any) -> int | None:
    try:
        return issue_number_of_comment(raw) if isinstance(raw, dict) else None
    except ValueError:
        return None


@dataclass
class _RepoComments:
    """A repository's comments since the window start, by issue number, read before its issues.

    A comment that failed its checks is kept raw (rare, so small) and checked again through the
    run's checker only once its issue turns out to be in the window: comments on older issues are
    none of this run's business, as when the issues were read first.
    """

    replies: dict[int, list[Reply]] = field(default_factory=lambda: defaultdict(list))
    unreadable: list[tuple[int | None, Any]] = field(default_factory=list)
    count: int = 0


def _quiet_reply(raw: Any) -> Reply | None:
    """The comment as a Reply, or None if it fails its checks (reported later, if it matters)."""
    if not isinstance(raw, dict):
        return None
    try:
        return normalise_comment(GithubComment.model_validate(raw))
    except (ValidationError, KeyError, TypeError, ValueError, AttributeError):
        return None


def _comments_by_issue(client: GithubIssuesClient, repo: str, since: datetime) -> _RepoComments:
    comments = _RepoComments()
    seen: set[Any] = set()
    for raw in client.comments(repo, since):
        comment_id = raw.get("id") if isinstance(raw, dict) else None
        if comment_id is not None and not isinstance(comment_id, (dict, list)):
            if comment_id in seen:
                continue  # read again on the next page (a comment deleted meanwhile shifts them back)
            seen.add(comment_id)
        number = _comment_issue(raw)
        reply = _quiet_reply(raw) if number is not None else None
        if number is None or reply is None:
            comments.unreadable.append((number, raw))
            continue
        comments.replies[number].append(reply)
        comments.count += 1
    return comments


def _report_unreadable_comments(
    checker: ItemChecker, repo: str, comments: _RepoComments, in_window: set[int]
) -> None:
    """Name each bad comment on an issue of the window (or naming no issue), in reading order."""
    for number, raw in comments.unreadable:
        if number is not None and number not in in_window:
            continue
        comment_id = field_of(raw, "id")
        name = f"{repo}#{number} comment {comment_id}" if number else f"{repo}: comment {comment_id}"
        comment = checker.check(GithubComment, raw, name)
        if comment is None:
            continue
        if number is None:
            checker.report(name, f"field 'issue_url' names no issue: {comment.issue_url[:100]!r}")
            continue
        checker.build(name, normalise_comment, comment)


def _issues_with_replies(
    client: GithubIssuesClient,
    checker: ItemChecker,
    repo: str,
    window: tuple[datetime, datetime],
    comments: _RepoComments,
) -> Iterator[Post]:
    """Issues created in the window, newest first, each with its replies, as their pages arrive."""
    since, until = window
    seen: set[int] = set()
    for index, raw in enumerate(client.issues(repo, since)):
        name = _issue_name(repo, raw, index)
        post_id = name if name.startswith(f"{repo}#") else ""  # the post's source_id, when it has a number
        issue = checker.check(GithubIssue, raw, name, post_id)
        if issue is None:
            continue
        if issue.created_at <= since:
            break  # newest first: every later page is older still
        if issue.created_at > until or issue.number in seen:
            continue  # after T, or met again on the next page (new issues shift the pages)
        post = checker.build(name, normalise_issue, issue, repo, post_id=f"{repo}#{issue.number}")
        if post is not None:
            seen.add(issue.number)
            yield post.with_replies(comments.replies.pop(issue.number, ()))
    _report_unreadable_comments(checker, repo, comments, seen)
    log.info(
        "GitHub %s: %d issues/PRs created in the window, %d comments read", repo, len(seen), comments.count
    )


def fetch_github_issues(
    client: GithubIssuesClient,
    repos: Iterable[str],
    since: datetime,
    until: datetime,
    problems: list[ItemProblem] | None = None,
) -> Iterator[Post]:
    """Issues (and PRs, marked) created in (since, until] with every comment since ``since``.

    Streamed newest first, as the issue pages arrive: only the comments (read first, one call per
    page of the repository-wide endpoint) are held. Comments on an issue are never older than the
    issue, so ``since`` loses none of the comments on these issues. An item that is not what the
    API promises is skipped and named in ``problems`` (complete once the posts are consumed).
    """
    checker = ItemChecker("github", problems)
    for repo in repos:
        comments = _comments_by_issue(client, repo, since)
        yield from _issues_with_replies(client, checker, repo, (since, until), comments)


def fetch_github_releases(
    client: GithubIssuesClient, repo: str, problems: list[ItemProblem] | None = None
) -> list[Release]:
    checker = ItemChecker("github", problems)
    releases = []
    for index, raw in enumerate(client.releases(repo)):
        name = f"{repo} release {field_of(raw, 'tag_name') or index + 1}"
        if checker.check(GithubRelease, raw, name) is not None:
            release = checker.build(name, normalise_release, raw)
            if release is not None:
                releases.append(release)
    return releases


def fetch(request: FetchRequest) -> Fetched:
    """The configured repositories' issues, and the product repository's releases."""
    policy = HttpPolicy.from_settings(request.settings)
    client = GithubIssuesClient(github_client(policy=policy), policy)
    github = request.settings.github
    problems: list[ItemProblem] = []
    releases = fetch_github_releases(client, github.product_repo, problems)
    log.info("GitHub: %d releases of %s", len(releases), github.product_repo)
    posts = fetch_github_issues(client, github.repos, request.since, request.until, problems)
    return Fetched(posts=posts, releases=releases, problems=problems)


def reply_sender(conn_id: str = GITHUB_CONN_ID, http: Any = None) -> Callable[[str, int, str], None]:
    """Posts a reply draft as an issue comment: one POST, no GET of the issue first.

    Retried only when GitHub provably did not take it (connection refused, 429, 503, a rate
    limit); after a timeout, a reset or another 5xx: ``AmbiguousWriteError``, nothing re-sent.
    ``http``: the ``http`` settings section (timeouts and retry bounds).
    """
    policy = HttpPolicy.from_settings(http)
    client = GithubIssuesClient(github_client(conn_id, policy), policy)

    def send(repo: str, number: int, body: str) -> None:
        client.create_comment(repo, number, body)

    return send


def reply_reader(conn_id: str = GITHUB_CONN_ID, http: Any = None) -> Callable[[str, int, str], bool]:
    """``has_reply(repo, number, marker)``: whether one of the issue's comments carries ``marker``.

    Used before any resend of a reply whose first POST failed ambiguously (SPEC §6).
    """
    policy = HttpPolicy.from_settings(http)
    client = GithubIssuesClient(github_client(conn_id, policy), policy)

    def has_reply(repo: str, number: int, marker: str) -> bool:
        return any(marker in str(field_of(c, "body") or "") for c in client.issue_comments(repo, number))

    return has_reply
