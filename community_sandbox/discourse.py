"""Discourse's JSON API under ``/discourse``: latest topics, topic streams, site-wide posts.

Files: ``discourse/topics.json`` (topic-list objects), ``posts.json`` (post objects with
``topic_id``) and ``categories.json``. Like a real forum it answers only with ``Api-Key`` and
``Api-Username`` headers, and pages the way Discourse does (``/latest.json?page=N`` from 0,
``/posts.json?before=ID``), since there is no "since" filter upstream either. A topic view
(``/t/{id}.json``, ``/t/{id}/posts.json``) gives its posts' HTML (``cooked``) and their Markdown
(``raw``) only with ``include_raw``, as Discourse's topic serializer does; ``/c/{id}/show.json``
gives one category.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from community_sandbox.loading import ItemChecker, parse_time, read_json_array
from community_sandbox.routing import Request, Response, Service, ServiceContext, json_response

TOPICS_PER_PAGE = 30
POSTS_PER_PAGE = 50  # /posts.json
TOPIC_CHUNK = 20  # posts inlined in /t/{id}.json
ERROR_TYPES = {400: "invalid_parameters", 403: "invalid_access", 404: "not_found", 429: "rate_limit"}
ERROR_MESSAGES = {
    403: "You are not permitted to view the requested resource.",
    404: "The requested URL or resource could not be found.",
}


@dataclass
class DiscourseFiles:
    topics: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)


def load_discourse(root: Path) -> DiscourseFiles:
    folder = root / "discourse"
    files = DiscourseFiles()

    path = folder / "topics.json"
    files.topics = read_json_array(path, root, (("topic_list", "topics"),))
    check = ItemChecker(path, root)
    for index, topic in enumerate(files.topics):
        check.integer(topic, index, "id")
        check.require(topic, index, "title")
        check.time(topic, index, "created_at")
        check.time(topic, index, "bumped_at", required=False)
        check.time(topic, index, "last_posted_at", required=False)
    check.unique(files.topics, "id")
    topic_ids = {topic["id"] for topic in files.topics}

    path = folder / "posts.json"
    files.posts = read_json_array(path, root, (("latest_posts",), ("post_stream", "posts")))
    check = ItemChecker(path, root)
    for index, post in enumerate(files.posts):
        check.integer(post, index, "id")
        if check.integer(post, index, "topic_id") not in topic_ids:
            raise check.fail(index, f"points at topic {post['topic_id']}, which is not in topics.json")
        check.integer(post, index, "post_number")
        if "username" not in post:  # null stays possible: the post of a deleted account
            raise check.fail(index, 'has no "username"')
        check.time(post, index, "created_at")
    check.unique(files.posts, "id")

    path = folder / "categories.json"
    files.categories = _flattened(read_json_array(path, root, (("category_list", "categories"),)))
    check = ItemChecker(path, root)
    for index, category in enumerate(files.categories):
        check.integer(category, index, "id")
    check.unique(files.categories, "id")
    return files


def _flattened(categories: list[dict[str, Any]], parent: Any = None) -> list[dict[str, Any]]:
    """Categories as the sandbox keeps them, one per item with its ``parent_category_id``: a file
    copied from ``/categories.json?include_subcategories=true`` nests subcategories in their
    parent's ``subcategory_list`` (served again from the flat list, as Discourse builds it)."""
    flat: list[dict[str, Any]] = []
    for category in categories:
        subs = category.get("subcategory_list")
        if "subcategory_list" in category or (parent is not None and "parent_category_id" not in category):
            category = {k: v for k, v in category.items() if k != "subcategory_list"}
            if parent is not None:
                category.setdefault("parent_category_id", parent)
        flat.append(category)
        if isinstance(subs, list):
            flat.extend(_flattened([sub for sub in subs if isinstance(sub, dict)], category.get("id")))
    return flat


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "topic"


