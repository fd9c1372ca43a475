"""Write small scenario folders (SPEC §8 format) for tests that need one of their own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

API = "https://api.github.com/repos"


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def github_issue(
    repo: str, number: int, title: str, login: str, created: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "node_id": f"I_{number}",
        "number": number,
        "title": title,
        "body": extra.pop("body", "Details follow."),
        "user": {"login": login, "id": hash(login) % 10_000, "type": extra.pop("user_type", "User")},
        "labels": [{"id": i, "name": n, "color": "ededed"} for i, n in enumerate(extra.pop("labels", []))],
        "state": extra.pop("state", "open"),
        "locked": False,
        "comments": 0,
        "created_at": iso(created),
        "updated_at": iso(created),
        "closed_at": extra.pop("closed_at", None),
        "author_association": extra.pop("author_association", "NONE"),
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "url": f"{API}/{repo}/issues/{number}",
        **extra,
    }


def github_comment(
    repo: str, comment_id: int, number: int, login: str, created: datetime, body: str = "ok"
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "issue_url": f"{API}/{repo}/issues/{number}",
        "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
        "user": {"login": login, "id": 1, "type": "User"},
        "author_association": "NONE",
        "body": body,
        "created_at": iso(created),
        "updated_at": iso(created),
    }


def forum_topic(
    topic_id: int, title: str, created: datetime, posts: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    last = max((p["created_at"] for p in posts), default=iso(created))
    return {
        "id": topic_id,
        "title": title,
        "fancy_title": title,
        "slug": f"topic-{topic_id}",
        "posts_count": len(posts),
        "reply_count": max(len(posts) - 1, 0),
        "highest_post_number": len(posts),
        "created_at": iso(created),
        "last_posted_at": last,
        "bumped": True,
        "bumped_at": last,
        "pinned": False,
        "visible": True,
        "closed": extra.pop("closed", False),
        "archived": False,
        "category_id": extra.pop("category_id", 1),
        **extra,
    }


def forum_post(
    post_id: int,
    topic_id: int,
    number: int,
    username: str,
    created: datetime,
    raw: str = "text",
    **flags: Any,
) -> dict[str, Any]:
    return {
        "id": post_id,
        "topic_id": topic_id,
        "post_number": number,
        "username": username,
        "created_at": iso(created),
        "updated_at": iso(created),
        "raw": raw,
        "cooked": f"<p>{raw}</p>",
        "post_type": 1,
        "staff": flags.pop("staff", False),
        "admin": flags.pop("admin", False),
        "moderator": flags.pop("moderator", False),
        **flags,
    }


def write_scenario(
    root: Path,
    now: datetime,
    *,
    github: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
    topics: list[dict[str, Any]] | None = None,
    posts: list[dict[str, Any]] | None = None,
    variables: dict[str, Any] | None = None,
    faults: list[dict[str, Any]] | None = None,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"now": iso(now), "variables": variables or {}}
    if faults:
        config["faults"] = faults
    (root / "scenario.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for repo, files in (github or {}).items():
        folder = root / "github" / repo
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("issues", "comments", "releases"):
            (folder / f"{name}.json").write_text(json.dumps(files.get(name, [])), encoding="utf-8")
    forum = root / "discourse"
    forum.mkdir(parents=True, exist_ok=True)
    (forum / "topics.json").write_text(json.dumps(topics or []), encoding="utf-8")
    (forum / "posts.json").write_text(json.dumps(posts or []), encoding="utf-8")
    categories = [{"id": 1, "name": "Troubleshooting", "slug": "troubleshooting"}]
    (forum / "categories.json").write_text(json.dumps(categories), encoding="utf-8")
    return root


def days(n: float) -> timedelta:
    return timedelta(days=n)
