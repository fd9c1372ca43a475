"""Run the real Airflow components of ``make airflow`` on loopback for a test.

What an operator does, a test can do: trigger runs through the REST API with a conf (as the UI
does), create backfills with the ``airflow backfill`` CLI (the running scheduler executes them),
clear tasks, stop the scheduler in the middle of a run and start it again.

    with LiveAirflow(tmp_path / "airflow", env={**sandbox_connections(...), ...}) as af:
        af.wait_until_parsed("community_daily_monitoring")
        af.unpause("community_daily_monitoring")
        status, run = af.trigger("community_daily_monitoring", {"as_of": "2026-11-18T09:00:00+00:00"})
        assert af.wait_for_run("community_daily_monitoring", run["dag_run_id"]) == "success", af.tail_logs()

``LiveAirflow`` is ``community_devtools.local_airflow.LocalAirflow`` (what ``make airflow`` runs:
api-server, scheduler, dag-processor, triggerer; LocalExecutor; SQLite metadata DB whose writers
wait for the lock; simple auth manager with the generated ``admin`` password; every component
logging to ``<home>/component-logs/<name>.log``) with a test's overrides (``TEST_ENV``: fast
heartbeats, rare re-parsing, one task retry, short HTTP backoff; no scheduled runs unless asked)
and a REST client. Each instance has its own AIRFLOW_HOME and free port. Every process it started,
and their descendants, is killed at ``stop()``, which the context manager and the
``live_airflow`` fixture always call.

Environment overrides given at start (connections and Variables as ``AIRFLOW_CONN_*`` /
``AIRFLOW_VAR_*``) reach the tasks: LocalExecutor workers inherit the scheduler's environment.
"""

from __future__ import annotations

import atexit
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from community_devtools.local_airflow import STOP_GRACE, LocalAirflow, airflow_env, free_port, settings_pools

TERMINAL_RUN_STATES = frozenset({"success", "failed"})

# A test's settings on top of make airflow's.
TEST_ENV = {
    "AIRFLOW__API__EXPOSE_STACKTRACE": "True",
    # Parse once at start-up, re-parse rarely: CPU is scarce on a 2-core machine.
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
    "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "120",
    # Pick up new runs quickly, notice dead task runners soon after the scheduler restarts.
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    # Fail fast in tests: one task retry, short HTTP backoff (as harness.base_env).
    "COMMUNITY_TASK_RETRIES": "1",
    "COMMUNITY_RETRY_DELAY_SECONDS": "1",
    "COMMUNITY_HTTP_MAX_ATTEMPTS": "2",
    "COMMUNITY_HTTP_BASE_DELAY": "0.1",
}

_LIVE: set[LiveAirflow] = set()


def live_env(home: Path, port: int) -> dict[str, str]:
    """The environment every component, CLI call and task shares: make airflow's and the test's."""
    return {**airflow_env(home, port), **TEST_ENV}


