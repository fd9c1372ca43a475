"""Every shell command of the README's "Operating it" section, run as written against the sandbox.

`make airflow` is started the way the Makefile does (``python -m community_devtools.local_airflow``,
with a home and ports of the test's own) on the outage scenario (tests/airflow/outage.py: three
days whose digests differ); then each ```sh block of the section runs in a fresh bash, in order,
with the home path of the README replaced by the test's. Between blocks the test waits, as an
operator would, until the runs a block started are finished, and checks what the README says the
block does: a manual run's params refused or failed naming the param, each backfilled day archived
as of its own T and posted only when asked, in date order with one ``@here``, nothing sent twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import PROJECT_ROOT
from outage import (
    DAG_ID,
    GITHUB_AND_FORUM_ONLY,
    ROTATION,
    STAFF,
    T1,
    T2,
    T3,
    line_with,
    listed,
    outage_scenario,
)

from community_devtools.local_airflow import free_port

pytestmark = pytest.mark.airflow

README_HOME = "airflow_home/ui-demo"


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


def runs_settled(rest: Rest, timeout: float = 300) -> list[dict[str, str]]:
    """The DAG's runs once every one has finished, seen so twice in a row. Asked over the REST API:
    an ``airflow dags list-runs`` every few seconds costs a whole Airflow start each time, on the
    two cores the scheduler and the runs it waits for need."""
    deadline = time.monotonic() + timeout
    settled_before = False
    runs: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        runs = rest.runs()
        settled = bool(runs) and all(r["state"] in ("success", "failed") for r in runs)
        if settled and settled_before:
            return runs
        settled_before = settled
        time.sleep(2)
    raise AssertionError(f"runs not finished in {timeout}s: {runs}")


def sandbox_outbox(port: int) -> list[dict[str, Any]]:
    """What the sandbox received (the writes of every run), read over its control API."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/outbox", timeout=30) as response:
        return json.loads(response.read())


def stamp(t: datetime) -> str:
    """A T as the archive names its folder."""
    return t.strftime("%Y-%m-%dT%H%M%SZ")


class Rest:
    """The REST API as the README's block calls it: a token for ``admin`` from ``POST /auth/token``."""

    def __init__(self, home: Path, port: int) -> None:
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        token = self.http.post("/auth/token", json={"username": "admin", "password": password})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def trigger(self, conf: dict[str, Any]) -> tuple[int, Any]:
        response = self.http.post(f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        return response.status_code, response.json()

    def wait_for_run(self, run_id: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.http.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                return str(state)
            time.sleep(1)
        raise AssertionError(f"run {run_id} not finished in {timeout}s")

    def runs(self) -> list[dict[str, str]]:
        """Every run of the DAG: its ``run_id``, ``logical_date`` and ``state``."""
        body = self.http.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100}).json()
        return [
            {"run_id": r["dag_run_id"], "logical_date": r["logical_date"] or "", "state": r["state"]}
            for r in body["dag_runs"]
        ]

    def task_states(self, run_id: str) -> dict[str, str | None]:
        body = self.http.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return {ti["task_id"]: ti["state"] for ti in body.json()["task_instances"]}


def check_params_are_refused_naming_them(home: Path, rest: Rest) -> None:
    """A param of the wrong type is refused with 400; a wrong value fails ``check_run`` within seconds."""
    status, body = rest.trigger({"as_of": 5})
    assert status == 400, body
    assert "Invalid input for param as_of" in body["detail"]
    for conf, message in (
        ({"as_of": "yesterday"}, "param 'as_of' must be an ISO-8601 time"),
        ({"post_backfill_digests": "yes"}, "param 'post_backfill_digests' must be true or false"),
    ):
        started = time.monotonic()
        status, run = rest.trigger(conf)
        assert status == 200, run
        assert rest.wait_for_run(run["dag_run_id"]) == "failed"
        assert time.monotonic() - started < 60
        states = rest.task_states(run["dag_run_id"])
        assert states["check_run"] == "failed"
        # Nothing downstream ran or retries an unrelated error.
        assert not any(s in ("up_for_retry", "running", "queued", "success") for s in states.values()), states
        [log] = (
            home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run['dag_run_id']}" / "task_id=check_run"
        ).glob("attempt=*.log")
        assert message in log.read_text(encoding="utf-8")


def backfill_triage_day(text: str) -> str | None:
    """The T of a [Triage] list of a backfilled day (they carry no label: their interval says it)."""
    found = re.match(r"\[Triage\] .* to (2026-11-1[678]) 07:00 UTC", text)
    return found.group(1) if found else None


