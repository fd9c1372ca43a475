"""Which reply drafts go upstream, where the team switched it on per channel (off by default).

Only new posts that nobody has answered by T get one; the outbox makes sure each post gets at
most one, ever (its ledger key is the post itself, whatever run sends it). The draft is the one
[Triage] shows for the post: the same decider gives its type (the learned model where one is in
use) and the same related items fill its ticket or feature-idea link and may change what it says
("tracked in KEY", "already available in X.Y").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from community_monitoring.classify import PostClassifier, classify_posts
from community_monitoring.drafts import DraftWriter
from community_monitoring.keys import reply_key, reply_marker
from community_monitoring.records import Post
from community_monitoring.related import Related, fold_duplicates
from community_monitoring.roster import StaffRoster
from community_monitoring.rules import RulesAsOf, find_new_posts
from community_monitoring.settings import Settings


@dataclass(frozen=True)
class PlannedReply:
    channel: str
    source_id: str
    url: str
    container: str
    number: int
    # The ledger key, and the text that goes upstream: the draft ending with the key's marker.
    key: str
    draft: str


# Each post's related items (URL -> best first), looked up for the posts given, leaving out the
# posts' own copies (URL -> the author's copies on other channels): ``related.find_related``.
RelatedFinder = Callable[[Sequence[Post], Mapping[str, Sequence[Post]]], Mapping[str, Sequence[Related]]]


def plan_replies(
    posts: Iterable[Post],
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    classifier: Any = None,
    find_related: RelatedFinder | None = None,
) -> list[PlannedReply]:
    """A reply draft for each new, unanswered post of a channel with ``replies.post_upstream`` on.

    ``classifier``: what decides [Triage]'s types (the rules when None); ``find_related``: looks up
    the related items of the posts that get a reply, once, only when there are any.
    """
    channels = settings.replies.channels
    if not channels:
        return []
    new_posts = find_new_posts(posts, roster, settings, as_of)
    has_response = RulesAsOf(roster, settings, as_of).has_response
    chosen = [post for post in new_posts if post.channel in channels and not has_response(post)]
    if not chosen:
        return []
    decided = classify_posts(classifier or PostClassifier.from_settings(settings), chosen)
    # The author's copies folded with a post (the same day) and those found among its related items
    # (an earlier day) are where they posted it already: the draft thanks them, never asks for it.
    copies = own_copies(new_posts, settings)
    related = find_related(chosen, copies) if find_related is not None else {}
    writer = DraftWriter(settings)
    planned = []
    for post, classification in zip(chosen, decided, strict=True):
        key = reply_key(post.channel, post.source_id)
        draft = writer.suggest(
            post, classification, related.get(post.url, ()), as_of, also_posted=copies.get(post.url, ())
        ).draft
        planned.append(
            PlannedReply(
                channel=post.channel,
                source_id=post.source_id,
                url=post.url,
                container=post.container,
                number=int(post.number or 0),
                key=key,
                draft=f"{draft.rstrip()}\n\n{reply_marker(key)}",
            )
        )
    return planned


def own_copies(new_posts: Sequence[Post], settings: Settings) -> dict[str, tuple[Post, ...]]:
    """Each new post that [Triage] folds with the same author's posts on other channels (one item,
    ``related.fold_duplicates``): URL → the others of its group. They are the author's own words,
    never a related item of the post (an idea posted on UserVoice and GitHub alike is not "already
    on the feature-idea forum" for its author)."""
    by_url = {post.url: post for post in new_posts}
    _, folded = fold_duplicates(new_posts, settings)
    copies: dict[str, tuple[Post, ...]] = {}
    for kept, others in folded.items():
        group = (by_url[kept], *others)
        for member in group:
            copies[member.url] = tuple(p for p in group if p is not member)
    return copies
