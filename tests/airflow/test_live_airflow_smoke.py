"""Smoke test of the live-Airflow harness: the real daily DAG, run by a real scheduler, on the demo sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import PROJECT_ROOT, sandbox_connections
from live_airflow import LiveAirflow

from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"
DAG_ID = "community_daily_monitoring"
AS_OF = "2026-11-18T09:00:00+00:00"


def sandbox_env(base_url: str, workdir: Path, scenario: Path) -> dict[str, str]:
    """Connections and Variables for one sandbox, as ``AirflowRunner.use_sandbox`` builds them."""
    env = sandbox_connections(base_url, workdir / "ledger.db")
    variables: dict[str, Any] = dict(load_scenario(scenario).variables)
    settings = variables.pop("community_settings", None) or {}
    if isinstance(settings, str):
        settings = json.loads(settings)
    variables["community_settings"] = {
        **settings,
        "paths": {
            "intermediate": str(workdir / "intermediate"),
            "archive": str(workdir / "archive"),
            "tracking_sheet": str(workdir / "tracking-sheet.xlsx"),
        },
    }
    for name, value in variables.items():
        env[f"AIRFLOW_VAR_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


@pytest.fixture
def demo_live(tmp_path: Path) -> Iterator[tuple[LiveAirflow, Sandbox, Path]]:
    with Sandbox(DEMO) as sandbox:
        env = sandbox_env(sandbox.base_url, tmp_path / "work", DEMO)
        with LiveAirflow(tmp_path / "airflow-home", env=env) as live:
            yield live, sandbox, tmp_path / "work"


def help_wanted_posts(sandbox: Sandbox) -> list[str]:
    return [
        e["body"]["text"]
        for e in sandbox.outbox
        if e["service"] == "mattermost" and e["path"] == "/hooks/help-channel-hook"
    ]


def test_live_airflow_runs_manual_runs_and_backfills(
    demo_live: tuple[LiveAirflow, Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    live, sandbox, workdir = demo_live
    timings = {"start (migrate+pools+components healthy)": live.timings["start"]}
    t0 = time.monotonic()
    live.wait_until_parsed(DAG_ID)
    live.unpause(DAG_ID)
    timings["dag parsed + unpaused"] = time.monotonic() - t0

    # A manual run with a conf, as the UI's "Trigger" form does.
    t0 = time.monotonic()
    status, run = live.trigger(DAG_ID, {"as_of": AS_OF})
    assert status == 200, run
    state = live.wait_for_run(DAG_ID, run["dag_run_id"], timeout=240)
    timings["manual run"] = time.monotonic() - t0
    assert state == "success", f"{live.task_states(DAG_ID, run['dag_run_id'])}\n{live.tail_logs()}"
    [digest] = help_wanted_posts(sandbox)
    assert digest.startswith("[Help Wanted] ")

    # A conf that breaks a param's type is refused by the API (400) before any run exists, and the
    # answer names the param. (``format: date-time`` is NOT checked by Airflow: {"as_of": "not a
    # date"} is accepted with 200 and fails later in check_run.)
    refusals = {}
    for conf in ({"as_of": 5},):
        status, body = live.trigger(DAG_ID, conf)
        refusals[json.dumps(conf)] = (status, body)
        assert status == 400, body
        assert f"Invalid input for param {next(iter(conf))}:" in body["detail"], body
    assert len(live.list_runs(DAG_ID, "manual")) == 1

    # The window filters logical dates (= data-interval starts, 07:00): 11-16..11-17 midnight is one run.
    t0 = time.monotonic()
    assert live.backfill_dry_run(DAG_ID, "2026-11-16", "2026-11-17") == ["2026-11-16 07:00:00+00:00"]
    timings["backfill --dry-run"] = time.monotonic() - t0

    # A two-day backfill created with the CLI, executed by the running scheduler.
    t0 = time.monotonic()
    created = live.backfill(DAG_ID, "2026-11-16", "2026-11-17T07:00:00+00:00")
    assert created.returncode == 0, created.stdout + created.stderr
    runs = live.wait_for_runs(DAG_ID, "backfill", count=2, timeout=240)
    timings["2-day backfill (create + both runs done)"] = time.monotonic() - t0
    assert [r["state"] for r in runs] == ["success", "success"], live.tail_logs()
    assert [r["data_interval_end"] for r in runs] == ["2026-11-17T07:00:00Z", "2026-11-18T07:00:00Z"]
    assert len(help_wanted_posts(sandbox)) == 1  # backfills archive, they do not post by default
    archived = sorted(p.parent.name for p in (workdir / "archive" / DAG_ID).glob("*/help_wanted.md"))

    with capsys.disabled():
        print("\nlive-airflow timings (s):", {k: round(v, 1) for k, v in timings.items()})
        for conf, (status, body) in refusals.items():
            print(f"trigger conf={conf} -> {status} {body}")
        for r in runs:
            print("backfill run:", r["dag_run_id"], r["state"], r["start_date"], r["end_date"], r["duration"])
        print("archived help_wanted digests:", archived)
