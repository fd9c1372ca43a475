"""Jira Cloud REST under ``/jira/rest/api/3``: enhanced JQL search, issues and remote links.

Files: ``jira/issues.json`` (issue objects as search returns them: ``id``, ``key``, ``fields``;
each of ``fields.fixVersions`` a version object: ``self``, ``id``, ``name``, ``archived``,
``released`` and, when the version has one, ``releaseDate`` as ``YYYY-MM-DD``),
``jira/remotelinks.json`` (an object: issue key -> array of remote-link objects) and, optional,
``jira/myself.json`` (the API user as ``GET /rest/api/3/myself`` returns it; its ``timeZone``, an
IANA name, is the zone JQL dates are read in, UTC when the file is missing). Every
call needs HTTP Basic auth (email + API token on Cloud). Data is served as written: ``self``
URLs keep the real site, which is where messages should link.

``GET /rest/api/3/search/jql`` pages with ``nextPageToken``/``isLast`` and, as on Cloud,
returns only issue ids unless ``fields`` asks for more; the retired ``/rest/api/2/search`` and
``/rest/api/3/search`` answer 410 Gone.

The JQL understood is a small subset, enough for the product's queries; anything else is a
400 in Jira's error format, so an unsupported query fails loudly instead of matching wrongly:

- clauses joined by ``AND`` (no ``OR``, ``NOT`` or parentheses around clauses), then an
  optional ``ORDER BY field [ASC|DESC], ...`` (updated, created, resolved, key);
- ``project``, ``key``/``issuekey``/``id``, ``status``, ``statusCategory``, ``resolution``,
  ``fixVersion``, ``labels``, ``issuetype`` with ``=``, ``!=``, ``in (..)``, ``not in (..)``,
  ``is [not] EMPTY|NULL`` (``resolution = Unresolved`` means empty); values compare
  case-insensitively by name or id; ``!=``/``not in`` never match an empty field, as in Jira;
- ``updated``, ``created``, ``resolved`` with ``= != > >= < <=`` against ``"yyyy-MM-dd[ HH:mm]"``
  (also with ``/``), relative ``-5d``/``-2w``/``-3h``/``-30m`` (from the scenario's clock) or
  epoch milliseconds, a date read in the API user's time zone as Jira reads it, and ``is [not] EMPTY``;
- a query without any clause is refused like Cloud's "Unbounded JQL" error.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import re
import time
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from community_sandbox.indexing import ResultCache
from community_sandbox.loading import (
    ItemChecker,
    ScenarioError,
    parse_time,
    read_json,
    read_json_array,
    relative_name,
)
from community_sandbox.routing import (
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    reason,
)

DEFAULT_MAX_RESULTS = 50
MAX_RESULTS_WITH_FIELDS = 100
MAX_RESULTS_IDS_ONLY = 5000
RATE_LIMIT = 100
DEFAULT_RETRY_AFTER = 10
REMOVED_SEARCH = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
ISSUE = r"/rest/api/(?P<version>[23])/issue/(?P<key>[^/]+)"
EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


@dataclass
class JiraFiles:
    issues: list[dict[str, Any]] = field(default_factory=list)
    remotelinks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    myself: dict[str, Any] = field(default_factory=lambda: {"timeZone": "UTC"})


def _json_object(path: Path, root: Path, what: str) -> tuple[dict[str, Any] | None, str]:
    """An optional file's JSON object (None when the file is missing), and the file's name."""
    name = relative_name(path, root)
    if not path.exists():
        return None, name
    data = read_json(path, root)
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: expected a JSON object ({what})")
    return data, name


def load_jira(root: Path) -> JiraFiles:
    folder = root / "jira"
    files = JiraFiles()

    path = folder / "issues.json"
    files.issues = read_json_array(path, root, (("issues",),))
    check = ItemChecker(path, root)
    for index, issue in enumerate(files.issues):
        check.require(issue, index, "id", "key")
        if not isinstance(issue["key"], str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+", issue["key"]):
            raise check.fail(index, f'has a bad "key": {issue["key"]!r} (like MM-123)')
        fields = issue.get("fields", {})
        if not isinstance(fields, dict):
            raise check.fail(index, 'has "fields" that is not an object')
        for key in ("created", "updated", "resolutiondate"):
            try:
                if fields.get(key) is not None:
                    parse_time(fields[key])
            except ValueError:
                raise check.fail(index, f'has a bad "fields.{key}" (not a time): {fields[key]!r}') from None
    check.unique(files.issues, "key")

    data, name = _json_object(folder / "remotelinks.json", root, "issue key -> array of remote links")
    if data is not None:
        # A key that is not in issues.json is a ticket deleted or moved since it was linked: its links
        # load but are never served (Jira answers 404 for the old key, as for the ticket itself).
        # One link object (as /remotelink/{id} answers it) is that issue's only link.
        data = {key: [links] if isinstance(links, dict) else links for key, links in data.items()}
        for key, links in data.items():
            if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
                raise ScenarioError(f"{name}: {key} must map to an array of remote-link objects")
        files.remotelinks = {key.upper(): links for key, links in data.items()}

    data, name = _json_object(folder / "myself.json", root, "the API user, as /myself returns it")
    if data is not None:
        zone = data.setdefault("timeZone", "UTC")
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ScenarioError(f'{name}: "timeZone" is not an IANA time zone: {zone!r}') from None
        files.myself = data
    return files


# ----- JQL ------------------------------------------------------------------------------------


class JqlError(ValueError):
    """A query the sandbox cannot run; the message is what Jira's 400 body says."""


TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, op, punct, word
    text: str  # unquoted for strings

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = TOKEN.match(jql, position)
        if match is None:
            raise JqlError(
                f"Error in the JQL Query: the character '{jql[position:].lstrip()[0]}' is not expected."
            )
        kind = match.lastgroup or "word"
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Clause:
    field: str  # canonical field name
    op: str  # = != > >= < <= in "not in" is "is not"
    values: tuple[str, ...]  # for is/is not: ("EMPTY",)


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)


# JQL name (lower case) -> canonical field. Set fields compare names/ids; time fields compare times.
SET_FIELDS = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "status": "status",
    "statuscategory": "statusCategory",
    "resolution": "resolution",
    "fixversion": "fixVersion",
    "labels": "labels",
    "issuetype": "issuetype",
    "type": "issuetype",
}
TIME_FIELDS = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "resolved": "resolutiondate",
    "resolutiondate": "resolutiondate",
}
ORDER_FIELDS = {**TIME_FIELDS, "key": "key", "issuekey": "key"}
SUPPORTED = (
    "the sandbox supports: clauses on project, key, status, statusCategory, resolution, fixVersion, "
    "labels, issuetype (= != in, not in, is [not] EMPTY) and updated, created, resolved "
    "(= != > >= < <=) joined by AND, then ORDER BY updated|created|resolved|key [ASC|DESC]"
)


class Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = tokenize(jql)
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError(f"Error in the JQL Query: Expecting {expected} but reached the end of the query.")
        self.index += 1
        return token

    def parse(self) -> Query:
        clauses: list[Clause] = []
        order: list[tuple[str, bool]] = []
        while self.peek() is not None:
            token = self.peek()
            assert token is not None
            if token.is_word("order"):
                order = self.order_by()
                break
            if clauses:
                joiner = self.take("'AND'")
                if joiner.is_word("or", "not") or joiner.text == "(":
                    raise JqlError(f"Unsupported JQL '{joiner.text}': {SUPPORTED}.")
                if not joiner.is_word("and"):
                    raise JqlError(
                        f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{joiner.text}'."
                    )
            clauses.append(self.clause())
        if self.peek() is not None:
            raise JqlError(
                f"Error in the JQL Query: unexpected '{self.take('nothing').text}' after ORDER BY."
            )
        return Query(tuple(clauses), tuple(order))

    def clause(self) -> Clause:
        token = self.take("a field name")
        if token.kind == "punct" or token.is_word("not"):
            raise JqlError(f"Unsupported JQL '{token.text}': {SUPPORTED}.")
        name = token.text.lower()
        if name not in SET_FIELDS and name not in TIME_FIELDS:
            known = name in (
                "summary",
                "description",
                "text",
                "assignee",
                "reporter",
                "priority",
                "component",
            )
            if known or token.kind == "string":
                raise JqlError(f"Unsupported JQL field '{token.text}': {SUPPORTED}.")
            raise JqlError(f"Field '{token.text}' does not exist or you do not have permission to view it.")
        op = self.operator()
        canonical = SET_FIELDS.get(name) or TIME_FIELDS[name]
        if op in ("is", "is not"):
            value = self.take("EMPTY")
            if not value.is_word("empty", "null"):
                raise JqlError(f"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got '{value.text}'.")
            return Clause(canonical, op, ("EMPTY",))
        if name in TIME_FIELDS and op in ("in", "not in"):
            raise JqlError(f"Unsupported JQL operator '{op}' for '{token.text}': {SUPPORTED}.")
        if name in SET_FIELDS and op in (">", ">=", "<", "<=", "~", "!~"):
            raise JqlError(f"The operator '{op}' is not supported by the '{token.text}' field.")
        if op in ("~", "!~"):
            raise JqlError(f"Unsupported JQL operator '{op}': {SUPPORTED}.")
        if op in ("in", "not in"):
            return Clause(canonical, op, self.value_list())
        value = self.value()
        # "= EMPTY" is another spelling of "is EMPTY"; so is "resolution = Unresolved".
        empty = value.is_word("empty", "null") or (canonical == "resolution" and value.is_word("unresolved"))
        if empty and op in ("=", "!="):
            return Clause(canonical, "is" if op == "=" else "is not", ("EMPTY",))
        return Clause(canonical, op, (value.text,))

    def operator(self) -> str:
        token = self.take("an operator")
        if token.kind == "op":
            return token.text
        if token.is_word("in"):
            return "in"
        if token.is_word("is"):
            follow = self.peek()
            if follow is not None and follow.is_word("not"):
                self.index += 1
                return "is not"
            return "is"
        if token.is_word("not"):
            follow = self.take("'IN'")
            if follow.is_word("in"):
                return "not in"
        if token.is_word("was", "changed"):
            raise JqlError(f"Unsupported JQL operator '{token.text}': {SUPPORTED}.")
        raise JqlError(f"Error in the JQL Query: Expecting operator but got '{token.text}'.")

    def value(self) -> Token:
        token = self.take("a value")
        if token.kind not in ("word", "string"):
            raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token.text}'.")
        follow = self.peek()
        if token.kind == "word" and follow is not None and follow.text == "(":
            raise JqlError(f"Unsupported JQL function '{token.text}()': {SUPPORTED}.")
        return token

    def value_list(self) -> tuple[str, ...]:
        if self.take("'('").text != "(":
            raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
        values = [self.value().text]
        while True:
            token = self.take("')'")
            if token.text == ")":
                return tuple(values)
            if token.text != ",":
                raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{token.text}'.")
            values.append(self.value().text)

    def order_by(self) -> list[tuple[str, bool]]:
        self.index += 1  # ORDER
        if not self.take("'BY'").is_word("by"):
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        order: list[tuple[str, bool]] = []
        while True:
            name = self.take("a field name")
            if name.text.lower() not in ORDER_FIELDS:
                raise JqlError(f"Unsupported ORDER BY field '{name.text}': {SUPPORTED}.")
            descending = False
            follow = self.peek()
            if follow is not None and follow.is_word("asc", "desc"):
                descending = follow.is_word("desc")
                self.index += 1
            order.append((ORDER_FIELDS[name.text.lower()], descending))
            follow = self.peek()
            if follow is None or follow.text != ",":
                return order
            self.index += 1


def parse_jql(jql: str) -> Query:
    return Parser(jql).parse()


def _lower(*values: Any) -> set[str]:
    return {str(value).lower() for value in values if value not in (None, "")}


def field_values(issue: dict[str, Any], name: str) -> set[str]:
    """The lower-cased names and ids a set field holds on ``issue`` (empty set = EMPTY)."""
    fields = issue.get("fields") or {}
    if name == "key":
        return _lower(issue.get("key"), issue.get("id"))
    if name == "labels":
        return _lower(*(fields.get("labels") or ()))
    if name == "fixVersion":
        versions = [v for v in fields.get("fixVersions") or () if isinstance(v, dict)]
        return _lower(*(v.get("name") for v in versions), *(v.get("id") for v in versions))
    if name == "statusCategory":
        category = (fields.get("status") or {}).get("statusCategory") or {}
        return _lower(category.get("name"), category.get("key"), category.get("id"))
    value = fields.get(name) or {}
    if not isinstance(value, dict):
        return _lower(value)
    return _lower(value.get("name"), value.get("key"), value.get("id"))


def field_time(issue: dict[str, Any], name: str) -> datetime | None:
    value = (issue.get("fields") or {}).get(name)
    return parse_time(value) if value else None


RELATIVE = re.compile(r"([+-]?)(\d+)([wdhm])", re.IGNORECASE)
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def jql_time(text: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """A JQL time value; a written date is a wall time in ``zone``, the API user's time zone."""
    value = text.strip()
    relative = RELATIVE.fullmatch(value)
    if relative:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{UNITS[unit.lower()]: int(amount)})
        return now - delta if sign == "-" else now + delta
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)  # epoch milliseconds
    for pattern in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{text}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', "
        "'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


