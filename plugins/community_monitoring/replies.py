"""Which reply drafts go upstream, where the team switched it on per channel (off by default).

Only new posts that nobody has answered by T get one; the outbox makes sure each post gets at
most one, ever (its ledger key is the post itself, whatever run sends it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from community_monitoring.classify import PostClassifier
from community_monitoring.drafts import DraftWriter
from community_monitoring.keys import reply_key, reply_marker
from community_monitoring.records import Post
from community_monitoring.roster import StaffRoster
from community_monitoring.rules import find_new_posts, has_response
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


def plan_replies(
    posts: Iterable[Post], roster: StaffRoster, settings: Settings, as_of: datetime
) -> list[PlannedReply]:
    """A reply draft for each new, unanswered post of a channel with ``replies.post_upstream`` on."""
    channels = settings.replies.channels
    if not channels:
        return []
    classifier = PostClassifier.from_settings(settings)
    writer = DraftWriter(settings)
    planned = []
    for post in find_new_posts(posts, roster, settings, as_of):
        if post.channel not in channels or has_response(post, roster, as_of, settings):
            continue
        key = reply_key(post.channel, post.source_id)
        draft = writer.suggest(post, classifier.classify(post), as_of=as_of).draft
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
