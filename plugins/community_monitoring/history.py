"""The team's past triage decisions, read off the channels, as labelled examples (SPEC §12).

A post teaches the triage model only where the team's decision about it can be read back, from
the settings' ``triage_model`` maps (and the forum categories of ``post_types``):

==========================  ===========================================================  ============
channel                     the decision                                                 source
==========================  ===========================================================  ============
GitHub, GitLab issue        a label the team applies (``labels``; whole label or its     ``label``
                            leading ``/``/``::`` segments)
GitHub, GitLab issue        else the latest staff reply containing a redirect phrase      ``redirect``
                            (``redirect_phrases``; first type listed wins in a reply)
forum topic                 its category (``post_types.categories``)                     ``category``
UserVoice suggestion        always a feature proposal                                     ``suggestion``
Stack Overflow question     a question, unless a tag of ``stackoverflow_tags`` says      ``question``,
                            otherwise                                                     ``tag``
==========================  ===========================================================  ============

Only community posts count (not staff, not bots, not pull requests, not Help Wanted issues
mirrored from Jira), created in (T − ``history_days``, T − ``settle_days``] (a younger post's label,
category or redirect may still change); replies after T do not exist. The
example's text is what the author wrote (title and body), never the reply or the label that
decided, so the model learns to decide from what a new post looks like.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from community_monitoring.answers import is_by_author, is_reply_bot, is_reply_staff, replies_at
from community_monitoring.records import Post, category_names
from community_monitoring.roster import StaffRoster
from community_monitoring.rules import RulesAsOf
from community_monitoring.settings import POST_TYPES, Settings

_SEGMENTS = re.compile(r"\s*(?:/|::)\s*")
_NUMBER = re.escape("{number}")


@dataclass(frozen=True)
class Example:
    """One post the team decided: the author's text and the type the team gave it."""

    text: str
    post_type: str
    channel: str
    source: str  # how the decision was read: label, redirect, category, suggestion, question, tag
    url: str = ""
    # What showed the decision, e.g. 'label "Type/Bug"' or 'redirect "ask on our forum"'.
    evidence: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Example:
        values = {
            name: data.get(name, "") for name in ("text", "post_type", "channel", "source", "url", "evidence")
        }
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError(f"an example's fields must be strings: {sorted(values)}")
        if values["post_type"] not in POST_TYPES:
            raise ValueError(
                f"an example's post_type must be one of {POST_TYPES}, got {values['post_type']!r}"
            )
        return cls(**values)


@dataclass
class TrainingSet:
    """The examples, and why the other posts read taught nothing (counts by reason)."""

    examples: list[Example] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def counts(self, key: str) -> dict[str, int]:
        """Examples per ``post_type``, ``channel`` or ``source``."""
        return dict(sorted(Counter(getattr(e, key) for e in self.examples).items()))


def example_text(post: Post) -> str:
    """What the author wrote: the title, then the body."""
    return f"{post.title.strip()}\n\n{post.body.strip()}".strip()


def _label_key(label: str) -> tuple[str, ...]:
    return tuple(part for part in _SEGMENTS.split(" ".join(label.casefold().split())) if part)


