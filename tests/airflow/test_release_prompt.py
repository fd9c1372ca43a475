"""The release prompt (SPEC §5) with a real scheduler: a daily run that sees a new release emits the
release Asset event, the scheduler starts the closeout DAG from it, and that run posts its dry-run
plan (PM and release manager mentioned, a link to the Trigger form) once, however often it is re-run.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import PROJECT_ROOT, sandbox_connections
from live_airflow import LiveAirflow

from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"
DAILY = "community_daily_monitoring"
CLOSEOUT = "community_release_closeout"
# The demo's v11.1.0 was published 2026-11-10 16:00 UTC: the next morning's run sees it.
DAY_AFTER_THE_RELEASE = "2026-11-11T09:00:00+00:00"
TWO_DAYS_AFTER = "2026-11-12T09:00:00+00:00"
CONTACTS = {"cm_lead": "cara.lead", "pm": "pat.pm", "release_manager": "rita.release"}
# Enough to see the release and plan its closeout; the other channels only cost time here.
SETTINGS = {"channels": {"disabled": ["gitlab", "stackoverflow", "forum"]}}
STATUS_UPDATES = "/uservoice/api/v2/admin/status_updates"


def scenario_the_day_after_the_release(root: Path) -> Path:
    """A copy of the demo scenario whose T is the morning after v11.1.0, with contacts set."""
    copy = root / "demo-day-after-release"
    shutil.copytree(DEMO, copy)
    raw = yaml.safe_load((copy / "scenario.yaml").read_text())
    raw["now"] = DAY_AFTER_THE_RELEASE
    raw["variables"]["community_contacts"] = CONTACTS
    (copy / "scenario.yaml").write_text(yaml.safe_dump(raw))
    return copy


def live_env(base_url: str, workdir: Path, scenario: Path) -> dict[str, str]:
    env = sandbox_connections(base_url, workdir / "ledger.db")
    variables: dict[str, Any] = dict(load_scenario(scenario).variables)
    variables["community_settings"] = {
        **SETTINGS,
        "paths": {
            "intermediate": str(workdir / "intermediate"),
            "archive": str(workdir / "archive"),
            "tracking_sheet": str(workdir / "tracking-sheet.xlsx"),
        },
    }
    for name, value in variables.items():
        env[f"AIRFLOW_VAR_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    # Asset-triggered runs are created by the scheduler's scheduling loop (use_job_schedule), which
    # would also start the daily DAG's latest interval on unpause: a cron that never fires keeps it
    # to the runs this test triggers.
    env["COMMUNITY_DAILY_CRON"] = "0 7 29 2 *"
    return env


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveAirflow, Sandbox]]:
    scenario = scenario_the_day_after_the_release(tmp_path)
    with Sandbox(scenario) as sandbox:
        env = live_env(sandbox.base_url, tmp_path / "work", scenario)
        with LiveAirflow(tmp_path / "airflow-home", env=env, use_job_schedule=True) as airflow:
            for dag_id in (DAILY, CLOSEOUT):
                airflow.wait_until_parsed(dag_id)
                airflow.unpause(dag_id)
            yield airflow, sandbox


def closeout_posts(sandbox: Sandbox) -> list[str]:
    return [
        e["body"]["text"]
        for e in sandbox.outbox
        if e["service"] == "mattermost"
        and e["path"] == "/hooks/pm-channel-hook"
        and e["body"]["text"].startswith("[Release Closeout]")
    ]


def run_daily(airflow: LiveAirflow, as_of: str) -> str:
    status, run = airflow.trigger(DAILY, {"as_of": as_of})
    assert status < 300, run
    assert airflow.wait_for_run(DAILY, run["dag_run_id"], timeout=240) == "success", airflow.tail_logs()
    return str(run["dag_run_id"])


def release_events(airflow: LiveAirflow) -> list[dict[str, Any]]:
    events = airflow._ok("GET", "assets/events", params={"source_dag_id": DAILY, "limit": 100})
    return list(events["asset_events"])


def wait_for_prompted_run(airflow: LiveAirflow, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (runs := airflow.list_runs(CLOSEOUT, "asset_triggered")):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no asset-triggered run of {CLOSEOUT}\n{airflow.tail_logs()}")
        time.sleep(1)
    [run] = runs
    return run


def test_a_new_release_prompts_one_dry_run_plan(live: tuple[LiveAirflow, Sandbox]) -> None:
    airflow, sandbox = live
    daily_run = run_daily(airflow, DAY_AFTER_THE_RELEASE)
    assert airflow.task_states(DAILY, daily_run)["announce_release"] == "success"
    [event] = release_events(airflow)
    assert event["extra"]["version"] == "11.1"
    assert event["extra"]["tag"] == "v11.1.0"
    assert event["extra"]["published_at"] == "2026-11-10T16:00:00+00:00"

    # The scheduler starts the closeout from the event: params from the event, always a dry run.
    prompted = wait_for_prompted_run(airflow)
    assert prompted["conf"] in ({}, None)
    state = airflow.wait_for_run(CLOSEOUT, prompted["dag_run_id"], timeout=180)
    assert state == "success", airflow.tail_logs()
    [plan] = closeout_posts(sandbox)
    lines = plan.splitlines()
    assert lines[0] == "[Release Closeout] plan for 11.1 (dry run)"
    assert lines[1].startswith("@pat.pm @rita.release Mattermost 11.1 was released on 2026-11-10.")
    assert "#### Would thank (4)" in plan
    assert "MM-61508 is not resolved yet" in plan
    assert f"[Open the Trigger form]({airflow.base_url}/dags/{CLOSEOUT})" in plan
    assert not [e for e in sandbox.outbox if e["path"] == STATUS_UPDATES]  # nothing thanked

    # Re-running the prompted run posts nothing more: one plan per release event.
    airflow.clear(CLOSEOUT, prompted["dag_run_id"])
    assert airflow.wait_for_run(CLOSEOUT, prompted["dag_run_id"], timeout=180) == "success"
    assert len(closeout_posts(sandbox)) == 1

    # The next day's run sees no new release: the task is skipped, no event, no closeout run.
    next_day = run_daily(airflow, TWO_DAYS_AFTER)
    assert airflow.task_states(DAILY, next_day)["announce_release"] == "skipped"
    assert len(release_events(airflow)) == 1
    assert len(airflow.list_runs(CLOSEOUT, "asset_triggered")) == 1

    # A manual run of the asset-scheduled DAG works as before, with the form's params.
    status, manual = airflow.trigger(
        CLOSEOUT, {"version": "11.1", "release_date": "2026-11-16", "dry_run": True}
    )
    assert status < 300, manual
    assert airflow.wait_for_run(CLOSEOUT, manual["dag_run_id"], timeout=180) == "success", airflow.tail_logs()
    summary = closeout_posts(sandbox)[-1]
    assert summary.startswith("[Release Closeout] Mattermost 11.1 (released 2026-11-16): DRY RUN")
    assert "@pat.pm" not in summary
