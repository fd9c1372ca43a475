"""The Wednesday stale-activity review's own task: the same extract and rule code as the daily run."""

from __future__ import annotations

import logging
from typing import Any

from community_monitoring.pipeline.daily import save_message
from community_monitoring.pipeline.run import TaskRun, community_task

log = logging.getLogger(__name__)

DAG_ID = "community_weekly_stale_review"
WEEKLY_CHANNELS: tuple[str, ...] = ("github", "gitlab", "stackoverflow")


@community_task
def build_weekly_review(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.messages import render_weekly_review
    from community_monitoring.rules import find_stale_posts

    weekly = run.settings.weekly
    channels = [c for c in weekly.channels if run.settings.is_enabled(c)]
    read = run.channels_read()
    stale = find_stale_posts(
        run.store.posts(c for c in channels if c in read["read"]),
        run.rosters.staff,
        run.settings,
        run.as_of,
        channels=channels,
        stale_after_days=weekly.stale_after_days,
        max_age_days=weekly.max_age_days,
    )
    log.info(
        "Weekly review as of %s: %s",
        run.as_of.isoformat(),
        {channel: len(items) for channel, items in stale.items()} or "nothing stale",
    )
    message = render_weekly_review(
        stale, run.settings, run.as_of, weekly.stale_after_days, missing_channels=read["missing"]
    )
    return save_message(run, message)
