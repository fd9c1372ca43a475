"""The sandbox HTTP server: routes each request to the service owning its URL prefix.

It records every request (``requests_log``: service, method, path, query, status, caller, plus
``headers`` with lower-case names and ``fault``, the kind of fault it got or None; ``status`` is
None when the connection was closed without an answer) and every write the upstream applied
(``outbox``). It injects the scenario's faults (see ``faults``) before any handler runs, and
serves both lists under ``/_sandbox/`` so scripts in another process can read them.
"""

from __future__ import annotations

import gzip
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from community_sandbox.faults import Fault
from community_sandbox.indexing import bulk_build
from community_sandbox.registry import SERVICES
from community_sandbox.routing import (
    WRITE_METHODS,
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    text_response,
)
from community_sandbox.scenario import Scenario, load_scenario

log = logging.getLogger(__name__)

# The sandbox serves unauthenticated test data: never expose it beyond the loopback interface.
ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost"})
CONTROL_PREFIX = "/_sandbox"


@dataclass
class Reply:
    """What the connection gets: ``response`` after ``delay`` seconds, or (None) nothing at all."""

    response: Response | None
    delay: float = 0.0
    reset: bool = False  # with no response: a TCP reset rather than a plain close
    # A ``cut`` fault: the response's whole Content-Length, this many bytes of its body (-1: half),
    # then the connection closes.
    cut_at: int | None = None


def _fault_response(service: Service, fault: Fault) -> Response:
    """The answer a ``status``, ``body`` or ``redirect`` fault gives instead of the handler's."""
    status = fault.status or 500
    if fault.kind == "redirect":
        response = Response(status, {"Location": fault.location or "/"}, b"")
    elif fault.kind == "body":
        if isinstance(fault.body, dict | list):
            response = json_response(fault.body, status)
        else:
            response = text_response(str(fault.body), status)
        if fault.content_type:
            response.set_header("Content-Type", fault.content_type)
    elif isinstance(fault.body, dict | list):
        response = json_response(fault.body, status)
    elif fault.body is not None:
        response = text_response(str(fault.body), status)
    else:
        response = service.error_response(status, retry_after=fault.retry_after)
    if fault.retry_after is not None:
        response.set_header("Retry-After", str(fault.retry_after))
    return response


