"""Discourse forum topics and their posts, through HttpHook.

Discourse has no "since" filter: topics come from ``/latest.json`` pages (newest activity first)
and posts from the site-wide ``/posts.json?before=`` pages (newest first), each read until it
passes the window's start. Requests stay O(pages), never one per topic, except for a topic whose
first post is not in ``/posts.json``, or whose first post is but ``/latest.json`` did not list it
(bumped to a page already read while the pages were walked): that topic is read from
``/t/{id}.json`` and, past the 20 posts it inlines, ``/t/{id}/posts.json?post_ids[]=`` (or named as
a problem), never skipped; only an unlisted one (``visible`` false) stays out, as on the forum.
Categories come from ``/categories.json``; one that a topic of the window is in but the list lacks
(a forum that pages it gives its first page only) is read by id.

Every page is checked (``topic_list.topics``, ``latest_posts``...): an HTML page or ``{}`` is an
error after the HTTP layer's retries, never an empty page. A topic or post that lacks a field
the rules read is skipped and named in ``Fetched.problems``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Hashable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, Field, StrictBool

from community_monitoring.records import CATEGORY_SEPARATOR, DELETED_USER, Post, Reply
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    ApiClient,
    HttpPolicy,
    InvalidResponseError,
    UpstreamError,
    endless_pages,
)
from community_monitoring.sources.items import Id, IsoTime, Item, ItemChecker, field_of, id_text, time_of
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

DISCOURSE_CONN_ID = "discourse_default"
REGULAR_POST = 1  # whispers, moderator actions and small actions are not replies anyone sees
SMALL_ACTION = 3  # "closed this topic", "archived this topic": when the topic's state changed
CLOSING_ACTIONS = frozenset({"closed.enabled", "autoclosed.enabled", "archived.enabled"})
REOPENING_ACTIONS = frozenset({"closed.disabled", "autoclosed.disabled", "archived.disabled"})
# The topic flag each action sets or clears: a topic timer's "autoclosed" is its "closed" flag.
_STATE_FLAGS = {"closed": "closed", "autoclosed": "closed", "archived": "archived"}
MAX_PAGES = 10_000
TOPIC_POSTS_PER_CALL = 20  # as many as a topic view inlines (its chunk size)
MAX_CATEGORY_DEPTH = 3  # Discourse nests categories three levels deep at most


# ----- pages and items --------------------------------------------------------------------------


class TopicList(BaseModel):
    topics: list[Any]
    more_topics_url: str | None = None


class LatestPage(BaseModel):
    """``/latest.json``."""

    topic_list: TopicList


class PostsPage(BaseModel):
    """``/posts.json``."""

    latest_posts: list[Any]


class Category(BaseModel):
    id: Id
    name: str | None = None
    parent_category_id: Id | None = None
    subcategory_list: list[Category] = Field(default_factory=list)
    # Only some groups may read it (the admin key sees its topics in /latest.json all the same).
    # Discourse sends it with every category: read as "public" when left out, a staff-only
    # category's topics were listed in the public digests. An answer without it is invalid.
    read_restricted: StrictBool


class CategoryList(BaseModel):
    categories: list[Category]


class CategoriesPage(BaseModel):
    """``/categories.json``."""

    category_list: CategoryList


class CategoryPage(BaseModel):
    """``/c/{id}/show.json``."""

    category: Category


class PostStream(BaseModel):
    posts: list[Any]
    # The ids of all the topic's posts: a topic view always sends it (a mega topic of over 10,000
    # posts sends its first and last ids instead); ``/t/{id}/posts.json`` never does.
    stream: list[int] | None = None


class TopicPage(BaseModel):
    """``/t/{id}.json``: the topic with its first posts, and the topic's own fields (checked as a
    ``DiscourseTopic`` where the topic is read from here rather than from /latest.json)."""

    id: Id
    post_stream: PostStream
    # How many posts the topic has (a topic view always sends it): checked against the stream.
    posts_count: int | None = None
    slug: Any = None
    title: Any = None
    created_at: Any = None
    category_id: Any = None
    closed: Any = None
    archived: Any = None
    visible: Any = None
    # Set when the topic was deleted: an admin's API key (``system``) still reads its view.
    deleted_at: Any = None

    def topic_fields(self) -> dict[str, Any]:
        """The topic as /latest.json lists it (``TOPIC_FIELDS``), for the same checks."""
        return {name: getattr(self, name) for name in TOPIC_FIELDS if getattr(self, name) is not None}


class TopicPostsPage(BaseModel):
    """``/t/{id}/posts.json?post_ids[]=``: posts of a topic by id."""

    post_stream: PostStream


class DiscourseTopic(Item):
    id: Id
    created_at: IsoTime
    title: str  # every post has one (the rules read it): a null is an item error
    slug: str | None = None
    category_id: Id | None = None
    pinned: StrictBool | None = None
    # Discourse sends both with every topic (a list's item and a topic's view). Read as False, a
    # topic answered without them passed for open: a closed topic was listed as waiting for an answer.
    closed: StrictBool
    archived: StrictBool
    # Unlisted when false; read only to tell whether the topic is public. Sent with every topic:
    # read as listed when left out, an unlisted topic went to the public digests (an item error).
    visible: StrictBool


class DiscoursePost(Item):
    id: Id
    topic_id: Id
    post_number: Id
    created_at: IsoTime
    # Null when the post's account was deleted (the post stays): its author is DELETED_USER. Every
    # post serializer sends the key, so a post without it is an item error (named, the run red):
    # whether its author is staff or a bot could not be told.
    username: str | None
    # Every post serializer sends it. A reply without it could be a staff whisper or a moderator's
    # action (answers no one) as well as a reply everyone sees: read as regular, a whisper took the
    # topic off the lists as answered. Left out, the reply's topic is named as unreadable (never the
    # reply alone: dropped, it would leave the topic reading as unanswered).
    post_type: int | None = None
    user_id: int | None = None
    staff: StrictBool | None = None
    admin: StrictBool | None = None
    moderator: StrictBool | None = None
    # The Solved plugin marks the reply the author (or staff) accepted as the solution.
    accepted_answer: StrictBool | None = None
    # Withdrawn by its author ("(post deleted by author)"), deleted by staff (an admin key still
    # reads it), or hidden after flags: no one else reads it.
    user_deleted: StrictBool | None = None
    deleted_at: Any = None
    hidden: StrictBool | None = None
    # A small action's change ("closed.enabled" when someone closed the topic).
    action_code: str | None = None


def _is_staff(raw: dict[str, Any]) -> bool:
    return bool(raw.get("staff") or raw.get("admin") or raw.get("moderator"))


def _is_system_user(raw: dict[str, Any]) -> bool:
    # Discourse's own accounts (system, discobot) have negative ids.
    user_id = raw.get("user_id")
    return isinstance(user_id, int) and user_id < 0


# ----- client -----------------------------------------------------------------------------------


class DiscourseClient:
    """Raw topic, post and category dicts from a Discourse forum's JSON API (pages checked)."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api
        # Ids of the categories read so far that only some groups may read.
        self.read_restricted: set[int] = set()

    @classmethod
    def from_connection(
        cls, conn_id: str = DISCOURSE_CONN_ID, policy: HttpPolicy | None = None
    ) -> DiscourseClient:
        return cls(ApiClient(conn_id, "forum", policy=policy))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def categories(self) -> dict[int, tuple[str, int | None]]:
        """Category id → (name, parent id) for every category ``/categories.json`` lists; the ids
        of those only some groups may read are kept in ``read_restricted``.

        Without ``include_subcategories`` Discourse lists only the top level, each with the ids of
        its subcategories: their topics would have no category. With it, subcategories come nested
        under their parent, or (on a forum whose categories load page by page) listed flat with
        their ``parent_category_id``: both are read. A forum that pages this list gives its first
        page only; ``category`` reads any other a topic is in.
        """
        page = self._api.get_page("/categories.json", CategoriesPage, {"include_subcategories": "true"})
        found: dict[int, tuple[str, int | None]] = {}

        def collect(categories: list[Category], parent: int | None) -> None:
            for category in categories:
                found[category.id] = (category.name or "", category.parent_category_id or parent)
                if category.read_restricted:
                    self.read_restricted.add(category.id)
                collect(category.subcategory_list, category.id)

        collect(page.category_list.categories, None)
        return found

    def category(self, category_id: int) -> tuple[str, int | None] | None:
        """One category's (name, parent id) from ``/c/{id}/show.json``; None when the forum has none
        by that id for the API user (404 or 403)."""
        try:
            shown = self._api.get_page(f"/c/{category_id}/show.json", CategoryPage)
        except UpstreamError as exc:
            if exc.status in (403, 404):
                return None
            raise
        if shown.category.read_restricted:
            self.read_restricted.add(category_id)
        return shown.category.name or "", shown.category.parent_category_id

    def topics_active_since(self, since: datetime) -> Iterator[Any]:
        """Topics whose last activity (``bumped_at``) is after ``since``; pinned ones come first."""
        read: set[Any] = set()
        for page in range(MAX_PAGES):
            topic_list = self._api.get_page("/latest.json", LatestPage, {"page": page}).topic_list
            ids = {
                i for i in (field_of(topic, "id") for topic in topic_list.topics) if isinstance(i, Hashable)
            }
            if ids and ids <= read:
                detail = f"page {page} lists only topics of the pages before it: the list does not move on"
                raise self._api.call("GET", "/latest.json").error(200, detail, InvalidResponseError)
            read |= ids
            if not topic_list.topics and topic_list.more_topics_url:
                # Discourse links a next page only after a page with topics: an empty page that
                # says there are more is no end of the list, and taking it for one loses the rest.
                detail = f"page {page} lists no topics, yet its more_topics_url names a next page"
                raise self._api.call("GET", "/latest.json").error(200, detail, InvalidResponseError)
            passed_window = False
            for topic in topic_list.topics:
                bumped = (
                    time_of(topic, "bumped_at")
                    or time_of(topic, "last_posted_at")
                    or time_of(topic, "created_at")
                )
                if bumped is not None and bumped <= since:
                    if field_of(topic, "pinned"):
                        continue
                    passed_window = True
                    break
                yield topic
            if passed_window or not topic_list.topics or not topic_list.more_topics_url:
                return
        raise endless_pages(self._api.call("GET", "/latest.json"), MAX_PAGES)

    def posts_since(self, since: datetime) -> Iterator[Any]:
        """Every post created after ``since``, site-wide, newest first (by id).

        Ids follow creation, but not strictly (a post moved or imported keeps its time): a page
        ends the walk only when none of its posts is newer than ``since``, and an older post on a
        page that has newer ones is passed over, not taken for the window's end."""
        before: int | None = None
        for _ in range(MAX_PAGES):
            params = {"before": before} if before is not None else None
            posts = self._api.get_page("/posts.json", PostsPage, params).latest_posts
            if not posts:
                return
            newer = 0
            for post in posts:
                created = time_of(post, "created_at")
                if created is not None and created <= since:
                    continue
                newer += 1
                yield post
            if not newer:
                return
            ids = [
                i
                for i in (field_of(p, "id") for p in posts)
                if isinstance(i, int) and not isinstance(i, bool)
            ]
            if not ids:
                detail = "no post on the page has an id, so the next page cannot be asked for"
                raise self._api.call("GET", "/posts.json").error(200, detail, InvalidResponseError)
            lowest = min(ids)
            if before is not None and lowest >= before:
                detail = f"the page before post {before} starts at post {lowest}: the forum ignored `before`"
                raise self._api.call("GET", "/posts.json").error(200, detail, InvalidResponseError)
            before = lowest
        raise endless_pages(self._api.call("GET", "/posts.json"), MAX_PAGES)

    def topic(self, topic_id: int) -> TopicPage:
        """One topic with its first 20 posts (``post_stream.posts``), their Markdown (``raw``) included:
        a topic view gives only their HTML unless asked."""
        return self._api.get_page(f"/t/{topic_id}.json", TopicPage, {"include_raw": "true"})

    def topic_posts(self, topic_id: int, post_ids: list[int]) -> Iterator[Any]:
        """Posts of a topic by id, ``TOPIC_POSTS_PER_CALL`` a call: those its first page does not inline."""
        for start in range(0, len(post_ids), TOPIC_POSTS_PER_CALL):
            params = {"post_ids[]": post_ids[start : start + TOPIC_POSTS_PER_CALL], "include_raw": "true"}
            yield from self._api.get_page(
                f"/t/{topic_id}/posts.json", TopicPostsPage, params
            ).post_stream.posts


