"""Who answered a post, as of T (SPEC §4 "Response", "Answer state", "Days on the list and escalation").

A reply only counts when it is *substantive*: with quotes, code blocks and signatures removed, it
says more than a me-too ("+1", "same here", emoji). From the substantive replies before T follow a
post's answer state, the day it joined the [Help Wanted] list and its step on the escalation ladder,
all from upstream timestamps alone, so a backfilled run reproduces its own day.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from community_monitoring.markdown_text import indented_code_spans, replace_indented_code
from community_monitoring.records import Post, Reply, may_be_the_author
from community_monitoring.roster import StaffRoster
from community_monitoring.settings import EscalationSection, ResponsesSection, Settings

AnswerState = Literal["unanswered", "waiting_on_reporter", "waiting_on_us", "answered"]
ANSWER_STATE_WORDS: dict[str, str] = {
    "unanswered": "unanswered",
    "waiting_on_reporter": "waiting on the reporter",
    "waiting_on_us": "waiting on us",
    "answered": "answered",
}
# The [Help Wanted] sections an item can qualify for (the Escalated one is where items move later).
HelpWantedSection = Literal[
    "waiting_for_first_response", "after_the_release", "new_reply_to_core_team_question"
]
# "listed": on the list; "mention_rotation": the item line mentions the developer on rotation;
# "escalated": the item sits in the Escalated section, which mentions the CM lead, and its line names
# its routed owner too (SPEC §4 "Routing": from the escalation day).
LadderStep = Literal["listed", "mention_rotation", "escalated"]

DAY = timedelta(days=1)
# Where no settings are at hand, only a reply without a single word (emoji, punctuation) is a me-too.
WORDLESS_ONLY = ResponsesSection(me_too_phrases=[])

# ----- the author's own words -------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One kind of block a pattern removes, read from where its opener stands.

    ``head`` is the opener with what belongs to it ("<pre class=x>", a whole "> quoted" line),
    ending at the first ``head_end`` character after it where it has one; ``closer`` is searched
    from the head's end (``None``: the head is the whole block).
    """

    head: re.Pattern[str]
    head_end: str | None = None
    closer: re.Pattern[str] | None = None
    # For a block that holds others of its kind (a quote of a post that quoted another): its openers
    # and closers as groups "opens" and "closes", so that a block ends where its own closer stands.
    nesting: re.Pattern[str] | None = None


_BLOCK_FLAGS = re.DOTALL | re.IGNORECASE | re.MULTILINE


class _Blocks:
    """``pattern.sub(replacement, text)`` for ``pattern`` the alternation of the blocks in order,
    read in time linear in the text's length.

    The alternation itself tried each opener again to the text's end when nothing closed it
    ("<pre>" or "[quote]" 13,000 times: 4 s; a GitLab note of a million characters, hours), or
    to the first ">" when its attributes did not fit ("<aside " 9,000 times: 6 s). Here a kind
    of block whose closer is not found after one opener is not looked for again (no later opener
    has one after it either), and an "<aside" whose attributes lack "quote" rules out every
    opener before the same ">". Each place starts at most one kind (their openers' first
    characters differ), so the leftmost match is the alternation's.
    """

    def __init__(self, blocks: dict[str, tuple[str, _Block]]) -> None:
        self._finder = re.compile(
            "|".join(f"(?P<{name}>{opener})" for name, (opener, _) in blocks.items()), _BLOCK_FLAGS
        )
        self._blocks = {name: block for name, (_, block) in blocks.items()}

    def sub(self, replacement: str | Callable[[str], str], text: str) -> str:
        """``replacement``: the text each block becomes, or what makes it of the block's text."""
        parts: list[str] = []
        kept = 0
        for start, end in self.spans(text):
            parts += (
                text[kept:start],
                replacement if isinstance(replacement, str) else replacement(text[start:end]),
            )
            kept = end
        parts.append(text[kept:])
        return "".join(parts)

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Where each block stands in ``text`` (start, end), first to last."""
        searched = 0
        # No block of a kind starts before this place (past the text's end: none is left).
        none_before: dict[str, int] = {}
        # Of a kind that nests: where each opener's own closer ends, worked out once per text.
        nested: dict[str, dict[int, int]] = {}
        while (opener := self._finder.search(text, searched)) is not None:
            start, kind = opener.start(), opener.lastgroup or ""
            block = self._blocks[kind]
            if block.nesting is not None:
                if kind not in nested:
                    nested[kind] = _balanced(text, block.nesting)
                if start in nested[kind]:
                    yield start, nested[kind][start]
                    searched = nested[kind][start]
                    continue
            end = self._end(text, start, kind, none_before) if start >= none_before.get(kind, 0) else None
            if end is None:
                searched = start + 1
                continue
            yield start, end
            searched = end

    def _end(self, text: str, start: int, kind: str, none_before: dict[str, int]) -> int | None:
        block = self._blocks[kind]
        if block.head_end is not None:
            head_end = text.find(block.head_end, start)
            if head_end < 0:
                none_before[kind] = len(text) + 1
                return None
        head = block.head.match(text, start)
        if head is None:
            if block.head_end is not None:
                none_before[kind] = head_end + 1
            return None
        if block.closer is None:
            return head.end()
        closer = block.closer.search(text, head.end())
        if closer is None:
            none_before[kind] = len(text) + 1
            return None
        return closer.end()


def _balanced(text: str, nesting: re.Pattern[str]) -> dict[int, int]:
    """Each opener's start → the end of the closer that closes it, its inner blocks closed in between,
    in one pass. An opener never closed is not in it (it reads, as before, to the first closer)."""
    ends: dict[int, int] = {}
    open_at: list[int] = []
    for found in nesting.finditer(text):
        if found.lastgroup == "opens":
            open_at.append(found.start())
        elif open_at:
            ends[open_at.pop()] = found.end()
    return ends


def _block(
    head: str, head_end: str | None = None, closer: str | None = None, opens: str | None = None
) -> _Block:
    """``opens``: a block of the kind nests, and this is its opener, with no character that reads on
    past the next block's start (so that the one pass over the text stays linear)."""
    return _Block(
        re.compile(head, _BLOCK_FLAGS),
        head_end,
        re.compile(closer, _BLOCK_FLAGS) if closer else None,
        re.compile(f"(?P<opens>{opens})|(?P<closes>{closer})", _BLOCK_FLAGS) if opens and closer else None,
    )


