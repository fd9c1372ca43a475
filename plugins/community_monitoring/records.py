"""The one record type every source is normalised into, and its JSON-lines form.

Every channel (GitHub issue, forum topic, Stack Overflow question, ...) becomes a :class:`Post`
carrying its replies, so the rules never need to know where a post came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import IO, Any

from community_monitoring.timeutil import parse_time


@dataclass(frozen=True)
class Reply:
    """A reply to a post: a comment, a non-system note, a forum post after the first, an answer."""

    reply_id: str
    author: str
    created_at: datetime
    body: str = ""
    # What the platform itself says about the author (GitHub OWNER/MEMBER, Discourse staff flags).
    author_platform_staff: bool = False
    author_is_bot: bool = False
    kind: str = "comment"


@dataclass(frozen=True)
class Post:
    """A community post in one normalised envelope, whatever channel it came from."""

    channel: str
    source_id: str
    url: str
    title: str
    author: str
    created_at: datetime
    body: str = ""
    container: str = ""
    state: str = "open"
    closed_at: datetime | None = None
    labels: tuple[str, ...] = ()
    category: str = ""
    author_platform_staff: bool = False
    author_is_bot: bool = False
    is_pull_request: bool = False
    replies: tuple[Reply, ...] = ()
    # Channel-specific facts the rules may need (e.g. accepted answer time, pinned topic).
    extra: dict[str, Any] = field(default_factory=dict)

    def with_replies(self, replies: Iterable[Reply]) -> Post:
        return replace(self, replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def post_to_dict(post: Post) -> dict[str, Any]:
    return _encode(asdict(post))


def post_from_dict(data: dict[str, Any]) -> Post:
    replies = tuple(
        Reply(**{**r, "created_at": parse_time(r["created_at"])}) for r in data.get("replies", ())
    )
    closed_at = data.get("closed_at")
    return Post(
        **{
            **data,
            "created_at": parse_time(data["created_at"]),
            "closed_at": parse_time(closed_at) if closed_at else None,
            "labels": tuple(data.get("labels", ())),
            "replies": replies,
            "extra": dict(data.get("extra") or {}),
        }
    )


def write_posts(posts: Iterable[Post], stream: IO[str]) -> int:
    """Write posts as JSON lines; returns how many were written."""
    count = 0
    for post in posts:
        stream.write(json.dumps(post_to_dict(post), ensure_ascii=False, sort_keys=True))
        stream.write("\n")
        count += 1
    return count


def read_posts(stream: IO[str]) -> Iterator[Post]:
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield post_from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {line_number}: not a post record ({exc})") from exc
