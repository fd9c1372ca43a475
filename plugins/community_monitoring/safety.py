"""Make untrusted upstream text safe to put in a Mattermost message.

Titles, usernames and bodies come from strangers: they must never ping anyone, never break the
digest's Markdown, and never grow the message without bound (SPEC §7).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

ZERO_WIDTH_SPACE = "\u200b"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")
# Every character Mattermost's Markdown gives a meaning to inside a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~<>#])")


def single_line(text: str) -> str:
    """Control characters and line breaks folded to single spaces."""
    return _WHITESPACE.sub(" ", _CONTROL.sub(" ", text)).strip()


ZERO_WIDTH_JOINER = "\u200d"
_VARIATION_SELECTORS = frozenset("\ufe0e\ufe0f")


def _is_regional_indicator(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _belongs_to_previous(text: str, index: int) -> bool:
    """Whether ``text[index]`` is drawn as one with the character before it: a combining mark, a
    variation selector, a skin tone or emoji tag, what follows a zero-width joiner, or a flag's
    second letter."""
    char, previous = text[index], text[index - 1]
    if previous == ZERO_WIDTH_JOINER or char == ZERO_WIDTH_JOINER or char in _VARIATION_SELECTORS:
        return True
    if "\U0001f3fb" <= char <= "\U0001f3ff" or "\U000e0020" <= char <= "\U000e007f":
        return True
    if unicodedata.category(char) in ("Mn", "Mc", "Me"):
        return True
    if _is_regional_indicator(char) and _is_regional_indicator(previous):
        run = 0  # the flag letters before it, in pairs from the first: odd means it ends a pair
        while index - run - 1 >= 0 and _is_regional_indicator(text[index - run - 1]):
            run += 1
        return run % 2 == 1
    return False


def cap_length(text: str, max_chars: int) -> str:
    """At most ``max_chars`` characters, "…" last when cut; the cut never parts a character from
    its accent, an emoji from its skin tone or joined parts, or a flag's two letters."""
    if len(text) <= max_chars:
        return text
    cut = max(max_chars - 1, 0)
    while cut > 0 and _belongs_to_previous(text, cut):
        cut -= 1
    return text[:cut].rstrip() + "…"


def neutralise_mentions(text: str) -> str:
    """No @-mention (``@here``, ``@channel``, ``@all``, ``@user``) nor ``<!here>`` survives.

    A zero-width space after ``@`` and after ``<`` is what Mattermost honours; backslashes are not.
    Mattermost decodes character references (``&commat;``, ``&#64;``) before it looks for
    mentions, so every ``&`` is written as ``&amp;``: an entity in untrusted text then shows as
    the text it is and never becomes an ``@``.
    """
    text = text.replace("&", "&amp;")
    text = text.replace("@", "@" + ZERO_WIDTH_SPACE).replace("\uff20", "\uff20" + ZERO_WIDTH_SPACE)
    return text.replace("<!", "<" + ZERO_WIDTH_SPACE + "!")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


# Right-to-left text (Hebrew, Arabic) in a left-to-right line takes the neutral characters and
# numbers after it into its own direction: "by <Arabic name> · 10 days ago" shows as "by 10 · <name>
# days ago". Wrapped in a first-strong isolate it is one unit the line flows around (upstream
# isolates and overrides are control characters here, removed first: none can close it early).
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
_RIGHT_TO_LEFT = frozenset({"R", "AL"})


def isolate_direction(text: str) -> str:
    """``text`` in a first-strong isolate when it holds right-to-left letters; else as it is."""
    if text.isascii() or not any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text):
        return text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def safe_text(text: object, max_chars: int = 160) -> str:
    """Untrusted text as one inert Markdown line of at most ``max_chars`` visible characters."""
    cleaned = unicodedata.normalize("NFC", single_line(str(text or "")))
    return isolate_direction(neutralise_mentions(escape_markdown(cap_length(cleaned, max_chars))))


def safe_block(text: object, max_chars: int = 400) -> str:
    """Untrusted multi-line text as a Markdown block quote that cannot close or escape."""
    raw = _CONTROL.sub(lambda m: "\n" if m.group(0) == "\n" else " ", str(text or ""))
    raw = cap_length(raw.strip(), max_chars)
    lines = [neutralise_mentions(escape_markdown(single_line(line))) for line in raw.splitlines()]
    return "\n".join("> " + line if line else ">" for line in lines)


# The link text of an item without a title: "[](url)" shows nothing to click.
UNTITLED = "(no title)"
# Letters that are drawn blank: the Hangul fillers and the braille blank, which people use to fake
# an empty name or title where a platform refuses white space alone.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def shows_nothing(text: str) -> bool:
    """White space, invisible format characters (zero-width space and joiners, direction marks, the
    soft hyphen, a byte-order mark: Unicode's category Cf) and blank letters only, or nothing."""
    return all(
        char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf" for char in text
    )


# An author whose name shows nothing: "by  ·" reads as a broken line.
UNNAMED = "(no name)"


def safe_name(text: object, max_chars: int = 40, unnamed: str = UNNAMED) -> str:
    """An untrusted person's name as ``safe_text``; ``unnamed`` for one that shows nothing (empty,
    white space, zero-width or blank characters only)."""
    return unnamed if shows_nothing(str(text or "")) else safe_text(text, max_chars)


def safe_link(text: str, url: object) -> str:
    """``[text](url)`` for an http(s) URL; the text alone for anything else (``javascript:``, empty).
    Text that shows nothing (empty, white space, zero-width characters) links as ``(no title)``."""
    target = safe_url(url)
    if shows_nothing(text):
        text = UNTITLED
    return f"[{text}]({target})" if target else text


# A URL's host part as links have it (a name, an IPv4 or bracketed IPv6 address, a port, user info):
# anything else (a space, a quote, a backtick) would end the Markdown link early.
# An HTML entity's "&" (named, decimal or hex: "&commat;", "&#64;", "&#x40;").
_ENTITY = re.compile(r"&(?=#\d+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;)")
_HOST = re.compile(r"[A-Za-z0-9._~%!$&'*+,;=:@\[\]-]+")


def safe_url(url: object) -> str:
    """An http(s) URL safe inside ``[text](url)``: no spaces, brackets or mention characters."""
    text = single_line(str(url or ""))
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises for a port that is no number: no link rather than a broken one
    except ValueError:  # "https://stackoverflow.com]/q/5": an unbalanced bracket, read as IPv6
        return ""
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        return ""
    safe_chars = "/%:=&?+,;~!$'*-._"
    shown = (
        urlunsplit(
            (
                parts.scheme,
                parts.netloc.replace("@", "%40"),
                quote(parts.path, safe=safe_chars),
                quote(parts.query, safe=safe_chars),
                quote(parts.fragment, safe=safe_chars),
            )
        )
        .replace("(", "%28")
        .replace(")", "%29")
        .replace("'", "%27")
        .replace("*", "%2A")
    )
    # "&#64;here" in a URL shown as text: Markdown decodes the entity into a mention.
    return _ENTITY.sub("%26", shown) if "&" in shown else shown
