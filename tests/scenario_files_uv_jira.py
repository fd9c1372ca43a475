"""UserVoice and Jira data for small test scenarios (SPEC §8 format), next to scenario_files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from scenario_files import iso, write_scenario

PORTAL = "https://mattermost.uservoice.com/forums/306457-general/suggestions"
JIRA_SITE = "https://mattermost.atlassian.net"
STATUS_CATEGORIES = {
    "To Do": (2, "new", "To Do"),
    "In Progress": (4, "indeterminate", "In Progress"),
    "Done": (3, "done", "Done"),
}


def portal_url(suggestion_id: int, slug: str = "an-idea") -> str:
    return f"{PORTAL}/{suggestion_id}-{slug}"


def uv_status(status_id: int, name: str, *, is_open: bool = True, position: int = 0) -> dict[str, Any]:
    return {"id": status_id, "name": name, "is_open": is_open, "position": position}


def uv_user(user_id: int, name: str | None, email: str | None = None) -> dict[str, Any]:
    return {"id": user_id, "name": name, "email": email, "created_at": "2022-05-01T00:00:00Z"}


def uv_category(category_id: int, name: str) -> dict[str, Any]:
    return {"id": category_id, "name": name, "links": {"forum": 306457}}


def uv_suggestion(
    suggestion_id: int,
    title: str,
    created: datetime,
    *,
    creator: int | None = None,
    status: int | None = None,
    category: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A suggestion as ``GET /admin/suggestions`` returns it; ``closed_at`` makes it closed."""
    closed_at = extra.pop("closed_at", None)
    return {
        "id": suggestion_id,
        "title": title,
        "body": extra.pop("body", f"Idea {suggestion_id}."),
        "body_mime_type": "text/plain",
        "portal_url": portal_url(suggestion_id),
        "created_at": iso(created),
        "updated_at": iso(created),
        "closed_at": iso(closed_at) if closed_at else None,
        "state": "closed" if closed_at else "approved",
        "supporters_count": extra.pop("supporters_count", 1),
        "admin_response": extra.pop("admin_response", None),
        "links": {
            "forum": 306457,
            "category": category,
            "status": status,
            "created_by": creator,
            "labels": extra.pop("labels", []),
        },
        **extra,
    }


def uv_comment(
    comment_id: int, suggestion_id: int, user_id: int | None, created: datetime, body: str = "+1"
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "body": body,
        "body_mime_type": "text/plain",
        "created_at": iso(created),
        "updated_at": iso(created),
        "state": "approved",
        "links": {"suggestion": suggestion_id, "created_by": user_id},
    }


def jira_time(value: datetime) -> str:
    """Jira's own time format: milliseconds and an offset without a colon."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def jira_issue(
    key: str,
    summary: str,
    updated: datetime,
    *,
    status: str = "To Do",
    category: str | None = None,
    resolution: str | None = None,
    resolved: datetime | None = None,
    fix_versions: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
    description: Any = None,
) -> dict[str, Any]:
    """An issue as ``/rest/api/3/search/jql`` returns it with every field asked for."""
    number = int(key.rsplit("-", 1)[1])
    category_id, category_key, category_name = STATUS_CATEGORIES[category or status]
    return {
        "id": str(200_000 + number),
        "self": f"{JIRA_SITE}/rest/api/3/issue/{200_000 + number}",
        "key": key,
        "fields": {
            "summary": summary,
            "description": description,
            "issuetype": {"id": "10001", "name": "Story"},
            "project": {"id": "10100", "key": key.split("-")[0], "name": "Mattermost"},
            "status": {
                "id": str(10_000 + len(status)),
                "name": status,
                "statusCategory": {"id": category_id, "key": category_key, "name": category_name},
            },
            "resolution": {"id": "10000", "name": resolution} if resolution else None,
            "fixVersions": [{"id": str(10_500 + i), "name": v} for i, v in enumerate(fix_versions)],
            "labels": list(labels),
            "created": jira_time(updated),
            "updated": jira_time(updated),
            "resolutiondate": jira_time(resolved) if resolved else None,
        },
    }


def remote_link(link_id: int, key: str, url: str, title: str = "UserVoice") -> dict[str, Any]:
    return {
        "id": link_id,
        "self": f"{JIRA_SITE}/rest/api/3/issue/{key}/remotelink/{link_id}",
        "application": {"type": "com.uservoice", "name": "UserVoice"},
        "relationship": "mentioned in",
        "object": {"url": url, "title": title},
    }


def adf(*paragraphs: list[dict[str, Any]]) -> dict[str, Any]:
    """An Atlassian document (Jira Cloud's v3 description) of the given paragraphs' nodes."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": nodes} for nodes in paragraphs],
    }


def write_uv_jira_scenario(
    root: Path,
    now: datetime,
    *,
    uservoice: dict[str, list[dict[str, Any]]] | None = None,
    jira_issues: list[dict[str, Any]] | None = None,
    remotelinks: dict[str, list[dict[str, Any]]] | None = None,
    faults: list[dict[str, Any]] | None = None,
) -> Path:
    """A scenario with UserVoice files (``suggestions``, ``statuses``, ``users``, ``comments``,
    ``categories``, ``status_updates``) and Jira ``issues.json`` / ``remotelinks.json``."""
    write_scenario(root, now, faults=faults)
    if uservoice is not None:
        folder = root / "uservoice"
        folder.mkdir(parents=True, exist_ok=True)
        for name, items in uservoice.items():
            (folder / f"{name}.json").write_text(json.dumps(items), encoding="utf-8")
    if jira_issues is not None or remotelinks is not None:
        folder = root / "jira"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "issues.json").write_text(json.dumps(jira_issues or []), encoding="utf-8")
        (folder / "remotelinks.json").write_text(json.dumps(remotelinks or {}), encoding="utf-8")
    return root
