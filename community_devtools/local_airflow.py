"""``make airflow``: a local Airflow with this project's DAGs, against the sandbox, until Ctrl-C.

    python -m community_devtools.local_airflow [--scenario DIR] [--home DIR] [--port N] [--sandbox-port N]

Steps: migrate the metadata DB of a project-local Airflow home (``airflow_home/ui-<scenario>``,
never the demo's; see ``ui_home``), import the pools of ``airflow_settings.yaml``, start the local API sandbox on
the scenario (port 8765 or ``SANDBOX_PORT``), apply ``airflow_settings.yaml`` with the scenario's
Variables (as ``make demo`` does), start api-server (port 8080 or ``AIRFLOW_PORT``), scheduler,
dag-processor and triggerer, and print the URL, the login and where everything is. Ctrl-C (or
SIGTERM) stops every component, every task they started and the sandbox, and exits 0.

The metadata DB is SQLite in the home unless ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` names another
(e.g. Postgres, whose driver must be installed). SQLite lets one writer in at a time, and Airflow
opens some write transactions with a SAVEPOINT and reads before it writes (``airflow backfill
create`` does, per run): SQLite refuses such a writer at once, whatever the busy timeout, so with
Airflow's own settings 3 to 5 of 9 ``backfill create`` calls failed with "database is locked" while
the scheduler ran a backfill. ``[database] sql_alchemy_connect_args`` (``SQLITE_CONNECT_ARGS_IMPORT``)
gives every connection a cursor that starts those transactions with ``BEGIN IMMEDIATE`` (they
queue for the lock) and a busy timeout of ``SQLITE_BUSY_TIMEOUT`` s; on an asyncio event loop (the
api-server writes its audit log there, while the request holding the lock may wait for that very
loop) it stays at Airflow's 5 s, so a UI or REST write can still fail after 5 s under load. WAL
mode is Airflow's own (it sets ``journal_mode=WAL`` on every connection). Airflow imports that dict
in every process, which sees only the plugins folder and ``$AIRFLOW_HOME/config``: the module lives
in the latter (``write_sqlite_module``). Proof: tests/airflow/test_make_airflow.py.

``LocalAirflow`` is the component lifecycle (environment, start, health, stop with every
descendant); the live tests' ``LiveAirflow`` (tests/airflow/live_airflow.py) builds on it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
import yaml

from community_devtools import PROJECT_AIRFLOW_CONFIG, PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Components the health endpoint reports on (the api-server answers it).
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
DEFAULT_AIRFLOW_PORT = 8080
DEFAULT_SANDBOX_PORT = 8765
PARALLELISM = 4
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
# Seconds from SIGTERM to SIGKILL. The triggerer sometimes waits 10 s for its runner (Airflow's own
# escalation delay); a scheduler finishes the tasks its LocalExecutor already queued.
STOP_GRACE = 15
SQL_ALCHEMY_CONN = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
SQLITE_BUSY_TIMEOUT = 60
# The api-server writes the audit log synchronously on its event loop, while another request can hold
# the lock until the loop runs its session's teardown: that wait must end as soon as with Airflow's
# default (5 s), or the api-server stands still.
SQLITE_EVENT_LOOP_BUSY_TIMEOUT = 5
SQLITE_MODULE = "local_airflow_sqlite"
SQLITE_CONNECT_ARGS_IMPORT = f"{SQLITE_MODULE}.CONNECT_ARGS"
_SQLITE_MODULE_SOURCE = f'''"""SQLite connection settings of this Airflow home (written by community_devtools/local_airflow.py).

Airflow reads ``[database] sql_alchemy_connect_args = {SQLITE_CONNECT_ARGS_IMPORT}``. SQLite lets one
writer in at a time; these connections make writers wait for the lock instead of failing:

- A SAVEPOINT outside a transaction (``airflow backfill create``, asset events) starts a deferred
  one, whose first write after a read cannot wait for the lock: SQLite refuses it at once, whatever
  the busy timeout. Such transactions start with BEGIN IMMEDIATE instead, which waits.
