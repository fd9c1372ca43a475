"""At 1,000 posts a day the daily and weekly DAGs send exactly the checked-in outbox.

Speed work (streaming, encodings, caches, faster rules) must not change a single decision: the
synthetic six-channel scenario of ``make bench`` at 1k posts (a fixed seed) is run through real
Airflow and its outbox compared with ``include/scenarios/scale-1k/expected-outbox.json``. A change
that alters what the product sends at scale must change that file on purpose, in the same commit
(``COMMUNITY_REGENERATE_SCALE_ORACLE=1`` rewrites it from the current code).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import PROJECT_ROOT, AirflowRunner
from test_demo_outbox import normalised

from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario
from community_sandbox.synth import write_scale_scenario

pytestmark = pytest.mark.airflow

ORACLE = PROJECT_ROOT / "include" / "scenarios" / "scale-1k" / "expected-outbox.json"
DAGS = ("community_daily_monitoring", "community_weekly_stale_review")


def test_outputs_at_1k_posts_a_day_stay_identical(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    scenario = tmp_path / "scale-1k"
    counts = write_scale_scenario(scenario, 1000)
    assert sum(counts.values()) > 1000
    running = sandbox(scenario)
    loaded = load_scenario(scenario)
    airflow.use_sandbox(running.base_url, loaded.variables)
    now = loaded.now.isoformat()
    for dag_id in DAGS:
        result = airflow.dags_test(dag_id, now, {"as_of": now})
        assert result.state == "success", result.log[-5000:]
    sent = normalised(running.outbox)
    assert any(e["body"].get("text", "").startswith("[Triage]") for e in sent)
    if os.environ.get("COMMUNITY_REGENERATE_SCALE_ORACLE") == "1":
        ORACLE.write_text(json.dumps(sent, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected: list[dict[str, Any]] = json.loads(ORACLE.read_text(encoding="utf-8"))
    assert [(e["path"], str(e["body"])[:80]) for e in sent] == [
        (e["path"], str(e["body"])[:80]) for e in expected
    ]
    assert sent == expected