_PRE = (r"<pre\b", _block(r"<pre\b[^>]*>", ">", r"</pre>"))
# ```…``` and ~~~…~~~ (to the end if never closed), <pre>…</pre>.
_CODE_BLOCK = _Blocks(
    {
        "backticks": ("```", _block("```", closer=r"```|\Z")),
        "tildes": ("~~~", _block("~~~", closer=r"~~~|\Z")),
        "pre": _PRE,
    }
)
# A fenced block's opening line (its fence and language: "```bash") and its closing fence.
_FENCES = re.compile(r"^(?:```|~~~)[^\n]*|```|~~~")
# The code blocks a reply's own words hold, which no quote is inside of: a fence that opens its line
# (one after "> " is quoted), <pre>…</pre>. A fence never closed runs to the end, as Markdown reads it.
_OWN_CODE_BLOCK = _Blocks(
    {
        "backticks": (r"^[ \t]*```", _block(r"^[ \t]*```", closer=r"^[ \t]*```|\Z")),
        "tildes": (r"^[ \t]*~~~", _block(r"^[ \t]*~~~", closer=r"^[ \t]*~~~|\Z")),
        "pre": _PRE,
    }
)
# Markdown's indented code blocks (``markdown_text.indented_code_spans``), read only in Markdown: an
# HTML body (Stack Overflow's, a forum post's cooked HTML) puts its code in <pre>, and its
# indentation is layout. Such a body closes its paragraphs; a "<br>" alone is no sign of one: Markdown
# writes it for a line break, in a table's cell above all.
_HTML_BODY = re.compile(r"</(?:p|div|li|ul|ol|pre|blockquote|table|h[1-6])>", re.IGNORECASE)


def _indented_code(text: str) -> Iterator[tuple[int, int]]:
    if not _may_hold_indented_code(text):
        return iter(())
    return indented_code_spans(text)


def _without_indented_code(text: str) -> str:
    return replace_indented_code(text, "\n")[0] if _may_hold_indented_code(text) else text


def _may_hold_indented_code(text: str) -> bool:
    return ("    " in text or "\t" in text) and not ("<" in text and _HTML_BODY.search(text))


