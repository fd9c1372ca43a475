"""The Wednesday stale-activity review's own task: the same extract and rule code as the daily run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, get_args

from community_monitoring.channels import CHANNELS, AgedOutChannel, WeeklyChannel
from community_monitoring.pipeline.daily import save_message
from community_monitoring.pipeline.health import community_health_section
from community_monitoring.pipeline.run import TaskRun, community_task

if TYPE_CHECKING:
    from community_monitoring.settings import Settings

log = logging.getLogger(__name__)

DAG_ID = "community_weekly_stale_review"
# Every channel the weekly settings may name: the stale review's and "Aged out without an
# answer"'s (the forum too). DAG files read no settings at parse time, so the DAG extracts them all.
WEEKLY_CHANNELS: tuple[str, ...] = tuple(
    key for key in CHANNELS if key in {*get_args(WeeklyChannel), *get_args(AgedOutChannel)}
)


def stale_channels(settings: Settings) -> list[str]:
    return [c for c in settings.weekly.channels if settings.is_enabled(c)]


def aged_out_channels(settings: Settings) -> list[str]:
    return [c for c in settings.weekly.aged_out_channels if settings.is_enabled(c)]


@community_task
def build_weekly_review(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.messages import render_weekly_review
    from community_monitoring.rules import find_aged_out, find_stale_posts

    weekly = run.settings.weekly
    channels = stale_channels(run.settings)
    read = run.channels_read()
    # SPEC §10: the review ends with the Community health section (its chart archived beside it).
    # Worked out first, so that its half year of rows is let go before the stale posts are held.
    health_channels = [c for c in WEEKLY_CHANNELS if c in read["read"] and run.settings.is_enabled(c)]
    try:
        footer = community_health_section(run, "weekly_review", health_channels)
    except Exception as exc:  # the numbers are one section of the review, never why it is not sent
        from community_monitoring.health_rendering import render_health_unavailable

        log.exception("Community health could not be worked out; the review goes out without it")
        footer = render_health_unavailable(exc)
    stale = find_stale_posts(
        run.store.posts(c for c in channels if c in read["read"]),
        run.rosters.staff,
        run.settings,
        run.as_of,
        channels=channels,
        stale_after_days=weekly.stale_after_days,
        max_age_days=weekly.max_age_days,
    )
    aged_out = find_aged_out(
        run.store.posts(c for c in aged_out_channels(run.settings) if c in read["read"]),
        run.rosters.staff,
        run.settings,
        run.as_of,
    )
    log.info(
        "Weekly review as of %s: %d aged out without an answer; stale: %s",
        run.as_of.isoformat(),
        len(aged_out),
        {channel: len(items) for channel, items in stale.items()} or "nothing",
    )
    message = render_weekly_review(
        stale,
        run.settings,
        run.as_of,
        weekly.stale_after_days,
        missing_channels=read["missing"],
        aged_out=aged_out,
        footer=footer,
    )
    return save_message(run, message)
