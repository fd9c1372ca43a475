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
    if channel in config.disabled_channels:
        log.info("Channel %s is disabled in the settings (channels.disabled): nothing to read", channel)
        return {"channel": channel, "count": 0, "disabled": True}
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
    if rendered.get("skip"):
        return {"kind": kind, "status": "skipped", "parts_sent": 0}
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


def _load_tickets(summary: Mapping[str, Any]) -> list[Any]:
    import json

    from airflow.sdk import ObjectStoragePath

    from community_monitoring.sources.jira import JiraTicket

    if not summary.get("tickets_path"):
        return []
    with ObjectStoragePath(summary["tickets_path"]).open("r", encoding="utf-8") as stream:
        return [JiraTicket.from_dict(json.loads(line)) for line in stream if line.strip()]


@fail_fast_on_bad_input
def render_uservoice_review(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    """Status drift against Jira, new suggestions needing a question, offers to build."""
    from community_monitoring.messages import render_uservoice_review as render
    from community_monitoring.uservoice_review import UserVoiceRules, review_suggestions

    run = RunWindow.from_xcom(window)
    config = load_settings()
    if "uservoice" in config.disabled_channels:
        log.info("UserVoice is disabled in the settings: no review")
        return {"kind": "uservoice_review", "skip": True, "applying": False}
    rules = UserVoiceRules.from_config(config)
    suggestions = [p for p in _load_posts(posts_summary) if p.channel == "uservoice"]
    tickets = _load_tickets(posts_summary)
    review = review_suggestions(suggestions, tickets, rules, run.as_of_time)
    missing = [c for c in posts_summary.get("missing", ()) if c in ("uservoice", "jira")]
    log.info(
        "UserVoice review as of %s: %d status changes, %d need a question, %d offers to build (%d suggestions, %d tickets)",
        run.as_of,
        len(review.status_drift),
        len(review.needs_question),
        len(review.offers),
        len(suggestions),
        len(tickets),
    )
    applying = rules.apply_status_updates and run.post_messages and not missing
    message = render(review, config, run.as_of_time, applying=applying, missing_channels=missing)
    summary = _save_rendered(run, config, message)
    folder = run_folder(config, run)
    write_json(
        folder / "uservoice-drift.json",
        [
            {
                "suggestion_id": d.suggestion.extra["suggestion_id"],
                "title": d.suggestion.title,
                "url": d.suggestion.url,
                "current": d.current,
                "proposed": d.proposed,
                "jira_key": d.ticket.key,
            }
            for d in review.status_drift
        ],
    )
    summary["drift_path"] = str(folder / "uservoice-drift.json")
    summary["applying"] = applying
    return summary


@fail_fast_on_bad_input
def apply_uservoice_statuses(
    window: dict[str, Any], review: dict[str, Any], posts_summary: dict[str, Any]
) -> dict[str, Any]:
    """Apply the proposed statuses upstream when the setting is on: each change once (ledger)."""
    from airflow.sdk import ObjectStoragePath

    from community_monitoring.ledger import NotificationLedger
    from community_monitoring.sources.uservoice import UserVoiceClient
    from community_monitoring.uservoice_review import UserVoiceRules

    del window  # the review already decided whether this run may write upstream
    config = load_settings()
    rules = UserVoiceRules.from_config(config)
    if not review.get("applying"):
        reason = (
            "off in the settings"
            if not rules.apply_status_updates
            else "not on this run (backfill or missing channel)"
        )
        log.info("Applying UserVoice statuses is %s; nothing changed upstream", reason)
        return {"applied": 0}
    statuses = {
        name: int(sid) for sid, name in read_json(ObjectStoragePath(posts_summary["statuses_path"])).items()
    }
    rules.check_statuses_known(statuses)
    by_name = {name.casefold(): sid for name, sid in statuses.items()}
    client = UserVoiceClient.from_connection()
    ledger = NotificationLedger.from_connection()
    applied = 0
    for item in read_json(ObjectStoragePath(review["drift_path"])):
        status_id = by_name[item["proposed"].casefold()]
        key = f"uservoice_status:{item['suggestion_id']}:{item['proposed']}"

        def send(_: str, item: dict[str, Any] = item, status_id: int = status_id) -> None:
            client.post_status_update(
                int(item["suggestion_id"]), status_id, rules.status_update_body, notify=False
            )

        result = ledger.deliver_once(key, "uservoice_status", "uservoice_default", [item["proposed"]], send)
        applied += result.parts_sent_now
        log.info(
            "Suggestion %s: %s → %s (%s)",
            item["suggestion_id"],
            item["current"],
            item["proposed"],
            result.status,
        )
    return {"applied": applied}


def tracking_sheet_path(config: Any) -> str:
    import os

    configured = config.paths.get("tracking_sheet") or ""
    if configured:
        return configured.removeprefix("file://")
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "community_monitoring", "tracking-sheet.xlsx")


def planned_sheet_rows(suggestions: Any, tickets: Any, rules: Any, now: str) -> list[Any]:
    """Rows for suggestions whose ticket is planned or started with a fixVersion (SPEC §5)."""
    from community_monitoring.tracking_sheet import SheetRow
    from community_monitoring.uservoice_review import link_tickets

    linked = link_tickets(tickets)
    rows = []
    for suggestion in suggestions:
        ticket = linked.get(int(suggestion.extra["suggestion_id"]))
        if ticket is None or not ticket.fix_versions:
            continue
        if rules.implied_status(ticket) not in ("Planned", "Started"):
            continue
        for version in ticket.fix_versions:
            rows.append(
                SheetRow(
                    suggestion_id=str(suggestion.extra["suggestion_id"]),
                    fix_version=version,
                    title=suggestion.title,
                    url=suggestion.url,
                    nominator=suggestion.author,
                    edition=rules.edition(suggestion, ticket),
                    jira_key=ticket.key,
                    jira_status=ticket.status,
                    uservoice_status=str(suggestion.extra.get("status") or ""),
                )
            )
    return rows


@fail_fast_on_bad_input
def update_tracking_sheet(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    """Keep the sheet's rows for suggestions planned or started with a fixVersion current."""
    from community_monitoring.tracking_sheet import upsert_rows
    from community_monitoring.uservoice_review import UserVoiceRules

    run = RunWindow.from_xcom(window)
    config = load_settings()
    missing = [c for c in posts_summary.get("missing", ()) if c in ("uservoice", "jira")]
    if "uservoice" in config.disabled_channels:
        return {"inserted": 0, "updated": 0}
    if missing or run.is_backfill:
        log.info("Tracking sheet left as it is (%s)", f"missing {missing}" if missing else "backfill run")
        return {"inserted": 0, "updated": 0}
    rules = UserVoiceRules.from_config(config)
    suggestions = [p for p in _load_posts(posts_summary) if p.channel == "uservoice"]
    rows = planned_sheet_rows(suggestions, _load_tickets(posts_summary), rules, run.as_of)
    result = upsert_rows(tracking_sheet_path(config), rows)
    log.info(
        "Tracking sheet %s: %d inserted, %d updated, %d unchanged",
        result.path,
        result.inserted,
        result.updated,
        result.unchanged,
    )
    return {"inserted": result.inserted, "updated": result.updated, "path": result.path}
