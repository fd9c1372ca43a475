"""An outage of three days on GitHub alone: issues whose state changes from one day to the next.

Shared by the tests that run it through a live scheduler (tests/airflow/test_readme_operating.py
backfills it with the README's commands; test_operations_live.py fails and kills things on it).

    A: opened 11-12, answered 11-16 12:00 -> waiting on T1 only.
    D: opened 11-13, answered 11-17 12:00 -> waiting on T1 and T2.
    B: opened 11-14 08:00 -> too young on T1, waiting on T2 and T3.
    C: opened 11-17 10:00 -> new on T3 (triage), too young to wait.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scenario_files import github_comment, github_issue, write_scenario

DAG_ID = "community_daily_monitoring"
REPO = "mattermost/mattermost"
T1, T2, T3 = (datetime(2026, 11, d, 7, tzinfo=UTC) for d in (16, 17, 18))
GITHUB_AND_FORUM_ONLY = {"channels": {"disabled": ["gitlab", "stackoverflow", "uservoice", "jira"]}}
ROTATION = {"members": ["dev.one", "dev.two"], "days": 1, "start": "2026-11-16"}
STAFF = {"github": [], "bots": []}


def outage_scenario(
    root: Path, faults: list[dict[str, Any]] | None = None, variables: dict[str, Any] | None = None
) -> Path:
    issues = [
        github_issue(REPO, 1, "Issue A: push notifications", "ann", datetime(2026, 11, 12, 9, tzinfo=UTC)),
        github_issue(REPO, 4, "Issue D: LDAP sync", "dan", datetime(2026, 11, 13, 6, tzinfo=UTC)),
        github_issue(REPO, 2, "Issue B: search", "bea", datetime(2026, 11, 14, 8, tzinfo=UTC)),
        github_issue(REPO, 3, "Issue C: crash on start", "cal", datetime(2026, 11, 17, 10, tzinfo=UTC)),
    ]
    comments = [
        github_comment(REPO, 901, 1, "helper", datetime(2026, 11, 16, 12, tzinfo=UTC)),
        github_comment(REPO, 902, 4, "helper", datetime(2026, 11, 17, 12, tzinfo=UTC)),
    ]
    return write_scenario(
        root,
        T3,
        github={REPO: {"issues": issues, "comments": comments}, "mattermost/mattermost-mobile": {}},
        faults=faults,
        variables=variables,
    )


def listed(digest: str) -> list[str]:
    """The outage's issues a digest lists, in its order."""
    return re.findall(r"\[(Issue \w)", digest)


def line_with(digest: str, title: str) -> str:
    return next(line for line in digest.splitlines() if f"[{title}" in line)
