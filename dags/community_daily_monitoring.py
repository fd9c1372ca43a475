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
Every run also records each open or recently answered post's state as of T (answer state, first
responses, type, owner, escalation) in the state table `community_post_states` of the
`community_monitoring_db` database (**`record_post_states`**; backfills too: a backfill at T rebuilds
T's rows): the community health metrics and the Community page read it.
Where the team switched it on (`replies.post_upstream`), each new unanswered GitHub issue or GitLab
issue also gets its reply draft as a comment, once.

When the product repository published a release (not a draft, not a prerelease) in the run's
interval, **`announce_release`** emits an event of the release Asset, which starts a dry run of
`community_release_closeout` for that version: its plan goes to `mattermost_pm`, mentioning the PM
and the release manager (SPEC §5). On other days the task is skipped (no event); backfills that do
not post their digests do not announce either.

The graph reads **extract** (check the run, one task per channel) → **transform** (collect what
was read, build each digest and plan each write) → **notify** (post, write, verify). A channel
that cannot be read does not stop the others: the digests go out saying which channel is missing
and the run ends failed. Each message is posted once per T, however often the run is retried or
re-run (a ledger remembers). Backfill runs archive their digests and post them only when
`post_backfill_digests` is on. Manual runs may set `as_of` for a point-in-time digest.

Rules live in the rules file (`include/config/monitoring.yaml`, overridable through the Variable
`community_settings`); staff, rotation and contacts in `community_staff`, `community_rotation`
and `community_contacts`.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from community_monitoring.pipeline import daily, health, release_prompt, shape


@dag(
    dag_id=daily.DAG_ID,
    schedule=CronDataIntervalTimetable(os.environ.get("COMMUNITY_DAILY_CRON", "0 7 * * *"), timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=shape.task_defaults(),
    tags=["community", "daily"],
    doc_md=__doc__,
    params=shape.review_params("digests"),
)
def community_daily_monitoring() -> None:
    with shape.group("extract", "Check the run, then read each channel into the run store"):
        extracts = shape.extract(daily.DAILY_CHANNELS)
    with shape.group("transform", "Apply the rules as of T: build each digest, plan each write"):
        collected = shape.collect(daily.DAILY_CHANNELS, extracts)
        help_wanted = task(daily.build_help_wanted_digest, task_id="build_help_wanted_digest")()
        triage = task(daily.build_triage_list, task_id="build_triage_list")()
        review = task(daily.build_uservoice_review, task_id="build_uservoice_review")()
        replies = task(daily.plan_upstream_replies, task_id="plan_upstream_replies")()
        collected >> [help_wanted, triage, review, replies]
    with shape.group("notify", "Post each digest and make each write, once"):
        help_wanted >> shape.post("help_wanted")
        triage >> shape.post("triage")
        replies >> task(daily.post_upstream_replies, task_id="post_upstream_replies")()
        review >> [
            shape.post("uservoice_review"),
            task(daily.apply_uservoice_statuses, task_id="apply_uservoice_statuses", pool="uservoice_api")(),
            task(daily.update_tracking_sheet, task_id="update_tracking_sheet")(),
        ]
        announce_release = task(release_prompt.announce_release, outlets=[release_prompt.RELEASE_ASSET])
        collected >> announce_release()
        # SPEC §10: the snapshot at T of every post's state, for the health metrics and the dashboard.
        collected >> task(health.record_post_states, task_id="record_post_states")()
        shape.verify(collected)


community_daily_monitoring()
