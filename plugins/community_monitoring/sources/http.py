"""HTTP for every source: timeouts, bounded retries, validated answers, safe writes and redirects.

One retry loop (:func:`send_with_retries`) serves HttpHook (:class:`ApiClient`), PyGithub
(``github.py``) and python-gitlab (``gitlab.py``): each client makes exactly one attempt per call
and this module decides what happens next.

- **Reads** are retried (at most ``http.max_attempts`` attempts) after connection errors and
  timeouts, 429 and 5xx answers, a rate limit in the service's own form, and an answer that is
  not what the API promises (:class:`InvalidResponseError`: not JSON, an HTML page with status
  200, a page missing its list). The last error propagates: never an empty page.
- **Writes** (any method but GET/HEAD) are retried only when the request provably was not
  processed: connection refused or a connect timeout (nothing was sent), 429 and 503. A 501 (the
  server does not do this) is a refusal, as a 4xx is: not retried, not applied. After an
  ambiguous failure (a read timeout, a connection reset once the request was sent, another 5xx)
  :class:`AmbiguousWriteError` is raised and nothing is re-sent; so is it after a 2xx answer that
  is an HTML page (a proxy's or sign-in page in the service's place), and after a create's 2xx
  that does not show the object made (:func:`created_answer`).
- **Redirects** of authenticated calls are never followed to another host, port or scheme
  (:class:`RedirectRefusedError` names the target host): credentials stay with their host.
- **Secrets**: errors and log lines name the service, method and endpoint and at most 200
  characters of an answer, with every credential of the connection scrubbed; the credentials
  are handed to Airflow's secrets masker when a client is built.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import http.client
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from pydantic import TypeAdapter, ValidationError
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    IncompleteRead,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.request import ACCEPT_ENCODING

from community_monitoring import write_requests
from community_monitoring.errors import AmbiguousWrite, SettingsError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A write answered with one of these was refused before it was processed: sending it again is safe.
WRITE_RETRY_STATUSES = frozenset({429, 503})
# A write answered with one of these was refused, not applied, and sending it again changes nothing:
# 501 Not Implemented (RFC 9110 §15.6.2) is what Mattermost answers when incoming webhooks are off.
WRITE_REFUSED_5XX = frozenset({501})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers that carry credentials: never sent to another host, their values never shown.
SECRET_HEADERS = ("Authorization", "Api-Key", "PRIVATE-TOKEN", "JOB-TOKEN", "X-API-Key")
MAX_BODY_SHOWN = 200
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


class UpstreamError(RuntimeError):
    """An upstream API call failed; the message names the service, call and status, never a secret."""

    def __init__(self, service: str, method: str, endpoint: str, status: int, detail: str) -> None:
        outcome = f"answered {status}" if status else "failed"
        super().__init__(f"{service}: {method} {endpoint} {outcome}: {detail}")
        self.service = service
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        # The decoded JSON of an error answer (never of a credential request), for callers that
        # read a service's own error fields (Stack Exchange's error_id).
        self.error_body: Any = None


class InvalidResponseError(UpstreamError):
    """A 2xx answer that is not what the API promises: not JSON, an HTML page, a page missing its list."""


class AmbiguousWriteError(UpstreamError, AmbiguousWrite):
    """A write that may have taken effect upstream; never retried here.

    Raised after a read timeout, a connection reset once the request was sent, a 5xx other than
    503, or a 303 answer to a write. It is an ``errors.AmbiguousWrite``: the ledger reads the
    write back upstream, or records it as uncertain.
    """


class RedirectRefusedError(UpstreamError):
    """A call was redirected to another host, port or scheme: not followed, so credentials stay home."""


# ----- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry bounds of every upstream call (the ``http`` settings section)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    body_timeout: float = 300.0
    max_body_bytes: int = 64 * 2**20
    max_attempts: int = 5
    base_delay: float = 1.0
    max_wait: float = 120.0

    @classmethod
    def from_settings(cls, section: Any = None) -> HttpPolicy:
        """From ``settings.http`` (or a whole ``Settings``); ``COMMUNITY_HTTP_MAX_ATTEMPTS`` and
        ``COMMUNITY_HTTP_BASE_DELAY`` override it (tests and the demo set them)."""
        if isinstance(section, HttpPolicy):
            return section
        http = getattr(section, "http", section)
        policy = cls()
        if http is not None:
            policy = cls(
                connect_timeout=float(http.connect_timeout_seconds),
                read_timeout=float(http.read_timeout_seconds),
                body_timeout=float(http.body_timeout_seconds),
                max_body_bytes=int(http.max_body_mb) * 2**20,
                max_attempts=int(http.max_attempts),
                base_delay=float(http.base_delay_seconds),
                max_wait=float(http.max_wait_seconds),
            )
        return policy.with_env_overrides()

    def with_env_overrides(self) -> HttpPolicy:
        attempts = os.environ.get("COMMUNITY_HTTP_MAX_ATTEMPTS")
        delay = os.environ.get("COMMUNITY_HTTP_BASE_DELAY")
        return replace(
            self,
            max_attempts=max(int(attempts), 1) if attempts else self.max_attempts,
            base_delay=max(float(delay), 0.0) if delay else self.base_delay,
        )

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` as requests takes it."""
        return (self.connect_timeout, self.read_timeout)

    def backoff(self, attempt: int) -> float:
        """The pause after failed attempt ``attempt`` (1-based) when the upstream named none."""
        return self.base_delay * 2 ** (attempt - 1)


BODY_CHUNK = 8192  # read at most this much at a time, so the deadline is checked between reads


class BodyTimeout(requests.exceptions.ReadTimeout):
    """The answer started but had not arrived in full by the body deadline (it trickles in)."""


class BodyTooLarge(requests.exceptions.RequestException):
    """The answer grew past the size no page of these APIs comes near (``http.max_body_mb``)."""


