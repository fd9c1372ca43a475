"""
### Community daily monitoring

Every day, as of the end of the run's one-day data interval (T), this DAG reads each community
channel, applies the community team's rules and posts:

* the **`[Help Wanted]` digest** to `mattermost_default`: posts waiting for a first response,
  forum topics about Enterprise features or upgrades after a release, and new replies to
  questions the core team asked;
* the **`[Triage]` list** to `mattermost_cm`: every new community post of the day, typed, with a
  suggested action and a reply draft;
* the **`[UserVoice Review]`** to `mattermost_pm`: suggestions whose status differs from the one
  their Jira ticket implies, new suggestions with no ticket and no admin response, and requesters
  offering to build what they asked for (proposed statuses are applied upstream only when
  `uservoice.apply_status_updates` is on);

and keeps the tracking sheet's rows for suggestions planned or started with a fixVersion current.
Where the team switched it on (`replies.post_upstream`), each new unanswered GitHub issue or GitLab
issue also gets its reply draft as a comment, once.

A channel that cannot be read does not stop the others: the digests go out saying which channel
is missing and the run ends failed. Each message is posted once per T, however often the run is
retried or re-run (a ledger remembers). Backfill runs archive their digests and post them only
when `post_backfill_digests` is on. Manual runs may set `as_of` for a point-in-time digest.

Rules live in `include/config/monitoring.yaml`; staff and rotation rosters in the Variables
`community_staff` and `community_rotation`.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from community_monitoring.pipeline import common, daily
from community_monitoring.pipeline.channels import DAILY_EXTRACTORS
from community_monitoring.runtime import review_params, task_defaults


@dag(
    dag_id=daily.DAG_ID,
    schedule=CronDataIntervalTimetable(os.environ.get("COMMUNITY_DAILY_CRON", "0 7 * * *"), timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["community", "daily"],
    doc_md=__doc__,
    params=review_params("digests"),
)
def community_daily_monitoring() -> None:
    window = task(common.resolve_run_window, task_id="resolve_run_window")()
    posts = common.wire_channel_reads(window, list(DAILY_EXTRACTORS))
    help_wanted = task(daily.render_help_wanted_digest, task_id="render_help_wanted_digest")(window, posts)
    triage = task(daily.render_triage_list, task_id="render_triage_list")(window, posts)
    task(common.post_message, task_id="post_help_wanted_digest")(window, help_wanted)
    task(common.post_message, task_id="post_triage_list")(window, triage)
    triage >> task(daily.post_reply_drafts, task_id="post_reply_drafts")(window, posts)
    review = task(daily.render_uservoice_review, task_id="render_uservoice_review")(window, posts)
    task(common.post_message, task_id="post_uservoice_review")(window, review)
    task(daily.apply_uservoice_statuses, task_id="apply_uservoice_statuses", pool="uservoice_api")(
        window, review, posts
    )
    task(daily.update_tracking_sheet, task_id="update_tracking_sheet")(window, posts)


community_daily_monitoring()
