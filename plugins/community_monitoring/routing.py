"""Who owns a post's topic (SPEC §4 "Routing"): the first route of the rules file that matches.

A route matches when any one of its fields does: a label (GitHub, GitLab) or a forum category by
name, a Stack Overflow tag, or a keyword as a whole word (or its plural) in the title or the first paragraph the
author wrote (code, quotes and headings are not it).
Names compare case-insensitively. The owner is a validated Mattermost name, so it may ping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


# What is not the author's own words: code, quoted text, links, template comments and headings.
# "^[^\S\n]*", never "^\s*": under MULTILINE, "\s" crosses line ends, so from each line of a run of
# blank lines the pattern read to the run's end (a body of 60,000 " \n" took minutes). The line a
# marker stands on is found either way, and blank lines before it still end a paragraph. Every other
# blank is still read ("[ \t]" alone missed a quote indented with a no-break or ideographic space).
_FENCED_CODE = re.compile(r"^[^\S\n]*(```|~~~).*?(^[^\S\n]*\1|\Z)", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
# HTML bodies (a forum post's cooked text, a Stack Exchange body): code, quotes (Discourse's in an
# <aside class="quote">) and headings, each a paragraph break where it stood.
_HTML_NOT_PROSE = re.compile(
    r"<(pre|blockquote|aside|h[1-6])\b[^>]*>.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE
)
_QUOTE_LINE = re.compile(r"^[^\S\n]*>.*$", re.MULTILINE)
_HEADING_LINE = re.compile(r"^[^\S\n]*#{1,6}\s.*$", re.MULTILINE)
# A Markdown link is its text. Read in one pass: tried from every "[", "[^\]]*" read each of a long
# run of "[" again to the next "]", and "[^)]*" each "](" to the next ")" (a run of either: minutes).
# Where no link starts at a "[", none starts at any "[" before the same "]" (each would end there
# too), so that stretch is kept as it is and skipped whole; and past a "](" with no ")" after it,
# no link can end: the rest is kept. What is replaced is what the plain pattern replaced.
_MARKDOWN_LINK = re.compile(r"(!?\[([^\]]*)\]\([^)]*\))|\[[^\]]*\]\([^)]*\Z|\[[^\]]*")


def _link_text(match: re.Match[str]) -> str:
    return match.group(2) if match.group(1) is not None else match.group(0)


_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
# Where _HTML_NOT_PROSE can start.
_HTML_NOT_PROSE_OPENER = re.compile(r"<(?:pre|blockquote|aside|h[1-6])\b", re.IGNORECASE)


class _Linear:
    """``pattern.sub(replacement, text)`` for an HTML block pattern that reads an opener's
    attributes to a ">", tried only from the openers before the text's last ">": the regex engine
    read from each opener to the text's end when no ">" came ("<pre " 13,000 times with no ">" took
    0.7 s, a million characters minutes)."""

    def __init__(self, pattern: re.Pattern[str], opener: re.Pattern[str]) -> None:
        self.pattern, self._opener = pattern, opener

    def sub(self, replacement: str, text: str) -> str:
        end = text.rfind(">") + 1
        parts: list[str] = []
        kept = searched = 0
        while (found := self._opener.search(text, searched, end)) is not None:
            start = found.start()
            match = self.pattern.match(text, start)
            if match is not None:
                parts += (text[kept:start], match.expand(replacement))
                kept = searched = match.end()
                continue
            searched = start + 1
        parts.append(text[kept:])
        return "".join(parts)


_NOT_PROSE: tuple[tuple[str, re.Pattern[str] | _Linear, str | Callable[[re.Match[str]], str]], ...] = (
    ("<!--", _HTML_COMMENT, " "),
    ("```", _FENCED_CODE, "\n\n"),
    ("~~~", _FENCED_CODE, "\n\n"),
    ("<", _Linear(_HTML_NOT_PROSE, _HTML_NOT_PROSE_OPENER), "\n\n"),
    ("`", _INLINE_CODE, " "),
    ("](", _MARKDOWN_LINK, _link_text),
    ("://", _URL, " "),
    ("www.", _URL, " "),
    (">", _QUOTE_LINE, ""),
    ("#", _HEADING_LINE, ""),
)


def first_prose_paragraph(body: str) -> str:
    """The first paragraph the author wrote: code, quotes, links, template comments and headings
    taken out first (an issue form's "### Summary" is no paragraph; a log pasted first is not the
    author's words, and a keyword in it must not route the post)."""
    text = body
    # Each pattern runs only where its marker occurs: most bodies have few of them, and this is
    # read for every post routed and every candidate of related items.
    for marker, pattern, replacement in _NOT_PROSE:
        if marker in text:
            text = pattern.sub(replacement, text)
    return first_paragraph(text)


@lru_cache(maxsize=256)
def _keywords(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if all(keywords):
        # A keyword also names its plural: "push notification" routes "Push notifications don't
        # arrive", while a keyword inside another word ("calls" in "recalls") still does not.
        return keyword_pattern(keywords, plurals=True)
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
        pattern.search(post.title) is not None or pattern.search(first_prose_paragraph(post.body)) is not None
    )


def route_owner(post: Post, routes: Sequence[Route]) -> str:
    """The owner (a Mattermost name, without ``@``) of the first route that matches, or ``""``."""
    return next((route.owner for route in routes if route_matches(route.match, post)), "")