# A line a quote starts with, "> " or, in HTML, "&gt; " (after its blanks: where a mark goes that keeps
# a code line starting so from reading as a quote).
_QUOTE_MARK = re.compile(r"^[ \t]*(?=>|&gt;)", _BLOCK_FLAGS)
# [quote]…[/quote], <blockquote>…</blockquote>, Discourse's <aside class="quote">…</aside>, "> " lines.
_QUOTE = _Blocks(
    {
        "bbcode": (
            r"\[quote",
            _block(r"\[quote[^\]]*\]", "]", r"\[/quote\]", opens=r"\[quote(?:[ =][^\][]*)?\]"),
        ),
        "blockquote": (
            r"<blockquote\b",
            _block(r"<blockquote\b[^>]*>", ">", r"</blockquote>", opens=r"<blockquote\b[^<>]*>"),
        ),
        "aside": (r"<aside\b", _block(r"<aside\b[^>]*\bquote\b[^>]*>", ">", r"</aside>")),
        "line": (r"^[ \t]*(?:>|&gt;)", _block(r"^[ \t]*(?:>|&gt;).*?$")),
    }
)
# The line a mail client puts above the message it quotes ("On Mon, Nov 30, 2026 at 10:00 AM Ann
# <notifications@github.com> wrote:", often wrapped over two lines): part of the quote, as GitHub
# and GitLab show e-mail replies.
_ATTRIBUTION = re.compile(
    r"^[ \t]*On\b[^\n]{0,300}?(?:\n[^\n]{0,300}?)?\bwrote:[ \t]*\n(?=(?:[ \t]*\n)*[ \t]*(?:>|&gt;))",
    re.IGNORECASE | re.MULTILINE,
)
# A signature starts at a line that is only "--" (the "-- " convention, or its trimmed form).
_SIGNATURE = re.compile(r"^--[ \t]*$.*", re.DOTALL | re.MULTILINE)
# Lines a mail or phone client appends: "Sent from my iPhone", "Get Outlook for Android".
_CLIENT_LINE = re.compile(
    r"^[ \t]*(?:sent from my|sent from mail for|sent via|get outlook for)\b.*?$",
    re.IGNORECASE | re.MULTILINE,
)
# No "<" inside: from each "<" of a long run of them with no ">" after, "[^>]+" read to the end.
_HTML_TAG = re.compile(r"<[^<>]+>")
# Inline code in the reply's own words (``own_words`` keeps it), as Markdown writes it.
_INLINE_CODE = _Blocks({"backtick": ("`", _block(r"`[^`\n]*`"))})
# Inline code as HTML writes it (Stack Overflow, a forum post's HTML): read before ``own_words``, which
# reads the tags as text and so leaves the code's words in the sentence.
_HTML_INLINE_CODE = _Blocks({"code": (r"<code\b", _block(r"<code\b[^>]*>", ">", r"</code>"))})
# A link's text, as HTML (Stack Overflow, a forum post's HTML) and Markdown write it: the title of what
# it links to ("Possible duplicate of <a href=…>How do I …?</a>"), whose "?" is that page's question.
_HTML_LINK = _Blocks({"a": (r"<a\b", _block(r"<a\b[^>]*>", ">", r"</a>"))})
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]{0,300}\]\([^)\s]{0,2000}\)")
_URL = re.compile(r"https?://\S+")
# A picture: Markdown's "![alt](url)", maybe as a link ("[![alt](url)](url)") and with the size GitLab
# writes after an upload ("{width=617 height=364}"), and the <img> tag GitHub writes for an upload.
# A link's "[" before a picture is left: a mark, no word; read from the "!" the search skips to "![".
# Bounded: from each "![" of a long line without "](" an open-ended class read to the line's end.
_MARKDOWN_IMAGE = re.compile(
    r"!\[[^\]\n]{0,300}\]\([^)\s]{0,2000}\)(?:\]\([^)\s]{0,2000}\))?"
    r"(?:\{[ \t]*(?:(?:width|height)=[\w.%]{1,20}[ \t]*){1,2}\})?"
)
_IMAGE_TAG = re.compile(r"<img\b", re.IGNORECASE)
# Emoji written as shortcodes (":+1:", ":thumbsup:") are emoji too.
_EMOJI_SHORTCODE = re.compile(r":[a-z0-9_+-]+:", re.IGNORECASE)
# Faces typed with the keyboard are emoji too: ":(", ";-)", ":P", "D:" (dismay), "xD", "^^", "<3".
# Standing alone only: "D:\backup" is a drive, "8:30" a time, "https://" a link.
_EMOTICON = re.compile(
    r"(?<![\w:/])(?:[:;=][-'^]?[()\[\]DPpOo3/\\|*]+|[()\[\]D][-']?[:;=]|[xX][dD]+|\^_*\^|<3+)(?![\w\\/:])"
)
_SPACES = re.compile(r"\s+")


def without_quotes(text: str) -> str:
    """``text`` without what it quotes (with a mail client's "On … wrote:" line above it): code
    blocks, HTML and the rest stay as they are. A line of the reply's own code block that starts with
    ">" (a shell prompt, a diff) is code, not a quote; a code block inside a quote is quoted."""
    text = _unix_lines(text)
    lowered = text.lower()
    if not ("```" in text or "~~~" in text or "<pre" in lowered) or not (">" in text or "&gt;" in lowered):
        return _drop_quotes(text, lowered)
    # A mark longer than any run of NULs in the text: only the ones put here are taken out again.
    mark = "\x00" * (max(map(len, re.findall("\x00+", text)), default=0) + 1)
    masked = _OWN_CODE_BLOCK.sub(lambda block: _QUOTE_MARK.sub(lambda m: m[0] + mark, block), text)
    return _drop_quotes(masked, lowered).replace(mark, "")


def _unix_lines(text: str) -> str:
    # GitHub and GitLab keep what a web form or an e-mail reply sent: lines ending in CRLF. The
    # patterns here read a line as ending at "\n" (a "-- " signature line, "wrote:" above a quote).
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _drop_quotes(words: str, lowered: str) -> str:
    """``words`` without its quotes and their "On … wrote:" lines; ``lowered``: the text read, lower
    case, whose markers say which patterns need to run (most replies have none)."""
    if "wrote:" in lowered:
        words = _ATTRIBUTION.sub("", words)
    # Discourse and Stack Overflow quote in HTML too.
    if "[quote" in lowered or "<" in lowered or ">" in lowered or "&gt;" in lowered:
        words = _QUOTE.sub("\n", words)
    return words


@lru_cache(maxsize=8192)  # replies repeat ("+1", "Same here."), and a thread is read by several rules
def own_words(text: str) -> str:
    """The reply's own words: quoted text (with a mail client's "On … wrote:" line above it), code
    blocks and signatures removed, HTML read as text.

    Inline code stays: a short `setting` named in a sentence is part of what the reply says.
    """
    text = _unix_lines(text)
    # Each pattern runs only where its marker occurs (most replies have none of them): this is
    # read for every reply of every post in the window, at 100,000 posts a day too.
    lowered = text.lower()
    words = text
    # Code first: a ">" or "--" inside a code block is code, not a quote or a signature.
    if "```" in text or "~~~" in text or "<pre" in lowered:
        words = _CODE_BLOCK.sub("\n", words)
    words = _without_indented_code(words)
    # Quotes are removed before the tags.
    words = _drop_quotes(words, lowered)
    if "--" in text:
        words = _SIGNATURE.sub("", words)
    if "sent " in lowered or "get outlook" in lowered:
        words = _CLIENT_LINE.sub("", words)
    if "<" in words:
        words = _HTML_TAG.sub(" ", words)
    return _SPACES.sub(" ", html.unescape(words)).strip()