- Every statement waits up to {SQLITE_BUSY_TIMEOUT} s for the lock, except on an asyncio event loop
  (the api-server's audit log), where a request that holds the lock may be waiting for that very
  loop: there it waits {SQLITE_EVENT_LOOP_BUSY_TIMEOUT} s, as with Airflow's default.
"""

import asyncio
import sqlite3

BUSY_TIMEOUT_MS = {SQLITE_BUSY_TIMEOUT * 1000}
EVENT_LOOP_BUSY_TIMEOUT_MS = {SQLITE_EVENT_LOOP_BUSY_TIMEOUT * 1000}


def _on_event_loop():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Cursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection.wait_as(_on_event_loop())
        if not self.connection.in_transaction and sql.lstrip()[:9].upper() == "SAVEPOINT":
            super().execute("BEGIN IMMEDIATE")
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        self.connection.wait_as(_on_event_loop())
        return super().executemany(sql, seq_of_parameters)


class SerialWritersConnection(sqlite3.Connection):
    _on_event_loop = False

    def cursor(self, factory=_Cursor):
        return super().cursor(factory)

    def wait_as(self, on_event_loop):
        if on_event_loop != self._on_event_loop:
            self._on_event_loop = on_event_loop
            timeout = EVENT_LOOP_BUSY_TIMEOUT_MS if on_event_loop else BUSY_TIMEOUT_MS
            sqlite3.Connection.execute(self, f"PRAGMA busy_timeout = {{timeout}}")


CONNECT_ARGS = {{"timeout": {SQLITE_BUSY_TIMEOUT}, "factory": SerialWritersConnection}}
'''


class StartupError(RuntimeError):
    """Something did not start; the message says what and where its log is."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port (as servers do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def settings_pools(path: Path = PROJECT_ROOT / "airflow_settings.yaml") -> dict[str, dict[str, Any]]:
    """The pools of airflow_settings.yaml in ``airflow pools import`` format (the DAGs' tasks need them)."""
    pools = (yaml.safe_load(path.read_text()).get("airflow") or {}).get("pools") or []
    return {
        p["pool_name"]: {"slots": int(p.get("pool_slot", 1)), "description": p.get("pool_description", "")}
        for p in pools
    }


def write_sqlite_module(home: Path) -> Path:
    """Write the module ``sql_alchemy_connect_args`` imports into ``$AIRFLOW_HOME/config`` (on Airflow's path)."""
    path = home / "config" / f"{SQLITE_MODULE}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != _SQLITE_MODULE_SOURCE:
        path.write_text(_SQLITE_MODULE_SOURCE)
    return path


def describe_database(env: Mapping[str, str]) -> str:
    """Which metadata DB the components use, in words (password hidden)."""
    from sqlalchemy.engine import make_url

    url = make_url(env[SQL_ALCHEMY_CONN])
    if url.get_backend_name() == "sqlite":
        return (
            f"SQLite at {url.database} (writers queue for the lock for up to {SQLITE_BUSY_TIMEOUT} s "
            f"instead of failing with 'database is locked'; set {SQL_ALCHEMY_CONN} for Postgres)"
        )
    return f"{url.get_backend_name()} at {url.render_as_string(hide_password=True)} (from {SQL_ALCHEMY_CONN})"


def airflow_env(
    home: Path, port: int, sql_alchemy_conn: str | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment every component, CLI call and task shares.

    Nothing of the caller's own Airflow setup leaks in (connections, Variables, ``AIRFLOW__*``):
    callers add their overrides on top. ``sql_alchemy_conn``: another metadata DB than the home's SQLite.
    """
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))}
    base_url = f"http://127.0.0.1:{port}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
            SQL_ALCHEMY_CONN: sql_alchemy_conn or f"sqlite:///{home / 'airflow.db'}",
            **PROJECT_AIRFLOW_CONFIG,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            # Unpausing a DAG runs its latest interval at once (catchup is off) and posts digests.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__WORKERS": "1",
            # Task supervisors talk to this api-server, not to the default http://localhost:8080.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # Only the product, as in a deployment: the Airflow processes never need the dev packages.
            "PYTHONPATH": str(PROJECT_ROOT / "plugins"),
            # Components start `airflow ...` subprocesses by name: this venv's first.
            "PATH": os.pathsep.join([str(VENV_BIN), env.get("PATH", os.defpath)]),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    if env[SQL_ALCHEMY_CONN].startswith("sqlite"):
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = SQLITE_CONNECT_ARGS_IMPORT
    return env


class LocalAirflow:
    """api-server, scheduler, dag-processor and triggerer as subprocesses on 127.0.0.1, one home each.

    Each component runs in a session of its own (Ctrl-C in a terminal reaches only the parent) and
    logs to ``<home>/component-logs/<name>.log``; ``stop()`` ends each with every descendant (task
    supervisors and task runners sit in process groups of their own).
    """

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        components: Iterable[str] = COMPONENTS,
        sql_alchemy_conn: str | None = None,
    ) -> None:
        """``env`` overrides the shared environment (connections, Variables, ``AIRFLOW__*``)."""
        self.home = Path(home).resolve()
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**airflow_env(self.home, self.port, sql_alchemy_conn), **(env or {})}
        self.components = tuple(components)
        self.log_dir = self.home / "component-logs"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.timings: dict[str, float] = {}
        self._spawned_at = time.monotonic()

    @property
    def database(self) -> str:
        return describe_database(self.env)

    @property
    def passwords_file(self) -> Path:
        return self.home / PASSWORDS_FILE

    @property
    def admin_password(self) -> str:
        return str(json.loads(self.passwords_file.read_text())["admin"])

    # --- lifecycle -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the home, migrate the metadata DB and import the pools of airflow_settings.yaml."""
        began = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        write_sqlite_module(self.home)
        self.cli("db", "migrate", check=True)
        pools = self.home / "pools.json"
        pools.write_text(json.dumps(settings_pools()))
        self.cli("pools", "import", str(pools), check=True)
        self.timings["migrate"] = time.monotonic() - began

    def start(self, timeout: float = 180) -> LocalAirflow:
        """``prepare()``, start every component and wait until all are healthy; on failure stop them."""
        began = time.monotonic()
        try:
            self.prepare()
            self.start_components(timeout)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - began
        return self

    def start_components(self, timeout: float = 180) -> None:
        self._spawned_at = time.monotonic()
        for name in self.components:
            self.spawn(name)
        self.wait_healthy(timeout)

    def spawn(self, name: str) -> None:
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} starting {name} =====\n".encode())
            log.flush()
            cmd = [AIRFLOW, name]
            if name == "api-server":
                cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
            elif name in ("scheduler", "triggerer"):
                # Their log servers bind fixed ports (8793, 8794) on every interface; the api-server
                # reads task logs from the shared local folder anyway.
                cmd += ["--skip-serve-logs"]
            self.procs[name] = subprocess.Popen(
                cmd,
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, name: str, graceful: bool = True, grace: float = STOP_GRACE) -> str:
        """Stop one component and everything it started.

        ``graceful``: SIGTERM to its process group, SIGKILL after ``grace`` s; else a crash (SIGKILL)."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return "not running"
        if graceful:
            return stop_process(proc, grace)
        return "killed (SIGKILL)" + _kill_tree(proc, _descendants(proc.pid))

    def stop(self, grace: float = STOP_GRACE) -> dict[str, str]:
        """Stop every component and everything they started; idempotent. Returns how each one stopped.

        SIGTERM goes at once to every component's process group and to every descendant in another
        group (task supervisors: a scheduler waits for its running tasks); whatever is left after
        ``grace`` seconds gets SIGKILL."""
        procs, self.procs = self.procs, {}
        trees = {name: _descendants(proc.pid) for name, proc in procs.items()}
        running = {name: proc for name, proc in procs.items() if proc.poll() is None}
        for name, proc in running.items():
            _signal_group(proc.pid, signal.SIGTERM)
            for child in trees[name]:
                # Only those outside the group: a second SIGTERM makes e.g. the triggerer's runner
                # ignore its supervisor's SIGINT, which then waits 10 s before escalating.
                with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                    if os.getpgid(child.pid) != proc.pid:
                        child.terminate()
        outcomes = {
            name: f"had exited by itself (exit code {proc.returncode})"
            for name, proc in procs.items()
            if name not in running
        }
        outcomes.update(_wait_for_exit(running, grace))
        return {name: outcomes[name] + _kill_tree(proc, trees[name]) for name, proc in procs.items()}

    def exited(self) -> dict[str, int]:
        """Components that have exited by themselves, with their exit codes."""
        return {name: code for name, proc in self.procs.items() if (code := proc.poll()) is not None}

    def health(self) -> dict[str, Any]:
        with httpx.Client(base_url=self.base_url, trust_env=False, timeout=10) as client:
            response = client.get("/api/v2/monitor/health")
            response.raise_for_status()
            return dict(response.json())

    def wait_healthy(self, timeout: float = 180) -> None:
        """Until every component reports healthy and the admin password exists (or one exits)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if exited := self.exited():
                raise StartupError(f"exited at start: {exited}\n{self.tail_logs(task_logs=False)}")
            try:
                last = self.health()
                unhealthy = [
                    key
                    for name, key in HEALTH_KEYS.items()
                    if name in self.components and (last.get(key) or {}).get("status") != "healthy"
                ]
                if not unhealthy and ("api-server" not in self.components or self.passwords_file.exists()):
                    return
            except (httpx.HTTPError, ValueError) as error:
                last = repr(error)
            time.sleep(0.5)
        raise StartupError(f"Airflow not healthy after {timeout}s: {last}\n{self.tail_logs(task_logs=False)}")

    # --- CLI and diagnostics -----------------------------------------------------------------------

    def cli(self, *args: str, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``airflow <args>`` with the same environment as the running components (logged to cli.log)."""
        result = subprocess.run(
            [AIRFLOW, *args], env=self.env, cwd=self.home, capture_output=True, text=True, timeout=timeout
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / "cli.log").open("a") as log:
            log.write(f"\n$ airflow {' '.join(args)}  -> {result.returncode}\n{result.stdout}{result.stderr}")
        if check and result.returncode != 0:
            raise StartupError(
                f"airflow {' '.join(args)} -> {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def tail_logs(self, lines: int = 60, task_logs: bool = True) -> str:
        """The last lines of every component's log (and of the newest task logs), for messages."""
        parts = [
            f"----- {path.name} -----\n" + _tail(path, lines) for path in sorted(self.log_dir.glob("*.log"))
        ]
        if task_logs:
            newest = sorted((self.home / "logs").glob("dag_id=*/**/*.log"), key=lambda p: p.stat().st_mtime)
            for path in newest[-3:]:
                parts.append(f"----- {path.relative_to(self.home)} -----\n" + _tail(path, lines))
        return "\n".join(parts)

    def write_cli_env(self, extra: Mapping[str, str] | None = None) -> Path:
        """``<home>/airflow-env.sh``: source it to run ``airflow ...`` against this instance."""
        keys = sorted(
            k
            for k in self.env
            if k.startswith("AIRFLOW") and not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))
        )
        lines = [f"export {k}={shlex.quote(self.env[k])}" for k in keys]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in (extra or {}).items()]
        lines.append(
            f'export PATH={shlex.quote(str(VENV_BIN))}:"$PATH" PYTHONPATH={shlex.quote(self.env["PYTHONPATH"])}'
        )
        path = self.home / "airflow-env.sh"
        path.write_text(
            "# Written by `make airflow`: the environment of its components.\n" + "\n".join(lines) + "\n"
        )
        return path


