"""Community health tasks (SPEC §10): the daily snapshot of post states, the weekly section and chart.

``record_post_states`` (daily, ``notify`` group) upserts the snapshot at T of every channel the run
read into the state table; a post the run named as unreadable keeps its row of the snapshot before,
marked as carried (``state_table.carried``), so the Community page still lists it and says so. It records in every run, backfills included: the table is no
notification, and a backfill at T rebuilds the rows T had (the write policy, which holds back posts
and upstream writes, does not apply). It then deletes the snapshots older than
``health.state_retention_days`` before T, so the table stays the size of its retention.

``add_community_health`` (weekly) computes the ``Community health`` numbers directly from the posts
the weekly run read, with the same functions that build the state table's rows, at T and at
T − 7 days, so it needs no daily run to have happened and gives, for the posts of those channels,
the numbers of the table's snapshots at T and a week earlier (``health.health_numbers``). It covers
the channels the weekly review reads (GitHub, GitLab, forum, Stack Overflow; not UserVoice).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from community_monitoring.pipeline.run import TaskRun, community_task, product_redactor

if TYPE_CHECKING:
    from community_monitoring.health import StateRow

log = logging.getLogger(__name__)


def _releases(run: TaskRun) -> list[Any]:
    """The product's releases (the [Help Wanted] "after the release" section), when GitHub was read."""
    return run.store.releases() if "github" in run.channels_read()["read"] else []


def shown_rows(rows: Iterable[StateRow], redact: Callable[[str], str]) -> list[StateRow]:
    """``rows`` with their title and author as a message would show them: a credential of the
    product's connections that an upstream title carries (a webhook URL pasted into an issue) is
    ``***`` on the Community page too, which reads these rows (SPEC §6)."""
    authors: dict[str, str] = {}  # an author has many posts: each name is read once
    shown = []
    for row in rows:
        title = redact(row.title)
        author = authors.get(row.author)
        if author is None:
            author = authors[row.author] = redact(row.author)
        if title != row.title or author != row.author:
            row = dataclasses.replace(row, title=title, author=author)
        shown.append(row)
    return shown


@community_task
def record_post_states(run: TaskRun) -> dict[str, Any]:
    """Upsert the state table's snapshot at T: each open or recently answered post of every channel read."""
    from community_monitoring import state_table
    from community_monitoring.health import state_rows
    from community_monitoring.pipeline.daily import listed_channels
    from community_monitoring.pipeline.triage_model import triage_classifier

    channels = listed_channels(run)
    rows = state_rows(
        run.store.posts(channels),
        run.rosters.staff,
        run.settings,
        run.as_of,
        triage_classifier(run.settings, run.as_of),
        _releases(run),
    )
    rows = shown_rows(rows, product_redactor(run.settings, only_where_found=True))
    # The posts this run named as unreadable keep their last row (marked) rather than leave the page.
    unread = [
        (str(p["channel"]), str(p["post_id"]))
        for p in run.channels_read().get("unreadable", ())
        if p.get("post_id") and p.get("channel") in channels
    ]
    engine = state_table.open_engine()
    written = state_table.upsert_snapshot(engine, rows, run.as_of, channels, unread=unread)
    missing = run.channels_read()["missing"]
    if missing:
        log.warning("Not read, so their rows as of %s are not replaced: %s", run.as_of.isoformat(), missing)
    try:
        pruned = state_table.prune_snapshots(
            engine, run.as_of, run.settings.health.state_retention_days, now=datetime.now(UTC)
        )
    except Exception as exc:  # upkeep: the snapshot at T is written; the next run deletes the rest
        log.warning(
            "Could not delete the post states past their retention (%s); the next run tries again", exc
        )
        pruned = 0
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.channel] = counts.get(row.channel, 0) + 1
    return {
        "as_of": run.as_of.isoformat(),
        "rows": written,
        "by_channel": counts,
        "carried": written - len(rows),
        "pruned": pruned,
    }


def community_health_section(run: TaskRun, kind: str, channels: list[str]) -> str:
    """The weekly review's ``Community health`` section; its chart is archived beside the review."""
    from community_monitoring import health
    from community_monitoring.health_rendering import (
        CHART_NAME,
        chart_weeks,
        health_chart_png,
        render_health_section,
    )
    from community_monitoring.pipeline.triage_model import triage_classifier

    roster, settings, as_of = run.rosters.staff, run.settings, run.as_of
    week_ago = as_of - health.WEEK
    since = chart_weeks(as_of)[0]
    # One read of the window for the three tables: the snapshots at T and a week earlier, and every
    # post created in the chart's weeks (half a year of posts is decoded once, each post classified once).
    # The backlog is every open post the weekly run reads (``weekly.max_age_days``), not only the
    # daily's window: a post that waited longest must weigh most, never drop out of the count.
    window = settings.weekly.max_age_days
    now_rows, before_rows, created = health.rows_of(
        run.store.posts(channels),
        roster,
        settings,
        triage_classifier(settings, as_of),
        [
            health.tracked_at(roster, settings, as_of, window),
            health.tracked_at(roster, settings, week_ago, window),
            health.created_since(roster, settings, as_of, since),
        ],
        _releases(run),
    )
    now = health.health_numbers(now_rows, as_of)
    before = health.health_numbers(before_rows, week_ago)
    log.info("Community health as of %s: %s; a week earlier: %s", as_of.isoformat(), now, before)
    weekly = health.weekly_metrics(health.rows_frame(created), as_of, by=("channel",))
    chart = run.outbox.archive_file(kind, CHART_NAME, health_chart_png(weekly, as_of))
    log.info("Community health chart archived at %s", chart)
    return render_health_section(now, before, channels)
