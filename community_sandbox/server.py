"""The sandbox HTTP server: routes each request to the service owning its URL prefix.

It records every request (``requests_log``) and every accepted write (``outbox``), injects the
scenario's faults before any handler runs, and serves both lists under ``/_sandbox/`` so
scripts in another process can read them.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from community_sandbox.registry import SERVICES
from community_sandbox.routing import (
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    text_response,
)
from community_sandbox.scenario import Fault, Scenario, load_scenario

log = logging.getLogger(__name__)

# The sandbox serves unauthenticated test data: never expose it beyond the loopback interface.
ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost"})
CONTROL_PREFIX = "/_sandbox"


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
        self._faults_left = [fault.times for fault in self.scenario.faults]
        context = ServiceContext(base_url=self.base_url, clock=self.clock)
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

    def clock(self) -> datetime:
        """Scenario time: ``now`` plus the time since start, so writes land just after T."""
        return self.scenario.now + timedelta(seconds=time.monotonic() - self._started)

    # ----- request handling ---------------------------------------------------------------

    def service_for(self, path: str) -> Service | None:
        for service in self.services:
            if path == service.prefix or path.startswith(service.prefix + "/"):
                return service
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        path, query_string = parts.path, parts.query
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(method, path)
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
                response = json_response({"message": "Not Found", "services": prefixes}, 404)
            else:
                response = service.finish(request, self._respond(service, request))
            name = service.name if service else "sandbox"
            self.requests_log.append(
                {
                    "service": name,
                    "method": method,
                    "path": path,
                    "query": request.query,
                    "status": response.status,
                    "caller": service.caller(request) if service else "",
                }
            )
            if service is not None and service.records_write(request) and 200 <= response.status < 300:
                self.outbox.append(
                    {
                        "service": name,
                        "method": method,
                        "path": path,
                        "body": request.recorded_body(),
                        "received_at": datetime.now(UTC)
                        .isoformat(timespec="milliseconds")
                        .replace("+00:00", "Z"),
                    }
                )
        return response

    def _take_fault(self, service: str, request: Request) -> Fault | None:
        for index, fault in enumerate(self.scenario.faults):
            left = self._faults_left[index]
            if left == 0 or not fault.matches(service, request.method, request.path, request.query_string):
                continue
            if left is not None:
                self._faults_left[index] = left - 1
            return fault
        return None

    def _respond(self, service: Service, request: Request) -> Response:
        fault = self._take_fault(service.name, request)
        if fault is not None:
            if isinstance(fault.body, dict | list):
                response = json_response(fault.body, fault.status)
            elif fault.body is not None:
                response = text_response(str(fault.body), fault.status)
            else:
                response = service.error_response(fault.status, retry_after=fault.retry_after)
            if fault.retry_after is not None:
                response.set_header("Retry-After", str(fault.retry_after))
            return response
        try:
            return service.authorize(request) or service.dispatch(request)
        except Exception:
            # A handler bug must surface as a 500 the client sees, not a dropped connection.
            log.exception("sandbox: %s handler failed on %s %s", service.name, request.method, request.path)
            return service.error_response(500)

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
        response = self.server.sandbox.handle(self.command, self.path, headers, body)
        payload = response.body
        if response.gzip:
            payload = gzip.compress(payload)
            response.set_header("Content-Encoding", "gzip")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # The request log is the record; stderr noise would drown the CLI's one line.
        pass
