"""UserVoice (v2 admin API): suggestions, statuses, comments, status updates, through HttpHook.

The connection holds the API client's id (login) and secret (password). UserVoice wants a bearer
token from ``/api/v2/oauth/token``; :class:`UserVoiceTokenAuth` fetches and caches it, so every
HttpHook request carries ``Authorization: Bearer ...`` instead of Basic auth. A 401 (an expired
or revoked token) drops the cached token; a new one is fetched once and the call tried once more.

Every page must carry its collection key (a list) and ``pagination``: anything else is retried,
then an error, never an empty page. A suggestion, comment, user, category or status that lacks a
field the review reads is skipped and named in ``Fetched.problems``. A status update is a write:
retried only when UserVoice provably did not take it (``http.py``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, Field, create_model
from requests.auth import AuthBase

from community_monitoring.records import Post, Reply, StatusMove
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    AmbiguousWriteError,
    ApiClient,
    Call,
    HttpPolicy,
    InvalidResponseError,
    NewItemsOnly,
    RawResponse,
    UpstreamError,
    endless_pages,
    mask_issued_credential,
    mask_secrets,
    parse_page,
    send_with_retries,
    with_body_deadline,
)
from community_monitoring.sources.items import Id, IsoTime, Item, ItemChecker, field_of, id_text, time_of
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

USERVOICE_CONN_ID = "uservoice_default"
USERVOICE_SALES_CONN_ID = "uservoice_sales"
API_PREFIX = "/api/v2"
PER_PAGE = 100
MAX_PAGES = 10_000


class TokenAnswer(BaseModel):
    access_token: str = Field(min_length=1)


class UserVoiceTokenAuth(AuthBase):
    """Client-credentials bearer token, fetched once per (site, client) and reused until a 401."""

    _tokens: ClassVar[dict[tuple[str, str], str]] = {}
    _lock = threading.Lock()

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        policy: HttpPolicy | None = None,
        conn_id: str | None = None,
    ) -> None:
        # HttpHook calls auth_type() with no arguments when the connection has no login.
        if not client_id or not client_secret:
            raise ValueError(
                "uservoice: the connection needs the API client id as login and its secret as password"
            )
        self.client_id = client_id
        self.client_secret = client_secret
        self.policy = policy or HttpPolicy.from_settings()
        # Named in errors as the API calls are: the closeout thanks through several connections.
        self.conn_id = conn_id
        self.service = f"uservoice ({conn_id})" if conn_id else "uservoice"
        mask_secrets([client_secret])

    @staticmethod
    def _site(url: str) -> str:
        parts = urlsplit(url)
        path = parts.path.split(API_PREFIX + "/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}{path}"

    def token(self, site: str) -> str:
        key = (site, self.client_id)
        with self._lock:
            if key not in self._tokens:
                self._tokens[key] = self._request_token(site)
            return self._tokens[key]

    def drop_token(self) -> None:
        """Forget this client's cached tokens (UserVoice answered 401): the next call gets a new one."""
        with self._lock:
            for key in [key for key in self._tokens if key[1] == self.client_id]:
                del self._tokens[key]

    def _request_token(self, site: str) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        # Asking for a token changes nothing: retried like a read. Its answer holds the token,
        # so no error ever shows the body.
        call = Call(
            self.service,
            "POST",
            "/oauth/token",
            secrets=(self.client_secret,),
            show_body=False,
            idempotent=True,
        )

        def send() -> RawResponse:
            url = f"{site}{API_PREFIX}/oauth/token"
            # A session for the whole-body deadline: a token answer that trickles in byte by byte
            # would otherwise hold the task for the read timeout times its length.
            with with_body_deadline(requests.Session(), self.policy) as session:
                return RawResponse.of(
                    session.post(url, data=form, timeout=self.policy.timeout, allow_redirects=False)
                )

        try:
            answer = send_with_retries(
                call, send, lambda raw: parse_page(call, raw, TokenAnswer), self.policy
            )
        except UpstreamError as exc:
            if exc.status != 401:
                raise
            # OAuth's invalid_client: the body is never shown, so the error says what it means.
            connection = f"connection {self.conn_id!r}" if self.conn_id else "the connection"
            detail = (
                f"{exc.detail}; the API client was refused: check {connection}'s login (the client id) "
                "and password (its secret), which may have been rotated or the API client removed"
            )
            raise call.error(exc.status, detail) from None
        mask_issued_credential(answer.access_token)
        return answer.access_token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token(self._site(str(request.url)))}"
        return request


class Pagination(BaseModel):
    page: int | None = None
    total_pages: int


