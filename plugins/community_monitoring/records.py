"""The typed records every source is normalised into, and their JSON-lines form.

Every channel (GitHub issue, forum topic, Stack Overflow question, ...) becomes a :class:`Post`
carrying its replies, so the rules never need to know where a post came from. A GitHub release
becomes a :class:`Release`, a Jira ticket a :class:`JiraTicket`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any, TypeVar

import msgspec

from community_monitoring.versions import release_key

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
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
    # The author's account id where names are not unique (Stack Exchange display names): "" when
    # the name is the account's own (GitHub, GitLab, forum usernames).
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class StatusMove:
    """A UserVoice status update: the status a suggestion took at a time (and the one it left, where
    the upstream says so; "" when it does not or the suggestion had none)."""

    at: datetime
    status: str
    previous: str = ""


@dataclass(frozen=True, slots=True)
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
    # Open now, but reopened at this time from the closure that began at ``closed_at`` (where the
    # upstream says when: a forum topic's "closed.disabled" small action); None when it was not.
    reopened_at: datetime | None = None
    updated_at: datetime | None = None
    labels: tuple[str, ...] = ()
    # The GitHub issue's type ("Bug", "Feature"; organisations define them), "" where none is set:
    # the post type rules and the triage history read it as one more label.
    issue_type: str = ""
    # The forum topic's category (a subcategory's path "Parent › Sub": ``category_names``), the
    # UserVoice suggestion's category.
    category: str = ""
    author_platform_staff: bool = False
    author_is_bot: bool = False
    is_pull_request: bool = False
    # False when not everyone may read it (a forum topic in a read-restricted category, unlisted
    # or hidden; a confidential GitLab issue): never listed in a public channel's digest.
    public: bool = True
    # The item this one was merged into as a duplicate (a UserVoice suggestion's parent suggestion):
    # its supporters now follow that one, and nothing more is said on this one.
    duplicate_of: str = ""
    # As ``Reply.author_id``.
    author_id: str = ""
    # When the question got its accepted answer (Stack Overflow), as early as the API can tell.
    accepted_at: datetime | None = None
    # UserVoice: the suggestion's status name and whether an admin responded.
    status: str = ""
    admin_responded: bool = False
    # UserVoice: the suggestion's status updates, oldest first, read only when it changed after T
    # (``status`` is its status now; ``answers.status_at`` the one it had at T).
    status_moves: tuple[StatusMove, ...] = ()
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


# The author a source gives a post whose account was deleted: GitHub's and GitLab's own "ghost",
# ours for the forum and Stack Exchange, which send no name. Such posts may be anyone's.
DELETED_USER = "deleted-user"
DELETED_AUTHORS = frozenset({DELETED_USER, "ghost"})


def same_author(one: str, other: str, one_id: str = "", other_id: str = "") -> bool:
    """Whether two posts are by the same person: the same account id where both carry one (two
    Stack Exchange or UserVoice users may share a display name), else the same name, unless the name
    is empty or only says the account was deleted (two nameless or deleted accounts are not one person)."""
    if one_id and other_id:
        return one_id == other_id
    folded = one.casefold()
    return bool(folded) and folded == other.casefold() and folded not in DELETED_AUTHORS


def responder_key(name: str) -> str:
    """Who a name stands for when telling a response from the author's own follow-up: the folded
    name; every deleted or nameless account one and the same (see ``may_be_the_author``)."""
    folded = name.casefold()
    return "" if folded in DELETED_AUTHORS else folded


def may_be_the_author(reply_author: str, post_author: str, reply_id: str = "", post_id: str = "") -> bool:
    """Whether a reply may be its post's author's own, for "has anyone else answered it" (SPEC §4
    "Response"). The same account id where both carry one, else the same name; unlike
    ``same_author``, a deleted account's reply on a deleted account's post counts as the author's
    (GitHub shows every deleted account as "ghost", the author's own follow-up included): the post
    stays listed rather than pass as answered by what may be its author."""
    if reply_id and post_id:
        return reply_id == post_id
    return responder_key(reply_author) == responder_key(post_author)


# Between the levels of a forum category's path ("Troubleshooting › Mobile"): a character forum
# category names do not use, unlike "/" ("Installation / Upgrade").
CATEGORY_SEPARATOR = " \u203a "


def category_names(category: str, nested: bool = True) -> tuple[str, ...]:
    """The names a post's category answers to, the most specific first.

    A forum topic in a subcategory carries its path ("Troubleshooting › Mobile › iOS"): it answers to
    the path, its own name, then each parent's path and name ("Troubleshooting › Mobile", "Mobile",
    "Troubleshooting"), so a rule naming a parent covers its subcategories and one naming the
    subcategory comes first. ``nested=False`` (any other channel's category): the name alone.
    """
    name = category.strip()
    if not name:
        return ()
    if not nested:
        return (name,)
    levels = [level.strip() for level in name.split(CATEGORY_SEPARATOR.strip()) if level.strip()]
    found: list[str] = []
    for depth in range(len(levels), 0, -1):
        found += [CATEGORY_SEPARATOR.join(levels[:depth]), levels[depth - 1]]
    return tuple(dict.fromkeys(found))


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


# Resolutions that mean the work shipped in its fixVersion ("Won't Fix" with a fixVersion did not).
SHIPPED_RESOLUTIONS: frozenset[str] = frozenset({"done", "fixed", "completed", "resolved", "implemented"})


@dataclass(frozen=True)
class JiraVersion:
    """A fixVersion as Jira describes it in the ticket's ``fields.fixVersions``: whether it is
    released and archived now (today's state, not T's), and the day it was released or is planned
    for (``releaseDate``, YYYY-MM-DD, None when Jira has none). Whether it counts as released at T is
    ``sheet_plan.ReleasesAt``'s decision."""

    name: str
    released: bool = False
    archived: bool = False
    release_date: str | None = None


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
    created_at: str | None = None
    # Jira's version object of each of ``fix_versions`` (by name), where the source read one.
    versions: tuple[JiraVersion, ...] = ()

    def version(self, name: str) -> JiraVersion | None:
        """Jira's version object of one of the ticket's fixVersions, as Jira names it; None if unread."""
        return next((v for v in self.versions if v.name == name), None)

    @property
    def is_resolved(self) -> bool:
        return self.resolution is not None

    @property
    def is_done(self) -> bool:
        """Resolved now (a workflow may move a ticket to the Done category without a resolution)."""
        return self.is_resolved or self.status_category.casefold() == "done"

    @property
    def shipped(self) -> bool:
        """Done as work that ships in its fixVersion: resolved as done or fixed, or in the Done
        category without a resolution (a workflow that never sets one); not as Won't Fix."""
        return self.is_done and (self.resolution or "done").casefold() in SHIPPED_RESOLUTIONS

    def resolved_by(self, as_of: datetime) -> bool:
        """Done at T: done now, and not resolved after T (a ticket without the time counts as done)."""
        if not self.is_done or not self.resolved_at:
            return self.is_done
        return datetime.fromisoformat(self.resolved_at) <= as_of

    def at(self, as_of: datetime) -> JiraTicket | None:
        """The ticket as it stood at T, as far as its timestamps tell: None when it was created after
        T; one resolved after T was still open (in which status is not known: "Open", To Do)."""
        if self.created_at and datetime.fromisoformat(self.created_at) > as_of:
            return None
        if not self.is_done or self.resolved_by(as_of):
            return self
        return replace(self, status="Open", status_category="To Do", resolution=None, resolved_at=None)

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
        return (self.suggestion_id.strip(), release_key(self.fix_version))


# --- the JSON-lines form ------------------------------------------------------------------------
#
# msgspec encodes and decodes the frozen dataclasses directly: no ``asdict`` deep copy, no dict per
# record on the way back. Keys stay sorted (as ``json.dumps(sort_keys=True)`` wrote them) and times
# are RFC 3339 ("...Z"); files written with "+00:00" offsets still decode to the same datetimes.

Record = Post | Release | JiraTicket
# How a line becomes a record: a record type (decoded directly), or a converter of the line's dict.
Decode = type | Callable[[dict[str, Any]], Any]

_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}
_ANY_JSON: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
# Flush written lines in blocks of about this many bytes.
_WRITE_BLOCK = 1 << 20


