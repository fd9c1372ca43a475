"""UserVoice's v2 admin API under ``/uservoice/api/v2``: suggestions, statuses, status updates.

Files: ``uservoice/suggestions.json``, ``statuses.json``, ``users.json``, ``comments.json``,
``categories.json`` and an optional ``status_updates.json``. Records refer to each other by id
under ``links`` (``links.status``, ``links.category``, ``links.created_by``,
``links.suggestion``), and ``includes=`` adds the referenced records under ``linked``.

Auth: ``POST /oauth/token`` (client credentials as a form, JSON or HTTP Basic) answers the
token ``sandbox-token-<client_id>``, so a recorded request's ``Authorization`` tells which
client made it; every other call needs ``Authorization: Bearer sandbox-token-<something>``
(a pre-made token kept in a connection works if it has that shape).

``POST /admin/status_updates`` is applied to the state: the suggestion gets the new status
(and is closed or reopened with it), later ``GET /admin/status_updates`` lists the update,
stamped with the scenario's clock. The answer names the writing client in
``X-Sandbox-Client-Id`` (outbox entries have a fixed shape, so it cannot go there).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from community_sandbox.indexing import ResultCache
from community_sandbox.loading import (
    ItemChecker,
    format_time,
    parse_time,
    read_json_array,
)
from community_sandbox.routing import (
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    reason,
)

TOKEN_PREFIX = "sandbox-token-"
PORTAL = "https://mattermost.uservoice.com"
DEFAULT_FORUM = "306457-general"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
RATE_LIMIT = 1000  # per minute; the real limit depends on the plan
DEFAULT_RETRY_AFTER = 10
FIRST_STATUS_UPDATE_ID = 90_000_001
SORTABLE = ("created_at", "updated_at", "id", "supporters_count")
COLLECTIONS = ("suggestions", "statuses", "users", "comments", "categories", "labels", "status_updates")
# Collections a caller may narrow to some suggestions (``suggestion=1,2``).
BY_SUGGESTION = ("comments", "status_updates")
# includes= names -> (the link key on a record, the collection it points into).
INCLUDES = {
    "status": ("status", "statuses"),
    "statuses": ("status", "statuses"),
    "category": ("category", "categories"),
    "categories": ("category", "categories"),
    "created_by": ("created_by", "users"),
    "user": ("created_by", "users"),
    "users": ("created_by", "users"),
    "suggestion": ("suggestion", "suggestions"),
    "suggestions": ("suggestion", "suggestions"),
}
ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "record_not_found",
    422: "record_invalid",
    429: "rate_limited",
}


@dataclass
class UserVoiceFiles:
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    # A suggestion's ``links.labels`` holds label ids, as upstream; ``/admin/labels`` names them.
    labels: list[dict[str, Any]] = field(default_factory=list)
    status_updates: list[dict[str, Any]] = field(default_factory=list)


def _read(folder: Path, root: Path, name: str, *times: str) -> tuple[list[dict[str, Any]], ItemChecker]:
    """Read ``name``.json, check every item has an integer ``id``, a ``links`` object and ``times``."""
    path = folder / f"{name}.json"
    # A collection copied whole from the API: {"suggestions": [...], "pagination": {...}}.
    items = read_json_array(path, root, ((name,),))
    check = ItemChecker(path, root)
    for index, item in enumerate(items):
        check.integer(item, index, "id")
        if not isinstance(item.get("links", {}), dict):
            raise check.fail(index, 'has "links" that is not an object')
        for key in times:
            check.time(item, index, key, required=key == "created_at")
    check.unique(items, "id")
    return items, check


def load_uservoice(root: Path) -> UserVoiceFiles:
    folder = root / "uservoice"
    files = UserVoiceFiles()
    files.suggestions, _ = _read(folder, root, "suggestions", "created_at", "updated_at")
    files.statuses, _ = _read(folder, root, "statuses")
    files.users, _ = _read(folder, root, "users")
    files.categories, _ = _read(folder, root, "categories")
    files.labels, _ = _read(folder, root, "labels")
    suggestion_ids = {s["id"] for s in files.suggestions}
    for name in ("comments", "status_updates"):
        items, check = _read(folder, root, name, "created_at", "updated_at")
        for index, item in enumerate(items):
            target = (item.get("links") or {}).get("suggestion")
            if target not in suggestion_ids:
                raise check.fail(index, f"points at suggestion {target!r}, which is not in suggestions.json")
        setattr(files, name, items)
    return files


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _stamp(record: dict[str, Any]) -> datetime | None:
    """The time ``updated_after``/``updated_before`` compare: the update's, else the creation's."""
    stamp = record.get("updated_at") or record.get("created_at")
    return parse_time(stamp) if stamp else None


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    """A record the service may change: a status update rewrites a suggestion's fields and links."""
    copied = dict(record)
    if isinstance(copied.get("links"), dict):
        copied["links"] = dict(copied["links"])
    return copied


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"status_update[links][status]": "7"}`` -> ``{"status_update": {"links": {"status": "7"}}}``."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.replace("]", "").split("[")
        node = nested
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return nested


def _default_urls(suggestion: dict[str, Any]) -> None:
    """The portal and admin links UserVoice sends with every suggestion, for a file that left them out
    (a hand-trimmed copy): on the demo's portal, in the suggestion's forum (the demo's by default)."""
    sid = suggestion["id"]
    forum = suggestion["links"].get("forum") or DEFAULT_FORUM
    slug = re.sub(r"[^a-z0-9]+", "-", str(suggestion.get("title") or "").lower()).strip("-")
    if "portal_url" not in suggestion:  # a null one is served as written: an upstream fault to test
        suggestion["portal_url"] = f"{PORTAL}/forums/{forum}/suggestions/{sid}" + (f"-{slug}" if slug else "")
    if "admin_url" not in suggestion:
        suggestion["admin_url"] = f"{PORTAL}/admin/v3/suggestions/{sid}"


class UserVoiceService(Service):
    name = "uservoice"
    prefix = "/uservoice/api/v2"
    host_path = "/uservoice"

    def caller(self, request: Request) -> str:
        # Tokens name their client (sandbox-token-<client_id>), so the log shows which connection wrote.
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme.lower() == "bearer" and token.startswith(TOKEN_PREFIX):
            return token[len(TOKEN_PREFIX) :]
        return super().caller(request)

    def records_write(self, request: Request) -> bool:
        # Obtaining a token changes nothing upstream (and its body holds the client secret).
        return super().records_write(request) and not request.path.endswith("/oauth/token")

    @classmethod
    def load(cls, root: Path) -> UserVoiceFiles:
        return load_uservoice(root)

    def __init__(self, data: UserVoiceFiles | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        files = data or UserVoiceFiles()
        self.collections: dict[str, list[dict[str, Any]]] = {
            name: [_copy(record) for record in getattr(files, name)] for name in COLLECTIONS
        }
        for suggestion in self.collections["suggestions"]:
            suggestion.setdefault("links", {})
            _default_urls(suggestion)
            if suggestion.get("updated_at") is None:
                suggestion["updated_at"] = suggestion["created_at"]
        self.collections["statuses"].sort(key=lambda s: (s.get("position", 0), s["id"]))
        # Indexes (records by id, their place in the collection, comments and status updates by
        # suggestion), kept up to date by the one write; ids are unique in each collection.
        self.by_id: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        self.position: dict[str, dict[Any, int]] = {name: {} for name in COLLECTIONS}
        self.by_suggestion: dict[str, dict[Any, list[dict[str, Any]]]] = {name: {} for name in BY_SUGGESTION}
        for name, records in self.collections.items():
            for record in records:
                self._index(name, record)
        # Each whole-collection query's records, kept and sorted, and the records' parsed times:
        # a status update changes a suggestion's status and updated_at, so it clears both.
        self.results = ResultCache()
        self._per_record: dict[tuple[str, str], dict[Any, Any]] = {}
        self.used = 0
        self.reset_at = int(time.time()) + 60
        self.route("POST", r"/oauth/token", self.issue_token)
        self.route("GET", r"/admin/suggestions", self.list_suggestions)
        self.route("GET", r"/admin/suggestions/(?P<id>\d+)", self.get_suggestion)
        self.route("GET", r"/admin/statuses", lambda request: self.listing(request, "statuses"))
        self.route("GET", r"/admin/users", lambda request: self.listing(request, "users"))
        self.route("GET", r"/admin/categories", lambda request: self.listing(request, "categories"))
        self.route("GET", r"/admin/labels", lambda request: self.listing(request, "labels"))
        self.route("GET", r"/admin/comments", lambda request: self.listing(request, "comments"))
        self.route("GET", r"/admin/status_updates", lambda request: self.listing(request, "status_updates"))
        self.route("POST", r"/admin/status_updates", self.create_status_update)

    # ----- errors, auth and headers -------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        body = {
            "errors": {"type": ERROR_TYPES.get(status, "server_error"), "message": message or reason(status)}
        }
        response = json_response(body, status)
        if status == 429:
            wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            response.set_header("Retry-After", str(wait))
            response.set_header("X-Rate-Limit-Remaining", "0")
            response.set_header("X-Rate-Limit-Reset", str(int(time.time()) + wait))
        return response

    def invalid(self, errors: dict[str, list[str]], status: int = 422) -> Response:
        return json_response({"errors": errors}, status)

    def client_id(self, request: Request) -> str | None:
        scheme, _, token = request.header("authorization").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or token == TOKEN_PREFIX:
            return None
        return token[len(TOKEN_PREFIX) :]

    def authorize(self, request: Request) -> Response | None:
        if request.path == f"{self.prefix}/oauth/token":
            return None
        if self.client_id(request) is None:
            return self.error_response(401, "Invalid or missing access token")
        return None

    def finish(self, request: Request, response: Response) -> Response:
        self.used += 1
        response.set_header("X-Rate-Limit-Limit", str(RATE_LIMIT))
        if response.status != 429:
            response.set_header("X-Rate-Limit-Remaining", str(max(RATE_LIMIT - self.used, 0)))
            response.set_header("X-Rate-Limit-Reset", str(self.reset_at))
        return response

    # ----- token --------------------------------------------------------------------------

    def issue_token(self, request: Request) -> Response:
        fields: dict[str, Any] = {}
        if request.is_json:
            try:
                payload = request.json()
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                fields = payload
        else:
            fields = {key: values[-1] for key, values in request.form().items()}
        scheme, _, encoded = request.header("authorization").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
            fields.setdefault("client_id", unquote(user))
            fields.setdefault("client_secret", unquote(password))
        grant = fields.get("grant_type") or "client_credentials"
        if grant != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        if not client_id or not secret:
            return json_response(
                {"error": "invalid_client", "error_description": "client_id and client_secret are required"},
                401,
            )
        return json_response({"access_token": f"{TOKEN_PREFIX}{client_id}", "token_type": "bearer"})

    # ----- indexes ------------------------------------------------------------------------

    def _index(self, collection: str, record: dict[str, Any]) -> None:
        """Add a record (the last of its collection) to the indexes."""
        self.by_id[collection].setdefault(record["id"], record)
        self.position[collection].setdefault(record["id"], len(self.position[collection]))
        if collection in BY_SUGGESTION:
            target = record["links"].get("suggestion")
            self.by_suggestion[collection].setdefault(target, []).append(record)

    def in_order(self, collection: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records of ``collection`` gathered through an index, back in the collection's order."""
        position = self.position[collection]
        return sorted(records, key=lambda record: position[record["id"]])

    def per_record(
        self, collection: str, name: str, value: Callable[[dict[str, Any]], Any]
    ) -> dict[Any, Any]:
        """``value`` of each record by id, named ``name``: times parsed once, not per comparison."""
        if (collection, name) not in self._per_record:
            self._per_record[collection, name] = {
                record["id"]: value(record) for record in self.collections[collection]
            }
        return self._per_record[collection, name]

    # ----- listing ------------------------------------------------------------------------

    def linked(self, request: Request, records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The records ``includes=`` asks for, limited (as upstream) to those this page links to."""
        wanted = [name.strip() for name in (request.arg("includes") or "").split(",") if name.strip()]
        linked: dict[str, list[dict[str, Any]]] = {}
        for name in wanted:
            if name not in INCLUDES:
                continue
            link, collection = INCLUDES[name]
            ids = {(record.get("links") or {}).get(link) for record in records} - {None}
            by_id = self.by_id[collection]
            linked[collection] = self.in_order(collection, [by_id[i] for i in ids if i in by_id])
        return linked

    def listing(self, request: Request, collection: str) -> Response:
        # Filters a caller may combine: by suggestion (comments, status updates) and by time.
        suggestion = (
            request.arg("suggestion") or request.arg("suggestion_id") or request.arg("suggestion_ids")
        )
        wanted: frozenset[int] | None = None
        if suggestion and collection in BY_SUGGESTION:
            try:
                wanted = frozenset(int(part) for part in suggestion.split(",") if part.strip())
            except ValueError:
                return self.invalid({"suggestion": ["is invalid"]}, 400)
        bounds: list[tuple[bool, datetime]] = []  # (after?, bound)
        for name, after in (("updated_after", True), ("updated_before", False)):
            value = request.arg(name)
            if not value:
                continue
            try:
                bounds.append((after, parse_time(value)))
            except ValueError:
                return self.invalid({name: ["is not a valid time"]}, 400)
        sort = request.arg("sort")
        if sort and sort.lstrip("-") not in SORTABLE:
            return self.invalid({"sort": ["is invalid"]}, 400)
        build = self.finder(collection, wanted, bounds, sort)
        # A few suggestions' records are gathered through the index each time; whole-collection
        # lists are kept until the next write.
        found = build() if wanted is not None else self.results.get((collection, tuple(bounds), sort), build)

        per_page = request.int_arg("per_page", DEFAULT_PER_PAGE)
        per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)
        page = max(request.int_arg("page", 1), 1)
        chunk = found[(page - 1) * per_page : page * per_page]
        body: dict[str, Any] = {
            collection: chunk,
            "pagination": {
                "page": page,
                "per_page": per_page,
                "total_pages": math.ceil(len(found) / per_page),
                "total_records": len(found),
            },
        }
        linked = self.linked(request, chunk)
        if linked:
            body["linked"] = linked
        return json_response(body)

    def finder(
        self,
        collection: str,
        wanted: frozenset[int] | None,
        bounds: list[tuple[bool, datetime]],
        sort: str | None,
    ) -> Callable[[], list[dict[str, Any]]]:
        """What a listing holds: the collection (or the wanted suggestions' records), kept and sorted."""

        def build() -> list[dict[str, Any]]:
            if wanted is None:
                found = list(self.collections[collection])
            else:
                index = self.by_suggestion[collection]
                found = self.in_order(collection, [r for w in wanted for r in index.get(w, ())])
            if bounds:
                stamps = self.per_record(collection, "stamp", _stamp)
                for after, bound in bounds:
                    # A record without a time is never kept.
                    found = [
                        record
                        for record in found
                        if (stamp := stamps[record["id"]]) is not None
                        and (stamp > bound if after else stamp < bound)
                    ]
            if sort:
                key = sort.lstrip("-")
                values = self.per_record(collection, key, lambda record: self._sort_value(record, key))
                found.sort(
                    key=lambda record: (values[record["id"]], record["id"]), reverse=sort.startswith("-")
                )
            elif collection in ("suggestions", "comments", "status_updates"):
                values = self.per_record(
                    collection, "created_at", lambda record: self._sort_value(record, "created_at")
                )
                found.sort(key=lambda record: (values[record["id"]], record["id"]), reverse=True)
            return found

        return build

    @staticmethod
    def _sort_value(item: dict[str, Any], key: str) -> Any:
        value = item.get(key)
        if key.endswith("_at"):
            return parse_time(value) if value else datetime.min.replace(tzinfo=UTC)
        return value or 0

    # ----- handlers -----------------------------------------------------------------------

    def find(self, collection: str, record_id: Any) -> dict[str, Any] | None:
        try:
            wanted = int(record_id)
        except (TypeError, ValueError):
            return None
        return self.by_id[collection].get(wanted)

    def list_suggestions(self, request: Request) -> Response:
        return self.listing(request, "suggestions")

    def get_suggestion(self, request: Request) -> Response:
        suggestion = self.find("suggestions", request.params["id"])
        if suggestion is None:
            return self.error_response(404, f"Couldn't find Suggestion with 'id'={request.params['id']}")
        body: dict[str, Any] = {"suggestions": [suggestion]}
        linked = self.linked(request, [suggestion])
        if linked:
            body["linked"] = linked
        return json_response(body)

    def status_update_fields(self, request: Request) -> dict[str, Any] | Response:
        """The update's fields from any of the shapes clients send (form, nested or flat JSON)."""
        if request.is_json:
            try:
                payload = request.json()
            except ValueError:
                return self.error_response(400, "The request body is not valid JSON")
            if not isinstance(payload, dict):
                return self.error_response(400, "The request body must be a JSON object")
            payload = _nest(payload)
        else:
            payload = _nest({key: values[-1] for key, values in request.form().items()})
        inner = payload.get("status_update", payload.get("status_updates"))
        if isinstance(inner, list):
            inner = inner[0] if inner else {}
        fields = dict(inner) if isinstance(inner, dict) else dict(payload)
        # notify_supporters may sit beside the wrapper rather than inside it.
        fields.setdefault("notify_supporters", payload.get("notify_supporters", False))
        return fields

    def create_status_update(self, request: Request) -> Response:
        fields = self.status_update_fields(request)
        if isinstance(fields, Response):
            return fields
        links = fields.get("links") if isinstance(fields.get("links"), dict) else {}
        suggestion_ref = links.get("suggestion", fields.get("suggestion"))
        status_ref = links.get("status", fields.get("status"))
        if suggestion_ref in (None, ""):
            return self.invalid({"suggestion": ["can't be blank"]})
        suggestion = self.find("suggestions", suggestion_ref)
        if suggestion is None:
            return self.invalid({"suggestion": [f"Couldn't find Suggestion with 'id'={suggestion_ref}"]}, 404)
        if status_ref in (None, ""):
            return self.invalid({"status": ["can't be blank"]})
        status = self.find("statuses", status_ref)
        if status is None:
            return self.invalid({"status": [f"is invalid: no status with id {status_ref}"]})
        body = fields.get("body") or ""
        if not isinstance(body, str):
            return self.invalid({"body": ["must be text"]})

        stamp = format_time(self.context.clock())
        updates = self.collections["status_updates"]
        record = {
            "id": max((u["id"] for u in updates), default=FIRST_STATUS_UPDATE_ID - 1) + 1,
            "body": body,
            "body_mime_type": "text/plain",
            "notify_supporters": _bool(fields.get("notify_supporters")),
            "created_at": stamp,
            "updated_at": stamp,
            "links": {"suggestion": suggestion["id"], "status": status["id"], "created_by": None},
        }
        updates.append(record)
        self._index("status_updates", record)
        suggestion["links"]["status"] = status["id"]
        suggestion["updated_at"] = stamp
        # A closed status (Completed, Declined) closes the suggestion; an open one reopens it.
        if status.get("is_open", True):
            if suggestion.get("state") == "closed":
                suggestion["state"] = "approved"
                suggestion["closed_at"] = None
        else:
            suggestion["state"] = "closed"
            suggestion["closed_at"] = stamp
        # The suggestion's updated_at moved, and there is one more status update to list.
        self.results.clear()
        self._per_record.clear()
        client = self.client_id(request) or ""
        return json_response({"status_updates": [record]}, 200, {"X-Sandbox-Client-Id": client})
