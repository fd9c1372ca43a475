"""A JSON client over Airflow's HttpHook that honours rate limits and names what went wrong.

HttpHook raises a bare ``AirflowException("429:Too Many Requests")`` on any error status, so
the status and headers are checked here instead (``check_response: False``).
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class UpstreamError(RuntimeError):
    """An upstream API answered with an error; the message names the service, call and status."""

    def __init__(self, service: str, method: str, endpoint: str, status: int, detail: str) -> None:
        super().__init__(f"{service}: {method} {endpoint} answered {status}: {detail}")
        self.service = service
        self.status = status


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    data: Any
    text: str


def http_max_attempts() -> int:
    """Attempts per request before a task gives up (Airflow's task retries come on top)."""
    return max(int(os.environ.get("COMMUNITY_HTTP_MAX_ATTEMPTS", "5")), 1)


def http_base_delay() -> float:
    """First backoff delay in seconds; doubled after each failed attempt."""
    return max(float(os.environ.get("COMMUNITY_HTTP_BASE_DELAY", "1.0")), 0.0)


def retry_after_seconds(
    headers: Mapping[str, str], body: Any = None, now: float | None = None
) -> float | None:
    """How long the upstream asked us to wait: Retry-After (seconds or HTTP date), reset headers, body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            return max((parsed - datetime.now(UTC)).total_seconds(), 0.0)
    if isinstance(body, Mapping):
        extras = body.get("extras")
        if isinstance(extras, Mapping) and isinstance(extras.get("wait_seconds"), int | float):
            return float(extras["wait_seconds"])
        if isinstance(body.get("backoff"), int | float):
            return float(body["backoff"])
    for name in ("x-ratelimit-reset", "x-rate-limit-reset"):
        remaining = lowered.get(name.replace("reset", "remaining"))
        if lowered.get(name) and remaining == "0":
            current = time.time() if now is None else now
            try:
                reset = float(lowered[name])
            except ValueError:
                # Jira Cloud sends an ISO time (2026-11-18T09:10Z).
                try:
                    reset = datetime.fromisoformat(lowered[name].replace("Z", "+00:00")).timestamp()
                except ValueError:
                    return None
            # Either an epoch time or a number of seconds, depending on the service.
            return max(reset - current, 0.0) if reset > 1e9 else reset
    return None


def relative_endpoint(url: str) -> str:
    """A Link / next URL as path and query, since HttpHook appends the endpoint to its base URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class ApiClient:
    """GET and POST JSON through an Airflow HTTP connection, with bounded, logged retries."""

    def __init__(
        self,
        conn_id: str,
        service: str,
        *,
        max_attempts: int | None = None,
        max_wait_seconds: float = 120.0,
        base_delay: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        strip_base_path: bool = True,
        auth_type: Any = None,
    ) -> None:
        self.conn_id = conn_id
        self.service = service
        self.max_attempts = max_attempts or http_max_attempts()
        self.max_wait_seconds = max_wait_seconds
        self.base_delay = http_base_delay() if base_delay is None else base_delay
        self._sleep = sleep
        self._hooks: dict[str, Any] = {}
        self._base_path: str | None = None if strip_base_path else ""
        self._auth_type = auth_type
        self.request_count = 0

    def _hook(self, method: str) -> Any:
        from airflow.providers.http.hooks.http import HttpHook

        if method not in self._hooks:
            kwargs = {"auth_type": self._auth_type} if self._auth_type is not None else {}
            self._hooks[method] = HttpHook(method=method, http_conn_id=self.conn_id, **kwargs)
        return self._hooks[method]

    def base_path(self) -> str:
        """The path part of the connection's base URL (e.g. ``/discourse``)."""
        if self._base_path is None:
            hook = self._hook("GET")
            hook.get_conn()
            self._base_path = urlsplit(hook.base_url or "").path.rstrip("/")
        return self._base_path

    def endpoint_from_url(self, url: str) -> str:
        """A next-page URL the upstream returned, made relative to the connection's base URL."""
        endpoint = relative_endpoint(url)
        base = self.base_path()
        return endpoint[len(base) :] if base and endpoint.startswith(base + "/") else endpoint

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        hook = self._hook(method)
        attempt = 0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                response = hook.run(
                    endpoint,
                    data=params if method == "GET" else None,
                    json=json_body,
                    headers=dict(headers or {}),
                    extra_options={"check_response": False},
                )
            except requests.RequestException as exc:
                if attempt >= self.max_attempts:
                    raise UpstreamError(self.service, method, endpoint, 0, f"unreachable: {exc}") from exc
                delay = self.base_delay * 2 ** (attempt - 1)
                log.warning(
                    "%s: %s %s failed (%s); retrying in %.1fs", self.service, method, endpoint, exc, delay
                )
                self._sleep(delay)
                continue
            text = response.text
            try:
                data = response.json() if text else None
            except ValueError:
                data = None
            status = response.status_code
            if status < 400:
                return ApiResponse(status, response.headers, data, text)
            wait = retry_after_seconds(response.headers, data)
            retryable = status in RETRY_STATUSES or (status == 403 and wait is not None)
            if not retryable or attempt >= self.max_attempts:
                detail = text[:300].strip() or response.reason
                raise UpstreamError(self.service, method, endpoint, status, detail)
            delay = wait if wait is not None else self.base_delay * 2 ** (attempt - 1)
            if delay > self.max_wait_seconds:
                raise UpstreamError(
                    self.service,
                    method,
                    endpoint,
                    status,
                    f"asked to wait {delay:.0f}s, more than the {self.max_wait_seconds:.0f}s allowed",
                )
            log.warning(
                "%s: %s %s answered %s; retrying in %.1fs (attempt %d of %d)",
                self.service,
                method,
                endpoint,
                status,
                delay,
                attempt,
                self.max_attempts,
            )
            self._sleep(delay)

    def get_json(self, endpoint: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        return self.request("GET", endpoint, params=params)

    def post_json(self, endpoint: str, body: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return self.request("POST", endpoint, json_body=body, headers=headers)