class BodyDeadline:
    """A requests response hook: the answer's body is read within ``seconds`` of its headers, and
    is at most ``max_bytes`` long once unpacked.

    A read timeout bounds each wait for bytes: an answer trickling in a few bytes at a time never
    hits it, and the task would hang until Airflow's execution timeout. Requests runs response
    hooks before it reads the body, so the hook reads it, in chunks, and gives up past the
    deadline with a ``ReadTimeout`` (retried for a read; an unsure write for a write). An answer
    that does not end (a proxy streaming a file, a gzip bomb) would fill the worker's memory
    first: past ``max_bytes`` the hook stops reading (``BodyTooLarge``: the page fails unretried,
    a write is unsure).
    """

    def __init__(self, seconds: float, max_bytes: int = HttpPolicy.max_body_bytes) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("stream") or response._content_consumed:  # type: ignore[attr-defined]
            return response
        started = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        raw = response.raw
        while True:
            try:
                # read1: what one read of the socket gives (read(n) would wait for all n bytes).
                chunk = raw.read1(BODY_CHUNK, decode_content=True)
            except ReadTimeoutError as exc:
                raise requests.exceptions.ReadTimeout(exc, response=response) from exc
            except (ProtocolError, DecodeError) as exc:
                raise requests.exceptions.ChunkedEncodingError(exc, response=response) from exc
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_bytes:
                response.close()
                raise BodyTooLarge(
                    f"the answer was larger than {self.max_bytes / 2**20:g} MB (http.max_body_mb); not read",
                    response=response,
                )
            if time.monotonic() - started > self.seconds:
                response.close()
                raise BodyTimeout(f"the answer was still arriving after {self.seconds:g}s", response=response)
        response._content = b"".join(chunks)  # type: ignore[attr-defined]
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw.release_conn()
        return response


def with_body_deadline(session: requests.Session, policy: HttpPolicy) -> requests.Session:
    """``session`` with :class:`BodyDeadline` among its response hooks (once; the policy's)."""
    hooks = session.hooks.setdefault("response", [])
    hooks[:] = [hook for hook in hooks if not isinstance(hook, BodyDeadline)]
    # First: the other hooks (python-gitlab's last-response keeper) see the body read.
    hooks.insert(0, BodyDeadline(policy.body_timeout, policy.max_body_bytes))
    return session


def http_max_attempts() -> int:
    """Attempts per request before a call gives up (Airflow's task retries come on top)."""
    return HttpPolicy.from_settings().max_attempts


def http_base_delay() -> float:
    """First backoff delay in seconds; doubled after each failed attempt."""
    return HttpPolicy.from_settings().base_delay


# ----- answers ----------------------------------------------------------------------------------


def _decoded(content: bytes, encoding: str | None) -> str:
    try:
        return content.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class RawResponse:
    """One HTTP answer, whichever client received it."""

    status: int
    headers: Mapping[str, str]
    text: str
    url: str = ""

    @classmethod
    def of(cls, response: requests.Response) -> RawResponse:
        # No charset guessing (slow on big bodies): JSON is UTF-8 unless the answer says otherwise,
        # and a charset Python does not know is read as UTF-8 (the answer is there all the same).
        # JSON is UTF-8 (RFC 8259 §8.1) whatever its label says: a Java server or proxy that
        # labels it ISO-8859-1 (or text/json, which requests reads as ISO-8859-1) turned every
        # "é" of a title into "Ã©". The label is read only when the body is not UTF-8.
        content = response.content
        if is_json_type(response.headers.get("content-type") or ""):
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                text = _decoded(content, response.encoding)
        else:
            text = _decoded(content, response.encoding)
        return cls(response.status_code, CaseInsensitiveDict(response.headers), text, response.url or "")

    def json_or_none(self) -> Any:
        try:
            return decode_json(self.text) if self.text else None
        except ValueError:
            return None


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    data: Any
    text: str