@functools.cache
def page_model(key: str) -> type[BaseModel]:
    """The page of a collection: ``{key: [...], "pagination": {...}}``."""
    return create_model(f"UserVoicePage_{key}", pagination=(Pagination, ...), **{key: (list[Any], ...)})


class SuggestionPage(BaseModel):
    """``/admin/suggestions/{id}``: the one suggestion."""

    suggestions: list[dict[str, Any]]


class SuggestionLinks(Item):
    created_by: Id | None = None
    status: Id | None = None
    category: Id | None = None
    labels: list[int | str] = Field(default_factory=list)


class Suggestion(Item):
    id: Id
    created_at: IsoTime
    title: str  # every post has one (the rules read it): a null is an item error
    body: str | None = None
    # Where every message links it (SPEC §7): without it the suggestion is an item error.
    portal_url: str = Field(min_length=1)
    closed_at: IsoTime | None = None
    # A status update moves it: one updated after T may have had another status at T.
    updated_at: IsoTime | None = None
    links: SuggestionLinks = Field(default_factory=SuggestionLinks)


class CommentLinks(Item):
    suggestion: Id | None = None
    created_by: Id | None = None


class Comment(Item):
    id: Id
    created_at: IsoTime
    body: str | None = None
    links: CommentLinks = Field(default_factory=CommentLinks)


class StatusUpdateLinks(Item):
    suggestion: Id | None = None
    # The status it set (``status`` as written; ``new_status`` as some accounts list it) and left.
    status: Id | None = None
    new_status: Id | None = None
    old_status: Id | None = None


class StatusUpdate(Item):
    id: Id
    created_at: IsoTime
    links: StatusUpdateLinks


class Status(Item):
    id: Id
    name: str


class Category(Item):
    id: Id
    name: str | None = None


class Label(Item):
    id: Id
    name: str | None = None


class User(Item):
    id: Id
    name: str | None = None


def _linked_to(update: Any, suggestion_id: int) -> bool:
    """Whether a status update belongs to the suggestion (True when it names no suggestion)."""
    links = update.get("links") if isinstance(update, dict) else None
    target = links.get("suggestion") if isinstance(links, dict) else None
    if isinstance(target, dict):  # a side-loaded link may be an object
        target = target.get("id")
    return target is None or str(target) == str(suggestion_id)