def _descendants(pid: int) -> set[psutil.Process]:
    try:
        return set(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return set()


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _wait_for_exit(procs: Mapping[str, subprocess.Popen[bytes]], grace: float) -> dict[str, str]:
    """Wait up to ``grace`` s for processes just sent SIGTERM; how each one ended (or did not)."""
    began = time.monotonic()
    outcomes: dict[str, str] = {}
    while len(outcomes) < len(procs):
        waited = time.monotonic() - began
        for name, proc in procs.items():
            if name not in outcomes and proc.poll() is not None:
                outcomes[name] = f"stopped on SIGTERM in {waited:.1f} s (exit code {proc.returncode})"
        if waited > grace:
            break
        time.sleep(0.1)
    for name in procs:
        outcomes.setdefault(name, f"still running {grace:.0f} s after SIGTERM: killed (SIGKILL)")
    return outcomes


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10) -> str:
    """SIGTERM to a process (and its group), SIGKILL after ``grace`` s; how it stopped."""
    tree = _descendants(proc.pid)
    if proc.poll() is not None:
        return f"had exited by itself (exit code {proc.returncode})" + _kill_tree(proc, tree)
    _signal_group(proc.pid, signal.SIGTERM)
    return _wait_for_exit({"": proc}, grace)[""] + _kill_tree(proc, tree)