@dataclass(frozen=True)
class Call:
    """What is being called, as errors and logs show it (never a secret)."""

    service: str
    method: str
    endpoint: str
    secrets: tuple[str, ...] = ()
    # False for requests whose answers may hold credentials (a token request): no body is shown.
    show_body: bool = True
    # None: decided by the method (GET/HEAD are reads); True for a POST that changes nothing.
    idempotent: bool | None = None

    @property
    def is_write(self) -> bool:
        idempotent = self.idempotent if self.idempotent is not None else self.method in SAFE_METHODS
        return not idempotent

    def scrub(self, text: str) -> str:
        return scrub_secrets(text, self.secrets)

    def excerpt(self, raw: RawResponse) -> str:
        if not self.show_body:
            return "(body not shown)"
        # Only the start is shown, scrubbed before it is cut: a secret cut in two would not be found,
        # and collapsed white space could bring its start into what is shown.
        text = " ".join(scrubbed_start(raw.text, self.secrets, MAX_BODY_SHOWN * 10).split())
        return text[:MAX_BODY_SHOWN] if text else "(empty body)"

    def error(self, status: int, detail: str, kind: type[UpstreamError] = UpstreamError) -> UpstreamError:
        return kind(self.service, self.method, self.endpoint, status, self.scrub(detail))


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def validation_summary(exc: ValidationError, limit: int = 3) -> str:
    """What was wrong, by field, without the values (an item's text stays out of errors)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(part) for part in error["loc"])
        if not where:
            parts.append(error["msg"])
        elif error["type"] == "missing":
            parts.append(f"field '{where}' is missing")
        else:
            parts.append(f"field '{where}': {error['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


# Half of a UTF-16 pair escaped in JSON text ("\ud83d" with no "\ude00" after it): RFC 8259 §8.2
# lets a JSON text carry one, and a title cut in the middle of an emoji by a client that counts
# UTF-16 units does. Python decodes it to a lone surrogate, which no UTF-8 writer takes: the run
# store refused the post and the whole channel failed, every day the post stayed in the window.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` (decoded JSON) with each lone surrogate in its strings as U+FFFD, as a decoder
    reads invalid UTF-8 (``json`` already joined the escaped pairs into their characters)."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT_CHARACTER, value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def decode_json(text: str) -> Any:
    """JSON text as Python values: a leading byte order mark ignored (``json_text``), and half an
    escaped UTF-16 pair read as U+FFFD. Raises ValueError for text that is not JSON, and for JSON
    nested deeper than Python's stack (``json`` raises RecursionError there, which no page check
    caught: the channel failed naming neither the service nor the call)."""
    try:
        data = json.loads(json_text(text))
        # Only a text with an escaped surrogate (a pair or half of one) is walked: a page without is
        # as json decoded it. The walk recurses too: what json read a few hundred levels deep
        # overflowed it, the same RecursionError escaping.
        return _without_lone_surrogates(data) if _SURROGATE_ESCAPE.search(text) else data
    except RecursionError:
        raise ValueError("nested too deep to be read") from None


def json_text(text: str) -> str:
    """``text`` without a leading byte order mark, which JSON texts must not carry but some servers
    and proxies (IIS, a few gateways) add: RFC 8259 §8.1 lets a parser ignore it, and Python's
    ``json`` refuses it ("Unexpected UTF-8 BOM"), which failed a whole channel on a good page."""
    return text.removeprefix("\ufeff")


# The content codings this worker's urllib3 unpacks (what requests asks for in Accept-Encoding:
# gzip and deflate, and br or zstd only where their libraries are installed); identity is none.
UNPACKED_CODINGS = frozenset(ACCEPT_ENCODING.split(",")) | {"identity", "x-gzip", ""}


def unasked_coding(headers: Mapping[str, str]) -> str | None:
    """A content coding of the answer that was not asked for and is left packed (None: none).

    urllib3 unpacks what it knows and passes the rest through as it came, silently."""
    codings = (headers.get("content-encoding") or "").lower().split(",")
    return next((c.strip() for c in codings if c.strip() not in UNPACKED_CODINGS), None)


def _packed(raw: RawResponse) -> str | None:
    """Why an answer that does not read may be packed: a content coding not asked for (None: none)."""
    coding = unasked_coding(raw.headers)
    if coding is None:
        return None
    # A CDN or proxy answering in brotli or zstd although the request asked for gzip or deflate:
    # 'body is not valid JSON' and a line of binary named neither the coding nor what is wrong.
    return (
        f"the answer is compressed as {coding!r} (its Content-Encoding), which was not asked for "
        f"(Accept-Encoding: {ACCEPT_ENCODING.replace(',', ', ')}) and cannot be unpacked here: "
        "a proxy or CDN in front of the service ignoring Accept-Encoding?"
    )


def json_body(call: Call, raw: RawResponse) -> Any:
    """The decoded JSON of an answer that must be JSON, or InvalidResponseError.

    An unknown coding is named only for an answer that does not read: urllib3 passes it through as
    it came, and a server naming a bogus one ("Content-Encoding: UTF-8") over plain JSON is read."""
    content_type = raw.headers.get("content-type") or ""
    if not is_json_type(content_type):
        detail = _packed(raw) or (
            f"Content-Type is {content_type or 'missing'}, not JSON; body starts: {call.excerpt(raw)!r}"
        )
        raise call.error(raw.status, detail, InvalidResponseError)
    try:
        return decode_json(raw.text)
    except ValueError as exc:
        detail = _packed(raw) or f"body is not valid JSON ({exc}); body starts: {call.excerpt(raw)!r}"
        raise call.error(raw.status, detail, InvalidResponseError) from None


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def parse_page(call: Call, raw: RawResponse, shape: type[T]) -> T:
    """The answer as the typed page the API promises (a pydantic model or e.g. ``list[Any]``)."""
    return check_page(call, raw, json_body(call, raw), shape)


def linked_page(call: Call, raw: RawResponse, linked_to: bool = False) -> tuple[Mapping[str, str], list[Any]]:
    """A page of a list paged by ``Link: rel="next"`` (GitHub, GitLab), with its headers: a JSON
    array, and not an empty one that links a next page (a list that says it goes on but gives
    nothing would be paged through to the end of time, or read as ending). ``linked_to``: the
    page before linked to this one from the list's total (``counted_next``): there are items past
    it, so an empty page there is items lost, not the list's end."""
    items = parse_page(call, raw, list[Any])
    if not items and next_link(raw.headers) is not None:
        raise call.error(raw.status, "an empty page links a next page", InvalidResponseError)
    if not items and linked_to:
        raise call.error(
            raw.status, "an empty page, though the page before it linked to it", InvalidResponseError
        )
    return raw.headers, items


def unread_next(call: Call, following: str | None, read: set[str]) -> str | None:
    """The next page's link, unless it goes back to a page already read (a list that goes round)."""
    if following is not None and following in read:
        raise call.error(200, "its next-page link goes back to a page already read", InvalidResponseError)
    return following


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


class NewItemsOnly:
    """The items of each page not on an earlier page; a page of nothing but repeats is invalid.

    A server that ignores the page parameter answers the first page again and again, while its
    list says there is more: each repeat would be counted as more posts (doubled digests) until
    the page cap, thousands of requests later. An item the list pushed down to the next page while
    it was read (a new one arrived) is dropped; a whole page of them is not what a list does.
    Items without a key (or with one no API gives, a list or an object) are all kept: their own
    checks name them.
    """

    def __init__(self, call: Call, key: Callable[[Any], Any]) -> None:
        self._call = call
        self._key = key
        self._seen: set[Any] = set()

    def __call__(self, items: Sequence[Any], page: int) -> list[Any]:
        fresh = []
        for item in items:
            key = self._key(item)
            if key is None or not _hashable(key):
                # No key, or one no API gives (a list, an object): kept, and its check names it.
                fresh.append(item)
            elif key not in self._seen:
                self._seen.add(key)
                fresh.append(item)
        if items and not fresh:
            detail = f"page {page} holds only items of earlier pages (the page asked for was not answered)"
            raise self._call.error(200, detail, InvalidResponseError)
        return fresh


def endless_pages(call: Call, pages: int) -> InvalidResponseError:
    """The error of a list that still says it goes on after ``pages`` pages: never taken as its end."""
    return call.error(200, f"still says there are more pages after {pages:,}", InvalidResponseError)


def check_page(call: Call, raw: RawResponse, data: Any, shape: type[T]) -> T:
    """Decoded JSON ``data`` of ``raw`` as the page ``shape``, or InvalidResponseError."""
    try:
        return _adapter(shape).validate_python(data)
    except ValidationError as exc:
        summary = validation_summary(exc)
        detail = f"not the page the API promises: {summary}; body starts: {call.excerpt(raw)!r}"
        raise call.error(raw.status, detail, InvalidResponseError) from None


