"""Stack Exchange API 2.3 under ``/stackexchange/2.3``: questions, answers and comments.

Files: ``stackexchange/questions.json``, ``answers.json``, ``comments.json`` (API 2.3 objects,
dates as unix seconds) and an optional ``backoff.json``. Every answer, errors included, is
gzip-compressed and wrapped like the real API: ``{"items", "has_more", "quota_max",
"quota_remaining", "page", "page_size"}`` (``page``/``page_size`` are wrapper fields the
real API returns only with a custom filter; they are harmless extras here). Errors are
``{"error_id", "error_message", "error_name"}``; an injected 502 fault is a ``throttle_violation``.

**Filters.** ``/filters/create?include=...&exclude=...&base=...&unsafe=...`` (no ``site``, as
upstream) answers one filter: ``{"filter", "filter_type", "included_fields"}``. Its id is
self-describing (``!`` + the base64 of its compressed spec), so like upstream's it is stable and
never expires, even across sandbox restarts. A method given such a filter shows what it names:
``<type>.body``, ``<type>.body_markdown`` (when the data has it), ``question.answers`` and
``question.comments`` / ``answer.comments`` (the post's answers and comments inlined, oldest
first, themselves shaped by the filter; an empty list is left out), ``<type>.comment_count`` and
``question.answer_count`` (counted from the data), ``.wrapper.total``; excluded fields are
dropped, and the ``none`` base keeps only what is included. The built-in ``withbody`` adds
``body``; ``default`` and no filter keep the default fields. An id the sandbox did not make
(another client's filter, baked in from the real API) cannot be read, so it gets every field
above: a superset of what it asked for (Perceval's, for one, needs ``total``, bodies and threads).
``unsafe`` only changes ``filter_type``: the data files hold what a safe filter returns.

**Inline caps.** The API documents no cap on inlined lists; to make the sandbox inline fewer than
a post has (so a client's fallback can be tested), write ``stackexchange/inline.json``:
``{"question.comments": 2, "answer.comments": 1, "question.answers": 5}`` (each key optional).
The counts still tell the truth, as they would if upstream capped.

**Backoff.** To make the wrapper carry ``"backoff": N`` on successful answers, write
``stackexchange/backoff.json``: ``[{"path": "/questions$", "backoff": 10, "times": 1}]`` —
``path`` is a regex searched in the request path (as for faults), ``times`` is optional
(default: every matching request). Scenario faults cannot do this: a fault replaces the
handler's answer, and ``scenario.yaml`` faults have no ``backoff`` key.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from community_sandbox.indexing import ResultCache
from community_sandbox.loading import ItemChecker, ScenarioError, read_json_array, read_optional_object
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

BASE_FILTERS = frozenset({"default", "withbody", "none"})
# Lists a filter can inline, by the filter field that names them.
INLINE_FIELDS = ("question.answers", "question.comments", "answer.comments")
# Fields that the default filter leaves out: only a filter naming them shows them.
OPT_IN_FIELDS = frozenset({"body", "body_markdown", "answers", "comments", "comment_count", "total"})
# The default filter's fields, per type, as /filters/create lists them in ``included_fields``.
DEFAULT_FIELDS = {
    ".wrapper": "backoff error_id error_message error_name has_more items quota_max quota_remaining",
    "question": "accepted_answer_id answer_count closed_date closed_reason content_license creation_date "
    "is_answered last_activity_date last_edit_date link owner question_id score tags title view_count",
    "answer": "answer_id content_license creation_date is_accepted last_activity_date last_edit_date "
    "owner question_id score",
    "comment": "comment_id content_license creation_date edited owner post_id reply_to_user score",
    "shallow_user": "accept_rate account_id display_name link profile_image reputation user_id user_type",
}
# What an unreadable filter id gets: every field the sandbox can add to the default ones.
EVERY_OPTIONAL_FIELD = frozenset(
    [f"{kind}.{name}" for kind in ("question", "answer", "comment") for name in ("body", "body_markdown")]
    + ["question.answers", "question.comments", "question.comment_count", "answer.comments"]
    + ["answer.comment_count", ".wrapper.total"]
)
FIELD_NAME = re.compile(r"(\.wrapper|[a-z_]+)\.[a-z_]+")


@dataclass
class BackoffRule:
    path: re.Pattern[str]
    backoff: int
    times: int | None = None


@dataclass(frozen=True)
class FilterSpec:
    """What a filter shows: a base filter plus included and minus excluded ``type.field`` names."""

    base: str = "default"
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    unsafe: bool = False

    def shows(self, kind: str, name: str) -> bool:
        qualified = f"{kind}.{name}"
        if qualified in self.exclude:
            return False
        if qualified in self.include:
            return True
        if self.base == "none":
            return False
        if name in OPT_IN_FIELDS:
            return self.base == "withbody" and name == "body"
        return True

    def encode(self) -> str:
        spec = [self.base, sorted(self.include), sorted(self.exclude), self.unsafe]
        packed = zlib.compress(json.dumps(spec, separators=(",", ":")).encode(), 9)
        return "!" + base64.urlsafe_b64encode(packed).decode().rstrip("=")

    @classmethod
    def decode(cls, filter_id: str) -> FilterSpec | None:
        """The spec of an id this sandbox made, else None (a built-in, or another client's id)."""
        if not filter_id.startswith("!"):
            return None
        text = filter_id[1:]
        try:
            packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            base, include, exclude, unsafe = json.loads(zlib.decompress(packed))
        except (binascii.Error, zlib.error, ValueError, TypeError):
            return None
        return cls(str(base), frozenset(include), frozenset(exclude), bool(unsafe))

    @classmethod
    def of(cls, filter_name: str | None) -> FilterSpec:
        """The spec a method's ``filter`` parameter asks for; an unreadable id gets every field."""
        name = filter_name or "default"
        if name in BASE_FILTERS:
            return cls(base=name)
        return cls.decode(name) or cls(include=EVERY_OPTIONAL_FIELD)

    def included_fields(self) -> list[str]:
        defaults = set()
        if self.base != "none":
            defaults = {f"{kind}.{name}" for kind, names in DEFAULT_FIELDS.items() for name in names.split()}
        if self.base == "withbody":
            defaults |= {"question.body", "answer.body", "comment.body"}
        return sorted((defaults | self.include) - self.exclude)


@dataclass
class StackExchangeFiles:
    questions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    backoff: list[BackoffRule] = field(default_factory=list)
    inline_limits: dict[str, int] = field(default_factory=dict)


USER_TYPES = frozenset({"unregistered", "registered", "moderator", "team_admin", "does_not_exist"})


def _check_owner(check: ItemChecker, item: dict[str, Any], index: int) -> None:
    """An ``owner`` is a shallow_user object. The API leaves it out where a post has none; a file
    may also write null for that, or an owner without ``user_type`` (a filter can leave out any
    field: the product reads such an owner by the name it gives). Only a ``user_type`` the API
    never sends (a typo for ``does_not_exist``, say) or an owner that is no object is refused."""
    owner = item.get("owner")
    if owner is None:
        return
    if not isinstance(owner, dict):
        raise check.fail(index, f'has an "owner" that is no shallow_user object: {owner!r}')
    if "user_type" in owner and owner["user_type"] not in USER_TYPES:
        raise check.fail(
            index,
            f'has an "owner" with a "user_type" the API never sends ({", ".join(sorted(USER_TYPES))}): {owner!r}',
        )


def load_stackexchange(root: Path) -> StackExchangeFiles:
    folder = root / "stackexchange"
    files = StackExchangeFiles()

    path = folder / "questions.json"
    files.questions = read_json_array(path, root, (("items",),))
    check = ItemChecker(path, root)
    for index, question in enumerate(files.questions):
        check.integer(question, index, "question_id")
        check.integer(question, index, "creation_date")
        _check_owner(check, question, index)
        if question.get("last_activity_date") is not None:
            check.integer(question, index, "last_activity_date")
        tags = question.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise check.fail(index, f'has bad "tags": {tags!r} (a list of tag names)')
    check.unique(files.questions, "question_id")

    path = folder / "answers.json"
    files.answers = read_json_array(path, root, (("items",),))
    check = ItemChecker(path, root)
    for index, answer in enumerate(files.answers):
        check.integer(answer, index, "answer_id")
        check.integer(answer, index, "question_id")
        check.integer(answer, index, "creation_date")
        _check_owner(check, answer, index)
    check.unique(files.answers, "answer_id")

    question_ids = {question["question_id"] for question in files.questions}
    answer_ids = {answer["answer_id"] for answer in files.answers}
    path = folder / "comments.json"
    files.comments = read_json_array(path, root, (("items",),))
    check = ItemChecker(path, root)
    for index, comment in enumerate(files.comments):
        check.integer(comment, index, "comment_id")
        check.integer(comment, index, "post_id")
        check.integer(comment, index, "creation_date")
        _check_owner(check, comment, index)
        if comment.get("post_type", "question") not in ("question", "answer"):
            raise check.fail(index, f'has a bad "post_type": {comment["post_type"]!r} (question or answer)')
        # Post ids are unique across questions and answers, so the post says which it is: the
        # default filter leaves "post_type" out, and a comment under an answer must still be served
        # by /answers/{ids}/comments.
        on = "answer" if comment["post_id"] in answer_ids else "question"
        if comment.get("post_type") is None:
            files.comments[index] = {**comment, "post_type": on}
        elif comment["post_id"] in answer_ids | question_ids and comment["post_type"] != on:
            raise check.fail(
                index,
                f'has "post_type" {comment["post_type"]!r}, but post {comment["post_id"]} is in {on}s.json',
            )
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
    files.inline_limits = load_inline_limits(folder / "inline.json", root)
    return files


def load_inline_limits(path: Path, root: Path) -> dict[str, int]:
    """``inline.json``: the most items the sandbox inlines per list (no file: no cap)."""
    limits = read_optional_object(path, root) or {}
    for name, limit in limits.items():
        if name not in INLINE_FIELDS:
            raise ScenarioError(f"stackexchange/inline.json: unknown list {name!r} (one of {INLINE_FIELDS})")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ScenarioError(f"stackexchange/inline.json: {name} must be a count, found {limit!r}")
    return limits


@dataclass(frozen=True)
class ListQuery:
    """A list method's checked parameters, but the page: what it keeps and how it sorts."""

    key: str  # the field ``sort`` names, which ``min``/``max`` bound
    descending: bool
    min: int | None = None
    max: int | None = None
    fromdate: int | None = None  # creation_date bounds
    todate: int | None = None

    def keeps(self, item: dict[str, Any]) -> bool:
        value = item.get(self.key, 0)
        if self.min is not None and value < self.min:
            return False
        if self.max is not None and value > self.max:
            return False
        created = item["creation_date"]
        if self.fromdate is not None and created < self.fromdate:
            return False
        return self.todate is None or created <= self.todate

    def sort_key(self, item: dict[str, Any]) -> tuple[Any, int]:
        return item.get(self.key, 0), item["creation_date"]

    def apply(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items kept, sorted; ties keep the order of ``items`` (the files' order)."""
        return sorted(
            (item for item in items if self.keeps(item)), key=self.sort_key, reverse=self.descending
        )


def _field_names(value: str | None) -> frozenset[str]:
    return frozenset(name.strip() for name in (value or "").split(";") if name.strip())


def _oldest_first(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item["creation_date"], item[key]))


def _with_defaults(item: dict[str, Any], kind: str) -> dict[str, Any]:
    item.setdefault("score", 0)
    if kind == "question":
        # The API always sends a question's tags (the default filter has them); a hand-written
        # question that leaves them out has none. One written as null is served so: a fault to test.
        item.setdefault("tags", [])
    if kind != "comment":
        item.setdefault("last_activity_date", item["creation_date"])
    if kind == "comment":
        item.setdefault("post_type", "question")
    return item


class StackExchangeService(Service):
    name = "stackexchange"
    prefix = "/stackexchange/2.3"
    host_path = "/stackexchange"

    @classmethod
    def load(cls, root: Path) -> StackExchangeFiles:
        return load_stackexchange(root)

    def __init__(self, data: StackExchangeFiles | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        files = data or StackExchangeFiles()
        # Nothing is ever written, and defaults go on the top level only: shallow copies suffice.
        self.questions = [_with_defaults(dict(q), "question") for q in files.questions]
        self.answers = [_with_defaults(dict(a), "answer") for a in files.answers]
        self.comments = [_with_defaults(dict(c), "comment") for c in files.comments]
        self.question_by_id = {question["question_id"]: question for question in self.questions}
        self.answer_by_id = {answer["answer_id"]: answer for answer in self.answers}
        # Each item's place in its file: items gathered through an index are put back in file
        # order before sorting, since items that sort equal keep that order.
        self.position = {
            id(item): index
            for items in (self.questions, self.answers, self.comments)
            for index, item in enumerate(items)
        }
        # Questions carrying a set of tags and their orders (``_question_order``), then each
        # query's kept and sorted questions: the data never changes, so neither is ever cleared.
        self.orders = ResultCache()
        self.results = ResultCache()
        self.backoff = files.backoff
        self._backoff_left = [rule.times for rule in files.backoff]
        self.inline_limits = files.inline_limits
        self.quota_remaining = QUOTA_MAX
        # Each post's answers and comments, oldest first, for counts and inlining.
        answers_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for answer in self.answers:
            answers_of[answer["question_id"]].append(answer)
        comments_of: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
        for comment in self.comments:
            comments_of[(comment["post_type"], comment["post_id"])].append(comment)
        self.answers_of = {key: _oldest_first(items, "answer_id") for key, items in answers_of.items()}
        self.comments_of = {key: _oldest_first(items, "comment_id") for key, items in comments_of.items()}
        self.route("GET", r"/filters/create", self.create_filter)
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
        if subpath.startswith("/filters/"):
            return super().dispatch(request)  # filters belong to no site
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

    def wrapper(
        self, request: Request, items: list[dict[str, Any]], has_more: bool, total: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "items": items,
            "has_more": has_more,
            "quota_max": QUOTA_MAX,
            # finish() counts this request after the handler, as the real quota already has.
            "quota_remaining": max(self.quota_remaining - 1, 0),
        }
        if FilterSpec.of(request.arg("filter")).shows(".wrapper", "total"):
            body["total"] = total
        backoff = self._take_backoff(request)
        if backoff is not None:
            body["backoff"] = backoff
        return body

    # ----- filters ------------------------------------------------------------------------

    def create_filter(self, request: Request) -> Response:
        include, exclude = _field_names(request.arg("include")), _field_names(request.arg("exclude"))
        for name, names in (("include", include), ("exclude", exclude)):
            unknown = sorted(n for n in names if not FIELD_NAME.fullmatch(n))
            if unknown:
                return self.api_error(400, f"{name}: {unknown[0]} is not a field name")
        base = request.arg("base") or "default"
        if base not in BASE_FILTERS:
            return self.api_error(400, "base")
        unsafe = (request.arg("unsafe") or "false").lower()
        if unsafe not in ("true", "false"):
            return self.api_error(400, "unsafe")
        spec = FilterSpec(base, include, exclude, unsafe == "true")
        made = {
            "filter": spec.encode(),
            "filter_type": "unsafe" if spec.unsafe else "safe",
            "included_fields": spec.included_fields(),
        }
        return json_response(self.wrapper(request, [made], has_more=False, total=1))

    def shaped(self, item: dict[str, Any], kind: str, spec: FilterSpec) -> dict[str, Any]:
        """``item`` as the filter shows it, with its answers and comments counted or inlined."""
        shown = {key: value for key, value in item.items() if spec.shows(kind, key)}
        if kind == "question":
            answers = self.answers_of.get(item["question_id"], [])
            self._attach(shown, kind, "answer", answers, spec)
        if kind in ("question", "answer"):
            comments = self.comments_of.get((kind, item[f"{kind}_id"]), [])
            self._attach(shown, kind, "comment", comments, spec)
        return shown

    def _attach(
        self, shown: dict[str, Any], kind: str, child: str, children: list[dict[str, Any]], spec: FilterSpec
    ) -> None:
        if spec.shows(kind, f"{child}_count"):
            shown[f"{child}_count"] = len(children)
        plural = f"{child}s"
        shown.pop(plural, None)
        if children and spec.shows(kind, plural):
            limit = self.inline_limits.get(f"{kind}.{plural}")
            shown[plural] = [self.shaped(c, child, spec) for c in children[:limit]]

    # ----- listing ------------------------------------------------------------------------

    def listing(
        self,
        request: Request,
        select: Callable[[ListQuery], list[dict[str, Any]]],
        sorts: dict[str, str],
        default_sort: str,
        kind: str,
    ) -> Response:
        """Check the parameters, then page and wrap what ``select`` keeps and sorts for them."""
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
        query = ListQuery(
            sorts[sort],
            order == "desc",
            bounds.get("min"),
            bounds.get("max"),
            bounds.get("fromdate"),
            bounds.get("todate"),
        )
        found = select(query)
        spec = FilterSpec.of(request.arg("filter"))
        chunk = found[(page - 1) * page_size : page * page_size]
        shown = [self.shaped(item, kind, spec) for item in chunk]
        wrapper = self.wrapper(request, shown, has_more=page * page_size < len(found), total=len(found))
        return json_response({**wrapper, "page": page, "page_size": page_size})

    def ids_of(self, request: Request) -> set[int] | Response:
        # ``;`` may arrive percent-encoded; the API takes at most 100 ids, numeric ones only.
        parts = [part for part in unquote(request.params["ids"]).split(";") if part.strip()]
        if len(parts) > MAX_IDS:
            return self.api_error(400, f"ids: at most {MAX_IDS} ids may be requested at once")
        try:
            return {int(part) for part in parts}
        except ValueError:
            return self.api_error(400, "ids")

    def in_file_order(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda item: self.position[id(item)])

    def gathered(self, items: Iterable[dict[str, Any]]) -> Callable[[ListQuery], list[dict[str, Any]]]:
        """A ``select`` for the few items an ids method names (at most 100 posts' worth)."""
        ordered = self.in_file_order(items)
        return lambda query: query.apply(ordered)

    # ----- /questions: sorted once per set of tags ----------------------------------------

    def tagged_questions(self, tagged: frozenset[str]) -> list[dict[str, Any]]:
        """The questions carrying every tag in ``tagged``, in file order."""

        def build() -> list[dict[str, Any]]:
            return [q for q in self.questions if tagged <= {str(tag).lower() for tag in q.get("tags") or ()}]

        return self.orders.get(("tagged", tagged), build)

    def _question_order(self, tagged: frozenset[str], query: ListQuery) -> list[dict[str, Any]]:
        """The tagged questions in the query's order (sorted as ``ListQuery.apply`` sorts, once)."""
        probe = ListQuery(query.key, query.descending)
        return self.orders.get(("order", tagged, probe), lambda: probe.apply(self.tagged_questions(tagged)))

    def _question_values(self, tagged: frozenset[str], key: str) -> list[Any]:
        """The sort field of the tagged questions in ascending order, for bisecting ``min``/``max``."""
        ascending = self._question_order(tagged, ListQuery(key, descending=False))
        return self.orders.get(("values", tagged, key), lambda: [q.get(key, 0) for q in ascending])

    def _select_questions(self, tagged: frozenset[str], query: ListQuery) -> list[dict[str, Any]]:
        # The bounds on the sort field (and on creation_date when that is the sort field) are a
        # slice of the sorted questions; only fromdate/todate on another field are checked one by one.
        low, high = query.min, query.max
        on_creation = query.key == "creation_date"
        if on_creation:
            lows = [value for value in (low, query.fromdate) if value is not None]
            low = max(lows) if lows else None
            highs = [value for value in (high, query.todate) if value is not None]
            high = min(highs) if highs else None
        values = self._question_values(tagged, query.key)
        start = 0 if low is None else bisect.bisect_left(values, low)
        stop = len(values) if high is None else bisect.bisect_right(values, high)
        if query.descending:
            start, stop = len(values) - stop, len(values) - start
        found = self._question_order(tagged, query)[start:stop]
        if not on_creation and (query.fromdate is not None or query.todate is not None):
            found = [q for q in found if query.keeps(q)]
        return found

    def select_questions(self, tagged: frozenset[str]) -> Callable[[ListQuery], list[dict[str, Any]]]:
        def select(query: ListQuery) -> list[dict[str, Any]]:
            def build() -> list[dict[str, Any]]:
                try:
                    return self._select_questions(tagged, query)
                except TypeError:
                    # A sort field that does not compare (a null score): filtering and sorting
                    # the plain way fails, or not, exactly as it always did.
                    return query.apply(self.tagged_questions(tagged))

            return self.results.get(("questions", tagged, query), build)

        return select

    # ----- handlers -----------------------------------------------------------------------

    def list_questions(self, request: Request) -> Response:
        tagged = frozenset(
            tag.strip().lower() for tag in (request.arg("tagged") or "").split(";") if tag.strip()
        )
        return self.listing(request, self.select_questions(tagged), QUESTION_SORTS, "activity", "question")

    def questions_by_ids(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        select = self.gathered(self.question_by_id[i] for i in ids if i in self.question_by_id)
        return self.listing(request, select, QUESTION_SORTS, "activity", "question")

    def answers_by_ids(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        select = self.gathered(self.answer_by_id[i] for i in ids if i in self.answer_by_id)
        return self.listing(request, select, ANSWER_SORTS, "activity", "answer")

    def answers_on_questions(self, request: Request) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        select = self.gathered(answer for i in ids for answer in self.answers_of.get(i, ()))
        return self.listing(request, select, ANSWER_SORTS, "activity", "answer")

    def comments_on_questions(self, request: Request) -> Response:
        return self._comments_on(request, "question")

    def comments_on_answers(self, request: Request) -> Response:
        return self._comments_on(request, "answer")

    def _comments_on(self, request: Request, post_type: str) -> Response:
        ids = self.ids_of(request)
        if isinstance(ids, Response):
            return ids
        select = self.gathered(comment for i in ids for comment in self.comments_of.get((post_type, i), ()))
        return self.listing(request, select, COMMENT_SORTS, "creation", "comment")