class UserVoiceClient:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    def from_connection(
        cls, conn_id: str = USERVOICE_CONN_ID, http: Any = None, sleep: Callable[[float], None] = time.sleep
    ) -> UserVoiceClient:
        """``http``: the ``http`` settings section (or Settings, or an HttpPolicy)."""
        policy = HttpPolicy.from_settings(http)
        auth = functools.partial(UserVoiceTokenAuth, policy=policy, conn_id=conn_id)
        return cls(ApiClient(conn_id, f"uservoice ({conn_id})", auth_type=auth, policy=policy, sleep=sleep))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def _pages(self, endpoint: str, key: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        model = page_model(key)
        new_only = NewItemsOnly(self._api.call("GET", f"{API_PREFIX}{endpoint}"), _item_id)
        for page in range(1, MAX_PAGES + 1):
            query = {**(params or {}), "page": page, "per_page": PER_PAGE}
            data = self._api.get_page(f"{API_PREFIX}{endpoint}", model, query)
            items = getattr(data, key)
            total = data.pagination.total_pages  # type: ignore[attr-defined]
            if not items and page < total:
                detail = f"page {page} is empty but says there are {total} pages"
                raise self._api.call("GET", f"{API_PREFIX}{endpoint}").error(
                    200, detail, InvalidResponseError
                )
            yield from new_only(items, page)
            if page >= total:
                return
        raise endless_pages(self._api.call("GET", f"{API_PREFIX}{endpoint}"), MAX_PAGES)

    def statuses(self) -> dict[int, str]:
        """Status id → name. One status listed without its id or name is an invalid answer, not an
        item to skip: every suggestion in it would read as having no status, and the closeout,
        unable to set Completed, failed blaming the settings."""
        unreadable: list[ItemProblem] = []
        checker = ItemChecker("uservoice", unreadable)
        raws = self._pages("/admin/statuses", "statuses")
        checked = [checker.check(Status, raw, f"status {field_of(raw, 'id')}") for raw in raws]
        if unreadable:
            detail = "; ".join(f"{p.item}: {p.problem}" for p in unreadable[:5])
            raise self._api.call("GET", f"{API_PREFIX}/admin/statuses").error(
                200, f"{len(unreadable)} status(es) could not be read ({detail})", InvalidResponseError
            )
        return {status.id: status.name for status in checked if status is not None}

    def categories(self, problems: list[ItemProblem] | None = None) -> dict[int, str]:
        checker = ItemChecker("uservoice", problems)
        raws = self._pages("/admin/categories", "categories")
        checked = (checker.check(Category, raw, f"category {field_of(raw, 'id')}") for raw in raws)
        return {category.id: category.name or "" for category in checked if category is not None}

    def labels(self, problems: list[ItemProblem] | None = None) -> dict[int, str]:
        """Label id → name: a suggestion's ``links.labels`` holds ids, as its other links do."""
        checker = ItemChecker("uservoice", problems)
        raws = self._pages("/admin/labels", "labels")
        checked = (checker.check(Label, raw, f"label {field_of(raw, 'id')}") for raw in raws)
        return {label.id: label.name or "" for label in checked if label is not None}

    def users(self, problems: list[ItemProblem] | None = None) -> dict[int, str]:
        checker = ItemChecker("uservoice", problems)
        checked = (
            checker.check(User, raw, f"user {field_of(raw, 'id')}")
            for raw in self._pages("/admin/users", "users")
        )
        # The display name alone: an e-mail address is not for a public thank-you or a digest, and
        # an id is no name. A user without one is "" (the closeout names why it does not thank them).
        return {user.id: (user.name or "").strip() for user in checked if user is not None}

    def suggestions(self) -> Iterator[Any]:
        yield from self._pages("/admin/suggestions", "suggestions")

    def comments(self) -> Iterator[Any]:
        yield from self._pages("/admin/comments", "comments")

    def status_updates(self, suggestion_id: int) -> list[dict[str, Any]]:
        """Every status update of one suggestion, all pages.

        Only the updates linked to this suggestion are kept (and those that name none): a UserVoice
        that ignored the filter would otherwise pass another suggestion's "available in 11.1" for
        this one's, and the closeout would never thank its supporters.
        """
        updates = list(self._pages("/admin/status_updates", "status_updates", {"suggestion": suggestion_id}))
        kept = [update for update in updates if _linked_to(update, suggestion_id)]
        for update in kept:
            if not isinstance(update, dict) or "body" not in update:
                # Whether it already thanked is read from its body: one listed without it (a sparse
                # answer) read as "not thanked" would send the thank-you again.
                raise InvalidResponseError(
                    "uservoice",
                    "GET",
                    f"{API_PREFIX}/admin/status_updates",
                    200,
                    f"status update {field_of(update, 'id')} of suggestion {suggestion_id} is listed "
                    "without its 'body': whether it already thanked cannot be told",
                )
        if len(kept) < len(updates):
            log.warning(
                "UserVoice answered the status updates of suggestion %s with %d of other suggestions: "
                "left out (the filter suggestion= was ignored)",
                suggestion_id,
                len(updates) - len(kept),
            )
        return kept

    def all_status_updates(self) -> Iterator[Any]:
        """Every suggestion's status updates (one listing, all pages)."""
        yield from self._pages("/admin/status_updates", "status_updates")

    def current_status(self, suggestion_id: int) -> int | None:
        """The id of the status the suggestion is in now (None: it has none)."""
        endpoint = f"{API_PREFIX}/admin/suggestions/{suggestion_id}"
        page = self._api.get_page(endpoint, SuggestionPage)
        if not page.suggestions:
            # Read as "no status", it would send the write again: an answer without the suggestion
            # is no answer.
            raise InvalidResponseError("uservoice", "GET", endpoint, 200, "the answer holds no suggestion")
        status = (page.suggestions[0].get("links") or {}).get("status")
        return int(status) if isinstance(status, int | str) and str(status).isdigit() else None

    def post_status_update(
        self, suggestion_id: int, status_id: int, body: str, notify: bool = True
    ) -> dict[str, Any]:
        """A write: retried only when UserVoice provably did not take it; else AmbiguousWriteError."""
        payload = {
            "status_update": {
                "body": body,
                "notify_supporters": notify,
                "links": {"suggestion": suggestion_id, "status": status_id},
            }
        }
        endpoint = f"{API_PREFIX}/admin/status_updates"
        response = self._api.post_json(endpoint, payload)
        data = response.data
        if isinstance(data, dict) and data.get("errors"):
            # UserVoice's validation error, with a 2xx status from some proxies: it was not applied.
            raise self._api.call("POST", endpoint).error(
                response.status,
                f"UserVoice refused the status update of suggestion {suggestion_id}: {str(data['errors'])[:200]}",
                UpstreamError,
            )
        updates = data.get("status_updates") if isinstance(data, dict) else None
        if not (isinstance(updates, list) and updates and isinstance(updates[0], dict)):
            # A 2xx that does not show the update made: it may or may not exist. The ledger reads
            # the suggestion's status updates back before taking it as made.
            raise self._api.call("POST", endpoint).error(
                response.status,
                f"the answer does not show the status update of suggestion {suggestion_id}",
                AmbiguousWriteError,
            )
        return dict(updates[0])


def _item_id(raw: Any) -> Any:
    """A listed object's id, to tell a repeated one (None: not told, kept)."""
    return raw.get("id") if isinstance(raw, dict) else None


def normalise_suggestion(
    raw: dict[str, Any],
    statuses: dict[int, str],
    categories: dict[int, str],
    users: dict[int, str],
    comments: list[dict[str, Any]],
    labels: Mapping[int, str] | None = None,
    moves: tuple[StatusMove, ...] = (),
) -> Post:
    links = raw.get("links") or {}
    creator_id = links.get("created_by")
    creator = users.get(int(creator_id), "") if creator_id is not None else "anonymous"
    status_id = links.get("status")
    closed_at = raw.get("closed_at")
    replies = [
        Reply(
            reply_id=str(c["id"]),
            author=users.get(int((c.get("links") or {}).get("created_by") or 0), "anonymous"),
            created_at=parse_time(c["created_at"]),
            body=str(c.get("body") or ""),
            kind="comment",
            author_id=_account_id((c.get("links") or {}).get("created_by")),
        )
        for c in comments
    ]
    response = _admin_response_reply(raw.get("admin_response"), users)
    if response is not None:
        replies.append(response)
    return Post(
        channel="uservoice",
        source_id=str(raw["id"]),
        url=str(raw.get("portal_url") or ""),
        title=str(raw.get("title") or ""),
        body=str(raw.get("body") or ""),
        author=creator,
        author_id=_account_id(creator_id),
        created_at=parse_time(raw["created_at"]),
        state="closed" if closed_at else "open",
        closed_at=parse_time(closed_at) if closed_at else None,
        category=categories.get(int(links["category"]), "") if links.get("category") else "",
        labels=tuple(_label_name(label, labels or {}) for label in links.get("labels") or ()),
        container="uservoice",
        replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))),
        number=int(raw["id"]),
        status=statuses.get(int(status_id), "") if status_id is not None else "",
        admin_responded=bool(raw.get("admin_response")),
        status_moves=moves,
        # Merged into another suggestion: UserVoice moved its supporters there.
        duplicate_of=str(links["parent_suggestion"]) if links.get("parent_suggestion") is not None else "",
    )


