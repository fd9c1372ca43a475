"""One module per upstream: its client, its normalisers and ``fetch(request)``.

A source reads its Airflow connection at run time and returns typed records (``records.py``);
``channels.py`` declares each channel once (name, connections, the source's ``fetch``, what the
rules may do with its posts). Sources write nothing but the upstream replies and status updates
that the outbox asks them to send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from community_monitoring.item_cache import ItemCache
    from community_monitoring.records import JiraTicket, Post, Release
    from community_monitoring.settings import Settings


@dataclass(frozen=True)
class FetchRequest:
    """What to read: posts created in (since, until], with the deployment's settings.

    ``cache``: what earlier runs read per item (Jira remote links, GitLab notes), so that only
    items changed since are read again (SPEC §9); None reads every item.
    """

    settings: Settings
    since: datetime
    until: datetime
    cache: ItemCache | None = None


@dataclass(frozen=True)
class ItemProblem:
    """One upstream item that could not be read: skipped, named in the digests, and the run is red."""

    channel: str
    item: str  # its id or URL, as the upstream gives it
    problem: str  # what was wrong, e.g. "field 'created_at' is missing"
    # The ``Post.source_id`` of the post this left out, when it left one out (a topic, an issue, a
    # question); "" when the post was kept without a part of it (a reply), or none is known. A
    # later run that reads that post lists it in a catch-up of the [Triage] that left it out.
    post_id: str = ""


@dataclass
class Fetched:
    """What a channel returned; ``posts`` and ``tickets`` may be streamed (generators)."""

    posts: Iterable[Post] = ()
    tickets: Iterable[JiraTicket] = ()
    releases: Sequence[Release] = ()
    # UserVoice status id → name, so a proposed status can be checked against what exists.
    statuses: Mapping[int, str] = field(default_factory=dict)
    # Items skipped because they were not what the API promises; filled while ``posts`` (or
    # ``tickets``) is consumed, so read it after them.
    problems: list[ItemProblem] = field(default_factory=list)