# "?" as each script writes it: the ASCII one, the full-width one of Chinese and Japanese, the Arabic one.
QUESTION_MARKS = ("?", "\uff1f", "\u061f")
# The marks no URL syntax uses (a query string starts with the ASCII "?"): they ask wherever they
# stand, also right after a link, where Chinese and Arabic put no space ("参考https://…，哪个版本？")
# and a link read up to the next space would take the question with it.
_PROSE_ONLY_MARKS = tuple(mark for mark in QUESTION_MARKS if mark != "?")


@lru_cache(maxsize=8192)
def asks_a_question(text: str) -> bool:
    """A ``?`` in the author's own words: quotes, code, URLs (query strings) and the titles links show
    do not count."""
    lowered = text.lower()
    if "<code" in lowered:
        text = _HTML_INLINE_CODE.sub(" ", text)
    if "<a" in lowered:
        text = _HTML_LINK.sub(" ", text)
    if "](" in text:
        text = _MARKDOWN_LINK.sub(" ", text)
    words = _INLINE_CODE.sub(" ", own_words(text))
    if any(mark in words for mark in _PROSE_ONLY_MARKS):
        return True
    return "?" in _URL.sub(" ", words)


@lru_cache(maxsize=64)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first, so "same issue" wins over "same"; bounded by non-word characters so that "up"
    # is a phrase only on its own, never inside "setup". "+1" starts with no word character, so the
    # boundary is a lookaround rather than \b.
    ordered = sorted({p.strip().casefold() for p in phrases if p.strip()}, key=len, reverse=True)
    if not ordered:
        return None
    # The phrases written with spaces share their boundary before: checked once per place, not once
    # per phrase, the search is 4x faster (ask phrases on 200,000 replies: 27 s, then 7 s). A phrase
    # of the other group starts with another character, so the first phrase to match is the same.
    spaced = [p for p in ordered if not _UNSPACED_SCRIPT.match(p[0])]
    branches = [_bounded(p) for p in ordered if _UNSPACED_SCRIPT.match(p[0])]
    if spaced:
        branches.insert(0, r"(?<!\w)(?:" + "|".join(re.escape(p) + _bound_after(p) for p in spaced) + ")")
    return re.compile("|".join(branches), re.IGNORECASE)


# Chinese and Japanese put no spaces between words: a phrase in those scripts ("请提供", "please
# provide") stands between other words ("麻烦请提供一下日志"), so it needs no boundary on that side.
_UNSPACED_SCRIPT = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


# Yet a phrase that starts with "请"/"請" ("please") is no request where that character is the end of
# another word: "申请" (apply), "邀请" (invite), "聘请" (hire), "宴请" (host): "申请提供日志的权限"
# tells of applying for access to the logs.
_WORD_BEFORE_PLEASE = "申邀聘宴"
_NOT_A_WORD_ENDING: dict[str, str] = {"请": _WORD_BEFORE_PLEASE, "請": _WORD_BEFORE_PLEASE}


def _bounded(phrase: str) -> str:
    if not _UNSPACED_SCRIPT.match(phrase[0]):
        before = r"(?<!\w)"
    else:
        ending = _NOT_A_WORD_ENDING.get(phrase[0], "")
        before = f"(?<![{ending}])" if ending else ""
    return f"{before}{re.escape(phrase)}{_bound_after(phrase)}"


def _bound_after(phrase: str) -> str:
    return "" if _UNSPACED_SCRIPT.match(phrase[-1]) else r"(?!\w)"


_NOT_A_WORD = re.compile(r"[^\w\s]+")


def _words_alone(text: str) -> str:
    """``text`` without its emoji and punctuation, spaces folded: what it says in words."""
    return _SPACES.sub(" ", _NOT_A_WORD.sub(" ", text)).strip()


def _has_words(text: str) -> bool:
    """Any letter or digit left: emoji and punctuation alone say nothing."""
    return any(char.isalnum() for char in text)


def is_me_too(text: str, responses: ResponsesSection) -> bool:
    """The reply's own words say nothing beyond "me too": empty, emoji or punctuation only (of any
    length), or only configured me-too phrases no longer than ``me_too_max_chars``."""
    return _is_me_too(
        text,
        tuple(responses.me_too_phrases),
        responses.me_too_max_chars,
        tuple(responses.me_too_filler_words),
    )


# A reply is judged by several rules of one run (its post's answer state, the [Help Wanted]
# sections, the state table's first response), one after the other.
@lru_cache(maxsize=65536)
def _is_me_too(text: str, phrases: tuple[str, ...], max_chars: int, fillers: tuple[str, ...] = ()) -> bool:
    words = own_words(text)
    pictureless = _MARKDOWN_IMAGE.sub(" ", words) if "![" in words else words
    rest = _EMOTICON.sub(" ", _EMOJI_SHORTCODE.sub(" ", pictureless))
    # Emoji and punctuation alone say nothing however many there are: the length limit is for
    # phrases (a long reply that starts "same here" may go on to say what fixed it), so it counts
    # the words alone: a row of emoji after "Same here" adds nothing to say.
    if not _has_words(rest):
        # Nothing of its own but a pasted log, config or screenshot (what a question asked for) is
        # no me-too; an emoji or "+1" beside one still is (the SPEC's "emoji only", code removed).
        return bool(pictureless.strip()) or not _attaches(text)
    if len(_words_alone(rest)) > max_chars:
        return False
    pattern = _phrase_pattern(phrases)
    if pattern is None:
        return False
    rest, found = pattern.subn(" ", rest)
    if found and _has_words(rest):
        # "Any update on this issue?", "+1 from our team", "@dev any update?": what is left after
        # the phrases is words that add nothing, and the people pinged for news.
        rest = _MENTION.sub(" ", rest)
        filler = _phrase_pattern(fillers) if fillers else None
        if filler is not None:
            rest = filler.sub(" ", rest)
    return not _has_words(rest)


