"""Tasks every DAG shares: check the run, extract a channel, collect what was read, post, verify."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from community_monitoring.channels import channel
from community_monitoring.errors import SettingsError, UncertainDelivery, WritesFailed
from community_monitoring.item_cache import ItemCache
from community_monitoring.pipeline.run import TaskRun, community_task, storage_root
from community_monitoring.pipeline.store import RemovedRun
from community_monitoring.sources import FetchRequest

if TYPE_CHECKING:
    from community_monitoring.settings import Settings

log = logging.getLogger(__name__)


@community_task
def check_run(run: TaskRun) -> dict[str, Any]:
    """Settings, rosters and params are valid (the decorator fails the run if not); say what will happen."""
    log.info(
        "Run %s (%s) as of %s; %s",
        run.facts.run_id,
        run.facts.run_type,
        run.as_of.isoformat(),
        run.policy.reason or "messages will be posted",
    )
    if run.policy.post_messages:
        check_mattermost_targets(run.settings.mattermost.targets)
    remove_idle_intermediates(run)
    return {"as_of": run.as_of.isoformat(), "post_messages": run.policy.post_messages}


def check_mattermost_targets(targets: dict[str, str]) -> None:
    """Every message kind's connection exists and names its webhook, before anything is sent: a
    target misspelt in the settings otherwise sends some digests, fails on the next, and cannot
    even alert the CM when it is the alert's own (SPEC §6: a bad setting fails the run at once)."""
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    problems = []
    for kind, conn_id in sorted(targets.items()):
        try:
            conn = BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:  # neither the secrets backends nor the metadata DB know it
            # Any other error (a secrets backend that is down) propagates as itself: calling it a
            # missing connection would send the operator to fix a setting that is right.
            problems.append(f"mattermost.targets.{kind}: connection {conn_id!r} is not defined")
            continue
        if not (conn.password or (conn.extra_dejson or {}).get("webhook_id")):
            problems.append(
                f"mattermost.targets.{kind}: connection {conn_id!r} has no webhook id (its password field)"
            )
    if problems:
        raise SettingsError("Variable 'community_settings' (or the rules file): " + "; ".join(problems))


def remove_idle_intermediates(run: TaskRun, now: datetime | None = None) -> list[RemovedRun]:
    """Remove the intermediates of this DAG's earlier runs idle for ``paths.intermediate_retention_days``.

    Housekeeping never fails the run: a folder that cannot be listed or removed is logged and left.
    """
    days = run.settings.paths.intermediate_retention_days
    if not days:
        return []
    _check_kept_apart(run.settings)
    try:
        removed = run.store.remove_idle_runs(timedelta(days=days), now or datetime.now(UTC))
    except Exception:  # any object store's error: the next run tries again
        log.warning("Could not look for earlier runs' intermediates to remove", exc_info=True)
        return []
    if removed:
        size = sum(r.size for r in removed) / 1e6
        log.info(
            "Removed the intermediates of %d earlier run(s) idle for over %d days (%d files, %.1f MB): %s",
            len(removed),
            days,
            sum(r.files for r in removed),
            size,
            ", ".join(r.name for r in removed),
        )
    return removed


def review_window_days(settings: Settings, review: str) -> int:
    """How far back posts are read: the daily digests' max age; the weekly review's, and a week more
    for its Community health numbers a week earlier (their backlog reaches back as far from T − 7
    days; the review's own lists keep to their max age)."""
    if review == "weekly":
        return settings.weekly.max_age_days + 7
    return settings.digest.max_age_days


def _check_kept_apart(settings: Any) -> None:
    """The intermediates must not share a folder with what is kept (the archive, the models):
    removing idle runs would remove those too. A settings error, so the run fails at once."""
    intermediate = str(storage_root(settings, "intermediate")).rstrip("/") + "/"
    for key in ("archive", "models"):
        kept = str(storage_root(settings, key)).rstrip("/") + "/"
        if intermediate.startswith(kept) or kept.startswith(intermediate):
            raise SettingsError(
                f"paths.intermediate ({intermediate}) and paths.{key} ({kept}) overlap: removing idle runs' "
                f"intermediates (paths.intermediate_retention_days) would remove the {key} too; give them "
                "separate folders, or set paths.intermediate_retention_days to 0"
            )


@community_task
def extract_channel(run: TaskRun, key: str, review: str = "daily") -> dict[str, Any]:
    """Read one channel's posts created in (T − max age, T] into the run store."""
    if not run.settings.is_enabled(key):
        log.info("Channel %s is disabled in the settings (channels.disabled): nothing to read", key)
        run.store.save_channel(key, _nothing())
        return {"channel": key, "disabled": True}
    since = run.as_of - timedelta(days=review_window_days(run.settings, review))
    log.info("Extracting %s: posts created in (%s, %s]", key, since.isoformat(), run.as_of.isoformat())
    # Per-item reads (Jira remote links, GitLab notes) are kept beside the ledger, so a run reads
    # again only the items changed since (SPEC §9), and so is Stack Exchange's thread filter; a
    # channel that needs none opens no database.
    cache = ItemCache.from_connection()
    fetched = channel(key).fetcher()(FetchRequest(run.settings, since, run.as_of, cache=cache))
    counts = run.store.save_channel(key, fetched)
    log.info("%s: %s written to the run store", channel(key).label, counts)
    return {"channel": key, **counts}


