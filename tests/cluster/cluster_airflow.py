"""Real Airflow on the distributed configuration: CeleryExecutor, Postgres, Redis, S3, two workers.

``ClusterAirflow`` is the live tests' ``LiveAirflow`` (REST client, CLI, component lifecycle of
``make airflow``) with the environment of ``community_devtools.cluster.distributed_env`` and these
components: api-server, scheduler, dag-processor, and two Celery workers (``airflow celery worker``,
queue ``default``). The services it needs (Postgres, Redis, the S3 emulator) are started by
``make test-cluster`` (``community_devtools/cluster.py``), which names them in the JSON file of
``COMMUNITY_CLUSTER_INFO``.

Both workers run on this machine; each reports its own host name (``worker-1``, ``worker-2``) to
Airflow through ``[core] hostname_callable``, as two machines would, so a task instance's
``hostname`` says which worker ran it. Every component's pid, port, start and stop are recorded
for the summary ``make test-cluster`` prints.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from live_airflow import LiveAirflow

from community_devtools import PROJECT_ROOT
from community_devtools.cluster import Record, save_records
from community_devtools.local_airflow import AIRFLOW, STOP_GRACE, StartupError
from community_sandbox import Sandbox
from community_sandbox.faults import parse_fault
from community_sandbox.registry import SERVICES
from community_sandbox.scenario import load_scenario

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"

WORKERS = ("worker-1", "worker-2")
WORKER_CONCURRENCY = 3
HOSTNAME_MODULE = "cluster_hostname"
HOSTNAME_VARIABLE = "COMMUNITY_CLUSTER_HOSTNAME"
_HOSTNAME_SOURCE = f'''"""Host name a component reports to Airflow (written by tests/cluster/cluster_airflow.py).

Each Celery worker of the test cluster runs with {HOSTNAME_VARIABLE} set to its own name, as if it ran
on a machine of its own; other components report the machine's name.
"""

import os
import socket


def hostname():
    return os.environ.get("{HOSTNAME_VARIABLE}") or socket.getfqdn()
'''


class ClusterAirflow(LiveAirflow):
    def __init__(self, home: Path, info: dict[str, Any], env: dict[str, str] | None = None) -> None:
        overrides = {
            **info["env"],
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{HOSTNAME_MODULE}.hostname",
            "AIRFLOW__CORE__PARALLELISM": str(len(WORKERS) * WORKER_CONCURRENCY),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            **(env or {}),
        }
        super().__init__(home, env=overrides)
        # make airflow's SQLite connection settings do not apply to Postgres.
        self.env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", None)
        self.components = ("api-server", "scheduler", "dag-processor", *WORKERS)
        self.broker_url = info["env"]["AIRFLOW__CELERY__BROKER_URL"]
        self.records_file = Path(info["components_file"])
        self.records: dict[str, Record] = {}
        self._finished: list[Record] = []

    # --- lifecycle ------------------------------------------------------------------------------

    def prepare(self) -> None:
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "config" / f"{HOSTNAME_MODULE}.py").write_text(_HOSTNAME_SOURCE)
        super().prepare()

    def spawn(self, name: str) -> None:
        if name not in WORKERS:
            super().spawn(name)
            port = self.port if name == "api-server" else None
            self._record(name, port, f"airflow {name}" + (f" --port {self.port}" if port else ""))
            return
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            AIRFLOW,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--queues",
            "default",
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--skip-serve-logs",
            "--without-gossip",
            "--without-mingle",
        ]
        with (self.log_dir / f"{name}.log").open("ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} starting {name} =====\n".encode())
            log.flush()
            self.procs[name] = subprocess.Popen(
                cmd,
                env={**self.env, HOSTNAME_VARIABLE: name},
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._record(name, None, " ".join(["airflow", *cmd[1:]]))

    def _record(self, name: str, port: int | None, how: str) -> None:
        if name in self.records:
            self._finished.append(self.records.pop(name))
        self.records[name] = Record(name, self.procs[name].pid, port, how)

    def wait_healthy(self, timeout: float = 240) -> None:
        super().wait_healthy(timeout)
        self.wait_for_workers([w for w in WORKERS if w in self.procs], timeout)

    def wait_for_workers(self, names: list[str], timeout: float = 180) -> None:
        """Until each named Celery worker answers a ping through the broker."""
        from celery import Celery

        app = Celery(broker=self.broker_url)
        deadline = time.monotonic() + timeout
        host = socket.gethostname()
        wanted = {f"{name}@{host}" for name in names}
        answered: set[str] = set()
        try:
            while time.monotonic() < deadline:
                if exited := self.exited():
                    raise StartupError(f"exited at start: {exited}\n{self.tail_logs(task_logs=False)}")
                replies = app.control.ping(timeout=2) or []
                answered = {name for reply in replies for name in reply}
                if wanted <= answered:
                    return
                time.sleep(0.5)
        finally:
            app.close()
        raise StartupError(f"workers {sorted(wanted - answered)} did not answer after {timeout}s")

    def kill(self, name: str, graceful: bool = True, grace: float = STOP_GRACE) -> str:
        outcome = super().kill(name, graceful, grace)
        if name in self.records:
            self.records[name].stopped = outcome
            self._finished.append(self.records.pop(name))
        return outcome

    def stop(self, grace: float = STOP_GRACE) -> dict[str, str]:
        outcomes = super().stop(grace)
        for name, outcome in outcomes.items():
            if name in self.records:
                self.records[name].stopped = outcome
                self._finished.append(self.records.pop(name))
        if self._finished:
            save_records(self.records_file, self._finished)
            self._finished = []
        return outcomes

    # --- which worker ran what ------------------------------------------------------------------

    def hostnames(self, dag_id: str, run_id: str) -> dict[str, str]:
        """task id -> the worker that ran its latest try (its reported host name)."""
        return {ti["task_id"]: ti["hostname"] for ti in self.task_instances(dag_id, run_id) if ti["hostname"]}


@dataclass
class Cluster:
    airflow: ClusterAirflow
    sandbox: Sandbox
    sandbox_port: int
    info: dict[str, Any]
    workdir: Path
    sandbox_records: list[Record]

    def restart_sandbox(self, faults: list[dict[str, Any]]) -> Sandbox:
        """The sandbox again on the same port (the connections point there), with these faults added."""
        self.stop_sandbox()
        scenario = load_scenario(DEMO)
        services = sorted(service.name for service in SERVICES)
        for index, raw in enumerate(faults):
            scenario.faults.append(parse_fault(f"cluster fault {index}", raw, services))
        self.sandbox = Sandbox(scenario, port=self.sandbox_port).start()
        self.sandbox_records.append(
            Record("sandbox", os.getpid(), self.sandbox_port, f"in the pytest process, with faults {faults}")
        )
        return self.sandbox

    def stop_sandbox(self) -> None:
        self.sandbox.stop()
        if self.sandbox_records and self.sandbox_records[-1].stopped == "still running":
            self.sandbox_records[-1].stopped = "stop(): server shut down"