def _attaches(text: str) -> bool:
    """A screenshot or a code block with something in it, of the reply's own (not in what it quotes)."""
    text = _unix_lines(text)
    lowered = text.lower()
    code = "```" in text or "~~~" in text or "<pre" in lowered
    indented = "    " in text or "\t" in text
    if not code and not indented and "![" not in text and "<img" not in lowered:
        return False
    mine = _drop_quotes(text, lowered)
    if _MARKDOWN_IMAGE.search(mine) or _IMAGE_TAG.search(mine):
        return True
    if code and any(
        _has_words(_HTML_TAG.sub(" ", _FENCES.sub(" ", mine[start:end])))
        for start, end in _CODE_BLOCK.spans(mine)
    ):
        return True
    return indented and any(_has_words(mine[start:end]) for start, end in _indented_code(mine))


_MENTION = re.compile(r"(?<![\w@])@[\w.-]+")


def asks_the_author(text: str, responses: ResponsesSection) -> bool:
    """A reply that asks something: a ``?`` in its own words, a configured ask phrase, a question
    or a request worded as one without its mark ("did you run the setup script", "Send the crash
    log"), or a request to be sent something ("Send me the logs.")."""
    if asks_a_question(text):
        return True
    words = own_words(text)
    asking = _phrase_pattern(tuple(responses.ask_phrases))
    if asking is not None and asking.search(_IF_IT_FAILS.sub(" ", words)) is not None:
        return True
    return _ASKS_WITHOUT_A_MARK.search(words) is not None or asks_to_be_sent(words.lower())


# A courtesy after a fix or an answer, to come back only if it fails: "This should be resolved now,
# please let us know if it isn't", "Let me know if you think it's not fixed", "let me know if it still
# happens". It asks nothing of the author now. "let me know if you can reproduce it on 2.1" does ask,
# and so does any such courtesy with a "?".
_IF_IT_FAILS = re.compile(
    r"\blet[ \t]+(?:me|us)[ \t]+know[ \t]+if\b[^.!?;\n]*?"
    r"(?:\b(?:not|never|still|persists?|continues?|recurs?|reappears?|again|comes?[ \t]+back)\b|n't|n’t)"
    r"[^.!?;\n]*",
    re.IGNORECASE,
)


# A question people type without its "?": a sentence that opens by asking the reader whether they did,
# can or will do something ("did u run the installer", "Can you try doing: 1. …", "Have you checked the
# port"), after a greeting (with a name: "Hi Joe, could you attach the log") or a mention at most; or
# one that opens by telling them to send what shows the problem ("Send the crash log", "Attach a
# screenshot", "Please share your config"). Only at a sentence's start: "you can try", "as you did", "what you could do is …" and "it sends a mail" tell,
# they do not ask. Nor do a tip ("Did you know you can …") and a step of an answer, whose object is
# no evidence ("Upload a new version of the plugin", "Send a test message to confirm", "Share the
# link with your team").
_ASKS_WITHOUT_A_MARK = re.compile(
    r"(?:^|[.!;:])[ \t]*(?:(?:(?:hi|hello|hey|dear)[ \t]+[\w.-]+[ \t]*,"
    r"|(?:@[\w.-]+|hi|hello|hey|ok|okay|so|and|also|then|btw|please|pls|plz|kindly|just)\b)[ \t,:]*)*"
    r"(?:(?:did|do|have|are|were|can|could|would|will)[ \t]+(?:you|u)[ \t]+(?!know[ \t]+(?:that|you|there|about|we|it)\b)\w"
    r"|(?:send|attach|upload|share|post|paste)[ \t]+(?:the|a|an|your|some|more|any|us|me)"
    r"(?:[ \t]+[\w'-]+){0,3}?[ \t]+[\w-]*(?:logs?|screenshots?|screen[ \t]?shots?|screencasts?|config\w*|settings"
    r"|outputs?|traces?|tracebacks?|dumps?|details|info\w*|errors?|files?|videos?|recordings?|captures?|hars?"
    r"|steps|examples?|snippets?|json|ya?ml|responses?|versions?[ \t]+(?:number|info)\w*)\b)",
    re.IGNORECASE,
)