def _nothing() -> Any:
    from community_monitoring.sources import Fetched

    return Fetched()


@community_task
def collect_channels(run: TaskRun, keys: Sequence[str]) -> dict[str, Any]:
    """Which channels were read; a failed extract is named, never silently dropped."""
    read: dict[str, int] = {}
    missing: list[str] = []
    unreadable: list[dict[str, str]] = []
    for key in keys:
        counts = run.store.channel_counts(key)
        if counts is None:
            log.error("Channel %s was not extracted (its task failed); the digests will say so", key)
            missing.append(key)
            continue
        read[key] = int(counts.get("posts", 0)) + int(counts.get("tickets", 0))
        unreadable += run.store.problems(key)
    for problem in unreadable:
        log.error("Could not read %s %s: %s", problem["channel"], problem["item"], problem["problem"])
    run.store.write_json("channels.json", {"read": read, "missing": missing, "unreadable": unreadable})
    log.info("Channels read: %s; missing: %s; unreadable items: %d", read, missing or "none", len(unreadable))
    return {"read": read, "missing": missing, "unreadable": len(unreadable)}


@community_task
def post_message(run: TaskRun, kind: str) -> dict[str, Any]:
    """Post a built message to its Mattermost connection, once per (DAG, kind, T)."""
    message = run.store.message(kind)
    if run.facts.is_backfill and run.policy.post_messages:
        from community_monitoring.pipeline.backfill import wait_for_the_day_before

        # A posted catch-up reads in date order, one day after the other.
        wait_for_the_day_before(run.context)
    # Catch-ups owed by earlier days ([Triage]) go first, in date order, each under its own key.
    # One that may or may not have arrived is never re-sent and fails every try that meets it, and
    # one whose day's digest could not be finished (``Outbox.post_message``'s WritesFailed) may fail
    # every try too: neither must hold back today's message, which goes out before the run fails
    # and names them.
    earlier = []
    uncertain: list[RuntimeError] = []
    failed: list[RuntimeError] = []
    for owed in message.get("earlier", ()):
        try:
            earlier.append(run.outbox.post_message(kind, owed["parts"], owed["key"]))
        except (UncertainDelivery, WritesFailed) as exc:
            log.error("%s", exc)
            (uncertain if isinstance(exc, UncertainDelivery) else failed).append(exc)
    try:
        delivery = run.outbox.post_message(kind, message["parts"], message.get("key"))
    except UncertainDelivery as exc:
        uncertain.append(exc)
    except Exception as exc:
        if not (uncertain or failed):
            raise
        # Today's message failed too: the error (and so the alert) names it beside every earlier
        # day's left in doubt or unfinished; a retry sends it again, those in doubt never.
        today = run.outbox.redact(f"{type(exc).__name__}: {exc}")
        raise WritesFailed("; ".join([today, *(str(e) for e in uncertain + failed)])) from exc
    if uncertain:  # the alert names every one
        raise UncertainDelivery("; ".join(str(exc) for exc in uncertain + failed))
    if failed:
        raise WritesFailed("; ".join(str(exc) for exc in failed))
    return {
        "kind": kind,
        "status": delivery.status,
        "parts_sent": delivery.parts_sent + sum(d.parts_sent for d in earlier),
        **({"earlier": {d.key: d.status for d in earlier}} if earlier else {}),
    }


@community_task
def verify_all_channels_read(run: TaskRun, without: str = "the digests were sent without them") -> None:
    """Make the run red when a channel could not be read, after the run went on without it."""
    from airflow.sdk.exceptions import AirflowFailException

    channels = run.channels_read()
    problems = []
    if channels["missing"]:
        problems.append(f"channel(s) not read in this run: {', '.join(channels['missing'])}")
    if channels.get("unreadable"):
        items = ", ".join(f"{p['channel']} {p['item']}" for p in channels["unreadable"][:10])
        problems.append(f"{len(channels['unreadable'])} upstream item(s) could not be read ({items})")
    if problems:
        reason = "; ".join(problems) + f"; {without}"
        if not channels["missing"]:
            # No extract failed, so nobody was told: the run's one alert names the items.
            from community_monitoring.pipeline.alerts import alert_text

            facts = run.facts
            task_id = "verify_all_channels_read"
            try:
                run.outbox.alert(alert_text(facts.dag_id, facts.as_of, task_id, 1, facts.run_id, reason))
            except Exception:  # an alert must never mask the failure it reports
                log.exception("Could not send the failure alert")
        # What was read cannot change by retrying this check: fail for good.
        raise AirflowFailException(reason)
    log.info("Every channel was read: %s", channels["read"])
