"""Backfills that a channel can live with (README "Backfills after an outage").

When a backfill posts its digests (``post_backfill_digests``), its runs post one at a time, in
date order: each post task waits until the same task of the day before is done. Only the newest
day's digest mentions anyone: a week of catch-up is one ``@here``, not seven.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

DONE_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
# If the day before never gets a turn (a backfill run backwards with one active run), go anyway.
MAX_WAIT = timedelta(minutes=10)


def _interval(context: Mapping[str, Any]) -> timedelta:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    return (end - start) if start and end and end > start else timedelta(days=1)


def _logical_date(context: Mapping[str, Any]) -> datetime | None:
    return context.get("logical_date") or getattr(context["dag_run"], "logical_date", None)


def is_newest_day(context: Mapping[str, Any]) -> bool:
    """No run of this DAG exists for the next interval: this is the newest digest of the catch-up."""
    logical = _logical_date(context)
    if logical is None:
        return True
    ti = context["ti"]
    return ti.get_dr_count(dag_id=ti.dag_id, logical_dates=[logical + _interval(context)]) == 0


def wait_for_the_day_before(context: Mapping[str, Any], poll_seconds: float = 3.0) -> None:
    """Block until the same task of the previous interval's run is done (or never started)."""
    logical = _logical_date(context)
    if logical is None:
        return
    ti = context["ti"]
    before = logical - _interval(context)
    deadline = time.monotonic() + MAX_WAIT.total_seconds()
    while time.monotonic() < deadline:
        states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[ti.task_id], logical_dates=[before])
        pending = [s for tasks in states.values() for s in tasks.values() if s not in DONE_STATES]
        if not pending:
            return
        log.info("Waiting for %s of the run before (%s) to post first", ti.task_id, before.isoformat())
        time.sleep(poll_seconds)
    log.warning("The run before (%s) has not posted after %s: posting anyway", before.isoformat(), MAX_WAIT)
