"""
### Community weekly stale review

Every Wednesday, as of the end of the week-long data interval (T), this DAG lists the GitHub
issues, GitLab issues and Stack Overflow questions from the community (not staff, not bots, not
Help Wanted issues mirrored from Jira) that are still open at T, have had no activity for 7 days
(human replies count; label edits and bot comments do not) and were opened within the last 180
days, and posts the **`[Weekly Review]`** to `mattermost_default`, grouped by channel, oldest
activity first, with each post's age and last actor.

It shares its extract, rule and delivery code with `community_daily_monitoring`; limits live in
the `weekly` section of `include/config/monitoring.yaml`. A channel that cannot be read is named
in the review and fails the run; the review is posted once per T.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from community_monitoring.pipeline import common, weekly
from community_monitoring.runtime import review_params, task_defaults


@dag(
    dag_id=weekly.DAG_ID,
    schedule=CronDataIntervalTimetable(os.environ.get("COMMUNITY_WEEKLY_CRON", "0 7 * * 3"), timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 7, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["community", "weekly"],
    doc_md=__doc__,
    params=review_params("review"),
)
def community_weekly_stale_review() -> None:
    window = task(common.resolve_run_window, task_id="resolve_run_window")()
    posts = common.wire_channel_reads(window, list(weekly.WEEKLY_CHANNELS), "weekly")
    review = task(weekly.render_weekly_review, task_id="render_weekly_review")(window, posts)
    task(common.post_message, task_id="post_weekly_review")(window, review)


community_weekly_stale_review()