def next_link(headers: Mapping[str, str], rel: str = "next") -> str | None:
    """The ``rel="next"`` (or ``rel``) URL of a ``Link`` header (GitHub, GitLab)."""
    value = headers.get("link")
    if not value:
        return None
    for link in requests.utils.parse_header_links(value):
        if link.get("rel") == rel and link.get("url"):
            return str(link["url"])
    return None


def counted_next(headers: Mapping[str, str]) -> bool:
    """Whether a page's next link comes from the list's known total (it names a ``rel="last"``
    page too): then the next page has items. Without a total (GitLab past 10,000 records, cursor
    lists) a full page links a next one that may well be empty."""
    return next_link(headers) is not None and next_link(headers, "last") is not None


# ----- rate limits ------------------------------------------------------------------------------


def retry_after_seconds(
    headers: Mapping[str, str], body: Any = None, now: float | None = None
) -> float | None:
    """How long the upstream asked us to wait: Retry-After (seconds or HTTP date), reset headers, body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value:
        try:
            # UserVoice sends the epoch second its limit ends (the limit resets each minute), where
            # HTTP means a number of seconds: no wait of thirty years is meant.
            return (
                _reset_wait(value, time.time() if now is None else now)
                if float(value) > 1e9
                else max(float(value), 0.0)
            )
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max((parsed - datetime.now(UTC)).total_seconds(), 0.0)
    if isinstance(body, Mapping):
        extras = body.get("extras")
        if isinstance(extras, Mapping) and isinstance(extras.get("wait_seconds"), int | float):
            return float(extras["wait_seconds"])
        if isinstance(body.get("backoff"), int | float):
            return float(body["backoff"])
    for name in ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"):
        remaining = lowered.get(name.replace("reset", "remaining"))
        if lowered.get(name) and remaining == "0":
            return _reset_wait(lowered[name], time.time() if now is None else now)
    return None


def _reset_wait(value: str, now: float) -> float | None:
    try:
        reset = float(value)
    except ValueError:
        # Jira Cloud sends an ISO time (2026-11-18T09:10Z).
        try:
            reset = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    # Either an epoch time or a number of seconds, depending on the service.
    return max(reset - now, 0.0) if reset > 1e9 else reset


@dataclass(frozen=True)
class RateLimit:
    """The answer was a rate limit; ``wait``: the seconds asked for (None: back off exponentially)."""

    wait: float | None = None


RateLimitRule = Callable[[RawResponse], RateLimit | None]


def upstream_rate_limit(raw: RawResponse) -> RateLimit | None:
    """The common forms: any 429 (Retry-After, reset headers, Discourse's ``extras.wait_seconds``),
    and a 403 or 503 that says how long to wait."""
    wait = retry_after_seconds(raw.headers, raw.json_or_none())
    if raw.status == 429 or (raw.status in (403, 503) and wait is not None):
        return RateLimit(wait)
    return None


# ----- transport errors -------------------------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (args, cause, context, urllib3's ``reason``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 50:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def request_never_sent(exc: BaseException) -> bool:
    """True when the connection was never made (refused, no such host, connect timeout)."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(cause, NewConnectionError | ConnectTimeoutError) for cause in _causes(exc)
    )


def describe_transport_error(exc: BaseException) -> str:
    """What went wrong on the wire, in words that hold no URL (a URL may carry a secret)."""
    causes = list(_causes(exc))
    if isinstance(exc, BodyTooLarge):
        return str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout (nothing was sent)"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        if isinstance(exc.__cause__, BodyTimeout) or isinstance(exc, BodyTimeout):
            return f"read timeout: {exc}"
        return "read timeout: no answer in time"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused (nothing was sent)"
    if request_never_sent(exc):
        return "could not connect (nothing was sent)"
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return "timeout while sending or reading"
    if any(isinstance(cause, ConnectionError) for cause in causes):
        return "connection reset or closed before a complete answer"
    cut = next(
        (cause for cause in causes if isinstance(cause, IncompleteRead | http.client.IncompleteRead)), None
    )
    if cut is not None:
        return f"the connection closed before the whole answer arrived ({_bytes_read(cut)})"
    framing = next((cause for cause in causes if _unframed(cause)), None)
    if framing is not None:
        # RFC 9112 §6.3: differing lengths cannot be told apart from a smuggled answer; urllib3's own
        # words name the values (never a URL or header of the request).
        return f"the answer's headers are not valid HTTP: {framing}"
    if any(isinstance(cause, DecodeError) for cause in causes):
        # A gzip answer cut short, or one a proxy already unpacked but still marks as gzip.
        return "the answer could not be unpacked as its Content-Encoding says (cut short, or not compressed)"
    return f"connection failed ({type(exc).__name__})"


def _unframed(cause: BaseException) -> bool:
    """urllib3's refusal of an answer whose Content-Length values differ."""
    return isinstance(cause, requests.exceptions.InvalidHeader | ValueError) and str(cause).startswith(
        "Content-Length contained multiple unmatching values"
    )


def _bytes_read(cut: BaseException) -> str:
    """How much of the answer came, as N of M bytes (urllib3 counts in ints, http.client keeps the bytes)."""
    partial, expected = getattr(cut, "partial", None), getattr(cut, "expected", None)
    read = len(partial) if isinstance(partial, bytes) else partial
    if isinstance(read, int) and isinstance(expected, int):
        return f"{read} of {read + expected} bytes"
    return "cut short"


# ----- the retry loop ---------------------------------------------------------------------------


@dataclass
class _Retry:
    error: UpstreamError
    wait: float | None = None
    unauthorized: bool = False


