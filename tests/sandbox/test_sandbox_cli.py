"""``python -m community_sandbox`` as scripts use it: start, wait for the line, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "community_sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def test_serves_until_sigterm(
    write_scenario: Callable[..., Path], processes: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    root = write_scenario()
    port = free_port()
    ready = tmp_path / "ready.txt"
    process = run_cli("--scenario", str(root), "--port", str(port), "--ready-file", str(ready))
    processes.append(process)

    assert process.stdout is not None
    line = process.stdout.readline().strip()  # the process flushes it once listening
    base = f"http://127.0.0.1:{port}"
    posted = requests.post(f"{base}/hooks/demo", json={"text": "hi"}, timeout=5)
    outbox = requests.get(f"{base}/_sandbox/outbox", timeout=5).json()
    process.send_signal(signal.SIGTERM)

    assert line == f"sandbox listening on {base} (scenario {root})"
    assert ready.read_text(encoding="utf-8").strip() == base
    assert posted.text == "ok"
    assert [(e["service"], e["body"]) for e in outbox] == [("mattermost", {"text": "hi"})]
    assert process.wait(timeout=10) == 0


def test_bad_scenario_exits_2_naming_the_file(
    write_scenario: Callable[..., Path], processes: list[subprocess.Popen[str]]
) -> None:
    root = write_scenario({"github/o/r/issues.json": [{"created_at": "2026-11-16T00:00:00Z"}]})
    process = run_cli("--scenario", str(root))
    processes.append(process)

    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert 'github/o/r/issues.json: item 0 has no "number"' in stderr


def test_refuses_other_hosts(
    write_scenario: Callable[..., Path], processes: list[subprocess.Popen[str]]
) -> None:
    process = run_cli("--scenario", str(write_scenario()), "--host", "0.0.0.0")
    processes.append(process)

    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "127.0.0.1" in stderr
