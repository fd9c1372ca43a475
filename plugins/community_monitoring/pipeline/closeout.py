"""The release closeout: thank every nominator whose UserVoice idea shipped, once per version.

Steps: check the params, read the suggestions and the release's Jira tickets, plan who to thank
(and who to skip, with the reason), post one status update per suggestion (Completed, carrying
the thank-you) through the edition's connection, update the tracking sheet, post a summary.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, date, datetime
from typing import Any

from community_monitoring.pipeline.common import (
    load_posts,
    load_tickets,
    read_json_path,
    task_context,
    tracking_sheet_path,
)
from community_monitoring.runtime import (
    ParamError,
    RunWindow,
    fail_fast_on_bad_input,
    load_settings,
    run_folder,
    write_json,
)
from community_monitoring.versions import normalise_version

log = logging.getLogger(__name__)

DAG_ID = "community_release_closeout"
VERSION_PATTERN = r"^\d+\.\d+(\.\d+)?$"
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$")


def validate_closeout_params(params: dict[str, Any], today: date) -> dict[str, Any]:
    """The closeout params, checked again at run time (the UI form checks them first)."""
    version = params.get("version")
    if not isinstance(version, str) or not re.match(VERSION_PATTERN, version.strip()):
        raise ParamError(f"param 'version' must look like 11.2 or 11.2.1, got {version!r}")
    release_date = params.get("release_date") or today.isoformat()
    try:
        date.fromisoformat(str(release_date))
    except ValueError:
        raise ParamError(f"param 'release_date' must be a date YYYY-MM-DD, got {release_date!r}") from None
    url = params.get("announcement_url") or ""
    if url and not _URL.match(str(url)):
        raise ParamError(f"param 'announcement_url' must be an http(s) URL, got {url!r}")
    dry_run = params.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise ParamError(f"param 'dry_run' must be true or false, got {dry_run!r}")
    return {
        "version": version.strip(),
        "release_date": str(release_date),
        "announcement_url": url,
        "dry_run": dry_run,
    }


@fail_fast_on_bad_input
def check_closeout_params() -> dict[str, Any]:
    context = task_context()
    params = validate_closeout_params(dict(context.get("params") or {}), datetime.now(UTC).date())
    log.info(
        "Release closeout for Mattermost %s (released %s)%s",
        params["version"],
        params["release_date"],
        "; DRY RUN: nothing will be sent upstream" if params["dry_run"] else "",
    )
    return params


@fail_fast_on_bad_input
def extract_release_tickets(window: dict[str, Any], release: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.pipeline.channels import extract_release_tickets as extract

    return extract(RunWindow.from_xcom(window), load_settings(), release["version"])


def plan_thank_yous(
    suggestions: list[Any], tickets: list[Any], rules: Any, params: dict[str, Any], messages: dict[str, str]
) -> dict[str, Any]:
    """Who to thank for this version, through which connection and with which text; who not, and why."""
    from community_monitoring.sources.uservoice import USERVOICE_CONN_ID, USERVOICE_SALES_CONN_ID
    from community_monitoring.uservoice_review import fix_version_matches, link_tickets

    version = params["version"]
    linked = link_tickets(t for t in tickets if fix_version_matches(t.fix_versions, version))
    thank: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for suggestion in sorted(suggestions, key=lambda s: (s.created_at, s.url)):
        ticket = linked.get(int(suggestion.extra["suggestion_id"]))
        if ticket is None:
            continue
        base = {
            "suggestion_id": int(suggestion.extra["suggestion_id"]),
            "title": suggestion.title,
            "url": suggestion.url,
            "name": suggestion.author,
            "jira_key": ticket.key,
            "jira_status": ticket.status,
            "fix_version": next(
                v for v in ticket.fix_versions if normalise_version(v) == normalise_version(version)
            ),
        }
        implied = rules.implied_status(ticket)
        if not ticket.is_resolved:
            skipped.append({**base, "reason": f"{ticket.key} is not resolved yet ({ticket.status})"})
            continue
        if implied != "Completed":
            skipped.append(
                {**base, "reason": f"{ticket.key} was resolved as {ticket.resolution}, not shipped"}
            )
            continue
        if not suggestion.author or suggestion.author == "anonymous":
            skipped.append({**base, "reason": "the suggestion has no nominator name"})
            continue
        edition = rules.edition(suggestion, ticket)
        if edition == "Team" and not params["announcement_url"]:
            raise ParamError(
                "param 'announcement_url' is required to thank Team Edition nominators "
                f"(e.g. {suggestion.author} for {suggestion.url})"
            )
        template = messages["enterprise_message"] if edition == "Enterprise" else messages["team_message"]
        thank.append(
            {
                **base,
                "edition": edition,
                "connection": USERVOICE_SALES_CONN_ID if edition == "Enterprise" else USERVOICE_CONN_ID,
                "message": template.format(
                    name=suggestion.author, version=version, url=params["announcement_url"]
                ),
                "current_status": suggestion.extra.get("status") or "",
            }
        )
    return {"thank": thank, "skipped": skipped}


@fail_fast_on_bad_input
def plan_closeout(window: dict[str, Any], release: dict[str, Any], posts: dict[str, Any]) -> dict[str, Any]:
    from community_monitoring.config import ConfigError
    from community_monitoring.uservoice_review import UserVoiceRules

    run = RunWindow.from_xcom(window)
    config = load_settings()
    if posts.get("missing"):
        raise RuntimeError(
            f"cannot plan the closeout without {', '.join(posts['missing'])}; nothing was sent"
        )
    section = config.raw.get("closeout") or {}
    messages = {key: str(section.get(key) or "") for key in ("team_message", "enterprise_message")}
    for key, text in messages.items():
        if "{name}" not in text or "{version}" not in text:
            raise ConfigError(f"config key 'closeout.{key}' must contain {{name}} and {{version}}")
    rules = UserVoiceRules.from_config(config)
    suggestions = [p for p in load_posts(posts) if p.channel == "uservoice"]
    plan = plan_thank_yous(suggestions, load_tickets(posts), rules, release, messages)
    statuses = {name: sid for sid, name in read_json_path(posts["statuses_path"]).items()}
    completed = str(section.get("completed_status") or "Completed")
    if completed not in statuses:
        raise ConfigError(
            f"config key 'closeout.completed_status' is {completed!r}, which UserVoice does not have"
        )
    plan.update(
        params=release,
        completed_status=completed,
        completed_status_id=int(statuses[completed]),
        notify=bool(section.get("notify_supporters", True)),
    )
    path = run_folder(config, run) / "closeout-plan.json"
    write_json(path, plan)
    log.info(
        "Closeout plan for %s: thank %d (%s), skip %d",
        release["version"],
        len(plan["thank"]),
        ", ".join(f"{t['name']} ({t['edition']})" for t in plan["thank"]) or "nobody",
        len(plan["skipped"]),
    )
    return {"path": str(path), "thank": len(plan["thank"]), "skipped": len(plan["skipped"])}


def already_thanked(updates: list[dict[str, Any]], version: str) -> dict[str, Any] | None:
    """A status update that already told this suggestion's supporters it shipped in this version."""
    needle = f"now available in Mattermost {normalise_version(version)}"
    return next((u for u in updates if needle in str(u.get("body") or "")), None)