class PostAuthorship(msgspec.Struct):
    """A post line's channel and author alone (whose posts may be one item across channels)."""

    channel: str
    author: str


class _Created(msgspec.Struct):
    """A post line's creation time alone: msgspec skips every other field without building it."""

    created_at: datetime


_CREATED: msgspec.json.Decoder[_Created] = msgspec.json.Decoder(_Created)


def _decoder(record_type: type) -> msgspec.json.Decoder[Any]:
    if record_type not in _DECODERS:
        _DECODERS[record_type] = msgspec.json.Decoder(record_type)
    return _DECODERS[record_type]


def record_to_dict(record: Record) -> dict[str, Any]:
    """The record as JSON-ready builtins (times as RFC 3339 strings), keys sorted."""
    return msgspec.to_builtins(record, order="sorted")  # type: ignore[no-any-return]


def post_from_dict(data: dict[str, Any]) -> Post:
    return msgspec.convert(data, Post)


def release_from_dict(data: dict[str, Any]) -> Release:
    return msgspec.convert(data, Release)


def ticket_from_dict(data: dict[str, Any]) -> JiraTicket:
    # Older writers left an empty list as null.
    lists = {k: data.get(k) or () for k in ("fix_versions", "labels", "linked_urls", "versions")}
    return msgspec.convert({**data, **lists}, JiraTicket)


def write_record_lines(records: Iterable[Record], stream: IO[bytes]) -> int:
    """Write records as UTF-8 JSON lines to a binary stream; returns how many were written."""
    count = 0
    block = bytearray()
    for record in records:
        _ENCODER.encode_into(record, block, len(block))
        block += b"\n"
        count += 1
        if len(block) >= _WRITE_BLOCK:
            stream.write(block)
            block.clear()
    stream.write(block)
    return count


def write_records(records: Iterable[Record], stream: IO[str]) -> int:
    """Write records as JSON lines to a text stream; returns how many were written."""
    count = 0
    for record in records:
        stream.write(_ENCODER.encode(record).decode("utf-8"))
        stream.write("\n")
        count += 1
    return count


def read_records(
    stream: Iterable[str] | Iterable[bytes],
    decode: Decode = Post,
    created_after: datetime | None = None,
    created_until: datetime | None = None,
) -> Iterator[Any]:
    """The records of a JSON-lines stream (text or bytes); a bad line is a ValueError naming it.

    ``decode``: a record type, or a converter of each line's dict (``ticket_from_dict``...).
    ``created_after`` (posts only): lines created at or before it are skipped after reading their
    ``created_at`` alone, so a task that needs one day of posts never builds the other days';
    ``created_until``: so are lines created after it (an earlier day's [Triage], sent by a later run,
    never builds the days after it).
    """
    bounded = created_after is not None or created_until is not None
    typed = _decoder(decode) if isinstance(decode, type) else None
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            if bounded:
                created = _CREATED.decode(line).created_at
                if (created_after is not None and created <= created_after) or (
                    created_until is not None and created > created_until
                ):
                    continue
            yield typed.decode(line) if typed else decode(_ANY_JSON.decode(line))
        except (msgspec.MsgspecError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {line_number}: not a record ({exc})") from exc


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter): a stream taken a batch at a time."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
