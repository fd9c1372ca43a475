"""``make airflow`` (community_devtools.local_airflow): up, answering, logged in, and gone after Ctrl-C;
and its SQLite metadata DB, where ``airflow backfill create`` waits for the scheduler's writes
instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psutil
import pytest
import sqlalchemy as sa
from harness import PROJECT_ROOT, sandbox_connections
from live_airflow import LiveAirflow

from community_devtools.local_airflow import (
    SQL_ALCHEMY_CONN,
    VENV_BIN,
    airflow_env,
    describe_database,
    free_port,
    port_is_free,
    write_sqlite_module,
)
from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"
DAILY = "community_daily_monitoring"
WEEKLY = "community_weekly_stale_review"


class Output:
    """The lines a subprocess prints, read in a thread (so a full pipe never blocks it)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, proc: subprocess.Popen[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.text):
                return match
            assert proc.poll() is None, f"exited with {proc.returncode}:\n{self.text}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} after {timeout}s:\n{self.text}")


def processes_with_home(home: Path) -> list[psutil.Process]:
    """Every process whose environment names this Airflow home (components, tasks, CLI calls)."""
    found = []
    for process in psutil.process_iter():
        try:
            if (
                process.environ().get("AIRFLOW_HOME") == str(home)
                and process.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture
def make_airflow(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, dict[str, Any]]]:
    """``python -m community_devtools.local_airflow`` on free ports with a tmp home and the demo scenario."""
    ports = {"airflow": free_port(), "sandbox": free_port()}
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SANDBOX_"))}
    cmd = [sys.executable, "-m", "community_devtools.local_airflow", "--scenario", str(DEMO)]
    cmd += ["--home", str(home), "--port", str(ports["airflow"]), "--sandbox-port", str(ports["sandbox"])]
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield proc, Output(proc), {"home": home.resolve(), **ports}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for leftover in processes_with_home(home.resolve()):
            leftover.kill()


