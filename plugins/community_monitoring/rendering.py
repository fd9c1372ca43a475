"""Render messages from the Jinja2 templates in ``include/templates`` and split long ones.

Templates separate blocks (a header, a section heading, one item) with ``{{ BREAK }}``; the
splitter packs whole blocks into posts, so a long digest is never cut in the middle of an item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from community_monitoring.resources import template_loader
from community_monitoring.safety import cap_length, safe_block, safe_link, safe_name, safe_text, safe_url

if TYPE_CHECKING:
    from jinja2 import Environment

# Upstream text cannot contain it: safe_text strips control characters.
BREAK = "\x1e"
HEADING_PREFIX = "#### "
MATTERMOST_MAX_CHARS = 16383
_PART_LABEL_ROOM = 16
# A mention that pings: "@" and a Mattermost name, as only configured names are written (upstream
# text has a zero-width space after every "@"). A heading carried on into the next part ("Escalated
# … @cm-lead (continued)") does not call its reader a second time.
_LIVE_MENTION = re.compile(r"[ \t]*(?<![\w\u200b])@[a-z0-9._-]+")


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def elapsed(age: timedelta) -> tuple[int, str]:
    """An age as every message counts it, item lines and the health section alike: whole days
    elapsed (61 days 20 hours is 61 days), whole hours below a day; (count, "day" or "hour")."""
    if age >= timedelta(days=1):
        return age // timedelta(days=1), "day"
    return max(age // timedelta(hours=1), 0), "hour"


def _age(value: datetime, as_of: datetime) -> str:
    count, unit = elapsed(as_of - value)
    return f"{count} {unit}{'s' if count != 1 else ''} ago"


@lru_cache(maxsize=4)
def template_environment(templates_dir: str | None = None) -> Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir) if templates_dir else template_loader(),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["text"] = safe_text
    env.filters["name"] = safe_name
    env.filters["quote"] = safe_block
    env.filters["url"] = safe_url
    env.filters["link"] = safe_link
    env.filters["when"] = _when
    env.filters["age"] = _age
    env.globals["BREAK"] = BREAK
    return env


def render_template(name: str, context: Mapping[str, Any], templates_dir: Path | None = None) -> str:
    env = template_environment(str(templates_dir) if templates_dir else None)
    return env.get_template(name).render(**context)


def _clean_block(block: str) -> str:
    return block.strip("\n")


def _blocks(text: str) -> list[str]:
    return [b for b in (_clean_block(b) for b in text.split(BREAK)) if b]


def join_blocks(text: str, separator: str = "\n") -> str:
    """A rendered message as one Markdown text, however long (the archived full list)."""
    return separator.join(_blocks(text))


def split_message(
    text: str, kind: str, max_chars: int = MATTERMOST_MAX_CHARS, separator: str = "\n"
) -> list[str]:
    """Split a rendered message at block boundaries into posts of at most ``max_chars``.

    Every part's first line starts with ``kind`` (``[Help Wanted] (2/3)``); a part that starts
    inside a section repeats the section's heading.
    """
    blocks = _blocks(text)
    whole = separator.join(blocks)
    if len(whole) <= max_chars:
        return [whole] if whole else []
    # Room for "<kind> (NNN/NNN)\n" in front of every part.
    budget = max_chars - len(kind) - _PART_LABEL_ROOM
    parts: list[list[str]] = []
    current: list[str] = []
    size = 0
    heading: str | None = None
    for block in blocks:
        if len(block) > budget:
            block = cap_length(block, budget - 64)
        is_heading = block.startswith(HEADING_PREFIX)
        added = len(block) + len(separator)
        if current and size + added > budget:
            # A heading never ends a part: it moves on with the items it introduces.
            moved = [current.pop()] if current[-1].startswith(HEADING_PREFIX) and len(current) > 1 else []
            parts.append(current)
            current, size = moved, sum(len(b) + len(separator) for b in moved)
            if heading and not is_heading and not moved:
                carried = f"{_LIVE_MENTION.sub('', heading)} (continued)"
                current.append(carried)
                size += len(carried) + len(separator)
            if size + added > budget:
                # A block that fits a part alone, but not beside the heading moved or carried on
                # with it: shortened to the room left, never past the limit.
                block = cap_length(block, max(budget - size - len(separator), 1))
                added = len(block) + len(separator)
        if is_heading:
            heading = block
        current.append(block)
        size += added
    if current:
        parts.append(current)
    total = len(parts)
    rendered: list[str] = []
    for index, part_blocks in enumerate(parts, start=1):
        label = f"{kind} ({index}/{total})"
        body = separator.join(part_blocks)
        if index == 1 and body.startswith(kind):
            rendered.append(label + body[len(kind) :])
        else:
            rendered.append(label + separator + body)
    return rendered
