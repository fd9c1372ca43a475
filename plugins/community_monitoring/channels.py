"""The one registry of channels: name, label, connections, the source that reads it, capabilities.

Everything that needs to know about channels (which to extract, pools, labels, which rules
apply, which channel can take an upstream reply) reads it here instead of keeping a list of its
own. The registry is plain data: the source module's functions are imported only when a task
calls them, so DAG files and the rules never import a client.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Channel:
    key: str
    label: str
    # The source module (``community_monitoring.sources.<module>``) with ``fetch(request)``.
    source: str
    connections: tuple[str, ...]
    # Its items are community posts the digests list (Jira tickets only inform the reviews).
    lists_posts: bool = True
    # Item lines name the repository or project the post lives in ("GitHub owner/repo").
    names_container: bool = False
    # Listed in [Help Wanted] "Waiting for a first response" (forum topics and GitHub issues).
    waits_for_first_response: bool = False
    # The forum's own [Help Wanted] sections: after the release, new reply to a staff question.
    forum_sections: bool = False
    # Help Wanted issues mirrored from Jira live here and are never listed.
    mirrors_jira_help_wanted: bool = False
    # The source module has ``reply_sender()``: a reply draft can be posted upstream.
    takes_replies: bool = False

    @property
    def pool(self) -> str:
        return f"{self.key}_api"

    def _source(self) -> Any:
        return importlib.import_module(f"community_monitoring.sources.{self.source}")

    def fetcher(self) -> Callable[..., Any]:
        return self._source().fetch

    def reply_sender(self, http: Any = None) -> Callable[..., Any]:
        """``send(container, number, body)`` for an upstream reply; ``http``: the timeouts section."""
        if not self.takes_replies:
            raise ValueError(f"replies cannot be posted to {self.label}")
        return self._source().reply_sender(http=http)

    def reply_reader(self, http: Any = None) -> Callable[..., bool]:
        """``has_reply(container, number, marker)``: looks a posted reply up by its marker."""
        if not self.takes_replies:
            raise ValueError(f"replies cannot be posted to {self.label}")
        return self._source().reply_reader(http=http)


CHANNELS: dict[str, Channel] = {
    c.key: c
    for c in (
        Channel(
            "github",
            "GitHub",
            "github",
            ("github_default",),
            names_container=True,
            waits_for_first_response=True,
            mirrors_jira_help_wanted=True,
            takes_replies=True,
        ),
        Channel("gitlab", "GitLab", "gitlab", ("gitlab_default",), names_container=True, takes_replies=True),
        Channel(
            "forum",
            "Forum",
            "discourse",
            ("discourse_default",),
            waits_for_first_response=True,
            forum_sections=True,
        ),
        Channel("stackoverflow", "Stack Overflow", "stackexchange", ("stackexchange_default",)),
        Channel("uservoice", "UserVoice", "uservoice", ("uservoice_default", "uservoice_sales")),
        Channel("jira", "Jira", "jira", ("jira_default",), lists_posts=False),
    )
}
CHANNEL_KEYS: tuple[str, ...] = tuple(CHANNELS)

WeeklyChannel = Literal["github", "gitlab", "stackoverflow"]
# The weekly "Aged out without an answer" section reads every channel that lists posts.
AgedOutChannel = Literal["github", "gitlab", "forum", "stackoverflow"]
# A channel key seen in data but not registered gets no capabilities.
_UNKNOWN = Channel("unknown", "Unknown", "", ())


def channel(key: str) -> Channel:
    return CHANNELS.get(key, _UNKNOWN)


def label(key: str) -> str:
    return CHANNELS[key].label if key in CHANNELS else key


def named(key: str) -> str:
    """A channel as messages name one that could not be read: its label and the key the operator
    uses in settings, Variables and commands ("Stack Overflow (stackoverflow)")."""
    return f"{CHANNELS[key].label} ({key})" if key in CHANNELS else key
