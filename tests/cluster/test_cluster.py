"""The DAGs on a distributed Airflow (SPEC §11): CeleryExecutor with two workers, Postgres, Redis, S3.

Run by ``make test-cluster``, in this order on one cluster: the demo's daily run sends what the
single-machine demo sends; a three-day backfill with posting on posts each day's digests once,
across both workers; a worker killed (SIGKILL) while its task is posting loses nothing and sends
nothing twice once the task is retried on the other worker; and the run store's removal of idle
runs, called here from the test process as ``check_run`` calls it, on the runs' S3 folders.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cluster_airflow import DEMO, WORKERS, Cluster

from community_monitoring import keys
from community_monitoring.ledger import LedgerEntry, NotificationLedger
from community_monitoring.pipeline.store import RunStore

pytestmark = pytest.mark.cluster

DAILY = "community_daily_monitoring"
MODEL = "community_triage_model"
NOW = "2026-11-18T09:00:00+00:00"  # the demo scenario's `now`
DAILY_KINDS = ("help_wanted", "triage", "uservoice_review")
DAILY_PREFIXES = ("[Help Wanted]", "[Triage]", "[UserVoice Review]")
# The backfill: logical dates 11-14 .. 11-16 07:00, so T = 11-15, 11-16 and 11-17 07:00 UTC.
BACKFILL_FROM, BACKFILL_TO = "2026-11-14", "2026-11-16T07:00:00+00:00"
BACKFILL_DAYS = [datetime(2026, 11, d, 7, tzinfo=UTC) for d in (15, 16, 17)]
# The killed worker's run: a manual run at its own T.
KILL_AS_OF = datetime(2026, 11, 18, 12, tzinfo=UTC)
HELP_HOOK = "/hooks/help-channel-hook"


def normalised(outbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was sent, without the receive times, in a stable order (as tests/airflow/test_demo_outbox.py)."""
    entries = [{k: e[k] for k in ("service", "method", "path", "body")} for e in outbox]
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


def posts(outbox: list[dict[str, Any]]) -> list[str]:
    return [e["body"]["text"] for e in outbox if e["service"] == "mattermost"]


def ledger(cluster: Cluster) -> NotificationLedger:
    return NotificationLedger.from_url(cluster.info["ledger_url"])


def digest_entries(cluster: Cluster, as_of: datetime) -> dict[str, LedgerEntry]:
    book = ledger(cluster)
    found = {kind: book.get(keys.digest_key(DAILY, kind, as_of)) for kind in DAILY_KINDS}
    return {kind: entry for kind, entry in found.items() if entry is not None}


def s3_connection(cluster: Cluster) -> dict[str, Any]:
    return dict(json.loads(cluster.info["env"]["AIRFLOW_CONN_AWS_DEFAULT"]))


