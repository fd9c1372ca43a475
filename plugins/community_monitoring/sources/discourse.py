"""Discourse forum topics and their posts, through HttpHook.

Discourse has no "since" filter: topics come from ``/latest.json`` pages (newest activity first)
and posts from the site-wide ``/posts.json?before=`` pages (newest first), each read until it
passes the window's start. Requests stay O(pages), never one per topic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from community_monitoring.records import Post, Reply
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.sources.http import ApiClient
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

DISCOURSE_CONN_ID = "discourse_default"
REGULAR_POST = 1  # whispers, moderator actions and small actions are not replies anyone sees
MAX_PAGES = 10_000


def _is_staff(raw: dict[str, Any]) -> bool:
    return bool(raw.get("staff") or raw.get("admin") or raw.get("moderator"))


def _is_system_user(raw: dict[str, Any]) -> bool:
    # Discourse's own accounts (system, discobot) have negative ids.
    user_id = raw.get("user_id")
    return isinstance(user_id, int) and user_id < 0


class DiscourseClient:
    """Raw topic, post and category dicts from a Discourse forum's JSON API."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    def from_connection(cls, conn_id: str = DISCOURSE_CONN_ID) -> DiscourseClient:
        return cls(ApiClient(conn_id, "forum"))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def categories(self) -> dict[int, str]:
        data = self._api.get_json("/categories.json").data or {}
        categories = (data.get("category_list") or {}).get("categories") or []
        names: dict[int, str] = {}
        for category in categories:
            names[int(category["id"])] = str(category.get("name") or "")
            for sub in category.get("subcategory_list") or ():
                names[int(sub["id"])] = str(sub.get("name") or "")
        return names

    def topics_active_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Topics whose last activity (``bumped_at``) is after ``since``; pinned ones come first."""
        for page in range(MAX_PAGES):
            data = self._api.get_json("/latest.json", {"page": page}).data or {}
            topic_list = data.get("topic_list") or {}
            topics = topic_list.get("topics") or []
            passed_window = False
            for topic in topics:
                bumped = topic.get("bumped_at") or topic.get("last_posted_at") or topic.get("created_at")
                if bumped and parse_time(bumped) <= since:
                    if topic.get("pinned"):
                        continue
                    passed_window = True
                    break
                yield topic
            if passed_window or not topics or not topic_list.get("more_topics_url"):
                return

    def posts_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Every post created after ``since``, site-wide, newest first."""
        before: int | None = None
        for _ in range(MAX_PAGES):
            params = {"before": before} if before is not None else None
            posts = (self._api.get_json("/posts.json", params).data or {}).get("latest_posts") or []
            if not posts:
                return
            for post in posts:
                if parse_time(post["created_at"]) <= since:
                    return
                yield post
            lowest = min(int(p["id"]) for p in posts)
            if before is not None and lowest >= before:
                return  # the forum ignored ``before``; stop rather than loop
            before = lowest


def topic_url(public_url: str, topic: dict[str, Any]) -> str:
    slug = topic.get("slug") or "topic"
    return f"{public_url.rstrip('/')}/t/{slug}/{topic['id']}"


def normalise_reply(raw: dict[str, Any]) -> Reply:
    return Reply(
        reply_id=str(raw["id"]),
        author=str(raw.get("username") or ""),
        created_at=parse_time(raw["created_at"]),
        body=str(raw.get("raw") or raw.get("cooked") or ""),
        author_platform_staff=_is_staff(raw),
        author_is_bot=_is_system_user(raw),
        kind="post",
    )


def build_topic_post(
    topic: dict[str, Any],
    first_post: dict[str, Any],
    replies: list[Reply],
    categories: dict[int, str],
    public_url: str,
) -> Post:
    closed = bool(topic.get("closed") or topic.get("archived"))
    category_id = topic.get("category_id")
    return Post(
        channel="forum",
        source_id=str(topic["id"]),
        url=topic_url(public_url, topic),
        title=str(topic.get("title") or first_post.get("topic_title") or ""),
        body=str(first_post.get("raw") or first_post.get("cooked") or ""),
        author=str(first_post.get("username") or ""),
        author_platform_staff=_is_staff(first_post),
        author_is_bot=_is_system_user(first_post),
        created_at=parse_time(topic.get("created_at") or first_post["created_at"]),
        state="closed" if closed else "open",
        category=categories.get(int(category_id), "") if category_id is not None else "",
        container="forum",
        replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))),
        number=int(topic["id"]),
    )


def fetch_forum_topics(
    client: DiscourseClient, since: datetime, until: datetime, public_url: str
) -> Iterator[Post]:
    """Topics created in (since, until], each with its replies (posts after the first)."""
    categories = client.categories()
    topics = {
        int(t["id"]): t
        for t in client.topics_active_since(since)
        if since < parse_time(t["created_at"]) <= until
    }
    first_posts: dict[int, dict[str, Any]] = {}
    replies: dict[int, list[Reply]] = defaultdict(list)
    post_count = 0
    for raw in client.posts_since(since):
        topic_id = int(raw["topic_id"])
        if topic_id not in topics:
            continue
        post_count += 1
        if int(raw.get("post_number") or 0) == 1:
            first_posts[topic_id] = raw
        elif raw.get("post_type", REGULAR_POST) == REGULAR_POST:
            replies[topic_id].append(normalise_reply(raw))
    log.info("Forum: %d topics created in the window, %d posts", len(topics), post_count)
    for topic_id, topic in sorted(topics.items()):
        first = first_posts.get(topic_id)
        if first is None:
            log.warning("Forum topic %s has no first post in /posts.json; skipped", topic_id)
            continue
        yield build_topic_post(topic, first, replies.get(topic_id, []), categories, public_url)


def fetch(request: FetchRequest) -> Fetched:
    client = DiscourseClient.from_connection()
    posts = fetch_forum_topics(client, request.since, request.until, request.settings.forum.base_url)
    return Fetched(posts=posts)
