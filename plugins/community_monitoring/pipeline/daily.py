"""The daily monitoring run: extract each channel, apply the rules as of T, render, post once."""

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

DAG_ID = "community_daily_monitoring"


def _context() -> Mapping[str, Any]:
    from airflow.sdk import get_current_context

    return get_current_context()


@fail_fast_on_bad_input
def resolve_run_window() -> dict[str, Any]:
    """T and the run's facts, decided once so every task of the run agrees on them."""
    window = run_window_from_context(_context())
    log.info(
        "Run %s (%s): as of %s; messages %s",
        window.run_id,
        window.run_type,
        window.as_of,
        "will be posted" if window.post_messages else "are archived only (backfill)",
    )
    return window.to_xcom()


@fail_fast_on_bad_input
def extract_channel(channel: str, window: dict[str, Any]) -> dict[str, Any]:
    run = RunWindow.from_xcom(window)
    config = load_settings()
    since = run.as_of_time - timedelta(days=config.max_age_days)
    log.info("Extracting %s: posts created in (%s, %s]", channel, since.isoformat(), run.as_of)
    return DAILY_EXTRACTORS[channel](run, config, since)


@fail_fast_on_bad_input
def combine_channel_posts(window: dict[str, Any], channels: list[str]) -> dict[str, Any]:
    """Merge whatever the extract tasks produced; a failed channel is named, not silently dropped."""
    run = RunWindow.from_xcom(window)
    config = load_settings()
    ti = _context()["ti"]
    folder = run_folder(config, run)
    paths: list[str] = []
    counts: dict[str, int] = {}
    missing: list[str] = []
    releases_path = ""
    for channel in channels:
        summary = ti.xcom_pull(task_ids=f"extract_{channel}")
        if not summary:
            log.error("Channel %s was not extracted (its task failed); the digests will say so", channel)
            missing.append(channel)
            continue
        paths.append(summary["path"])
        counts[channel] = summary["count"]
        releases_path = summary.get("releases_path") or releases_path

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
    }
    write_json(folder / "posts-summary.json", summary)
    log.info("Combined %d posts from %s; missing: %s", total, counts, missing or "none")
    return summary


def _load_posts(summary: Mapping[str, Any]) -> Iterator[Any]:
    """Stream the run's posts: the rules keep only what they list, so memory stays bounded."""
    from airflow.sdk import ObjectStoragePath

    return read_records(ObjectStoragePath(summary["path"]))


def _load_releases(summary: Mapping[str, Any]) -> list[Any]:
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


def _save_rendered(run: RunWindow, config: Any, message: Any) -> dict[str, Any]:
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
def render_help_wanted_digest(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.messages import render_help_wanted_digest as render
    from community_monitoring.rules import find_help_wanted_sections
    from community_monitoring.runtime import load_rotation, load_staff_roster

    run = RunWindow.from_xcom(window)
    config = load_settings()
    roster = load_staff_roster()
    rotation = load_rotation()
    as_of = run.as_of_time
    sections = find_help_wanted_sections(
        _load_posts(posts_summary), roster, config, as_of, _load_releases(posts_summary)
    )
    log.info(
        "Help Wanted as of %s: %d waiting, %d after release %s, %d new replies to staff questions",
        run.as_of,
        len(sections.waiting_for_first_response),
        len(sections.after_the_release),
        sections.release.tag if sections.release else "(none in window)",
        len(sections.new_reply_to_core_team_question),
    )
    message = render(
        sections,
        config,
        as_of,
        rotation=rotation.on_duty(as_of) if rotation else "",
        missing_channels=posts_summary.get("missing", ()),
    )
    return _save_rendered(run, config, message)


@fail_fast_on_bad_input
def render_triage_list(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.messages import render_triage_list as render
    from community_monitoring.rules import find_new_posts
    from community_monitoring.runtime import load_staff_roster

    run = RunWindow.from_xcom(window)
    config = load_settings()
    roster = load_staff_roster()
    new_posts = find_new_posts(_load_posts(posts_summary), roster, config, run.as_of_time)
    message = render(new_posts, config, run.as_of_time, missing_channels=posts_summary.get("missing", ()))
    return _save_rendered(run, config, message)


@fail_fast_on_bad_input
def post_message(window: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    """Post a rendered message to its Mattermost channel, once per (DAG, kind, T)."""
    from airflow.sdk import ObjectStoragePath

    from community_monitoring.ledger import NotificationLedger
    from community_monitoring.mattermost import MattermostWebhook

    run = RunWindow.from_xcom(window)
    config = load_settings()
    kind = rendered["kind"]
    if not run.post_messages:
        log.info("Backfill run: %s archived, not posted (set post_backfill_digests to post it)", kind)
        return {"kind": kind, "status": "archived_only", "parts_sent": 0}
    message = read_json(ObjectStoragePath(rendered["path"]))
    target = config.mattermost_targets[kind]
    webhook = MattermostWebhook(target, username=config.mattermost_username)
    ledger = NotificationLedger.from_connection()
    result = ledger.deliver_once(run.notification_key(kind), kind, target, message["parts"], webhook.post)
    if result.status == "already_sent":
        log.info("%s as of %s was already posted to %s: nothing sent", kind, run.as_of, target)
    return {"kind": kind, "status": result.status, "parts_sent": result.parts_sent_now}


def verify_all_channels_read() -> None:
    """Make the run red when a channel could not be read, after the digests went out without it."""
    posts_summary = _context()["ti"].xcom_pull(task_ids="combine_channel_posts")
    if not posts_summary:
        raise RuntimeError("posts could not be combined; see combine_channel_posts")
    if posts_summary.get("missing"):
        raise RuntimeError(
            "channel(s) not read in this run: "
            + ", ".join(posts_summary["missing"])
            + "; the digests were sent without them"
        )
    log.info("Every channel was read: %s", posts_summary.get("counts"))