class Sandbox:
    """Serve a scenario's upstream APIs on 127.0.0.1 in a daemon thread.

    ``with Sandbox(path) as sb:`` starts and stops it; ``sb.base_url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, scenario: Scenario | str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ALLOWED_HOSTS:
            raise ValueError(f"the sandbox binds 127.0.0.1 only, not {host!r}")
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.host = "127.0.0.1"
        self.port = port
        self.outbox: list[dict[str, Any]] = []
        self.requests_log: list[dict[str, Any]] = []
        self.services: list[Service] = []
        # One lock for all state: handlers are quick, and serialising them keeps services simple.
        self._lock = threading.RLock()
        self._faults_left: list[int | None] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        # Set on stop: stalled and slow connections stop waiting (and are closed).
        self._stopping = threading.Event()

    # ----- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._started = time.monotonic()
        self._stopping.clear()
        self._faults_left = [fault.times for fault in self.scenario.faults]
        context = ServiceContext(base_url=self.base_url, clock=self.clock)
        with bulk_build():
            services = [cls(self.scenario.data.get(cls.name), context) for cls in SERVICES]
        # Longest prefix first, so a future "/api/v3/x" service could sit inside "/api/v3".
        self.services = sorted(services, key=lambda s: len(s.prefix), reverse=True)
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (a stall or slow fault); False when the sandbox stopped meanwhile."""
        return not self._stopping.wait(seconds)

    def clock(self) -> datetime:
        """Scenario time: ``now`` plus the time since start, so writes land just after T."""
        return self.scenario.now + timedelta(seconds=time.monotonic() - self._started)

    # ----- request handling ---------------------------------------------------------------

    def service_for(self, path: str) -> Service | None:
        for service in self.services:
            if path == service.prefix or path.startswith(service.prefix + "/"):
                return service
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request: what to send (or not), after how long; logs it and records writes."""
        parts = urlsplit(target)
        path, query_string = parts.path, parts.query
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return Reply(self._control(method, path))
        request = Request(
            method=method,
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            headers=headers,
            body=body,
            query_string=query_string,
        )
        service = self.service_for(path)
        with self._lock:
            if service is None:
                prefixes = {s.name: s.prefix for s in self.services}
                reply = Reply(json_response({"message": "Not Found", "services": prefixes}, 404))
                self._log(None, request, reply, None)
                return reply
            fault = self._take_fault(service, request)
            reply, handled = self._respond(service, request, fault)
            self._log(service, request, reply, fault)
            if handled is not None and service.records_write(request) and 200 <= handled.status < 300:
                self._record_write(service, request)
        return reply

    def _log(self, service: Service | None, request: Request, reply: Reply, fault: Fault | None) -> None:
        self.requests_log.append(
            {
                "service": service.name if service else "sandbox",
                "method": request.method,
                "path": request.path,
                "query": request.query,
                # What the client was sent; None when the connection was closed without an answer.
                "status": reply.response.status if reply.response is not None else None,
                "caller": service.caller(request) if service else "",
                "headers": dict(request.headers),  # lower-case names, as received
                "fault": fault.kind if fault else None,
            }
        )

    def _record_write(self, service: Service, request: Request) -> None:
        self.outbox.append(
            {
                "service": service.name,
                "method": request.method,
                "path": request.path,
                "body": request.recorded_body(),
                "received_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        )

    def _take_fault(self, service: Service, request: Request) -> Fault | None:
        paths = service.own_paths(request.path)
        for index, fault in enumerate(self.scenario.faults):
            left = self._faults_left[index]
            if left == 0 or not fault.matches(service.name, request.method, paths, request.query_string):
                continue
            if left is not None:
                self._faults_left[index] = left - 1
            return fault
        return None

    def _run_handler(self, service: Service, request: Request) -> Response:
        try:
            return service.authorize(request) or service.dispatch(request)
        except Exception:
            # A handler bug must surface as a 500 the client sees, not a dropped connection.
            log.exception("sandbox: %s handler failed on %s %s", service.name, request.method, request.path)
            return service.error_response(500)

    def _respond(
        self, service: Service, request: Request, fault: Fault | None
    ) -> tuple[Reply, Response | None]:
        """The reply, and the handler's own response when the handler ran (it did the write)."""
        if fault is None or fault.kind == "slow":
            handled = service.finish(request, self._run_handler(service, request))
            return Reply(handled, delay=(fault.seconds or 0.0) if fault is not None else 0.0), handled
        if fault.kind == "stall":
            return Reply(None, delay=fault.seconds or 0.0), None
        if fault.kind == "cut":
            # The upstream answers in full (a write is applied); the line drops part way through.
            handled = service.finish(request, self._run_handler(service, request))
            return Reply(handled, cut_at=-1 if fault.cut_at is None else fault.cut_at), handled
        if fault.kind == "reset":
            # A write reaches the upstream, which applies it and then drops the line.
            if request.method not in WRITE_METHODS:
                return Reply(None, reset=True), None
            return Reply(None, reset=True), service.finish(request, self._run_handler(service, request))
        handled = None
        if fault.applied and request.method in WRITE_METHODS:
            # The upstream processes the write, then the status (a gateway's 502 or 504) is answered.
            handled = service.finish(request, self._run_handler(service, request))
        response = service.finish(request, _fault_response(service, fault))
        # Last, over the service's own finishing touches (GitHub's x-ratelimit-* on every answer).
        for name, value in fault.headers:
            response.set_header(name, value)
        if fault.kind in ("body", "redirect"):
            response.gzip = False  # the bytes exactly as written, whatever the upstream usually does
        return Reply(response), handled

    def _control(self, method: str, path: str) -> Response:
        with self._lock:
            if method == "GET" and path == f"{CONTROL_PREFIX}/outbox":
                return json_response(list(self.outbox))
            if method == "GET" and path == f"{CONTROL_PREFIX}/requests":
                return json_response(list(self.requests_log))
            if method == "POST" and path == f"{CONTROL_PREFIX}/requests/reset":
                cleared = len(self.requests_log)
                self.requests_log.clear()
                return json_response({"cleared": cleared})
        return json_response({"message": "Not Found"}, 404)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops bursts of connects (clients then stall 1 s).
    request_queue_size = 128
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as PyGithub and requests expect from real servers.
    protocol_version = "HTTP/1.1"
    server_version = "community-monitoring-sandbox"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms each.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        sandbox = self.server.sandbox
        reply = sandbox.handle(self.command, self.path, headers, body)
        stopped = reply.delay > 0 and not sandbox.pause(reply.delay)
        if reply.response is None or stopped:
            self._hang_up(reset=reply.reset)
            return
        self._send(reply.response, cut_at=reply.cut_at)

    def _hang_up(self, *, reset: bool) -> None:
        """Close the connection without answering: a TCP reset, or a plain close (FIN)."""
        self.close_connection = True
        if reset:
            # Linger 0 makes close() send RST; close it here, before socketserver's orderly shutdown.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()

    def _send(self, response: Response, cut_at: int | None = None) -> None:
        payload = response.body
        if response.gzip:
            payload = gzip.compress(payload)
            response.set_header("Content-Encoding", "gzip")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if cut_at is None:
            self.wfile.write(payload)
            return
        # A ``cut`` fault: part of the body, then the line drops (what the length promised never comes).
        # At least the last byte is held back: a ``bytes`` past the body's end still cuts it.
        self.wfile.write(payload[: len(payload) // 2 if cut_at < 0 else min(cut_at, len(payload) - 1)])
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # The request log is the record; stderr noise would drown the CLI's one line.
        pass
