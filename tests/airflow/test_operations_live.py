"""Runs as operators run them, with the real scheduler and API server on loopback.

Backfills after an outage (one archived digest per day, each as of its own T, nothing posted unless
asked, nothing twice), manual triggers through the REST API, a failing channel, and a scheduler
killed in the middle of posting.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import sandbox_connections
from live_airflow import LiveAirflow

from community_sandbox import Sandbox
from scenario_files import github_comment, github_issue, write_scenario

pytestmark = pytest.mark.airflow

DAG_ID = "community_daily_monitoring"
REPO = "mattermost/mattermost"
T1, T2, T3 = (datetime(2026, 11, d, 7, tzinfo=UTC) for d in (16, 17, 18))
GITHUB_AND_FORUM_ONLY = {"channels": {"disabled": ["gitlab", "stackoverflow", "uservoice", "jira"]}}
ROTATION = {"members": ["dev.one", "dev.two"], "days": 1, "start": "2026-11-16"}


def outage_scenario(root: Path, faults: list[dict[str, Any]] | None = None) -> Path:
    """Issues whose state changes from one day to the next, so each day's digest differs.

    A: opened 11-12, answered 11-16 12:00 -> waiting on T1 only.
    D: opened 11-13, answered 11-17 12:00 -> waiting on T1 and T2.
    B: opened 11-14 08:00 -> too young on T1, waiting on T2 and T3.
    C: opened 11-17 10:00 -> new on T3 (triage), too young to wait.
    """
    issues = [
        github_issue(REPO, 1, "Issue A: push notifications", "ann", datetime(2026, 11, 12, 9, tzinfo=UTC)),
        github_issue(REPO, 4, "Issue D: LDAP sync", "dan", datetime(2026, 11, 13, 6, tzinfo=UTC)),
        github_issue(REPO, 2, "Issue B: search", "bea", datetime(2026, 11, 14, 8, tzinfo=UTC)),
        github_issue(REPO, 3, "Issue C: crash on start", "cal", datetime(2026, 11, 17, 10, tzinfo=UTC)),
    ]
    comments = [
        github_comment(REPO, 901, 1, "helper", datetime(2026, 11, 16, 12, tzinfo=UTC)),
        github_comment(REPO, 902, 4, "helper", datetime(2026, 11, 17, 12, tzinfo=UTC)),
    ]
    return write_scenario(
        root,
        T3,
        github={REPO: {"issues": issues, "comments": comments}, "mattermost/mattermost-mobile": {}},
        faults=faults,
    )


def live_env(base_url: str, workdir: Path) -> dict[str, str]:
    env = sandbox_connections(base_url, workdir / "ledger.db")
    settings = {
        **GITHUB_AND_FORUM_ONLY,
        "paths": {"intermediate": str(workdir / "intermediate"), "archive": str(workdir / "archive")},
    }
    env["AIRFLOW_VAR_COMMUNITY_SETTINGS"] = json.dumps(settings)
    env["AIRFLOW_VAR_COMMUNITY_ROTATION"] = json.dumps(ROTATION)
    env["AIRFLOW_VAR_COMMUNITY_STAFF"] = json.dumps({"github": [], "bots": []})
    return env


@pytest.fixture
def operate(tmp_path: Path) -> Iterator[Any]:
    """Start a sandbox on a scenario and real Airflow pointed at it."""
    started: list[Any] = []

    def start(faults: list[dict[str, Any]] | None = None) -> tuple[LiveAirflow, Sandbox, Path]:
        workdir = tmp_path / f"work{len(started)}"
        sandbox = Sandbox(outage_scenario(tmp_path / f"scenario{len(started)}", faults)).start()
        started.append(sandbox)
        live = LiveAirflow(tmp_path / f"home{len(started)}", env=live_env(sandbox.base_url, workdir))
        started.append(live)
        live.start()
        live.wait_until_parsed(DAG_ID)
        live.unpause(DAG_ID)
        return live, sandbox, workdir

    yield start
    for thing in reversed(started):
        thing.stop()


def posts(sandbox: Sandbox, kind: str) -> list[str]:
    return [
        e["body"]["text"]
        for e in sandbox.outbox
        if e["service"] == "mattermost" and e["body"]["text"].startswith(kind)
    ]


def listed(digest: str) -> list[str]:
    return re.findall(r"\[(Issue \w)", digest)


def test_backfill_archives_each_day_as_of_its_own_t_and_never_posts_twice(operate: Any) -> None:
    live, sandbox, workdir = operate()
    # The window filters logical dates (= data-interval starts, 07:00): 11-16..11-17 midnight is one run.
    assert live.backfill_dry_run(DAG_ID, "2026-11-16", "2026-11-17") == ["2026-11-16 07:00:00+00:00"]
    # The outage: T1..T3 were missed. Logical dates are interval starts (07:00 the day before).
    created = live.backfill(DAG_ID, "2026-11-15", "2026-11-17T07:00:00+00:00")
    assert created.returncode == 0, created.stdout + created.stderr
    runs = live.wait_for_runs(DAG_ID, "backfill", count=3, timeout=300)
    assert [r["state"] for r in runs] == ["success"] * 3, live.tail_logs()
    assert [r["data_interval_end"] for r in runs] == [
        "2026-11-16T07:00:00Z",
        "2026-11-17T07:00:00Z",
        "2026-11-18T07:00:00Z",
    ]

    archive = workdir / "archive" / DAG_ID
    digests = {p.parent.name: p.read_text() for p in sorted(archive.glob("*/help_wanted.md"))}
    assert list(digests) == ["2026-11-16T070000Z", "2026-11-17T070000Z", "2026-11-18T070000Z"]
    assert listed(digests["2026-11-16T070000Z"]) == ["Issue A", "Issue D"]
    assert listed(digests["2026-11-17T070000Z"]) == ["Issue D", "Issue B"]
    assert listed(digests["2026-11-18T070000Z"]) == ["Issue B"]
    # Each day shows its own day on the list, from upstream timestamps alone (D qualified on 11-15
    # 06:00, B on 11-16 08:00); on day 3 the item line names that day's developer on rotation.
    assert "· day 2" in line_with(digests["2026-11-16T070000Z"], "Issue D")
    assert line_with(digests["2026-11-17T070000Z"], "Issue D").endswith("· day 3 · @dev.two")
    assert "· day 1" in line_with(digests["2026-11-17T070000Z"], "Issue B")
    assert "· day 2" in line_with(digests["2026-11-18T070000Z"], "Issue B")
    # Each day names that day's developer on rotation (one-day turns from 11-16).
    assert "@dev.one " in digests["2026-11-16T070000Z"]
    assert "@dev.two " in digests["2026-11-17T070000Z"]
    triage = (archive / "2026-11-18T070000Z" / "triage.md").read_text()
    assert "Issue C" in triage
    assert sandbox.outbox == []  # backfills archive; they post only when asked
    _wait_for_backfill_runs(live, count=3, finished_after=1)  # one backfill per DAG at a time

    # Asked to post this time: the reprocessed runs post each day's digests once...
    again = reprocess_outage_posting(live)
    assert again.returncode == 0, again.stdout + again.stderr
    _wait_for_backfill_runs(live, count=3, finished_after=2)
    help_wanted = posts(sandbox, "[Help Wanted]")
    assert sorted(listed(d)[0] for d in help_wanted) == ["Issue A", "Issue B", "Issue D"]
    assert len(posts(sandbox, "[Triage]")) == 3
    # One day after the other, each labelled with its own date; one @here, on the newest day.
    dates = [re.search(r"\(backfill: as of (\S+)", d).group(1) for d in help_wanted]  # type: ignore[union-attr]
    assert dates == ["2026-11-16", "2026-11-17", "2026-11-18"]
    assert ["@here" in d for d in help_wanted] == [False, False, True]
    assert "@dev.one" not in help_wanted[0]
    assert "@dev.two" not in help_wanted[1]
    # Running the posting tasks once more sends nothing twice: test_readme_operating clears them
    # after this same reprocessing and checks the outbox.


def line_with(digest: str, title: str) -> str:
    return next(line for line in digest.splitlines() if f"[{title}" in line)


def reprocess_outage_posting(live: LiveAirflow) -> Any:
    """Backfill the outage's three days again, reprocessing completed runs, with posting on."""
    return live.backfill(
        DAG_ID,
        "2026-11-15",
        "2026-11-17T07:00:00+00:00",
        "--reprocess-behavior",
        "completed",
        "--dag-run-conf",
        json.dumps({"post_backfill_digests": True}),
    )


