"""Every DAG file imports cleanly, does no I/O at parse time, and is wired as the team expects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Parses the DAG folder with every kind of parse-time I/O made to fail loudly, then reports.
PARSE_PROBE = r"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise RuntimeError("I/O at DAG-parse time")
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow.sdk
airflow.sdk.Variable.get = staticmethod(refuse)
from airflow.sdk.bases.hook import BaseHook
BaseHook.get_connection = classmethod(refuse)
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
# Besides the clients: the settings models (built at run time, when a rules file is read) and the
# AWS SDK, which Airflow loads to normalise an Asset URI whose scheme is not an "x-" one.
heavy = sorted(m for m in ("github", "gitlab", "pandas", "openpyxl", "requests_toolbelt", "sklearn", "scipy",
                           "community_monitoring.settings", "botocore") if m in sys.modules)
dev = sorted(m for m in sys.modules if m.split(".")[0] in ("community_sandbox", "community_devtools"))
dags = {
    dag_id: {
        "tags": sorted(dag.tags),
        "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries, "pool": t.pool,
                              "trigger_rule": getattr(t.trigger_rule, "value", str(t.trigger_rule)),
                              "timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                              "group": t.task_group.group_id if t.task_group else None,
                              "downstream": sorted(t.downstream_task_ids),
                              "upstream": sorted(t.upstream_task_ids)} for t in dag.tasks},
        "doc_md": bool(dag.doc_md),
        "timetable": type(dag.timetable).__name__,
        "catchup": dag.catchup,
        "params": sorted(dag.params.keys()),
        "param_defaults": dag.params.dump(),
    }
    for dag_id, dag in bag.dags.items()
}
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "heavy": heavy, "dev": dev, "dags": dags}))
"""


@pytest.fixture(scope="module")
def parsed() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(PROJECT_ROOT / "dags")],
        capture_output=True,
        text=True,
        # The dev packages are importable (as under `make demo`), so a DAG that used them would show.
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)])},
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_import_errors_and_no_parse_time_io(parsed: dict) -> None:
    assert parsed["errors"] == {}
    assert "community_daily_monitoring" in parsed["dags"]


def test_heavy_clients_are_not_imported_at_parse_time(parsed: dict) -> None:
    assert parsed["heavy"] == []


def test_dags_use_no_dev_tools(parsed: dict) -> None:
    """The deployed DAGs need only the product: never the sandbox or the dev tools."""
    assert parsed["dev"] == []


def test_daily_dag_shape(parsed: dict) -> None:
    dag = parsed["dags"]["community_daily_monitoring"]
    assert dag["doc_md"]
    assert "community" in dag["tags"]
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert dag["catchup"] is False
    # The manual trigger form asks only what matters for a manual run; a backfill sets
    # post_backfill_digests in its conf.
    assert dag["params"] == ["as_of"]
    tasks = dag["tasks"]
    assert {"extract_github", "extract_forum", "post_help_wanted_digest", "post_triage_list"} <= set(tasks)
    assert tasks["extract_github"]["pool"] == "github_api"
    assert tasks["extract_forum"]["pool"] == "forum_api"
    assert tasks["collect_channels"]["trigger_rule"] == "all_done"
    assert tasks["verify_all_channels_read"]["trigger_rule"] == "all_done"
    assert tasks["check_run"]["downstream"] == sorted(f"extract_{c}" for c in CHANNELS)
    # The release prompt (SPEC §5): after every channel was read or named missing.
    assert tasks["announce_release"]["upstream"] == ["collect_channels"]
    assert tasks["announce_release"]["group"] == "notify"
    # SPEC §10: the snapshot of post states at T, from every channel read (a write, so in notify).
    assert tasks["record_post_states"]["upstream"] == ["collect_channels"]
    assert tasks["record_post_states"]["group"] == "notify"
    assert tasks["record_post_states"]["downstream"] == []


CHANNELS = ("github", "gitlab", "forum", "stackoverflow", "uservoice", "jira")
GROUP_ORDER = {"extract": 0, "transform": 1, "notify": 2}


