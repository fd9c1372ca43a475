"""Fixture scenarios written into tmp_path by the tests themselves, and a running sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from community_sandbox import Sandbox

NOW = "2026-11-17T10:00:00Z"
ScenarioWriter = Callable[..., Path]


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


@pytest.fixture
def write_scenario(tmp_path: Path) -> ScenarioWriter:
    """Write a scenario folder: ``files`` maps paths inside it to JSON data."""

    def write(files: dict[str, Any] | None = None, name: str = "scenario", **config: Any) -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "scenario.yaml").write_text(yaml.safe_dump({"now": NOW, **config}), encoding="utf-8")
        for relative, data in (files or {}).items():
            write_json(root / relative, data)
        return root

    return write


@pytest.fixture
def start_sandbox() -> Iterator[Callable[[Path], Sandbox]]:
    started: list[Sandbox] = []

    def start(root: Path) -> Sandbox:
        sandbox = Sandbox(root).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()
