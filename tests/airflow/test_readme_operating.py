"""Every shell command of the README's "Operating it" section, run as written against the sandbox.

`make airflow` is started the way the Makefile does (``python -m community_devtools.local_airflow``,
with a home and ports of the test's own); then each ```sh block of the section runs in a fresh
bash, in order, with the home path of the README replaced by the test's. Between blocks the test
waits, as an operator would, until the runs a block started are finished.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from harness import PROJECT_ROOT

from community_devtools.local_airflow import free_port

pytestmark = pytest.mark.airflow

README_HOME = "airflow_home/ui-demo"
DAG_ID = "community_daily_monitoring"


def operating_blocks() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Operating it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def test_the_operating_section_has_commands() -> None:
    blocks = operating_blocks()
    assert len(blocks) >= 6
    assert any("backfill create" in b for b in blocks)
    assert any("tasks clear" in b for b in blocks)


def bash(home: Path, block: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    script = block.replace(README_HOME, str(home))
    if not script.lstrip().startswith(". "):
        script = f". {home / 'airflow-env.sh'}\n{script}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def runs_settled(home: Path, timeout: float = 300) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = bash(home, f"airflow dags list-runs {DAG_ID} -o json", timeout=120)
        # The JSON is the last line (Airflow may print warnings before it).
        lines = [line for line in listed.stdout.splitlines() if line.startswith("[")]
        runs = json.loads(lines[-1]) if listed.returncode == 0 and lines else []
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        time.sleep(3)
    raise AssertionError(f"runs not finished in {timeout}s: {listed.stdout[-2000:]}{listed.stderr[-2000:]}")


def sandbox_outbox(port: int) -> list[dict[str, Any]]:
    """What the sandbox received (the writes of every run), read over its control API."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/outbox", timeout=30) as response:
        return json.loads(response.read())


def test_every_operating_command_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "ui-demo"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))
        },
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)]),
        "COMMUNITY_TASK_RETRIES": "1",
        "COMMUNITY_RETRY_DELAY_SECONDS": "1",
    }
    sandbox_port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "community_devtools.local_airflow",
            "--home",
            str(home),
            "--port",
            str(free_port()),
            "--sandbox-port",
            str(sandbox_port),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            output.append(line)
            if "Airflow is ready" in line or server.poll() is not None:
                break
        assert any("Airflow is ready" in line for line in output), "".join(output)
        for block in operating_blocks():
            result = bash(home, block)
            # A backfill counts as running until the scheduler marks it complete, a little after
            # its runs end; an operator retries after a moment (as the README says).
            for _ in range(40):
                if "Another backfill is running" not in result.stderr:
                    break
                time.sleep(3)
                result = bash(home, block)
            assert result.returncode == 0, (
                f"{block}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
            )
            if "dagRuns" in block:
                assert '"dag_run_id"' in result.stdout
            if (
                "backfill create" in block
                or "dagRuns" in block
                or "unpause" in block
                or "tasks clear" in block
            ):
                runs_settled(home)
        runs = runs_settled(home)
        backfilled = sorted(r["logical_date"][:10] for r in runs if r["run_id"].startswith("backfill__"))
        assert backfilled == ["2026-11-15", "2026-11-16", "2026-11-17"]
        # The reprocessing posted each backfilled day's digests; clearing the posting task ran it
        # again, and nothing went out twice.
        texts = [e["body"]["text"] for e in sandbox_outbox(sandbox_port) if e["service"] == "mattermost"]
        backfill_days = sorted(
            re.findall(r"\(backfill: as of (\S+)", text)[0]
            for text in texts
            if "(backfill: as of" in text and text.startswith("[Help Wanted]")
        )
        assert backfill_days == ["2026-11-16", "2026-11-17", "2026-11-18"], texts
        assert len(texts) == len(set(texts)), texts
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        finally:
            if server.poll() is None:
                server.kill()