class IssueTable:
    """The fields the search filters and sorts on, read once per field for every issue (by position).

    A search then tests positions against these columns, and a time clause that bounds its field
    (``updated >= ...``) is a slice of that field's sorted times: only the issues in it are tested.
    """

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        self.issues = issues
        self._values: dict[str, list[set[str]]] = {}
        self._times: dict[str, list[datetime | None]] = {}
        # field -> (the dated issues' times, ascending; their positions; each position's rank or None)
        self._time_orders: dict[str, tuple[list[datetime], list[int], list[int | None]]] = {}
        self._keys: list[tuple[str, int]] | None = None

    def values(self, name: str) -> list[set[str]]:
        if name not in self._values:
            self._values[name] = [field_values(issue, name) for issue in self.issues]
        return self._values[name]

    def times(self, name: str) -> list[datetime | None]:
        if name not in self._times:
            self._times[name] = [field_time(issue, name) for issue in self.issues]
        return self._times[name]

    def time_order(self, name: str) -> tuple[list[datetime], list[int], list[int | None]]:
        if name not in self._time_orders:
            times = self.times(name)
            dated = sorted((stamp, position) for position, stamp in enumerate(times) if stamp is not None)
            ranks: list[int | None] = [None] * len(times)
            for rank, (_, position) in enumerate(dated):
                ranks[position] = rank
            self._time_orders[name] = (
                [stamp for stamp, _ in dated],
                [position for _, position in dated],
                ranks,
            )
        return self._time_orders[name]

    def keys(self) -> list[tuple[str, int]]:
        if self._keys is None:
            self._keys = [key_order(issue) for issue in self.issues]
        return self._keys


@dataclass(frozen=True)
class Match:
    """A clause as the search runs it.

    ``key`` names the issues it matches (a time bound becomes the slice of sorted times it keeps,
    so ``-5d`` asked again a moment later is the same search); ``candidates`` are the positions
    it can match when that is a slice of a time order, else None.
    """

    key: Hashable
    test: Callable[[int], bool] = field(compare=False)
    candidates: list[int] | None = field(default=None, compare=False)


def compile_clause(clause: Clause, now: datetime, table: IssueTable, zone: tzinfo = UTC) -> Match:
    if clause.field in TIME_FIELDS.values():
        times = table.times(clause.field)
        if clause.op in ("is", "is not"):
            empty = clause.op == "is"
            return Match(clause, lambda position: (times[position] is None) == empty)
        bound = jql_time(clause.values[0], now, zone)
        stamps, positions, ranks = table.time_order(clause.field)
        first, after = bisect.bisect_left(stamps, bound), bisect.bisect_right(stamps, bound)
        # The ranks (places in the ascending times) an operator keeps; != keeps the others.
        low, high = {
            "=": (first, after),
            "!=": (first, after),
            ">": (after, len(stamps)),
            ">=": (first, len(stamps)),
            "<": (0, first),
            "<=": (0, after),
        }[clause.op]
        outside = clause.op == "!="

        def on_time(position: int) -> bool:
            rank = ranks[position]
            return rank is not None and (low <= rank < high) != outside

        key = (clause.field, low, high, outside)
        return Match(key, on_time, None if outside else positions[low:high])
    values = table.values(clause.field)
    if clause.op in ("is", "is not"):
        empty = clause.op == "is"
        return Match(clause, lambda position: (not values[position]) == empty)
    wanted = {value.lower() for value in clause.values}
    if clause.op in ("=", "in"):
        return Match(clause, lambda position: bool(values[position] & wanted))
    # != and NOT IN: Jira never matches issues whose field is empty.

    def excluded(position: int) -> bool:
        held = values[position]
        return bool(held) and not held & wanted

    return Match(clause, excluded)


def key_order(issue: dict[str, Any]) -> tuple[str, int]:
    project, _, number = str(issue["key"]).partition("-")
    return project.upper(), int(number) if number.isdigit() else 0


# ----- the service ----------------------------------------------------------------------------


