"""The pieces every emulated service is built from: request, response, route and Service.

A service owns a URL prefix (``/api/v3``, ``/discourse``, ``/hooks``), registers
``(method, regex, handler)`` routes relative to that prefix, and says how its errors look, so
404s and injected faults come back in the upstream's own error format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

JSON_TYPE = "application/json; charset=utf-8"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Request:
    method: str
    path: str  # as sent (still percent-encoded), without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # the route's named groups
    query_string: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter (what most web frameworks do with repeats)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.arg(name) or default)
        except ValueError:
            return default

    @property
    def is_json(self) -> bool:
        return "json" in self.header("content-type").lower()

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def recorded_body(self) -> Any:
        """The body as the outbox stores it: parsed JSON when it is JSON, else text."""
        text = self.body.decode("utf-8", errors="replace")
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    gzip: bool = False  # some upstreams (Stack Exchange) always compress

    def set_header(self, name: str, value: str) -> None:
        # Replace case-insensitively so a service's finishing touches never duplicate a header.
        for existing in [key for key in self.headers if key.lower() == name.lower()]:
            del self.headers[existing]
        self.headers[name] = value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


def text_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}, text.encode())


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]  # full-matched against the path after the service's prefix
    handler: Handler


@dataclass(frozen=True)
class ServiceContext:
    """What a service needs from the server: its own address and the scenario's clock."""

    base_url: str
    clock: Callable[[], datetime]


class Service:
    """One emulated upstream.

    To add one (gitlab, stackexchange, ...): a module with a subclass that sets ``name`` (the
    scenario folder and the ``service`` of faults and log entries) and ``prefix``, reads its files
    in ``load`` (use ``loading.read_json_array`` / ``ItemChecker``), registers routes in
    ``__init__`` with ``self.route(method, regex, handler)``, overrides ``error_response``; then
    one line in ``registry.SERVICES``. Handlers run under the server's lock, so they may mutate
    state freely; writes answered 2xx are recorded in the outbox by the server.
    """

    name: ClassVar[str]
    prefix: ClassVar[str]
    # The start of ``prefix`` that stands for the upstream's host (the sandbox serves every upstream
    # on one address) and is no part of the upstream's own paths: ``/discourse``, or GitHub's
    # ``/api/v3`` (github.com's paths start at ``/repos``). A fault's ``path`` is matched against the
    # request's path with and without it, so a scenario may write the path the upstream documents.
    host_path: ClassVar[str] = ""

    @classmethod
    def load(cls, root: Path) -> Any:
        """Read and check this service's files in a scenario folder (raise ScenarioError)."""
        return None

    def __init__(self, data: Any, context: ServiceContext) -> None:
        self.context = context
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method.upper(), re.compile(pattern), handler))

    def own_paths(self, path: str) -> tuple[str, ...]:
        """The request's path as the sandbox serves it and, without ``host_path``, as the upstream does."""
        if self.host_path and path.startswith(self.host_path + "/"):
            return (path, path[len(self.host_path) :])
        return (path,)

    def dispatch(self, request: Request) -> Response:
        subpath = request.path[len(self.prefix) :] or "/"
        for route in self.routes:
            if route.method != request.method:
                continue
            match = route.pattern.fullmatch(subpath)
            if match:
                request.params = {k: v for k, v in match.groupdict().items() if v is not None}
                return route.handler(request)
        return self.error_response(404)

    def caller(self, request: Request) -> str:
        """Who made the request, without its secret: the Basic-auth user, or "" when unknown."""
        import base64
        import binascii

        scheme, _, value = request.header("authorization").partition(" ")
        if scheme.lower() != "basic":
            return ""
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""

    def records_write(self, request: Request) -> bool:
        """Whether an accepted request changes upstream state and so belongs in the outbox."""
        return request.method in WRITE_METHODS

    def authorize(self, request: Request) -> Response | None:
        """An error response when the request lacks the credentials the upstream demands."""
        return None

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        """An error in this upstream's own format (overridden per service).

        ``retry_after`` is set for injected rate-limit faults, for upstreams that also say it in the body.
        """
        return json_response({"error": message or reason(status)}, status)

    def finish(self, request: Request, response: Response) -> Response:
        """Headers the upstream puts on every answer, errors and faults included."""
        return response
