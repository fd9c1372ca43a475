"""Extract: one function per channel, each writing normalised posts to the run's folder.

Every extractor takes the run window and the settings and returns a small summary for XCom
(the file path and counts); the posts themselves travel as files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
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


# The daily DAG makes one extract task per entry, named extract_<channel>.
DAILY_EXTRACTORS: dict[str, Extractor] = {
    "github": extract_github_issues,
    "forum": extract_forum_topics,
}
