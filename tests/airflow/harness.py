"""Run the real DAGs through ``airflow dags test`` against a sandbox, with per-test isolation.

One migrated metadata DB serves the whole session; each test gets its own sandbox, ledger,
storage folders and connections (``AIRFLOW_CONN_*`` environment variables win over the DB).
Each ``airflow dags test`` is a fork of a warm Airflow (warm_cli.py): a process of its own with
the test's environment, without paying Airflow's start-up again.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warm_cli import WarmAirflowCli, fixed_at_import

_RUN_NUMBERS = itertools.count(1)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@dataclass
class DagRunResult:
    returncode: int
    state: str
    log: str

    def task_failed(self, task_id: str) -> bool:
        return f"task_id={task_id}" in self.log and "Task failed" in self.log


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # The product (plugins/) and the dev packages beside it (community_sandbox, community_devtools).
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)]),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            # Fail fast in tests: one task retry, short HTTP backoff.
            "COMMUNITY_TASK_RETRIES": "1",
            "COMMUNITY_RETRY_DELAY_SECONDS": "1",
            "COMMUNITY_HTTP_MAX_ATTEMPTS": "2",
            "COMMUNITY_HTTP_BASE_DELAY": "0.1",
        }
    )
    return env


def migrate(home: Path) -> dict[str, str]:
    env = base_env(home)
    result = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return env


# One warm Airflow per pytest worker and Airflow home (see warm_cli.py), closed by close_warm_clis().
_WARM_CLIS: dict[tuple[tuple[str, str], ...], WarmAirflowCli] = {}


def warm_cli(env: dict[str, str]) -> WarmAirflowCli:
    key = tuple(sorted(fixed_at_import(env).items()))
    if key not in _WARM_CLIS:
        _WARM_CLIS[key] = WarmAirflowCli(AIRFLOW, env)
    return _WARM_CLIS[key]


def close_warm_clis() -> None:
    while _WARM_CLIS:
        _WARM_CLIS.popitem()[1].close()


def sandbox_connections(base_url: str, ledger_path: Path) -> dict[str, str]:
    """The connections of airflow_settings.yaml, as environment variables for one sandbox."""
    conns: dict[str, dict[str, Any]] = {
        "github_default": {"conn_type": "github", "host": f"{base_url}/api/v3", "password": "t"},
        "discourse_default": {
            "conn_type": "http",
            "host": f"{base_url}/discourse",
            "extra": {"Api-Key": "k", "Api-Username": "system"},
        },
        "mattermost_default": {"conn_type": "http", "host": base_url, "password": "help-channel-hook"},
        "mattermost_cm": {"conn_type": "http", "host": base_url, "password": "cm-channel-hook"},
        "mattermost_pm": {"conn_type": "http", "host": base_url, "password": "pm-channel-hook"},
        "community_monitoring_db": {"conn_type": "sqlite", "host": str(ledger_path)},
        "gitlab_default": {"conn_type": "http", "host": f"{base_url}/gitlab", "password": "gl-token"},
        "stackexchange_default": {"conn_type": "http", "host": f"{base_url}/stackexchange"},
        "uservoice_default": {
            "conn_type": "http",
            "host": f"{base_url}/uservoice",
            "login": "pm-client",
            "password": "pm-secret",
        },
        "uservoice_sales": {
            "conn_type": "http",
            "host": f"{base_url}/uservoice",
            "login": "sales-client",
            "password": "sales-secret",
        },
        "jira_default": {
            "conn_type": "http",
            "host": f"{base_url}/jira",
            "login": "bot@example.com",
            "password": "jira-token",
        },
    }
    return {f"AIRFLOW_CONN_{k.upper()}": json.dumps(v) for k, v in conns.items()}


@dataclass
class AirflowRunner:
    env: dict[str, str]
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def use_sandbox(
        self, base_url: str, variables: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
    ) -> None:
        self.extra_env.update(sandbox_connections(base_url, self.workdir / "ledger.db"))
        paths = {
            "paths": {
                "intermediate": str(self.workdir / "intermediate"),
                "archive": str(self.workdir / "archive"),
                "tracking_sheet": str(self.workdir / "tracking-sheet.xlsx"),
            }
        }
        variables = dict(variables or {})
        from_scenario = variables.pop("community_settings", None) or {}
        if isinstance(from_scenario, str):
            from_scenario = json.loads(from_scenario)
        self.set_variable("community_settings", {**from_scenario, **paths, **(settings or {})})
        for name, value in variables.items():
            self.set_variable(name, value)

    def set_variable(self, name: str, value: Any) -> None:
        self.extra_env[f"AIRFLOW_VAR_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)

    def dags_test(self, dag_id: str, logical_date: str, conf: dict[str, Any] | None = None) -> DagRunResult:
        argv = ["dags", "test", dag_id, logical_date]
        if conf is not None:
            argv += ["-c", json.dumps(conf)]
        logs = self.workdir / "dags-test-logs"
        logs.mkdir(parents=True, exist_ok=True)
        output = logs / f"{next(_RUN_NUMBERS):03d}-{dag_id}.log"
        returncode = warm_cli(self.env).run(argv, {**self.env, **self.extra_env}, output, timeout=900)
        log = output.read_text(encoding="utf-8", errors="replace")
        state = ""
        for line in log.splitlines():
            if "DagRun Finished" in line and "state=" in line:
                state = line.split("state=", 1)[1].split(",", 1)[0]
        return DagRunResult(returncode, state, log)