def _wait_for_backfill_runs(live: LiveAirflow, count: int, finished_after: int, timeout: float = 300) -> None:
    """Wait until the ``finished_after``-th backfill of the DAG is complete and its runs are done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backfills = live.backfills(DAG_ID)
        runs = live.list_runs(DAG_ID, "backfill")
        done = len(backfills) >= finished_after and all(b.get("completed_at") for b in backfills)
        if done and len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs):
            assert [r["state"] for r in runs] == ["success"] * count, live.tail_logs()
            return
        time.sleep(1)
    raise AssertionError(f"backfill not done in {timeout}s\n{live.tail_logs()}")


def test_manual_triggers_through_the_rest_api(operate: Any) -> None:
    live, sandbox, _ = operate()
    # A point-in-time digest for a past moment: what was waiting at T2.
    status, run = live.trigger(DAG_ID, {"as_of": T2.isoformat()})
    assert status == 200, run
    assert live.wait_for_run(DAG_ID, run["dag_run_id"], timeout=240) == "success", live.tail_logs()
    [digest] = posts(sandbox, "[Help Wanted]")
    assert listed(digest) == ["Issue D", "Issue B"]
    # Refused before any run exists, naming the param.
    status, body = live.trigger(DAG_ID, {"as_of": 5})
    assert status == 400, body
    assert "Invalid input for param as_of" in body["detail"]
    # A value that is no time fails the run at its first task within a minute, naming the param;
    # nothing downstream retries an unrelated error.
    for conf, message in (
        ({"as_of": "yesterday"}, "param 'as_of' must be an ISO-8601 time"),
        ({"post_backfill_digests": "yes"}, "param 'post_backfill_digests' must be true or false"),
    ):
        started = time.monotonic()
        status, run = live.trigger(DAG_ID, conf)
        assert status == 200
        assert live.wait_for_run(DAG_ID, run["dag_run_id"], timeout=120) == "failed"
        assert time.monotonic() - started < 60
        states = live.task_states(DAG_ID, run["dag_run_id"])
        assert states["check_run"] == "failed"
        assert not any(s in ("up_for_retry", "running", "queued") for s in states.values()), states
        assert message in live.tail_logs(lines=400)
    assert len(posts(sandbox, "[Help Wanted]")) == 1


def test_failing_channel_partial_digest_failed_run_one_alert(operate: Any) -> None:
    live, sandbox, _ = operate(faults=[{"service": "github", "path": ".*", "status": 500}])
    status, run = live.trigger(DAG_ID, {"as_of": T3.isoformat()})
    assert status == 200, run
    assert live.wait_for_run(DAG_ID, run["dag_run_id"], timeout=300) == "failed"
    states = live.task_states(DAG_ID, run["dag_run_id"])
    assert states["extract_github"] == "failed"
    assert states["post_help_wanted_digest"] == "success"
    [digest] = posts(sandbox, "[Help Wanted]")
    assert "could not read github" in digest
    [alert] = posts(sandbox, "[Alert]")  # one, although the task was tried twice
    assert "extract_github" in alert
    tries = [
        ti["try_number"]
        for ti in live.task_instances(DAG_ID, run["dag_run_id"])
        if ti["task_id"] == "extract_github"
    ]
    assert tries == [2]


def in_flight(ledger_db: Path) -> list[str]:
    """The ledger's keys whose request is out (SPEC §6)."""
    with sqlite3.connect(ledger_db, timeout=10) as db:
        rows = db.execute(
            "SELECT key FROM community_notifications WHERE in_flight_since IS NOT NULL"
        ).fetchall()
    return [key for (key,) in rows]


