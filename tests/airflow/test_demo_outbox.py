"""`make demo` on the demo scenario sends exactly the checked-in outbox (behaviour kept across refactors).

`include/scenarios/demo/expected-outbox.json` is the outbox of the demo run (service, method,
path and body of every write, in a stable order). A change that alters what the product sends
must change that file on purpose, in the same commit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import PROJECT_ROOT, base_env

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"


def normalised(outbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was sent, without the receive times, in a stable order (tasks may run in any order)."""
    entries = [{k: e[k] for k in ("service", "method", "path", "body")} for e in outbox]
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


def test_demo_sends_the_expected_outbox(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "community_devtools.demo", "--scenario", str(DEMO), "--output", str(tmp_path)],
        env=base_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sent = normalised(json.loads((tmp_path / "outbox.json").read_text(encoding="utf-8")))
    expected = json.loads((DEMO / "expected-outbox.json").read_text(encoding="utf-8"))
    assert [(e["path"], str(e["body"])[:60]) for e in sent] == [
        (e["path"], str(e["body"])[:60]) for e in expected
    ]
    assert sent == expected