def category_paths(found: dict[int, tuple[str, int | None]]) -> dict[int, str]:
    """Category id → its path, a subcategory's as "Parent › Sub" (``records.category_names``)."""

    def path(category_id: int) -> str:
        levels: list[str] = []
        at: int | None = category_id
        while at is not None and at in found and len(levels) < len(found):  # a cycle ends too
            name, at = found[at]
            levels.insert(0, name)
        return CATEGORY_SEPARATOR.join(level for level in levels if level)

    return {category_id: path(category_id) for category_id in found}


class ForumCategories(NamedTuple):
    paths: dict[int, str]
    # Categories only some groups may read, or under one that is: their topics are not public.
    restricted: frozenset[int]


def restricted_categories(found: dict[int, tuple[str, int | None]], restricted: set[int]) -> frozenset[int]:
    """The categories that are read-restricted or lie under one that is."""

    def closed(category_id: int) -> bool:
        at: int | None = category_id
        for _ in range(len(found) + 1):  # a cycle ends too
            if at is None:
                return False
            if at in restricted:
                return True
            at = found.get(at, ("", None))[1]
        return False

    return frozenset(category_id for category_id in found if closed(category_id))


def read_categories(client: DiscourseClient, topics: dict[int, dict[str, Any]]) -> ForumCategories:
    """The paths of the listed categories and of every other category a topic of the window is in
    (and its parents): each unlisted one read once, by id; and which of them are not public."""
    found = client.categories()
    wanted = sorted({int(t["category_id"]) for t in topics.values() if t.get("category_id") is not None})
    unshown: set[int] = set()
    for _ in range(MAX_CATEGORY_DEPTH):
        missing = [category_id for category_id in wanted if category_id not in found]
        if not missing:
            break
        parents = []
        for category_id in missing:
            category = client.category(category_id)
            if category is None:
                # Whether only some groups may read it cannot be told: its topics stay out of the
                # public digests (read as public, a staff-only subcategory's went to [Help Wanted]).
                log.warning(
                    "Forum category %s: not listed and /c/%s/show.json has none; its topics are "
                    "left out of the public digests",
                    category_id,
                    category_id,
                )
                found[category_id] = ("", None)
                unshown.add(category_id)
                continue
            log.info("Forum category %s (%s): not in /categories.json, read by id", category_id, category[0])
            found[category_id] = category
            if category[1] is not None:
                parents.append(category[1])
        wanted = parents
    restricted = restricted_categories(found, client.read_restricted | unshown)
    return ForumCategories(category_paths(found), restricted)


