"""The daily monitoring run: extract each channel, apply the rules as of T, render, post once."""

from __future__ import annotations

import logging
from typing import Any

from community_monitoring.pipeline.common import (
    load_posts,
    load_releases,
    load_tickets,
    read_json_path,
    save_rendered,
    tracking_sheet_path,
)
from community_monitoring.runtime import (
    RunWindow,
    fail_fast_on_bad_input,
    load_settings,
    read_json,
    run_folder,
    write_json,
)

log = logging.getLogger(__name__)

DAG_ID = "community_daily_monitoring"


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
        load_posts(posts_summary), roster, config, as_of, load_releases(posts_summary)
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
    return save_rendered(run, config, message)


@fail_fast_on_bad_input
def render_triage_list(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.messages import render_triage_list as render
    from community_monitoring.rules import find_new_posts
    from community_monitoring.runtime import load_staff_roster

    run = RunWindow.from_xcom(window)
    config = load_settings()
    roster = load_staff_roster()
    new_posts = find_new_posts(load_posts(posts_summary), roster, config, run.as_of_time)
    message = render(new_posts, config, run.as_of_time, missing_channels=posts_summary.get("missing", ()))
    return save_rendered(run, config, message)


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
    if posts_summary.get("statuses_path"):
        # A proposed status UserVoice does not have could never be applied: say which, at once.
        rules.check_statuses_known(read_json_path(posts_summary["statuses_path"]).values())
    suggestions = [p for p in load_posts(posts_summary) if p.channel == "uservoice"]
    tickets = load_tickets(posts_summary)
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
    summary = save_rendered(run, config, message)
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
    suggestions = [p for p in load_posts(posts_summary) if p.channel == "uservoice"]
    rows = planned_sheet_rows(suggestions, load_tickets(posts_summary), rules, run.as_of)
    result = upsert_rows(tracking_sheet_path(config), rows)
    log.info(
        "Tracking sheet %s: %d inserted, %d updated, %d unchanged",
        result.path,
        result.inserted,
        result.updated,
        result.unchanged,
    )
    return {"inserted": result.inserted, "updated": result.updated, "path": result.path}


@fail_fast_on_bad_input
def post_reply_drafts(window: dict[str, Any], posts_summary: dict[str, Any]) -> dict[str, Any]:
    """Where switched on, post each new unanswered post's reply draft upstream, once."""
    from community_monitoring.classify import PostClassifier
    from community_monitoring.drafts import DraftWriter
    from community_monitoring.ledger import NotificationLedger
    from community_monitoring.replies import channels_posting_replies, post_replies
    from community_monitoring.rules import find_new_posts, has_response
    from community_monitoring.runtime import load_staff_roster

    run = RunWindow.from_xcom(window)
    config = load_settings()
    channels = channels_posting_replies(config)
    if not channels:
        log.info("Posting replies upstream is off for every channel (replies.post_upstream)")
        return {"sent": {}}
    if not run.post_messages:
        log.info("Backfill run: no replies are posted upstream")
        return {"sent": {}}
    roster = load_staff_roster()
    classifier = PostClassifier.from_config(config)
    writer = DraftWriter(config)
    as_of = run.as_of_time
    candidates = [
        p
        for p in find_new_posts(load_posts(posts_summary), roster, config, as_of)
        if p.channel in channels and not has_response(p, roster, as_of)
    ]
    drafts = [(p, writer.suggest(p, classifier.classify(p)).draft) for p in candidates]
    sent = post_replies(drafts, channels, NotificationLedger.from_connection())
    log.info("Replies posted upstream: %s (of %d new unanswered posts)", sent or "none", len(candidates))
    return {"sent": sent}