@fail_fast_on_bad_input
def post_thank_yous(window: dict[str, Any], plan_summary: dict[str, Any]) -> dict[str, Any]:
    """One status update per suggestion (Completed + thank-you), never twice for the same version."""
    from community_monitoring.ledger import NotificationLedger
    from community_monitoring.sources.uservoice import UserVoiceClient

    run = RunWindow.from_xcom(window)
    config = load_settings()
    plan = read_json_path(plan_summary["path"])
    params = plan["params"]
    results: list[dict[str, Any]] = []
    if params["dry_run"] or not run.post_messages:
        log.info("Dry run: %d thank-you(s) planned, nothing sent upstream", len(plan["thank"]))
        results = [{**item, "outcome": "dry_run"} for item in plan["thank"]]
    else:
        ledger = NotificationLedger.from_connection()
        clients: dict[str, UserVoiceClient] = {}
        for item in plan["thank"]:
            client = clients.setdefault(
                item["connection"], UserVoiceClient.from_connection(item["connection"])
            )
            key = f"release_closeout:thank:{item['suggestion_id']}:{normalise_version(params['version'])}"
            entry = ledger.get(key)
            if entry is None or entry.status != "sent":
                earlier = already_thanked(client.status_updates(item["suggestion_id"]), params["version"])
                if earlier is not None:
                    # Thanked outside this ledger (by hand, or by another deployment): record it, send nothing.
                    ledger.deliver_once(
                        key, "release_closeout_thank", item["connection"], [item["message"]], lambda _: None
                    )
                    results.append(
                        {**item, "outcome": "already_thanked", "status_update_id": str(earlier.get("id", ""))}
                    )
                    log.info(
                        "Suggestion %s was already thanked for %s upstream; skipped",
                        item["suggestion_id"],
                        params["version"],
                    )
                    continue
            created: dict[str, Any] = {}

            def send(
                text: str,
                item: dict[str, Any] = item,
                client: UserVoiceClient = client,
                created: dict[str, Any] = created,
            ) -> None:
                created.update(
                    client.post_status_update(
                        item["suggestion_id"], plan["completed_status_id"], text, plan["notify"]
                    )
                )

            result = ledger.deliver_once(
                key, "release_closeout_thank", item["connection"], [item["message"]], send
            )
            outcome = "thanked" if result.parts_sent_now else "already_thanked"
            results.append({**item, "outcome": outcome, "status_update_id": str(created.get("id", ""))})
            log.info(
                "Suggestion %s (%s, %s): %s", item["suggestion_id"], item["name"], item["edition"], outcome
            )
    path = run_folder(config, run) / "closeout-results.json"
    write_json(path, results)
    return {"path": str(path), "thanked": sum(1 for r in results if r["outcome"] == "thanked")}


