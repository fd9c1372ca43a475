"""Tasks every DAG shares: T, extraction per channel, combining, posting once, verifying."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from community_monitoring.pipeline.channels import DAILY_EXTRACTORS
from community_monitoring.runtime import (
    RunWindow,
    archive_message,
    fail_fast_on_bad_input,
    load_settings,
    read_json,
    read_records,
    run_folder,
    run_window_from_context,
    write_json,
    write_records,
)

log = logging.getLogger(__name__)


def task_context() -> Mapping[str, Any]:
    from airflow.sdk import get_current_context

    return get_current_context()


@fail_fast_on_bad_input
def resolve_run_window() -> dict[str, Any]:
    """T and the run's facts, decided once so every task of the run agrees on them."""
    window = run_window_from_context(task_context())
    log.info(
        "Run %s (%s): as of %s; messages %s",
        window.run_id,
        window.run_type,
        window.as_of,
        "will be posted" if window.post_messages else "are archived only (backfill)",
    )
    return window.to_xcom()


@fail_fast_on_bad_input
def extract_channel(channel: str, window: dict[str, Any], review: str = "daily") -> dict[str, Any]:
    """Read one channel's posts created in (T - max age, T], the max age of the daily or weekly review."""
    run = RunWindow.from_xcom(window)
    config = load_settings()
    if channel in config.disabled_channels:
        log.info("Channel %s is disabled in the settings (channels.disabled): nothing to read", channel)
        return {"channel": channel, "count": 0, "disabled": True}
    max_age = config.max_age_days if review == "daily" else int(config.raw[review]["max_age_days"])
    since = run.as_of_time - timedelta(days=max_age)
    log.info("Extracting %s: posts created in (%s, %s]", channel, since.isoformat(), run.as_of)
    return DAILY_EXTRACTORS[channel](run, config, since)


@fail_fast_on_bad_input
def combine_channel_posts(window: dict[str, Any], channels: list[str]) -> dict[str, Any]:
    """Merge whatever the extract tasks produced; a failed channel is named, not silently dropped."""
    run = RunWindow.from_xcom(window)
    config = load_settings()
    ti = task_context()["ti"]
    folder = run_folder(config, run)
    paths: list[str] = []
    counts: dict[str, int] = {}
    missing: list[str] = []
    releases_path = ""
    extras: dict[str, str] = {}
    for channel in channels:
        summary = ti.xcom_pull(task_ids=f"extract_{channel}")
        if not summary:
            log.error("Channel %s was not extracted (its task failed); the digests will say so", channel)
            missing.append(channel)
            continue
        if summary.get("path"):
            paths.append(summary["path"])
        counts[channel] = summary["count"]
        releases_path = summary.get("releases_path") or releases_path
        extras.update({k: v for k, v in summary.items() if k.endswith("_path") and k != "releases_path"})

    def all_posts() -> Any:
        from airflow.sdk import ObjectStoragePath

        for path in paths:
            yield from read_records(ObjectStoragePath(path))

    combined = folder / "posts.jsonl"
    total = write_records(combined, all_posts())
    summary = {
        "path": str(combined),
        "counts": counts,
        "total": total,
        "missing": missing,
        "releases_path": releases_path,
        **extras,
    }
    write_json(folder / "posts-summary.json", summary)
    log.info("Combined %d posts from %s; missing: %s", total, counts, missing or "none")
    return summary


def load_posts(summary: Mapping[str, Any]) -> Iterator[Any]:
    """Stream the run's posts: the rules keep only what they list, so memory stays bounded."""
    from airflow.sdk import ObjectStoragePath

    return read_records(ObjectStoragePath(summary["path"]))


def load_releases(summary: Mapping[str, Any]) -> list[Any]:
    from airflow.sdk import ObjectStoragePath

    from community_monitoring.rules import Release
    from community_monitoring.timeutil import parse_time

    if not summary.get("releases_path"):
        return []
    raw = read_json(ObjectStoragePath(summary["releases_path"]))
    return [
        Release(**{**r, "published_at": parse_time(r["published_at"]) if r.get("published_at") else None})
        for r in raw
    ]


