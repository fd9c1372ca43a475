"""Stack Overflow questions, answers and comments (Stack Exchange API 2.3), through HttpHook.

One call per 100 questions: the window's questions come from ``/questions`` bounded by their
creation date (``fromdate``/``todate``: older questions with recent activity are never read),
through a custom filter (``THREAD_FIELDS``) that inlines each question's answers and comments, the comments on its
answers, their bodies, and the counts that say whether an inlined list is whole. A list shorter
than its count is read again with the batched calls (up to 100 posts per call), for those posts
only, so no reply is lost whatever the API inlines.

The connection's host is the API base (``https://api.stackexchange.com``); its extra may hold
``site`` (default ``stackoverflow``), ``key`` (an app key, which raises the daily quota) and
``filter`` (the id of a filter made once with ``THREAD_FIELDS``). Without it, the first run makes
the filter with one ``/filters/create`` call and the item cache remembers its id for the next
runs (filter ids never expire; one the API refuses is made again).
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

from community_monitoring.item_cache import CachedItem
from community_monitoring.records import DELETED_USER, Post, Reply
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    ApiClient,
    Call,
    HttpPolicy,
    InvalidResponseError,
    NewItemsOnly,
    RateLimit,
    RawResponse,
    UpstreamError,
    check_page,
    decode_json,
    endless_pages,
    json_body,
    upstream_rate_limit,
)
from community_monitoring.sources.items import (
    Id,
    Item,
    ItemChecker,
    UnixTime,
    field_of,
    id_text,
    time_of,
)
from community_monitoring.timeutil import parse_time

if TYPE_CHECKING:
    from community_monitoring.item_cache import ItemCache

log = logging.getLogger(__name__)

STACKEXCHANGE_CONN_ID = "stackexchange_default"
SERVICE = "stackoverflow"
DEFAULT_SITE = "stackoverflow"
API_PREFIX = "/2.3"
PAGE_SIZE = 100
MAX_IDS = 100  # the API's limit of ids in one vectorised call
MAX_PAGES = 10_000
# The fields added to the default filter (which already has owners with ``user_type``,
# ``accepted_answer_id``, ``is_accepted``, ``closed_date`` and the dates): bodies, the inlined
# threads, and the counts that tell whether an inlined list is whole.
THREAD_FIELDS = (
    "question.body",
    "question.answers",
    "question.answer_count",
    "question.comments",
    "question.comment_count",
    "answer.body",
    "answer.comments",
    "answer.comment_count",
    "comment.body",
)
USABLE_FILTER_TYPES = frozenset({"safe", "unsafe"})
LOW_QUOTA = 100
THROTTLE_VIOLATION = 502  # error_id of "too many requests": wait, then try again
UNNAMED_THROTTLE_WAIT = 60.0  # seconds, after a throttle error that names no wait
# The API's documented error ids, for when an error body's ``error_name`` was cut off.
ERROR_NAMES = {
    400: "bad_parameter",
    401: "access_token_required",
    402: "invalid_access_token",
    403: "access_denied",
    404: "no_method",
    405: "key_required",
    406: "access_token_compromised",
    407: "write_failed",
    409: "duplicate_request",
    500: "internal_error",
    502: "throttle_violation",
    503: "temporarily_unavailable",
}


class StackExchangeError(UpstreamError):
    """The API answered with an error body (``error_id``, ``error_name``, ``error_message``)."""

    def __init__(
        self,
        endpoint: str,
        status: int,
        error_id: int | None,
        error_name: str,
        error_message: str,
        scrub: Callable[[str], str] = str,
    ) -> None:
        # The API's message may echo the request's parameters, the app key among them: the error
        # ends up in the failure alert, which Airflow's log masker never sees.
        error_message = scrub(error_message)
        detail = f"{error_name} (error_id {error_id}): {error_message}"
        super().__init__(SERVICE, "GET", endpoint, status, detail)
        self.error_id = error_id
        self.error_name = error_name
        self.error_message = error_message


_SECONDS = re.compile(r"(?<!\d)(\d+)\s*seconds?")


def _throttle_wait(body: Mapping[str, Any]) -> float:
    if isinstance(body.get("backoff"), int | float):
        return float(body["backoff"])
    # "too many requests from this IP, more requests available in 79 seconds". A number starts
    # after no digit: tried from each digit of a long run, the run was read to its end each time.
    match = _SECONDS.search(str(body.get("error_message") or ""))
    # "Violation of backoff parameter" names no time: a quick retry would be another violation,
    # and an IP that keeps violating is banned, so it waits as long as a backoff commonly lasts.
    return float(match.group(1)) if match else UNNAMED_THROTTLE_WAIT


def stackexchange_rate_limit(raw: RawResponse) -> RateLimit | None:
    """The API's throttle: HTTP 400 with ``error_id`` 502 (``throttle_violation``), else the usual forms."""
    body = raw.json_or_none()
    if isinstance(body, Mapping) and body.get("error_id") == THROTTLE_VIOLATION:
        return RateLimit(_throttle_wait(body))
    return upstream_rate_limit(raw)


