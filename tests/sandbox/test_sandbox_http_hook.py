"""Airflow's HttpHook, unchanged, against the sandbox's Discourse and Mattermost emulations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.http.hooks.http import HttpHook

from community_sandbox import Sandbox

PINNED = (10, 20)
TOPIC_COUNT = 65
LONG_TOPIC = 1
LONG_TOPIC_POSTS = 25


def topic(topic_id: int) -> dict[str, Any]:
    # Later ids are bumped later, except the pinned ones, which are old.
    minute = 0 if topic_id in PINNED else topic_id
    return {
        "id": topic_id,
        "title": f"Topic {topic_id}",
        "created_at": "2026-11-16T00:00:00Z",
        "bumped_at": f"2026-11-16T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
        "pinned": topic_id in PINNED,
        "category_id": 4,
    }


def forum_files() -> dict[str, Any]:
    topics = [topic(topic_id) for topic_id in range(1, TOPIC_COUNT + 1)]
    posts: list[dict[str, Any]] = []
    for topic_id in range(1, TOPIC_COUNT + 1):
        for number in range(1, (LONG_TOPIC_POSTS if topic_id == LONG_TOPIC else 1) + 1):
            posts.append(
                {
                    "id": topic_id * 100 + number,
                    "topic_id": topic_id,
                    "post_number": number,
                    "username": f"user{number}",
                    "user_id": number,
                    "created_at": "2026-11-16T10:00:00Z",
                    "raw": f"post {number} of topic {topic_id}",
                    "staff": number == 2,
                }
            )
    categories = [{"id": 4, "name": "Help"}]
    return {
        "discourse/topics.json": topics,
        "discourse/posts.json": posts,
        "discourse/categories.json": categories,
    }


@pytest.fixture
def forum(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> Sandbox:
    sandbox = start_sandbox(write_scenario(forum_files()))
    conn = {
        "conn_type": "http",
        "host": f"{sandbox.base_url}/discourse",
        "extra": {"Api-Key": "k", "Api-Username": "system"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DISCOURSE_TEST", json.dumps(conn))
    monkeypatch.setenv(
        "AIRFLOW_CONN_MATTERMOST_TEST", json.dumps({"conn_type": "http", "host": sandbox.base_url})
    )
    return sandbox


def get(endpoint: str, data: dict[str, Any] | None = None) -> Any:
    return HttpHook(method="GET", http_conn_id="discourse_test").run(endpoint, data=data).json()


def test_latest_pages_pinned_first_and_more_topics_url(forum: Sandbox) -> None:
    pages = [get("/latest.json", {"page": page})["topic_list"] for page in range(3)]

    assert [t["id"] for t in pages[0]["topics"][:3]] == [20, 10, 65]
    assert [len(p["topics"]) for p in pages] == [30, 30, 5]
    assert [p.get("more_topics_url") for p in pages] == ["/latest?page=1", "/latest?page=2", None]
    seen = [t["id"] for p in pages for t in p["topics"]]
    assert sorted(seen) == list(range(1, TOPIC_COUNT + 1))
    assert forum.requests_log[-1]["query"] == {"page": ["2"]}


def test_topic_stream_and_remaining_posts(forum: Sandbox) -> None:
    topic_view = get(f"/t/{LONG_TOPIC}.json")
    stream = topic_view["post_stream"]
    rest = stream["stream"][20:]
    more = get(f"/t/{LONG_TOPIC}/posts.json", {"post_ids[]": rest})

    assert len(stream["posts"]) == 20
    assert len(stream["stream"]) == LONG_TOPIC_POSTS == topic_view["posts_count"]
    # post_type as Discourse always sends it (the file leaves it out): a regular post.
    assert {p["post_type"] for p in stream["posts"] + more["post_stream"]["posts"]} == {1}
    assert topic_view["title"] == "Topic 1"
    assert [p["post_number"] for p in more["post_stream"]["posts"]] == list(range(21, 26))


def test_posts_before_pages_newest_first(forum: Sandbox) -> None:
    pages: list[list[dict[str, Any]]] = []
    before: int | None = None
    while True:
        posts = get("/posts.json", {"before": before} if before else None)["latest_posts"]
        if not posts:
            break
        pages.append(posts)
        before = min(p["id"] for p in posts)

    ids = [p["id"] for page in pages for p in page]
    assert [len(page) for page in pages] == [50, 39]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == TOPIC_COUNT - 1 + LONG_TOPIC_POSTS
    first = pages[0][0]
    assert first["topic_title"] == f"Topic {TOPIC_COUNT}"
    assert {"topic_slug", "post_number", "username", "staff", "admin", "moderator", "raw", "cooked"} <= set(
        first
    )


def test_categories_and_auth_required(forum: Sandbox) -> None:
    categories = get("/categories.json")["category_list"]["categories"]
    anonymous = requests.get(f"{forum.base_url}/discourse/latest.json", timeout=5)

    # read_restricted as Discourse always sends it (the file leaves it out).
    assert categories == [{"id": 4, "name": "Help", "read_restricted": False, "subcategory_ids": []}]
    assert anonymous.status_code == 403
    assert anonymous.json() == {
        "errors": ["You are not permitted to view the requested resource."],
        "error_type": "invalid_access",
    }


def test_mattermost_webhook_post_lands_in_outbox(forum: Sandbox) -> None:
    message = {"text": "[Help Wanted] 2 topics", "username": "monitor", "channel": "community"}

    response = HttpHook(method="POST", http_conn_id="mattermost_test").run("/hooks/abc123", json=message)
    outbox = requests.get(f"{forum.base_url}/_sandbox/outbox", timeout=5).json()

    assert response.text == "ok"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert len(outbox) == 1
    assert outbox[0]["service"] == "mattermost"
    assert outbox[0]["method"] == "POST"
    assert outbox[0]["path"] == "/hooks/abc123"
    assert outbox[0]["body"] == message
    assert outbox[0]["received_at"].endswith("Z")


def test_mattermost_rejects_empty_text(forum: Sandbox) -> None:
    response = requests.post(f"{forum.base_url}/hooks/abc123", json={"text": ""}, timeout=5)

    assert response.status_code == 400
    assert response.json()["id"] == "web.incoming_webhook.text.app_error"
    assert response.json()["message"] == "No text specified"
    assert forum.outbox == []