def check_the_outage_archived_day_by_day(home: Path, texts: list[str]) -> None:
    """The archive-only backfill: each day's digest as of its own T, nothing posted."""
    archive = home / "community_monitoring" / "archive" / DAG_ID
    digests = {t: (archive / stamp(t) / "help_wanted.md").read_text(encoding="utf-8") for t in (T1, T2, T3)}
    assert listed(digests[T1]) == ["Issue A", "Issue D"]
    assert listed(digests[T2]) == ["Issue D", "Issue B"]
    assert listed(digests[T3]) == ["Issue B"]
    # Each day shows its own day on the list, from upstream timestamps alone (D qualified on 11-15
    # 06:00, B on 11-16 08:00); on day 3 the item line names that day's developer on rotation.
    assert "· day 2" in line_with(digests[T1], "Issue D")
    assert line_with(digests[T2], "Issue D").endswith("· day 3 · @dev.two")
    assert "· day 1" in line_with(digests[T2], "Issue B")
    assert "· day 2" in line_with(digests[T3], "Issue B")
    # Each day names that day's developer on rotation (one-day turns from 11-16).
    assert "@dev.one " in digests[T1]
    assert "@dev.two " in digests[T2]
    assert "Issue C" in (archive / stamp(T3) / "triage.md").read_text(encoding="utf-8")
    # Backfills post only when asked.
    assert not [text for text in texts if "(backfill" in text or backfill_triage_day(text)], texts


def a_later_day_was_posted(home: Path) -> bool:
    """Whether a [Help Wanted] of a day after the outage's last went out: the scheduled run of the
    real clock's day, which make airflow runs once the DAG is unpaused."""
    ledger = home / "community_monitoring" / "ledger.db"
    with sqlite3.connect(ledger) as db:
        found = db.execute(
            "SELECT key FROM community_notifications WHERE key LIKE ? AND status = 'sent'",
            (f"{DAG_ID}:help_wanted:%",),
        ).fetchall()
    return any(
        datetime.fromisoformat(key.rsplit(":help_wanted:", 1)[1]) >= T3 + timedelta(days=1)
        for (key,) in found
    )


def check_the_outage_posted_day_by_day(texts: list[str], later_day_posted: bool) -> None:
    """The reprocessing with posting on: each day's digests once, in date order, one ``@here`` (none
    when a later day's digest pinged the channel already)."""
    help_wanted = [text for text in texts if text.startswith("[Help Wanted] (backfill")]
    assert sorted(listed(text)[0] for text in help_wanted) == ["Issue A", "Issue B", "Issue D"]
    assert sorted(filter(None, map(backfill_triage_day, texts))) == ["2026-11-16", "2026-11-17", "2026-11-18"]
    dates = [re.findall(r"\(backfill: as of (\S+)", text)[0] for text in help_wanted]
    assert dates == ["2026-11-16", "2026-11-17", "2026-11-18"], texts
    assert ["@here" in text for text in help_wanted] == [False, False, not later_day_posted]
    assert "@dev.one" not in help_wanted[0]
    assert "@dev.two" not in help_wanted[1]


def test_every_operating_command_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "ui-demo"
    scenario = outage_scenario(
        tmp_path / "outage",
        variables={
            "community_settings": GITHUB_AND_FORUM_ONLY,
            "community_rotation": ROTATION,
            "community_staff": STAFF,
        },
    )
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
    sandbox_port, api_port = free_port(), free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "community_devtools.local_airflow",
            "--scenario",
            str(scenario),
            "--home",
            str(home),
            "--port",
            str(api_port),
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
    checked: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            output.append(line)
            if "Airflow is ready" in line or server.poll() is not None:
                break
        assert any("Airflow is ready" in line for line in output), "".join(output)
        rest = Rest(home, api_port)
        for block in operating_blocks():
            if "backfill create" in block and "dry_run_checked" not in checked:
                # The window filters logical dates (= data-interval starts, 07:00): 11-16..11-17
                # midnight is one run, as the README says.
                dry = bash(
                    home,
                    f"airflow backfill create --dag-id {DAG_ID} --from-date 2026-11-16 "
                    "--to-date 2026-11-17 --dry-run",
                )
                assert dry.returncode == 0, dry.stdout + dry.stderr
                planned = dry.stdout.split("Runs to be attempted:", 1)[-1]
                assert re.findall(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", planned) == [
                    "2026-11-16 07:00:00"
                ]
                checked.append("dry_run_checked")
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
                runs_settled(rest)
            texts = [e["body"]["text"] for e in sandbox_outbox(sandbox_port) if e["service"] == "mattermost"]
            if "dagRuns" in block:
                check_params_are_refused_naming_them(home, rest)
                checked.append("params")
            elif "backfill create" in block and "post_backfill_digests" not in block:
                check_the_outage_archived_day_by_day(home, texts)
                checked.append("archived")
            elif "post_backfill_digests" in block:
                check_the_outage_posted_day_by_day(texts, a_later_day_was_posted(home))
                checked.append("posted")
        assert checked == ["params", "dry_run_checked", "archived", "posted"]
        runs = runs_settled(rest)
        backfilled = sorted(r["logical_date"][:10] for r in runs if r["run_id"].startswith("backfill__"))
        assert backfilled == ["2026-11-15", "2026-11-16", "2026-11-17"]
        # Clearing the posting task ran it again: nothing went out twice.
        texts = [e["body"]["text"] for e in sandbox_outbox(sandbox_port) if e["service"] == "mattermost"]
        check_the_outage_posted_day_by_day(texts, a_later_day_was_posted(home))
        assert len(texts) == len(set(texts)), texts
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        finally:
            if server.poll() is None:
                server.kill()
