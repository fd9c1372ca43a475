"""Scenario faults: what ``scenario.yaml``'s ``faults`` list makes the sandbox do instead of answering.

Each item is ``{service, method?, path (regex), query? (regex), times?, kind, ...}``; ``kind``
(default ``status``) decides what the matching requests get:

- ``status``: ``status`` in the service's own error format (``retry_after``, ``body`` optional);
  with ``applied: true``, a write is first applied and recorded in the outbox, as by an upstream
  (or a gateway in front of it) that answers 502 or 504 after the request was processed;
- ``body``: raw ``body`` (text, or a mapping/list sent as JSON) with ``content_type``, status 200
  unless ``status`` says otherwise (an HTML error page, truncated JSON, ``{}``...);
- ``stall``: read the request, answer nothing for ``seconds``, then close the connection;
- ``reset``: close the connection (TCP reset) right after reading the request; a write is first
  applied and recorded in the outbox, as by an upstream that accepted it and dropped the line;
- ``redirect``: ``302`` (or ``status``, 3xx) with ``Location: location`` (relative or absolute);
- ``slow``: answer normally, after ``seconds``.
- ``cut``: the handler's answer with its whole ``Content-Length``, but only its first ``bytes`` bytes
  of body (default: half; at most all but the last byte), then the connection closes: an upstream or
  proxy that dropped the line mid-answer. A write is applied and recorded first (its answer is what was cut).

``status``, ``body`` and ``redirect`` faults may add ``headers`` (a mapping of header name to text),
set on the answer last: the ways real APIs signal things in headers, e.g. GitHub's primary rate limit
(403 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``), a ``Link`` whose next page is the
page itself or another host, GitLab's ``X-Next-Page``.

``times`` counts how many matching requests get the fault (default: every one). Every problem
is a ScenarioError naming ``faults item N`` and the key at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from community_sandbox.loading import ScenarioError

__all__ = ["FAULT_KINDS", "Fault", "parse_fault"]

COMMON_KEYS = ("service", "method", "path", "query", "times", "kind")
# kind -> (keys it needs, keys it may have)
FAULT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "status": (("status",), ("retry_after", "body", "headers", "applied")),
    "body": (("body",), ("status", "content_type", "retry_after", "headers")),
    "stall": (("seconds",), ()),
    "reset": ((), ()),
    "redirect": (("location",), ("status", "headers")),
    "slow": (("seconds",), ()),
    "cut": ((), ("bytes",)),
}
DEFAULT_KIND = "status"
# A service as a scenario may name it after the product's channel ("forum", "stackoverflow") or in
# another case ("GitHub"): the same service as its folder's name.
SERVICE_ALIASES = {"forum": "discourse", "stackoverflow": "stackexchange", "stack_exchange": "stackexchange"}
STATUS_RANGES = {"status": (100, 599), "body": (100, 599), "redirect": (300, 399)}
DEFAULT_STATUS = {"body": 200, "redirect": 302}


@dataclass(frozen=True)
class Fault:
    """What matching requests get instead of (or besides) the real handler, ``times`` times."""

    service: str
    path: re.Pattern[str]  # searched in the request's paths (``Service.own_paths``; no query string)
    status: int | None = None  # status, body (default 200), redirect (default 302)
    method: str | None = None
    query: re.Pattern[str] | None = None  # searched in the raw query string, when given
    times: int | None = None  # None: every matching request
    retry_after: int | None = None
    body: Any = None  # status: replaces the service's error body; body: the raw answer
    kind: str = DEFAULT_KIND
    content_type: str | None = None  # body
    seconds: float | None = None  # stall, slow
    location: str | None = None  # redirect
    headers: tuple[tuple[str, str], ...] = ()  # status, body, redirect: set on the answer last
    applied: bool = False  # status: a write is applied (and in the outbox) before the status is answered
    cut_at: int | None = None  # cut: bytes of the body sent before the line drops (None: half)

    def matches(self, service: str, method: str, paths: tuple[str, ...], query_string: str) -> bool:
        return (
            service == self.service
            and (self.method is None or method == self.method)
            and any(self.path.search(path) is not None for path in paths)
            and (self.query is None or self.query.search(query_string) is not None)
        )


def _whole_number(where: str, key: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        wanted = f"{minimum}-{maximum}" if maximum is not None else f"a whole number >= {minimum}"
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} ({wanted})')
    if maximum is not None and value > maximum:
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} ({minimum}-{maximum})')
    return value


def _pattern(where: str, key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} (a regular expression)')
    try:
        return re.compile(value)
    except re.error as exc:
        raise ScenarioError(f'{where} has a bad "{key}" regex {value!r}: {exc}') from None


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} (a non-empty string)')
    return value


# A header name is a token (RFC 9110 §5.1); a value has no line break (it would split the answer).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _headers(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not value:
        raise ScenarioError(f'{where} has bad "headers": {value!r} (a mapping of header name to text)')
    headers = []
    for name, text in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ScenarioError(f'{where} has a bad header name in "headers": {name!r}')
        if (
            isinstance(text, bool)
            or not isinstance(text, str | int)
            or "\r" in str(text)
            or "\n" in str(text)
        ):
            raise ScenarioError(f"{where} has a bad value for header {name!r}: {text!r} (text on one line)")
        headers.append((name, str(text)))
    return tuple(headers)


def _seconds(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ScenarioError(f'{where} has a bad "seconds": {value!r} (a number of seconds >= 0)')
    return float(value)


def _kind(where: str, raw: dict[str, Any]) -> str:
    kind = raw.get("kind")
    if kind is None:
        return DEFAULT_KIND
    if not isinstance(kind, str) or kind not in FAULT_KINDS:
        raise ScenarioError(f'{where} has an unknown "kind": {kind!r} (one of {sorted(FAULT_KINDS)})')
    return str(kind)


def _check_keys(where: str, raw: dict[str, Any], kind: str, services: list[str]) -> None:
    """Unknown keys, keys this kind does not take, and missing required keys, each named."""
    needed, optional = FAULT_KINDS[kind]
    allowed = set(COMMON_KEYS) | set(needed) | set(optional)
    any_kind = {key for pair in FAULT_KINDS.values() for keys in pair for key in keys}
    for key in sorted(set(raw) - allowed, key=str):
        if key in any_kind:
            takers = sorted(name for name, pair in FAULT_KINDS.items() if key in pair[0] + pair[1])
            raise ScenarioError(
                f'{where} has "{key}", which kind "{kind}" does not take (only kinds {takers} do)'
            )
        raise ScenarioError(
            f"{where} has an unknown key {key!r} (allowed for kind {kind!r}: {sorted(allowed)})"
        )
    for key in ("service", "path", *needed):
        if raw.get(key) is None:
            raise ScenarioError(
                f'{where} has no "{key}"' + (f' (kind "{kind}" needs it)' if key in needed else "")
            )
    if raw["service"] not in services:
        raise ScenarioError(f'{where} has an unknown "service": {raw["service"]!r} (one of {services})')
    method = raw.get("method")
    if method is not None and (not isinstance(method, str) or not method.strip()):
        raise ScenarioError(f'{where} has a bad "method": {method!r}')


def _kind_fields(where: str, raw: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields that depend on the kind, checked."""
    fields: dict[str, Any] = {"kind": kind}
    if kind in STATUS_RANGES:
        low, high = STATUS_RANGES[kind]
        status = raw.get("status", DEFAULT_STATUS.get(kind))
        fields["status"] = _whole_number(where, "status", status, low, high)
    if raw.get("retry_after") is not None:
        fields["retry_after"] = _whole_number(where, "retry_after", raw["retry_after"], 0)
    if kind == "cut" and raw.get("bytes") is not None:
        fields["cut_at"] = _whole_number(where, "bytes", raw["bytes"], 0)
    if kind in ("stall", "slow"):
        fields["seconds"] = _seconds(where, raw["seconds"])
    if kind == "redirect":
        fields["location"] = _text(where, "location", raw["location"])
    if raw.get("headers") is not None:
        fields["headers"] = _headers(where, raw["headers"])
    if kind == "status":
        fields["body"] = raw.get("body")
        applied = raw.get("applied", False)
        if not isinstance(applied, bool):
            raise ScenarioError(f'{where} has a bad "applied": {applied!r} (true or false)')
        fields["applied"] = applied
    if kind == "body":
        body = raw["body"]
        if not isinstance(body, str | dict | list):
            raise ScenarioError(
                f'{where} has a bad "body": {body!r} (text, or a mapping or list sent as JSON)'
            )
        fields["body"] = body
        if raw.get("content_type") is not None:
            fields["content_type"] = _text(where, "content_type", raw["content_type"])
    return fields


def parse_fault(where: str, raw: Any, services: list[str]) -> Fault:
    """One ``faults`` item; ``where`` names it in errors (``scenario.yaml: faults item 3``)."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a mapping, found {type(raw).__name__}")
    kind = _kind(where, raw)
    if isinstance(raw.get("service"), str):
        named = raw["service"].strip().casefold()
        raw = {**raw, "service": SERVICE_ALIASES.get(named, named)}
    _check_keys(where, raw, kind, services)
    method = raw.get("method")
    return Fault(
        service=raw["service"],
        path=_pattern(where, "path", raw["path"]),
        method=method.strip().upper() if method else None,
        query=_pattern(where, "query", raw["query"]) if raw.get("query") is not None else None,
        times=_whole_number(where, "times", raw["times"], 1) if raw.get("times") is not None else None,
        **_kind_fields(where, raw, kind),
    )
