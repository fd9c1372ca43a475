"""
### Community release closeout

Run by hand after a release (Trigger DAG w/ config). For the given **version** it finds the
UserVoice suggestions whose linked Jira ticket is resolved with that fixVersion (a leading `v` is
ignored: `v11.2` matches `11.2`) and, for each:

* posts **one status update**: status *Completed*, carrying the thank-you to the nominator.
  Team Edition (through `uservoice_default`): *Thank you NAME for nominating the feature! It is
  now available in Mattermost X.Y. Would anyone like to help re-tweet the announcement? URL*.
  Enterprise Edition (category or label configured as Enterprise; through `uservoice_sales`):
  the same without the re-tweet ask;
* upserts its row of the tracking sheet (`thanked_at`, `status_update_id`);

then posts a **`[Release Closeout]`** summary to `mattermost_pm`: who was thanked, who was
skipped and why. A suggestion is never thanked twice for the same version, however often this
runs (a ledger, and a look at the suggestion's existing status updates before writing).
**Dry run** sends nothing to UserVoice and posts the summary marked as a dry run.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from community_monitoring.pipeline import closeout, common
from community_monitoring.runtime import task_defaults


@dag(
    dag_id=closeout.DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(),
    tags=["community", "release"],
    doc_md=__doc__,
    params={
        "version": Param(
            type="string",
            pattern=closeout.VERSION_PATTERN,
            title="Version",
            description="The release, e.g. 11.2 or 11.2.1 (Jira fixVersions with a leading v match too).",
        ),
        "release_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Release date",
            description="YYYY-MM-DD; empty: today.",
        ),
        "announcement_url": Param(
            None,
            type=["null", "string"],
            format="uri",
            title="Announcement URL",
            description="The release announcement to re-tweet. Required when a Team Edition nominator is thanked.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Plan and post the summary only; send nothing to UserVoice and leave the sheet as it is.",
        ),
    },
)
def community_release_closeout() -> None:
    release = task(closeout.check_closeout_params, task_id="check_closeout_params")()
    window = task(common.resolve_run_window, task_id="resolve_run_window")()
    release >> window
    suggestions = task(common.extract_channel, task_id="extract_uservoice", pool="uservoice_api")(
        "uservoice", window
    )
    tickets = task(closeout.extract_release_tickets, task_id="extract_jira", pool="jira_api")(window, release)
    posts = task(common.combine_channel_posts, task_id="combine_channel_posts")(window, ["uservoice", "jira"])
    [suggestions, tickets] >> posts
    plan = task(closeout.plan_closeout, task_id="plan_closeout")(window, release, posts)
    results = task(closeout.post_thank_yous, task_id="post_thank_yous", pool="uservoice_api")(window, plan)
    task(closeout.update_sheet_for_release, task_id="update_tracking_sheet")(window, plan, results)
    summary = task(closeout.render_closeout_summary, task_id="render_closeout_summary")(window, plan, results)
    task(common.post_message, task_id="post_closeout_summary")(window, summary)


community_release_closeout()