# ----- normalisers ------------------------------------------------------------------------------


def topic_url(public_url: str, topic: dict[str, Any]) -> str:
    slug = topic.get("slug") or "topic"
    return f"{public_url.rstrip('/')}/t/{slug}/{topic['id']}"


def normalise_reply(raw: dict[str, Any]) -> Reply:
    return Reply(
        reply_id=str(raw["id"]),
        author=str(raw.get("username") or DELETED_USER),
        created_at=parse_time(raw["created_at"]),
        body=str(raw.get("raw") or raw.get("cooked") or ""),
        author_platform_staff=_is_staff(raw),
        author_is_bot=_is_system_user(raw),
        kind="post",
    )


def deleted_at_t(topic: dict[str, Any], first_post: dict[str, Any], until: datetime) -> bool:
    """Whether the topic was deleted at ``until`` (T): ``deleted_at`` at or before it, on the topic or
    on its first post (an admin key still reads deleted topics, in /latest.json and /posts.json).
    A topic deleted after T existed at T: a backfill lists it. A ``deleted_at`` that is no time is
    a ValueError naming it: whether the topic existed at T cannot be told (never read as either)."""
    for what, raw in (("topic", topic), ("first post", first_post)):
        if raw.get("deleted_at") is None:
            continue
        deleted = time_of(raw, "deleted_at")
        if deleted is None:
            raise ValueError(f"the {what}'s field 'deleted_at' is not a time: {raw.get('deleted_at')!r}")
        if deleted <= until:
            return True
    return False


