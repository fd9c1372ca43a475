"""Synthetic scenarios of any size, for the benchmark (``make bench``) and scale tests, and a history.

``write_scale_scenario(root, posts_per_day=N)`` writes a SPEC §8 folder across all six channels:
N posts created in the day before ``now`` (GitHub issues and pull requests, forum topics, Stack
Overflow questions, GitLab issues, UserVoice suggestions, Jira tickets created or changed), half
as many again earlier in the daily digests' 30-day window, half as many between 30 and 180 days
old (the weekly review's window; Jira's spread over its 365-day lookback), and a few older still,
so every reader has a boundary to stop at. Replies (comments, notes, posts, answers) come after
their post, most within hours, some days or weeks later, so older items keep changing. The
content is deterministic for a seed; ``as_of`` writes the same items as they stood at an earlier
time (yesterday's state: later items and replies left out, ``updated`` times as they were then).
``scale_plan(N)`` says how many items each channel gets.

``write_history(root)`` adds the team's past decisions the triage model learns from (SPEC §12);
``python -m community_sandbox.synth SCENARIO`` (re)writes them into a scenario folder.
"""

from __future__ import annotations

import functools
import json
import random
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import yaml

from community_sandbox.history_stories import (
    BUG,
    CHATTER,
    FEATURE,
    FORUM_ANSWERS,
    FORUM_THANKS,
    GITLAB_BOT_NOTE,
    QUESTION,
    REDIRECTS,
    TROUBLESHOOTING,
    UV_COMMENTS,
    Story,
)

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


# --- scale scenarios across all six channels (SPEC §9) ------------------------------------------

DAY = 86_400
# Share of the day's posts per channel: the forum and GitHub carry most of a community's traffic.
CHANNEL_SHARES = {
    "github": 0.36,
    "forum": 0.32,
    "stackoverflow": 0.14,
    "uservoice": 0.08,
    "gitlab": 0.05,
    "jira": 0.05,
}
# Where the posts of one channel fall, as (count relative to the day's posts, newest age, oldest age)
# in days. The first band is "the day" (the daily run's interval).
AGE_BANDS = ((1.0, 0, 1), (0.5, 1, 30), (0.5, 30, 180), (0.05, 180, 400))
JIRA_BANDS = ((1.0, 0, 1), (1.0, 1, 365), (0.05, 365, 500))  # tickets *changed* in the day, and before
GITLAB_PATH, GITLAB_ID, GITLAB_LABEL = "gitlab-org/omnibus-gitlab", 20699, "Mattermost"
SO_TAG = "mattermost"
STAFF = {
    "github": ["amyblais", "jasonblais", "cpoile", "hanzei"],
    "gitlab": ["amyblais", "jasonblais"],
    "forum": ["amy.blais", "jason.blais", "eric.sethna"],
    "stackoverflow": ["amy-blais"],
    "uservoice": ["Amy Blais", "Jason Blais"],
    "jira": [],
    "bots": ["mattermost-build", "gitlab-bot", "forum-bot"],
}
SCALE_VARIABLES = {
    "community_staff": STAFF,
    "community_rotation": {"members": ["devon.rotation", "sam.oncall"], "days": 7, "start": "2026-11-02"},
    "community_contacts": {"cm_lead": "jason.blais", "pm": "amy.blais", "release_manager": "ruth.hernandez"},
}
FORUM_CATEGORY_NAMES = {
    5: "Troubleshooting",
    6: "Installation",
    7: "Feature Ideas",
    8: "Developers",
    9: "Bug Reports",
    10: "General",
}
UV_STATUSES = (
    (3312411, "Under Review", True),
    (3312412, "Planned", True),
    (3312413, "Started", True),
    (3312414, "Help Wanted", True),
    (3312415, "Completed", False),
    (3312416, "Declined", False),
)
UV_CATEGORIES = ((401233, "Server"), (401234, "Mobile"), (401235, "Integrations"), (401236, "Desktop"))

# What people write: a subject and a problem make a title; type-specific sentences make a body.
SUBJECTS = (
    "push notifications",
    "the desktop app",
    "LDAP sync",
    "SAML login with Okta",
    "the mobile app on Android",
    "the iOS app",
    "channel export",
    "the Jira plugin",
    "incoming webhooks",
    "Elasticsearch indexing",
    "the boards plugin",
    "file uploads to S3",
    "group messages",
    "custom emoji",
    "the calls plugin",
    "message search",
    "the Docker image",
    "the Helm chart",
    "guest accounts",
    "data retention",
)
TEXT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type -> (title templates, body sentences); {s} is the subject, {v} a version.
    "bug": (
        (
            "{s} crashes after upgrading to {v}",
            "[Bug] {s} shows the wrong date",
            "Regression: {s} broken in {v}",
        ),
        (
            "Steps to reproduce: open {s} and wait. It crashes every time since upgrading to {v}.",
            "This used to work in the previous release; now nothing happens.",
            "Reproducible on a fresh install of {v}.",
        ),
    ),
    "troubleshooting": (
        (
            "Can't get {s} working behind nginx",
            "{s} not working with our reverse proxy",
            "Help: {s} times out",
        ),
        (
            "We run {v} in Docker behind nginx and {s} fails with a 502 error.",
            "Our server uses a self-signed certificate; what am I missing?",
            "I followed the docs but {s} is stuck. Any idea where to look?",
        ),
    ),
    "feature_proposal": (
        ("Feature request: {s} per team", "It would be nice to configure {s}", "Allow admins to disable {s}"),
        (
            "It would be great to have an option to turn {s} off for some teams.",
            "Please add support for this; our users keep asking.",
            "Being able to schedule {s} would help a lot.",
        ),
    ),
    "question": (
        ("How do I set up {s}?", "Is there a way to export {s}?", "What is the recommended way to use {s}?"),
        (
            "Is it possible to configure {s} from the API?",
            "Where can I find the setting for {s} in {v}?",
            "Quick question about {s}: does it need an Enterprise license?",
        ),
    ),
}
POST_TYPES = tuple(TEXT)
VERSIONS = ("10.11.3", "10.12.1", "11.0.2", "11.0.4", "11.1.0")
REPLIES = (
    "Which version are you on, and what does the server log say?",
    "Same here, we see this too.",
    "Thanks, that fixed it!",
    "Can you share your config.json (without secrets)?",
    "I opened a ticket for this; a fix is planned.",
    "This is expected; see the documentation for the setting.",
)
# How many replies an item gets (cumulative odds of 0, 1, 2, 3) and how long after the post (or the
# reply before) each comes: (cumulative odds, shortest, longest delay in seconds).
REPLY_LIMITS = (0.35, 0.7, 0.9, 1.01)
REPLY_DELAYS = ((0.6, 600, 12 * 3600), (0.9, 12 * 3600, 5 * DAY), (1.01, 5 * DAY, 60 * DAY))


def scale_plan(posts_per_day: int) -> dict[str, list[tuple[int, int, int]]]:
    """Channel -> [(count, newest age in days, oldest age in days), ...] for a scenario size."""
    plan: dict[str, list[tuple[int, int, int]]] = {}
    for channel, share in CHANNEL_SHARES.items():
        daily = max(round(posts_per_day * share), 1)
        bands = JIRA_BANDS if channel == "jira" else AGE_BANDS
        plan[channel] = [(max(round(daily * factor), 1), low, high) for factor, low, high in bands]
    return plan


@dataclass
class _Item:
    """One post of the universe: when it was created, by whom, what it says, and its replies."""

    key: int  # ordinal in its channel, oldest first
    created: float  # unix seconds
    author: int
    post_type: str
    subject: str
    version: str
    replies: list[tuple[float, int, bool]] = field(default_factory=list)  # (time, author, staff)
    closed_after: float | None = None  # seconds after the last reply that the item was closed
    flags: int = 0  # per-channel random bits (labels, PRs, tags, links)


def _text(item: _Item, pick: int) -> tuple[str, str]:
    return _render_text(item.post_type, item.subject, item.version, pick % 6)


