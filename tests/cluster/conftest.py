"""One distributed Airflow for the whole session, on the services ``make test-cluster`` started.

``make test-cluster`` (``community_devtools/cluster.py``) starts Postgres, Redis and the S3
emulator and names them in the JSON file of ``COMMUNITY_CLUSTER_INFO``. This session adds the
sandbox on the demo scenario (Variables and connections applied from ``airflow_settings.yaml``, as
``make demo`` does) and Airflow on CeleryExecutor with two workers (``cluster_airflow.py``); the
ledger, the intermediates, the archive and the models use the distributed configuration's
connections (``community_monitoring_db`` on Postgres, ``aws_default`` on S3).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_airflow import DEMO, Cluster, ClusterAirflow

from community_devtools.cluster import CLUSTER_INFO, Record, save_records
from community_devtools.local_airflow import apply_settings, free_port
from community_devtools.settings_loader import scenario_variables
from community_sandbox import Sandbox


def cluster_info() -> dict[str, Any]:
    path = os.environ.get(CLUSTER_INFO)
    if not path:
        pytest.fail(
            f"tests/cluster runs on the services `make test-cluster` starts ({CLUSTER_INFO} is not set)",
            pytrace=False,
        )
    return dict(json.loads(Path(path).read_text()))


def cluster_env(info: dict[str, Any], workdir: Path) -> dict[str, str]:
    """The demo's Variables with the distributed paths: S3 for files, a sheet file on this machine."""
    settings = json.loads(scenario_variables(DEMO).get("community_settings") or "{}")
    settings["paths"] = {**info["paths"], "tracking_sheet": str(workdir / "tracking-sheet.xlsx")}
    return {"AIRFLOW_VAR_COMMUNITY_SETTINGS": json.dumps(settings)}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    info = cluster_info()
    workdir = tmp_path_factory.mktemp("cluster")
    port = free_port()
    sandbox = Sandbox(DEMO, port=port).start()
    records = [Record("sandbox", os.getpid(), port, "in the pytest process (demo scenario)")]
    airflow = ClusterAirflow(workdir / "airflow-home", info, env=cluster_env(info, workdir))
    running = Cluster(airflow, sandbox, port, info, workdir, records)
    try:
        airflow.prepare()
        apply_settings(airflow.env, DEMO, sandbox.base_url)
        airflow.start_components(timeout=300)
        yield running
    finally:
        airflow.stop()
        running.stop_sandbox()
        save_records(Path(info["components_file"]), records)