class Page(BaseModel):
    """The wrapper of every answer: ``items`` and ``has_more``, maybe ``backoff`` and the quota."""

    items: list[Any]
    has_more: bool
    backoff: float | None = None
    quota_max: int | None = None
    quota_remaining: int | None = None

    @model_validator(mode="after")
    def _goes_on_only_with_items(self) -> Page:
        # An empty page that says there is more would be paged through to the end of time.
        if self.has_more and not self.items:
            raise ValueError("an empty page says it has more (has_more)")
        return self


class MadeFilter(BaseModel):
    """One filter as ``/filters/create`` answers it."""

    filter: str = Field(min_length=1)
    filter_type: str
    included_fields: list[str] = Field(default_factory=list)


class FilterPage(Page):
    items: list[MadeFilter] = Field(min_length=1, max_length=1)


class Owner(Item):
    """A shallow_user. The API leaves ``owner`` out where a post has none (a deleted account, a
    question migrated from another site) and may leave out every field but ``user_type``
    ("does_not_exist" for an account that is gone). An owner that names nobody and does not say it
    is gone is an item error: read as a deleted account's, the staff and bot rules would not see who
    wrote it. ``user_type`` itself is left out by a configured filter made without
    ``shallow_user.user_type``: the name (and the account id the roster goes by) still says who."""

    display_name: str | None = None
    user_type: str | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> Owner:
        if self.user_type != "does_not_exist" and not self.display_name:
            raise ValueError('names nobody (no "display_name", and "user_type" is not "does_not_exist")')
        return self


class Question(Item):
    question_id: Id
    creation_date: UnixTime
    title: str  # every post has one (the rules read it): a null is an item error
    link: str | None = None
    body: str | None = None
    # In the default filter, which the thread filter builds on: the API always sends a question's
    # tags (one to five). Read as none when left out, the question lost the tags that route it to
    # its owner and type it: an item error instead.
    tags: list[str]
    owner: Owner | None = None
    closed_date: UnixTime | None = None
    last_activity_date: UnixTime | None = None
    accepted_answer_id: Id | None = None


class Answer(Item):
    answer_id: Id
    question_id: Id
    creation_date: UnixTime
    body: str | None = None
    owner: Owner | None = None


class Comment(Item):
    comment_id: Id
    post_id: Id
    creation_date: UnixTime
    body: str | None = None
    owner: Owner | None = None


def _error_fields(text: str) -> tuple[int | None, str, str] | None:
    """``(error_id, error_name, error_message)`` from an error body, even a truncated one."""
    try:
        body = decode_json(text)
    except ValueError:
        body = None
    if isinstance(body, Mapping) and "error_id" in body:
        error_id = body.get("error_id")
        error_id = error_id if isinstance(error_id, int) else None
        name = str(body.get("error_name") or ERROR_NAMES.get(error_id or 0, "unknown_error"))
        return error_id, name, str(body.get("error_message") or "")
    # ApiClient keeps only the first 300 characters of an error body: read what is left.
    id_match = re.search(r'"error_id"\s*:\s*(\d+)', text)
    if id_match is None:
        return None
    error_id = int(id_match.group(1))
    name_match = re.search(r'"error_name"\s*:\s*"([^"]*)"', text)
    message_match = re.search(r'"error_message"\s*:\s*"((?:[^"\\]|\\.)*)', text)
    name = name_match.group(1) if name_match else ERROR_NAMES.get(error_id, "unknown_error")
    return error_id, name, message_match.group(1) if message_match else ""


