"""Stack Exchange API 2.3 under ``/stackexchange/2.3``: questions, answers and comments.

Files: ``stackexchange/questions.json``, ``answers.json``, ``comments.json`` (API 2.3 objects,
dates as unix seconds) and an optional ``backoff.json``. Every answer, errors included, is
gzip-compressed and wrapped like the real API: ``{"items", "has_more", "quota_max",
"quota_remaining", "page", "page_size"}`` (``page``/``page_size`` are wrapper fields the
real API returns only with a custom filter; they are harmless extras here). Errors are
``{"error_id", "error_message", "error_name"}``; an injected 502 fault is a ``throttle_violation``.

``filter`` is accepted and ignored, except ``withbody``, which adds ``body`` to items (the
default filter leaves it out, as upstream).

**Backoff.** To make the wrapper carry ``"backoff": N`` on successful answers, write
``stackexchange/backoff.json``: ``[{"path": "/questions$", "backoff": 10, "times": 1}]`` —
``path`` is a regex searched in the request path (as for faults), ``times`` is optional
(default: every matching request). Scenario faults cannot do this: a fault replaces the
handler's answer, and ``scenario.yaml`` faults have no ``backoff`` key.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from community_sandbox.loading import ItemChecker, read_json_array
from community_sandbox.routing import Request, Response, Service, ServiceContext, json_response

# The API's documented error ids and names (api.stackexchange.com/docs/error-handling).
# The sandbox keeps its own copy: it shares no code with the product (SPEC §8).
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

QUOTA_MAX = 10_000
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_IDS = 100
SITES = frozenset({"stackoverflow", "stackoverflow.com"})
IDS = r"(?P<ids>[^/]+)"
# Sort name -> the field that sorts and that min/max bound, per kind of item.
QUESTION_SORTS = {"activity": "last_activity_date", "creation": "creation_date", "votes": "score"}
ANSWER_SORTS = QUESTION_SORTS
COMMENT_SORTS = {"creation": "creation_date", "votes": "score"}


@dataclass
class BackoffRule:
    path: re.Pattern[str]
    backoff: int
    times: int | None = None


@dataclass
class StackExchangeFiles:
    questions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    backoff: list[BackoffRule] = field(default_factory=list)


def load_stackexchange(root: Path) -> StackExchangeFiles:
    folder = root / "stackexchange"
    files = StackExchangeFiles()

    path = folder / "questions.json"
    files.questions = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, question in enumerate(files.questions):
        check.integer(question, index, "question_id")
        check.integer(question, index, "creation_date")
        if question.get("last_activity_date") is not None:
            check.integer(question, index, "last_activity_date")
        tags = question.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise check.fail(index, f'has bad "tags": {tags!r} (a list of tag names)')
    check.unique(files.questions, "question_id")

    path = folder / "answers.json"
    files.answers = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, answer in enumerate(files.answers):
        check.integer(answer, index, "answer_id")
        check.integer(answer, index, "question_id")
        check.integer(answer, index, "creation_date")
    check.unique(files.answers, "answer_id")

    path = folder / "comments.json"
    files.comments = read_json_array(path, root)
    check = ItemChecker(path, root)
    for index, comment in enumerate(files.comments):
        check.integer(comment, index, "comment_id")
        check.integer(comment, index, "post_id")
        check.integer(comment, index, "creation_date")
        if comment.get("post_type", "question") not in ("question", "answer"):
            raise check.fail(index, f'has a bad "post_type": {comment["post_type"]!r} (question or answer)')
    check.unique(files.comments, "comment_id")

    path = folder / "backoff.json"
    check = ItemChecker(path, root)
    for index, raw in enumerate(read_json_array(path, root)):
        check.require(raw, index, "path")
        try:
            pattern = re.compile(str(raw["path"]))
        except re.error as exc:
            raise check.fail(index, f'has a bad "path" regex {raw["path"]!r}: {exc}') from None
        seconds = check.integer(raw, index, "backoff")
        times = check.integer(raw, index, "times") if raw.get("times") is not None else None
        files.backoff.append(BackoffRule(pattern, seconds, times))
    return files


def _with_defaults(item: dict[str, Any], kind: str) -> dict[str, Any]:
    item.setdefault("score", 0)
    if kind != "comment":
        item.setdefault("last_activity_date", item["creation_date"])
    if kind == "comment":
        item.setdefault("post_type", "question")
    return item


class StackExchangeService(Service):
    name = "stackexchange"
    prefix = "/stackexchange/2.3"

    @classmethod
    def load(cls, root: Path) -> StackExchangeFiles:
        return load_stackexchange(root)

    def __init__(self, data: StackExchangeFiles | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        files = data or StackExchangeFiles()
        self.questions = [_with_defaults(copy.deepcopy(q), "question") for q in files.questions]
        self.answers = [_with_defaults(copy.deepcopy(a), "answer") for a in files.answers]
        self.comments = [_with_defaults(copy.deepcopy(c), "comment") for c in files.comments]
        self.backoff = files.backoff
        self._backoff_left = [rule.times for rule in files.backoff]
        self.quota_remaining = QUOTA_MAX
        self.route("GET", r"/questions", self.list_questions)
        self.route("GET", rf"/questions/{IDS}", self.questions_by_ids)
        self.route("GET", rf"/questions/{IDS}/answers", self.answers_on_questions)
        self.route("GET", rf"/questions/{IDS}/comments", self.comments_on_questions)
        self.route("GET", rf"/answers/{IDS}", self.answers_by_ids)
        self.route("GET", rf"/answers/{IDS}/comments", self.comments_on_answers)

    # ----- errors and the wrapper ---------------------------------------------------------

    def api_error(self, error_id: int, message: str, status: int = 400) -> Response:
        body = {"error_id": error_id, "error_message": message, "error_name": ERROR_NAMES[error_id]}
        return json_response(body, status)

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        # Injected faults keep their HTTP status; the body says what the API would.
        if status in (429, 502):
            wait = 10 if retry_after is None else retry_after
            text = message or f"too many requests from this IP, more requests available in {wait} seconds"
            return self.api_error(502, text, status)
        error_id = status if status in ERROR_NAMES else 500
        return self.api_error(error_id, message or ERROR_NAMES[error_id].replace("_", " "), status)

    def dispatch(self, request: Request) -> Response:
        subpath = request.path[len(self.prefix) :] or "/"
        if not any(r.method == request.method and r.pattern.fullmatch(subpath) for r in self.routes):
            # The API answers an unknown method with HTTP 400, not 404.
            return self.api_error(404, "no method found with this name")
        site = request.arg("site")
        if not site:
            return self.api_error(400, "site is required")
        if site.lower() not in SITES:
            return self.api_error(400, f"No site found for name `{site}`")
        return super().dispatch(request)

    def finish(self, request: Request, response: Response) -> Response:
        self.quota_remaining = max(self.quota_remaining - 1, 0)
        response.gzip = True  # the real API compresses everything, errors included
        return response

    def _take_backoff(self, request: Request) -> int | None:
        for index, rule in enumerate(self.backoff):
            left = self._backoff_left[index]
            if left == 0 or rule.path.search(request.path) is None:
                continue
            if left is not None:
                self._backoff_left[index] = left - 1
            return rule.backoff
        return None

    # ----- listing ------------------------------------------------------------------------

    def listing(
        self, request: Request, items: list[dict[str, Any]], sorts: dict[str, str], default_sort: str
    ) -> Response:
        """Sort, bound (min/max, fromdate/todate), page and wrap ``items``."""
        sort = request.arg("sort") or default_sort
        order = request.arg("order") or "desc"
        if sort not in sorts:
            return self.api_error(400, "sort")
        if order not in ("asc", "desc"):
            return self.api_error(400, "order")
        bounds: dict[str, int] = {}
        for name in ("min", "max", "fromdate", "todate", "page", "pagesize"):
            value = request.arg(name)
            if value in (None, ""):
                continue
            try:
                bounds[name] = int(value)
            except ValueError:
                return self.api_error(400, name)
        page = bounds.get("page", 1)
        page_size = bounds.get("pagesize", DEFAULT_PAGE_SIZE)
        if page < 1:
            return self.api_error(400, "page")
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            return self.api_error(400, "pagesize")
        key = sorts[sort]

        def keep(item: dict[str, Any]) -> bool:
            value = item.get(key, 0)
            if "min" in bounds and value < bounds["min"]:
                return False
            if "max" in bounds and value > bounds["max"]:
                return False
            created = item["creation_date"]
            if "fromdate" in bounds and created < bounds["fromdate"]:
                return False
            return "todate" not in bounds or created <= bounds["todate"]

        found = sorted(
            (item for item in items if keep(item)),
            key=lambda item: (item.get(key, 0), item["creation_date"]),
            reverse=order == "desc",
        )
        with_body = (request.arg("filter") or "").lower() == "withbody"
        chunk = found[(page - 1) * page_size : page * page_size]
        wrapper: dict[str, Any] = {
            "items": [
                item if with_body else {k: v for k, v in item.items() if k != "body"} for item in chunk
            ],
            "has_more": page * page_size < len(found),
            "quota_max": QUOTA_MAX,
            # finish() counts this request after the handler, as the real quota already has.
            "quota_remaining": max(self.quota_remaining - 1, 0),
            "page": page,
            "page_size": page_size,
        }
        backoff = self._take_backoff(request)
        if backoff is not None:
            wrapper["backoff"] = backoff
        return json_response(wrapper)

    def ids_of(self, request: Request) -> set[int] | Response:
        # ``;`` may arrive percent-encoded; the API takes at most 100 ids, numeric ones only.
        parts = [part for part in unquote(request.params["ids"]).split(";") if part.strip()]
        if len(parts) > MAX_IDS:
            return self.api_error(400, f"ids: at most {MAX_IDS} ids may be requested at once")
        try:
            return {int(part) for part in parts}
        except ValueError:
            return self.api_error(400, "ids")

    # ----- handlers -----------------------------------------------------------------------

    def list_questions(self, request: Request) -> Response:
        tagged = {tag.strip().lower() for tag in (request.arg("tagged") or "").split(";") if tag.strip()}
        found = [q for q in self.questions if tagged <= {str(tag).lower() for tag in q.get("tags") or ()}]
        return self.listing(request, found, QUESTION_SORTS, "activity")

    def questions_by_ids(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        found = [q for q in self.questions if q["question_id"] in ids]
        return self.listing(request, found, QUESTION_SORTS, "activity")

    def answers_by_ids(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        found = [a for a in self.answers if a["answer_id"] in ids]
        return self.listing(request, found, ANSWER_SORTS, "activity")

    def answers_on_questions(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        found = [a for a in self.answers if a["question_id"] in ids]
        return self.listing(request, found, ANSWER_SORTS, "activity")

    def comments_on_questions(self, request: Request) -> Response:
        return self._comments_on(request, "question")

    def comments_on_answers(self, request: Request) -> Response:
        return self._comments_on(request, "answer")

    def _comments_on(self, request: Request, post_type: str) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        found = [c for c in self.comments if c["post_type"] == post_type and c["post_id"] in ids]
        return self.listing(request, found, COMMENT_SORTS, "creation")