class DiscourseService(Service):
    name = "discourse"
    prefix = "/discourse"
    host_path = "/discourse"

    @classmethod
    def load(cls, root: Path) -> DiscourseFiles:
        return load_discourse(root)

    def __init__(self, data: DiscourseFiles | None, context: ServiceContext) -> None:
        super().__init__(data, context)
        files = data or DiscourseFiles()
        # Nothing here is ever written to, and defaults are only added at the top level of an item:
        # a shallow copy keeps the scenario's data as loaded (a deep copy of 100k posts took seconds).
        self.categories = [dict(category) for category in files.categories]
        for category in self.categories:
            # Discourse sends it with every category; a hand-written file may leave it out.
            category.setdefault("read_restricted", False)
        self.topics: dict[int, dict[str, Any]] = {}
        for raw in files.topics:
            topic = dict(raw)
            topic.setdefault("slug", slugify(str(topic["title"])))
            topic.setdefault("bumped_at", topic.get("last_posted_at") or topic["created_at"])
            for flag in ("pinned", "closed", "archived"):
                topic.setdefault(flag, False)
            topic.setdefault("visible", True)
            self.topics[topic["id"]] = topic

        self.posts_by_topic: dict[int, list[dict[str, Any]]] = {topic_id: [] for topic_id in self.topics}
        posts = [self._post(dict(raw)) for raw in files.posts]
        for post in posts:
            self.posts_by_topic[post["topic_id"]].append(post)
        for topic_id, topic_posts in self.posts_by_topic.items():
            topic_posts.sort(key=lambda p: p["post_number"])
            self.topics[topic_id].setdefault("posts_count", len(topic_posts))
        # Sorted once: every page request is then a slice (requests stay cheap at 100k posts).
        self.posts_by_id = sorted(posts, key=lambda p: p["id"])
        self.post_ids = [post["id"] for post in self.posts_by_id]
        self.latest = sorted(
            self.topics.values(),
            key=lambda t: (bool(t["pinned"]), parse_time(t["bumped_at"]), t["id"]),
            reverse=True,
        )

        self.route("GET", r"/latest(?:\.json)?", self.list_latest)
        self.route("GET", r"/t/(?:[^/]+/)?(?P<id>\d+)\.json", self.get_topic)
        self.route("GET", r"/t/(?P<id>\d+)/posts\.json", self.get_topic_posts)
        self.route("GET", r"/posts\.json", self.list_posts)
        self.route("GET", r"/posts/(?P<id>\d+)\.json", self.get_post)
        self.route("GET", r"/categories\.json", self.list_categories)
        self.route("GET", r"/c/(?P<id>\d+)/show\.json", self.get_category)

    def _post(self, post: dict[str, Any]) -> dict[str, Any]:
        topic = self.topics[post["topic_id"]]
        post.setdefault("topic_title", topic["title"])
        post.setdefault("topic_slug", topic["slug"])
        post.setdefault("post_type", 1)
        post.setdefault("reply_to_post_number", None)
        for flag in ("staff", "admin", "moderator"):
            post.setdefault(flag, False)
        if "cooked" not in post and post.get("raw") is not None:
            post["cooked"] = f"<p>{html.escape(str(post['raw']))}</p>"
        return post

    # ----- errors and auth ----------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        if status == 429:
            wait = 10 if retry_after is None else retry_after
            text = message or (
                f"You’ve performed this action too many times. Please wait {wait} seconds before trying again."
            )
            body = {
                "errors": [text],
                "error_type": "rate_limit",
                "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
            }
            return json_response(body, 429, {"Retry-After": str(wait)})
        text = message or ERROR_MESSAGES.get(status) or "Internal Server Error"
        return json_response(
            {"errors": [text], "error_type": ERROR_TYPES.get(status, "server_error")}, status
        )

    def authorize(self, request: Request) -> Response | None:
        if not request.header("api-key") or not request.header("api-username"):
            return self.error_response(403)
        return None

    # ----- handlers -----------------------------------------------------------------------

    def _users(self, topics: list[dict[str, Any]]) -> list[dict[str, Any]]:
        users: dict[str, dict[str, Any]] = {}
        for topic in topics:
            for post in self.posts_by_topic[topic["id"]]:
                if post["username"] is None:  # a deleted account is no user
                    continue
                username = str(post["username"])
                users.setdefault(
                    username,
                    {
                        "id": post.get("user_id"),
                        "username": username,
                        "name": post.get("name"),
                        "avatar_template": post.get("avatar_template", ""),
                    },
                )
        return list(users.values())

    def list_latest(self, request: Request) -> Response:
        page = max(request.int_arg("page", 0), 0)
        topics = self.latest[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
        topic_list: dict[str, Any] = {
            "can_create_topic": False,
            "per_page": TOPICS_PER_PAGE,
            "topics": topics,
        }
        # Discourse offers a next page only when this one is full.
        if len(topics) == TOPICS_PER_PAGE:
            topic_list["more_topics_url"] = f"/latest?page={page + 1}"
        return json_response({"users": self._users(topics), "topic_list": topic_list})

    def get_topic(self, request: Request) -> Response:
        topic_id = int(request.params["id"])
        topic = self.topics.get(topic_id)
        if topic is None:
            return self.error_response(404)
        posts = self.posts_by_topic[topic_id]
        body = dict(topic)
        body["post_stream"] = {
            "posts": self._topic_view_posts(request, posts[:TOPIC_CHUNK]),
            "stream": [post["id"] for post in posts],
        }
        body["highest_post_number"] = max((post["post_number"] for post in posts), default=0)
        body["chunk_size"] = TOPIC_CHUNK
        return json_response(body)

    def get_topic_posts(self, request: Request) -> Response:
        topic_id = int(request.params["id"])
        if topic_id not in self.topics:
            return self.error_response(404)
        wanted: set[int] = set()
        for value in request.query.get("post_ids[]", []) + request.query.get("post_ids", []):
            try:
                wanted.add(int(value))
            except ValueError:
                return self.error_response(400, f"Invalid post id: {value}")
        posts = [post for post in self.posts_by_topic[topic_id] if post["id"] in wanted]
        return json_response(
            {"post_stream": {"posts": self._topic_view_posts(request, posts)}, "id": topic_id}
        )

    @staticmethod
    def _topic_view_posts(request: Request, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A topic view's posts carry their HTML (``cooked``) only; ``raw`` too when ``include_raw`` asks."""
        if request.arg("include_raw") not in (None, "", "0", "false"):
            return posts
        return [{key: value for key, value in post.items() if key != "raw"} for post in posts]

    def list_posts(self, request: Request) -> Response:
        before = request.arg("before")
        end = len(self.posts_by_id)
        if before:
            try:
                end = bisect.bisect_left(self.post_ids, int(before))
            except ValueError:
                return self.error_response(400, f"Invalid before: {before}")
        page = self.posts_by_id[max(end - POSTS_PER_PAGE, 0) : end]
        return json_response({"latest_posts": page[::-1]})

    def get_post(self, request: Request) -> Response:
        wanted = int(request.params["id"])
        index = bisect.bisect_left(self.post_ids, wanted)
        if index < len(self.post_ids) and self.post_ids[index] == wanted:
            return json_response(self.posts_by_id[index])
        return self.error_response(404)

    def get_category(self, request: Request) -> Response:
        """One category by id, with its ``parent_category_id`` (``/c/{id}/show.json``)."""
        wanted = int(request.params["id"])
        for category in self.categories:
            if category["id"] == wanted:
                return json_response({"category": category})
        return self.error_response(404)

    def list_categories(self, request: Request) -> Response:
        """The top-level categories (those without a ``parent_category_id`` in the scenario), each with
        its ``subcategory_ids``; their ``subcategory_list`` too only when ``include_subcategories=true``
        is asked for, as Discourse does."""
        nested = request.arg("include_subcategories") == "true"
        children: dict[Any, list[dict[str, Any]]] = {}
        for category in self.categories:
            children.setdefault(category.get("parent_category_id"), []).append(category)

        def shown(category: dict[str, Any], level: int = 1) -> dict[str, Any]:
            # Discourse nests categories three levels deep at most (which also ends a cycle).
            subs = children.get(category["id"], []) if level < 3 else []
            out = {**category, "subcategory_ids": [sub["id"] for sub in subs]}
            if nested:
                out["subcategory_list"] = [shown(sub, level + 1) for sub in subs]
            return out

        known = {category["id"] for category in self.categories}
        top = [c for c in self.categories if c.get("parent_category_id") not in known]
        body = {
            "category_list": {
                "can_create_category": False,
                "can_create_topic": False,
                "categories": [shown(category) for category in top],
            }
        }
        return json_response(body)