def _page_acceptor(shape: type[Page]) -> Callable[[Call, RawResponse], Page]:
    def accept(call: Call, raw: RawResponse) -> Page:
        data = json_body(call, raw)
        if isinstance(data, Mapping) and "error_id" in data:
            fields = _error_fields(json.dumps(data))
            assert fields is not None  # "error_id" is in the body
            raise StackExchangeError(call.endpoint, raw.status, *fields, scrub=call.scrub)
        return check_page(call, raw, data, shape)

    return accept


def _named_error(exc: UpstreamError, scrub: Callable[[str], str]) -> UpstreamError:
    """The API's own error (``error_id``, ``error_name``) when the answer carried one."""
    body = exc.error_body
    fields = _error_fields(json.dumps(body)) if isinstance(body, Mapping) else _error_fields(exc.detail)
    if fields is None or exc.detail.startswith("asked to wait"):
        return exc
    return StackExchangeError(exc.endpoint, exc.status, *fields, scrub=scrub)


def _method_name(endpoint: str) -> str:
    """The API method an endpoint calls, ids left out: ``/2.3/questions/1;2/answers`` → ``questions/answers``."""
    parts = endpoint.removeprefix(API_PREFIX).strip("/").split("/")
    return "/".join(part for index, part in enumerate(parts) if index % 2 == 0)


def _post_id(raw: Any) -> Any:
    """A listed question's, answer's or comment's id (None: not told, kept)."""
    if not isinstance(raw, dict):
        return None
    for field in ("comment_id", "answer_id", "question_id"):
        if raw.get(field) is not None:
            return (field, raw[field])
    return None