@functools.lru_cache(maxsize=4096)
def _render_text(post_type: str, subject: str, version: str, pick: int) -> tuple[str, str]:
    titles, sentences = TEXT[post_type]
    title = titles[pick % len(titles)].format(s=subject, v=version)
    body = " ".join(sentences[(pick + k) % len(sentences)].format(s=subject, v=version) for k in range(2))
    return title[:1].upper() + title[1:], body


def _universe(posts_per_day: int, now: datetime, seed: int) -> dict[str, list[_Item]]:
    """Every item of every channel as of ``now``, deterministic for the seed."""
    rng = random.Random(seed)
    end = now.timestamp()
    staff_share = 0.3
    universe: dict[str, list[_Item]] = {}
    for channel, bands in scale_plan(posts_per_day).items():
        times: list[float] = []
        for count, newest, oldest in bands:
            times += [end - rng.uniform(newest * DAY, oldest * DAY) for _ in range(count)]
        times.sort()
        pool = max(posts_per_day // 5, 200)
        items = []
        for key, created in enumerate(times):
            shape = rng.getrandbits(24)
            item = _Item(
                key=key,
                created=created,
                author=rng.randrange(pool),
                post_type=POST_TYPES[shape & 3],
                subject=SUBJECTS[(shape >> 2) % len(SUBJECTS)],
                version=VERSIONS[(shape >> 8) % len(VERSIONS)],
                flags=shape >> 12,
            )
            draw = rng.random()
            n = next(count for count, limit in enumerate(REPLY_LIMITS) if draw < limit)
            at = created
            for _ in range(n):
                draw = rng.random()
                low, high = next((low, high) for limit, low, high in REPLY_DELAYS if draw < limit)
                at += low + (high - low) * rng.random()
                if at >= end:
                    break
                item.replies.append((at, rng.randrange(pool), rng.random() < staff_share))
            if rng.random() < 0.2:
                item.closed_after = rng.uniform(3600, 10 * DAY)
            items.append(item)
        universe[channel] = items
    return universe


def _view(item: _Item, cutoff: float) -> tuple[list[tuple[float, int, bool]], float, float | None]:
    """The item's replies by ``cutoff``, its updated time then, and when it was closed (if by then)."""
    replies = [r for r in item.replies if r[0] <= cutoff]
    updated = replies[-1][0] if replies else item.created
    closed = None
    if item.closed_after is not None and updated + item.closed_after <= cutoff:
        closed = updated + item.closed_after
        updated = closed
    return replies, updated, closed


def _fmt(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _fmt_ms(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


def _fmt_jira(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}+0000"
    )


class _Files:
    """The scenario's JSON files, encoded fast (msgspec) as each channel finishes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counts: dict[str, int] = {}
        self._encoder = msgspec.json.Encoder()

    def write(self, name: str, data: Any) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self._encoder.encode(data))
        self.counts[name] = len(data)


def _github(files: _Files, items: list[_Item], cutoff: float) -> None:
    api = "https://api.github.com/repos"
    staff = STAFF["github"]
    # One in three items goes to the mobile repository, the rest to the server's; numbers by age.
    chunks = ([i for i in items if i.flags % 3], [i for i in items if not i.flags % 3])
    comment_id = 2_000_000_000
    for repo, chunk in zip(REPOS, chunks, strict=True):
        issues: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        for number, item in enumerate(chunk, start=1):
            if item.created > cutoff:
                break
            replies, updated, closed = _view(item, cutoff)
            title, body = _text(item, item.flags)
            url = f"{api}/{repo}/issues/{number}"
            issue: dict[str, Any] = {
                "id": 1_000_000_000 + item.key,
                "number": number,
                "title": title,
                "body": body,
                "user": {"login": f"gh-user{item.author}", "id": 10_000 + item.author, "type": "User"},
                "labels": [{"name": "Bug"}] if item.post_type == "bug" and item.flags % 4 == 0 else [],
                "state": "closed" if closed else "open",
                "locked": False,
                "assignee": None,
                "assignees": [],
                "comments": len(replies),
                "created_at": _fmt(item.created),
                "updated_at": _fmt(updated),
                "closed_at": _fmt(closed) if closed else None,
                "author_association": "NONE",
                "reactions": {"total_count": 0},
                "html_url": f"https://github.com/{repo}/issues/{number}",
                "url": url,
            }
            if item.flags % 7 == 0:
                issue["pull_request"] = {"url": f"{api}/{repo}/pulls/{number}"}
            issues.append(issue)
            for at, author, is_staff in replies:
                comment_id += 1
                login = staff[author % len(staff)] if is_staff else f"gh-user{author}"
                comments.append(
                    {
                        "id": comment_id,
                        "issue_url": url,
                        "user": {"login": login, "id": 10_000 + author, "type": "User"},
                        "author_association": "MEMBER" if is_staff else "NONE",
                        "body": REPLIES[(author + number) % len(REPLIES)],
                        "created_at": _fmt(at),
                        "updated_at": _fmt(at),
                        "reactions": {"total_count": 0},
                    }
                )
        comments.sort(key=lambda c: c["id"])
        files.write(f"github/{repo}/issues.json", issues)
        files.write(f"github/{repo}/comments.json", comments)
        releases = []
        if repo == REPOS[0]:
            for index, (tag, age) in enumerate((("v11.0.0", 40), ("v11.1.0", 10))):
                stamp = _fmt(cutoff - age * DAY)
                releases.append(
                    {
                        "id": 250_000_000 + index,
                        "tag_name": tag,
                        "name": tag,
                        "draft": False,
                        "prerelease": False,
                        "created_at": stamp,
                        "published_at": stamp,
                    }
                )
        files.write(f"github/{repo}/releases.json", releases)


def _gitlab(files: _Files, items: list[_Item], cutoff: float) -> None:
    staff = STAFF["gitlab"]
    issues: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    note_id = 1_500_000_000
    for item in items:
        if item.created > cutoff:
            break
        iid = item.key + 1
        replies, updated, closed = _view(item, cutoff)
        title, body = _text(item, item.flags)
        labels = [GITLAB_LABEL] if item.flags % 10 else []  # one in ten is not about Mattermost
        author = {
            "id": 20_000 + item.author,
            "username": f"gl-user{item.author}",
            "name": f"GL User {item.author}",
            "state": "active",
        }
        issues.append(
            {
                "id": 150_000_000 + iid,
                "iid": iid,
                "project_id": GITLAB_ID,
                "title": title,
                "description": body,
                "state": "closed" if closed else "opened",
                "created_at": _fmt_ms(item.created),
                "updated_at": _fmt_ms(updated),
                "closed_at": _fmt_ms(closed) if closed else None,
                "labels": labels + (["type::bug"] if item.post_type == "bug" and item.flags % 3 == 0 else []),
                "author": author,
                "assignees": [],
                "user_notes_count": len(replies),
                "web_url": f"https://gitlab.com/{GITLAB_PATH}/-/issues/{iid}",
            }
        )
        for at, who, is_staff in replies:
            note_id += 1
            name = staff[who % len(staff)] if is_staff else f"gl-user{who}"
            notes.append(
                {
                    "id": note_id,
                    "type": None,
                    "body": REPLIES[(who + iid) % len(REPLIES)],
                    "author": {"id": 20_000 + who, "username": name, "name": name, "state": "active"},
                    "created_at": _fmt_ms(at),
                    "updated_at": _fmt_ms(at),
                    "system": False,
                    "noteable_id": 150_000_000 + iid,
                    "noteable_type": "Issue",
                    "project_id": GITLAB_ID,
                    "noteable_iid": iid,
                }
            )
    files.write(f"gitlab/{GITLAB_PATH}/issues.json", issues)
    files.write(f"gitlab/{GITLAB_PATH}/notes.json", notes)


def _forum(files: _Files, items: list[_Item], cutoff: float) -> None:
    staff = STAFF["forum"]
    by_type = {"bug": (9,), "troubleshooting": (5, 6), "feature_proposal": (7,), "question": (8, 10)}
    topics: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    for item in items:
        if item.created > cutoff:
            break
        topic_id = 10_000 + item.key
        replies, updated, _ = _view(item, cutoff)
        title, body = _text(item, item.flags)
        slug = f"topic-{topic_id}"
        thread = [(item.created, item.author, False, body), *((at, who, s, "") for at, who, s in replies)]
        for number, (at, who, is_staff, text) in enumerate(thread, start=1):
            username = staff[who % len(staff)] if is_staff else f"member{who}"
            raw = text or REPLIES[(who + number) % len(REPLIES)]
            posts.append(
                {
                    "name": username,
                    "username": username,
                    "user_id": 30_000 + who,
                    "avatar_template": "",
                    "created_at": _fmt_ms(at),
                    "updated_at": _fmt_ms(at),
                    "cooked": f"<p>{raw}</p>",
                    "raw": raw,
                    "post_number": number,
                    "post_type": 1,
                    "reply_to_post_number": None,
                    "topic_id": topic_id,
                    "topic_slug": slug,
                    "staff": is_staff,
                    "admin": False,
                    "moderator": False,
                    "accepted_answer": False,
                }
            )
        last = _fmt_ms(updated)
        topics.append(
            {
                "id": topic_id,
                "title": title,
                "fancy_title": title,
                "slug": slug,
                "posts_count": len(thread),
                "reply_count": len(thread) - 1,
                "highest_post_number": len(thread),
                "created_at": _fmt_ms(item.created),
                "last_posted_at": last,
                "bumped": True,
                "bumped_at": last,
                "archetype": "regular",
                "pinned": False,
                "visible": True,
                "closed": False,
                "archived": False,
                "tags": [],
                "views": 10 + item.flags % 500,
                "like_count": 0,
                "last_poster_username": posts[-1]["username"],
                "category_id": by_type[item.post_type][item.flags % len(by_type[item.post_type])],
                "has_accepted_answer": False,
            }
        )
    # A pinned "about" topic, as every forum has: older than every window, listed first.
    about = 9_999
    stamp = _fmt_ms(cutoff - 900 * DAY)
    topics.append(
        {
            "id": about,
            "title": "About the Troubleshooting category",
            "slug": "about",
            "posts_count": 1,
            "highest_post_number": 1,
            "created_at": stamp,
            "last_posted_at": stamp,
            "bumped_at": stamp,
            "pinned": True,
            "closed": False,
            "archived": False,
            "category_id": 5,
        }
    )
    posts.append(
        {
            "username": "forum-bot",
            "created_at": stamp,
            "raw": "Read this first.",
            "post_number": 1,
            "post_type": 1,
            "topic_id": about,
            "staff": True,
        }
    )
    # Discourse hands out post ids in creation order, site-wide.
    posts.sort(key=lambda p: p["created_at"])
    for post_id, post in enumerate(posts, start=100_000):
        post["id"] = post_id
    files.write("discourse/topics.json", topics)
    files.write("discourse/posts.json", posts)
    files.write(
        "discourse/categories.json",
        [{"id": i, "name": n, "slug": n.lower().replace(" ", "-")} for i, n in FORUM_CATEGORY_NAMES.items()],
    )


def _stackoverflow(files: _Files, items: list[_Item], cutoff: float) -> None:
    staff = STAFF["stackoverflow"]
    tags = ("nginx", "docker", "ldap", "saml", "webhooks", "api", "kubernetes", "ssl")
    questions: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    comment_id = 130_000_000

    def owner(who: int, is_staff: bool) -> dict[str, Any]:
        name = staff[who % len(staff)] if is_staff else f"so-user{who}"
        return {
            "user_id": 5_000_000 + who,
            "display_name": name,
            "user_type": "registered",
            "reputation": 1 + who,
        }

    for item in items:
        if item.created > cutoff:
            break
        qid = 70_000_000 + item.key * 10
        replies, updated, _ = _view(item, cutoff)
        title, body = _text(item, item.flags)
        question_answers = []
        for index, (at, who, is_staff) in enumerate(replies):
            stamp = int(at)
            if index % 2 == 0:  # answers, and comments under them or the question
                answer = {
                    "owner": owner(who, is_staff),
                    "is_accepted": False,
                    "score": 0,
                    "last_activity_date": stamp,
                    "creation_date": stamp,
                    "answer_id": qid + 1 + index,
                    "question_id": qid,
                    "body": f"<p>{REPLIES[(who + index) % len(REPLIES)]}</p>",
                }
                question_answers.append(answer)
            else:
                comment_id += 1
                on_answer = bool(question_answers) and item.flags % 2 == 0
                comments.append(
                    {
                        "owner": owner(who, is_staff),
                        "score": 0,
                        "creation_date": stamp,
                        "post_id": question_answers[-1]["answer_id"] if on_answer else qid,
                        "post_type": "answer" if on_answer else "question",
                        "comment_id": comment_id,
                        "body": REPLIES[(who + index) % len(REPLIES)],
                    }
                )
        answers += question_answers
        questions.append(
            {
                "tags": [SO_TAG, tags[item.flags % len(tags)]],
                "owner": owner(item.author, False),
                "is_answered": bool(question_answers),
                "view_count": 5 + item.flags % 900,
                "answer_count": len(question_answers),
                "score": 0,
                "last_activity_date": int(updated),
                "creation_date": int(item.created),
                "question_id": qid,
                "link": f"https://stackoverflow.com/questions/{qid}/q-{qid}",
                "title": title.replace("'", "&#39;"),
                "body": f"<p>{body}</p>",
            }
        )
    files.write("stackexchange/questions.json", questions)
    files.write("stackexchange/answers.json", answers)
    files.write("stackexchange/comments.json", comments)


def _uservoice(files: _Files, items: list[_Item], cutoff: float) -> list[str]:
    """Writes the UserVoice files; returns the portal URLs of the suggestions (Jira links point at them)."""
    staff = STAFF["uservoice"]
    suggestions: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    users: dict[int, dict[str, Any]] = {}
    comment_id = 87_000_000

    def user(who: int, is_staff: bool) -> int:
        uid = 250_000_000 + (who if not is_staff else 900_000 + who % len(staff))
        if uid not in users:
            name = staff[who % len(staff)] if is_staff else f"UV User {who}"
            users[uid] = {
                "id": uid,
                "name": name,
                "email": f"uv{uid}@example.org",
                "created_at": "2023-03-01T00:00:00Z",
            }
        return uid

    urls = []
    for item in items:
        sid = 42_000_000 + item.key
        url = f"https://mattermost.uservoice.com/forums/306457-general/suggestions/{sid}-idea-{sid}"
        urls.append(url)
        if item.created > cutoff:
            continue
        replies, updated, closed = _view(item, cutoff)
        title, body = _text(item, item.flags)
        status = UV_STATUSES[item.flags % len(UV_STATUSES)]
        suggestions.append(
            {
                "id": sid,
                "title": title,
                "body": body,
                "body_mime_type": "text/plain",
                "portal_url": url,
                "created_at": _fmt(item.created),
                "updated_at": _fmt(updated),
                "closed_at": _fmt(closed) if closed and not status[2] else None,
                "state": "closed" if closed and not status[2] else "approved",
                "supporters_count": 1 + item.flags % 80,
                "comments_count": len(replies),
                "admin_response": None,
                "links": {
                    "forum": 306457,
                    "category": UV_CATEGORIES[item.flags % len(UV_CATEGORIES)][0],
                    "status": status[0] if item.flags % 3 else None,
                    "created_by": user(item.author, False),
                    "labels": [],
                },
            }
        )
        for at, who, is_staff in replies:
            comment_id += 1
            comments.append(
                {
                    "id": comment_id,
                    "body": REPLIES[(who + item.key) % len(REPLIES)],
                    "body_mime_type": "text/plain",
                    "created_at": _fmt(at),
                    "updated_at": _fmt(at),
                    "state": "approved",
                    "links": {"suggestion": sid, "created_by": user(who, is_staff)},
                }
            )
    files.write("uservoice/suggestions.json", suggestions)
    files.write("uservoice/comments.json", comments)
    files.write("uservoice/users.json", list(users.values()))
    files.write(
        "uservoice/statuses.json",
        [{"id": i, "name": n, "is_open": o, "position": p} for p, (i, n, o) in enumerate(UV_STATUSES)],
    )
    files.write(
        "uservoice/categories.json",
        [{"id": i, "name": n, "links": {"forum": 306457}} for i, n in UV_CATEGORIES],
    )
    return urls


# Days before the cutoff each fixVersion was released: 11.0 and 11.1 on their GitHub releases' days.
_VERSION_AGES = {"10.11": 120, "10.12": 80, "11.0": 40, "11.1": 10}


def _jira_version(fix: str, cutoff: float) -> dict[str, Any]:
    """A released version as a Jira issue's ``fixVersions`` holds it."""
    version_id = str(10_400 + list(_VERSION_AGES).index(fix))
    return {
        "self": f"https://mattermost.atlassian.net/rest/api/3/version/{version_id}",
        "id": version_id,
        "description": "",
        "name": f"v{fix}",
        "archived": False,
        "released": True,
        "releaseDate": _fmt(cutoff - _VERSION_AGES[fix] * DAY)[:10],
    }


def _jira(files: _Files, items: list[_Item], cutoff: float, suggestion_urls: list[str]) -> None:
    """Tickets: an item's "replies" are its changes (the ticket's ``updated`` moves with them)."""
    statuses = (("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done"))
    issues: list[dict[str, Any]] = []
    links: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.created > cutoff:
            break
        key = f"MM-{50_000 + item.key}"
        _, updated, closed = _view(item, cutoff)
        title, body = _text(item, item.flags)
        name, category = statuses[2] if closed else statuses[item.flags % 2]
        fix = VERSIONS[item.flags % len(VERSIONS)].rsplit(".", 1)[0]
        issues.append(
            {
                "id": str(300_000 + item.key),
                "key": key,
                "self": f"https://mattermost.atlassian.net/rest/api/3/issue/{300_000 + item.key}",
                "fields": {
                    "summary": title,
                    "description": body,
                    "issuetype": {
                        "id": "10001",
                        "name": "Story" if item.post_type == "feature_proposal" else "Bug",
                    },
                    "project": {"id": "10100", "key": "MM", "name": "Mattermost"},
                    "status": {
                        "name": name,
                        "id": str(10_000 + len(name)),
                        "statusCategory": {"key": category, "name": name},
                    },
                    "resolution": {"name": "Done"} if closed else None,
                    "fixVersions": [_jira_version(fix, cutoff)] if item.flags % 4 == 0 else [],
                    "labels": [],
                    "created": _fmt_jira(item.created),
                    "updated": _fmt_jira(updated),
                    "resolutiondate": _fmt_jira(closed) if closed else None,
                },
            }
        )
        if item.flags % 8 == 0 and suggestion_urls:  # one in eight tracks a UserVoice suggestion
            url = suggestion_urls[item.flags % len(suggestion_urls)]
            links[key] = [
                {
                    "id": 10_000 + item.key,
                    "application": {"type": "com.uservoice", "name": "UserVoice"},
                    "relationship": "mentioned in",
                    "object": {"url": url, "title": "UserVoice suggestion"},
                }
            ]
    files.write("jira/issues.json", issues)
    files.write("jira/remotelinks.json", links)


def write_scale_scenario(
    root: Path,
    posts_per_day: int,
    *,
    now: datetime = NOW,
    as_of: datetime | None = None,
    seed: int = 7,
) -> dict[str, int]:
    """Write the scenario for ``posts_per_day`` as it stands at ``as_of`` (default ``now``).

    Returns how many items each file holds (``github/<repo>/issues.json``: n, ...).
    """
    view = as_of or now
    cutoff = view.timestamp()
    universe = _universe(posts_per_day, now, seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "scenario.yaml").write_text(
        yaml.safe_dump({"now": _iso(view), "variables": SCALE_VARIABLES}, sort_keys=False), encoding="utf-8"
    )
    files = _Files(root)
    _github(files, universe["github"], cutoff)
    _gitlab(files, universe["gitlab"], cutoff)
    _forum(files, universe["forum"], cutoff)
    _stackoverflow(files, universe["stackoverflow"], cutoff)
    urls = _uservoice(files, universe["uservoice"], cutoff)
    _jira(files, universe["jira"], cutoff, urls)
    return files.counts


# --- a history of the team's decisions (SPEC §12), for the triage model ----------------------------
#
# ``write_history(root, now=...)`` adds to a scenario folder, in the SPEC §8 formats, the closed and
# answered posts the triage model learns from: GitHub and GitLab issues carrying the team's type
# labels or a staff reply that redirected them, forum topics in their categories, UserVoice
# suggestions and Stack Overflow questions. Everything is older than ``min_age_days`` (so the
# daily digests never see it), closed or answered (so the weekly review does not list it), and has
# no Jira link (so the UserVoice review and the closeout ignore it). Ids come from ranges of their
# own, so writing the history again replaces it. GitLab, Stack Overflow and UserVoice items are
# older than 180 days (outside the weekly review's reading window, too).

GITHUB_REPOS_OF_HISTORY = ("mattermost/mattermost", "mattermost/mattermost-mobile")
GITLAB_PROJECT, GITLAB_PROJECT_ID = "gitlab-org/omnibus-gitlab", 20699
# Accounts the hand-written demo already has: the same identity in the history.
GITLAB_KNOWN_USERS = {
    "gitlab-bot": (1786152, "\U0001f916 GitLab Bot \U0001f916"),
    "dstanley-gl": (3102233, "Dana Stanley"),
}
HISTORY_RANGES: dict[str, tuple[int, int]] = {
    "github_issue": (30_000, 34_400),
    "mobile_issue": (8_000, 9_180),
    "github_comment": (2_800_000_000, 2_900_000_000),
    "gitlab_issue": (7_000, 7_700),
    "gitlab_note": (1_800_000_000, 1_900_000_000),
    "topic": (15_400, 22_100),
    "forum_post": (40_000, 70_000),
    "question": (78_000_000, 79_000_000),
    "suggestion": (42_000_000, 43_000_000),
    "uv_user": (250_000_000, 251_000_000),
    "uv_comment": (87_000_000, 88_000_000),
}
FILLS: dict[str, tuple[str, ...]] = {
    "ver": ("10.5.4", "10.8.1", "10.9.2", "10.10.0", "10.11.3", "10.12.1", "11.0.2", "11.0.4"),
    "old": ("5.37.10", "6.3.10", "7.1.4", "7.8.2", "8.1.9", "9.0.3"),
    "app": ("2.24.1", "2.27.0", "2.29.3", "2.31.0", "2.32.1", "2.33.0"),
    "desk": ("5.9.2", "5.10.0", "5.10.1", "5.11.0"),
    "os": ("Ubuntu 22.04", "Ubuntu 24.04", "Debian 12", "RHEL 9", "Rocky Linux 9", "AlmaLinux 9"),
    "mos": ("iOS 18.1", "iOS 17.6", "Android 14", "Android 15 (Pixel 8)", "Android 13 (Galaxy S21)"),
    "browser": ("Chrome 131", "Firefox 133", "Edge 131", "Safari 18"),
}
FIRST = (
    "anna",
    "ben",
    "carla",
    "dmitri",
    "elif",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "kaito",
    "lucia",
    "mateo",
    "nadia",
    "olaf",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tanja",
    "umar",
    "vera",
    "wim",
    "xenia",
    "yusuf",
    "zoe",
    "arjun",
    "bianca",
    "chen",
    "dario",
)
LAST = (
    "keller",
    "moreau",
    "novak",
    "silva",
    "tan",
    "berg",
    "rossi",
    "kowalski",
    "haddad",
    "lindgren",
    "okafor",
    "meyer",
    "duarte",
    "sato",
    "weber",
    "ivanova",
    "costa",
    "jansen",
    "nguyen",
    "fischer",
)
GITHUB_STAFF = ("amyblais", "jasonblais", "cpoile", "hanzei")
TEAM_LABELS = {
    "github": {
        "bug": ("Bug", "Type/Bug"),
        "troubleshooting": ("Triage/Support", "Support"),
        "feature_proposal": ("Type/Enhancement", "Feature Request"),
        "question": ("Type/Question", "Question"),
    },
    "gitlab": {
        "bug": ("type::bug",),
        "troubleshooting": ("Support Request",),
        "feature_proposal": ("type::feature",),
        "question": ("Question",),
    },
}
NOISE_LABELS = (
    "Area/Notifications",
    "Area/Search",
    "Area/Integrations",
    "Area/Mobile",
    "Needs Investigation",
)
FORUM_CATEGORIES = {"bug": (9,), "troubleshooting": (5, 5, 6), "feature_proposal": (7,), "question": (8, 4)}
SO_TAGS = {  # a word in the story → the Stack Overflow tag a troubleshooting question gets
    "nginx": "nginx",
    "apache": "apache",
    "docker": "docker",
    "compose": "docker-compose",
    "helm": "kubernetes",
    "k3s": "kubernetes",
    "operator": "kubernetes",
    "certificate": "ssl",
    "x509": "ssl",
    "let's encrypt": "ssl",
    "smtp": "smtp",
    "email": "smtp",
    "ldap": "ldap",
    "selinux": "selinux",
    "systemd": "systemd",
}
SO_QUESTION_TAGS = ("rest", "go", "webhooks", "javascript", "python", "mattermost-plugin", "api")
HISTORY_PLAN: dict[str, dict[str, int]] = {
    "github": {"bug": 52, "troubleshooting": 36, "feature_proposal": 34, "question": 20, "undecided": 10},
    "mobile": {"bug": 24, "troubleshooting": 10, "feature_proposal": 10, "question": 5, "undecided": 4},
    "gitlab": {"bug": 8, "troubleshooting": 12, "feature_proposal": 5, "question": 3},
    "forum": {"bug": 20, "troubleshooting": 58, "feature_proposal": 24, "question": 30},
    "stackoverflow": {"troubleshooting": 16, "question": 44},
    "uservoice": {"feature_proposal": 50},
}
WHERE = {
    "github": ("server", "desktop", "any"),
    "mobile": ("mobile",),
    "gitlab": ("omnibus", "server"),
    "forum": ("server", "mobile", "desktop", "omnibus", "any"),
    "stackoverflow": ("server", "any"),
    "uservoice": ("server", "mobile", "desktop", "any"),
}
_REQUEST_VERBS = {
    "mute",
    "archive",
    "export",
    "edit",
    "show",
    "pin",
    "move",
    "let",
    "allow",
    "start",
    "remind",
}


def _iso_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _slug(title: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return "-".join(words)[:80] or "topic"


def is_history_id(kind: str, value: Any) -> bool:
    """Whether an id (issue number, topic id, suggestion id ...) is one ``write_history`` hands out."""
    low, high = HISTORY_RANGES[kind]
    return isinstance(value, int) and low <= value < high


class _Ids:
    """Ids handed out in increasing order inside each kind's range (so newer items get higher ids)."""

    def __init__(self) -> None:
        self._next = {kind: low for kind, (low, _) in HISTORY_RANGES.items()}

    def take(self, kind: str, step: int = 1) -> int:
        value = self._next[kind]
        self._next[kind] = value + step
        if value >= HISTORY_RANGES[kind][1]:
            raise ValueError(f"history id range {kind} is exhausted")
        return value


@dataclass
class _Story:
    post_type: str
    where: str
    title: str
    body: str


class _HistoryWriter:
    """Renders the stories into each service's own objects, deterministically for a seed."""

    def __init__(self, now: datetime, seed: int, min_age_days: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.min_age_days = min_age_days
        self.ids = _Ids()
        self.out: dict[str, list[dict[str, Any]]] = {}
        self._pools: dict[tuple[str, str], list[Story]] = {}

    # -- material --------------------------------------------------------------------------

    def fill(self, text: str) -> str:
        values = {key: self.rng.choice(options) for key, options in FILLS.items()}
        values.update(n=str(self.rng.randint(2, 9)), ticket=str(self.rng.randint(58000, 62999)))
        return text.format(**values)

    def story(self, post_type: str, channel: str) -> _Story:
        """The next story of a type for a channel; each pool is shuffled once and cycled."""
        key = (post_type, channel)
        if not self._pools.get(key):
            bank = {
                "bug": BUG,
                "troubleshooting": TROUBLESHOOTING,
                "feature_proposal": FEATURE,
                "question": QUESTION,
            }
            pool = [s for s in bank[post_type] if s[0] in WHERE[channel]] or list(bank[post_type])
            self.rng.shuffle(pool)
            self._pools[key] = pool
        where, title, body = self._pools[key].pop()
        return _Story(post_type, where, self.fill(title), self.fill(body))

    def when(self, oldest_days: int, newest_days: int | None = None) -> datetime:
        newest = max(newest_days or self.min_age_days + 10, self.min_age_days + 1)
        seconds = self.rng.randint(newest * 86400, oldest_days * 86400)
        return (self.now - timedelta(seconds=seconds)).replace(microsecond=self.rng.randint(0, 999) * 1000)

    def later(self, start: datetime, low_hours: float, high_hours: float) -> datetime:
        """A moment after ``start``, never younger than the minimum age."""
        moment = start + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return min(moment, self.now - timedelta(days=self.min_age_days, hours=self.rng.uniform(1, 48)))

    def person(self, style: str) -> str:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        if style == "display":
            return f"{first.title()} {last.title()}"
        patterns = {
            "github": (
                f"{first}-{last}",
                f"{first}{last[:1]}{self.rng.randint(1, 99)}",
                f"{last}{first[:2]}",
            ),
            "forum": (f"{first}.{last}", f"{first}_{last[:1]}", f"{first}{self.rng.randint(70, 99)}"),
        }
        return self.rng.choice(patterns.get(style, patterns["github"]))

    # -- how people write on each channel -----------------------------------------------------

    def title(self, story: _Story, channel: str) -> str:
        title, roll = story.title, self.rng.random()
        if story.post_type == "feature_proposal" and channel in ("github", "mobile", "forum") and roll < 0.25:
            first = title.split()[0].lower()
            lowered = title[:1].lower() + title[1:]
            return f"Is it possible to {lowered}?" if first in _REQUEST_VERBS else f"Could we get: {lowered}?"
        if story.post_type == "feature_proposal" and channel in ("github", "mobile") and roll < 0.4:
            return self.rng.choice(("Feature request: ", "[Feature] ", "Suggestion: ")) + title
        if story.post_type == "question" and channel in ("github", "mobile") and roll < 0.3:
            return "Question: " + title
        if channel == "stackoverflow" and roll < 0.5:
            return "Mattermost: " + title[:1].lower() + title[1:]
        if roll > 0.9:
            return title.lower()
        return title

    def _form(self, fields: list[tuple[str, str]]) -> str:
        checks = (
            "### Before you file a bug report\n\n- [x] I searched the existing issues\n"
            "- [x] I'm on a supported server version\n\n"
        )
        parts = [f"### {heading}\n\n{value.strip() or '_No response_'}" for heading, value in fields]
        return checks + "\n\n".join(parts)

    def github_text(self, story: _Story, mobile: bool) -> tuple[str, str]:
        """Title and body; the bug form pre-fills its ``[Bug]: `` title prefix, mostly kept."""
        body = self.github_body(story, mobile)
        title = self.title(story, "mobile" if mobile else "github")
        if body.startswith("### Before you file") and self.rng.random() < 0.7:
            title = "[Bug]: " + title
        return title, body

    def github_body(self, story: _Story, mobile: bool) -> str:
        """Free text, or the bug form filled in, or the form left empty with prose at the end."""
        env = f"Mobile app {self.fill('{app}')}, {self.fill('{mos}')}" if mobile else self.fill("{ver}")
        system = self.fill("{mos}") if mobile else self.fill("{os}")
        odds = {"bug": (0.4, 0.6), "troubleshooting": (0.45, 0.6), "feature_proposal": (0.15, 0.4)}
        filled, unfilled = odds.get(story.post_type, (0.1, 0.35))
        roll = self.rng.random()
        version = "Mattermost Mobile Version" if mobile else "Mattermost Server Version"
        if roll < filled:
            observed = "See above." if self.rng.random() < 0.5 else ""
            return self._form(
                [
                    (version, env),
                    ("Operating System", system),
                    ("Steps to reproduce", story.body),
                    ("Expected behavior", ""),
                    ("Observed behavior", observed),
                    ("Log Output", "```shell\n\n```"),
                    ("Additional Information", ""),
                ]
            )
        if roll < unfilled:
            return self._form(
                [
                    (version, env),
                    ("Operating System", system),
                    ("Steps to reproduce", ""),
                    ("Expected behavior", ""),
                    ("Observed behavior", ""),
                    ("Log Output", "```shell\n\n```"),
                    ("Additional Information", story.body),
                ]
            )
        tail = self.rng.choice(("", "", f"\n\n{env}, {system}.", f"\n\nVersion: {env}"))
        return story.body + tail

    def forum_body(self, story: _Story) -> str:
        greeting = self.rng.choice(("", "", "Hi all,\n\n", "Hello,\n\n", "Hey everyone,\n\n", "Hi!\n\n"))
        closing = self.rng.choice(
            ("", "", "\n\nThanks in advance!", "\n\nAny help appreciated.", "\n\nCheers")
        )
        env = ""
        if story.post_type in ("bug", "troubleshooting") and self.rng.random() < 0.5:
            install = self.rng.choice(("Docker", "tarball", "Ubuntu package", "Helm chart", "GitLab Omnibus"))
            env = self.fill(
                f"\n\n**Environment**\n- Mattermost {{ver}}\n- {{os}}\n- Installed with: {install}"
            )
        return greeting + story.body + env + closing

    def html(self, text: str) -> str:
        """Markdown-ish text as Stack Exchange's HTML body: paragraphs and code blocks."""
        import html as escape

        blocks = []
        for index, chunk in enumerate(text.split("```")):
            if index % 2:
                blocks.append(f"<pre><code>{escape.escape(chunk.strip())}\n</code></pre>")
            else:
                blocks += [f"<p>{escape.escape(p.strip())}</p>" for p in chunk.split("\n\n") if p.strip()]
        return "\n".join(blocks)

    def short(self, body: str) -> str:
        """The first two sentences: what a UserVoice suggestion says."""
        sentences = body.replace("\n", " ").split(". ")
        return ". ".join(sentences[:2]).strip().rstrip(".") + "."

    # -- GitHub ---------------------------------------------------------------------------------

    def _github_user(self, login: str) -> dict[str, Any]:
        uid = zlib.crc32(login.encode()) % 90_000_000 + 10_000_000
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_kgDO{uid:08d}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def _github_comment(
        self, repo: str, number: int, login: str, assoc: str, at: datetime, body: str
    ) -> None:
        cid = self.ids.take("github_comment", self.rng.randint(3, 400))
        api = f"https://api.github.com/repos/{repo}"
        self.out.setdefault(f"github/{repo}/comments.json", []).append(
            {
                "url": f"{api}/issues/comments/{cid}",
                "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
                "issue_url": f"{api}/issues/{number}",
                "id": cid,
                "node_id": f"IC_kwDO{cid}",
                "user": self._github_user(login),
                "created_at": _iso(at),
                "updated_at": _iso(at),
                "author_association": assoc,
                "body": self.fill(body),
                "reactions": {"url": f"{api}/issues/comments/{cid}/reactions", "total_count": 0},
                "performed_via_github_app": None,
            }
        )

    def _decision_kind(self, post_type: str) -> str:
        odds = {"bug": (0.6, 0.85), "troubleshooting": (0.25, 0.85), "feature_proposal": (0.5, 0.85)}
        label_below, redirect_below = odds.get(post_type, (0.45, 1.0))
        roll = self.rng.random()
        return "label" if roll < label_below else "redirect" if roll < redirect_below else "both"

    def github_issue(self, repo: str, post_type: str, mobile: bool, created: datetime) -> None:
        decided = post_type != "undecided"
        story = self.story(
            post_type if decided else self.rng.choice(("bug", "question")), "mobile" if mobile else "github"
        )
        number = self.ids.take("mobile_issue" if mobile else "github_issue", self.rng.randint(2, 25))
        author = self.person("github")
        kind = self._decision_kind(post_type) if decided else "none"
        labels = [self.rng.choice(TEAM_LABELS["github"][post_type])] if kind in ("label", "both") else []
        if story.post_type in ("bug", "troubleshooting") and self.rng.random() < 0.3:
            labels.insert(0, "Bug Report/Open")  # the bug form's own label: no decision of the team
        if self.rng.random() < 0.3:
            labels.append(self.rng.choice(NOISE_LABELS))
        last = created
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            last = self.later(last, 2, 72)
            self._github_comment(repo, number, self.person("github"), "NONE", last, self.rng.choice(CHATTER))
        if kind in ("redirect", "both") or (kind == "label" and self.rng.random() < 0.3):
            last = self.later(last, 3, 120)
            text = self.rng.choice(REDIRECTS[post_type]) if kind != "label" else "Thanks for the report!"
            self._github_comment(repo, number, self.rng.choice(GITHUB_STAFF), "MEMBER", last, text)
        closed = self.later(last, 1, 96)
        self.out.setdefault(f"github/{repo}/issues.json", []).append(
            self._github_issue_object(repo, number, story, mobile, author, labels, created, closed)
        )

    def _github_issue_object(
        self,
        repo: str,
        number: int,
        story: _Story,
        mobile: bool,
        author: str,
        labels: list[str],
        created: datetime,
        closed: datetime,
    ) -> dict[str, Any]:
        api = f"https://api.github.com/repos/{repo}"
        title, body = self.github_text(story, mobile)
        comments = sum(
            1
            for c in self.out.get(f"github/{repo}/comments.json", [])
            if c["issue_url"].endswith(f"/{number}")
        )
        return {
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "id": 2_000_000_000 + number * 7 + (1 if mobile else 0),
            "node_id": f"I_kwDOhist{number}",
            "number": number,
            "title": title,
            "user": self._github_user(author),
            "labels": [
                {"id": zlib.crc32(name.encode()), "name": name, "color": "ededed", "default": False}
                for name in labels
            ],
            "state": "closed",
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": comments,
            "created_at": _iso(created),
            "updated_at": _iso(closed),
            "closed_at": _iso(closed),
            "author_association": self.rng.choice(("NONE", "NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR")),
            "type": None,
            "active_lock_reason": None,
            "body": body,
            "reactions": {"url": f"{api}/issues/{number}/reactions", "total_count": 0},
            "timeline_url": f"{api}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if story.post_type == "bug" else "not_planned",
        }

    # -- GitLab ---------------------------------------------------------------------------------

    def _gitlab_user(self, username: str) -> dict[str, Any]:
        uid = zlib.crc32(username.encode()) % 9_000_000 + 1_000_000
        uid, name = GITLAB_KNOWN_USERS.get(username, (uid, username.replace("-", " ").title()))
        return {
            "id": uid,
            "username": username,
            "public_email": None,
            "name": name,
            "state": "active",
            "locked": False,
            "avatar_url": f"https://secure.gravatar.com/avatar/{uid:032x}?s=80&d=identicon",
            "web_url": f"https://gitlab.com/{username}",
        }

    def _gitlab_note(self, iid: int, author: str, at: datetime, body: str, system: bool = False) -> None:
        self.out.setdefault(f"gitlab/{GITLAB_PROJECT}/notes.json", []).append(
            {
                "id": self.ids.take("gitlab_note", self.rng.randint(5, 900)),
                "type": None,
                "body": self.fill(body),
                "author": self._gitlab_user(author),
                "created_at": _iso_ms(at),
                "updated_at": _iso_ms(at),
                "system": system,
                "noteable_id": 150_000_000 + iid,
                "noteable_type": "Issue",
                "project_id": GITLAB_PROJECT_ID,
                "resolvable": False,
                "confidential": False,
                "internal": False,
                "imported": False,
                "imported_from": "none",
                "noteable_iid": iid,
                "commands_changes": {},
            }
        )

    def gitlab_issue(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "gitlab")
        iid = self.ids.take("gitlab_issue", self.rng.randint(3, 20))
        kind = self._decision_kind(post_type)
        labels = ["Mattermost"] + ([TEAM_LABELS["gitlab"][post_type][0]] if kind in ("label", "both") else [])
        self._gitlab_note(iid, "gitlab-bot", self.later(created, 0.1, 1), GITLAB_BOT_NOTE)
        last = self.later(created, 2, 48)
        if kind == "label":  # a system note, by whoever applied the label
            applied_by = ("jasonblais", "amyblais")[iid % 2]
            self._gitlab_note(iid, applied_by, last, f'added ~"{labels[-1]}" label', system=True)
        else:
            staff = self.rng.choice(("jasonblais", "amyblais"))
            self._gitlab_note(iid, staff, last, self.rng.choice(REDIRECTS[post_type]))
        closed = self.later(last, 2, 72)
        description = story.body
        if post_type in ("bug", "troubleshooting") and self.rng.random() < 0.5:
            description = f"### Summary\n\n{story.body}\n\n### Steps to reproduce\n\n\n### Relevant logs and/or screenshots\n\n"
        author = self.person("github")
        self.out.setdefault(f"gitlab/{GITLAB_PROJECT}/issues.json", []).append(
            {
                "id": 150_000_000 + iid,
                "iid": iid,
                "project_id": GITLAB_PROJECT_ID,
                "title": self.title(story, "gitlab"),
                "description": description,
                "state": "closed",
                "created_at": _iso_ms(created),
                "updated_at": _iso_ms(closed),
                "closed_at": _iso_ms(closed),
                "closed_by": self._gitlab_user("dstanley-gl"),
                "labels": labels,
                "milestone": None,
                "assignees": [],
                "author": self._gitlab_user(author),
                "type": "ISSUE",
                "assignee": None,
                "user_notes_count": 2,
                "upvotes": self.rng.randint(0, 6),
                "downvotes": 0,
                "confidential": False,
                "issue_type": "issue",
                "web_url": f"https://gitlab.com/{GITLAB_PROJECT}/-/issues/{iid}",
                "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{GITLAB_PROJECT}#{iid}"},
            }
        )

    # -- the forum ------------------------------------------------------------------------------

    def _forum_post(
        self, topic: dict[str, Any], number: int, username: str, at: datetime, raw: str, staff: bool = False
    ) -> dict[str, Any]:
        return {
            "id": 0,  # numbered once every post is known, in time order
            "name": username.replace(".", " ").replace("_", " ").title(),
            "username": username,
            "avatar_template": f"/user_avatar/forum.mattermost.com/{username}/{{size}}/1_2.png",
            "created_at": _iso_ms(at),
            "cooked": self.html(raw),
            "post_number": number,
            "post_type": 1,
            "updated_at": _iso_ms(at),
            "reply_count": 0,
            "reply_to_post_number": None,
            "reads": self.rng.randint(5, 400),
            "topic_id": topic["id"],
            "topic_slug": topic["slug"],
            "display_username": username,
            "raw": raw,
            "moderator": False,
            "admin": staff,
            "staff": staff,
            "user_id": zlib.crc32(username.encode()) % 90_000 + 10_000,
            "hidden": False,
            "trust_level": 3 if staff else self.rng.randint(0, 2),
            "deleted_at": None,
            "accepted_answer": False,
        }

    def forum_topic(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "forum")
        topic_id = self.ids.take("topic", self.rng.randint(3, 30))
        title = self.title(story, "forum")
        topic: dict[str, Any] = {"id": topic_id, "slug": _slug(title)}
        author = self.person("forum")
        posts = [self._forum_post(topic, 1, author, created, self.forum_body(story))]
        last = created
        if self.rng.random() < 0.8:
            last = self.later(last, 1, 60)
            staff = self.rng.random() < 0.5
            who = self.rng.choice(("amy.blais", "jason.blais")) if staff else self.person("forum")
            posts.append(
                self._forum_post(
                    topic, 2, who, last, self.fill(self.rng.choice(FORUM_ANSWERS[post_type])), staff
                )
            )
            if self.rng.random() < 0.5:
                last = self.later(last, 1, 30)
                posts.append(self._forum_post(topic, 3, author, last, self.rng.choice(FORUM_THANKS)))
        topic.update(
            title=title,
            fancy_title=title,
            posts_count=len(posts),
            reply_count=len(posts) - 1,
            highest_post_number=len(posts),
            created_at=_iso_ms(created),
            last_posted_at=_iso_ms(last),
            bumped=True,
            bumped_at=_iso_ms(last),
            archetype="regular",
            pinned=False,
            visible=True,
            closed=True,
            archived=False,
            tags=[],
            views=self.rng.randint(20, 900),
            like_count=self.rng.randint(0, 5),
            last_poster_username=posts[-1]["username"],
            category_id=self.rng.choice(FORUM_CATEGORIES[post_type]),
            has_accepted_answer=False,
            can_have_answer=True,
        )
        self.out.setdefault("discourse/topics.json", []).append(topic)
        self.out.setdefault("discourse/posts.json", []).extend(posts)

    def number_forum_posts(self) -> None:
        """Discourse post ids grow with time, below every post of the hand-written scenario."""
        posts = sorted(self.out.get("discourse/posts.json", []), key=lambda p: p["created_at"])
        for post in posts:
            post["id"] = self.ids.take("forum_post", self.rng.randint(2, 40))
        self.out["discourse/posts.json"] = posts

    # -- Stack Overflow -------------------------------------------------------------------------

    def _so_owner(self, name: str) -> dict[str, Any]:
        uid = zlib.crc32(name.encode()) % 20_000_000 + 5_000_000
        return {
            "account_id": uid + 1_000_000,
            "reputation": self.rng.randint(1, 3000),
            "user_id": uid,
            "user_type": "registered",
            "display_name": name,
            "link": f"https://stackoverflow.com/users/{uid}/{name}",
        }

    def so_question(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "stackoverflow")
        qid = self.ids.take("question", self.rng.randint(400, 4000))
        text = (story.title + " " + story.body).lower()
        if post_type == "troubleshooting":
            tag = next((tag for word, tag in SO_TAGS.items() if word in text), "installation")
        else:
            tag = self.rng.choice(SO_QUESTION_TAGS)
        answered = self.later(created, 2, 96)
        answer_id = qid + 1
        answerer = "amy-blais" if self.rng.random() < 0.3 else self.person("github")
        title = self.title(story, "stackoverflow")
        self.out.setdefault("stackexchange/answers.json", []).append(
            {
                "owner": self._so_owner(answerer),
                "is_accepted": True,
                "score": self.rng.randint(0, 12),
                "last_activity_date": int(answered.timestamp()),
                "creation_date": int(answered.timestamp()),
                "answer_id": answer_id,
                "question_id": qid,
                "content_license": "CC BY-SA 4.0",
                "body": self.html(self.fill(self.rng.choice(FORUM_ANSWERS[post_type]))),
            }
        )
        self.out.setdefault("stackexchange/questions.json", []).append(
            {
                "tags": ["mattermost", tag],
                "owner": self._so_owner(self.person("forum").replace(".", "-")),
                "is_answered": True,
                "view_count": self.rng.randint(30, 3000),
                "answer_count": 1,
                "accepted_answer_id": answer_id,
                "score": self.rng.randint(0, 15),
                "last_activity_date": int(answered.timestamp()),
                "creation_date": int(created.timestamp()),
                "question_id": qid,
                "content_license": "CC BY-SA 4.0",
                "link": f"https://stackoverflow.com/questions/{qid}/{_slug(title)}",
                "title": title.replace('"', "&quot;").replace("'", "&#39;"),
                "body": self.html(story.body),
            }
        )

    # -- UserVoice ------------------------------------------------------------------------------

    def uv_user(self) -> int:
        name = self.person("display")
        users = self.out.setdefault("uservoice/users.json", [])
        known = {u["name"]: u["id"] for u in users}
        if name in known:
            return int(known[name])
        uid = self.ids.take("uv_user", self.rng.randint(10, 900))
        email = name.lower().replace(" ", ".") + "@example.org"
        users.append({"id": uid, "name": name, "email": email, "created_at": "2023-03-01T00:00:00Z"})
        return uid

    def suggestion(self, created: datetime, statuses: dict[str, int], categories: list[int]) -> None:
        story = self.story("feature_proposal", "uservoice")
        sid = self.ids.take("suggestion", self.rng.randint(500, 9000))
        commented = self.rng.random() < 0.3
        updated = self.later(created, 24, 24 * 60)
        status = self.rng.choice(("Under Review", "Under Review", "Declined", None))
        response = None
        if self.rng.random() < 0.3:
            response = {
                "id": sid + 7,
                "body": "Thanks for the idea! We'll keep it in mind when planning the next releases.",
                "body_mime_type": "text/plain",
                "created_at": _iso(updated),
                "updated_at": _iso(updated),
                "links": {"created_by": 100200301},
            }
        slug = _slug(story.title)[:60]
        self.out.setdefault("uservoice/suggestions.json", []).append(
            {
                "id": sid,
                "title": story.title,
                "body": self.short(story.body),
                "body_mime_type": "text/plain",
                "portal_url": f"https://mattermost.uservoice.com/forums/306457-general/suggestions/{sid}-{slug}",
                "admin_url": f"https://mattermost.uservoice.com/admin/v3/suggestions/{sid}",
                "created_at": _iso(created),
                "updated_at": _iso(updated),
                "approved_at": _iso(created),
                "closed_at": _iso(updated) if status == "Declined" else None,
                "state": "approved",
                "supporters_count": self.rng.randint(1, 80),
                "comments_count": 1 if commented else 0,
                "inappropriate_flags_count": 0,
                "admin_response": response,
                "links": {
                    "forum": 306457,
                    "category": self.rng.choice(categories),
                    "status": statuses.get(status or ""),
                    "created_by": self.uv_user(),
                    "parent_suggestion": None,
                    "labels": [],
                },
            }
        )
        if commented:
            at = self.later(created, 12, 24 * 30)
            self.out.setdefault("uservoice/comments.json", []).append(
                {
                    "id": self.ids.take("uv_comment", self.rng.randint(5, 500)),
                    "body": self.rng.choice(UV_COMMENTS),
                    "body_mime_type": "text/plain",
                    "created_at": _iso(at),
                    "updated_at": _iso(at),
                    "state": "approved",
                    "links": {"suggestion": sid, "created_by": self.uv_user()},
                }
            )


def _strip_history(data: dict[str, list[dict[str, Any]]]) -> None:
    """Drop the items an earlier ``write_history`` added (recognised by their id ranges)."""
    keys = {
        "issues.json": ("number", ("github_issue", "mobile_issue")),
        "comments.json": ("id", ("github_comment", "uv_comment")),
        "notes.json": ("id", ("gitlab_note",)),
        "topics.json": ("id", ("topic",)),
        "posts.json": ("id", ("forum_post",)),
        "questions.json": ("question_id", ("question",)),
        "answers.json": ("answer_id", ("question",)),
        "suggestions.json": ("id", ("suggestion",)),
        "users.json": ("id", ("uv_user",)),
    }
    for name, items in data.items():
        field_name, kinds = keys.get(name.rsplit("/", 1)[-1], ("", ()))
        if name.startswith("gitlab/") and name.endswith("issues.json"):
            field_name, kinds = "iid", ("gitlab_issue",)
        if field_name:
            items[:] = [i for i in items if not any(is_history_id(k, i.get(field_name)) for k in kinds)]


def _spread(rng: random.Random, now: datetime, count: int, oldest: int, newest: int) -> list[datetime]:
    """``count`` creation times between ``oldest`` and ``newest`` days before ``now``, in order."""
    seconds = sorted(rng.randint(newest * 86400, oldest * 86400) for _ in range(count))
    return [now - timedelta(seconds=s) for s in reversed(seconds)]


def _plan(rng: random.Random, channel: str) -> list[str]:
    kinds = [t for t, n in HISTORY_PLAN[channel].items() for _ in range(n)]
    rng.shuffle(kinds)
    return kinds


def _generate(writer: _HistoryWriter, scenario: dict[str, list[dict[str, Any]]]) -> None:
    rng, now = writer.rng, writer.now
    for repo, mobile in ((GITHUB_REPOS_OF_HISTORY[0], False), (GITHUB_REPOS_OF_HISTORY[1], True)):
        kinds = _plan(rng, "mobile" if mobile else "github")
        for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 45), strict=True):
            writer.github_issue(repo, kind, mobile, created)
    kinds = _plan(rng, "gitlab")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 240), strict=True):
        writer.gitlab_issue(kind, created)
    kinds = _plan(rng, "forum")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 45), strict=True):
        writer.forum_topic(kind, created)
    writer.number_forum_posts()
    kinds = _plan(rng, "stackoverflow")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 195), strict=True):
        writer.so_question(kind, created)
    statuses = {s["name"]: s["id"] for s in scenario.get("uservoice/statuses.json", [])}
    categories = [c["id"] for c in scenario.get("uservoice/categories.json", [])] or [1]
    for created in _spread(rng, now, HISTORY_PLAN["uservoice"]["feature_proposal"], 355, 195):
        writer.suggestion(created, statuses, categories)


