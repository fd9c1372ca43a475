"""The Wednesday stale-activity review: the same extract and rule code as the daily run."""

from __future__ import annotations

import logging
from typing import Any

from community_monitoring.pipeline.common import load_posts, save_rendered
from community_monitoring.runtime import RunWindow, fail_fast_on_bad_input, load_settings

log = logging.getLogger(__name__)

DAG_ID = "community_weekly_stale_review"
WEEKLY_CHANNELS: tuple[str, ...] = ("github", "gitlab", "stackoverflow")


def weekly_settings(config: Any) -> dict[str, Any]:
    from community_monitoring.config import ConfigError

    section = dict(config.raw.get("weekly") or {})
    for key in ("stale_after_days", "max_age_days"):
        value = section.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"config key 'weekly.{key}' must be a whole number >= 1, got {value!r}")
    channels = section.get("channels") or list(WEEKLY_CHANNELS)
    unknown = sorted(set(channels) - set(WEEKLY_CHANNELS))
    if unknown:
        raise ConfigError(
            f"config key 'weekly.channels' names channels the weekly DAG does not read: {unknown}"
        )
    section["channels"] = [c for c in channels if c not in config.disabled_channels]
    return section


@fail_fast_on_bad_input
def render_weekly_review(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.messages import render_weekly_review as render
    from community_monitoring.rules import find_stale_posts
    from community_monitoring.runtime import load_staff_roster

    run = RunWindow.from_xcom(window)
    config = load_settings()
    settings = weekly_settings(config)
    stale = find_stale_posts(
        load_posts(posts_summary),
        load_staff_roster(),
        config,
        run.as_of_time,
        channels=settings["channels"],
        stale_after_days=settings["stale_after_days"],
        max_age_days=settings["max_age_days"],
    )
    log.info(
        "Weekly review as of %s: %s",
        run.as_of,
        {channel: len(items) for channel, items in stale.items()} or "nothing stale",
    )
    message = render(
        stale,
        config,
        run.as_of_time,
        settings["stale_after_days"],
        missing_channels=posts_summary.get("missing", ()),
    )
    return save_rendered(run, config, message)