# Someone to give the replier something ("send me", "DM us the config", "share them with me", "let me
# see the output"): "me" or "us" is whom to send to. Not a moment to wait ("give me a minute"), nor
# the replier's own looking ("let me have a look", "let me see what I find", "let me look into it").
SENT_TO_REPLIER = re.compile(
    r"\b(?:send|give|show|tell|email|e-mail|mail|dm|pm|forward)[ \t]+(?:me|us)\b"
    r"(?![ \t]+(?:a|an|one|some|a[ \t]+few|more)[ \t]+(?:moment|sec\w*|minutes?|min|hours?|days?|while|time|bit)\b)"
    r"|\b(?:send|give|show|email|e-mail|mail|dm|pm|forward|pass|paste|attach|post|upload|share|provide)\b"
    r"(?:[ \t]+[\w'-]+){1,4}?[ \t]+(?:to|with)[ \t]+(?:me|us)\b"
    r"|\blet[ \t]+(?:me|us)[ \t]+(?:see|have)[ \t]+(?!a[ \t]+look\b)(?:your|the|those|these|them|that|it|a|some|any)\b"
)
# A request opens its sentence or clause: at the start, after a mark ("If it comes back, send me the
# logs"), a mention or "please", or as what the author can do ("you can DM me"); "it doesn't send us
# anything" or "the bot will email me" tell of what happens. Read on the words before the verb.
_REQUEST_OPENS = re.compile(
    r"(?:(?:^|[.!?;:,(\n])(?:[ \t]*@[\w.-]+[,:]?)*[ \t]*(?:(?:and|or|but|so|then|now|also|just)[ \t]+)*"
    r"|\b(?:please|pls|plz|kindly|feel free to)[ \t]+)"
    r"(?:(?:you[ \t]+)?(?:can|could|may|might)[ \t]+)?(?:(?:also|please|just)[ \t]+)*$"
)


# Whom to send to, as every request names it: few replies have it, and looking for it alone is 9x
# faster than the request's verbs (a reply of every post is read, 100,000 a day).
_TO_ME_OR_US = re.compile(r"[ \t](?:me|us)\b")


def asks_to_be_sent(words: str) -> bool:
    """The words (a reply's own, lower case) ask the author to send the replier something."""
    return _TO_ME_OR_US.search(words) is not None and any(
        _REQUEST_OPENS.search(words, max(0, found.start() - 60), found.start()) is not None
        for found in SENT_TO_REPLIER.finditer(words)
    )


# A negation in the words just before a phrase ("that has not solved it", "it's not resolved yet",
# "never worked"): punctuation ends its reach, so "Not sure why, but it works now" still says so.
_NEGATED_BEFORE = re.compile(
    r"(?:\b(?:not|never|no longer|nothing)|n't|n’t)(?:[ \t]+[\w'’-]+){0,2}[ \t]*$", re.I
)


def says_it_is_solved(text: str, responses: ResponsesSection) -> bool:
    """The author says it is solved ("that worked"), not that it is not, and asks nothing more."""
    pattern = _phrase_pattern(tuple(responses.resolved_phrases))
    if pattern is None or asks_a_question(text):
        return False
    words = own_words(text)
    backwards = words[::-1]
    return any(
        not _negated_before(words, backwards, found.start())
        and not _contrasted(words, found.start(), found.end())
        for found in pattern.finditer(words)
    )


# A sentence that sets what works against what does not, or tells how it was: "It works fine with
# Chrome but not with Firefox", "Everything else works, only the export fails", "It was working fine
# until yesterday", "It used to work fine in 10.4". Such an author reports more of the problem, which
# waits on the team still: wrongly read as solved, the post would leave every list unanswered.
# Not the words that thank ("It works now, but thanks anyway", "Thanks though, it works") nor the
# ones that tell how little it took ("works fine now, only had to restart").
_NO_CONTRAST_BEFORE = r"(?<!thanks )(?<!thank you )"
_NO_CONTRAST_AFTER = r"(?![ \t,]+(?:thanks?|thx)\b|[ \t]+(?:had|needed|have|need)[ \t]+to\b)"
_CONTRAST = re.compile(
    rf"\b{_NO_CONTRAST_BEFORE}(?:but|except|until|till|however|though|although|whereas|else|only|used to"
    rf"|(?:was|were)[ \t]+working)\b{_NO_CONTRAST_AFTER}",
    re.IGNORECASE,
)
# A sentence that opens by setting itself against the one before ("However, …", "But the export …").
_OPENS_A_CONTRAST = re.compile(
    rf"[ \t]*(?:but|however|though|although|except|only|yet)\b{_NO_CONTRAST_AFTER}", re.IGNORECASE
)
# Words after it telling that something still fails, with no contrast word ("It works fine on desktop.
# The mobile app still crashes.", "that worked, but I'm still getting the error on mobile"): present
# tense, so "it didn't work before the restart" tells how it was, not that it fails.
_STILL_FAILS = re.compile(
    r"\b(?:still|again)\b[^.!?;\n]{0,40}?\b(?:fail|crash|error|broken|hang|freez|throw)\w*"
    r"|\b(?:does|do|is|are)(?:n't|n’t|[ \t]+not)[ \t]+(?:work|load|start|open|sync|connect)\w*"
    r"|\bnot[ \t]+working\b",
    re.IGNORECASE,
)
# A sentence ends at a line end or at a mark before a blank (not the dots of "1.4" or "e.g.x").
_SENTENCE_END = re.compile(r"[.!?;](?!\S)|\n")


def _contrasted(words: str, start: int, end: int) -> bool:
    """Whether the sentence holding ``words[start:end]`` (a resolved phrase) sets it against something."""
    before = 0
    for mark in _SENTENCE_END.finditer(words, 0, start):
        before = mark.end()
    after = _SENTENCE_END.search(words, end)
    if _CONTRAST.search(words, before, after.start() if after else len(words)) is not None:
        return True
    # The next sentence may open by setting itself against it ("It works fine. However, the mobile app
    # still crashes."; a line break is a blank in the words read), or a later one say what still fails.
    if after is not None and _OPENS_A_CONTRAST.match(words, after.end()) is not None:
        return True
    return _STILL_FAILS.search(words, end) is not None


