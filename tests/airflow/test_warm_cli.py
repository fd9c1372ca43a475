"""The warm ``airflow`` command line the DAG tests run through (warm_cli.py): each command sees its
own environment and nothing of the one before; what Airflow reads once at import is honoured."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import AIRFLOW, PROJECT_ROOT
from warm_cli import WarmAirflowCli

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def cli(airflow_env: dict[str, str]) -> WarmAirflowCli:
    warm = WarmAirflowCli(AIRFLOW, airflow_env)
    yield warm
    warm.close()


def test_each_command_sees_its_own_environment_and_nothing_of_the_last(
    cli: WarmAirflowCli, airflow_env: dict[str, str], tmp_path: Path
) -> None:
    first, second, third = (tmp_path / f"{n}.log" for n in ("first", "second", "third"))
    assert (
        cli.run(["variables", "get", "probe"], {**airflow_env, "AIRFLOW_VAR_PROBE": "one"}, first, 120) == 0
    )
    assert (
        cli.run(["variables", "get", "probe"], {**airflow_env, "AIRFLOW_VAR_PROBE": "two"}, second, 120) == 0
    )
    assert first.read_text().strip().splitlines()[-1] == "one"
    assert second.read_text().strip().splitlines()[-1] == "two"
    # The variable the commands before were given is not there: each is a fork of the warm server.
    assert cli.run(["variables", "get", "probe"], dict(airflow_env), third, 120) != 0
    assert "probe" in third.read_text().lower()


def test_a_setting_read_at_import_gets_a_process_of_its_own(
    cli: WarmAirflowCli, airflow_env: dict[str, str], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other-dags"
    elsewhere.mkdir()
    same, other = tmp_path / "same.log", tmp_path / "other.log"
    assert cli.run(["config", "get-value", "core", "dags_folder"], dict(airflow_env), same, 120) == 0
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(elsewhere)}
    assert cli.run(["config", "get-value", "core", "dags_folder"], env, other, 120) == 0
    assert same.read_text().strip().splitlines()[-1] == str(PROJECT_ROOT / "dags")
    assert other.read_text().strip().splitlines()[-1] == str(elsewhere)


def test_a_command_past_its_timeout_is_killed_and_the_next_one_runs(
    cli: WarmAirflowCli, airflow_env: dict[str, str], tmp_path: Path
) -> None:
    # Listing the DAGs parses every DAG file: far longer than a tenth of a second.
    assert cli.run(["dags", "list"], dict(airflow_env), tmp_path / "slow.log", 0.1) == -9
    after = tmp_path / "after.log"
    assert (
        cli.run(["variables", "get", "probe"], {**airflow_env, "AIRFLOW_VAR_PROBE": "three"}, after, 120) == 0
    )
    assert after.read_text().strip().splitlines()[-1] == "three"
