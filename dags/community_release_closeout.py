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
* upserts its row of the tracking sheet (`thanked_at`, `status_update_id`, `release_date`);

then posts a **`[Release Closeout]`** summary to `mattermost_pm`: who was thanked, who was
skipped and why (each list capped at `digest.max_items_per_section`, with "… and N more" naming
the full list in the archive). A thank-you UserVoice refuses does not hold up the others: the
sheet and the summary are still made for them, the summary names the one that failed, and the run
ends red (`verify_thank_yous`); trigger the closeout again once the cause is fixed. A suggestion
is never thanked twice for the same version, however often this runs (a ledger, and a look at the
suggestion's existing status updates before writing).
**Dry run** (off by default, as SPEC §4 has it; tick it to see the plan first) sends nothing to
UserVoice and posts the plan, marked as a dry run.

**Release prompt.** This DAG is also scheduled on the release Asset: when the daily run sees a new
release, a run starts by itself, always as a dry run, for the release's version (its date: the
day it was published). It posts `[Release Closeout] plan for X.Y (dry run)`, mentioning the PM and
the release manager (`community_contacts`), with a link here to trigger it for real; once per
release event, however often it is re-run. Manual runs work as before.

The graph reads **extract** (check the params, read UserVoice and the release's Jira tickets) →
**transform** (plan who to thank) → **notify** (thank, update the sheet, post the summary, check
that every thank-you was made).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from community_monitoring.pipeline import closeout, release_prompt, shape

CHANNELS = ("uservoice", "jira")


@dag(
    dag_id=closeout.DAG_ID,
    # Manual runs (the form) and runs started by a release event (SPEC §5), which are dry runs.
    schedule=[release_prompt.RELEASE_ASSET],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=shape.task_defaults(),
    tags=["community", "release"],
    doc_md=__doc__,
    # Values are checked by the first task, `check_run`, with errors in words that name the param
    # (a form-level pattern would answer with a raw JSON-schema error instead).
    params={
        # The "" default: Airflow validates params when it creates any run (an asset-triggered run
        # gets no conf) and refuses to parse a scheduled DAG with a required param lacking one. The
        # form still marks the field required (a non-null type); `check_run` fails a manual run
        # without a version.
        "version": Param(
            "",
            type="string",
            title="Version",
            description="The release, e.g. 11.2 or 11.2.1 (no leading v; Jira fixVersions written "
            "with a leading v match too).",
        ),
        "release_date": Param(
            None,
            type=["null", "string"],
            title="Release date",
            description="YYYY-MM-DD; empty: the day the run is for.",
        ),
        "announcement_url": Param(
            None,
            type=["null", "string"],
            title="Announcement URL",
            description="The release announcement to re-tweet (an http or https URL). Required when a "
            "Team Edition nominator is thanked.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="On: plan and post the summary only, marked as a dry run; nothing is sent to "
            "UserVoice and the sheet stays as it is. Off (the default, SPEC §4): thank for real.",
        ),
    },
)
def community_release_closeout() -> None:
    with shape.group("extract", "Check the params, then read UserVoice and the release's Jira tickets"):
        extracts = shape.extract(
            CHANNELS,
            extractors={"jira": closeout.extract_release_tickets},
            check_run=closeout.check_release_run,
        )
    with shape.group("transform", "Plan who to thank, and who not and why"):
        collected = shape.collect(CHANNELS, extracts)
        plan = task(closeout.plan_release_closeout, task_id="plan_closeout")()
        collected >> plan
    with shape.group("notify", "Thank each nominator once; the sheet; the summary"):
        thanks = task(closeout.post_thank_yous, task_id="post_thank_yous", pool="uservoice_api")()
        plan >> thanks
        # They need the plan, and run whatever the thank-yous did (all done, one success: the plan's),
        # from the results post_thank_yous saved: one refused must not keep the others' sheet rows and
        # the PM's summary from them. Without a plan they are upstream_failed.
        after = [
            task(
                closeout.update_sheet_for_release,
                task_id="update_tracking_sheet",
                trigger_rule="all_done_min_one_success",
            )(),
            task(
                closeout.post_closeout_summary,
                task_id="post_closeout_summary",
                trigger_rule="all_done_min_one_success",
            )(),
        ]
        plan >> after
        thanks >> after
        # The run ends red when a thank-you failed: this one runs only when they all succeeded.
        [thanks, *after] >> task(
            closeout.verify_thank_yous, task_id="verify_thank_yous", on_failure_callback=None
        )()
        shape.verify(collected, without=closeout.WITHOUT_UNREAD)


community_release_closeout()
