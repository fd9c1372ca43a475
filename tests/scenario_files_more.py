"""GitLab and Stack Exchange data for small test scenarios (SPEC §8 format), next to scenario_files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from scenario_files import write_scenario

GITLAB_WEB = "https://gitlab.com"


def gitlab_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def unix(value: datetime) -> int:
    return int(value.timestamp())


def gitlab_user(username: str) -> dict[str, Any]:
    return {
        "id": sum(map(ord, username)),
        "username": username,
        "name": username.title(),
        "state": "active",
        "web_url": f"{GITLAB_WEB}/{username}",
    }


def gitlab_issue(
    project: str, iid: int, title: str, username: str, created: datetime, **extra: Any
) -> dict[str, Any]:
    """An issue as ``GET /projects/:id/issues`` returns it (``user_notes_count`` the sandbox fills in)."""
    closed_at = extra.pop("closed_at", None)
    return {
        "iid": iid,
        "title": title,
        "description": extra.pop("description", "Details follow."),
        "state": extra.pop("state", "opened"),
        "created_at": gitlab_time(created),
        "updated_at": gitlab_time(created),
        "closed_at": gitlab_time(closed_at) if closed_at else None,
        "labels": extra.pop("labels", ["Mattermost"]),
        "author": gitlab_user(username),
        "web_url": f"{GITLAB_WEB}/{project}/-/issues/{iid}",
        **extra,
    }


def gitlab_note(
    note_id: int, iid: int, username: str, created: datetime, body: str = "ok", system: bool = False
) -> dict[str, Any]:
    return {
        "id": note_id,
        "type": None,
        "body": body,
        "author": gitlab_user(username),
        "created_at": gitlab_time(created),
        "updated_at": gitlab_time(created),
        "system": system,
        "noteable_type": "Issue",
        "noteable_iid": iid,
    }


def se_owner(display_name: str, user_id: int = 1) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "display_name": display_name,
        "user_type": "registered",
        "reputation": 1,
        "link": f"https://stackoverflow.com/users/{user_id}/x",
    }


def se_question(
    question_id: int,
    title: str,
    owner: str | None,
    created: datetime,
    *,
    tags: list[str] | None = None,
    last_activity: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A question as API 2.3 returns it; ``owner=None`` is a deleted user (no ``owner`` key)."""
    question: dict[str, Any] = {
        "question_id": question_id,
        "title": title,
        "body": extra.pop("body", f"<p>Question {question_id}</p>"),
        "tags": tags if tags is not None else ["mattermost"],
        "creation_date": unix(created),
        "last_activity_date": unix(last_activity or created),
        "link": f"https://stackoverflow.com/questions/{question_id}/q-{question_id}",
        "is_answered": False,
        "answer_count": 0,
        "score": 0,
        **extra,
    }
    if owner is not None:
        question["owner"] = se_owner(owner, question_id % 1000)
    return question


def se_answer(
    answer_id: int, question_id: int, owner: str, created: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "answer_id": answer_id,
        "question_id": question_id,
        "owner": se_owner(owner),
        "creation_date": unix(created),
        "last_activity_date": unix(created),
        "is_accepted": extra.pop("is_accepted", False),
        "score": 0,
        "body": extra.pop("body", "<p>Try this.</p>"),
        **extra,
    }


def se_comment(
    comment_id: int, post_id: int, owner: str, created: datetime, post_type: str = "question"
) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "post_id": post_id,
        "post_type": post_type,
        "owner": se_owner(owner),
        "creation_date": unix(created),
        "score": 0,
        "edited": False,
        "body": "Which version?",
    }


def write_more_scenario(
    root: Path,
    now: datetime,
    *,
    gitlab: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
    stackexchange: dict[str, list[dict[str, Any]]] | None = None,
    faults: list[dict[str, Any]] | None = None,
) -> Path:
    """A scenario with GitLab projects (path → issues/notes) and Stack Exchange files.

    ``stackexchange`` keys: ``questions``, ``answers``, ``comments`` and optionally ``backoff``
    (the sandbox's rules for a ``backoff`` in successful answers).
    """
    write_scenario(root, now, faults=faults)
    for project, files in (gitlab or {}).items():
        folder = root / "gitlab" / project
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("issues", "notes"):
            (folder / f"{name}.json").write_text(json.dumps(files.get(name, [])), encoding="utf-8")
    if stackexchange is not None:
        folder = root / "stackexchange"
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("questions", "answers", "comments"):
            (folder / f"{name}.json").write_text(json.dumps(stackexchange.get(name, [])), encoding="utf-8")
        if "backoff" in stackexchange:
            (folder / "backoff.json").write_text(json.dumps(stackexchange["backoff"]), encoding="utf-8")
    return root
