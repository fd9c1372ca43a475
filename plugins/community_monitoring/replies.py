"""Posting reply drafts upstream, where the team switched it on per channel (off by default).

Only new posts that nobody has answered by T get one, and each post gets at most one, ever: the
ledger key is the post itself, whatever run sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from community_monitoring.config import ConfigError, MonitoringConfig
from community_monitoring.records import Post

log = logging.getLogger(__name__)

REPLY_CHANNELS = ("github", "gitlab")


def channels_posting_replies(config: MonitoringConfig) -> frozenset[str]:
    section = (config.raw.get("replies") or {}).get("post_upstream") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("config key 'replies.post_upstream' must map channel keys to true/false")
    unknown = sorted(set(section) - set(REPLY_CHANNELS))
    if unknown:
        raise ConfigError(
            f"config key 'replies.post_upstream' names channels replies cannot be posted to: {unknown}; "
            f"use {list(REPLY_CHANNELS)}"
        )
    for channel, value in section.items():
        if not isinstance(value, bool):
            raise ConfigError(f"config key 'replies.post_upstream.{channel}' must be true or false")
    return frozenset(channel for channel, on in section.items() if on)


def reply_key(post: Post) -> str:
    return f"reply:{post.channel}:{post.source_id}"


def github_reply_sender(conn_id: str = "github_default") -> Callable[[Post, str], None]:
    from community_monitoring.sources.github import github_client

    gh = github_client(conn_id)

    def send(post: Post, body: str) -> None:
        # One POST, no GET of the issue first (the client is lazy).
        gh.get_repo(post.container).get_issue(int(post.extra["number"])).create_comment(body)

    return send


def gitlab_reply_sender(conn_id: str = "gitlab_default") -> Callable[[Post, str], None]:
    from community_monitoring.sources.gitlab import gitlab_client

    gl = gitlab_client(conn_id)

    def send(post: Post, body: str) -> None:
        project = gl.projects.get(post.container, lazy=True)
        project.issues.get(int(post.extra["iid"]), lazy=True).notes.create({"body": body})

    return send


SENDERS: dict[str, Callable[[], Callable[[Post, str], None]]] = {
    "github": github_reply_sender,
    "gitlab": gitlab_reply_sender,
}


def post_replies(
    posts: Iterable[tuple[Post, str]],
    channels: frozenset[str],
    ledger: Any,
    senders: Mapping[str, Callable[[], Callable[[Post, str], None]]] = SENDERS,
) -> dict[str, int]:
    """Send each (post, draft) of an enabled channel once; returns how many went out per channel."""
    ready: dict[str, Callable[[Post, str], None]] = {}
    sent: dict[str, int] = {}
    for post, draft in posts:
        if post.channel not in channels:
            continue
        if post.channel not in ready:
            ready[post.channel] = senders[post.channel]()
        send = ready[post.channel]
        result = ledger.deliver_once(
            reply_key(post),
            "upstream_reply",
            post.channel,
            [draft],
            lambda text, post=post, send=send: send(post, text),
        )
        sent[post.channel] = sent.get(post.channel, 0) + result.parts_sent_now
        log.info("Reply to %s: %s", post.url, result.status)
    return sent
