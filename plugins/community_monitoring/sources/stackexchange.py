"""Stack Overflow questions, answers and comments (Stack Exchange API 2.3), through HttpHook.

Requests stay O(pages): questions come from ``/questions`` sorted by activity with ``min`` (the
API has no "created since" filter that also pages by activity), and answers and comments come
for up to 100 questions (or answers) per call, never one call per question.

The connection's host is the API base (``https://api.stackexchange.com``); its extra may hold
``site`` (default ``stackoverflow``) and ``key`` (an app key, which raises the daily quota).
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
from typing import Any

from community_monitoring.records import Post, Reply
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.sources.http import ApiClient, UpstreamError
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

STACKEXCHANGE_CONN_ID = "stackexchange_default"
SERVICE = "stackoverflow"
DEFAULT_SITE = "stackoverflow"
API_PREFIX = "/2.3"
PAGE_SIZE = 100
MAX_IDS = 100  # the API's limit of ids in one vectorised call
MAX_PAGES = 10_000
# The item filter that adds ``body`` to questions, answers and comments.
BODY_FILTER = "withbody"
DELETED_USER = "deleted-user"
LOW_QUOTA = 100
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
        self, endpoint: str, status: int, error_id: int | None, error_name: str, error_message: str
    ) -> None:
        detail = f"{error_name} (error_id {error_id}): {error_message}"
        super().__init__(SERVICE, "GET", endpoint, status, detail)
        self.error_id = error_id
        self.error_name = error_name
        self.error_message = error_message


def _error_fields(text: str) -> tuple[int | None, str, str] | None:
    """``(error_id, error_name, error_message)`` from an error body, even a truncated one."""
    try:
        body = json.loads(text)
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


def _method_name(endpoint: str) -> str:
    """The API method an endpoint calls, ids left out: ``/2.3/questions/1;2/answers`` → ``questions/answers``."""
    parts = endpoint.removeprefix(API_PREFIX).strip("/").split("/")
    return "/".join(part for index, part in enumerate(parts) if index % 2 == 0)


def _batches(ids: Iterable[int], size: int = MAX_IDS) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class StackExchangeClient:
    """Raw question, answer and comment dicts from the Stack Exchange API, page by page.

    A ``backoff`` in any answer is honoured before the next call to the same API method, as the
    API requires even on success; ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        api: ApiClient,
        site: str = DEFAULT_SITE,
        key: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self.site = site
        self._key = key
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
    ) -> StackExchangeClient:
        """A client for the connection, read now (at run time): extra ``site`` and ``key``.

        The site is ``site`` if given, else the connection's extra ``site``, else ``default_site``.
        """
        from airflow.sdk.bases.hook import BaseHook

        extra = BaseHook.get_connection(conn_id).extra_dejson or {}
        return cls(
            ApiClient(conn_id, SERVICE, sleep=sleep),
            site=site or str(extra.get("site") or default_site),
            key=str(extra["key"]) if extra.get("key") else None,
            sleep=sleep,
        )

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def _get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        method = _method_name(endpoint)
        wait = self._not_before.get(method, 0.0) - self._clock()
        if wait > 0:
            log.info("Stack Exchange asked to back off %s; waiting %.1fs", method, wait)
            self._sleep(wait)
        query = {**params, "site": self.site}
        if self._key:
            query["key"] = self._key
        try:
            data = self._api.get_json(endpoint, query).data
        except UpstreamError as exc:
            # ApiClient's message holds the status and the body's start; name the API's error.
            fields = _error_fields(str(exc).split(": ", 2)[-1])
            if fields is None:
                raise
            raise StackExchangeError(endpoint, exc.status, *fields) from exc
        if not isinstance(data, dict):
            raise UpstreamError(SERVICE, "GET", endpoint, 200, f"not a JSON object: {data!r:.200}")
        if "error_id" in data:
            fields = _error_fields(json.dumps(data))
            assert fields is not None  # "error_id" is in the body
            raise StackExchangeError(endpoint, 200, *fields)
        backoff = data.get("backoff")
        if isinstance(backoff, int | float) and backoff > 0:
            log.warning("Stack Exchange: backoff of %ss on %s", backoff, method)
            self._not_before[method] = self._clock() + float(backoff)
        if isinstance(data.get("quota_remaining"), int):
            self.quota_remaining = int(data["quota_remaining"])
            self.quota_max = data.get("quota_max") if isinstance(data.get("quota_max"), int) else None
            level = logging.WARNING if self.quota_remaining < LOW_QUOTA else logging.DEBUG
            log.log(level, "Stack Exchange quota: %s of %s left", self.quota_remaining, self.quota_max)
        return data

    def _pages(self, endpoint: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for page in range(1, MAX_PAGES):
            data = self._get(endpoint, {**params, "pagesize": PAGE_SIZE, "page": page})
            yield from data.get("items") or []
            if not data.get("has_more"):
                return

    def questions(self, tags: Sequence[str], since: datetime) -> Iterator[dict[str, Any]]:
        """Questions carrying every tag in ``tags`` (the API's ``tagged`` is an AND) and active since ``since``.

        ``min`` bounds the last activity: every question created after ``since`` is included,
        plus older ones with recent activity, which the caller filters out.
        """
        params: dict[str, Any] = {
            "sort": "activity",
            "order": "desc",
            "min": int(since.timestamp()),
            "filter": BODY_FILTER,
        }
        if tags:
            params["tagged"] = ";".join(tags)
        yield from self._pages(f"{API_PREFIX}/questions", params)

    def _by_ids(self, kind: str, ids: Iterable[int], what: str) -> Iterator[dict[str, Any]]:
        params = {"sort": "creation", "order": "asc", "filter": BODY_FILTER}
        for batch in _batches(ids):
            joined = ";".join(str(i) for i in batch)
            yield from self._pages(f"{API_PREFIX}/{kind}/{joined}/{what}", params)

    def answers(self, question_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Answers to the questions, up to 100 questions per call."""
        return self._by_ids("questions", question_ids, "answers")

    def comments(self, question_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Comments on the questions themselves, up to 100 questions per call."""
        return self._by_ids("questions", question_ids, "comments")

    def answer_comments(self, answer_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Comments on answers, up to 100 answers per call (they are replies in the thread too)."""
        return self._by_ids("answers", answer_ids, "comments")


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
        created_at=parse_time(raw["creation_date"]),
        body=str(raw.get("body") or ""),
        kind="answer",
    )


def normalise_comment(raw: Mapping[str, Any]) -> Reply:
    return Reply(
        # Answers and comments are numbered separately: prefixes keep reply ids unique.
        reply_id=f"c{raw['comment_id']}",
        author=_owner(raw),
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


def fetch_stackoverflow_questions(
    client: StackExchangeClient, tags: Sequence[str], since: datetime, until: datetime
) -> Iterator[Post]:
    """Questions created in (since, until], each with its answers and comments (batched calls)."""
    questions = {
        int(q["question_id"]): q
        for q in client.questions(tags, since)
        if since < parse_time(q["creation_date"]) <= until
    }
    answers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    answer_question: dict[int, int] = {}
    if questions:
        for raw in client.answers(questions):
            question_id = int(raw["question_id"])
            answers[question_id].append(raw)
            answer_question[int(raw["answer_id"])] = question_id
        for raw in client.comments(questions):
            comments[int(raw["post_id"])].append(raw)
    if answer_question:
        for raw in client.answer_comments(answer_question):
            question_id = answer_question.get(int(raw["post_id"]))
            if question_id is not None:
                comments[question_id].append(raw)
    log.info(
        "Stack Overflow %s on %s: %d questions created in the window, %d answers, %d comments; "
        "%d requests, quota left %s",
        list(tags),
        client.site,
        len(questions),
        len(answer_question),
        sum(len(c) for c in comments.values()),
        client.request_count,
        client.quota_remaining,
    )
    for question_id, raw in sorted(questions.items()):
        yield normalise_question(raw, answers[question_id], comments[question_id], client.site)


def fetch(request: FetchRequest) -> Fetched:
    section = request.settings.stackoverflow
    client = StackExchangeClient.from_connection(default_site=section.site)
    return Fetched(posts=fetch_stackoverflow_questions(client, section.tags, request.since, request.until))
