"""Related items across channels (SPEC §4, "Related items").

Each new post is compared with what the run already read (Jira tickets, UserVoice suggestions,
GitHub and GitLab issues, forum topics) by the cosine similarity of TF-IDF vectors of their
titles and first paragraphs. The closest matches above the threshold are shown with the post,
fill the reply draft's ticket or feature-idea link, and decide the suggested actions ("already
available in X.Y", "coming in X.Y" for a feature built but not released yet, "tracked in KEY"). The same author posting the same thing on two channels is
one item ("also posted on ..."); a copy on another channel from an earlier day is found among the
matches and marked as the author's own (``Related.own_copy``): shown as "also posted on" too, beside
the best ``max_shown`` other related items, never in place of one.

Everything is judged as of T: a candidate created after T does not exist, a ticket resolved
after T was open, a fixVersion counts as released as ``sheet_plan.ReleasesAt`` decides (a server
version when its GitHub release was published by T, another product's when Jira released it by T).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from community_monitoring.answers import ANSWER_STATE_WORDS, has_accepted_answer_at, is_open_at, status_at
from community_monitoring.channels import label
from community_monitoring.records import DELETED_AUTHORS, JiraTicket, Post, PostAuthorship, Release
from community_monitoring.roster import StaffRoster
from community_monitoring.routing import first_prose_paragraph
from community_monitoring.settings import RelatedSection, Settings
from community_monitoring.sheet_plan import ReleasesAt
from community_monitoring.similarity import HashedRows, tfidf_rows
from community_monitoring.versions import normalise_version, version_numbers

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

RelatedKind = Literal["jira", "uservoice", "github", "gitlab", "forum"]
# The channels whose posts are candidates; Stack Overflow questions are not (SPEC §4).
CANDIDATE_CHANNELS: frozenset[str] = frozenset({"uservoice", "github", "gitlab", "forum"})
# Candidates scored per sparse product (see _hits).
_CANDIDATES_PER_SLICE = 20_000
# New posts compared per sparse product: bounds it at every text × this many.
_ROWS_PER_BLOCK = 256


@dataclass(frozen=True, slots=True)
class Related:
    """One item related to a new post, with its state as of T."""

    kind: RelatedKind
    key: str  # "MM-61501", "mattermost/mattermost#123", "topic 4521", "suggestion 43871022"
    url: str
    title: str
    score: float
    state: str  # for display: "Done · fixed in 11.1", "In Progress · fixVersion 11.3", "open"
    is_open: bool
    # The normalised version the work shipped in, when resolved in a version released by T (``ReleasesAt``).
    released_in: str | None = None
    # The normalised version the work waits for, when resolved as built by T but not released by T.
    coming_in: str | None = None
    # The issue, topic or suggestion matched (None for a Jira ticket).
    post: Post | None = field(default=None, compare=False, repr=False)
    # The new post's author posted the same thing on this other channel before it (on an earlier
    # day: copies of the same day are folded into one item): shown as "also posted on", not as a
    # related item, and never deciding an action or a draft's link (SPEC §4).
    own_copy: bool = False

    @property
    def summary(self) -> str:
        """The item line's text: ``MM-61501 · Done · fixed in 11.1``."""
        return f"{self.key} · {self.state}"


@dataclass(frozen=True)
class ActionOverride:
    """A suggested action the related items decide instead of the post type's default."""

    kind: Literal["already_available", "coming", "tracked"]
    ticket_key: str
    ticket_url: str
    version: str = ""

    @property
    def action(self) -> str:
        if self.kind == "already_available":
            return (
                f"Already available in {self.version} ({self.ticket_key}): "
                "reply with the release and its documentation"
            )
        if self.kind == "coming":
            return f"Coming in {self.version} ({self.ticket_key}): reply that the next release brings it"
        return f"Tracked in {self.ticket_key}: link the ticket in a reply"


def comparable_text(title: str, body: str) -> str:
    """The title and the first paragraph the author wrote, without code, quotes, links or headings."""
    return f"{title}\n{first_prose_paragraph(body or '')}".strip()