def write_history(
    root: Path, *, now: datetime | None = None, seed: int = 12, min_age_days: int = 31
) -> dict[str, int]:
    """Add (or replace) the history in a scenario folder; returns how many items each file gained.

    ``now`` defaults to the scenario's own ``now``. Existing items are kept as they are.
    """
    if now is None:
        raw = yaml.safe_load((root / "scenario.yaml").read_text(encoding="utf-8")) or {}
        now = datetime.fromisoformat(str(raw["now"]).replace("Z", "+00:00"))
    names = [
        *(f"github/{repo}/{f}" for repo in GITHUB_REPOS_OF_HISTORY for f in ("issues.json", "comments.json")),
        f"gitlab/{GITLAB_PROJECT}/issues.json",
        f"gitlab/{GITLAB_PROJECT}/notes.json",
        "discourse/topics.json",
        "discourse/posts.json",
        "stackexchange/questions.json",
        "stackexchange/answers.json",
        "uservoice/suggestions.json",
        "uservoice/users.json",
        "uservoice/comments.json",
        "uservoice/statuses.json",
        "uservoice/categories.json",
    ]
    scenario = {
        n: json.loads((root / n).read_text(encoding="utf-8")) if (root / n).exists() else [] for n in names
    }
    _strip_history(scenario)
    writer = _HistoryWriter(now, seed, min_age_days)
    _generate(writer, scenario)
    added = {}
    for name, items in writer.out.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = scenario.get(name, []) + items
        path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        added[name] = len(items)
    return added


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Write the triage model's history into a scenario folder.")
    parser.add_argument("scenario", type=Path, help="the scenario folder (its scenario.yaml gives now)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    for name, count in write_history(args.scenario, seed=args.seed).items():
        print(f"{name}: {count} history items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