def send_with_retries(
    call: Call,
    send: Callable[[], RawResponse],
    accept: Callable[[RawResponse], T],
    policy: HttpPolicy,
    *,
    rate_limit: RateLimitRule = upstream_rate_limit,
    refresh_auth: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Send until ``accept`` takes a 2xx answer, within the policy's bounds (see the module doc).

    ``refresh_auth``: on a 401, called once (e.g. to drop a cached token) and the call is tried
    once more, on top of the attempts.
    """
    attempt = 0
    refreshed = False
    while True:
        attempt += 1
        outcome = _attempt(call, send, accept, rate_limit)
        if not isinstance(outcome, _Retry):
            return outcome
        if outcome.unauthorized:
            if refresh_auth is None or refreshed:
                raise outcome.error
            refreshed = True
            attempt -= 1
            log.warning("%s; getting new credentials and trying once more", outcome.error)
            refresh_auth()
            continue
        if attempt >= policy.max_attempts:
            raise outcome.error
        _pause(call, outcome, attempt, policy, sleep)


def _attempt(
    call: Call, send: Callable[[], RawResponse], accept: Callable[[RawResponse], T], rate_limit: RateLimitRule
) -> T | _Retry:
    if call.is_write:
        write_requests.request_out()
    try:
        raw = send()
    except requests.RequestException as exc:
        return _settled(call, _transport_failure(call, exc))
    except UpstreamError:
        raise  # already told what it is (a token refused, a redirect refused before any answer)
    except Exception as exc:
        if call.is_write:
            raise _unreadable_answer(call, 0, exc, "may have been") from None
        raise
    if 200 <= raw.status < 300:
        try:
            return accept(raw)
        except InvalidResponseError as exc:
            if call.is_write:
                detail = f"{exc.detail}; the write may have been applied, so it is not re-sent"
                raise call.error(raw.status, detail, AmbiguousWriteError) from None
            return _Retry(exc)
        except Exception as exc:
            if call.is_write:
                raise _unreadable_answer(call, raw.status, exc, "was") from None
            raise
    if 300 <= raw.status < 400:
        raise _redirect_error(call, raw)
    return _settled(call, _status_failure(call, raw, rate_limit))


def _unreadable_answer(call: Call, status: int, exc: Exception, applied: str) -> UpstreamError:
    """A write whose request went out and whose answer could not be read (a charset, a header): it
    ``applied`` ("was" for a 2xx, "may have been" before one) applied, so no retry may simply send
    it again (an AmbiguousWriteError: read back, or recorded as uncertain)."""
    detail = f"its answer could not be read ({type(exc).__name__}: {exc}); the write {applied} applied"
    return call.error(status, call.scrub(detail), AmbiguousWriteError)


def _settled(call: Call, retry: _Retry) -> _Retry:
    """A write retried is one that provably was not processed: nothing of it is out any more."""
    if call.is_write:
        write_requests.request_not_processed()
    return retry


def _transport_failure(call: Call, exc: requests.RequestException) -> _Retry:
    what = describe_transport_error(exc)
    if isinstance(exc, BodyTooLarge) and not call.is_write:
        raise call.error(0, what)  # the same page again would be as large: the channel fails now
    if call.is_write and not request_never_sent(exc):
        detail = f"{what}: the request may have been processed, so it is not re-sent"
        raise call.error(0, detail, AmbiguousWriteError) from None
    return _Retry(call.error(0, what))


def _status_failure(call: Call, raw: RawResponse, rate_limit: RateLimitRule) -> _Retry:
    limit = rate_limit(raw)
    error = call.error(raw.status, call.excerpt(raw) + _status_hint(raw.status))
    if call.show_body:
        error.error_body = raw.json_or_none()
    wait = limit.wait if limit else None
    if raw.status == 401:
        return _Retry(error, unauthorized=True)
    if call.is_write:
        if raw.status in WRITE_RETRY_STATUSES or (limit is not None and raw.status < 500):
            return _Retry(error, wait)
        if raw.status >= 500 and raw.status not in WRITE_REFUSED_5XX:
            detail = f"{error.detail}; the write may have been applied, so it is not re-sent"
            raise call.error(raw.status, detail, AmbiguousWriteError)
        raise error
    if raw.status in RETRY_STATUSES or limit is not None:
        return _Retry(error, wait)
    raise error


# Where a service sends a request whose credentials it did not take: its sign-in page (GitLab's
# /users/sign_in, Discourse's and Jira's /login, an SSO proxy's).
# Whole path segments only: a forum topic's slug ("/t/cant-login-after-upgrade/12") is no sign-in page.
SIGN_IN_SEGMENTS = frozenset(
    {"sign_in", "signin", "sign-in", "login", "login.jsp", "login.action", "sso", "saml", "oauth2", "realms"}
)
SIGN_IN_HINT = (
    "a sign-in page: the connection's credentials were not taken, expired or revoked, "
    "or its URL is not the API's"
)


def leads_to_sign_in(url: str) -> bool:
    """Whether ``url`` looks like a sign-in page (never followed: the error says what it is)."""
    return any(segment in SIGN_IN_SEGMENTS for segment in urlsplit(url).path.lower().split("/"))


def _status_hint(status: int) -> str:
    """What an answer that is not the service's own means, when its status says so."""
    if status == 407:
        # The proxy's page, not the service's: no retry mends it, and the service was never reached.
        return (
            " (407: a proxy between this worker and the service asks for credentials of its own; "
            "check the worker's proxy settings, HTTPS_PROXY/NO_PROXY)"
        )
    return ""


def _redirect_error(call: Call, raw: RawResponse) -> UpstreamError:
    location = raw.headers.get("location") or ""
    if raw.status == 304:
        # Not a redirect: nothing conditional is ever asked (no If-None-Match or If-Modified-Since).
        detail = "304 Not Modified, though nothing conditional was asked (a cache or proxy between): no page to read"
        return call.error(raw.status, detail, RedirectRefusedError)
    if not location.strip():
        # Read as a redirect to the URL asked, it said 'redirected to /latest.json', the path itself.
        detail = "a redirect with no Location: not followed (check the connection's URL and path)"
        if call.is_write and raw.status == 303:
            return call.error(raw.status, f"{detail}; the write may have been applied", AmbiguousWriteError)
        return call.error(raw.status, detail, RedirectRefusedError)
    target = urljoin(raw.url, location) if raw.url else location
    where = origin_label(target) or "an unnamed location"
    if raw.url and origin_label(target) == origin_label(raw.url):
        # On its own host: a page that moved (a renamed repository) or a login page. Either way the
        # list asked for is not what answered; the connection's base URL or path needs a look.
        path = urlsplit(target).path or "/"
        detail = f"redirected to {path} on its own host: not followed (check the connection's URL and path)"
        if leads_to_sign_in(target):
            detail = f"redirected to {path} on its own host: not followed ({SIGN_IN_HINT})"
    else:
        detail = f"redirected to {where}: not followed, so credentials never leave their host"
        if leads_to_sign_in(target):
            detail += f" ({SIGN_IN_HINT}: a single sign-on in front of the API?)"
        here, there = _origin(raw.url), _origin(target)
        if raw.url and here[0] == "http" and there[0] == "https" and here[1] == there[1]:
            # The server moved to https: the fix is the connection's URL, not a retry.
            detail += "; the server asks for https: write https:// in the connection's host"
    if call.is_write and raw.status == 303:
        return call.error(raw.status, f"{detail}; the write may have been applied", AmbiguousWriteError)
    return call.error(raw.status, detail, RedirectRefusedError)


def _pause(
    call: Call, retry: _Retry, attempt: int, policy: HttpPolicy, sleep: Callable[[float], None]
) -> None:
    # A wait that is no number ("Retry-After: NaN", a JSON NaN: float() and json read both) passed
    # every bound below (NaN compares false with all) and time.sleep refused it, naming nothing:
    # it is a wait not given. One below zero (a body's wait_seconds or backoff, a reset header in
    # seconds: -5, -Infinity) is a wait that is over; time.sleep refused it too.
    wait = retry.wait
    delay = max(wait, 0.0) if wait is not None and not math.isnan(wait) else policy.backoff(attempt)
    if delay > policy.max_wait:
        detail = (
            f"asked to wait {delay:.0f}s, more than the {policy.max_wait:.0f}s allowed "
            f"(http.max_wait_seconds); {retry.error.detail}"
        )
        raise call.error(retry.error.status, detail)
    log.warning("%s; retrying in %.1fs (attempt %d of %d)", retry.error, delay, attempt, policy.max_attempts)
    sleep(delay)


# ----- hosts and secrets ------------------------------------------------------------------------


def sends_in_clear(url: str) -> bool:
    """Whether what is sent to ``url`` crosses a network unencrypted: plain http to another machine."""
    scheme, host, _ = _origin(url)
    return scheme == "http" and host not in (None, "localhost", "::1") and not host.startswith("127.")


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, parts.hostname, port or DEFAULT_PORTS.get(scheme)


def same_origin(first: str, second: str) -> bool:
    """Same scheme, host and port: where credentials may go."""
    return _origin(first) == _origin(second)


def origin_label(url: str) -> str:
    """``scheme://host:port`` of a URL, without user info, path or query."""
    scheme, host, port = _origin(url)
    if not host:
        return "the same host" if url else ""
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


# Credentials this process obtained at run time (a UserVoice OAuth token): no connection or session
# holds them when a call is described, so every call scrubs them as it scrubs its connection's own.
_ISSUED_CREDENTIALS: set[str] = set()


def mask_issued_credential(value: str) -> None:
    """A credential obtained at run time: never shown in an error or a log, whatever call echoes it."""
    mask_secrets([value])
    if value:
        _ISSUED_CREDENTIALS.add(value)


# Airflow's own masker (``[logging] min_length_masked_secret``, 5) leaves shorter secrets alone.
SHORT_SECRET = 5


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` and each credential issued in this process shown as ``***``.

    A secret shorter than ``SHORT_SECRET`` characters (a one-letter password) is hidden only where
    it stands alone, not inside a longer word or number: replaced everywhere, it made every error
    unreadable ("i***ems of earlier pages") while hiding nothing that the rest of the text did not.
    """
    for secret in (*secrets, *_ISSUED_CREDENTIALS):
        if not secret:
            continue
        if len(secret) < SHORT_SECRET:
            alone = rf"(?<![0-9A-Za-z]){_secret_pattern(secret)}(?![0-9A-Za-z])"
            text = re.sub(alone, "***", text)
        else:
            text = text.replace(secret, "***")
            # Letters beyond ASCII ("ä") have echoed forms too ("\\u00e4", "%C3%A4").
            if not (secret.isalnum() and secret.isascii()):
                text = re.sub(_secret_pattern(secret), "***", text)
    return text


def secrets_finder(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern that finds any of ``secrets`` in any form ``scrub_secrets`` hides (None for none):
    a quick test before scrubbing many texts that almost never hold one."""
    forms = [_secret_pattern(secret) for secret in secrets if secret]
    return re.compile("|".join(forms)) if forms else None


# The longest form an echo writes one character in ("\\uD83D\\uDE00", "%F0%9F%98%80"; leading zeros
# of a numeric reference aside, "&#0000047;", which no escaper writes).
_ECHO_CHARS_PER_CHAR = 12


def scrubbed_start(text: str, secrets: Iterable[str], length: int) -> str:
    """At most the first ``length`` characters of ``text`` scrubbed, read in time bounded by
    ``length`` and the secrets' lengths rather than the text's.

    Scrubbing a whole answer before cutting it read each near copy of a long secret to its end
    from each place the secret's start stood (a 1.2 KB secret that repeats itself, near copies
    of it filling a 1.2 MB error page: 2 to 5 s). Only a window reaching every echo that starts
    in the part shown is scrubbed; the window's last stretch, where an echo cut by the window's
    end would stand unfound, is dropped, so no part of a secret is shown (the excerpt may be
    shorter where the window is mostly echoes).
    """
    secrets = tuple(secrets)
    longest = max((len(secret) for secret in (*secrets, *_ISSUED_CREDENTIALS)), default=0)
    margin = _ECHO_CHARS_PER_CHAR * longest
    if len(text) <= length + margin:
        return scrub_secrets(text, secrets)[:length]
    scrubbed = scrub_secrets(text[: length + margin], secrets)
    return scrubbed[: max(0, min(length, len(scrubbed) - margin))]


# How an upstream that echoes a request writes a character of it back: HTML entities (an error
# page), beside the JSON escapes and percent-encodings of ``_char_forms``.
_HTML_FORMS = {"&": ("&amp;",), "<": ("&lt;",), ">": ("&gt;",), '"': ("&quot;",), "'": ("&#39;", "&#x27;")}


def _char_forms(char: str) -> str:
    """A regex for ``char`` as an echo may write it: itself, a JSON escape (``\\/``, ``\\u0026``
    as Rails writes & < >), percent-encoded (either case; ``+`` for a space), an HTML entity, named
    or numeric (``&#x2F;``, ``&#47;``)."""
    if char.isalnum() and char.isascii():
        return re.escape(char)
    forms = [re.escape(char), *(re.escape(form) for form in _HTML_FORMS.get(char, ()))]
    escaped = json.dumps(char)[1:-1]
    if escaped != char:
        forms.append(re.escape(escaped))
    if char == "/":
        forms.append(re.escape("\\/"))
    if ord(char) < 0x10000:
        forms.append(f"\\\\u(?i:{ord(char):04x})")
    else:  # as its UTF-16 pair, in either case ("\\uD83D\\uDE00")
        high, low = divmod(ord(char) - 0x10000, 0x400)
        forms.append(f"\\\\u(?i:{0xD800 + high:04x})\\\\u(?i:{0xDC00 + low:04x})")
    forms.append("".join(f"%(?i:{byte:02x})" for byte in char.encode("utf-8", "surrogatepass")))
    # A numeric character reference, as escapers write what has no named entity (Rack: "&#x2F;").
    forms.append(f"&#0*{ord(char)};")
    forms.append(f"&#[xX]0*(?i:{ord(char):x});")
    if char == " ":
        forms.append(re.escape("+"))
    return "(?:" + "|".join(forms) + ")"


@functools.lru_cache(maxsize=256)
def _secret_pattern(secret: str) -> str:
    """A regex matching ``secret`` however an upstream's error echoes it: a token with ``/``, ``+``,
    ``=`` or ``&`` comes back JSON-escaped (``\\/``, ``\\u0026``) or URL-encoded (``%2F``, ``%3D``),
    which a plain replace did not find, and the credential stood in the error and the alert."""
    return "".join(_char_forms(char) for char in secret)


def mask_secrets(values: Iterable[str | None]) -> None:
    """Hand credentials to Airflow's secrets masker, so task logs never show them."""
    wanted = [value for value in values if value]
    if not wanted:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is always installed with the product
        return
    for value in wanted:
        mask_secret(value)


def session_secrets(session: requests.Session) -> tuple[str, ...]:
    """The credential values a session sends: secret headers and its auth's password or secret."""
    values: list[str] = []
    for name in SECRET_HEADERS:
        value = session.headers.get(name)
        if value:
            values.append(str(value))
            # "Bearer abc", "token abc": the credential alone too.
            values.extend(part for part in str(value).split()[1:] if len(part) > 3)
    for attribute in ("password", "client_secret", "token"):
        value = getattr(session.auth, attribute, None)
        if isinstance(value, str) and value:
            values.append(value)
    # HTTP Basic auth builds its header per request, so it is not among the session's headers: the
    # encoded "login:password" is as much the credential as the password (an error page may echo it).
    login, password = getattr(session.auth, "username", None), getattr(session.auth, "password", None)
    if isinstance(login, str | bytes) and isinstance(password, str | bytes) and password:
        values.append(_basic_credential(login, password))
    return tuple(dict.fromkeys(values))


def _basic_credential(login: str | bytes, password: str | bytes) -> str:
    """What ``Authorization: Basic`` carries for this login, as requests encodes it."""
    raw = [part.encode("latin1") if isinstance(part, str) else part for part in (login, password)]
    return base64.b64encode(b":".join(raw)).decode("ascii")


# ----- HttpHook -------------------------------------------------------------------------------


def relative_endpoint(url: str) -> str:
    """A Link / next URL as path and query, since HttpHook appends the endpoint to its base URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class ApiClient:
    """JSON over an Airflow HTTP connection (HttpHook's session), through :func:`send_with_retries`.

    The connection gives the base URL, auth and headers (HttpHook reads it); every call has the
    policy's connect and read timeouts; redirects are followed only on the same host and port.
    """

    def __init__(
        self,
        conn_id: str,
        service: str,
        *,
        policy: HttpPolicy | None = None,
        max_attempts: int | None = None,
        max_wait_seconds: float | None = None,
        base_delay: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        strip_base_path: bool = True,
        auth_type: Any = None,
        shown_endpoint: Callable[[str], str] | None = None,
        rate_limit: RateLimitRule = upstream_rate_limit,
    ) -> None:
        policy = policy or HttpPolicy.from_settings()
        self.policy = replace(
            policy,
            max_attempts=max_attempts or policy.max_attempts,
            max_wait=policy.max_wait if max_wait_seconds is None else max_wait_seconds,
            base_delay=policy.base_delay if base_delay is None else base_delay,
        )
        self.conn_id = conn_id
        self.service = service
        self.rate_limit = rate_limit
        self._sleep = sleep
        self._shown = shown_endpoint or (lambda endpoint: endpoint.split("?", 1)[0])
        self._hook: Any = None
        self._session: requests.Session | None = None
        self._base_path: str | None = None if strip_base_path else ""
        self._auth_type = auth_type
        self._secrets: tuple[str, ...] = ()
        self.request_count = 0

    def _connect(self) -> requests.Session:
        if self._session is None:
            from airflow.providers.http.hooks.http import HttpHook

            kwargs = {"auth_type": self._auth_type} if self._auth_type is not None else {}
            hook = HttpHook(method="GET", http_conn_id=self.conn_id, **kwargs)
            try:
                connected = hook.get_conn()
            except SettingsError:
                raise
            except ValueError as exc:
                # The connection lacks what its auth needs (a UserVoice client id or secret): no
                # retry mends it, so it fails the task at once, naming the connection to fix.
                raise SettingsError(f"connection {self.conn_id!r} cannot be used: {exc}") from None
            session = with_body_deadline(connected, self.policy)
            # A host written with a trailing slash ("https://chat.example.com/") joined our
            # endpoints as "//hooks/…", which the server redirects or does not know.
            hook.base_url = (hook.base_url or "").rstrip("/")
            self.add_secrets(session_secrets(session))
            # The session's auth and headers, and what its caller put in a path (a Mattermost
            # webhook's id): Airflow reads a host written without a scheme as http, so in clear.
            if self._secrets and sends_in_clear(hook.base_url):
                log.warning(
                    "%s: connection %r sends its credentials over plain http to %s; write https:// in its host",
                    self.service,
                    self.conn_id,
                    origin_label(hook.base_url),
                )
            self._hook, self._session = hook, session
        return self._session

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Values never to show in errors or logs (also handed to Airflow's secrets masker)."""
        new = tuple(value for value in values if value)
        mask_secrets(new)
        self._secrets = tuple(dict.fromkeys(self._secrets + new))

    @property
    def sends_credentials(self) -> bool:
        """Whether the connection's session sends credentials (auth or a secret header)."""
        return bool(session_secrets(self._connect()))

    def scrub(self, text: str) -> str:
        """``text`` without the secrets this client knows (as every error it raises itself)."""
        return scrub_secrets(text, self._secrets)

    def scrub_start(self, text: str, length: int) -> str:
        """At most the first ``length`` characters of ``text`` scrubbed (see :func:`scrubbed_start`)."""
        return scrubbed_start(text, self._secrets, length)

    def base_path(self) -> str:
        """The path part of the connection's base URL (e.g. ``/discourse``)."""
        if self._base_path is None:
            self._connect()
            self._base_path = urlsplit(self._hook.base_url or "").path.rstrip("/")
        return self._base_path

    def endpoint_from_url(self, url: str) -> str:
        """A next-page URL the upstream returned, made relative to the connection's base URL."""
        endpoint = relative_endpoint(url)
        base = self.base_path()
        return endpoint[len(base) :] if base and endpoint.startswith(base + "/") else endpoint

    def call(self, method: str, endpoint: str, **options: Any) -> Call:
        self._connect()
        return Call(self.service, method.upper(), self._shown(endpoint), secrets=self._secrets, **options)

    def _send(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str],
    ) -> RawResponse:
        session = self._connect()
        url = self._hook.url_from_endpoint(endpoint)
        for _ in range(MAX_REDIRECTS + 1):
            self.request_count += 1
            response = session.request(
                method,
                url,
                params=params,
                json=body,
                headers=dict(headers),
                timeout=self.policy.timeout,
                allow_redirects=False,
            )
            target = urljoin(url, response.headers.get("location") or "")
            followed = response.is_redirect and method in SAFE_METHODS and same_origin(url, target)
            if not followed or leads_to_sign_in(target):
                return RawResponse.of(response)
            response.close()
            # A Location with a query of its own carries the request's (GitHub's, GitLab's do); one
            # without keeps the request's parameters: the page number, the window, the JQL.
            url, params = target, (None if urlsplit(target).query else params)
        # Still redirected on its own host after that many: a loop, not a redirect refused.
        detail = f"still redirected after {MAX_REDIRECTS} redirects on its own host: a redirect loop"
        raise self.call(method, endpoint).error(response.status_code, detail)

    def _refresher(self) -> Callable[[], None] | None:
        drop = getattr(self._connect().auth, "drop_token", None)
        return drop if callable(drop) else None

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: Callable[[Call, RawResponse], T] | None = None,
    ) -> Any:
        """One call, retried as the module says; ``accept`` turns a 2xx answer into the result."""
        method = method.upper()
        call = self.call(method, endpoint)
        take = accept or (_accept_json if method in SAFE_METHODS else _accept_any)
        return send_with_retries(
            call,
            lambda: self._send(method, endpoint, params, json_body, headers or {}),
            lambda raw: take(call, raw),
            self.policy,
            rate_limit=self.rate_limit,
            refresh_auth=self._refresher(),
            sleep=self._sleep,
        )

    def get_json(self, endpoint: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        """A GET whose answer must be JSON (any shape); see :meth:`get_page` for a typed page."""
        return self.request("GET", endpoint, params=params)

    def get_page(self, endpoint: str, shape: type[T], params: Mapping[str, Any] | None = None) -> T:
        """A GET whose answer must be the typed page ``shape`` (else retried, then raised)."""
        return self.request(
            "GET", endpoint, params=params, accept=lambda call, raw: parse_page(call, raw, shape)
        )

    def post_json(self, endpoint: str, body: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
        """A write: retried only when it provably was not processed (see the module doc)."""
        return self.request("POST", endpoint, json_body=body, headers=headers)


def _accept_json(call: Call, raw: RawResponse) -> ApiResponse:
    return ApiResponse(raw.status, raw.headers, json_body(call, raw), raw.text)


def _accept_any(call: Call, raw: RawResponse) -> ApiResponse:
    return ApiResponse(raw.status, raw.headers, write_answer(call, raw), raw.text)


def write_answer(call: Call, raw: RawResponse) -> Any:
    """A write's 2xx answer, decoded where it is JSON (else None).

    A 2xx is the service's word that it applied the write, whatever its body says (Mattermost
    answers "ok"), unless the answer is an HTML page: a proxy's or sign-in page answered in the
    service's place, which may or may not have passed the request on (InvalidResponseError, which
    the retry loop turns into an AmbiguousWriteError: read back, or recorded as uncertain)."""
    content_type = (raw.headers.get("content-type") or "").lower()
    if "html" in content_type or raw.text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        detail = f"an HTML page, not the service's answer; body starts: {call.excerpt(raw)!r}"
        raise call.error(raw.status, detail, InvalidResponseError)
    return raw.json_or_none()


def created_answer(call: Call, raw: RawResponse, what: str) -> dict[str, Any]:
    """The 2xx answer of a write that creates ``what`` (a comment, a note): the object made, with its
    id, as GitHub and GitLab answer every create.

    Any other 2xx (no body, ``{}``, a list, a gateway's or queueing proxy's own JSON) came from
    something in the service's place and does not show that anything was made: taken as made, the
    write's key would be recorded sent and, if nothing was, it would be lost for good.
    InvalidResponseError, which the retry loop turns into an AmbiguousWriteError (the write is read
    back before any resend)."""
    data = write_answer(call, raw)
    made = data.get("id") if isinstance(data, dict) else None
    if not isinstance(made, int) or isinstance(made, bool):
        detail = f"the answer does not show the {what} made: {call.excerpt(raw)!r}"
        raise call.error(raw.status, detail, InvalidResponseError)
    return data