def _version_order(version: str) -> tuple[bool, tuple[int, ...]]:
    """The product's own server versions first (``11.2`` before ``Desktop v5.10``), each by number."""
    return version_numbers(version) is None, tuple(int(part) for part in re.findall(r"\d+", version))


def jira_state(ticket: JiraTicket, released: ReleasesAt) -> tuple[str, bool, str | None]:
    """(display state, open at T, version it shipped in) of a ticket as of T."""
    as_of = released.as_of
    fix_versions = "/".join(ticket.fix_versions)
    if not ticket.resolved_by(as_of):
        # Resolved after T: its status at T is not known, only that it was still open.
        status = "Open" if ticket.is_done else ticket.status
        return (f"{status} · fixVersion {fix_versions}" if fix_versions else status), True, None
    shipped = ticket.shipped
    states = {v: released.state(v, ticket.version(v)) for v in ticket.fix_versions}
    shipped_in = sorted((v for v, state in states.items() if state == "released"), key=_version_order)
    if shipped and shipped_in:
        version = normalise_version(shipped_in[0])
        return f"{ticket.status} · fixed in {version}", False, version
    if shipped and "waiting" in states.values():
        return f"{ticket.status} · fixVersion {fix_versions}, not released yet", False, None
    if shipped and fix_versions:
        return f"{ticket.status} · fixVersion {fix_versions}, archived without a release", False, None
    resolution = ticket.resolution or ""
    if resolution and resolution.casefold() != ticket.status.casefold():
        return f"{ticket.status} · {resolution}", False, None
    return ticket.status, False, None


def coming_in(ticket: JiraTicket, released: ReleasesAt) -> str | None:
    """The release a ticket built by T waits for: resolved as done or fixed by T, none of its
    fixVersions released by T (the earliest still to come, normalised); None otherwise."""
    if not ticket.resolved_by(released.as_of) or not ticket.shipped:
        return None
    states = {v: released.state(v, ticket.version(v)) for v in ticket.fix_versions}
    waiting = [v for v, state in states.items() if state == "waiting"]
    if "released" in states.values() or not waiting:
        return None
    return normalise_version(min(waiting, key=_version_order))


def post_key(post: Post) -> str:
    if post.channel in ("github", "gitlab"):
        return post.source_id
    noun = "suggestion" if post.channel == "uservoice" else "topic"
    return f"{noun} {post.number if post.number is not None else post.source_id}"


def post_state(post: Post, as_of: datetime) -> tuple[str, bool]:
    """(display state, open at T); UserVoice shows the status name it had at T, where it had one."""
    is_open = is_open_at(post, as_of)
    if post.channel == "uservoice" and (status := status_at(post, as_of)):
        return status, is_open
    return ("open" if is_open else "closed"), is_open


def copy_state(post: Post, as_of: datetime) -> str:
    """What "Also posted on" shows of the author's copy at T: its state (``post_state``) when it is
    not open, else "answered" when it has an accepted answer or marked solution by T, else ""."""
    state, is_open = post_state(post, as_of)
    if not is_open:
        return state
    return ANSWER_STATE_WORDS["answered"] if has_accepted_answer_at(post, as_of) else ""


Identity = tuple[str, str]  # ("jira", key) or (channel, source id)


def _ticket_related(ticket: JiraTicket, released: ReleasesAt) -> Related:
    state, is_open, shipped_in = jira_state(ticket, released)
    waits_for = None if shipped_in else coming_in(ticket, released)
    return Related("jira", ticket.key, ticket.url, ticket.summary, 0.0, state, is_open, shipped_in, waits_for)


def _post_related(post: Post, as_of: datetime) -> Related:
    state, is_open = post_state(post, as_of)
    kind: RelatedKind = post.channel  # type: ignore[assignment]  # checked by the caller
    return Related(kind, post_key(post), post.url, post.title, 0.0, state, is_open, post=post)