# What a negation before a phrase can span, read backwards from the phrase: its blanks, three words
# ("no longer" and two more) with theirs, and the word before them ("isn't").
_WORDS_BACK = re.compile(r"[ \t]*(?:[\w'’-]+[ \t]+){0,3}[\w'’-]*")


def _negated_before(words: str, backwards: str, end: int) -> bool:
    """A negation just before ``words[end]``. Searched from the start of ``words``, each of a
    reply's phrases read all the words before it ("not that worked." 3,800 times: 11 s); it can
    only start in the few words before the phrase."""
    # "$" also stands before a line end at ``end`` (own_words leaves none, its blanks are folded).
    last = end - 1 if words.endswith("\n", 0, end) else end
    back = _WORDS_BACK.match(backwards, len(words) - last)
    reach = back.end() - back.start() if back is not None else 0
    return _NEGATED_BEFORE.search(words, last - reach, end) is not None


# ----- the thread as of T -----------------------------------------------------------------------


def is_open_at(post: Post, as_of: datetime) -> bool:
    if post.state == "open":
        # Open now, but closed at T by a closure that a reopening after T ended.
        reopened, closed = post.reopened_at, post.closed_at
        return not (reopened is not None and closed is not None and closed <= as_of < reopened)
    # Closed now, but a closure after T had not happened yet at T. A closure with no known time
    # (e.g. a closed forum topic) is taken as already closed.
    return post.closed_at is not None and post.closed_at > as_of


def state_at(post: Post, as_of: datetime) -> str:
    """ "open" or "closed" as of T (a post closed after T is shown open, as it was on T's day)."""
    return "open" if is_open_at(post, as_of) else "closed"


def has_accepted_answer_at(post: Post, as_of: datetime) -> bool:
    """An accepted answer (Stack Overflow) or a marked solution (Discourse) by T."""
    return post.accepted_at is not None and post.accepted_at <= as_of


def status_at(suggestion: Post, as_of: datetime) -> str:
    """The suggestion's status at T (SPEC §4: a status change after T does not exist for the run).

    Its status now, unless a status update came after T: then the one the last update at or before
    T set, else the one the first later update left ("" when none is known: UserVoice suggestions
    get a status only through an update)."""
    later = [move for move in suggestion.status_moves if move.at > as_of]
    if not later:
        return suggestion.status
    earlier = [move for move in suggestion.status_moves if move.at <= as_of]
    if earlier:
        return max(earlier, key=lambda move: move.at).status
    return min(later, key=lambda move: move.at).previous


def replies_at(post: Post, as_of: datetime) -> list[Reply]:
    return [r for r in post.replies if r.created_at <= as_of]


def is_reply_bot(reply: Reply, roster: StaffRoster) -> bool:
    return roster.is_bot(reply.author, reply.author_is_bot)


def is_reply_staff(post: Post, reply: Reply, roster: StaffRoster) -> bool:
    return roster.is_staff(post.channel, reply.author, reply.author_platform_staff)


def is_by_author(post: Post, reply: Reply) -> bool:
    return may_be_the_author(reply.author, post.author, reply.author_id, post.author_id)


def is_substantive(reply: Reply, roster: StaffRoster, responses: ResponsesSection) -> bool:
    """Not by a bot and not a me-too: a reply that can answer (reactions and likes never reach here)."""
    return not is_reply_bot(reply, roster) and says_something(reply, responses)


def says_something(reply: Reply, responses: ResponsesSection) -> bool:
    """Not a me-too. A reply without any text is one whose words the source did not give (every
    upstream requires a body): there is nothing to judge, so it counts as the reply it is."""
    return not reply.body.strip() or not is_me_too(reply.body, responses)


def substantive_replies(post: Post, roster: StaffRoster, settings: Settings, as_of: datetime) -> list[Reply]:
    """Replies before T that say something: no bot, no me-too. The author's own are kept."""
    kept = [r for r in replies_at(post, as_of) if is_substantive(r, roster, settings.responses)]
    return sorted(kept, key=lambda r: (r.created_at, r.reply_id))


def answer_state(
    post: Post,
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    replies: Sequence[Reply] | None = None,
) -> AnswerState:
    """Where the ball is at T, from the substantive replies before T (SPEC §4 "Answer state").

    ``replies``: the post's ``substantive_replies`` at T, when the caller has worked them out already.
    """
    if not is_open_at(post, as_of) or has_accepted_answer_at(post, as_of):
        return "answered"
    if replies is None:
        replies = substantive_replies(post, roster, settings, as_of)
    if not any(not is_by_author(post, r) for r in replies):
        return "unanswered"
    latest = replies[-1]
    if not is_by_author(post, latest):
        if passes_it_on(post, latest, roster, as_of):
            # Staff handing the post to a colleague ("@bob can you look at this one?"): no answer yet.
            return "waiting_on_us"
        asks = asks_the_author(latest.body, settings.responses) and not addresses_others(post, latest)
        return "waiting_on_reporter" if asks else "answered"
    # The author spoke last, after someone else: back with the team, unless it says it is solved.
    return "answered" if says_it_is_solved(latest.body, settings.responses) else "waiting_on_us"


