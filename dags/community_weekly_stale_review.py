"""
### Community weekly stale review

Every Wednesday, as of the end of the week-long data interval (T), this DAG posts the
**`[Weekly Review]`** to `mattermost_default`:

- **Aged out without an answer** first: community posts on every channel that lists posts
  (GitHub, GitLab, the forum, Stack Overflow: `weekly.aged_out_channels`) that left the
  `[Help Wanted]` window (older than `digest.max_age_days`, 30) but were opened within the last
  180 days, are still open at T and are still unanswered or waiting on the team. An item never
  ages out of `[Help Wanted]` silently.
- then, grouped by channel, oldest activity first, the GitHub issues, GitLab issues and Stack
  Overflow questions from the community (not staff, not bots, not Help Wanted issues mirrored
  from Jira) that are still open at T, have had no activity for 7 days (human replies count;
  label edits and bot comments do not) and were opened within the last 180 days. A stale post that
  also aged out is in both lists (each channel's list is all of its stale posts, as SPEC §4
  defines it); the header's total counts it once.

Every item shows its answer state, its age and its last actor.

It shares its extract, rule and delivery code with `community_daily_monitoring`, and its shape:
**extract** (each channel over the weekly window, the forum included) → **transform** →
**notify**. Limits live in the `weekly` section of the rules file. A channel that cannot be read
is named in the review and fails the run; the review is posted once per T.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from community_monitoring.pipeline import shape, weekly


@dag(
    dag_id=weekly.DAG_ID,
    schedule=CronDataIntervalTimetable(os.environ.get("COMMUNITY_WEEKLY_CRON", "0 7 * * 3"), timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 7, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=shape.task_defaults(),
    tags=["community", "weekly"],
    doc_md=__doc__,
    params=shape.review_params("review"),
)
def community_weekly_stale_review() -> None:
    with shape.group("extract", "Check the run, then read each channel into the run store"):
        extracts = shape.extract(weekly.WEEKLY_CHANNELS, "weekly")
    with shape.group("transform", "Find the stale posts as of T; render the review"):
        collected = shape.collect(weekly.WEEKLY_CHANNELS, extracts)
        review = task(weekly.build_weekly_review, task_id="build_weekly_review")()
        collected >> review
    with shape.group("notify", "Post the review once"):
        review >> shape.post("weekly_review")
        shape.verify(collected)


community_weekly_stale_review()
