"""What Markdown text holds beyond its words: its indented code blocks (CommonMark's reading).

Read by ``answers`` (a reply's own words leave its code out) and ``classify`` (a post's prose leaves
its code out, and pasted code is given logs) alike, so that both read a post's text the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A list item's marker ("-", "*", "+", "1." or "1)") and the blanks after it, on a line's text.
_LIST_MARKER = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$)")
CODE_INDENT = 4
# A line that starts a block a paragraph cannot hold, so a list item's paragraph does not go on
# through it lazily: a quote (">") or a code fence.
_OPENS_A_BLOCK = re.compile(r"(?:>|```|~~~)")
# A line that is a block of its own, so an indented line right after it starts code as after a
# blank line: an ATX heading ("### Logs") or a thematic break ("* * *", "---", "___").
_OWN_BLOCK = r" {0,3}(?:#{1,6}(?:[ \t][^\n]*)?|(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})"
_OWN_BLOCK_LINE = re.compile(_OWN_BLOCK + r"\Z")
# A line of "=" right under a paragraph's line underlines it: the paragraph is a (setext) heading.
_SETEXT_EQUALS = r" {0,3}=+[ \t]*"
_SETEXT_EQUALS_LINE = re.compile(_SETEXT_EQUALS + r"\Z")
# Where a code block can start: a line indented four blanks at the start (blank lines before it too: a
# reply that opens with a line break), after a blank line or after a line that is a block of its own.
# Most texts have none, and one search for it is many times faster than reading their lines.
_MAY_START = re.compile(
    rf"(?:\A(?:[ \t]*\n)*|\n[ \t]*\n|(?:\A|\n)(?:{_OWN_BLOCK}|{_SETEXT_EQUALS})\n)(?: {{4}}| {{0,3}}\t)"
)


def indented_code_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each indented code block of Markdown ``text`` (Unix line ends) stands, first to last.

    Its lines are indented by four blanks (a tab reaches the next multiple of four), after a blank
    line, a heading ("### Logs", or a paragraph underlined with "===" or "---") or a thematic break,
    or at the start (a code block never continues a paragraph: an indented line right after one is
    more of it), up to the first line indented less. In a list the four count from where the item's
    text starts: a paragraph's line indented less after a list item continues the item (a heading or
    a thematic break, a quote or a code fence indented less ends the list).
    """
    if _MAY_START.search(text) is None:
        return
    blank_before = True
    paragraph = False  # the line before is a paragraph's (an item's text included)
    list_indent: int | None = None
    code: tuple[int, int] | None = None
    code_indent = 0
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        body = line.lstrip(" \t")
        if not body:
            blank_before, paragraph = True, False
            continue
        width = _width(line[: len(line) - len(body)])
        if code is not None and width >= code_indent:
            code = (code[0], start + len(line))
            blank_before = paragraph = False
            continue
        if code is not None:
            yield code
            code = None
        # A heading or a thematic break is a block of its own ("* * *" is no list item): after it no
        # paragraph goes on, so the next line may start code.
        # So is a paragraph underlined with "=" (not lazily, below an item's text indented less).
        own_block = width < CODE_INDENT and (
            _OWN_BLOCK_LINE.match(line) is not None
            or (
                paragraph
                and (list_indent is None or width >= list_indent)
                and _SETEXT_EQUALS_LINE.match(line) is not None
            )
        )
        marker = None if own_block else _LIST_MARKER.match(body)
        if (
            list_indent is not None
            and (blank_before or own_block or _OPENS_A_BLOCK.match(body) is not None)
            and width < list_indent
            and marker is None
        ):
            # Only a paragraph's line goes on an item without its indent: a heading, a break, a quote or a
            # fence ends the list.
            list_indent = None
        base = list_indent or 0
        paragraph = not own_block
        if blank_before and width >= base + CODE_INDENT:
            code, code_indent = (start, start + len(line)), base + CODE_INDENT
            paragraph = False
        elif marker is not None and width < base + CODE_INDENT:
            # The item's text starts after its marker and blanks (a marker alone: one blank after it).
            # (Blanks after a marker alone are no part of it: "- " is "-".)
            empty = marker.end() == len(body)
            list_indent = width + (len(marker[0].rstrip(" \t")) + 1 if empty else len(marker[0]))
            paragraph = not empty
        blank_before = own_block
    if code is not None:
        yield code


def replace_indented_code(text: str, replacement: str) -> tuple[str, int]:
    """``text`` with each indented code block replaced by ``replacement``, and how many there were."""
    parts: list[str] = []
    kept = found = 0
    for start, end in indented_code_spans(text):
        parts += (text[kept:start], replacement)
        kept, found = end, found + 1
    parts.append(text[kept:])
    return "".join(parts), found


def _width(blanks: str) -> int:
    """How far blanks indent, a tab reaching the next multiple of four."""
    width = 0
    for blank in blanks:
        width = width + CODE_INDENT - width % CODE_INDENT if blank == "\t" else width + 1
    return width