def withdrawn_at_t(first_post: dict[str, Any], until: datetime) -> bool:
    """Whether the topic's author had withdrawn it at ``until`` (T). An author who deletes their own
    topic withdraws it: the first post's text becomes "(topic withdrawn by author, …)", its
    ``user_deleted`` true, the topic closed; ``deleted_at`` comes a day later, if no one flags it.
    The withdrawal is the first post's last edit (its ``updated_at``; the post cannot be edited
    after it): one withdrawn after T existed at T (a backfill lists it). Without that time, it is
    withdrawn as the forum says now; one that is no time is a ValueError naming it (never read as
    either, as ``deleted_at_t``)."""
    if first_post.get("user_deleted") is not True:
        return False
    if first_post.get("updated_at") is None:
        return True
    edited = time_of(first_post, "updated_at")
    if edited is None:
        raise ValueError(
            f"the first post's field 'updated_at' is not a time: {first_post.get('updated_at')!r}"
        )
    return edited <= until


def build_topic_post(
    topic: dict[str, Any],
    first_post: dict[str, Any],
    replies: list[Reply],
    categories: dict[int, str],
    public_url: str,
    solved_at: datetime | None = None,
    restricted: frozenset[int] = frozenset(),
    closed_at: datetime | None = None,
    closure_at_t: tuple[datetime, datetime | None] | None = None,
) -> Post:
    closed = bool(topic.get("closed") or topic.get("archived"))
    if closed and closure_at_t is not None:
        # Closed now and at T, though perhaps reopened and closed again since: dated by T's closure.
        closed_at = closure_at_t[0]
    # Open now but reopened after T: (closed at, reopened at) of the closure it was in at T.
    reopened = closure_at_t if not closed and closure_at_t is not None and closure_at_t[1] else None
    category_id = topic.get("category_id")
    # Unlisted (visible false), hidden after flags, or in a category only some groups read.
    public = not (
        topic.get("visible") is False
        or first_post.get("hidden")
        or (category_id is not None and int(category_id) in restricted)
    )
    return Post(
        channel="forum",
        source_id=str(topic["id"]),
        url=topic_url(public_url, topic),
        title=str(topic.get("title") or first_post.get("topic_title") or ""),
        body=str(first_post.get("raw") or first_post.get("cooked") or ""),
        author=str(first_post.get("username") or DELETED_USER),
        author_platform_staff=_is_staff(first_post),
        author_is_bot=_is_system_user(first_post),
        created_at=parse_time(topic.get("created_at") or first_post["created_at"]),
        state="closed" if closed else "open",
        # When it was closed, where a small-action post says (else unknown: closed before T).
        closed_at=closed_at if closed else (reopened[0] if reopened else None),
        reopened_at=reopened[1] if reopened else None,
        category=categories.get(int(category_id), "") if category_id is not None else "",
        container="forum",
        replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))),
        number=int(topic["id"]),
        accepted_at=solved_at,
        public=public,
    )


