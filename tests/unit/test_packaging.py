"""What is deployed is the product only (SPEC §8): the wheel, the plugins folder, the dev packages.

The wheel is built offline (no index, no build isolation: setuptools and wheel come from the
pinned requirements) in a copy of the project, so the build leaves nothing in the checkout.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
DEV_PACKAGES = ("community_sandbox", "community_devtools")
DEV_FILE_MARKERS = ("sandbox", "community_devtools", "demo.py", "bench.py", "settings_loader")


def imported_modules(path: Path) -> Iterator[str]:
    """Every absolute module a Python file imports, at any depth (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
    shutil.copytree(
        PLUGINS, source / "plugins", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    )
    out = tmp / "dist"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_wheel_ships_the_rules_file_and_every_template(wheel_names: list[str]) -> None:
    assert "community_monitoring/defaults/monitoring.yaml" in wheel_names
    assert "community_monitoring/templates/help_wanted.md.j2" in wheel_names
    for template in (PLUGINS / "community_monitoring" / "templates").glob("*.j2"):
        assert f"community_monitoring/templates/{template.name}" in wheel_names
    assert "community_monitoring/sources/github.py" in wheel_names
    assert "community_monitoring/pipeline/daily.py" in wheel_names


def test_wheel_holds_no_dev_tools(wheel_names: list[str]) -> None:
    offending = [name for name in wheel_names if any(marker in name for marker in DEV_FILE_MARKERS)]
    assert offending == []
    tops = {name.split("/", 1)[0] for name in wheel_names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"community_monitoring"}


def test_installed_wheel_finds_its_rules_and_templates(wheel: Path, tmp_path: Path) -> None:
    """Unpacked away from the checkout, the package still reads its bundled files."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        "import community_monitoring, sys\n"
        "from community_monitoring.settings import load_settings\n"
        "from community_monitoring.rendering import template_environment\n"
        f"assert community_monitoring.__file__.startswith({str(site)!r}), community_monitoring.__file__\n"
        "load_settings()\n"
        "print(sorted(template_environment().list_templates()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COMMUNITY_MONITORING_CONFIG")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "help_wanted.md.j2" in result.stdout


def test_plugins_folder_holds_no_dev_tools() -> None:
    """Nothing under plugins/ (Airflow's plugins folder) is, or imports, a dev tool."""
    files = [path for path in PLUGINS.rglob("*") if "__pycache__" not in path.parts]
    named = [str(path.relative_to(ROOT)) for path in files if any(m in path.name for m in DEV_FILE_MARKERS)]
    assert named == []
    importing = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in [*files, *(ROOT / "dags").glob("*.py")]
        if path.suffix == ".py"
        for module in imported_modules(path)
        if top_level(module) in DEV_PACKAGES
    )
    assert importing == []


def test_sandbox_shares_no_code_with_the_product() -> None:
    files = sorted((ROOT / "community_sandbox").rglob("*.py"))
    assert files, "community_sandbox not found"
    importing = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in imported_modules(path)
        if top_level(module) in ("community_monitoring", "community_devtools")
    )
    assert importing == []


def test_sandbox_cli_help_runs_from_the_repository_root() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "community_sandbox", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--scenario" in result.stdout