class TeamDecisions:
    """The ``triage_model`` maps compiled once; ``decide`` reads one post's decision."""

    def __init__(self, settings: Settings) -> None:
        section = settings.triage_model
        self._labels: dict[tuple[str, ...], tuple[str, str]] = {}
        for post_type, names in section.labels.items():
            for name in names:
                key = _label_key(name)
                if key:
                    self._labels.setdefault(key, (post_type, name))
        self._longest_label = max((len(k) for k in self._labels), default=0)
        # One pattern per type, in the configured order: the first type that matches wins.
        self._redirects: list[tuple[str, re.Pattern[str]]] = []
        for post_type, phrases in section.redirect_phrases.items():
            alternatives = sorted({_phrase_pattern(p) for p in phrases if p.strip()}, key=len, reverse=True)
            if alternatives:
                self._redirects.append((post_type, re.compile("|".join(alternatives), re.IGNORECASE)))
        self._categories = {
            name.casefold(): post_type
            for post_type, names in settings.post_types.categories.items()
            for name in names
        }
        self._tags = [
            (post_type, {tag.casefold() for tag in tags})
            for post_type, tags in section.stackoverflow_tags.items()
        ]

    def label_types(self, labels: Sequence[str]) -> dict[str, str]:
        """Each type the labels name, with the first label that named it."""
        found: dict[str, str] = {}
        for label in labels:
            key = _label_key(label)
            for size in range(min(len(key), self._longest_label), 0, -1):
                hit = self._labels.get(key[:size])
                if hit:
                    found.setdefault(hit[0], label)
                    break
        return found

    def redirect_type(self, text: str) -> tuple[str, str] | None:
        """The type a staff reply decides and the phrase that did: the type with the most phrases in
        the reply's own words (not in a quote of the post, not negated: "this is not a configuration
        issue"); the first type listed wins a tie."""
        text = _QUOTED_LINE.sub("", text)
        best: tuple[int, str, str] | None = None
        for post_type, pattern in self._redirects:
            hits = [
                m
                for m in pattern.finditer(text)
                if not _NEGATED.search(text, max(0, m.start() - 60), m.start())
            ]
            if hits and (best is None or len(hits) > best[0]):
                best = (len(hits), post_type, hits[0].group(0))
        return (best[1], best[2]) if best else None

    def decide(self, post: Post, roster: StaffRoster, as_of: datetime) -> tuple[str, str, str] | str:
        """(type, source, evidence) for a post the team decided, else why it teaches nothing."""
        if post.channel in ("github", "gitlab"):
            return self._decide_issue(post, roster, as_of)
        if post.channel == "forum":
            names = category_names(post.category)
            post_type = next(
                (self._categories[n.casefold()] for n in names if n.casefold() in self._categories), None
            )
            if post_type is None:
                return "forum category not mapped"
            return post_type, "category", f'category "{post.category}"'
        if post.channel == "uservoice":
            return "feature_proposal", "suggestion", "UserVoice suggestion"
        if post.channel == "stackoverflow":
            tags = {tag.casefold() for tag in post.labels}
            for post_type, listed in self._tags:
                hit = sorted(tags & listed)
                if hit:
                    return post_type, "tag", f'tag "{hit[0]}"'
            return "question", "question", "Stack Overflow question"
        return f"no decision on {post.channel}"

    def _decide_issue(self, post: Post, roster: StaffRoster, as_of: datetime) -> tuple[str, str, str] | str:
        labelled = self.label_types(post.labels)
        if len(labelled) > 1:
            return "labels name two types"
        if labelled:
            [(post_type, label)] = labelled.items()
            return post_type, "label", f'label "{label}"'
        for reply in reversed(replies_at(post, as_of)):
            if is_by_author(post, reply) or is_reply_bot(reply, roster):
                continue
            if not is_reply_staff(post, reply, roster):
                continue
            redirected = self.redirect_type(reply.body)
            if redirected:
                return redirected[0], "redirect", f'redirect "{redirected[1]}"'
        # The issue type (GitHub) last: the issue form the author picked sets it as often as a
        # maintainer does, so the team's own label or redirect says what the team decided ("Bug" from
        # a bug form on an issue staff sent to the forum is troubleshooting, not a bug to learn).
        typed = self.label_types((post.issue_type,)) if post.issue_type else {}
        if typed:
            [(post_type, name)] = typed.items()
            return post_type, "issue type", f'issue type "{name}"'
        return "no team label or redirect"


# A line quoting the post the reply answers ("> Is this a setup problem?"): the author's words.
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\n]*", re.MULTILINE)
# A negation in the same clause, at most three words before a phrase ("this is not a configuration
# issue", "this isn't something for the troubleshooting forum"); "No, I reproduced it" is no negation.
_NEGATED = re.compile(r"(?:\b(?:not|no|never)|n't)\b[^\S\n]+(?:[\w'-]+[^\S\n]+){0,3}$", re.IGNORECASE)


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a case-insensitive pattern on word boundaries; ``{number}`` matches digits."""
    text = " ".join(phrase.split())
    body = re.escape(text).replace(_NUMBER, r"\d+").replace(r"\ ", r"\s+")
    start = r"(?<!\w)" if text[:1].isalnum() else ""
    end = r"(?!\w)" if text[-1:].isalnum() or text.endswith("}") else ""
    return start + body + end


def build_training_set(
    posts: Iterable[Post], roster: StaffRoster, settings: Settings, as_of: datetime
) -> TrainingSet:
    """Every post of the history window whose type the team decided, as an :class:`Example`."""
    decisions = TeamDecisions(settings)
    section = settings.triage_model
    oldest = as_of - timedelta(days=section.history_days)
    newest = as_of - timedelta(days=section.settle_days)
    result = TrainingSet()
    listable = RulesAsOf(roster, settings, as_of).is_listable
    for post in posts:
        if not oldest < post.created_at <= as_of:
            result.skipped["outside the history window"] += 1
            continue
        if post.created_at > newest:
            result.skipped["too recent to be settled"] += 1
            continue
        if not listable(post):
            result.skipped["not a community post"] += 1
            continue
        text = example_text(post)
        if not text:
            result.skipped["no text"] += 1
            continue
        decided = decisions.decide(post, roster, as_of)
        if isinstance(decided, str):
            result.skipped[decided] += 1
            continue
        post_type, source, evidence = decided
        result.examples.append(Example(text, post_type, post.channel, source, post.url, evidence))
    return result
