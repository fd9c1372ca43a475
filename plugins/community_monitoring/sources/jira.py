"""Jira Cloud tickets (search with ``nextPageToken``) and the UserVoice suggestions they link.

A ticket links a suggestion through a remote link whose URL is the suggestion's portal URL, or
by that URL in its description. Jira has no batch endpoint for remote links, so they are read
per ticket, for the tickets the configured JQL returns only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from community_monitoring.records import JiraTicket
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.sources.http import ApiClient
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

JIRA_CONN_ID = "jira_default"
FIELDS = "summary,description,status,resolution,fixVersions,labels,updated,resolutiondate"
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def _description_text(description: Any) -> str:
    """Plain text of a description: a string (Server, v2) or an Atlassian document (Cloud, v3)."""
    if description is None:
        return ""
    if isinstance(description, str):
        return description
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text") or ""))
            href = (node.get("attrs") or {}).get("href") or (node.get("attrs") or {}).get("url")
            if href:
                parts.append(str(href))
            for child in node.get("content") or ():
                walk(child)
            for mark in node.get("marks") or ():
                walk(mark)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(description)
    return " ".join(parts)


def normalise_ticket(
    raw: dict[str, Any], remote_links: Iterable[dict[str, Any]], browse_base: str
) -> JiraTicket:
    fields = raw.get("fields") or {}
    status = fields.get("status") or {}
    resolution = fields.get("resolution") or None
    urls = [str((link.get("object") or {}).get("url") or "") for link in remote_links]
    # A URL at the end of a sentence keeps none of the sentence's punctuation.
    urls += [u.rstrip(".,;:!?") for u in _URL.findall(_description_text(fields.get("description")))]
    return JiraTicket(
        key=str(raw["key"]),
        url=f"{browse_base.rstrip('/')}/browse/{raw['key']}",
        summary=str(fields.get("summary") or ""),
        status=str(status.get("name") or ""),
        status_category=str((status.get("statusCategory") or {}).get("name") or ""),
        resolution=str(resolution.get("name")) if isinstance(resolution, dict) else None,
        fix_versions=tuple(str(v.get("name") or "") for v in fields.get("fixVersions") or ()),
        labels=tuple(str(label) for label in fields.get("labels") or ()),
        linked_urls=tuple(u for u in dict.fromkeys(urls) if u),
        updated_at=parse_time(fields["updated"]).isoformat() if fields.get("updated") else None,
        resolved_at=parse_time(fields["resolutiondate"]).isoformat()
        if fields.get("resolutiondate")
        else None,
    )


class JiraClient:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    def from_connection(cls, conn_id: str = JIRA_CONN_ID) -> JiraClient:
        return cls(ApiClient(conn_id, "jira"))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def search(self, jql: str, fields: str = FIELDS) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": 100}
            if token:
                params["nextPageToken"] = token
            data = self._api.get_json("/rest/api/3/search/jql", params).data or {}
            yield from data.get("issues") or []
            token = data.get("nextPageToken")
            if data.get("isLast", True) or not token:
                return

    def remote_links(self, key: str) -> list[dict[str, Any]]:
        return list(self._api.get_json(f"/rest/api/3/issue/{key}/remotelink").data or [])


def build_jql(base_jql: str, since: datetime | None) -> str:
    """The configured JQL, narrowed to tickets updated since ``since`` (UTC), newest first."""
    clause = re.split(r"\s+ORDER\s+BY\s+", base_jql.strip(), maxsplit=1, flags=re.IGNORECASE)[0].strip()
    if not clause:
        raise ValueError("config key 'jira.jql' is empty: Jira refuses unbounded searches")
    if since is not None:
        when = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        clause = f'{clause} AND updated >= "{when}"'
    return f"{clause} ORDER BY updated DESC"


def fetch_jira_tickets(
    client: JiraClient, base_jql: str, since: datetime | None, browse_base: str, remote_links: bool = True
) -> Iterator[JiraTicket]:
    count = 0
    for raw in client.search(build_jql(base_jql, since)):
        links = client.remote_links(str(raw["key"])) if remote_links else []
        count += 1
        yield normalise_ticket(raw, links, browse_base)
    log.info("Jira: %d tickets in %d requests", count, client.request_count)


def fetch_for(request: FetchRequest, clause: str | None, since: datetime | None) -> Fetched:
    """Tickets the configured JQL returns, narrowed by ``clause`` and to those updated since ``since``."""
    section = request.settings.jira
    jql = f"{section.jql} AND {clause}" if clause else section.jql
    tickets = fetch_jira_tickets(
        JiraClient.from_connection(), jql, since, section.browse_url, remote_links=section.read_remote_links
    )
    return Fetched(tickets=tickets)


def fetch(request: FetchRequest) -> Fetched:
    """Tickets updated within ``jira.lookback_days`` of T: those that may link UserVoice suggestions."""
    since = request.until - timedelta(days=request.settings.jira.lookback_days)
    return fetch_for(request, None, since)


def release_clause(version: str) -> str:
    """JQL for the tickets with this fixVersion, written with or without a leading "v"."""
    bare = version[1:] if version[:1] in ("v", "V") else version
    return f'fixVersion in ("{bare}", "v{bare}")'