# A reply that opens by naming people ("@bob why not …?", "@bob, @carol: …").
_OPENING_MENTIONS = re.compile(r"^(?:@[\w.-]+[\s,:;]*)+")
# Stack Overflow takes a display name's first letters, three at least, without its spaces.
_MENTION_PREFIX = 3


def addresses_others(post: Post, reply: Reply) -> bool:
    """The reply opens by naming people and never names the post's author: what it asks, it asks them
    (another helper, a maintainer), not the author."""
    words = own_words(reply.body)
    if not _OPENING_MENTIONS.match(words):
        return False
    author = _mention_key(post.author)
    return bool(author) and not any(_names(author, mention) for mention in _MENTION.findall(words))


def passes_it_on(post: Post, reply: Reply, roster: StaffRoster, as_of: datetime) -> bool:
    """Staff writing to other staff only: the reply opens by naming people, never the author, and
    each one it names is staff (on the roster, or a reply of theirs in the thread before T says so:
    one made after T does not exist for the run). It neither answers the author nor asks them
    anything: the post still waits on the team."""
    if not is_reply_staff(post, reply, roster) or not addresses_others(post, reply):
        return False
    by_platform = {r.author.casefold() for r in replies_at(post, as_of) if r.author_platform_staff}
    named = {_mention_key(mention.removeprefix("@")) for mention in _MENTION.findall(own_words(reply.body))}
    return all(name in by_platform or roster.is_staff(post.channel, name) for name in named)


def _mention_key(name: str) -> str:
    return "".join(name.split()).casefold().rstrip(".-")


def _names(author: str, mention: str) -> bool:
    named = _mention_key(mention.removeprefix("@"))
    return named == author or (len(named) >= _MENTION_PREFIX and author.startswith(named))


# ----- days on the [Help Wanted] list -----------------------------------------------------------


def community_reply_to_staff_question(
    post: Post, roster: StaffRoster, settings: Settings, as_of: datetime
) -> Reply | None:
    """The first substantive community reply after the latest staff post before T, if that post asks.

    The opening post counts as a post of the thread: staff may open a topic with a question. A
    me-too after the question does not answer it.
    """
    return reply_to_staff_question(
        post,
        as_of,
        is_bot=lambda r: is_reply_bot(r, roster),
        is_staff=lambda author, platform_staff: roster.is_staff(post.channel, author, platform_staff),
        says=lambda r: says_something(r, settings.responses),
    )


def reply_to_staff_question(
    post: Post,
    as_of: datetime,
    *,
    is_bot: Callable[[Reply], bool],
    is_staff: Callable[[str, bool], bool],
    says: Callable[[Reply], bool],
) -> Reply | None:
    """:func:`community_reply_to_staff_question` with the judges given: the rules' reader passes
    its memoised ones (read for every post of the window)."""
    replies = [r for r in replies_at(post, as_of) if not is_bot(r)]
    if len(replies) > 1:
        replies.sort(key=_thread_order)
    staff = [is_staff(r.author, r.author_platform_staff) for r in replies]
    # The latest staff post: a reply (its index), else the opening post (-1), else none.
    last = next((i for i in range(len(staff) - 1, -1, -1) if staff[i]), None)
    if last is None:
        if not is_staff(post.author, post.author_platform_staff):
            return None
        last = -1
    if not asks_a_question(replies[last].body if last >= 0 else post.body):
        return None
    later = (r for r, by_staff in zip(replies[last + 1 :], staff[last + 1 :], strict=True) if not by_staff)
    return next((r for r in later if says(r)), None)


def _thread_order(reply: Reply) -> tuple[datetime, str]:
    return (reply.created_at, reply.reply_id)


def joined_list_at(
    post: Post, section: HelpWantedSection, roster: StaffRoster, settings: Settings, as_of: datetime
) -> datetime:
    """When the post first qualified for ``section`` of the [Help Wanted] list, as of T.

    Waiting for a first response: two days (``first_response_min_age_days``) after it was posted.
    A new reply to a core-team question: when the community answered the staff question. After the
    release: when it was posted (it is new in the day, so day 1).
    """
    if section == "waiting_for_first_response":
        return post.created_at + timedelta(days=settings.digest.first_response_min_age_days)
    if section == "new_reply_to_core_team_question":
        reply = community_reply_to_staff_question(post, roster, settings, as_of)
        if reply is not None:
            return reply.created_at
    return post.created_at


def day_on_list(joined_at: datetime, as_of: datetime) -> int:
    """Day 1 on the day it joins, day 2 a day later: whole days since joining, plus one."""
    return max((as_of - joined_at) // DAY, 0) + 1


def ladder_step(day: int, escalation: EscalationSection) -> LadderStep:
    if day >= escalation.escalate_day:
        return "escalated"
    if day >= escalation.mention_rotation_day:
        return "mention_rotation"
    return "listed"


def ages_out_at(post: Post, settings: Settings) -> datetime:
    """The moment the post leaves the [Help Wanted] window (created ≤ T − ``max_age_days``)."""
    return post.created_at + timedelta(days=settings.digest.max_age_days)


def is_last_call(post: Post, settings: Settings, as_of: datetime) -> bool:
    """It ages out of the list within ``last_call_days`` days after T."""
    left = ages_out_at(post, settings) - as_of
    return timedelta(0) < left <= timedelta(days=settings.escalation.last_call_days)
