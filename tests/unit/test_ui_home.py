"""`make airflow`'s home per scenario folder: two folders of the same name never share a ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from community_devtools.local_airflow import UI_HOME_OWNER, ui_home


def test_the_first_folder_of_a_name_gets_the_plain_home_and_keeps_it(tmp_path: Path) -> None:
    parent = tmp_path / "airflow_home"
    scenario = tmp_path / "a" / "demo"
    home = ui_home(parent, scenario)
    assert home == parent / "ui-demo"  # what the README names
    assert (home / UI_HOME_OWNER).read_text().strip() == str(scenario)
    assert ui_home(parent, scenario) == home  # the next start finds it again


def test_another_folder_of_the_same_name_gets_a_home_of_its_own(tmp_path: Path) -> None:
    parent = tmp_path / "airflow_home"
    first = ui_home(parent, tmp_path / "a" / "scenario")
    second = ui_home(parent, tmp_path / "b" / "scenario")
    assert second != first
    assert second.name.startswith("ui-scenario-")
    assert (second / UI_HOME_OWNER).read_text().strip() == str(tmp_path / "b" / "scenario")
    # Each keeps its own, whichever starts first next time.
    assert ui_home(parent, tmp_path / "b" / "scenario") == second
    assert ui_home(parent, tmp_path / "a" / "scenario") == first


def test_a_relative_path_names_the_same_folder_as_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    parent = tmp_path / "airflow_home"
    relative = ui_home(parent, Path("../x/demo"))
    assert ui_home(parent, tmp_path / "x" / "demo") == relative == parent / "ui-demo"


def test_a_folder_whose_name_ends_in_a_space_finds_its_home_again(tmp_path: Path) -> None:
    parent = tmp_path / "airflow_home"
    scenario = tmp_path / "a" / "demo "
    home = ui_home(parent, scenario)
    assert home == parent / "ui-demo "
    assert ui_home(parent, scenario) == home  # its ledger with it, not a fresh ui-demo -<hash>
    assert ui_home(parent, tmp_path / "a" / "demo") != home