def save_rendered(run: RunWindow, config: Any, message: Any) -> dict[str, Any]:
    path = run_folder(config, run) / f"{message.kind}.json"
    write_json(
        path, {"kind": message.kind, "parts": list(message.parts), "item_urls": list(message.item_urls)}
    )
    archived = archive_message(config, run, message.kind, message.parts)
    log.info(
        "Rendered %s: %d item(s) in %d part(s); archived at %s",
        message.kind,
        len(message.item_urls),
        len(message.parts),
        archived,
    )
    return {
        "path": str(path),
        "kind": message.kind,
        "items": len(message.item_urls),
        "parts": len(message.parts),
    }


@fail_fast_on_bad_input
def post_message(window: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    """Post a rendered message to its Mattermost channel, once per (DAG, kind, T)."""
    from airflow.sdk import ObjectStoragePath

    from community_monitoring.ledger import NotificationLedger
    from community_monitoring.mattermost import MattermostWebhook

    run = RunWindow.from_xcom(window)
    config = load_settings()
    kind = rendered["kind"]
    if rendered.get("skip"):
        return {"kind": kind, "status": "skipped", "parts_sent": 0}
    if not run.post_messages:
        log.info("Backfill run: %s archived, not posted (set post_backfill_digests to post it)", kind)
        return {"kind": kind, "status": "archived_only", "parts_sent": 0}
    message = read_json(ObjectStoragePath(rendered["path"]))
    target = config.mattermost_targets[kind]
    webhook = MattermostWebhook(target, username=config.mattermost_username)
    ledger = NotificationLedger.from_connection()
    key = rendered.get("ledger_key") or run.notification_key(kind)
    result = ledger.deliver_once(key, kind, target, message["parts"], webhook.post)
    if result.status == "already_sent":
        log.info("%s as of %s was already posted to %s: nothing sent", kind, run.as_of, target)
    return {"kind": kind, "status": result.status, "parts_sent": result.parts_sent_now}


def verify_all_channels_read() -> None:
    """Make the run red when a channel could not be read, after the digests went out without it."""
    posts_summary = task_context()["ti"].xcom_pull(task_ids="combine_channel_posts")
    if not posts_summary:
        raise RuntimeError("posts could not be combined; see combine_channel_posts")
    if posts_summary.get("missing"):
        raise RuntimeError(
            "channel(s) not read in this run: "
            + ", ".join(posts_summary["missing"])
            + "; the digests were sent without them"
        )
    log.info("Every channel was read: %s", posts_summary.get("counts"))


def load_tickets(summary: Mapping[str, Any]) -> list[Any]:
    import json

    from airflow.sdk import ObjectStoragePath

    from community_monitoring.sources.jira import JiraTicket

    if not summary.get("tickets_path"):
        return []
    with ObjectStoragePath(summary["tickets_path"]).open("r", encoding="utf-8") as stream:
        return [JiraTicket.from_dict(json.loads(line)) for line in stream if line.strip()]


def tracking_sheet_path(config: Any) -> str:
    import os

    configured = config.paths.get("tracking_sheet") or ""
    if configured:
        return configured.removeprefix("file://")
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "community_monitoring", "tracking-sheet.xlsx")


def read_json_path(path: str) -> Any:
    """A JSON file another task of the run wrote (its path came through XCom)."""
    from airflow.sdk import ObjectStoragePath

    return read_json(ObjectStoragePath(path))


def wire_channel_reads(window: Any, channels: list[str], review: str = "daily") -> Any:
    """Wire, inside a DAG, one extract task per channel, the combine task and the final check.

    Returns the combined posts (an XComArg) for the DAG's own rule and message tasks. A failed
    extract does not stop the others: combine runs whatever happened, names what is missing, and
    ``verify_all_channels_read`` turns the run red at the end.
    """
    from airflow.sdk import task

    extracts = [
        task(extract_channel, task_id=f"extract_{channel}", pool=f"{channel}_api")(channel, window, review)
        for channel in channels
    ]
    posts = task(combine_channel_posts, task_id="combine_channel_posts", trigger_rule="all_done")(
        window, channels
    )
    extracts >> posts
    # Its failure repeats what the failed extract task already alerted about.
    verify = task(
        verify_all_channels_read,
        task_id="verify_all_channels_read",
        trigger_rule="all_done",
        on_failure_callback=None,
    )()
    posts >> verify
    return posts
