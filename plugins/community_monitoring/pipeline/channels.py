"""Extract: one function per channel, each writing normalised posts to the run's folder.

Every extractor takes the run window and the settings and returns a small summary for XCom
(the file path and counts); the posts themselves travel as files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from community_monitoring.config import MonitoringConfig
from community_monitoring.runtime import RunWindow, run_folder, write_json, write_records

log = logging.getLogger(__name__)

Extractor = Callable[[RunWindow, MonitoringConfig, datetime], dict[str, Any]]


def extract_github_issues(window: RunWindow, config: MonitoringConfig, since: datetime) -> dict[str, Any]:
    from community_monitoring.sources.github import (
        GithubIssuesClient,
        fetch_github_issues,
        fetch_github_releases,
        github_client,
    )

    client = GithubIssuesClient(github_client())
    folder = run_folder(config, window)
    path = folder / "github.jsonl"
    count = write_records(path, fetch_github_issues(client, config.github_repos, since, window.as_of_time))
    releases = fetch_github_releases(client, config.product_repo)
    releases_path = folder / "github-releases.json"
    write_json(releases_path, [asdict(r) for r in releases])
    log.info(
        "GitHub: %d issues written to %s; %d releases of %s", count, path, len(releases), config.product_repo
    )
    return {"channel": "github", "path": str(path), "count": count, "releases_path": str(releases_path)}


def extract_forum_topics(window: RunWindow, config: MonitoringConfig, since: datetime) -> dict[str, Any]:
    from community_monitoring.sources.discourse import DiscourseClient, fetch_forum_topics

    client = DiscourseClient.from_connection()
    path = run_folder(config, window) / "forum.jsonl"
    count = write_records(path, fetch_forum_topics(client, since, window.as_of_time, config.forum_public_url))
    log.info("Forum: %d topics written to %s in %d requests", count, path, client.request_count)
    return {"channel": "forum", "path": str(path), "count": count}


def extract_gitlab_issues(window: RunWindow, config: MonitoringConfig, since: datetime) -> dict[str, Any]:
    from community_monitoring.sources.gitlab import GitlabIssuesClient, fetch_gitlab_issues, gitlab_client

    projects = config.raw.get("gitlab", {}).get("projects") or {}
    client = GitlabIssuesClient(gitlab_client())
    path = run_folder(config, window) / "gitlab.jsonl"
    count = write_records(path, fetch_gitlab_issues(client, projects, since, window.as_of_time))
    log.info("GitLab: %d issues of %s written to %s", count, sorted(projects), path)
    return {"channel": "gitlab", "path": str(path), "count": count}


def extract_stackoverflow_questions(
    window: RunWindow, config: MonitoringConfig, since: datetime
) -> dict[str, Any]:
    from community_monitoring.sources.stackexchange import StackExchangeClient, fetch_stackoverflow_questions

    tags = list(config.raw.get("stackoverflow", {}).get("tags") or [])
    client = StackExchangeClient.from_connection()
    path = run_folder(config, window) / "stackoverflow.jsonl"
    count = write_records(path, fetch_stackoverflow_questions(client, tags, since, window.as_of_time))
    log.info("Stack Overflow: %d questions tagged %s written to %s", count, tags, path)
    return {"channel": "stackoverflow", "path": str(path), "count": count}


def extract_uservoice_suggestions(
    window: RunWindow, config: MonitoringConfig, since: datetime
) -> dict[str, Any]:
    from community_monitoring.sources.uservoice import UserVoiceClient, fetch_uservoice_suggestions

    client = UserVoiceClient.from_connection()
    folder = run_folder(config, window)
    path = folder / "uservoice.jsonl"
    statuses = client.statuses()
    write_json(folder / "uservoice-statuses.json", {str(k): v for k, v in statuses.items()})
    count = write_records(path, fetch_uservoice_suggestions(client, window.as_of_time))
    log.info("UserVoice: %d suggestions written to %s", count, path)
    return {
        "channel": "uservoice",
        "path": str(path),
        "count": count,
        "statuses_path": str(folder / "uservoice-statuses.json"),
    }


def write_jira_tickets(
    window: RunWindow, config: MonitoringConfig, clause: str | None, since: datetime | None
) -> dict[str, Any]:
    """Tickets the configured JQL returns (narrowed by ``clause``, updated since ``since``)."""
    from community_monitoring.sources.jira import JiraClient, fetch_jira_tickets

    section = config.raw.get("jira") or {}
    jql = str(section.get("jql") or "project = MM")
    if clause:
        jql = f"{jql} AND {clause}"
    client = JiraClient.from_connection()
    path = run_folder(config, window) / "jira-tickets.jsonl"
    tickets = fetch_jira_tickets(
        client,
        jql,
        since,
        str(section.get("browse_url") or ""),
        remote_links=bool(section.get("read_remote_links", True)),
    )
    count = 0
    tmp = path.parent / (path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        for ticket in tickets:
            stream.write(ticket.to_json() + "\n")
            count += 1
    tmp.rename(path)
    log.info("Jira: %d tickets written to %s", count, path)
    # Tickets are not community posts: they feed the UserVoice review and the closeout.
    return {"channel": "jira", "tickets_path": str(path), "count": count}


def extract_jira_tickets(window: RunWindow, config: MonitoringConfig, since: datetime) -> dict[str, Any]:
    lookback = timedelta(days=int((config.raw.get("jira") or {}).get("lookback_days") or 365))
    return write_jira_tickets(window, config, None, window.as_of_time - lookback)


def extract_release_tickets(window: RunWindow, config: MonitoringConfig, version: str) -> dict[str, Any]:
    """The tickets with this fixVersion, whenever they were updated (a leading "v" is ignored)."""
    bare = version[1:] if version[:1] in ("v", "V") else version
    return write_jira_tickets(window, config, f'fixVersion in ("{bare}", "v{bare}")', None)


# The daily DAG makes one extract task per entry, named extract_<channel>.
DAILY_EXTRACTORS: dict[str, Extractor] = {
    "github": extract_github_issues,
    "gitlab": extract_gitlab_issues,
    "forum": extract_forum_topics,
    "stackoverflow": extract_stackoverflow_questions,
    "uservoice": extract_uservoice_suggestions,
    "jira": extract_jira_tickets,
}
