"""Reading scenario files, with errors that name the file (and item) a human has to fix.

Every service module reads its own folder of a scenario through these helpers, so the error
messages look the same everywhere: ``<file relative to the scenario>: <what is wrong>``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A scenario folder is missing something or holds malformed data; the message names the file."""


def relative_name(path: Path, root: Path) -> str:
    """The file's path inside the scenario (``github/o/r/issues.json``), as a scenario author sees it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def parse_time(value: Any) -> datetime:
    """An ISO-8601 string (``Z`` or offset) or datetime as aware UTC; naive times are taken as UTC."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)  # ValueError names the bad text
        if parsed.tzinfo is UTC:
            return parsed  # the usual case, already what astimezone would give
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        # YAML turns a bare ``2026-11-17`` into a date.
        parsed = datetime.combine(value, time())
    else:
        raise ValueError(f"not an ISO-8601 time: {value!r}")
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """UTC time the way GitHub and Discourse write it (``2026-11-17T10:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_json(path: Path, root: Path) -> Any:
    """Parse one JSON file; invalid JSON becomes a ScenarioError naming the file and line."""
    name = relative_name(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def read_optional_object(path: Path, root: Path) -> dict[str, Any] | None:
    """An optional JSON object file (e.g. ``repo.json``): None when absent, an error when not an object."""
    if not path.exists():
        return None
    value = read_json(path, root)
    if not isinstance(value, dict):
        raise ScenarioError(f"{relative_name(path, root)}: expected a JSON object")
    return value


def read_json_array(
    path: Path, root: Path, envelopes: tuple[tuple[str, ...], ...] = ()
) -> list[dict[str, Any]]:
    """A JSON array of objects; a missing file is an empty list (every data file is optional).

    ``envelopes`` are the key paths under which the upstream's own list response carries these
    objects (``("items",)`` for Stack Exchange, ``("topic_list", "topics")`` for Discourse's
    ``/latest.json``): a file that is such a response, copied whole from the API, is read as its
    list. Any other object is refused, naming the envelope(s) expected.
    """
    if not path.exists():
        return []
    data = read_json(path, root)
    name = relative_name(path, root)
    if isinstance(data, dict):
        for keys in envelopes:
            inner: Any = data
            for key in keys:
                inner = inner.get(key) if isinstance(inner, dict) else None
            if isinstance(inner, list):
                data = inner
                break
    if not isinstance(data, list):
        accepted = " or ".join(_envelope_text(keys) for keys in envelopes)
        also = f" (or the API's response holding it: {accepted})" if envelopes else ""
        raise ScenarioError(f"{name}: expected a JSON array{also}, found {type(data).__name__}")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ScenarioError(f"{name}: item {index} is {type(item).__name__}, expected an object")
    return data


def _envelope_text(keys: tuple[str, ...]) -> str:
    """``("topic_list", "topics")`` as ``{"topic_list": {"topics": [...]}}``."""
    text = "[...]"
    for key in reversed(keys):
        text = f'{{"{key}": {text}}}'
    return text


class ItemChecker:
    """Field checks for the items of one file, each failure naming file, item index and key."""

    def __init__(self, path: Path, root: Path) -> None:
        self.name = relative_name(path, root)

    def fail(self, index: int, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.name}: item {index} {problem}")

    def require(self, item: dict[str, Any], index: int, *keys: str) -> None:
        for key in keys:
            if item.get(key) is None:
                raise self.fail(index, f'has no "{key}"')

    def integer(self, item: dict[str, Any], index: int, key: str) -> int:
        self.require(item, index, key)
        value = item[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(index, f'has a non-integer "{key}": {value!r}')
        return value

    def author(self, item: dict[str, Any], index: int, key: str) -> None:
        """``key`` is there, as the API always sends it (null for an account that is gone, where the
        API says so with a null): a file without it would serve an item the API never sends."""
        if key not in item:
            raise self.fail(index, f'has no "{key}" (the API always sends it; null for a deleted account)')

    def time(self, item: dict[str, Any], index: int, key: str, *, required: bool = True) -> datetime | None:
        if item.get(key) is None:
            if required:
                raise self.fail(index, f'has no "{key}"')
            return None
        try:
            return parse_time(item[key])
        except ValueError:
            raise self.fail(index, f'has a bad "{key}" (not an ISO-8601 time): {item[key]!r}') from None

    def unique(self, items: list[dict[str, Any]], key: str) -> None:
        seen: set[Any] = set()
        for index, item in enumerate(items):
            value = item.get(key)
            if value in seen:
                raise self.fail(index, f'repeats "{key}" {value!r}')
            seen.add(value)


def rewrite_urls(value: Any, upstream: str, api: str) -> Any:
    """A copy of ``value`` with every URL under ``upstream`` pointed at the sandbox's ``api``.

    Real clients follow the URLs they are given (and PyGithub checks their host), so they must lead
    back to the sandbox. The top level is always a new object, which the caller may complete;
    nested objects that hold no such URL are shared with ``value``, not copied (copying every
    user and label object of 100k posts a day was most of the sandbox's start), so a caller
    that changes a nested object copies it first.
    """
    rewritten = _rewrite(value, upstream, api)
    if rewritten is value and isinstance(value, dict | list):
        return type(value)(value)
    return rewritten


def _rewrite(value: Any, upstream: str, api: str) -> Any:
    """``value`` itself when it holds no URL under ``upstream``, else a rewritten copy."""
    if isinstance(value, str):
        return api + value[len(upstream) :] if value.startswith(upstream) else value
    if isinstance(value, dict):
        entries: Any = value.items()
    elif isinstance(value, list):
        entries = enumerate(value)
    else:
        return value
    copied: Any = None
    for key, item in entries:
        # Strings are checked here rather than in a call each: most of the data is strings.
        if isinstance(item, str):
            if not item.startswith(upstream):
                continue
            rewritten = api + item[len(upstream) :]
        elif isinstance(item, (dict, list)):
            rewritten = _rewrite(item, upstream, api)
            if rewritten is item:
                continue
        else:
            continue
        if copied is None:
            copied = type(value)(value)
        copied[key] = rewritten
    return value if copied is None else copied