def _account_id(user_id: Any) -> str:
    """A UserVoice user id as the account id that tells two people apart (names are not unique, and
    a user may have none); "" when the object names no user."""
    return str(user_id) if user_id is not None and str(user_id).isdigit() else ""


def _admin_response_reply(response: Any, users: dict[int, str]) -> Reply | None:
    """A suggestion's admin response, as the reply it is: only an admin can give one. None when there
    is none, or it has no time to place it by (``admin_responded`` still says there is one)."""
    if not isinstance(response, dict) or not response.get("created_at"):
        return None
    try:
        created = parse_time(response["created_at"])
    except (TypeError, ValueError):
        return None
    creator = (response.get("links") or {}).get("created_by")
    author = (users.get(int(creator)) or "admin") if str(creator or "").isdigit() else "admin"
    return Reply(
        reply_id=f"admin-response-{response.get('id', '')}",
        author=author,
        created_at=created,
        body=str(response.get("body") or ""),
        author_platform_staff=True,
        kind="admin_response",
    )


def _label_name(label: int | str, names: Mapping[int, str]) -> str:
    """A label id's name (``/admin/labels``); a name given as such, or an id not listed, as written
    (``fetch_uservoice_suggestions`` names a suggestion with such an id rather than reading it)."""
    if isinstance(label, int) and not isinstance(label, bool):
        return names.get(label) or str(label)
    return str(label)


def _unnamed_links(links: SuggestionLinks, categories: Mapping[int, str], labels: Mapping[int, str]) -> str:
    """What a suggestion links by id that ``/admin/categories`` or ``/admin/labels`` did not name ("" for
    nothing). Its edition is read from those names (Enterprise by category or label): guessed without
    them, an Enterprise nominator would be thanked as Team Edition, through the PM's connection and
    with the re-tweet ask, and the sheet would say Team. The suggestion is named instead."""
    unnamed = []
    if links.category is not None and not categories.get(links.category):
        unnamed.append(f"category {links.category}")
    unnamed += [
        f"label {label}"
        for label in links.labels
        if isinstance(label, int) and not isinstance(label, bool) and not labels.get(label)
    ]
    if not unnamed:
        return ""
    return (
        f"links {', '.join(unnamed)}, which UserVoice listed without a name or not at all: "
        "its edition cannot be told"
    )


