"""Fixtures for the tests that run the DAGs through real Airflow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import AirflowRunner, close_warm_clis, migrate

from community_sandbox import Sandbox


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    yield migrate(tmp_path_factory.mktemp("airflow-home"))
    close_warm_clis()


@pytest.fixture
def airflow(airflow_env: dict[str, str], tmp_path: Path) -> AirflowRunner:
    return AirflowRunner(env=dict(airflow_env), workdir=tmp_path)


@pytest.fixture
def sandbox() -> Iterator[Callable[[Path], Sandbox]]:
    started: list[Sandbox] = []

    def start(scenario: Path) -> Sandbox:
        running = Sandbox(scenario).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