# ----- fetch ------------------------------------------------------------------------------------


def _topic_name(raw: Any, public_url: str, where: str) -> str:
    topic_id = field_of(raw, "id")
    if isinstance(topic_id, int) and not isinstance(topic_id, bool):
        return topic_url(public_url, raw)
    return f"a topic in {where} without an id"


# What a topic and its first post become a ``Post`` from (``build_topic_post``, ``topic_url``): only
# these are kept from their raw JSON while the window's posts are read. At 100,000 posts a day the
# raw dictionaries (each post's HTML, its actions, its avatar and flair fields) held for every topic
# of the window were most of the forum extract's memory.
TOPIC_FIELDS = (
    "id",
    "slug",
    "title",
    "created_at",
    "category_id",
    "closed",
    "archived",
    "visible",
    "deleted_at",
)
FIRST_POST_FIELDS = (
    "raw",
    "topic_title",
    "username",
    "staff",
    "admin",
    "moderator",
    "user_id",
    "created_at",
    "hidden",
    "deleted_at",
    "user_deleted",
    "updated_at",
)


def _kept(raw: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    kept = {name: raw[name] for name in fields if name in raw}
    if "raw" in fields and not raw.get("raw") and raw.get("cooked"):
        kept["cooked"] = raw["cooked"]  # the HTML only when the text is missing
    return kept


def _topics_in_window(
    client: DiscourseClient, checker: ItemChecker, window: tuple[datetime, datetime], public_url: str
) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """The window's topics /latest.json lists, by id; and the ids of those it listed but that were
    skipped as malformed (named among the item problems)."""
    since, until = window
    topics: dict[int, dict[str, Any]] = {}
    skipped: set[int] = set()
    for raw in client.topics_active_since(since):
        created = time_of(raw, "created_at")
        if created is not None and not since < created <= until:
            continue
        topic = checker.check(
            DiscourseTopic, raw, _topic_name(raw, public_url, "/latest.json"), id_text(field_of(raw, "id"))
        )
        if topic is not None:
            topics[topic.id] = _kept(raw, TOPIC_FIELDS)
        elif isinstance(topic_id := field_of(raw, "id"), int):
            skipped.add(topic_id)
    return topics, skipped


class _Threads:
    """The window's posts, by topic: first posts and the replies people see."""

    def __init__(self, until: datetime) -> None:
        # T: a reply deleted after it was there at T, and answered as any other that day.
        self.until = until
        self.first_posts: dict[int, dict[str, Any]] = {}
        self.replies: dict[int, list[Reply]] = defaultdict(list)
        # Topic → when its accepted solution was posted (the earliest the API can tell).
        self.solved_at: dict[int, datetime] = {}
        # Topic → when it was last closed or archived (its small-action post), so that a topic
        # closed after T is still open for that run.
        self.closed_at: dict[int, datetime] = {}
        # Topic → when its closed or archived flag was set (True) or cleared (False), by time: whether
        # the topic was closed at T, whatever it is now.
        self.state_moves: dict[int, list[tuple[datetime, str, bool]]] = defaultdict(list)
        self.count = 0
        self._seen: set[int] = set()
        # Topics whose first post is in the window but that /latest.json did not list.
        self.unlisted: list[int] = []
        # Topic → why one of its replies could not be read as one (named, the topic left out).
        self.unreadable: dict[int, str] = {}

    def has_read(self, post_id: int) -> bool:
        return post_id in self._seen

    def add(self, checker: ItemChecker, raw: Any, name: str) -> None:
        post = checker.check(DiscoursePost, raw, name)
        if post is None or post.id in self._seen:
            return
        self._seen.add(post.id)
        self.count += 1
        if post.post_type == SMALL_ACTION and post.action_code in CLOSING_ACTIONS:
            earlier = self.closed_at.get(post.topic_id)
            self.closed_at[post.topic_id] = max(post.created_at, earlier) if earlier else post.created_at
        if post.post_type == SMALL_ACTION and post.action_code in CLOSING_ACTIONS | REOPENING_ACTIONS:
            self.state_moves[post.topic_id].append(
                (
                    post.created_at,
                    _STATE_FLAGS[post.action_code.split(".")[0]],
                    post.action_code in CLOSING_ACTIONS,
                )
            )
        if post.post_number == 1:
            self.first_posts[post.topic_id] = _kept(raw, FIRST_POST_FIELDS)
        elif post.user_deleted or post.hidden or self._deleted_at_t(post, raw):
            return  # withdrawn, deleted by T or hidden: no one reads it, so it answers no one
        elif post.post_type is None:
            self.unreadable.setdefault(
                post.topic_id,
                f"its post {post.post_number} was answered without post_type: whether it is a reply"
                " anyone sees (or a staff whisper) could not be told",
            )
        elif post.post_type == REGULAR_POST:
            reply = checker.build(name, normalise_reply, raw)
            if reply is not None:
                self.replies[post.topic_id].append(reply)
                if post.accepted_answer:
                    self.solved_at[post.topic_id] = reply.created_at

    def closure_at_t(self, topic_id: int) -> tuple[datetime, datetime | None] | None:
        """(closed at, reopened at) of the closure a topic stood in at T, where its small actions
        say it had its closed or archived flag set at T: dated by the last closing by T, and ended by
        the first time after T that neither flag was set (None: not reopened since). None where
        they say it was open at T. The two flags are set and cleared each on its own ("closed" and
        "archived": unarchiving a closed topic leaves it closed)."""
        flags: dict[str, bool] = {}
        closed_at: datetime | None = None
        moves = sorted(self.state_moves.get(topic_id, ()))
        for at, flag, setting in moves:
            if at > self.until:
                break
            flags[flag] = setting
            closed_at = at if setting else closed_at
        if closed_at is None or not any(flags.values()):
            return None
        for at, flag, setting in moves:
            if at > self.until:
                flags[flag] = setting
                if not any(flags.values()):
                    return closed_at, at
        return closed_at, None

    def _deleted_at_t(self, post: DiscoursePost, raw: Any) -> bool:
        """Whether a reply was deleted at T (its ``deleted_at`` at or before it); one that is no
        time names its topic as unreadable (whether the reply stood at T cannot be told)."""
        if post.deleted_at is None:
            return False
        deleted = time_of(raw, "deleted_at")
        if deleted is None:
            self.unreadable.setdefault(
                post.topic_id,
                f"its post {post.post_number}'s field 'deleted_at' is not a time: {post.deleted_at!r}",
            )
            return True
        return deleted <= self.until


def _post_name(raw: Any, topics: dict[int, dict[str, Any]], public_url: str) -> str:
    topic_id = field_of(raw, "topic_id")
    topic = topics.get(topic_id) if isinstance(topic_id, int) else None
    number = field_of(raw, "post_number")
    if topic is not None and number is not None:
        return f"{topic_url(public_url, topic)}/{number}"
    return f"post {field_of(raw, 'id')} of topic {field_of(raw, 'topic_id')}"


def _read_threads(
    client: DiscourseClient,
    checker: ItemChecker,
    window: tuple[datetime, datetime],
    topics: dict[int, dict[str, Any]],
    public_url: str,
    skipped: set[int],
) -> _Threads:
    """The window's posts of ``topics``; ``skipped``: topics /latest.json listed but that were
    skipped as malformed (already named, so not said to be missing from /latest.json)."""
    since, until = window
    threads = _Threads(until)
    unlisted = threads.unlisted
    for raw in client.posts_since(since):
        topic_id = field_of(raw, "topic_id")
        if isinstance(topic_id, int) and topic_id not in topics:
            # A post in a topic outside the window; or, a first post of the window, in a topic that
            # /latest.json does not list for the API user (unlisted, or in a category it muted).
            created = time_of(raw, "created_at")
            if (
                field_of(raw, "post_number") == 1
                and created is not None
                and created <= until
                and topic_id not in skipped
            ):
                unlisted.append(topic_id)
            continue
        threads.add(checker, raw, _post_name(raw, topics, public_url))
    return threads


def _read_unlisted_topics(
    client: DiscourseClient,
    checker: ItemChecker,
    threads: _Threads,
    topics: dict[int, dict[str, Any]],
    public_url: str,
) -> None:
    """The topics started in the window whose first post /posts.json has but /latest.json did not
    list, each read from /t/{id}.json: /latest.json pages by last activity, so a topic that got a
    reply while the pages were read moved to a page already read. A visible one joins ``topics``
    (its posts read from its own view); an unlisted one (``visible`` false) stays out, as the
    forum's own lists leave it out; one deleted meanwhile (404) is gone."""
    hidden: list[int] = []
    for topic_id in sorted(set(threads.unlisted)):
        name = f"{public_url.rstrip('/')}/t/{topic_id}"
        log.info(
            "Forum topic %s: started in the window but not in /latest.json; reading /t/%s.json",
            topic_id,
            topic_id,
        )
        try:
            page = client.topic(topic_id)
        except UpstreamError as exc:
            if topic_gone(exc):
                log.info(
                    "Forum topic %s: deleted since its first post (/t/%s.json answered 404)",
                    topic_id,
                    topic_id,
                )
                continue
            checker.report(name, f"not in /latest.json, and /t/{topic_id}.json failed: {exc}", str(topic_id))
            continue
        # A deleted topic's view (an admin's key still reads it) carries its ``deleted_at``: kept
        # in ``raw``, it is left out when deleted at T (``deleted_at_t``), kept for a backfill before.
        raw = page.topic_fields()
        if raw.get("visible") is False:
            hidden.append(topic_id)
            continue
        topic = checker.check(DiscourseTopic, raw, name, str(topic_id))
        if topic is None:
            continue
        kept = _kept(raw, TOPIC_FIELDS)
        # Only with all its posts: with some missing it could read as a topic nobody answered.
        if _add_topic_posts(client, checker, page, threads, topic_url(public_url, kept)):
            topics[topic.id] = kept
    if hidden:
        log.warning(
            "Forum: %d topics started in the window are unlisted and left out: %s",
            len(hidden),
            ", ".join(f"/t/{topic_id}" for topic_id in hidden[:20]),
        )


def topic_gone(exc: UpstreamError) -> bool:
    """Whether a topic's view said the topic does not exist: 404 with the forum's own error
    (``{"errors": [...], "error_type": "not_found"}``). A 404 from something in front of the forum
    (a proxy's or a firewall's page) says nothing of the topic: taken for a deletion, it left topics
    out of every digest with the run green; it is named unread, as a 403 or a 5xx is."""
    body = exc.error_body
    return exc.status == 404 and isinstance(body, dict) and isinstance(body.get("errors"), list)


def _fetch_first_post(
    client: DiscourseClient, checker: ItemChecker, topic: dict[str, Any], threads: _Threads, public_url: str
) -> dict[str, Any] | None:
    """A topic whose first post was not in /posts.json: read it from /t/{id}.json, or name it."""
    name = topic_url(public_url, topic)
    topic_id = int(topic["id"])
    log.info("Forum topic %s: first post not in /posts.json; reading /t/%s.json", topic_id, topic_id)
    try:
        page = client.topic(topic_id)
    except UpstreamError as exc:
        if topic_gone(exc):
            # Deleted since /latest.json listed it (spam, most often): gone, as an unlisted topic
            # deleted meanwhile is (``_read_unlisted_topics``); a 403 or a 5xx leaves it unread.
            log.info(
                "Forum topic %s: deleted since /latest.json listed it (/t/%s.json answered 404)",
                topic_id,
                topic_id,
            )
            return None
        checker.report(
            name, f"its first post is not in /posts.json and /t/{topic_id}.json failed: {exc}", str(topic_id)
        )
        return None
    if page.deleted_at and not topic.get("deleted_at"):
        # Deleted since /latest.json listed it (an admin's key still reads its view): whether it
        # existed at T is told by ``deleted_at_t``, as for one listed deleted.
        topic["deleted_at"] = page.deleted_at
    if not _add_topic_posts(client, checker, page, threads, name):
        return None
    first = threads.first_posts.get(topic_id)
    if first is None:
        checker.report(
            name, f"its first post is in neither /posts.json nor /t/{topic_id}.json", str(topic_id)
        )
    return first


def _unlisted_posts(page: TopicPage, name: str) -> str | None:
    """Why a topic view does not list all the topic's posts, or None when it does: its stream (the
    ids of all of them) is left out. A view without a stream lists them all only when it inlines as
    many posts as ``posts_count`` says, or (without a count) fewer than a view inlines at most: then
    they are all of them.

    A stream shorter than ``posts_count`` is read as it is, with a warning: on a real forum both
    leave out whispers and deleted posts alike, and they differ only where the counter is stale
    (Discourse repairs it later) or the API user ignores someone (whose posts the stream drops).
    Naming the topic would turn every run red until then, for a thread read whole."""
    inlined = len(page.post_stream.posts)
    count = page.posts_count
    stream = page.post_stream.stream
    if stream is None:
        if (count is not None and inlined >= count) or (count is None and inlined < TOPIC_POSTS_PER_CALL):
            return None
        said = "an unknown number of posts" if count is None else f"{count} posts"
        return (
            f"its view lists {inlined} of {said} and no post_stream.stream to read the rest by;"
            " its later replies could not be read"
        )
    if count is not None and len(stream) < count:
        log.warning(
            "forum: %s: its view's post_stream.stream lists %d posts, posts_count says %d; read as the"
            " stream lists them (a stale counter, or posts of someone the API user ignores)",
            name,
            len(stream),
            count,
        )
    return None


def _add_topic_posts(
    client: DiscourseClient, checker: ItemChecker, page: TopicPage, threads: _Threads, name: str
) -> bool:
    """The posts of a topic's view into ``threads``: those it inlines, then the rest of its stream
    not read yet; False (the topic named) when those could not be read."""
    inlined = page.post_stream.posts
    missing = _unlisted_posts(page, name)
    if missing:
        # Kept with the posts its view inlines alone, its later replies (a staff answer among them)
        # would be lost in a green run: the topic is named as unreadable instead.
        checker.report(name, missing, str(page.id))
        return False
    # A long topic's view inlines its first posts only; the stream lists the ids of all of them.
    shown = {field_of(raw, "id") for raw in inlined}
    stream = page.post_stream.stream or []
    rest = [i for i in stream if i not in shown and not threads.has_read(i)]
    try:
        later = list(client.topic_posts(int(page.id), rest)) if rest else []
    except UpstreamError as exc:
        checker.report(
            name, f"its posts after the first {len(inlined)} could not be read: {exc}", str(page.id)
        )
        return False
    for raw in (*inlined, *later):
        threads.add(checker, raw, f"{name}/{field_of(raw, 'post_number')}")
    return True


def fetch_forum_topics(
    client: DiscourseClient,
    since: datetime,
    until: datetime,
    public_url: str,
    problems: list[ItemProblem] | None = None,
) -> Iterator[Post]:
    """Topics created in (since, until], each with its replies (posts after the first).

    A topic or post that is not what the API promises is skipped and named in ``problems``.
    """
    checker = ItemChecker("forum", problems)
    topics, skipped = _topics_in_window(client, checker, (since, until), public_url)
    threads = _read_threads(client, checker, (since, until), topics, public_url, skipped)
    _read_unlisted_topics(client, checker, threads, topics, public_url)
    categories = read_categories(client, topics)
    log.info("Forum: %d topics created in the window, %d posts", len(topics), threads.count)
    for topic_id, topic in sorted(topics.items()):
        first = threads.first_posts.get(topic_id) or _fetch_first_post(
            client, checker, topic, threads, public_url
        )
        if first is None:
            continue
        try:
            deleted = deleted_at_t(topic, first, until)
            withdrawn = not deleted and withdrawn_at_t(first, until)
        except ValueError as exc:
            checker.report(topic_url(public_url, topic), str(exc), str(topic_id))
            continue
        if deleted:
            log.info("Forum topic %s: deleted at T; left out", topic_id)
            continue
        if withdrawn:
            log.info("Forum topic %s: withdrawn by its author at T; left out", topic_id)
            continue
        unreadable = threads.unreadable.get(topic_id)
        if unreadable is not None:
            checker.report(topic_url(public_url, topic), unreadable, str(topic_id))
            continue
        replies = threads.replies.get(topic_id, [])
        post = checker.build(
            topic_url(public_url, topic),
            build_topic_post,
            topic,
            first,
            replies,
            categories.paths,
            public_url,
            threads.solved_at.get(topic_id),
            categories.restricted,
            threads.closed_at.get(topic_id),
            threads.closure_at_t(topic_id),
            post_id=str(topic_id),
        )
        if post is not None:
            yield post


def fetch(request: FetchRequest) -> Fetched:
    client = DiscourseClient.from_connection(policy=HttpPolicy.from_settings(request.settings))
    problems: list[ItemProblem] = []
    posts = fetch_forum_topics(
        client, request.since, request.until, request.settings.forum.base_url, problems
    )
    return Fetched(posts=posts, problems=problems)
