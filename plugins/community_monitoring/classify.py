"""Post type: exactly one of bug, troubleshooting, feature_proposal, question, with the deciding rule.

Signals, strongest first (SPEC §4): a label or forum category mapped in the rules file; an
issue-template section heading; a word or phrase; the channel's default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from community_monitoring.records import Post
from community_monitoring.settings import PostTypesSection, Settings

TYPE_HEADINGS: dict[str, str] = {
    "bug": "Bug",
    "troubleshooting": "Troubleshooting",
    "feature_proposal": "Feature Proposal",
    "question": "Developer/Product Question",
}


@dataclass(frozen=True)
class Classification:
    post_type: str
    rule: str


def _phrase_pattern(phrases: tuple[str, ...]) -> str:
    # Longest first so "is it possible" wins over a shorter phrase that starts the same way.
    ordered = sorted({p.casefold() for p in phrases}, key=len, reverse=True)
    return "|".join(rf"(?<!\w){re.escape(p)}(?!\w)" if p[-1].isalnum() else re.escape(p) for p in ordered)


class PostClassifier:
    """Compiled form of the rules file's ``post_types``: build once, classify many posts."""

    def __init__(self, rules: PostTypesSection) -> None:
        self._rules = rules
        self._labels = {
            name.casefold(): (post_type, name) for post_type, names in rules.labels.items() for name in names
        }
        self._categories = {
            name.casefold(): (post_type, name)
            for post_type, names in rules.categories.items()
            for name in names
        }
        self._sections = [
            (
                post_type,
                section,
                re.compile(rf"^[ \t>#*_]*{re.escape(section)}\b", re.IGNORECASE | re.MULTILINE),
            )
            for post_type, sections in rules.template_sections.items()
            for section in sections
        ]
        group_patterns = [
            f"(?P<{post_type}>{_phrase_pattern(phrases)})"
            for post_type, phrases in rules.phrases.items()
            if phrases
        ]
        self._phrases = re.compile("|".join(group_patterns), re.IGNORECASE) if group_patterns else None

    @classmethod
    def from_settings(cls, settings: Settings) -> PostClassifier:
        return cls(settings.post_types)

    def classify(self, post: Post) -> Classification:
        for label in post.labels:
            hit = self._labels.get(label.casefold())
            if hit:
                return Classification(hit[0], f'label "{hit[1]}"')
        if post.category:
            hit = self._categories.get(post.category.casefold())
            if hit:
                return Classification(hit[0], f'category "{hit[1]}"')
        for post_type, section, pattern in self._sections:
            if pattern.search(post.body):
                return Classification(post_type, f'template section "{section}"')
        if self._phrases is not None:
            for text in (post.title, post.body):
                match = self._phrases.search(text)
                if match and match.lastgroup:
                    return Classification(match.lastgroup, f'phrase "{match.group(0).strip()}"')
        default = self._rules.channel_defaults.get(post.channel, "question")
        return Classification(default, f"default for {post.channel}")