class LiveAirflow(LocalAirflow):
    """make airflow's components, started as subprocesses on 127.0.0.1, with a REST client."""

    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        use_job_schedule: bool = False,
    ) -> None:
        """``env`` overrides the shared environment (connections, Variables, ``AIRFLOW__*``).

        ``use_job_schedule=False`` (default): the scheduler creates no scheduled runs. Otherwise,
        unpausing a ``catchup=False`` DAG immediately starts a run for its latest interval (real
        clock), which posts digests and, with ``max_active_runs=1``, delays the runs under test.
        Manual runs and backfills run either way.
        """
        overrides = {**TEST_ENV, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(use_job_schedule), **(env or {})}
        super().__init__(home, env=overrides, port=port)
        self._token: str | None = None
        self._http = httpx.Client(base_url=self.base_url, trust_env=False, timeout=30)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> LiveAirflow:
        _LIVE.add(self)
        super().start(timeout)
        return self

    def stop(self, grace: float = STOP_GRACE) -> dict[str, str]:
        """Stop every component (and every task it spawned); idempotent."""
        try:
            return super().stop(grace)
        finally:
            _LIVE.discard(self)

    def __enter__(self) -> LiveAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._http.close()

    def stop_scheduler(self, graceful: bool = False) -> None:
        """Stop the scheduler. ``graceful=False`` (default) is a crash: SIGKILL to the scheduler and
        every task it was running; ``graceful=True`` sends SIGTERM and lets it shut down."""
        self.kill("scheduler", graceful=graceful)

    def start_scheduler(self) -> None:
        self.spawn("scheduler")

    def start_component(self, name: str) -> None:
        self.spawn(name)

    def stop_component(self, name: str, graceful: bool = True) -> None:
        self.kill(name, graceful=graceful)

    # --- CLI ----------------------------------------------------------------------------------------

    def backfill(
        self, dag_id: str, from_date: str, to_date: str, *extra: str
    ) -> subprocess.CompletedProcess[str]:
        """``airflow backfill create``; the running scheduler executes the runs it creates.

        ``extra``: e.g. ``"--reprocess-behavior", "completed"``, ``"--max-active-runs", "1"``.
        The window filters *logical dates* (inclusive), i.e. data-interval starts: with the daily
        ``0 7 * * *`` data-interval timetable, ``2026-11-16 .. 2026-11-17`` (midnights) holds one run
        (logical 11-16 07:00, T = 11-17 07:00), not two. See ``backfill_dry_run``.

        One call, no retries: make airflow's SQLite settings let it wait for the scheduler's writes
        instead of failing with "database is locked" (tests/airflow/test_make_airflow.py).
        """
        return self.cli(
            "backfill", "create", "--dag-id", dag_id, "--from-date", from_date, "--to-date", to_date, *extra
        )

    def backfill_dry_run(self, dag_id: str, from_date: str, to_date: str, *extra: str) -> list[str]:
        """The logical dates ``airflow backfill create --dry-run`` would run."""
        result = self.backfill(dag_id, from_date, to_date, "--dry-run", *extra)
        if result.returncode != 0:
            raise RuntimeError(result.stdout + result.stderr)
        table = result.stdout.split("Runs to be attempted:", 1)[-1]
        return re.findall(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[^ |]*", table)

    # --- REST API -----------------------------------------------------------------------------------

    def token(self, refresh: bool = False) -> str:
        if self._token is None or refresh:
            response = self._http.post(
                "/auth/token", json={"username": "admin", "password": self.admin_password}
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def api(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Call ``/api/v2/<path>`` as the admin user; returns ``(status, parsed JSON or text)``."""
        url = path if path.startswith("/") else f"/api/v2/{path}"
        for attempt in range(2):
            response = self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self.token(attempt > 0)}"},
            )
            if response.status_code != 401:
                break
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return response.status_code, body

    def _ok(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        status, body = self.api(method, path, json, params)
        if status >= 300:
            raise AssertionError(f"{method} {path} -> {status}: {body}")
        return body

    def wait_until_parsed(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the dag-processor has serialized the DAG and the API knows it."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.api("GET", f"dags/{dag_id}")
            if status == 200:
                self.timings.setdefault("parsed", time.monotonic() - self._spawned_at)
                return dict(body)
            if time.monotonic() > deadline:
                errors = self.api("GET", "importErrors")[1]
                raise TimeoutError(
                    f"{dag_id} not parsed after {timeout}s ({status}: {body}); "
                    f"import errors: {errors}\n{self.tail_logs()}"
                )
            time.sleep(0.5)

    def unpause(self, dag_id: str) -> None:
        self._ok("PATCH", f"dags/{dag_id}", {"is_paused": False}, params={"update_mask": "is_paused"})

    def pause(self, dag_id: str) -> None:
        self._ok("PATCH", f"dags/{dag_id}", {"is_paused": True}, params={"update_mask": "is_paused"})

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None, **fields: Any
    ) -> tuple[int, Any]:
        """POST a new manual run as the UI does (``logical_date`` is required by Airflow 3; null is fine)."""
        body = {"logical_date": logical_date, "conf": conf or {}, **fields}
        return self.api("POST", f"dags/{dag_id}/dagRuns", body)

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._ok("GET", f"dags/{dag_id}/dagRuns/{run_id}"))

    def list_runs(self, dag_id: str, run_type: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100, "order_by": "run_after"}
        if run_type:
            params["run_type"] = run_type
        return list(self._ok("GET", f"dags/{dag_id}/dagRuns", params=params)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        body = self._ok("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return list(body["task_instances"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def clear(self, dag_id: str, run_id: str, task_ids: list[str] | None = None, **options: Any) -> Any:
        """Clear task instances of one run (as the UI's Clear button); default: all of them, not only failed."""
        body = {"dry_run": False, "dag_run_id": run_id, "only_failed": False, "task_ids": task_ids, **options}
        return self._ok("POST", f"dags/{dag_id}/clearTaskInstances", body)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        """Wait until the run is success or failed; returns the state."""
        deadline = time.monotonic() + timeout
        while True:
            state = str(self.get_run(dag_id, run_id)["state"])
            if state in TERMINAL_RUN_STATES:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{dag_id}/{run_id} still {state} after {timeout}s: "
                    f"{self.task_states(dag_id, run_id)}\n{self.tail_logs()}"
                )
            time.sleep(1)

    def backfills(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self._ok("GET", "backfills", params={"dag_id": dag_id, "limit": 100})["backfills"])

    def wait_for_runs(
        self, dag_id: str, run_type: str = "backfill", count: int = 1, timeout: float = 300
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` runs of that type exist and all have finished; returns them.

        For backfills, fails at once when every backfill of the DAG is complete with fewer runs."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.list_runs(dag_id, run_type)
            finished = all(r["state"] in TERMINAL_RUN_STATES for r in runs)
            if len(runs) >= count and finished:
                return runs
            states = {r["dag_run_id"]: r["state"] for r in runs}
            if run_type == "backfill" and finished and len(runs) < count:
                backfills = self.backfills(dag_id)
                if backfills and all(b["completed_at"] for b in backfills):
                    raise AssertionError(f"backfills of {dag_id} completed with {states}, not {count} runs")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{run_type} runs of {dag_id} after {timeout}s: {states}\n{self.tail_logs()}"
                )
            time.sleep(1)

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 120
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = self.task_states(dag_id, run_id).get(task_id)
            if state in states:
                return str(state)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{task_id} in {run_id} is {state} after {timeout}s\n{self.tail_logs()}")
            time.sleep(0.5)


@atexit.register
def _stop_leftovers() -> None:
    for live in list(_LIVE):
        live.stop()


@pytest.fixture
def live_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveAirflow]]:
    """Factory: ``live_airflow(env={...})`` starts a LiveAirflow with its own home; all stop at teardown.

    Expose it in a conftest with ``from live_airflow import live_airflow  # noqa: F401``.
    """
    started: list[LiveAirflow] = []

    def start(env: dict[str, str] | None = None, **options: Any) -> LiveAirflow:
        live = LiveAirflow(tmp_path_factory.mktemp("live-airflow"), env=env, **options)
        started.append(live)
        return live.start()

    yield start
    for live in started:
        live.stop()


__all__ = ["TEST_ENV", "LiveAirflow", "free_port", "live_airflow", "live_env", "settings_pools"]