def _suggestion_name(raw: Any) -> str:
    return str(field_of(raw, "portal_url") or f"suggestion {field_of(raw, 'id')}")


def _comments_by_suggestion(client: UserVoiceClient, checker: ItemChecker) -> dict[int, list[dict[str, Any]]]:
    by_suggestion: dict[int, list[dict[str, Any]]] = {}
    for raw in client.comments():
        name = f"comment {field_of(raw, 'id')} on suggestion {field_of(raw, 'links', 'suggestion')}"
        comment = checker.check(Comment, raw, name)
        if comment is not None and comment.links.suggestion is not None:
            by_suggestion.setdefault(comment.links.suggestion, []).append(raw)
    return by_suggestion


def _status_moves_by_suggestion(
    client: UserVoiceClient, statuses: Mapping[int, str], checker: ItemChecker
) -> dict[int, tuple[StatusMove, ...]]:
    """Suggestion id → its status updates as moves, oldest first. An update without its time or
    the status it set is named, not guessed: the status at T could not be told from it."""
    by_suggestion: dict[int, list[StatusMove]] = defaultdict(list)
    for raw in client.all_status_updates():
        name = f"status update {field_of(raw, 'id')} of suggestion {field_of(raw, 'links', 'suggestion')}"
        update = checker.check(StatusUpdate, raw, name)
        if update is None or update.links.suggestion is None:
            continue
        new = update.links.new_status if update.links.new_status is not None else update.links.status
        if new is None:
            checker.report(name, "names no status")
            continue
        old = update.links.old_status
        by_suggestion[update.links.suggestion].append(
            StatusMove(
                at=update.created_at,
                status=statuses.get(new, ""),
                previous=statuses.get(old, "") if old is not None else "",
            )
        )
    return {sid: tuple(sorted(moves, key=lambda move: move.at)) for sid, moves in by_suggestion.items()}


def fetch_uservoice_suggestions(
    client: UserVoiceClient, until: datetime, problems: list[ItemProblem] | None = None
) -> Iterator[Post]:
    """Every suggestion created by ``until`` with its comments, statuses, categories and labels resolved.

    An item that is not what the API promises is skipped and named in ``problems``.
    """
    checker = ItemChecker("uservoice", problems)
    statuses = client.statuses()
    categories = client.categories(checker.problems)
    users = client.users(checker.problems)
    by_suggestion = _comments_by_suggestion(client, checker)
    labels: dict[int, str] | None = None  # read once, when a suggestion first carries a label id
    # Read once, when a suggestion first shows a change after T (a backfill, a manual run as of a
    # past time): its status then may not be its status now.
    moves: dict[int, tuple[StatusMove, ...]] | None = None
    count = 0
    for raw in client.suggestions():
        created = time_of(raw, "created_at")
        if created is not None and created > until:
            continue
        name = _suggestion_name(raw)
        suggestion = checker.check(Suggestion, raw, name, id_text(field_of(raw, "id")))
        if suggestion is None:
            continue
        comments = by_suggestion.get(suggestion.id, [])
        if labels is None and any(isinstance(label, int) for label in suggestion.links.labels):
            labels = client.labels(checker.problems)
        unnamed = _unnamed_links(suggestion.links, categories, labels or {})
        if unnamed:
            checker.report(name, unnamed, str(suggestion.id))
            continue
        if moves is None and suggestion.updated_at is not None and suggestion.updated_at > until:
            moves = _status_moves_by_suggestion(client, statuses, checker)
        post = checker.build(
            name,
            normalise_suggestion,
            raw,
            statuses,
            categories,
            users,
            comments,
            labels,
            (moves or {}).get(suggestion.id, ()),
            post_id=str(suggestion.id),
        )
        if post is not None:
            count += 1
            yield post
    log.info("UserVoice: %d suggestions in %d requests", count, client.request_count)


def fetch(request: FetchRequest) -> Fetched:
    """Every suggestion created by T (the review needs old ones too), and the statuses upstream has."""
    client = UserVoiceClient.from_connection(http=request.settings)
    problems: list[ItemProblem] = []
    statuses = client.statuses()
    posts = fetch_uservoice_suggestions(client, request.until, problems)
    return Fetched(posts=posts, statuses=statuses, problems=problems)
