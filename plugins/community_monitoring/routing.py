"""Who owns a post's topic (SPEC §4 "Routing"): the first route of the rules file that matches.

A route matches when any one of its fields does: a label (GitHub, GitLab) or a forum category by
name, a Stack Overflow tag, or a keyword as a whole word in the title or the first paragraph.
Names compare case-insensitively. The owner is a validated Mattermost name, so it may ping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from community_monitoring.classify import keyword_pattern
from community_monitoring.records import Post, category_names
from community_monitoring.settings import Route, RouteMatch

# A blank line ends a Markdown paragraph; the end of an HTML one (a forum post's ``cooked`` when its
# ``raw`` is missing, a Stack Exchange body) is its closing tag, often with no blank line after it.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|</p\s*>", re.IGNORECASE)


def first_paragraph(body: str) -> str:
    """The body up to its first blank line or closing ``</p>`` (leading blank lines skipped)."""
    return _PARAGRAPH_BREAK.split(body.strip(), maxsplit=1)[0] if body.strip() else ""


@lru_cache(maxsize=256)
def _keywords(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if all(keywords):
        return keyword_pattern(keywords)
    # An empty keyword (the schema has none) matches at every word boundary, as it always did.
    ordered = sorted({k.casefold() for k in keywords}, key=len, reverse=True)
    return re.compile("|".join(rf"(?<!\w){re.escape(k)}(?!\w)" for k in ordered), re.IGNORECASE)


@lru_cache(maxsize=1024)  # a route's names, once: every post is matched against every route
def _route_names(values: tuple[str, ...]) -> frozenset[str]:
    return _names(values)


def _names(values: Sequence[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values)


def route_matches(match: RouteMatch, post: Post) -> bool:
    labels = _names(post.labels)
    if post.channel == "stackoverflow":
        # Stack Overflow's labels are its tags: the route's tags name them.
        if labels & _route_names(tuple(match.tags)):
            return True
    elif labels & _route_names(tuple(match.labels)):
        return True
    categories = _route_names(tuple(match.categories))
    if any(name.casefold() in categories for name in category_names(post.category, post.channel == "forum")):
        return True
    pattern = _keywords(tuple(match.keywords))
    return pattern is not None and (
        pattern.search(post.title) is not None or pattern.search(first_paragraph(post.body)) is not None
    )


def route_owner(post: Post, routes: Sequence[Route]) -> str:
    """The owner (a Mattermost name, without ``@``) of the first route that matches, or ``""``."""
    return next((route.owner for route in routes if route_matches(route.match, post)), "")
