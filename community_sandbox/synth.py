"""Synthetic scenarios of any size, for the benchmark (``make bench``) and scale tests.

``write_synthetic_scenario(root, issues=N, ...)`` writes a SPEC §8 folder whose content is
deterministic for a given seed: GitHub issues with comments in two repositories, and forum
topics with posts, spread over the 30 days before ``now``.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
REPOS = ("mattermost/mattermost", "mattermost/mattermost-mobile")
TITLES = (
    "Push notifications stopped after upgrading",
    "How do I configure SAML with Okta?",
    "It would be nice to pin messages per thread",
    "Server crashes when exporting a large channel",
    "Can't connect the desktop app behind a proxy",
    "LDAP sync takes an hour",
)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_synthetic_scenario(
    root: Path,
    *,
    issues: int,
    comments_per_issue: int = 2,
    topics: int = 0,
    posts_per_topic: int = 2,
    now: datetime = NOW,
    seed: int = 7,
) -> dict[str, int]:
    """Write the scenario; returns how many items of each kind it holds."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "scenario.yaml").write_text(yaml.safe_dump({"now": _iso(now)}), encoding="utf-8")
    counts = {"issues": 0, "comments": 0, "topics": 0, "posts": 0}
    comment_id = 1
    for repo_index, repo in enumerate(REPOS):
        repo_issues: list[dict[str, Any]] = []
        repo_comments: list[dict[str, Any]] = []
        share = issues // len(REPOS) + (1 if repo_index < issues % len(REPOS) else 0)
        for number in range(1, share + 1):
            created = now - timedelta(seconds=rng.randint(3600, 29 * 86400))
            repo_issues.append(
                {
                    "id": repo_index * 10_000_000 + number,
                    "number": number,
                    "title": f"{rng.choice(TITLES)} #{number}",
                    "body": "Steps to reproduce: 1. open the app" if number % 3 else "Any idea?",
                    "user": {"login": f"user{rng.randint(1, 5000)}", "id": number, "type": "User"},
                    "labels": [{"id": 1, "name": "Bug"}] if number % 5 == 0 else [],
                    "state": "open",
                    "comments": comments_per_issue,
                    "created_at": _iso(created),
                    "updated_at": _iso(created),
                    "closed_at": None,
                    "author_association": "NONE",
                    "html_url": f"https://github.com/{repo}/issues/{number}",
                    "url": f"https://api.github.com/repos/{repo}/issues/{number}",
                }
            )
            for k in range(comments_per_issue):
                at = created + timedelta(minutes=30 * (k + 1))
                repo_comments.append(
                    {
                        "id": comment_id,
                        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
                        "user": {"login": f"user{rng.randint(1, 5000)}", "id": 1, "type": "User"},
                        "author_association": "NONE",
                        "body": "Same here",
                        "created_at": _iso(at),
                        "updated_at": _iso(at),
                    }
                )
                comment_id += 1
        folder = root / "github" / repo
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "issues.json").write_text(json.dumps(repo_issues), encoding="utf-8")
        (folder / "comments.json").write_text(json.dumps(repo_comments), encoding="utf-8")
        (folder / "releases.json").write_text("[]", encoding="utf-8")
        counts["issues"] += len(repo_issues)
        counts["comments"] += len(repo_comments)
    topic_list: list[dict[str, Any]] = []
    post_list: list[dict[str, Any]] = []
    for topic_id in range(1, topics + 1):
        created = now - timedelta(seconds=rng.randint(3600, 29 * 86400))
        thread = []
        for number in range(1, posts_per_topic + 1):
            at = created + timedelta(minutes=20 * (number - 1))
            thread.append(
                {
                    "topic_id": topic_id,
                    "post_number": number,
                    "username": f"member{rng.randint(1, 3000)}",
                    "created_at": _iso(at),
                    "raw": "Which version are you on?" if number == 2 else rng.choice(TITLES),
                    "staff": number == 2,
                    "post_type": 1,
                }
            )
        post_list += thread
        last = thread[-1]["created_at"] if thread else _iso(created)
        topic_list.append(
            {
                "id": topic_id,
                "title": f"{rng.choice(TITLES)} ({topic_id})",
                "slug": f"topic-{topic_id}",
                "posts_count": len(thread),
                "highest_post_number": len(thread),
                "created_at": _iso(created),
                "last_posted_at": last,
                "bumped_at": last,
                "pinned": False,
                "closed": False,
                "archived": False,
                "category_id": 1,
            }
        )
    # Discourse post ids grow with time.
    post_list.sort(key=lambda p: p["created_at"])
    for post_id, post in enumerate(post_list, start=1):
        post["id"] = post_id
    forum = root / "discourse"
    forum.mkdir(parents=True, exist_ok=True)
    (forum / "topics.json").write_text(json.dumps(topic_list), encoding="utf-8")
    (forum / "posts.json").write_text(json.dumps(post_list), encoding="utf-8")
    (forum / "categories.json").write_text(
        json.dumps([{"id": 1, "name": "Troubleshooting"}]), encoding="utf-8"
    )
    counts["topics"] = len(topic_list)
    counts["posts"] = len(post_list)
    return counts
