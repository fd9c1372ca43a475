"""The typed records every source is normalised into, and their JSON-lines form.

Every channel (GitHub issue, forum topic, Stack Overflow question, ...) becomes a :class:`Post`
carrying its replies, so the rules never need to know where a post came from. A GitHub release
becomes a :class:`Release`, a Jira ticket a :class:`JiraTicket`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import IO, Any

from community_monitoring.timeutil import parse_time
from community_monitoring.versions import normalise_version


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
    # Where the post lives: "owner/repo", a GitLab project path, "forum", a Stack Exchange site.
    container: str = ""
    # The post's number where the upstream addresses it by one: GitHub issue number, GitLab iid,
    # forum topic id, Stack Overflow question id, UserVoice suggestion id.
    number: int | None = None
    state: str = "open"
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    labels: tuple[str, ...] = ()
    category: str = ""
    author_platform_staff: bool = False
    author_is_bot: bool = False
    is_pull_request: bool = False
    # When the question got its accepted answer (Stack Overflow), as early as the API can tell.
    accepted_at: datetime | None = None
    # UserVoice: the suggestion's status name and whether an admin responded.
    status: str = ""
    admin_responded: bool = False
    replies: tuple[Reply, ...] = ()

    def with_replies(self, replies: Iterable[Reply]) -> Post:
        return replace(self, replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))))


@dataclass(frozen=True)
class Release:
    """A published product release (GitHub), which starts the "after the release" window."""

    tag: str
    name: str
    published_at: datetime | None
    draft: bool = False
    prerelease: bool = False
    url: str = ""


def suggestion_id_from_url(url: str) -> int | None:
    """The suggestion id in a UserVoice portal URL (``.../suggestions/43871022-some-slug``)."""
    marker = "/suggestions/"
    if marker not in url:
        return None
    tail = url.split(marker, 1)[1]
    digits = ""
    for char in tail:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


@dataclass(frozen=True)
class JiraTicket:
    """A Jira ticket as the UserVoice review and the closeout need it."""

    key: str
    url: str
    summary: str
    status: str
    status_category: str
    resolution: str | None
    fix_versions: tuple[str, ...]
    labels: tuple[str, ...]
    linked_urls: tuple[str, ...]
    updated_at: str | None = None
    resolved_at: str | None = None

    @property
    def is_resolved(self) -> bool:
        return self.resolution is not None

    @property
    def suggestion_ids(self) -> tuple[int, ...]:
        ids = (suggestion_id_from_url(url) for url in self.linked_urls)
        return tuple(sorted({i for i in ids if i is not None}))


@dataclass(frozen=True)
class SheetRow:
    """One row as the pipeline knows it; empty strings mean "unknown here", never "clear it"."""

    suggestion_id: str
    fix_version: str
    title: str = ""
    url: str = ""
    nominator: str = ""
    edition: str = ""
    jira_key: str = ""
    jira_status: str = ""
    uservoice_status: str = ""
    release_date: str = ""
    thanked_at: str = ""
    status_update_id: str = ""
    # Not a change signal: if set, it is the stamp written when the row changes (default: now).
    updated_at: str = ""
    # The later release this row's fixVersion moved to; "" is "not slipped, or not known here".
    slipped_to: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.suggestion_id.strip(), normalise_version(self.fix_version))


_TIME_FIELDS = ("created_at", "closed_at", "updated_at", "accepted_at", "published_at")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def record_to_dict(record: Post | Release | JiraTicket) -> dict[str, Any]:
    return _encode(asdict(record))


def _times(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (parse_time(v) if k in _TIME_FIELDS and v else v) for k, v in data.items()}


def post_from_dict(data: dict[str, Any]) -> Post:
    replies = tuple(Reply(**_times(r)) for r in data.get("replies", ()))
    return Post(**{**_times(data), "labels": tuple(data.get("labels", ())), "replies": replies})


def release_from_dict(data: dict[str, Any]) -> Release:
    return Release(**_times(data))


def ticket_from_dict(data: dict[str, Any]) -> JiraTicket:
    return JiraTicket(
        **{
            **data,
            "fix_versions": tuple(data.get("fix_versions") or ()),
            "labels": tuple(data.get("labels") or ()),
            "linked_urls": tuple(data.get("linked_urls") or ()),
        }
    )


def write_records(records: Iterable[Post | Release | JiraTicket], stream: IO[str]) -> int:
    """Write records as JSON lines; returns how many were written."""
    count = 0
    for record in records:
        stream.write(json.dumps(record_to_dict(record), ensure_ascii=False, sort_keys=True))
        stream.write("\n")
        count += 1
    return count


def read_records(stream: IO[str], decode: Any = post_from_dict) -> Iterator[Any]:
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield decode(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {line_number}: not a record ({exc})") from exc
