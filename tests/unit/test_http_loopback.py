"""The HTTP layer (``sources/http.py``) against scripted servers on 127.0.0.1: reads.

``Loopback`` (also used by the other ``test_http_*`` files) answers each request with the next
scripted action (the last one repeats) and records what it received. Every call below is bounded
by tiny timeouts and attempts.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

from community_monitoring.sources.http import (
    ApiClient,
    HttpPolicy,
    InvalidResponseError,
    RedirectRefusedError,
    UpstreamError,
)

FAST = HttpPolicy(connect_timeout=1.0, read_timeout=0.3, max_attempts=3, base_delay=0.0, max_wait=5.0)


# ----- the scripted server ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = ""  # str or bytes (sent as is) or anything else (sent as JSON)
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), self.content_type or "application/json"


@dataclass(frozen=True)
class Stall:
    """Read the request, answer nothing for ``seconds``, then close."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """Read the whole request (so it counts as received), then reset the connection."""


@dataclass(frozen=True)
class Trickle:
    """Answer 200 with a JSON body of ``size`` bytes, one byte every ``interval`` seconds."""

    interval: float
    size: int


Action = Reply | Stall | Reset | Trickle


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Loopback:
    """An HTTP server on 127.0.0.1 answering with scripted actions; the last action repeats."""

    def __init__(self, *actions: Action) -> None:
        self.actions = list(actions) or [Reply()]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, request: Received) -> Action:
        with self._lock:
            self.received.append(request)
            index = min(len(self.received), len(self.actions)) - 1
            return self.actions[index]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                received = Received(self.command, self.path, dict(self.headers.items()), body)
                action = loopback._next(received)
                if isinstance(action, Stall):
                    loopback._stop.wait(action.seconds)
                    self.close_connection = True
                elif isinstance(action, Trickle):
                    payload = json.dumps({"items": ["x" * action.size]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.flush()
                    for byte in payload:
                        if loopback._stop.wait(action.interval):
                            break
                        with contextlib.suppress(OSError):  # the client gave up
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    self.close_connection = True
                elif isinstance(action, Reset):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                else:
                    payload, content_type = action.payload()
                    self.send_response(action.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in action.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)

            def finish(self) -> None:
                with contextlib.suppress(OSError):  # the connection was reset on purpose
                    super().finish()

            do_GET = do_POST = do_PUT = _serve

        return Handler


def closed_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, host: str, **fields: Any) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", "host": host, **fields})
    )


# ----- reads: what a 200 must be ------------------------------------------------------------------


class ItemsPage(BaseModel):
    items: list[Any]


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client(monkeypatch: pytest.MonkeyPatch, server: Loopback, sleeps: list[float], **extra: Any) -> ApiClient:
    http_connection(monkeypatch, "loop", server.url, extra={"Api-Key": "key-0123456789", **extra})
    return ApiClient("loop", "forum", policy=FAST, sleep=sleeps.append)


HTML = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_host_written_with_a_trailing_slash_reads_the_endpoint_itself(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], suffix: str
) -> None:
    """ "https://forum.example.com/" joined "/latest.json" as "//latest.json", which a server
    redirects or does not know."""
    import requests

    urls: list[str] = []
    send = requests.Session.request
    monkeypatch.setattr(
        requests.Session,
        "request",
        lambda self, method, url, **kw: urls.append(url) or send(self, method, url, **kw),
    )
    with Loopback(Reply(200, {"items": []})) as server:
        http_connection(monkeypatch, "loop", server.url + suffix)
        ApiClient("loop", "forum", policy=FAST, sleep=sleeps.append).get_json("/latest.json")
    # (Python's own server folds "//" into "/": the URL sent is what tells.)
    assert urls == [f"{server.url}/latest.json"]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(200, HTML, "text/html"), r"Content-Type is text/html, not JSON; body starts: '<html>"),
        (Reply(200, '{"items": [1, 2', "application/json"), r"body is not valid JSON"),
        (Reply(200, '{"items": []}', "text/plain"), r"Content-Type is text/plain, not JSON"),
        (Reply(200, "", "application/json"), r"body is not valid JSON"),
        (Reply(200, {}), r"not the page the API promises: field 'items' is missing"),
        (
            Reply(200, {"items": "none"}),
            r"not the page the API promises: field 'items': Input should be a valid list",
        ),
        (Reply(200, []), r"not the page the API promises"),
    ],
    ids=[
        "html",
        "truncated-json",
        "wrong-content-type",
        "empty",
        "empty-object",
        "items-not-a-list",
        "array",
    ],
)
def test_an_answer_that_is_not_the_promised_page_is_retried_then_raised(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], reply: Reply, problem: str
) -> None:
    with Loopback(reply) as server:
        api = client(monkeypatch, server, sleeps)
        with pytest.raises(
            InvalidResponseError, match=r"^forum: GET /latest.json answered 200: " + problem
        ) as err:
            api.get_page("/latest.json", ItemsPage, {"page": 0})
        assert len(server.received) == FAST.max_attempts  # bounded retries, then the error
    assert len(sleeps) == FAST.max_attempts - 1
    assert len(err.value.detail) < 400  # at most 200 characters of the body


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("br", b"\x1b\x0e\x00\xf8\xa5@\x02\xa2\x1e\x0f\x0e\x02"),
        ("zstd", b"(\xb5/\xfd\x00Xa\x00\x00" + b'{"items": [1, 2]}'),
        ("compress", b"\x1f\x9d\x90{"),
    ],
)
def test_an_answer_in_a_content_coding_that_was_not_asked_for_is_named(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], coding: str, body: bytes
) -> None:
    """The request asks for gzip or deflate only. A CDN or proxy that answers in brotli or zstd all
    the same gave 'body is not valid JSON' and a line of binary: the coding is what to name."""
    reply = Reply(200, body, "application/json", {"Content-Encoding": coding})
    with Loopback(reply) as server:
        api = client(monkeypatch, server, sleeps)
        with pytest.raises(InvalidResponseError) as err:
            api.get_page("/latest.json", ItemsPage)
        assert server.received[0].headers["Accept-Encoding"] == "gzip, deflate"
    assert err.value.detail == (
        f"the answer is compressed as {coding!r} (its Content-Encoding), which was not asked for "
        "(Accept-Encoding: gzip, deflate) and cannot be unpacked here: a proxy or CDN in front of "
        "the service ignoring Accept-Encoding?"
    )


@pytest.mark.parametrize("coding", ["UTF-8", "none", "binary"])
def test_a_json_answer_that_reads_is_used_whatever_unknown_coding_it_names(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], coding: str
) -> None:
    """urllib3 passes an answer in a coding it does not know through as it came: a server that names
    a bogus one ("Content-Encoding: UTF-8", "none") over a plain JSON body was read, and still is.
    Only an answer that does not read is named for its coding."""
    payload = json.dumps({"items": [1, 2]}).encode()
    reply = Reply(200, payload, "application/json", {"Content-Encoding": coding})
    with Loopback(reply) as server:
        assert client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage).items == [1, 2]


def test_deflate_raw_or_zlib_wrapped_still_reads(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    payload = json.dumps({"items": [1, 2]}).encode()
    raw = zlib.compressobj(wbits=-15)
    for body in (zlib.compress(payload), raw.compress(payload) + raw.flush()):
        with Loopback(Reply(200, body, "application/json", {"Content-Encoding": "deflate"})) as server:
            assert client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage).items == [1, 2]


def test_two_different_content_lengths_are_named(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """RFC 9112 §6.3: an answer with differing Content-Length values cannot be framed (a request
    smuggling sign). It failed as 'connection failed (InvalidHeader)'."""
    reply = Reply(200, {"items": [1, 2]}, headers={"Content-Length": "3"})
    with Loopback(reply) as server, pytest.raises(UpstreamError) as err:
        client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage)
    assert err.value.detail == (
        "the answer's headers are not valid HTTP: Content-Length contained multiple unmatching values (17, 3)"
    )


@pytest.mark.parametrize("status", [304, 300, 302])
def test_a_3xx_without_a_location_is_not_called_a_redirect_to_the_same_path(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], status: int
) -> None:
    """Nothing conditional is asked (no If-None-Match), so a 304 comes from a cache or proxy that
    is wrong; it and a 3xx with no Location read 'redirected to /latest.json on its own host'."""
    with Loopback(Reply(status, b"")) as server, pytest.raises(RedirectRefusedError) as err:
        client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage)
    wanted = {
        304: "304 Not Modified, though nothing conditional was asked (a cache or proxy between): no page to read",
        300: "a redirect with no Location: not followed (check the connection's URL and path)",
        302: "a redirect with no Location: not followed (check the connection's URL and path)",
    }[status]
    assert err.value.detail == wanted


def test_a_page_that_recovers_is_used(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    with Loopback(Reply(200, HTML, "text/html"), Reply(200, {"items": [1, 2]})) as server:
        page = client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage)
    assert page.items == [1, 2]


def test_get_json_still_demands_json(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    with (
        Loopback(Reply(200, HTML, "text/html")) as server,
        pytest.raises(InvalidResponseError, match="not JSON"),
    ):
        client(monkeypatch, server, sleeps).get_json("/anything.json")


def test_error_text_is_capped_and_never_shows_a_credential(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    echo = "bad key key-0123456789 " + "y" * 1000
    with Loopback(Reply(403, echo)) as server, pytest.raises(UpstreamError) as err:
        client(monkeypatch, server, sleeps).get_json("/x.json")
    assert "key-0123456789" not in str(err.value)
    assert "bad key ***" in str(err.value)
    assert len(err.value.detail) <= 200
    assert len(server.received) == 1  # a 403 without a rate limit is not retried


def test_an_echoed_basic_credential_is_never_shown(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """HTTP Basic auth (Jira's email and API token) is encoded per request, never a session header:
    an error page that echoes the request's headers showed the encoded credential in alerts and logs."""
    encoded = base64.b64encode(b"bot@example.com:api-token-0123").decode()
    echo = f"Internal Server Error. Debug: headers {{Authorization: Basic {encoded}}}"
    with Loopback(Reply(500, echo)) as server:
        http_connection(monkeypatch, "basic", server.url, login="bot@example.com", password="api-token-0123")
        api = ApiClient("basic", "jira", policy=FAST, sleep=sleeps.append)
        with pytest.raises(UpstreamError) as err:
            api.get_json("/search")
    assert server.received[0].headers["Authorization"] == f"Basic {encoded}"  # what the server saw
    assert encoded not in str(err.value)
    assert "Authorization: Basic ***" in str(err.value)


# ----- timeouts and retries -----------------------------------------------------------------------


def test_a_stalled_answer_fails_within_the_read_timeout_times_the_attempts(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    with Loopback(Stall(30)) as server:
        api = client(monkeypatch, server, sleeps)
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"^forum: GET /slow.json failed: read timeout"):
            api.get_json("/slow.json")
        elapsed = time.monotonic() - started
        assert len(server.received) == FAST.max_attempts
    assert elapsed < FAST.read_timeout * FAST.max_attempts + 2.0


def test_an_answer_trickling_in_fails_within_the_body_timeout_times_the_attempts(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Each byte comes well within the read timeout, so only a deadline on the whole body ends it."""
    with Loopback(Trickle(interval=0.05, size=400)) as server:
        http_connection(monkeypatch, "loop", server.url, extra={"Api-Key": "key-0123456789"})
        policy = HttpPolicy(
            connect_timeout=1.0,
            read_timeout=0.3,
            body_timeout=0.5,
            max_attempts=2,
            base_delay=0.0,
            max_wait=5.0,
        )
        api = ApiClient("loop", "forum", policy=policy, sleep=sleeps.append)
        started = time.monotonic()
        with pytest.raises(
            UpstreamError, match=r"^forum: GET /slow.json failed: .*still arriving after 0.5s"
        ):
            api.get_json("/slow.json")
        elapsed = time.monotonic() - started
        assert len(server.received) == policy.max_attempts
    assert elapsed < (policy.body_timeout + policy.read_timeout) * policy.max_attempts + 2.0


@pytest.mark.parametrize("service", ["gitlab", "github"])
def test_python_gitlab_and_pygithub_answers_have_the_body_deadline_too(
    monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    """Both clients read through sessions of their own (PyGithub opens one per connection)."""
    import gitlab
    from github.Requester import Requester

    from community_monitoring.sources.github import GithubApi, make_github_hook_class
    from community_monitoring.sources.gitlab import GitlabApi

    policy = HttpPolicy(
        connect_timeout=1.0, read_timeout=0.3, body_timeout=0.5, max_attempts=2, base_delay=0.0, max_wait=5.0
    )
    with Loopback(Trickle(interval=0.05, size=400)) as server:
        try:
            if service == "gitlab":
                api: Any = GitlabApi(gitlab.Gitlab(server.url, private_token="t0ken-0123456789"), policy)
            else:
                conn = {"conn_type": "github", "host": server.url, "password": "t0ken-0123456789"}
                monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
                api = GithubApi(make_github_hook_class(policy)().get_conn(), policy, sleep=lambda _: None)
            with pytest.raises(
                UpstreamError, match=rf"^{service}: GET /repos/o/r/issues failed: .*still arriving"
            ):
                api.get_list("/repos/o/r/issues", {})
        finally:
            Requester.resetConnectionClasses()
        assert len(server.received) == policy.max_attempts


def test_a_uservoice_token_answer_trickling_in_fails_within_the_body_timeout() -> None:
    """The token is asked for outside the API's session: it needs the deadline of its own."""
    from community_monitoring.sources.uservoice import UserVoiceTokenAuth

    policy = HttpPolicy(
        connect_timeout=1.0, read_timeout=0.3, body_timeout=0.5, max_attempts=2, base_delay=0.0, max_wait=5.0
    )
    auth = UserVoiceTokenAuth("client-id", "client-secret-0123", policy)
    with Loopback(Trickle(interval=0.05, size=400)) as server:
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"^uservoice: POST /oauth/token failed: .*still arriving"):
            auth.token(server.url)
        elapsed = time.monotonic() - started
        assert len(server.received) == policy.max_attempts
    assert elapsed < (policy.body_timeout + policy.read_timeout) * policy.max_attempts + 2.0


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_an_answer_larger_than_max_body_fails_the_page_at_once_and_says_so(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], packed: bool
) -> None:
    """An answer that does not end (a proxy streaming a file) or unpacks to far more than it weighs
    (a gzip bomb) filled the worker's memory before anything else could stop it. The size counts
    unpacked bytes; the same page again would be as large, so it is not asked for again."""
    policy = HttpPolicy(connect_timeout=1.0, read_timeout=0.3, max_body_bytes=64 * 1024, max_attempts=3)
    body = json.dumps({"items": ["x" * 200_000]}).encode()
    reply = (
        Reply(200, gzip.compress(body), "application/json", headers={"Content-Encoding": "gzip"})
        if packed
        else Reply(200, body, "application/json")
    )
    assert len(reply.payload()[0]) < policy.max_body_bytes or not packed
    with Loopback(reply) as server:
        http_connection(monkeypatch, "loop", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("loop", "forum", policy=policy, sleep=sleeps.append)
        with pytest.raises(
            UpstreamError, match=r"^forum: GET /big.json failed: the answer was larger than 0.0625 MB"
        ):
            api.get_page("/big.json", ItemsPage)
        assert len(server.received) == 1
    assert sleeps == []


def test_an_answer_within_max_body_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    policy = HttpPolicy(connect_timeout=1.0, read_timeout=0.3, max_body_bytes=64 * 1024, max_attempts=3)
    with Loopback(Reply(200, {"items": ["x" * 60_000]})) as server:
        http_connection(monkeypatch, "loop", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("loop", "forum", policy=policy, sleep=sleeps.append)
        assert api.get_page("/t.json", ItemsPage).items == ["x" * 60_000]


def test_an_answer_that_arrives_in_pieces_within_the_body_timeout_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    with Loopback(Trickle(interval=0.001, size=300)) as server:
        http_connection(monkeypatch, "loop", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("loop", "forum", policy=FAST, sleep=sleeps.append)
        assert api.get_page("/t.json", ItemsPage).items == ["x" * 300]


def test_a_refused_connection_is_retried_then_named(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    http_connection(monkeypatch, "nowhere", f"http://127.0.0.1:{closed_port()}")
    api = ApiClient("nowhere", "jira", policy=FAST, sleep=sleeps.append)
    with pytest.raises(UpstreamError, match=r"^jira: GET /rest/api/3/search/jql failed: connection refused"):
        api.get_json("/rest/api/3/search/jql", {"jql": "project = MM"})
    assert len(sleeps) == FAST.max_attempts - 1


@pytest.mark.parametrize(
    ("reply", "wait"),
    [
        (Reply(429, {"errors": ["slow down"]}, headers={"Retry-After": "2"}), 2.0),
        (Reply(429, {"errors": ["slow down"], "extras": {"wait_seconds": 3}}), 3.0),
        (Reply(429, "busy", headers={"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "4"}), 4.0),
        (Reply(503, "maintenance"), 0.0),
        (Reply(502, HTML, "text/html"), 0.0),
    ],
    ids=["retry-after", "discourse-wait-seconds", "reset-header", "503", "502"],
)
def test_rate_limits_and_server_errors_are_retried_at_the_http_layer(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], reply: Reply, wait: float
) -> None:
    with Loopback(reply, Reply(200, {"items": ["ok"]})) as server:
        page = client(monkeypatch, server, sleeps).get_page("/latest.json", ItemsPage)
        assert len(server.received) == 2
    assert page.items == ["ok"]
    assert sleeps == [wait]


def test_a_wait_longer_than_allowed_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    with Loopback(Reply(429, "later", headers={"Retry-After": "3600"})) as server:
        with pytest.raises(
            UpstreamError, match=r"answered 429: asked to wait 3600s, more than the 5s allowed"
        ):
            client(monkeypatch, server, sleeps).get_json("/latest.json")
        assert len(server.received) == 1
    assert sleeps == []


def test_settings_and_environment_set_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from community_monitoring.settings import HttpSection

    section = HttpSection(connect_timeout_seconds=2.0, read_timeout_seconds=7.0, max_attempts=4)
    monkeypatch.delenv("COMMUNITY_HTTP_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("COMMUNITY_HTTP_BASE_DELAY", raising=False)
    policy = HttpPolicy.from_settings(section)
    assert (policy.timeout, policy.max_attempts, policy.base_delay) == ((2.0, 7.0), 4, 1.0)
    monkeypatch.setenv("COMMUNITY_HTTP_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("COMMUNITY_HTTP_BASE_DELAY", "0.1")
    policy = HttpPolicy.from_settings(section)
    assert (policy.timeout, policy.max_attempts, policy.base_delay) == ((2.0, 7.0), 2, 0.1)


# ----- redirects ----------------------------------------------------------------------------------


def test_a_redirect_to_another_port_is_refused_and_carries_no_credential(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    with Loopback(Reply(200, {"items": []})) as elsewhere:
        moved = Reply(302, "", headers={"Location": f"{elsewhere.url}/latest.json"})
        with Loopback(moved) as server:
            api = client(monkeypatch, server, sleeps, **{"Api-Username": "system"})
            with pytest.raises(
                RedirectRefusedError, match=rf"answered 302: redirected to http://127.0.0.1:{elsewhere.port}"
            ):
                api.get_page("/latest.json", ItemsPage)
            assert server.received[0].headers["Api-Key"] == "key-0123456789"
        assert elsewhere.received == []  # nothing, so no Api-Key, reached the other port


def test_a_redirect_on_the_same_host_and_port_is_followed(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    with Loopback(
        Reply(301, "", headers={"Location": "/t/slug/7.json"}), Reply(200, {"items": [7]})
    ) as server:
        page = client(monkeypatch, server, sleeps).get_page("/t/7.json", ItemsPage)
        assert [r.path for r in server.received] == ["/t/7.json", "/t/slug/7.json"]
        assert all(r.headers["Api-Key"] == "key-0123456789" for r in server.received)
    assert page.items == [7]


def test_loopback_scripts_repeat_their_last_action() -> None:
    with Loopback(Reply(500, "no"), Reply(200, "yes")) as server:
        import requests

        statuses = [requests.get(server.url, timeout=2).status_code for _ in range(3)]
    assert statuses == [500, 200, 200]
