"""A scenario folder: ``scenario.yaml`` plus one sub-folder of upstream data per service.

``scenario.yaml`` holds ``now`` (required), ``variables``, ``closeout`` and ``faults``; each
registered service reads its own folder (``github/``, ``discourse/`` ...) through its ``load``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from community_sandbox.loading import ScenarioError, parse_time
from community_sandbox.registry import SERVICES

__all__ = ["Fault", "Scenario", "ScenarioError", "load_scenario"]

SCENARIO_FILE = "scenario.yaml"
FAULT_KEYS = frozenset({"service", "method", "path", "query", "status", "times", "retry_after", "body"})


@dataclass(frozen=True)
class Fault:
    """Answer matching requests with ``status`` instead of the real handler, ``times`` times."""

    service: str
    path: re.Pattern[str]  # searched in the request path (no query string)
    status: int
    method: str | None = None
    query: re.Pattern[str] | None = None  # searched in the raw query string, when given
    times: int | None = None  # None: every matching request
    retry_after: int | None = None
    body: Any = None  # replaces the service's error body when given

    def matches(self, service: str, method: str, path: str, query_string: str) -> bool:
        return (
            service == self.service
            and (self.method is None or method == self.method)
            and self.path.search(path) is not None
            and (self.query is None or self.query.search(query_string) is not None)
        )


@dataclass
class Scenario:
    root: Path
    now: datetime
    variables: dict[str, Any] = field(default_factory=dict)
    closeout: dict[str, Any] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # service name -> what its ``load`` returned


def _mapping(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f'{SCENARIO_FILE}: "{key}" must be a mapping, found {type(value).__name__}')
    return value


def _whole_number(where: str, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} (a whole number >= {minimum})')
    return value


def _pattern(where: str, key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ScenarioError(f'{where} has a bad "{key}": {value!r} (a regular expression)')
    try:
        return re.compile(value)
    except re.error as exc:
        raise ScenarioError(f'{where} has a bad "{key}" regex {value!r}: {exc}') from None


def _fault(index: int, raw: Any) -> Fault:
    where = f"{SCENARIO_FILE}: faults item {index}"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a mapping")
    unknown = sorted(set(raw) - FAULT_KEYS)
    if unknown:
        raise ScenarioError(f"{where} has unknown keys {unknown} (allowed: {sorted(FAULT_KEYS)})")
    for key in ("service", "path", "status"):
        if raw.get(key) is None:
            raise ScenarioError(f'{where} has no "{key}"')
    known = sorted(service.name for service in SERVICES)
    if raw["service"] not in known:
        raise ScenarioError(f'{where} has an unknown "service": {raw["service"]!r} (one of {known})')
    status = _whole_number(where, "status", raw["status"], 100)
    if status > 599:
        raise ScenarioError(f'{where} has a bad "status": {status!r} (100-599)')
    method = raw.get("method")
    if method is not None and not isinstance(method, str):
        raise ScenarioError(f'{where} has a bad "method": {method!r}')
    return Fault(
        service=raw["service"],
        path=_pattern(where, "path", raw["path"]),
        status=status,
        method=method.upper() if method else None,
        query=_pattern(where, "query", raw["query"]) if raw.get("query") is not None else None,
        times=_whole_number(where, "times", raw["times"], 1) if raw.get("times") is not None else None,
        retry_after=(
            _whole_number(where, "retry_after", raw["retry_after"], 0)
            if raw.get("retry_after") is not None
            else None
        ),
        body=raw.get("body"),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario folder; every problem is a ScenarioError naming the file."""
    root = Path(path)
    if not root.is_dir():
        raise ScenarioError(f"{root}: not a scenario folder (no such directory)")
    config_path = root / SCENARIO_FILE
    if not config_path.is_file():
        raise ScenarioError(f"{SCENARIO_FILE}: missing in {root}")
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{SCENARIO_FILE}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{SCENARIO_FILE}: expected a mapping at the top, found {type(raw).__name__}")
    if raw.get("now") is None:
        raise ScenarioError(f'{SCENARIO_FILE}: has no "now" (the ISO time used as T)')
    try:
        now = parse_time(raw["now"])
    except ValueError:
        raise ScenarioError(f'{SCENARIO_FILE}: "now" is not an ISO-8601 time: {raw["now"]!r}') from None
    faults_raw = raw.get("faults") or []
    if not isinstance(faults_raw, list):
        raise ScenarioError(f'{SCENARIO_FILE}: "faults" must be a list')
    return Scenario(
        root=root,
        now=now,
        variables=_mapping(raw, "variables"),
        closeout=_mapping(raw, "closeout"),
        faults=[_fault(index, item) for index, item in enumerate(faults_raw)],
        data={service.name: service.load(root) for service in SERVICES},
    )