@pytest.mark.parametrize(
    "dag_id",
    [
        "community_daily_monitoring",
        "community_weekly_stale_review",
        "community_release_closeout",
        "community_triage_model",
    ],
)
def test_graph_reads_extract_transform_notify(parsed: dict, dag_id: str) -> None:
    """SPEC §2: three groups, edges only forward, no task feeding every other (≤ 7 downstream)."""
    tasks = parsed["dags"][dag_id]["tasks"]
    for task_id, task in tasks.items():
        assert task["group"] in GROUP_ORDER, (task_id, task["group"])
        assert len(task["downstream"]) <= 7, (task_id, task["downstream"])
        for child in task["downstream"]:
            assert GROUP_ORDER[tasks[child]["group"]] >= GROUP_ORDER[task["group"]], (task_id, child)
    assert tasks["check_run"]["group"] == "extract"
    assert tasks["collect_channels"]["group"] == "transform"
    assert tasks["verify_all_channels_read"]["group"] == "notify"
    assert all(t.startswith("extract_") for t in tasks if tasks[t]["group"] == "extract" and t != "check_run")


def test_all_dags_are_there(parsed: dict) -> None:
    assert set(parsed["dags"]) == {
        "community_daily_monitoring",
        "community_weekly_stale_review",
        "community_release_closeout",
        "community_triage_model",
    }
    for dag_id, dag in parsed["dags"].items():
        assert dag["doc_md"], dag_id
        assert "community" in dag["tags"], dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "community", (dag_id, task_id)
            # A stalled upstream can never hold a task (and the DAG's one active run) forever.
            assert task["timeout_s"] is not None, (dag_id, task_id)
            assert 0 < task["timeout_s"] <= 3600, (dag_id, task_id)
            # Every task, the checks included: a worker lost mid-task must not end a run red. Failures
            # that retrying cannot change (bad input, a channel not read) are final on their own.
            assert task["retries"] >= 2, (dag_id, task_id)


def test_weekly_dag_shape(parsed: dict) -> None:
    dag = parsed["dags"]["community_weekly_stale_review"]
    assert dag["timetable"] == "CronDataIntervalTimetable"
    # The forum is read too: "Aged out without an answer" lists every channel (SPEC §4).
    assert {
        "extract_github",
        "extract_gitlab",
        "extract_forum",
        "extract_stackoverflow",
        "post_weekly_review",
    } <= set(dag["tasks"])
    assert dag["tasks"]["extract_forum"]["pool"] == "forum_api"


def test_closeout_is_manual_with_its_form(parsed: dict) -> None:
    dag = parsed["dags"]["community_release_closeout"]
    # Manual (the form), and also started by the release Asset of the daily DAG (SPEC §5).
    assert dag["timetable"] == "AssetTriggeredTimetable"
    assert set(dag["params"]) == {"version", "release_date", "announcement_url", "dry_run"}
    # SPEC §4: dry_run defaults to false (a run triggered without it thanks for real).
    assert dag["param_defaults"]["dry_run"] is False
    tasks = dag["tasks"]
    assert tasks["post_thank_yous"]["pool"] == "uservoice_api"
    # One refused thank-you keeps neither the others' sheet rows nor the PM's summary back: both run
    # once the plan exists, whatever the thank-yous did; verify_thank_yous keeps such a run red.
    for task_id in ("update_tracking_sheet", "post_closeout_summary"):
        assert tasks[task_id]["trigger_rule"] == "all_done_min_one_success", task_id
        assert tasks[task_id]["upstream"] == ["plan_closeout", "post_thank_yous"], task_id
    assert tasks["verify_thank_yous"]["trigger_rule"] == "all_success"
    assert "post_thank_yous" in tasks["verify_thank_yous"]["upstream"]
    assert tasks["verify_thank_yous"]["downstream"] == []


def test_triage_model_dag_shape(parsed: dict) -> None:
    """SPEC §12: weekly and manual; reads the history of every channel the team decides on; posts nothing."""
    dag = parsed["dags"]["community_triage_model"]
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert dag["catchup"] is False
    assert dag["params"] == ["as_of"]
    tasks = dag["tasks"]
    history = ("github", "gitlab", "forum", "stackoverflow", "uservoice")
    assert tasks["check_run"]["downstream"] == sorted(f"extract_{c}" for c in history)
    assert all(tasks[f"extract_{c}"]["pool"] == f"{c}_api" for c in history)
    assert tasks["collect_channels"]["downstream"] == ["build_training_set", "verify_all_channels_read"]
    assert tasks["build_training_set"]["downstream"] == ["train_triage_model"]
    assert tasks["train_triage_model"]["downstream"] == ["report_model_card"]
    assert tasks["report_model_card"]["group"] == "notify"
    assert not [t for t in tasks if t.startswith("post_")]