def test_make_airflow_serves_the_ui_logs_in_and_stops_everything_on_ctrl_c(
    make_airflow: tuple[subprocess.Popen[str], Output, dict[str, Any]],
) -> None:
    proc, output, setup = make_airflow
    began = time.monotonic()
    url = output.wait_for(r"Airflow is ready: (http://\S+)", proc, timeout=180).group(1)
    ready_after = time.monotonic() - began
    password = output.wait_for(r"login\s+admin / (\S+)", proc, timeout=5).group(1)
    assert url == f"http://127.0.0.1:{setup['airflow']}"
    passwords = setup["home"] / "simple_auth_manager_passwords.json.generated"
    assert json.loads(passwords.read_text()) == {"admin": password}
    for said in (
        str(passwords.name),
        "SQLite at",
        "paused",
        "Ctrl-C",
        f"http://127.0.0.1:{setup['sandbox']}",
    ):
        assert said in output.text

    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        health = client.get("/api/v2/monitor/health").json()
        assert {k: v["status"] for k, v in health.items()} == dict.fromkeys(
            ("metadatabase", "scheduler", "triggerer", "dag_processor"), "healthy"
        )
        login = client.post("/auth/token", json={"username": "admin", "password": password})
        assert login.status_code in (200, 201), login.text
        token = login.json()["access_token"]
        # The sandbox's settings are applied: the connections point at the printed sandbox.
        conn = client.get("/api/v2/connections/github_default", headers={"Authorization": f"Bearer {token}"})
        assert conn.json()["host"] == f"http://127.0.0.1:{setup['sandbox']}/api/v3", conn.text

    started = psutil.Process(proc.pid).children(recursive=True)
    commands = " ".join(" ".join(p.cmdline()) for p in started)
    for component in ("api-server", "scheduler", "dag-processor", "triggerer", "community_sandbox"):
        assert component in commands or component.replace("-", "_") in commands, commands

    stop_began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0, output.text
    stopped_after = time.monotonic() - stop_began
    assert re.search(r"scheduler: (stopped on SIGTERM|still running)", output.text), output.text
    assert "Everything stopped" in output.text
    time.sleep(0.5)
    assert [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert processes_with_home(setup["home"]) == []
    assert port_is_free(setup["airflow"]), "the api-server's port is still taken"
    assert port_is_free(setup["sandbox"]), "the sandbox's port is still taken"
    print(f"\nready after {ready_after:.1f} s, stopped after {stopped_after:.1f} s\n{output.text}")


def test_the_components_environment(tmp_path: Path) -> None:
    env = airflow_env(tmp_path, 8080, base={"PATH": "/usr/bin", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"})
    assert env["PATH"] == f"{VENV_BIN}:/usr/bin"  # components spawn `airflow` by name
    assert env["PYTHONPATH"] == str(PROJECT_ROOT / "plugins")  # the product only
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] == "local_airflow_sqlite.CONNECT_ARGS"
    assert describe_database(env).startswith(f"SQLite at {tmp_path / 'airflow.db'} (writers queue")
    # Postgres (or any database given) is used as it is, and said so without its password.
    postgres = airflow_env(tmp_path, 8080, "postgresql+psycopg2://airflow:secret@db:5432/airflow", base={})
    assert postgres[SQL_ALCHEMY_CONN] == "postgresql+psycopg2://airflow:secret@db:5432/airflow"
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in postgres
    assert describe_database(postgres) == (
        f"postgresql at postgresql+psycopg2://airflow:***@db:5432/airflow (from {SQL_ALCHEMY_CONN})"
    )


# --- the SQLite metadata DB -------------------------------------------------------------------


def sqlite_settings(home: Path) -> ModuleType:
    """The module ``[database] sql_alchemy_connect_args`` names, as Airflow imports it."""
    path = write_sqlite_module(home)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hold_write_lock(db: Path, seconds: float, holding: threading.Event) -> threading.Thread:
    """Another connection (the scheduler, say) holds SQLite's write lock for ``seconds``."""

    def hold() -> None:
        writer = sqlite3.connect(db, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO t VALUES (0)")
        holding.set()
        time.sleep(seconds)
        writer.execute("COMMIT")
        writer.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def write_in_savepoint(engine: sa.Engine) -> float:
    """What ``airflow backfill create`` does per run: in a SAVEPOINT, read, then write."""
    began = time.monotonic()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT count(*) FROM t"))
        with conn.begin_nested():
            conn.execute(sa.text("SELECT count(*) FROM t"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        conn.commit()
    return time.monotonic() - began


@pytest.mark.parametrize("serialised", [False, True], ids=["busy-timeout-only", "make-airflow-connect-args"])
def test_a_savepoint_writer_waits_for_the_lock_only_with_the_connect_args(
    tmp_path: Path, serialised: bool
) -> None:
    db = tmp_path / "airflow.db"
    setup = sqlite3.connect(db)
    setup.execute("PRAGMA journal_mode=WAL")  # as Airflow sets on every connection
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    connect_args = dict(sqlite_settings(tmp_path).CONNECT_ARGS)
    if not serialised:
        connect_args.pop("factory")  # the same 60 s busy timeout, nothing else
    engine = sa.create_engine(f"sqlite:///{db}", connect_args=connect_args)
    holding = threading.Event()
    holder = hold_write_lock(db, 1.5, holding)
    assert holding.wait(5)
    try:
        if serialised:
            assert write_in_savepoint(engine) >= 1.0  # it waited for the lock, then wrote
        else:
            began = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                write_in_savepoint(engine)
            assert time.monotonic() - began < 1.0  # refused at once: no busy timeout helps here
    finally:
        holder.join()
        engine.dispose()


def test_the_connections_wait_5_s_on_an_event_loop_60_s_elsewhere(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)
    conn = sqlite3.connect(tmp_path / "t.db", **settings.CONNECT_ARGS)

    def busy_timeout() -> int:
        conn.cursor().execute("SELECT 1")
        return int(conn.execute("PRAGMA busy_timeout").fetchone()[0])

    async def on_event_loop() -> int:
        return busy_timeout()

    assert busy_timeout() == 60_000
    assert asyncio.run(on_event_loop()) == 5_000
    assert busy_timeout() == 60_000
    conn.close()


def demo_env(base_url: str, workdir: Path) -> dict[str, str]:
    env = sandbox_connections(base_url, workdir / "ledger.db")
    variables: dict[str, Any] = dict(load_scenario(DEMO).variables)
    variables["community_settings"] = {
        "paths": {"intermediate": str(workdir / "intermediate"), "archive": str(workdir / "archive")}
    }
    for name, value in variables.items():
        env[f"AIRFLOW_VAR_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def cancel_open_backfills(live: LiveAirflow, dag_id: str) -> None:
    """Cancel (``PUT /backfills/{id}/cancel``) until none is open: one per DAG can run at a time.

    (Under load, a UI/REST write on SQLite can still fail after 5 s: the api-server writes its audit
    log on its event loop; see community_devtools.local_airflow.)"""
    deadline = time.monotonic() + 60
    while unfinished := [b for b in live.backfills(dag_id) if not b["completed_at"]]:
        assert time.monotonic() < deadline, (unfinished, live.tail_logs())
        for backfill in unfinished:
            live.api("PUT", f"backfills/{backfill['id']}/cancel")


def create_backfills_while_busy(
    tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[list[Any], list[str]]:
    """Nine ``airflow backfill create`` while the scheduler runs a backfill of 11 daily runs, four at a time.

    Returns the nine results and the daily backfill's run states as the first weekly one was created."""
    with Sandbox(DEMO) as sandbox:
        live_env = {**demo_env(sandbox.base_url, tmp_path), **(env or {})}
        with LiveAirflow(tmp_path / "home", env=live_env) as live:
            live.wait_until_parsed(DAILY)
            live.wait_until_parsed(WEEKLY)
            live.unpause(DAILY)
            results = [live.backfill(DAILY, "2026-10-01", "2026-10-12", "--max-active-runs", "4")]
            deadline, busy = time.monotonic() + 120, []
            while time.monotonic() < deadline:
                busy = [r["state"] for r in live.list_runs(DAILY, "backfill")]
                if "running" in busy:
                    break
                time.sleep(0.5)
            # The scheduler and four tasks are writing; create (and cancel) eight more backfills.
            for month in range(1, 9):
                results.append(live.backfill(WEEKLY, f"2026-{month:02}-01", f"2026-{month:02}-20"))
                cancel_open_backfills(live, WEEKLY)
    return results, busy


def test_backfill_create_never_meets_database_is_locked_while_the_scheduler_is_busy(tmp_path: Path) -> None:
    """With Airflow's own SQLite settings, 3 to 5 of these 9 calls failed with "database is locked"."""
    results, busy = create_backfills_while_busy(tmp_path)
    failed = [r.stdout[-1500:] + r.stderr[-1500:] for r in results if r.returncode != 0]
    assert failed == [], failed
    assert not any("database is locked" in r.stdout + r.stderr for r in results)
    assert len(busy) == 11, busy  # logical dates 10-01 .. 10-11 07:00
    assert "running" in busy, busy
