"""The release prompt (SPEC §5): the daily run announces a new release; the closeout plans it.

The daily DAG's ``announce_release`` emits an event of :data:`RELEASE_ASSET` when the product
repository published a release (not a draft, not a prerelease) in the run's interval
(T − 1 day, T]. The closeout DAG is scheduled on that Asset: each run the event starts is a dry
run for the event's version, which posts its plan with the PM and the release manager mentioned.

A succeeding task with an outlet always emits an event (with an empty extra when it set none), so
"no release" is a skipped task: Airflow emits nothing for a skipped task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow.sdk import Asset

from community_monitoring.pipeline.run import TaskRun, community_task

log = logging.getLogger(__name__)

# Named once, here, for both DAGs. An Asset is declared at parse time, when no Variable may be
# read: the name is fixed, and the product repository travels in each event's extra. The scheme
# starts with "x-", Airflow's mark of a scheme of one's own: any other one makes Airflow load every
# provider's URI handlers to normalise it (boto3 among them), a sixth of a second at each DAG parse.
RELEASE_ASSET = Asset(
    name="community_product_release",
    uri="x-community-monitoring://releases/product",
    group="community",
)
ASSET_TRIGGERED = "asset_triggered"


def withheld_reason(run: TaskRun) -> str:
    """Why this run announces no release at all, whatever GitHub says ("" when it may).

    The prompt is a message (the closeout posts a plan), so it follows the run's message policy:
    a backfill, which recomputes the past and posts nothing unless ``post_backfill_digests``, does
    not prompt a closeout for an old release either. A channel that could not be read is no
    evidence that nothing was released: the run is red and its rerun announces.
    """
    if not run.policy.post_messages:
        return f"{run.policy.reason}: no release prompt"
    if "github" in run.channels_read()["missing"]:
        return "GitHub could not be read in this run: no release prompt (a rerun announces it)"
    return ""


@community_task
def announce_release(run: TaskRun) -> dict[str, Any]:
    """Emit the release Asset event for a release published in (T − 1 day, T]; else skip (no event)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from community_monitoring.closeout_plan import release_event_extra, releases_in_interval

    reason = withheld_reason(run)
    releases = [] if reason else releases_in_interval(run.store.releases(), run.as_of)
    if not releases:
        reason = reason or f"no release of {run.settings.github.product_repo} published in (T − 1 day, T]"
        raise AirflowSkipException(reason)
    release, *others = releases
    extra = release_event_extra(release, run.settings.github.product_repo, others)
    run.context["outlet_events"][RELEASE_ASSET].extra = extra
    log.info(
        "Release %s (%s) published %s: release event emitted%s",
        extra["version"],
        release.tag,
        extra["published_at"],
        f" (also released in the interval: {', '.join(extra['also_released'])})"
        if extra["also_released"]
        else "",
    )
    return {"version": extra["version"], "tag": release.tag}


def triggering_release(context: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The release event that started this closeout run (the newest, if several were queued).

    None for a run that no release event started (manual runs).
    """
    if str(getattr(context["dag_run"].run_type, "value", context["dag_run"].run_type)) != ASSET_TRIGGERED:
        return None
    events = list(context.get("triggering_asset_events", {}).get(RELEASE_ASSET, []))
    if not events:
        return None
    newest = max(events, key=lambda e: _timestamp(e.timestamp))
    return dict(newest.extra or {})


def _timestamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