def _is_candidate(post: Post, as_of: datetime, roster: StaffRoster | None) -> bool:
    # A bot's items are never listed (SPEC §4 "Bots": the platform's flag, a "[bot]" name or the
    # roster's bots list): not as a related item either.
    is_bot = roster.is_bot(post.author, post.author_is_bot) if roster is not None else post.author_is_bot
    return (
        post.channel in CANDIDATE_CHANNELS
        and not post.is_pull_request
        and not is_bot
        and post.created_at <= as_of
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // _MICROSECOND


@dataclass
class _Authorship:
    """Who wrote each candidate and when (by column, in candidate order), held as numbers: enough to
    tell a new post's own earlier copies among its hits before any item is read again."""

    ids: dict[str, int] = field(default_factory=dict)  # case-folded author -> number
    authors: array[int] = field(default_factory=lambda: array("i"))  # -1: a ticket, a deleted account
    created: array[int] = field(default_factory=lambda: array("q"))  # microseconds since 1970

    def add(self, author: str | None, created_at: datetime | None) -> None:
        self.authors.append(self.author_id(author, add=True))
        self.created.append(_micros(created_at) if created_at is not None else 0)

    def author_id(self, author: str | None, add: bool = False) -> int:
        """The author's number (-1 for none: deleted accounts are many people, never one author)."""
        folded = (author or "").casefold()
        if not folded or folded in DELETED_AUTHORS:
            return -1
        if add:
            return self.ids.setdefault(folded, len(self.ids))
        return self.ids.get(folded, -1)


def _candidate_rows(
    posts: Iterable[Post], tickets: Iterable[JiraTicket], as_of: datetime, roster: StaffRoster | None
) -> tuple[dict[Identity, int], HashedRows, _Authorship]:
    """Every item a new post may relate to at T, each once (the first seen): who it is (→ its row),
    its text compared, as hashed terms, and who wrote it when. Only these are held for the whole
    window; the rest is read again for the matches."""
    row_of: dict[Identity, int] = {}
    rows = HashedRows()
    written = _Authorship()
    for ticket in tickets:
        if ("jira", ticket.key) not in row_of:
            row_of["jira", ticket.key] = rows.add(ticket.summary)
            written.add(None, None)
    for post in posts:
        identity = (post.channel, post.source_id)
        if identity not in row_of and _is_candidate(post, as_of, roster):
            row_of[identity] = rows.add(comparable_text(post.title, post.body))
            written.add(post.author, post.created_at)
    return row_of, rows, written


def _related_items(
    wanted: set[Identity],
    posts: Iterable[Post],
    tickets: Iterable[JiraTicket],
    releases: Iterable[Release],
    as_of: datetime,
    roster: StaffRoster | None,
) -> dict[Identity, Related]:
    """The matched items as they stood at T, each from its first reading (as ``_candidate_rows``)."""
    released = ReleasesAt.of(releases, as_of)
    found: dict[Identity, Related] = {}
    for ticket in tickets:
        identity = ("jira", ticket.key)
        if identity in wanted and identity not in found:
            found[identity] = _ticket_related(ticket, released)
    for post in posts:
        identity = (post.channel, post.source_id)
        if identity in wanted and identity not in found and _is_candidate(post, as_of, roster):
            found[identity] = _post_related(post, as_of)
    return found


def _with_new_posts(
    texts: HashedRows, column_of: Mapping[Identity, int], new_posts: Sequence[Post]
) -> list[int]:
    """Each new post's row: its candidate's (counted once in the IDF), else one added to ``texts``."""
    rows: dict[Identity, int] = {}
    new_rows = []
    for post in new_posts:
        identity = (post.channel, post.source_id)
        row = column_of.get(identity, rows.get(identity))
        if row is None:
            row = rows[identity] = texts.add(comparable_text(post.title, post.body))
        new_rows.append(row)
    return new_rows


def _best_matches(
    columns: Any, scores: Any, excluded: set[int], rules: RelatedSection
) -> list[tuple[int, float]]:
    """One row's candidate columns at or above the threshold, best first (ties: candidate order)."""
    import numpy as np

    # float32 products: a score equal to the threshold may land a hair below it.
    above = scores >= np.float32(rules.threshold) - np.float32(1e-6)
    columns, scores = columns[above], scores[above]
    if excluded:
        kept = ~np.isin(columns, np.fromiter(excluded, dtype=columns.dtype, count=len(excluded)))
        columns, scores = columns[kept], scores[kept]
    if len(scores) > rules.max_shown:
        # A row may hold thousands of hits; only those near the k-th best can be among the best k
        # once scores are rounded to 6 places (rounding moves a score by at most 5e-7), so the
        # exact ordering below runs on a handful.
        kth_best = np.partition(scores, len(scores) - rules.max_shown)[len(scores) - rules.max_shown]
        near = scores >= kth_best - np.float32(2e-6)
        columns, scores = columns[near], scores[near]
    return _best_first(columns, scores)[: rules.max_shown]


def _best_first(columns: Any, scores: Any) -> list[tuple[int, float]]:
    """(column, score) pairs, best first; ties (to 6 places) in candidate order."""
    hits = [(int(c), float(s)) for c, s in zip(columns, scores, strict=True)]
    hits.sort(key=lambda hit: (-round(hit[1], 6), hit[0]))
    return hits


def _earlier_copies(
    post: Post,
    columns: Any,
    scores: Any,
    excluded: set[int],
    written: _Authorship,
    channel_of: Callable[[int], str],
    taken: set[str],
    threshold: float,
) -> list[tuple[int, float]]:
    """The hits of ``post`` that are its author's own copies on other channels: by the same author
    (case-folded; never a deleted account), created before it and at least as similar as
    ``fold_duplicates`` asks of copies on the same day. The best one per channel, none on the post's
    own channel or a channel ``taken`` by a copy folded into it already (two posts on one channel
    are never one item); best first. Read among all the hits, before the related items are picked, so
    that copies take none of their ``max_shown`` places."""
    import numpy as np

    author = written.author_id(post.author)
    if author < 0 or not len(columns):
        return []
    authors = np.frombuffer(written.authors, dtype=np.int32)
    created = np.frombuffer(written.created, dtype=np.int64)
    mine = (
        (authors[columns] == author)
        & (created[columns] < _micros(post.created_at))
        & (scores >= np.float32(threshold) - np.float32(1e-6))
    )
    best_on: dict[str, tuple[int, float]] = {}
    for column, score in _best_first(columns[mine], scores[mine]):
        channel = channel_of(column)
        if column not in excluded and channel != post.channel and channel not in taken:
            best_on.setdefault(channel, (column, score))
    return list(best_on.values())


def find_related(
    new_posts: Sequence[Post],
    candidate_posts: Iterable[Post] | Callable[[], Iterable[Post]],
    tickets: Iterable[JiraTicket],
    releases: Iterable[Release],
    settings: Settings,
    as_of: datetime,
    also_posted: Mapping[str, Sequence[Post]] | None = None,
    roster: StaffRoster | None = None,
) -> dict[str, tuple[Related, ...]]:
    """Each new post's closest related items (URL → the best ``max_shown``, best first, then the
    author's earlier copies on other channels, ``own_copy``, best first); posts with none are left out.

    ``candidate_posts``: the posts of the window, or a function that reads them anew: they are read
    twice (the texts to compare, then the matched items' states), so that a window of a hundred
    thousand posts is never held whole. ``also_posted`` (from :func:`fold_duplicates`): the
    author's own copies of a kept post are shown as "also posted on", not again as related.
    ``roster``: the staff roster, whose bots' items are never related items (without one, only the
    platform's bot flag says who is a bot).
    """
    rules = settings.related
    if not rules.enabled or not new_posts:
        return {}
    read_posts = candidate_posts if callable(candidate_posts) else _rereadable(candidate_posts)
    tickets = [t for t in tickets if t.at(as_of) is not None]  # none created after T
    column_of, texts, written = _candidate_rows(read_posts(), tickets, as_of, roster)
    if not column_of:
        return {}
    # The candidates are the first rows, in order: candidate i is row i.
    identities = list(column_of)
    new_rows = _with_new_posts(texts, column_of, new_posts)
    matrix = texts.tfidf(compact=False)
    del texts
    # Each post's related items, and apart from them its author's earlier copies (column, score).
    best_of: dict[str, tuple[list[tuple[int, float]], list[tuple[int, float]]]] = {}
    for start in range(0, len(new_posts), _ROWS_PER_BLOCK):
        block = new_posts[start : start + _ROWS_PER_BLOCK]
        hits = _hits(matrix, new_rows[start : start + len(block)], len(identities), rules.threshold)
        for post, (rows, values) in zip(block, hits, strict=True):
            folded = (also_posted or {}).get(post.url, ())
            own = ((p.channel, p.source_id) for p in (post, *folded))
            excluded = {column_of[key] for key in own if key in column_of}
            copies = _earlier_copies(
                post,
                rows,
                values,
                excluded,
                written,
                lambda column: identities[column][0],
                {p.channel for p in folded},
                rules.duplicate_threshold,
            )
            best = _best_matches(rows, values, excluded | {column for column, _ in copies}, rules)
            if best or copies:
                best_of[post.url] = (best, copies)
    wanted = {identities[column] for pair in best_of.values() for hits in pair for column, _ in hits}
    items = _related_items(wanted, read_posts(), tickets, releases, as_of, roster)
    found: dict[str, tuple[Related, ...]] = {}
    for url, (best, copies) in best_of.items():
        found[url] = tuple(_scored(items[identities[column]], score) for column, score in best) + tuple(
            replace(_scored(items[identities[column]], score), own_copy=True) for column, score in copies
        )
    return found


def split_own_copies(related: Sequence[Related]) -> tuple[tuple[Related, ...], tuple[Post, ...]]:
    """A post's related items apart from its author's earlier copies, and those copies' posts."""
    others = tuple(item for item in related if not item.own_copy)
    copies = tuple(item.post for item in related if item.own_copy and item.post is not None)
    return others, copies


def _hits(
    matrix: csr_matrix, new_rows: Sequence[int], candidates: int, threshold: float
) -> list[tuple[Any, Any]]:
    """For each new post's row, the candidate rows (the first ``candidates`` of the matrix) scoring
    at least about ``threshold`` against it, and their scores (cosines, float32).

    The candidates are taken a slice at a time: the product of a whole window with a block of
    posts may hold millions of scores, of which only those near the threshold are kept.
    """
    import numpy as np

    vectors = matrix[new_rows].T.tocsr()  # a column per new post
    floor = np.float32(threshold) - np.float32(1e-6)  # what _best_matches keeps
    found: list[tuple[list[Any], list[Any]]] = [([], []) for _ in new_rows]
    for start in range(0, candidates, _CANDIDATES_PER_SLICE):
        stop = min(start + _CANDIDATES_PER_SLICE, candidates)
        scores = (matrix[start:stop] @ vectors).tocsc()
        for column, (rows, values) in enumerate(found):
            span = slice(scores.indptr[column], scores.indptr[column + 1])
            kept = scores.data[span] >= floor
            rows.append(scores.indices[span][kept] + start)
            values.append(scores.data[span][kept])
    return [(np.concatenate(rows), np.concatenate(values)) for rows, values in found]


def _rereadable(posts: Iterable[Post]) -> Callable[[], Iterable[Post]]:
    """A list or tuple is read as it is; a one-pass stream is kept to be read twice."""
    kept = posts if isinstance(posts, list | tuple) else list(posts)
    return lambda: kept


def _scored(item: Related, score: float) -> Related:
    # Not rounded: the score shown is the one compared with the threshold.
    return replace(item, score=min(score, 1.0))


def decide_action(post_type: str, related: Sequence[Related]) -> ActionOverride | None:
    """The suggested action the related items decide, if any (SPEC §4, "Related items").

    A feature proposal matching a ticket resolved in a released version is already available; one
    matching a ticket built but not released by T is coming in that release (asking its author to
    post the idea on the feature-idea forum would send them the wrong way); a bug matching an open
    ticket is already tracked. The best such match decides, a shipped ticket before a coming one.
    """
    tickets = [r for r in related if r.kind == "jira"]
    if post_type == "feature_proposal":
        shipped = next((r for r in tickets if r.released_in), None)
        if shipped is not None:
            return ActionOverride("already_available", shipped.key, shipped.url, shipped.released_in or "")
        coming = next((r for r in tickets if r.coming_in), None)
        if coming is not None:
            return ActionOverride("coming", coming.key, coming.url, coming.coming_in or "")
    if post_type == "bug":
        tracked = next((r for r in tickets if r.is_open), None)
        if tracked is not None:
            return ActionOverride("tracked", tracked.key, tracked.url)
    return None


def _fold_author(posts: Sequence[Post], similarity: Any, threshold: float) -> dict[int, list[int]]:
    """One author's posts, earliest first, folded: kept index → indices of its copies.

    A post joins the most similar earlier kept post whose group has no post on its channel yet,
    so two posts on one channel are never one item, not even through a third channel.
    """
    groups: dict[int, list[int]] = {}
    for index, post in enumerate(posts):
        taken = [
            (float(similarity[index, kept]), kept)
            for kept, copies in groups.items()
            if post.channel not in {posts[i].channel for i in (kept, *copies)}
            and similarity[index, kept] >= threshold - 1e-6
        ]
        if taken:
            groups[max(taken, key=lambda pair: (pair[0], -pair[1]))[1]].append(index)
        else:
            groups[index] = []
    return groups


def authors_on_two_channels(authorships: Iterable[Post | PostAuthorship]) -> set[str]:
    """The authors (case-folded) with posts on two channels or more: only their posts may fold."""
    channels_of: dict[str, set[str]] = {}
    for post in authorships:
        channels_of.setdefault(post.author.casefold(), set()).add(post.channel)
    # Deleted accounts ("ghost", "deleted-user") are many people, and so are posts with no author's
    # name (an anonymous UserVoice suggestion): their posts never fold together.
    return {
        author
        for author, channels in channels_of.items()
        if len(channels) > 1 and author.strip() and author not in DELETED_AUTHORS
    }


def _authors_on_two_channels(posts: Sequence[Post]) -> list[list[Post]]:
    """Each author's posts, earliest first, for the authors who posted on two channels or more."""
    folding = authors_on_two_channels(posts)
    by_author: dict[str, list[Post]] = {}
    for post in posts:
        if post.author.casefold() in folding:
            by_author.setdefault(post.author.casefold(), []).append(post)
    return [sorted(own, key=lambda p: (p.created_at, p.channel, p.source_id)) for own in by_author.values()]


def fold_duplicates(
    new_posts: Sequence[Post], settings: Settings
) -> tuple[tuple[Post, ...], dict[str, tuple[Post, ...]]]:
    """New posts with the author's cross-channel copies folded into the earliest one.

    Returns the kept posts (in the given order) and, for each kept post that has copies, its URL →
    the copies, earliest first (shown as "also posted on ..." and never listed on their own).
    """
    rules = settings.related
    authors = _authors_on_two_channels(new_posts) if rules.enabled else []
    if not authors:
        return tuple(new_posts), {}
    # One vectorizer over every post that may fold, so the IDF is the same for every author.
    matrix = tfidf_rows(comparable_text(p.title, p.body) for own in authors for p in own)
    dropped: set[tuple[str, str]] = set()
    also_posted: dict[str, tuple[Post, ...]] = {}
    start = 0
    for own in authors:
        rows = matrix[start : start + len(own)]
        start += len(own)
        similarity = (rows @ rows.T).toarray()
        for kept, copies in _fold_author(own, similarity, rules.duplicate_threshold).items():
            if copies:
                also_posted[own[kept].url] = tuple(own[i] for i in copies)
                dropped.update((own[i].channel, own[i].source_id) for i in copies)
    kept_posts = tuple(p for p in new_posts if (p.channel, p.source_id) not in dropped)
    return kept_posts, also_posted


def also_posted_text(copies: Sequence[Post]) -> str:
    """``also posted on Forum https://…, GitHub https://…`` ("" when there are none)."""
    if not copies:
        return ""
    return "also posted on " + ", ".join(f"{label(p.channel)} {p.url}" for p in copies)