def _batches(ids: Iterable[int], size: int = MAX_IDS) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class StackExchangeClient:
    """Raw question, answer and comment items from the Stack Exchange API, page by page.

    A ``backoff`` in any answer is honoured before the next call to the same API method, as the
    API requires even on success; a throttle error (HTTP 400, ``error_id`` 502) is waited out by
    the HTTP layer. Every page must be the API's wrapper (``items``, ``has_more``): anything else
    is retried, then an error. Every listing uses the thread filter: ``filter_id`` if given, else
    one made on first use. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        api: ApiClient,
        site: str = DEFAULT_SITE,
        key: str | None = None,
        *,
        filter_id: str | None = None,
        remembered_filter: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._api.rate_limit = stackexchange_rate_limit
        self.site = site
        self._key = key
        self._filter_id = filter_id or remembered_filter
        # A filter an earlier run made (``remembered_filter``) is trusted until the API refuses it;
        # then one is made again. A configured one (``filter_id``) is the operator's: never replaced.
        self._filter_is_remembered = filter_id is None and remembered_filter is not None
        self.made_filter: str | None = None  # the filter this client made, for the next run to reuse
        self._sleep = sleep
        self._clock = clock
        self._not_before: dict[str, float] = {}
        self.quota_max: int | None = None
        self.quota_remaining: int | None = None

    @classmethod
    def from_connection(
        cls,
        conn_id: str = STACKEXCHANGE_CONN_ID,
        *,
        site: str | None = None,
        default_site: str = DEFAULT_SITE,
        sleep: Callable[[float], None] = time.sleep,
        policy: HttpPolicy | None = None,
        remembered_filter: str | None = None,
    ) -> StackExchangeClient:
        """A client for the connection, read now (at run time): extra ``site`` and ``key``.

        The site is ``site`` if given, else the connection's extra ``site``, else ``default_site``.
        """
        from airflow.sdk.bases.hook import BaseHook

        extra = BaseHook.get_connection(conn_id).extra_dejson or {}
        key = str(extra["key"]) if extra.get("key") else None
        filter_id = str(extra["filter"]) if extra.get("filter") else None
        api = ApiClient(conn_id, SERVICE, sleep=sleep, policy=policy)
        api.add_secrets([key])
        site = site or str(extra.get("site") or default_site)
        return cls(
            api, site=site, key=key, filter_id=filter_id, remembered_filter=remembered_filter, sleep=sleep
        )

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def _wait_for_backoff(self, method: str, endpoint: str) -> None:
        wait = self._not_before.get(method, 0.0) - self._clock()
        if wait > self._api.policy.max_wait:
            # As a rate limit asking for longer: the call fails now and the task retries later,
            # rather than sleeping through the task's time limit.
            detail = (
                f"Stack Exchange asked to back off {method} for {wait:.0f}s more, longer than the "
                f"{self._api.policy.max_wait:.0f}s allowed (http.max_wait_seconds)"
            )
            raise UpstreamError(SERVICE, "GET", endpoint, 0, detail)
        if wait > 0:
            log.info("Stack Exchange asked to back off %s; waiting %.1fs", method, wait)
            self._sleep(wait)

    def _note_wrapper(self, method: str, page: Page) -> None:
        if page.backoff is not None and page.backoff > 0:
            log.warning("Stack Exchange: backoff of %ss on %s", page.backoff, method)
            self._not_before[method] = self._clock() + float(page.backoff)
        if page.quota_remaining is not None:
            self.quota_remaining = page.quota_remaining
            self.quota_max = page.quota_max
            level = logging.WARNING if self.quota_remaining < LOW_QUOTA else logging.DEBUG
            log.log(level, "Stack Exchange quota: %s of %s left", self.quota_remaining, self.quota_max)

    def _get(
        self, endpoint: str, params: Mapping[str, Any], *, shape: type[Page] = Page, on_site: bool = True
    ) -> Page:
        method = _method_name(endpoint)
        self._wait_for_backoff(method, endpoint)
        query = {**params, "site": self.site} if on_site else dict(params)
        if self._key:
            query["key"] = self._key
        try:
            page = self._api.request("GET", endpoint, params=query, accept=_page_acceptor(shape))
        except UpstreamError as exc:
            if type(exc) is not UpstreamError:  # already named, or not an error answer
                raise
            raise _named_error(exc, self._api.scrub) from None
        self._note_wrapper(method, page)
        return page

    def _listing_page(self, endpoint: str, params: Mapping[str, Any]) -> Page:
        """One page through the thread filter; a remembered filter the API refuses is made again."""
        try:
            return self._get(endpoint, {**params, "filter": self.thread_filter()})
        except StackExchangeError as exc:
            if not (
                self._filter_is_remembered and exc.status == 400 and "filter" in exc.error_message.lower()
            ):
                raise
            log.warning(
                "Stack Exchange refused the remembered filter %s (%s); making it again", self._filter_id, exc
            )
            self._filter_is_remembered = False
            self._filter_id = self._make_thread_filter()
            return self._get(endpoint, {**params, "filter": self._filter_id})

    def thread_filter(self) -> str:
        """The id of the filter that inlines threads: the configured one, else one made now (once)."""
        if self._filter_id is None:
            self._filter_id = self._make_thread_filter()
        return self._filter_id

    def _make_thread_filter(self) -> str:
        endpoint = f"{API_PREFIX}/filters/create"
        params = {"include": ";".join(THREAD_FIELDS), "base": "default", "unsafe": "false"}
        page = self._get(endpoint, params, shape=FilterPage, on_site=False)
        assert isinstance(page, FilterPage)
        made = page.items[0]
        missing = sorted(set(THREAD_FIELDS) - set(made.included_fields))
        if made.filter_type not in USABLE_FILTER_TYPES or missing:
            detail = f"made a filter of type {made.filter_type!r} without {missing}"
            raise InvalidResponseError(SERVICE, "GET", endpoint, 200, detail)
        log.info("Stack Exchange: made the thread filter %s", made.filter)
        self.made_filter = made.filter
        return made.filter

    def _pages(self, endpoint: str, params: Mapping[str, Any]) -> Iterator[Any]:
        new_only = NewItemsOnly(Call(SERVICE, "GET", endpoint), _post_id)
        for page in range(1, MAX_PAGES + 1):
            data = self._listing_page(endpoint, {**params, "pagesize": PAGE_SIZE, "page": page})
            yield from new_only(data.items, page)
            if not data.has_more:
                return
        raise endless_pages(Call(SERVICE, "GET", endpoint), MAX_PAGES)

    def questions(
        self, tags: Sequence[str], since: datetime, until: datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        """Questions carrying every tag in ``tags`` (the API's ``tagged`` is an AND: callers pass one), created from
        ``since`` to ``until`` (both whole seconds, inclusive: the caller keeps its own bounds).

        ``fromdate``/``todate`` bound the creation date on the server, so an old question with
        recent activity is never read: sorting by activity with ``min`` (as Perceval does) pages
        through every such question only to drop it. Each comes with its thread inlined
        (``THREAD_FIELDS``).
        """
        params: dict[str, Any] = {"sort": "creation", "order": "desc", "fromdate": int(since.timestamp())}
        if until is not None:
            params["todate"] = int(until.timestamp())
        if tags:
            params["tagged"] = ";".join(tags)
        yield from self._pages(f"{API_PREFIX}/questions", params)

    def _by_ids(self, kind: str, ids: Iterable[int], what: str) -> Iterator[dict[str, Any]]:
        params = {"sort": "creation", "order": "asc"}
        for batch in _batches(ids):
            joined = ";".join(str(i) for i in batch)
            yield from self._pages(f"{API_PREFIX}/{kind}/{joined}/{what}", params)

    def answers(self, question_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Answers to the questions (their comments inlined), up to 100 questions per call."""
        return self._by_ids("questions", question_ids, "answers")

    def comments(self, question_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Comments on the questions themselves, up to 100 questions per call."""
        return self._by_ids("questions", question_ids, "comments")

    def answer_comments(self, answer_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Comments on answers, up to 100 answers per call (they are replies in the thread too)."""
        return self._by_ids("answers", answer_ids, "comments")


def _owner_id(raw: Mapping[str, Any]) -> str:
    """The owner's account id: display names are not unique on Stack Exchange."""
    owner = raw.get("owner") or {}
    user_id = owner.get("user_id")
    return str(user_id) if isinstance(user_id, int) and owner.get("user_type") != "does_not_exist" else ""


def _owner(raw: Mapping[str, Any]) -> str:
    owner = raw.get("owner") or {}
    # Deleted accounts come back with no owner or with user_type "does_not_exist".
    if not owner.get("display_name") or owner.get("user_type") == "does_not_exist":
        return DELETED_USER
    return html.unescape(str(owner["display_name"]))


def normalise_answer(raw: Mapping[str, Any]) -> Reply:
    return Reply(
        reply_id=f"a{raw['answer_id']}",
        author=_owner(raw),
        author_id=_owner_id(raw),
        created_at=parse_time(raw["creation_date"]),
        body=str(raw.get("body") or ""),
        kind="answer",
    )


def normalise_comment(raw: Mapping[str, Any]) -> Reply:
    return Reply(
        # Answers and comments are numbered separately: prefixes keep reply ids unique.
        reply_id=f"c{raw['comment_id']}",
        author=_owner(raw),
        author_id=_owner_id(raw),
        created_at=parse_time(raw["creation_date"]),
        body=str(raw.get("body") or ""),
        kind="comment",
    )


def normalise_question(
    raw: Mapping[str, Any],
    answers: Sequence[Mapping[str, Any]],
    comments: Sequence[Mapping[str, Any]],
    site: str = DEFAULT_SITE,
) -> Post:
    """A question with its answers and comments (on the question or on its answers) as replies."""
    accepted_id = raw.get("accepted_answer_id")
    accepted = next((a for a in answers if a.get("answer_id") == accepted_id), None) if accepted_id else None
    closed_date = raw.get("closed_date")
    last_activity = raw.get("last_activity_date") or raw["creation_date"]
    post = Post(
        channel="stackoverflow",
        source_id=str(raw["question_id"]),
        url=str(raw.get("link") or f"https://stackoverflow.com/questions/{raw['question_id']}"),
        title=html.unescape(str(raw.get("title") or "")),
        body=str(raw.get("body") or ""),
        author=_owner(raw),
        author_id=_owner_id(raw),
        created_at=parse_time(raw["creation_date"]),
        state="closed" if closed_date else "open",
        closed_at=parse_time(closed_date) if closed_date else None,
        labels=tuple(str(tag) for tag in raw.get("tags") or ()),
        container=site,
        number=int(raw["question_id"]),
        updated_at=parse_time(last_activity),
        # The API has no acceptance time; the accepted answer's creation is the earliest it can be.
        accepted_at=parse_time(accepted["creation_date"]) if accepted else None,
    )
    replies = [normalise_answer(a) for a in answers] + [normalise_comment(c) for c in comments]
    return post.with_replies(replies)


def _question_name(raw: Any) -> str:
    return str(field_of(raw, "link") or f"question {field_of(raw, 'question_id')}")


def _questions_in_window(
    client: StackExchangeClient, checker: ItemChecker, tags: Sequence[str], since: datetime, until: datetime
) -> dict[int, dict[str, Any]]:
    """The questions carrying any of ``tags`` (each tag read on its own: the API's ``tagged`` asks
    for all of them, and a team that lists a second tag wants more questions, not fewer)."""
    questions: dict[int, dict[str, Any]] = {}
    reads = [client.questions([tag], since, until) for tag in dict.fromkeys(tags)] or [
        client.questions([], since, until)
    ]
    for raw in (raw for read in reads for raw in read):
        created = time_of(raw, "creation_date")
        if created is not None and not since < created <= until:
            continue  # created at the window's first second (the API's bounds are inclusive)
        question = checker.check(Question, raw, _question_name(raw), id_text(field_of(raw, "question_id")))
        if question is not None:
            questions[question.question_id] = raw
    return questions


def _inlined(raw: Mapping[str, Any], key: str) -> list[Any]:
    listed = raw.get(key)
    return listed if isinstance(listed, list) else []


def _whole(raw: Mapping[str, Any], key: str, count_key: str) -> bool:
    """Whether the inlined list ``key`` holds all ``count_key`` items (the API leaves empty lists out).

    Without the count (a filter that lacks it) the list cannot be trusted: it is read again.
    """
    count = raw.get(count_key)
    return isinstance(count, int) and len(_inlined(raw, key)) >= count


class _Thread:
    """Answers and comments of the window's questions, by question id, then by answer or comment id.

    Each question brings its thread inlined; a list shorter than its count is noted and read
    again by ``complete`` with the batched calls, for those posts only. Replies are keyed by id, so
    one seen both inlined and read again counts once.
    """

    def __init__(self, checker: ItemChecker) -> None:
        self.checker = checker
        self.answers: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.comments: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.answer_question: dict[int, int] = {}
        self.short_of_answers: set[int] = set()  # question ids
        self.short_of_comments: set[int] = set()  # question ids
        self.answers_short_of_comments: set[int] = set()  # answer ids

    def add_question(self, question_id: int, raw: Mapping[str, Any]) -> None:
        if not _whole(raw, "answers", "answer_count"):
            self.short_of_answers.add(question_id)
        if not _whole(raw, "comments", "comment_count"):
            self.short_of_comments.add(question_id)
        for answer in _inlined(raw, "answers"):
            self.add_answer(answer)
        for comment in _inlined(raw, "comments"):
            self.add_comment(comment, "question")

    def add_answer(self, raw: Any) -> None:
        name = f"answer {field_of(raw, 'answer_id')} to question {field_of(raw, 'question_id')}"
        answer = self.checker.check(Answer, raw, name)
        if answer is None:
            return
        self.answers[answer.question_id][answer.answer_id] = raw
        self.answer_question[answer.answer_id] = answer.question_id
        if not _whole(raw, "comments", "comment_count"):
            self.answers_short_of_comments.add(answer.answer_id)
        for comment in _inlined(raw, "comments"):
            self.add_comment(comment, "answer")

    def add_comment(self, raw: Any, on: str) -> None:
        comment = self.checker.check(Comment, raw, f"comment {field_of(raw, 'comment_id')} on {on}")
        if comment is None:
            return
        # A comment on an answer is a reply in its question's thread too.
        question_id = comment.post_id if on == "question" else self.answer_question.get(comment.post_id)
        if question_id is not None:
            self.comments[question_id][comment.comment_id] = raw

    def complete(self, client: StackExchangeClient) -> None:
        """Read again, batched, the lists that came short (answers first: theirs may come short too)."""
        for raw in client.answers(self.short_of_answers):
            self.add_answer(raw)
        for raw in client.comments(self.short_of_comments):
            self.add_comment(raw, "question")
        for raw in client.answer_comments(self.answers_short_of_comments):
            self.add_comment(raw, "answer")


def fetch_stackoverflow_questions(
    client: StackExchangeClient,
    tags: Sequence[str],
    since: datetime,
    until: datetime,
    problems: list[ItemProblem] | None = None,
) -> Iterator[Post]:
    """Questions created in (since, until], each with its answers and comments (inlined).

    An item that is not what the API promises is skipped and named in ``problems``.
    """
    checker = ItemChecker("stackoverflow", problems)
    questions = _questions_in_window(client, checker, tags, since, until)
    thread = _Thread(checker)
    for question_id, raw in sorted(questions.items()):
        thread.add_question(question_id, raw)
    thread.complete(client)
    log.info(
        "Stack Overflow %s on %s: %d questions created in the window, %d answers, %d comments; "
        "read again: answers of %d questions, comments of %d questions and %d answers; "
        "%d requests, quota left %s",
        list(tags),
        client.site,
        len(questions),
        len(thread.answer_question),
        sum(len(c) for c in thread.comments.values()),
        len(thread.short_of_answers),
        len(thread.short_of_comments),
        len(thread.answers_short_of_comments),
        client.request_count,
        client.quota_remaining,
    )
    for question_id, raw in sorted(questions.items()):
        answers = list(thread.answers[question_id].values())
        comments = list(thread.comments[question_id].values())
        post = checker.build(
            _question_name(raw),
            normalise_question,
            raw,
            answers,
            comments,
            client.site,
            post_id=str(question_id),
        )
        if post is not None:
            yield post


def fetch(request: FetchRequest) -> Fetched:
    section = request.settings.stackoverflow
    policy = HttpPolicy.from_settings(request.settings)
    remembered = _remembered_filter(request.cache)
    client = StackExchangeClient.from_connection(
        default_site=section.site, policy=policy, remembered_filter=remembered
    )
    problems: list[ItemProblem] = []

    def posts() -> Iterator[Post]:
        yield from fetch_stackoverflow_questions(client, section.tags, request.since, request.until, problems)
        if client.made_filter and request.cache is not None:
            request.cache.put_many(
                SERVICE, [CachedItem(FILTER_CACHE_KEY, _filter_version(), client.made_filter)]
            )

    return Fetched(posts=posts(), problems=problems)


# The thread filter is kept in the item cache between runs (a filter never expires): one
# ``/filters/create`` per deployment rather than per run. Its version is the fields it includes, so a
# release that changes ``THREAD_FIELDS`` makes a new one.
FILTER_CACHE_KEY = "filter:thread"


def _filter_version() -> str:
    return "default+" + ";".join(THREAD_FIELDS)


def _remembered_filter(cache: ItemCache | None) -> str | None:
    if cache is None:
        return None
    found = cache.get_many(SERVICE, {FILTER_CACHE_KEY: _filter_version()}).get(FILTER_CACHE_KEY)
    return found if isinstance(found, str) and found else None