def _completed_fields(issue: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The issue's fields with those every Jira issue has, for a hand-trimmed file that left them out:
    its project (the key's prefix, as Jira keys are made), ``created`` (``updated``'s, else the
    scenario's T) and ``updated`` (``created``'s). A JQL on them (``project = MM AND updated >= …``)
    then finds the issue, as Jira would. ``labels`` and ``fixVersions`` left out are empty and
    ``resolution`` null, as Jira answers them for a ticket without any (one written as null is
    served as written: an upstream fault to test). A fixVersion object without ``released`` or
    ``archived`` gets them false: Jira sends both on every version (``releaseDate`` only when the
    version has one)."""
    fields = dict(issue.get("fields") or {})
    for name, empty in (("labels", []), ("fixVersions", []), ("resolution", None)):
        if name not in fields:
            fields[name] = empty
    if isinstance(fields["fixVersions"], list):
        fields["fixVersions"] = [
            {"archived": False, "released": False, **v} if isinstance(v, dict) else v
            for v in fields["fixVersions"]
        ]
    if fields.get("project") is None:
        prefix = issue["key"].rsplit("-", 1)[0].upper()
        fields["project"] = {"key": prefix, "name": prefix}
    if fields.get("created") is None:
        fields["created"] = fields.get("updated") or format_jira_time(now)
    if fields.get("updated") is None:
        fields["updated"] = fields["created"]
    return fields


def format_jira_time(value: datetime) -> str:
    """``2026-11-18T09:00:00.000+0000``, as Jira writes its times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class JiraService(Service):
    name = "jira"
    prefix = "/jira"
    host_path = "/jira"

    @classmethod
    def load(cls, root: Path) -> JiraFiles:
        return load_jira(root)

    def __init__(self, data: JiraFiles | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        files = data or JiraFiles()
        # Nothing is ever written, and only an issue's top level and fields are completed: shallow copies.
        self.issues = [dict(issue) for issue in files.issues]
        now = context.clock()
        for issue in self.issues:
            issue["id"] = str(issue["id"])  # Jira's ids are strings in JSON
            issue["fields"] = _completed_fields(issue, now)
            issue.setdefault("expand", EXPAND)
        self.by_key = {issue["key"].upper(): issue for issue in self.issues}
        self.by_id = {issue["id"]: issue for issue in self.issues}
        self.remotelinks = {key: list(links) for key, links in files.remotelinks.items()}
        self.myself = files.myself
        self.zone = ZoneInfo(str(files.myself.get("timeZone") or "UTC"))
        self.table = IssueTable(self.issues)
        # Each search's issues (by its matches and ORDER BY), for the pages that follow.
        self.results = ResultCache()
        self.route("GET", r"/rest/api/3/search/jql", self.search)
        # Cloud retired the offset-paged search (both versions) in 2025.
        for method in ("GET", "POST"):
            self.route(method, r"/rest/api/[23]/search", self.removed_search)
        self.route("GET", ISSUE, self.get_issue)
        self.route("GET", ISSUE + r"/remotelink", self.get_remote_links)
        self.route("GET", r"/rest/api/[23]/myself", self.get_myself)

    # ----- errors and auth ----------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        if status == 429:
            message = message or "Rate limit exceeded."
        elif status == 404 and message is None:
            message = "null for uri: the requested resource does not exist"
        response = json_response({"errorMessages": [message or reason(status)], "errors": {}}, status)
        if status == 429:
            wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            reset = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%Y-%m-%dT%H:%MZ")
            response.set_header("Retry-After", str(wait))
            response.set_header("X-RateLimit-Limit", str(RATE_LIMIT))
            response.set_header("X-RateLimit-Remaining", "0")
            response.set_header("X-RateLimit-Reset", reset)
        return response

    def authorize(self, request: Request) -> Response | None:
        scheme, _, encoded = request.header("authorization").partition(" ")
        user = password = ""
        if scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        if not user or not password:
            response = self.error_response(
                401, "You are not authenticated. Authentication required to perform this operation."
            )
            response.set_header("WWW-Authenticate", 'Basic realm="protected-area"')
            response.set_header("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
            return response
        return None

    # ----- helpers ------------------------------------------------------------------------

    def find(self, ref: str) -> dict[str, Any] | None:
        return self.by_key.get(ref.upper()) or self.by_id.get(ref)

    @staticmethod
    def field_selection(request: Request, default: str) -> tuple[bool, set[str], set[str], bool]:
        """(all fields?, fields named, fields excluded, ids only?) from repeated ``fields`` params."""
        names = [
            part.strip()
            for value in request.query.get("fields", []) or [default]
            for part in value.split(",")
            if part.strip()
        ] or [default]
        excluded = {name[1:] for name in names if name.startswith("-")}
        named = {name for name in names if not name.startswith(("-", "*"))}
        everything = any(name in ("*all", "*navigable") for name in names) or (excluded and not named)
        ids_only = not everything and named <= {"id"}
        return everything, named - {"id", "key"}, excluded, ids_only

    def shape(
        self, issue: dict[str, Any], selection: tuple[bool, set[str], set[str], bool]
    ) -> dict[str, Any]:
        everything, named, excluded, ids_only = selection
        if ids_only:
            return {"id": issue["id"]}
        fields = {
            key: value
            for key, value in issue["fields"].items()
            if (everything or key in named) and key not in excluded
        }
        shaped = {key: value for key, value in issue.items() if key != "fields"}
        shaped["fields"] = fields
        return shaped

    @staticmethod
    def page_token(offset: int, jql: str) -> str:
        raw = f"{offset}:{zlib.crc32(jql.encode()):08x}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def token_offset(token: str, jql: str) -> int | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            offset, _, digest = raw.partition(":")
            if digest != f"{zlib.crc32(jql.encode()):08x}":
                return None
            return int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None

    def bad_query(self, message: str) -> Response:
        return json_response({"errorMessages": [message], "errors": {}}, 400)

    # ----- handlers -----------------------------------------------------------------------

    def search(self, request: Request) -> Response:
        jql = request.arg("jql") or ""
        try:
            query = parse_jql(jql)
            if not query.clauses:
                raise JqlError(UNBOUNDED)
            now = self.context.clock()
            matches = [compile_clause(clause, now, self.table, self.zone) for clause in query.clauses]
        except JqlError as exc:
            return self.bad_query(str(exc))
        selection = self.field_selection(request, "id")
        limit = MAX_RESULTS_IDS_ONLY if selection[3] else MAX_RESULTS_WITH_FIELDS
        max_results = request.int_arg("maxResults", DEFAULT_MAX_RESULTS)
        max_results = min(max(max_results, 1), limit)
        offset = 0
        token = request.arg("nextPageToken")
        if token:
            found_offset = self.token_offset(token, jql)
            if found_offset is None:
                return self.bad_query("The provided next page token is invalid or expired.")
            offset = found_offset

        key = (tuple(match.key for match in matches), query.order)
        found = self.results.get(key, lambda: self.run(matches, query.order))
        page = found[offset : offset + max_results]
        body: dict[str, Any] = {"issues": [self.shape(issue, selection) for issue in page]}
        is_last = offset + max_results >= len(found)
        if not is_last:
            body["nextPageToken"] = self.page_token(offset + max_results, jql)
        body["isLast"] = is_last
        return json_response(body)

    def run(self, matches: list[Match], order: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
        """The issues every match keeps, in the ORDER BY's order."""
        # Only the narrowest time slice is tested, in file order: ties keep that order below.
        slices = [match.candidates for match in matches if match.candidates is not None]
        positions = sorted(min(slices, key=len)) if slices else range(len(self.issues))
        tests = [match.test for match in matches]
        found = [position for position in positions if all(test(position) for test in tests)]
        # Stable sorts from the last key to the first give a multi-key ORDER BY; the default
        # (no ORDER BY) is newest key first.
        keys = self.table.keys()
        found.sort(key=keys.__getitem__, reverse=True)
        for name, descending in reversed(order):
            if name == "key":
                found.sort(key=keys.__getitem__, reverse=descending)
            else:
                # Jira puts issues without the date last whichever the direction.
                times = self.table.times(name)
                dated = [position for position in found if times[position] is not None]
                undated = [position for position in found if times[position] is None]
                dated.sort(key=times.__getitem__, reverse=descending)
                found = dated + undated
        return [self.issues[position] for position in found]

    def removed_search(self, request: Request) -> Response:
        return json_response({"errorMessages": [REMOVED_SEARCH], "errors": {}}, 410)

    def get_issue(self, request: Request) -> Response:
        issue = self.find(request.params["key"])
        if issue is None:
            return self.error_response(404, NOT_FOUND)
        return json_response(self.shape(issue, self.field_selection(request, "*all")))

    def get_remote_links(self, request: Request) -> Response:
        issue = self.find(request.params["key"])
        if issue is None:
            return self.error_response(404, NOT_FOUND)
        return json_response(self.remotelinks.get(issue["key"].upper(), []))

    def get_myself(self, request: Request) -> Response:
        return json_response({"accountId": "sandbox-api-user", "active": True, **self.myself})