def help_wanted_claimed(ledger_db: Path) -> bool:
    with sqlite3.connect(ledger_db, timeout=10) as db:
        rows = db.execute(
            "SELECT key FROM community_notifications WHERE key LIKE '%:help_wanted:%'"
        ).fetchall()
    return bool(rows)


def test_scheduler_killed_while_posting_sends_each_message_once(operate: Any) -> None:
    # The help channel's webhook answers 503 once, asking to wait: the post task is mid-delivery
    # when the scheduler (and the tasks it runs) are killed.
    fault = {
        "service": "mattermost",
        "path": "/hooks/help-channel-hook",
        "status": 503,
        "times": 1,
        "retry_after": 20,
    }
    live, sandbox, workdir = operate(faults=[fault])
    status, run = live.trigger(DAG_ID, {"as_of": T3.isoformat()})
    assert status == 200, run
    run_id = run["dag_run_id"]
    live.wait_for_task_state(DAG_ID, run_id, "post_help_wanted_digest", {"running"}, timeout=240)

    def help_requests() -> int:
        return len([r for r in sandbox.requests_log if r["path"] == "/hooks/help-channel-hook"])

    deadline = time.monotonic() + 30
    while not help_requests() or not help_wanted_claimed(workdir / "ledger.db"):
        assert time.monotonic() < deadline, live.tail_logs()
        time.sleep(0.2)
    # The crash under test lands in the retry's wait, when nothing is out: the 503 read (the
    # sandbox logs a request before it answers), and the other posts, which run beside this one,
    # delivered (one killed mid-request would rightly be left uncertain, and the run red).
    while in_flight(workdir / "ledger.db") or not posts(sandbox, "[Triage]"):
        assert help_requests() == 1, "the retry came before the other posts were out"
        assert time.monotonic() < deadline, live.tail_logs()
        time.sleep(0.1)
    live.stop_scheduler()  # a crash, not a shutdown
    time.sleep(2)
    live.start_scheduler()
    assert live.wait_for_run(DAG_ID, run_id, timeout=300) == "success", live.tail_logs()
    assert len(posts(sandbox, "[Help Wanted]")) == 1
    assert len(posts(sandbox, "[Triage]")) == 1
