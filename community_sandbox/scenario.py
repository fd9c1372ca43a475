"""A scenario folder: ``scenario.yaml`` plus one sub-folder of upstream data per service.

``scenario.yaml`` holds ``now`` (required), ``variables``, ``closeout`` and ``faults`` (see
``faults``); each registered service reads its own folder (``github/``, ``discourse/`` ...) through
its ``load``. A missing folder means the service has no data: its projects/repos exist, empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from community_sandbox.faults import Fault, parse_fault
from community_sandbox.indexing import bulk_build
from community_sandbox.loading import ScenarioError, parse_time
from community_sandbox.registry import SERVICES

__all__ = ["Fault", "Scenario", "ScenarioError", "load_scenario"]

SCENARIO_FILE = "scenario.yaml"


@dataclass
class Scenario:
    root: Path
    now: datetime
    variables: dict[str, Any] = field(default_factory=dict)
    closeout: dict[str, Any] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # service name -> what its ``load`` returned
    data: dict[str, Any] = field(default_factory=dict)


def _mapping(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f'{SCENARIO_FILE}: "{key}" must be a mapping, found {type(value).__name__}')
    return value


def _faults(raw: dict[str, Any]) -> list[Fault]:
    items = raw.get("faults") or []
    if not isinstance(items, list):
        raise ScenarioError(f'{SCENARIO_FILE}: "faults" must be a list')
    services = sorted(service.name for service in SERVICES)
    return [
        parse_fault(f"{SCENARIO_FILE}: faults item {index}", item, services)
        for index, item in enumerate(items)
    ]


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
    variables, closeout, faults = _mapping(raw, "variables"), _mapping(raw, "closeout"), _faults(raw)
    with bulk_build():
        data = {service.name: service.load(root) for service in SERVICES}
    return Scenario(root=root, now=now, variables=variables, closeout=closeout, faults=faults, data=data)