def _kill_tree(proc: subprocess.Popen[bytes], tree: set[psutil.Process]) -> str:
    """SIGKILL the process group and every descendant seen (before, or now) that is still alive."""
    tree = tree | _descendants(proc.pid)
    _signal_group(proc.pid, signal.SIGKILL)
    alive = [p for p in tree if _alive(p)]
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(tree, timeout=10)
    proc.wait(10)
    return f"; {len(alive)} leftover process(es) killed" if alive else ""


def _tail(path: Path, lines: int) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 200 * lines))
        return "\n".join(handle.read().decode(errors="replace").splitlines()[-lines:])


# --- make airflow --------------------------------------------------------------------------------


def dev_env(env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """``env`` for the dev tools beside the product (the sandbox, the settings loader)."""
    pythonpath = os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)])
    return {**env, "PYTHONPATH": pythonpath, **extra}


def start_sandbox(
    scenario: Path, port: int, env: Mapping[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    """``python -m community_sandbox --scenario DIR --port N`` in a session of its own, once listening."""
    ready = log_dir / "sandbox.ready"
    ready.unlink(missing_ok=True)
    log_path = log_dir / "sandbox.log"
    cmd = [sys.executable, "-m", "community_sandbox", "--scenario", str(scenario), "--port", str(port)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [*cmd, "--ready-file", str(ready)],
            cwd=PROJECT_ROOT,
            env=dev_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise StartupError(f"the sandbox did not start; {log_path}:\n{_tail(log_path, 20)}")
            time.sleep(0.2)
    except BaseException:
        _kill_tree(proc, set())
        raise
    return proc


def apply_settings(env: Mapping[str, str], scenario: Path, sandbox_url: str) -> str:
    """``python -m community_devtools.settings_loader airflow_settings.yaml --scenario DIR``; its summary."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "community_devtools.settings_loader",
            str(PROJECT_ROOT / "airflow_settings.yaml"),
            "--scenario",
            str(scenario),
        ],
        cwd=PROJECT_ROOT,
        env=dev_env(env, SANDBOX_URL=sandbox_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StartupError(f"the settings loader failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def _show(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m community_devtools.local_airflow",
        description="Run a local Airflow (UI, scheduler, ...) with this project's DAGs against the sandbox.",
    )
    parser.add_argument("--scenario", type=Path, default=PROJECT_ROOT / "include" / "scenarios" / "demo")
    parser.add_argument("--home", type=Path, help="Airflow home (default: airflow_home/ui-<scenario name>)")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("AIRFLOW_PORT") or DEFAULT_AIRFLOW_PORT)
    )
    parser.add_argument(
        "--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT") or DEFAULT_SANDBOX_PORT)
    )
    return parser.parse_args(argv)


def _user_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """The caller's own ``AIRFLOW__*`` settings that differ from ours (the metadata DB aside)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.startswith("AIRFLOW__") and k != SQL_ALCHEMY_CONN and env.get(k) != v
    }


def _bring_up(airflow: LocalAirflow, scenario: Path, sandbox_port: int) -> subprocess.Popen[bytes]:
    """Migrate, start the sandbox, apply the settings, start the components; returns the sandbox."""
    print(f"Airflow home {_show(airflow.home)}; metadata DB: {airflow.database}", flush=True)
    print("Migrating the metadata DB and importing the pools ...", flush=True)
    airflow.prepare()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    print(f"Starting the sandbox on {sandbox_url} (scenario {_show(scenario)}) ...", flush=True)
    sandbox = start_sandbox(scenario, sandbox_port, airflow.env, airflow.log_dir)
    try:
        print(apply_settings(airflow.env, scenario, sandbox_url), flush=True)
        print(
            f"Starting {', '.join(airflow.components)} (LocalExecutor, parallelism "
            f"{airflow.env['AIRFLOW__CORE__PARALLELISM']}) ...",
            flush=True,
        )
        airflow.start_components()
    except BaseException:
        stop_process(sandbox)
        raise
    return sandbox


def print_ready(airflow: LocalAirflow, sandbox_port: int, scenario: Path, cli_env: Path) -> None:
    logs = _show(airflow.log_dir)
    print(
        f"""
Airflow is ready: {airflow.base_url}
  login        admin / {airflow.admin_password}
               (generated by Airflow into {_show(airflow.passwords_file)})
  sandbox      http://127.0.0.1:{sandbox_port} (scenario {_show(scenario)}); the connections, pools and
               Variables of airflow_settings.yaml point at it, as in `make demo`
  metadata DB  {airflow.database}
  DAGs         {_show(PROJECT_ROOT / "dags")}/, all paused at first: unpausing a DAG runs its latest interval at
               once (catchup is off), which posts its digests (with @here) to the sandbox's channels
  logs         {logs}/<api-server|scheduler|dag-processor|triggerer|sandbox>.log;
               task logs in {_show(airflow.home / "logs")}
  community    {airflow.base_url}/community/ (or "Community" in the navigation): the queue, metrics and
               chart the daily runs record in this home's ledger DB (empty until a daily run has run)
  CLI          in another terminal: . {_show(cli_env)} && airflow dags list
  stop         Ctrl-C here (or kill -TERM {os.getpid()}): stops every component, their tasks and the sandbox
""",
        flush=True,
    )


def _serve(airflow: LocalAirflow, sandbox: subprocess.Popen[bytes]) -> int:
    """Wait for a signal (raised as ``Interrupted``); 1 if a component or the sandbox dies first."""
    while True:
        dead = airflow.exited()
        if sandbox.poll() is not None:
            dead["sandbox"] = sandbox.returncode
        if dead:
            print(f"error: exited by itself: {dead}\n{airflow.tail_logs(20)}", file=sys.stderr, flush=True)
            return 1
        time.sleep(1)


def _shut_down(airflow: LocalAirflow, sandbox: subprocess.Popen[bytes] | None) -> None:
    began = time.monotonic()
    outcomes = airflow.stop()
    if sandbox is not None:
        outcomes["sandbox"] = stop_process(sandbox)
    for name, outcome in outcomes.items():
        print(f"  {name}: {outcome}", flush=True)
    print(f"Everything stopped in {time.monotonic() - began:.1f} s.", flush=True)


UI_HOME_OWNER = "scenario-path"  # in a UI home: the absolute path of the scenario folder it serves


def ui_home(parent: Path, scenario: Path) -> Path:
    """The UI's Airflow home for a scenario folder: ``ui-<folder name>``, unless that home already
    serves another folder of the same name (``a/scenario`` after ``b/scenario``), whose ledger would
    make this one's digests read as sent: then ``ui-<name>-<hash of the path>``. The home records
    the folder it serves."""
    absolute = os.path.abspath(scenario)
    home = parent / f"ui-{os.path.basename(absolute)}"
    owner = home / UI_HOME_OWNER
    # Only the newline written below is dropped: a folder name may end in a space.
    if owner.exists() and owner.read_text(encoding="utf-8").removesuffix("\n") != absolute:
        digest = hashlib.sha1(absolute.encode(), usedforsecurity=False).hexdigest()[:8]
        home = parent / f"ui-{os.path.basename(absolute)}-{digest}"
        owner = home / UI_HOME_OWNER
    if not owner.exists():
        home.mkdir(parents=True, exist_ok=True)
        owner.write_text(absolute + "\n", encoding="utf-8")
    return home


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = args.scenario.resolve()
    if not (scenario / "scenario.yaml").is_file():
        print(f"error: {scenario} is no scenario folder (no scenario.yaml)", file=sys.stderr)
        return 2
    for port, what, variable in (
        (args.port, "Airflow", "AIRFLOW_PORT"),
        (args.sandbox_port, "sandbox", "SANDBOX_PORT"),
    ):
        if not port_is_free(port):
            print(
                f"error: port {port} (for the {what}) is in use; choose another: {variable}=N make airflow",
                file=sys.stderr,
            )
            return 2
    home = (args.home or ui_home(PROJECT_ROOT / "airflow_home", scenario)).resolve()
    airflow = LocalAirflow(home, port=args.port, sql_alchemy_conn=os.environ.get(SQL_ALCHEMY_CONN))
    if overrides := _user_overrides(airflow.env):
        print(f"Your environment's settings apply: {', '.join(sorted(overrides))}")
        airflow.env.update(overrides)
    sandbox = None
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        sandbox = _bring_up(airflow, scenario, args.sandbox_port)
        cli_env = airflow.write_cli_env({"SANDBOX_URL": f"http://127.0.0.1:{args.sandbox_port}"})
        print_ready(airflow, args.sandbox_port, scenario, cli_env)
        return _serve(airflow, sandbox)
    except Interrupted as stop:
        print(f"\n{stop} received: stopping ...", flush=True)
        return 0
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _shut_down(airflow, sandbox)


if __name__ == "__main__":
    raise SystemExit(main())