def s3_keys(cluster: Cluster, prefix: str) -> list[str]:
    import boto3

    aws = s3_connection(cluster)
    s3 = boto3.client(
        "s3",
        endpoint_url=aws["extra"]["endpoint_url"],
        aws_access_key_id=aws["login"],
        aws_secret_access_key=aws["password"],
        region_name=aws["extra"]["region_name"],
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=cluster.info["bucket"], Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def run_to_success(cluster: Cluster, dag_id: str, conf: dict[str, Any], timeout: float = 900) -> str:
    af = cluster.airflow
    status, run = af.trigger(dag_id, conf)
    assert status == 200, run
    state = af.wait_for_run(dag_id, run["dag_run_id"], timeout=timeout)
    assert state == "success", (af.task_states(dag_id, run["dag_run_id"]), af.tail_logs())
    return str(run["dag_run_id"])


def test_daily_run_sends_what_the_single_machine_demo_sends(cluster: Cluster) -> None:
    af = cluster.airflow
    for dag_id in (MODEL, DAILY):
        af.wait_until_parsed(dag_id, timeout=300)
        af.unpause(dag_id)
    # As `make demo`: the triage model first (it decides [Triage] types), then the daily run, as of `now`.
    run_to_success(cluster, MODEL, {"as_of": NOW})
    run_id = run_to_success(cluster, DAILY, {"as_of": NOW})

    # The single-machine oracle: `make demo`'s outbox (tests/airflow/test_demo_outbox.py keeps it
    # equal to a real demo run), less what the weekly review and the closeout send.
    demo = json.loads((DEMO / "expected-outbox.json").read_text(encoding="utf-8"))
    expected = [
        e for e in demo if e["service"] == "mattermost" and e["body"]["text"].startswith(DAILY_PREFIXES)
    ]
    assert len(expected) >= 3
    assert normalised(cluster.sandbox.outbox) == normalised(expected)

    # Its tasks ran on both workers; its files went through S3; its ledger is on Postgres.
    assert set(af.hostnames(DAILY, run_id).values()) == set(WORKERS)
    stored = s3_keys(cluster, f"intermediate/{DAILY}/")
    assert any(key.endswith("messages/help_wanted.json") for key in stored), stored
    assert not [key for key in stored if key.endswith(".partial")]
    assert s3_keys(cluster, "models/"), "the triage model was not stored on S3"
    entries = digest_entries(cluster, datetime.fromisoformat(NOW))
    assert set(entries) == set(DAILY_KINDS)
    assert all(entry.status == "sent" for entry in entries.values())


def test_backfill_with_posting_posts_each_day_once_across_both_workers(cluster: Cluster) -> None:
    af = cluster.airflow
    before = len(cluster.sandbox.outbox)
    created = af.backfill(
        DAILY,
        BACKFILL_FROM,
        BACKFILL_TO,
        "--dag-run-conf",
        json.dumps({"post_backfill_digests": True}),
    )
    assert created.returncode == 0, created.stdout + created.stderr
    runs = af.wait_for_runs(DAILY, "backfill", count=3, timeout=1200)
    assert [r["state"] for r in runs] == ["success"] * 3, af.tail_logs()

    sent = posts(cluster.sandbox.outbox[before:])
    delivered: list[str] = []
    for as_of in BACKFILL_DAYS:
        entries = digest_entries(cluster, as_of)
        assert "help_wanted" in entries, f"no [Help Wanted] for {as_of}"
        for kind, entry in entries.items():
            assert entry.status == "sent", (as_of, kind, entry)
            delivered += entry.parts
    # Each part of each day's digests arrived once, and nothing else was posted.
    assert Counter(sent) == Counter(delivered)
    assert max(Counter(sent).values()) == 1
    hosts = {host for run in runs for host in af.hostnames(DAILY, run["dag_run_id"]).values()}
    assert hosts == set(WORKERS)


def test_a_worker_killed_while_posting_loses_nothing_and_sends_nothing_twice(cluster: Cluster) -> None:
    af = cluster.airflow
    # The help channel's webhook answers 503 once, asking to wait: the post task holds its ledger
    # claim and is in the middle of delivering when its worker dies.
    sandbox = cluster.restart_sandbox(
        [{"service": "mattermost", "path": HELP_HOOK, "status": 503, "times": 1, "retry_after": 20}]
    )
    status, run = af.trigger(DAILY, {"as_of": KILL_AS_OF.isoformat()})
    assert status == 200, run
    run_id = run["dag_run_id"]
    task = "post_help_wanted_digest"
    af.wait_for_task_state(DAILY, run_id, task, {"running"}, timeout=600)
    deadline = time.monotonic() + 60
    while not [r for r in sandbox.requests_log if r["path"] == HELP_HOOK]:
        assert time.monotonic() < deadline, af.tail_logs()
        time.sleep(0.2)
    [first] = [ti for ti in af.task_instances(DAILY, run_id) if ti["task_id"] == task]
    victim = first["hostname"]
    assert victim in WORKERS, first
    claim = ledger(cluster).get(keys.digest_key(DAILY, "help_wanted", KILL_AS_OF))
    assert claim is not None
    assert claim.status == "sending"
    # Only the held post may be in flight on the victim: another post task killed mid-request there
    # ([UserVoice Review], [Triage]) is rightly uncertain (SPEC §6) and turns the run red. The held
    # post waits 20 s before it tries again, so there is time to let the others finish first.
    settled = time.monotonic() + 12
    while time.monotonic() < settled and (
        any(
            entry.status == "sending"
            for kind, entry in digest_entries(cluster, KILL_AS_OF).items()
            if kind != "help_wanted"
        )
        or any(
            ti["task_id"].startswith("post_") and ti["task_id"] != task and ti["hostname"] == victim
            for ti in af.task_instances(DAILY, run_id)
            if ti["state"] == "running"
        )
    ):
        time.sleep(0.2)
    held = ledger(cluster).get(keys.digest_key(DAILY, "help_wanted", KILL_AS_OF))
    assert held is not None
    assert held.status == "sending"
    af.kill(victim, graceful=False)  # SIGKILL: the worker, its pool and the task die at once

    assert af.wait_for_run(DAILY, run_id, timeout=900) == "success", af.tail_logs()
    [retried] = [ti for ti in af.task_instances(DAILY, run_id) if ti["task_id"] == task]
    assert retried["try_number"] == 2
    survivor = next(w for w in WORKERS if w != victim)
    assert retried["hostname"] == survivor
    entries = digest_entries(cluster, KILL_AS_OF)
    assert entries["help_wanted"].status == "sent"
    delivered = [part for entry in entries.values() for part in entry.parts]
    sent = posts(sandbox.outbox)
    assert Counter(sent) == Counter(delivered)
    assert max(Counter(sent).values()) == 1
    help_posts = [r["status"] for r in sandbox.requests_log if r["path"] == HELP_HOOK]
    assert help_posts == [503] + [200] * len(entries["help_wanted"].parts)


def test_the_earlier_runs_idle_intermediates_are_removed_from_s3(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import ObjectStoragePath

    # The run folder as the tasks get it: an ObjectStoragePath through the aws_default connection.
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", cluster.info["env"]["AIRFLOW_CONN_AWS_DEFAULT"])
    prefix = f"intermediate/{DAILY}/"
    runs = sorted({key[len(prefix) :].split("/", 1)[0] for key in s3_keys(cluster, prefix)})
    assert len(runs) >= 5, runs  # the demo's run, three backfill days, the killed worker's run
    current = runs[-1]
    store = RunStore(ObjectStoragePath(f"s3://aws_default@{cluster.info['bucket']}/{prefix}{current}"))
    # Every run of this session wrote its files minutes ago: a day's retention keeps them all.
    assert store.remove_idle_runs(timedelta(days=1), datetime.now(UTC)) == []
    assert len({key[len(prefix) :].split("/", 1)[0] for key in s3_keys(cluster, prefix)}) == len(runs)

    removed = store.remove_idle_runs(timedelta(0), datetime.now(UTC) + timedelta(minutes=1))
    assert sorted(r.name for r in removed) == runs[:-1]
    assert all(r.files > 0 and r.size > 0 and r.last_change is not None for r in removed)
    left = s3_keys(cluster, prefix)
    assert left, "the current run's own files were removed"
    assert all(key.startswith(f"{prefix}{current}/") for key in left), left