@fail_fast_on_bad_input
def update_sheet_for_release(
    window: dict[str, Any], plan_summary: dict[str, Any], results_summary: dict[str, Any]
) -> dict[str, Any]:
    from community_monitoring.tracking_sheet import SheetRow, upsert_rows

    config = load_settings()
    plan = read_json_path(plan_summary["path"])
    if plan["params"]["dry_run"]:
        log.info("Dry run: tracking sheet left as it is")
        return {"inserted": 0, "updated": 0}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [
        SheetRow(
            suggestion_id=str(r["suggestion_id"]),
            fix_version=r["fix_version"],
            title=r["title"],
            url=r["url"],
            nominator=r["name"],
            edition=r["edition"],
            jira_key=r["jira_key"],
            jira_status=r["jira_status"],
            uservoice_status=plan["completed_status"],
            release_date=plan["params"]["release_date"],
            thanked_at=now if r["outcome"] == "thanked" else "",
            status_update_id=r.get("status_update_id") or "",
        )
        for r in read_json_path(results_summary["path"])
        if r["outcome"] in ("thanked", "already_thanked")
    ]
    result = upsert_rows(tracking_sheet_path(config), rows)
    log.info("Tracking sheet %s: %d inserted, %d updated", result.path, result.inserted, result.updated)
    return {"inserted": result.inserted, "updated": result.updated}


@fail_fast_on_bad_input
def render_closeout_summary(
    window: dict[str, Any], plan_summary: dict[str, Any], results_summary: dict[str, Any]
) -> dict[str, Any]:
    from community_monitoring.messages import render_closeout_summary as render
    from community_monitoring.pipeline.common import save_rendered

    run = RunWindow.from_xcom(window)
    config = load_settings()
    plan = read_json_path(plan_summary["path"])
    results = read_json_path(results_summary["path"])
    params = plan["params"]
    message = render(results, plan["skipped"], params, config)
    summary = save_rendered(run, config, message)
    thanked_now = sorted(str(r["suggestion_id"]) for r in results if r["outcome"] == "thanked")
    if params["dry_run"]:
        # Every dry run shows its plan.
        summary["ledger_key"] = (
            f"{DAG_ID}:release_closeout:{normalise_version(params['version'])}:dry-run:{run.run_id}"
        )
    elif thanked_now:
        digest = hashlib.sha256(",".join(thanked_now).encode()).hexdigest()[:16]
        summary["ledger_key"] = f"{DAG_ID}:release_closeout:{normalise_version(params['version'])}:{digest}"
    else:
        log.info("Nobody new was thanked for %s: no summary to post", params["version"])
        summary["skip"] = True
    return summary
