"""Post type: exactly one of bug, troubleshooting, feature_proposal, question, with the deciding rule.

The rules file's ``post_types`` (SPEC §4 "Post type") drives everything here; this module only
weighs it. In order:

1. **Deciding labels and categories.** A label mapped in ``labels`` (matched case-insensitively as
   the whole label, its part before ``/`` or ``:``, or one of its ``/``/``:`` segments, so
   ``Bug Report`` matches ``Bug Report/Fixed`` and ``Bug`` matches ``Type/Bug``) decides at once, the
   first of the post's labels that maps winning; on the forum, so does a mapped category.
2. **Evidence, weighed.** Everything else adds weight to a type and the heaviest type wins:

   =============================================  ===========  ========================================
   signal (config key)                            weight       rule shown
   =============================================  ===========  ========================================
   title marker (``title_markers``)               6            ``title marker "Feature request:"``
   wish (``wish_phrases``, ``want_phrases``) in   6 / 4        ``wish "would be nice"``
   the title / body
   feature or question template section filled    4            ``filled section "Use case"``
   in
   a type's phrase (``phrases``) title / body     3 / 2        ``phrase "how do I"``
   title asking for something (``request_verbs``) 3            ``request "Add"``
   on a tracker, a title ending in "bug"          3            ``title ending "bug"``
   ("Make install bug"; not "a bug", "or bug")
   on a tracker, a title naming what it would     3            ``title ending "support"``
   support ("PostgreSQL support"; not "Need
   support", "No support", "Broken IPv6 support")
   server older than ``oldest_supported_server``  1.5 / 0.5    ``old server "7.8"``
   that the author still runs or upgrades from
   ("we still run 6.0", "upgrading from 5.9") /
   named only ("Server Version: 7.8"; counts
   only beside other troubleshooting evidence,
   never alone)
   question-shaped title ("Which port …?"; a     2 / 1        ``question title``
   statement ending in "?", or a title asking
   without its "?" ("does X survive a
   restart"), weighs 1)
   setup marker (``setup_markers``), when the     1.5 each     ``setup "certificate"``
   post describes a problem (a symptom, a bug
   phrase, an error in a log, code or quote, a
   title saying something does not work)
   bug template section filled in                 1.5          ``filled section "Steps to reproduce"``
   form label / form title prefix ("[Bug]:",      1.5          ``label "Bug Report/Open"``
   "bug report:": the form is named, not the
   type; a pictograph in it is dropped) / a
   GitHub issue type (forms set it too)
   troubleshooting symptom ("can't connect") or   1 / 0.5      ``phrase "can't connect"``
   asking for help (``help_phrases``)
   a sentence of the body that asks: it ends in  1            ``question asked``
   "?" after a word, however it opens ("Is it
   encrypted at rest?", "Will it be out on
   iOS?"; not "Can't connect?"), when nothing
   else speaks and the post shows no problem
   (no symptom, error, code or log)
   =============================================  ===========  ========================================

   Each kind of signal counts a few distinct hits at most (so a long post does not win by length),
   and the rule shown is the weightiest signal of the winning type. A post that wishes for a
   capability is a feature proposal even when it asks a question ("Is there a way …? If not, it
   would be a useful feature"): its question phrases then do not count. Wanting something ("I'd
   like to …", "the ability to", ``want_phrases``) weighs as a wish but cancels no question: as
   often it says what the author is trying to do, so beside a question the post asks it weighs
   1.5, less than the question. On a tracker (a channel
   whose default is bug: GitHub, GitLab, Jira) a symptom counts for bug as much as for
   troubleshooting unless the author describes their setup (a setup marker, an old server they
   run): there a problem reported without one is what the maintainers call a bug report. Installing
   the product (``install_markers``: "install", "installation", its Docker image) is no more setup
   than that: a tracker's problem report naming no other setup reports the install failing, unless
   the author asks for help. Asking for help ("please help", "what am I doing wrong?") counts for
   troubleshooting alone.
3. **The channel's default**, when nothing above matched (it also breaks ties: it weighs 0.25).

Text is read as the author wrote it: HTML comments, template instructions and placeholders
(``template_placeholders``; "_No response_", "N/A"), confirmation checkboxes and the template's
own "where to post what" lines are dropped first; template sections count only when filled in
with words (a form's numbered list left as it came, "1. 2. 3.", is not filled in);
code blocks, inline code, pasted logs (timestamps, levels, stack frames, JSON lines), quoted
lines and quoted messages ('Cannot connect to the server') are never searched for phrases, nor
is the content of metadata sections (versions, operating system, log output); a link keeps only
its text or, bare, its host (a screenshot's "https://..." is not the author's setup), in the title as
in the body. A heading's
own words are not read, except a bold line naming no template section and asking nothing: that is
the author's sentence set in bold ("**Add support for the X sensor**").

Everything is compiled once per classifier; ``classify`` runs a fixed handful of linear regular
expressions over each post (phrases through one trie-shaped pattern, so adding phrases costs
almost nothing per post) and nothing is remembered between posts: real posts never repeat. What
a phrase found does (its type, weight, cap and the rule shown) is worked out once per phrase, the
patterns are shaped so that the regex engine jumps to the few places where they can match (a
blank line, a dot, a "[", the character before a word), and ASCII text, most posts, is searched
with ASCII twins of the Unicode classes, which are cheaper to test and match the same there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from community_monitoring.markdown_text import replace_indented_code
from community_monitoring.records import Post, category_names
from community_monitoring.settings import PostTypesSection, Settings

TYPE_HEADINGS: dict[str, str] = {
    "bug": "Bug",
    "troubleshooting": "Troubleshooting",
    "feature_proposal": "Feature Proposal",
    "question": "Developer/Product Question",
}

# Weights of each kind of evidence, and how many distinct hits of one kind count.
W_TITLE_MARKER = 6.0
W_WISH_TITLE, W_WISH = 6.0, 4.0
W_WANT_BESIDE_QUESTION = 1.5  # a want phrase in a post that also asks a question (see _decide)
W_FEATURE_SECTION = 4.0
W_PHRASE_TITLE, W_PHRASE = 3.0, 2.0
W_QUESTION_TITLE = 2.0
W_QUESTION_ASKED = 1.0  # a sentence of the prose asking something ("Is it encrypted at rest?")
W_REQUEST_TITLE = 3.0
# An old server the author says they run or upgrade from is their setup; one only named (a form's
# version field, "Mattermost 7.1 …") is as often a report filed when that version was current.
W_OLD_SERVER_RUN, W_OLD_SERVER_NAMED = 1.5, 0.5
W_SETUP = 1.5
W_SYMPTOM_TITLE, W_SYMPTOM = 1.0, 0.5
W_BUG_SECTION = 1.5
W_FORM = 1.5
W_CHANNEL_DEFAULT = 0.25
MAX_HITS = {"wish": 2, "phrase": 2, "setup": 4, "symptom": 3}
_PHRASE_WEIGHTS = {  # kind -> (in the title, in the body)
    "wish": (W_WISH_TITLE, W_WISH),
    "phrase": (W_PHRASE_TITLE, W_PHRASE),
    "symptom": (W_SYMPTOM_TITLE, W_SYMPTOM),
}

_INTERROGATIVE = re.compile(
    r"^\W*(?:how|what|what's|where|which|why|when|who|does|do|did|is|are|can|could|should|will|would|"
    r"may|has|have|any)\b(?!'t)(?![ \t]+not\b)",  # "Can't/Can not send mail?" states a problem
    re.IGNORECASE,
)
# A title that asks without its "?": an auxiliary or question word first, then a subject; never
# the negative that states a problem ("Can't connect", "Does not start"). "How …", "What …" and
# "Where …" titles are read by their phrases ("how do I", "what is the").
_ASKING_TITLE = re.compile(
    r"^\W*(?:which|why|does|do|is|are|can|could|should|will|would)\b(?!['\u2019]t)"
    r"(?![ \t]+not\b)[ \t]+\w+[ \t]+\w",
    re.IGNORECASE,
)
# A title saying that something does not work, in plain words ("does not sync", "won't start"):
# a problem, so the setup the post describes counts; never evidence by itself. Only the title: in
# the body the same words as often describe a missing capability or what the author tried.
_NOT_WORKING = re.compile(
    r"\b(?:does not|doesn't|doesnt|do not|don't|did not|didn't|is not|isn't|are not|aren't|won't|will not|"
    r"can't|cannot|can not|could not|couldn't|unable to|fails? to|failed to)\b"
)
# A sentence of the (lower-cased) prose that asks: one that ends in "?" after a word, however it
# opens ("Is it encrypted at rest?", "Will it be out on iOS?", "whisper, carbon ?"); never one that
# says something does not work ("Can't connect?", "It fails to start?": a problem stated), nor a "?"
# after a mark ("...?"), inside brackets ("(latest?)") or in a tag after a statement ("Slack has it,
# right?"). Read only where nothing else speaks and the post shows no problem (see _weigh). Found
# from each "?" back to its sentence's start (at most _SENTENCE characters back): a pattern that
# must find the word before the mark is tried at every character, 5x slower.
_CLOSES_ASKING = " \t)\"'\u201d\u2019"  # between the last word and its "?" ("(on iOS) ?")
_SENTENCE = 300
# The tag that asks the reader to agree with what the sentence states: ", right?", ", isn't it?".
_TAG_QUESTION = re.compile(
    r",[ \t]*(?:right|no|correct|yes|eh|huh|ok|okay|don[\'\u2019]t you think|"
    r"(?:is|are|was|were|do|does|did|has|have|can|could|would|will|should)n[\'\u2019]t[ \t]+"
    r"(?:it|they|we|you|he|she|there|that|i))$"
)


def _asks_question(prose: str) -> bool:
    at = prose.find("?")
    while at != -1:
        back = max(0, at - _SENTENCE)
        start = max(prose.rfind(".", back, at), prose.rfind("!", back, at), prose.rfind("?", back, at))
        start = max(start, prose.rfind("\n", back, at), back - 1)
        sentence = prose[start + 1 : at]
        # A "?" inside brackets doubts a detail of what the sentence states ("(like Slack does?)",
        # "Version 10.5 (latest?)"): it asks nothing of the post's reader.
        aside = sentence.rfind("(") > sentence.rfind(")")
        sentence = sentence.rstrip(_CLOSES_ASKING)
        if (
            sentence
            and not aside
            and (sentence[-1].isalnum() or sentence[-1] == "_")
            and not _NOT_WORKING.search(sentence)
            and not _TAG_QUESTION.search(sentence)
        ):
            return True
        at = prose.find("?", at + 1)
    return False


# A title that ends by naming what it reports a bug ("Make install bug", "Calendar sync bugs"); never
# "a bug", "the bug", "bug or feature": those ask or name another's; nor "report bug", "file bug",
# "when reporting bug": those ask for a way to report one. Read on lower-cased text.
_TITLE_ENDS_BUG = re.compile(
    r"(?:^|[\s(\[])(?!(?:a|an|the|any|or|no|not|if|this|that|some|report|reporting|file|filing|submit|"
    r"submitting)[ \t])[\w'.-]+[ \t]+bugs?[\W_]*$"
)
# A title that names a capability by what it would support ("PostgreSQL support", "[Feature] ARM64
# support"): a wish for it on a tracker. Never asking for support ("Need support", "tech support"),
# nor saying it is missing or broken ("no support", "without support": other words speak there).
# Read on lower-cased text.
_TITLE_ENDS_SUPPORT = re.compile(
    r"(?:^|[\s(\[\]:])(?!(?:a|an|the|any|some|no|not|without|need|needs|needed|require|requires|required|"
    r"requesting|request|urgent|tech|technical|customer|help|and|or|for|with|of|your|my|our|paid|commercial|"
    r"community|official|enterprise|premium|professional|get|getting)[ \t])[\w'.+#-]+[ \t]+support[\W_]*$"
)
# A title that calls the support it names flawed ("Broken IPv6 support", "Fix RTL support", "Bad
# Markdown table support"): the capability is there and does not work, which wishes for nothing.
_FLAWED_SUPPORT = re.compile(
    r"\b(?:broken|breaks?|fix|fixes|fixed|fixing|bad|poor|wrong|incorrect|buggy|flaky|inconsistent|"
    r"incomplete|partial|degraded)\b"
)
# Line patterns start with a literal newline (prepare() puts two in front of the text): the regex
# engine then jumps from newline to newline instead of trying every position.
_EOL = r"(?=\n|\Z)"
# A fence closes with at least as many of its marks as opened it ("```" … "````" is one block).
_FENCE = re.compile(r"\n[ \t]*(`{3,}|~{3,})[^\n]*(.*?)(?:\n[ \t]*\1[`~]*[ \t]*" + _EOL + r"|\Z)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_CHECKBOX = r"[ \t]*[-*+][ \t]+\[[ xX]\][^\n]*"
# A template's field left empty ("- Mattermost Server Version:").
_EMPTY_FIELD = r"[ \t]*[-*+][ \t]+(?:[\w./()-]+[ \t]+){0,4}[\w./()-]+[ \t]*:[ \t]*"
# The template's own "where to post what" lines: a word about where other posts go, then a link.
# A template speaks to the reader, never as "I": a line in the first person singular ("I would like
# to self-host the directory at https://…: consider this feature request") is the author's own.
# The first lookahead only asks whether the line holds a link, in one pass: the words are then looked
# for (at every place of the line, the costly part) only in the few lines that do. A link follows some
# word exactly when one follows the first word: the atomic group keeps to the first, or each later
# word of a long line without a link after it was tried again to the line's end (quadratic).
_REDIRECT = (
    r"(?=[^\n]*https?://)(?=(?>[^\n]*?(?:troubleshoot|feature|suggestion|forum|uservoice|bug report|"
    r"security|guideline|contribut|jira))[^\n]*https?://)(?![^\n]*\b(?:i|i'[a-z]+|me|my)\b)[^\n]*"
)
# A blank line is never a log line: "(?!\n)" skips it before the alternatives are tried one by one.
# Every match runs from the newline to the end of its line (the "[^\n]*" closing it), so what the
# pattern does depends only on which lines it matches: the indentation most kinds allow ("[ \t]*")
# is read once for all of them rather than once per kind (1.5x on bodies), and a line matches
# exactly when it did with "[ \t]*" in front of each.
_LOG_LINE = re.compile(
    r"\n(?!\n)(?:[ \t]*(?:"
    # 2025-03-02 10:11 / [2025/03/11 10:22, or 10:22:01 (one alternative: both start alike)
    r"[\[(]?\d(?:\d{3}[-/.]\d\d[-/.]\d\d[T \t]\d\d:\d\d|\d:\d\d:\d\d)"
    r"|[{\[][ \t]*\""  # JSON object or array line
    r"|(?:time|ts|level|lvl|msg)=\S"  # logfmt
    r"|\[?(?:ERROR|ERRO|WARN|WARNING|INFO|DEBUG|FATAL|TRACE|CRIT)\]?(?:[ \t:\]|]|$)"  # levels
    r"|File \"[^\"]+\", line \d+"  # Python frame
    r"|goroutine \d+ \["
    r"|[\w./-]+\.(?:go|py|js|ts|tsx|kt|java|swift|rb):\d+"  # file:line
    r"|(?:panic|fatal error|Traceback|Caused by|FATAL EXCEPTION|Process(?=:)|signal \w+)\b[^\n]*:"
    r"|(?:Uncaught[ \t]+)?(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception)\b:?"  # TypeError: …
    r"|(?:Error|ERROR|error|Err)[ \t]*:"  # Error: failed to …
    r"|\$[ \t]"  # shell prompt
    r")"
    # The kinds that ask for another indentation, or none:
    r"|[ \t]+at[ \t]+[\w$.<>]+[.(:]"  # Java / JS stack frame
    r"|\t/"
    r"|[\w.-]++[ \t]++\|[ \t]"  # docker compose: "mattermost-1  | …" (possessive: nothing to take back)
    r")[^\n]*"
)
_ERROR_WORDS = (
    r"error|fatal|panic|exception|fail|denied|refused|unable|invalid|timeout|can't|cannot|not valid|expired|"
    r"not found|unreachable|not reachable|no such"
)
_ERROR_WORD = re.compile(_ERROR_WORDS, re.IGNORECASE)
# The same on lower-cased ASCII text, where it finds what _ERROR_WORD finds in the text (case
# folding outside ASCII is more than lower()): ignoring case costs the regex engine ~8x as much.
_ERROR_WORD_LOWER = re.compile(_ERROR_WORDS)


def _says_error(text: str) -> bool:
    """Whether ``text`` holds an error word (``_ERROR_WORD``), in any case."""
    if text.isascii():
        return _ERROR_WORD_LOWER.search(text.lower()) is not None
    return _ERROR_WORD.search(text) is not None


# A link: Markdown ``[text](url)`` or ``![alt](url)`` (its text stays), ``<url>`` or a bare URL (its
# host stays). Nearly every real post carries one, a screenshot at least: its "https", paths and
# query words are not the author's words about their setup or the problem.
# Every piece is possessive, stays on its line and stops where another link could start: no two
# can take the same characters and no failed try scans past the next one, so the cost is linear
# in the text, and an unclosed link never swallows the lines after it.
# Every alternative starts with a literal ("![", "[", "<", "http", "www."), each form spelt out
# rather than "!?" or a nested choice first: the regex engine then jumps to those characters
# instead of trying the pattern at every one (5x faster). Groups: the text of an image's link (1)
# or a link's (2), the host of a <url> (3), of a bare URL (4, 5).
_LINK_TARGET = r"\]\([ \t]*+(?:https?://|www\.)[^()\[\]\s]*+(?:[ \t]++\"[^\"\n]*+\")?[ \t]*+\)"
_BARE_URL_HOST = r"([^/\s)\]>\"'`]*+)[^\s)\]>\"'`]*+"
_URL = re.compile(
    "|".join(
        [
            r"!\[([^\[\]\n]*+)" + _LINK_TARGET,  # ![alt](url)
            r"\[([^\[\]\n]*+)" + _LINK_TARGET,  # [text](url)
            r"<https?://([^/<>\s]*+)[^<>\s]*+>",  # <url>
            r"https?://" + _BARE_URL_HOST,
            r"www\." + _BARE_URL_HOST,
        ]
    )
)
# Emoji and pictographs (with their variation selectors and joiners) and the space after them.
_PICTOGRAPH = re.compile(r"(?:[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff][\ufe0f\u200d]*)+[ \t]*")


def _without_pictograph(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    between_words = start > 0 and text[start - 1].isalnum() and end < len(text) and text[end].isalnum()
    return " " if between_words else ""


_QUOTE_LINE = re.compile(r"\n[ \t]*>[^\n]*")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# A quoted message ('Cannot connect to the server', "Failed to load"): the product's words, not the author's.
_QUOTED = re.compile(
    r"'(?<![\w']')[^'\n]{3,160}'(?![\w'])|\"[^\"\n]{3,160}\"|\u201c[^\u201d\n]{3,160}\u201d|\u2018[^'\n]{3,160}'"
)
# On lower-cased text. A negation starts a word: "(?<!\w.)" after its first letter is "\b" before it;
# there, rather than first, it lets the regex engine jump to an "n", "i" or "w" (1.6x faster).
_NEGATED_TYPE = re.compile(
    r"(?:n(?<!\w.)(?:ot|o|ever)|i(?<!\w.)(?:sn't|snt)|w(?<!\w.)asn't)[ \t]+"
    r"(?:(?:a|an|really|just|exactly|strictly|necessarily|actually|even|the|my)[ \t]+){0,2}(?:feature[ \t]+requests?|features?|bug[ \t]+reports?|bugs?|"
    r"questions?|enhancements?|support[ \t]+requests?)\b"
)
# A heading's text is its line up to its last character that is no blank or "#": read greedily, as
# "([^\n]*?)[ \t#]*" read it lazily, which read the rest of the line again after each character
# ("# # # …" 6,000 times: 2.5 s, 30,000 times: a minute). No two runs of blanks side by side.
_MARKUP_HEADING = re.compile(
    r"\n[ \t]{0,3}(?:#{1,6}[ \t]+((?:[^\n]*[^ \t#\n])?)[ \t#]*"
    r"|\*\*([^*\n]+?)\*\*[ \t]*(?::[ \t]*)?|__([^_\n]+?)__[ \t]*(?::[ \t]*)?)" + _EOL
)
# The ends of the words that name another server than the product's ("nginx server 1.24", "web-server
# 1.24", "PostgreSQL server 14.5", "Jira Server 9.4"): its version is not the one the author runs.
_OTHER_SERVERS = (
    "web", "http", "httpd", "proxy", "nginx", "apache", "caddy", "sql", "gres", "db", "redis", "search",
    "minio", "ldap", "smtp", "mail", "gitlab", "jira", "bitbucket", "confluence", "keycloak", "jenkins",
    "turn", "stun", "language", "file", "dns", "ntp",
)  # fmt: skip
# On lower-cased text; the words before the version say whether the author runs it (_RUN_WORDS).
# No group in the leading alternation: with one there the regex engine no longer skips to the few
# characters a word can start with, and tries the whole pattern at every character (3x slower).
# Each word starts one ("webserver 1.24", "python version 3.11" name no server version) and none of
# _OTHER_SERVERS comes before "server": both looked behind once the word is read, as few places are
# (before it, at each of its first letters, the look cost a third more on long texts).
# No word starts another, so at any place at most one of them matches: the words read tell which.
_SERVER_VERSION = re.compile(
    r"(?:server(?<!\wserver)"
    + "".join(rf"(?<!{word}[ \t-]server)" for word in _OTHER_SERVERS)
    + r"|mattermost(?<!\wmattermost)|running(?<!\wrunning)|on version(?<!\won version)"
    r"|still on(?<!\wstill on)|still run(?<!\wstill run)|we run(?<!\wwe run)"
    r"|upgrad(?<!\wupgrad)(?:e|ed|ing) from|updat(?<!\wupdat)(?:e|ed|ing) from)"
    r"(?:[ \t]+version)?[\s:=]{0,6}v?(\d{1,2})\.(\d{1,2})(?!\d)"
)
_RUN_WORDS = ("still on", "still run", "we run", "upgrad", "updat")
# Every version the server pattern can match has a digit, a dot and a digit: texts without one
# skip it. The pattern starts on the dot, a literal, so the engine jumps from dot to dot (far faster
# than trying the words above, or a digit class, at every character).
_DIGIT_DOT_DIGIT = re.compile(r"\.(?<=\d\.)\d")
_WORD_START = re.compile(r"\w")
# The ASCII characters \w and \s match, as the inside of a character class (for _PhraseFinder).
_ASCII_WORD = re.escape("".join(c for c in map(chr, range(128)) if _WORD_START.match(c)))
_ASCII_SPACE = re.escape("".join(c for c in map(chr, range(128)) if re.match(r"\s", c)))
_CODE_MARK = "\x00code\x00"
_LOG_MARK = "\x00log\x00"
_LOG_LINE_MASK = "\n" + _LOG_MARK  # what a log line becomes (no backslash: taken as it reads)


@dataclass(frozen=True)
class Classification:
    post_type: str
    rule: str


class _Markers(NamedTuple):
    """Compiled title markers: those that start a title ("Bug:"), those read anywhere ("[Bug]").

    Two patterns rather than one alternation of both: the first is tried at the title's start
    only, and the second starts with "[", so the regex engine jumps from "[" to "[" instead of
    trying both at every character. ``at_start`` and ``first_known`` read what the one alternation
    ``^start|anywhere`` found through ``search`` and ``finditer``.
    """

    start: re.Pattern[str] | None  # used with match(): at the title's start only
    anywhere: re.Pattern[str] | None  # every marker it finds starts with "["
    lookup: dict[str, str]  # phrase key -> post type
    # A marker's words alone, as a whole title ("question", "bug"; see ``alone``) -> post type.
    words: dict[str, str]
    words_pattern: re.Pattern[str]  # the ASCII titles that may be one of ``words`` (see ``alone``)

    def alone(self, title: str) -> str | None:
        """The type of a title that is nothing but a marker's words ("Question", "bug?"): a marker
        with no title after it. Opening a longer title, a marker's bare words are often a noun of it
        ("Question mark in file names breaks upload"): the rules file lists the openings that are
        markers ("Question about")."""
        if not self.words or (title.isascii() and self.words_pattern.fullmatch(title) is None):
            return None
        return self.words.get(_marker_words(title))

    def at_start(self, title: str) -> re.Match[str] | None:
        """The marker the title starts with, if any (a start marker before one read anywhere)."""
        match = self.start.match(title) if self.start is not None else None
        if match is None and self.anywhere is not None and title.startswith("["):
            match = self.anywhere.match(title)
        return match

    def first_known(self, title: str) -> tuple[re.Match[str], str, str] | None:
        """The first marker in the title that names a type: (match, marker as shown, type).

        The markers are read left to right, none overlapping, as ``finditer`` reads them.
        """
        pos = 0
        if self.start is not None:
            match = self.start.match(title)
            if match is not None:
                known = self._known(match)
                if known is not None:
                    return known
                pos = match.end()
        if self.anywhere is None or "[" not in title:
            return None
        match = self.anywhere.search(title, pos)
        while match is not None:
            known = self._known(match)
            if known is not None:
                return known
            match = self.anywhere.search(title, match.end())  # never empty: it starts with "["
        return None

    def _known(self, match: re.Match[str]) -> tuple[re.Match[str], str, str] | None:
        marker = match.group(0).strip(" \t")
        post_type = self.lookup.get(_phrase_key(marker.lstrip(" \t-*_>:.|(\u2013\u2014")))
        return (match, marker, post_type) if post_type else None


_NOT_WORD = re.compile(r"[\W_]+")


def _marker_words(text: str) -> str:
    """A marker's or a title's words, lower case, without punctuation ("[Bug]:" -> "bug")."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def _words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """Matches, in full, the ASCII texts whose ``_marker_words`` is one of ``words``.

    ``_marker_words`` costs a substitution at every space of a title; this one match fails at the
    title's first word that no marker starts with.
    """
    between = "[^a-z0-9]"  # in ASCII text, what [\W_] matches
    return re.compile(
        f"{between}*(?:{_trie_pattern(words, space=between + '+')}){between}*", re.IGNORECASE | re.ASCII
    )


# One type a phrase speaks for: type, group (its kind and type: the distinct phrases counted per
# group are capped), the cap, whether it says the post describes a problem (a bug or troubleshooting
# phrase), its weights (in the title, in the body), its label in the rule shown, and its evidence
# when found in the body as its key reads (the common case, so worked out once).
_Count = tuple[str, int, int, bool, tuple[float, float], str, tuple[float, float, str]]
# A setup marker found: its phrase key (distinct ones count) and its evidence.
_Setup = tuple[str, tuple[float, float, str]]


class _Phrase(NamedTuple):
    """What finding one phrase key does, worked out once per key."""

    counts: tuple[_Count, ...]  # as a phrase of a type
    setup: _Setup | None  # as a setup marker, found in the body as its key reads


class TemplateSection(NamedTuple):
    """One heading of an issue template (lower case) and whether the author wrote something under it."""

    heading: str
    content: str
    filled: bool

    @property
    def written(self) -> bool:
        """Filled in with words: a form's numbered list left as it came ("1.\\n2.\\n3.") reproduces
        nothing, nor tells anything a heading asks for in words (a version alone is filled, not written)."""
        return self.filled and any(ch.isalpha() for ch in self.content)


class ServerVersion(NamedTuple):
    """A server version a post names, and whether the author says they run or upgrade from it."""

    major: int
    minor: int
    run: bool


def names_a_server_version(text: str) -> bool:
    """Whether a text names the server version it runs ("Mattermost Version: 10.5.2", "server
    10.4"), read whole: an About box or `mattermost version` output pasted as code or quoted gives
    it too. An address or a size in a log ("10.0.0.5:5432") names none, nor a template's hidden
    comment ("<!-- Mattermost Server Version: e.g. 10.5 -->")."""
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    lowered = text.lower()
    return _DIGIT_DOT_DIGIT.search(lowered) is not None and _SERVER_VERSION.search(lowered) is not None


def _server_versions(text: str) -> tuple[ServerVersion, ...]:
    """The server versions ``text`` (lower case) names, left to right."""
    # Every match holds one of these words ("upgrading from" its " from") and a digit, a dot and a
    # digit: most texts lack one or the other, and a few substring tests cost a fraction of the
    # search, which tries the words at every "s", "m", "r", "o", "w" and "u" of the text.
    if not (
        "server" in text
        or "mattermost" in text
        or "running" in text
        or " from" in text
        or "on version" in text
        or "still " in text
        or "we run" in text
    ) or not ("." in text and _DIGIT_DOT_DIGIT.search(text)):
        return ()
    return tuple(
        [
            ServerVersion(int(match[1]), int(match[2]), match[0].startswith(_RUN_WORDS))
            for match in _SERVER_VERSION.finditer(text)
        ]
    )


class PreparedText(NamedTuple):
    """A post body split into what the author wrote and what the template or a paste put there."""

    prose: str  # lower case; outside code, logs, quotes, template text and metadata sections
    sections: tuple[TemplateSection, ...]
    has_code: bool
    has_log: bool  # pasted log lines outside code blocks
    reports_error: bool  # an error in a log line, a code block or a quoted message
    versions: tuple[ServerVersion, ...] = ()


# Bodies some APIs give as HTML (Stack Exchange's ``body``, a Discourse post's ``cooked``) and the
# HTML Markdown allows: their code, quotes and line breaks become Markdown's, the rest of the tags go.
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>")  # not an autolink <https://…>
_HTML_PRE = re.compile(r"<pre\b[^>]*>(.*?)(?:</pre>|\Z)", re.DOTALL | re.IGNORECASE)
_HTML_QUOTE = re.compile(r"<blockquote\b[^>]*>(.*?)(?:</blockquote>|\Z)", re.DOTALL | re.IGNORECASE)
_HTML_CODE = re.compile(r"<code\b[^>]*>(.*?)(?:</code>|\Z)", re.DOTALL | re.IGNORECASE)
_HTML_BREAK = re.compile(r"<br\s*/?>|</?(?:p|div|li|ul|ol|h[1-6]|tr|table)\b[^>]*>", re.IGNORECASE)
# Discourse's quote of another post: [quote="bob, post:2, topic:123"] … [/quote].
_BBCODE_QUOTE = re.compile(r"\[quote(?:=[^\]\n]*)?\](.*?)(?:\[/quote\]|\Z)", re.DOTALL | re.IGNORECASE)


# Where each pattern above can start: its opener. Each needs a ">" (a "]") after it.
_HTML_PRE_OPENER = re.compile(r"<pre\b", re.IGNORECASE)
_HTML_QUOTE_OPENER = re.compile(r"<blockquote\b", re.IGNORECASE)
_HTML_CODE_OPENER = re.compile(r"<code\b", re.IGNORECASE)
_HTML_BREAK_OPENER = re.compile(r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|tr|table)\b)", re.IGNORECASE)
_BBCODE_QUOTE_OPENER = re.compile(r"\[quote", re.IGNORECASE)
_BRACKET_OR_LINE_END = re.compile(r"[\]\n]")


def _sub_opened(
    pattern: re.Pattern[str],
    opener: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    text: str,
    closes: str = ">",
) -> str:
    """``pattern.sub(replace, text)``, read in time linear in the text's length.

    Each of the patterns reads its opener's attributes up to a ``closes`` character, and the regex
    engine did so again from each opener with none after it ("<li " 16,000 times: 3 s, a million
    characters: minutes; "[quote=" 9,000 times on one line: 25 s): only openers before the last
    ``closes`` are tried, and a "[quote=" with no "]" on its line rules out each opener before
    that line's end. Every pattern starts with its opener, so no match is missed.
    """
    last = text.rfind(closes)
    parts: list[str] = []
    kept = searched = 0
    while (found := opener.search(text, searched, last + 1)) is not None:
        start = found.start()
        match = pattern.match(text, start)
        if match is None:
            searched = start + 1
            if closes == "]" and text.startswith("=", found.end()):
                stop = _BRACKET_OR_LINE_END.search(text, found.end())
                searched = stop.start() if stop is not None else len(text)
            continue
        parts += (text[kept:start], replace(match))
        kept = searched = match.end()
    parts.append(text[kept:])
    return "".join(parts)


def _quoted(text: str) -> str:
    return "\n" + "\n".join("> " + line for line in text.strip().splitlines()) + "\n"


def _breaks_as_lines(text: str) -> str:
    return _sub_opened(_HTML_BREAK, _HTML_BREAK_OPENER, lambda _: "\n", text)


def _html_as_markdown(body: str) -> str:
    def pre(match: re.Match[str]) -> str:
        return "\n```\n" + html.unescape(_HTML_TAG.sub("", match.group(1))) + "\n```\n"

    def quote(match: re.Match[str]) -> str:
        return _quoted(html.unescape(_HTML_TAG.sub(" ", _breaks_as_lines(match.group(1)))))

    def code(match: re.Match[str]) -> str:
        return (
            " `"
            + html.unescape(_HTML_TAG.sub("", match.group(1))).replace("`", "'").replace("\n", " ")
            + "` "
        )

    text = _sub_opened(_HTML_PRE, _HTML_PRE_OPENER, pre, body)
    text = _sub_opened(_HTML_QUOTE, _HTML_QUOTE_OPENER, quote, text)
    text = _sub_opened(_HTML_CODE, _HTML_CODE_OPENER, code, text)
    text = _HTML_TAG.sub("", _breaks_as_lines(text))
    return html.unescape(text)


def _as_markdown(body: str) -> str:
    """The body as Markdown: HTML's code, quotes and breaks, and Discourse's quotes, in Markdown's form."""
    if "<" in body and _HTML_TAG.search(body):
        body = _html_as_markdown(body)
    if "[quote" in body or "[QUOTE" in body:
        body = _sub_opened(_BBCODE_QUOTE, _BBCODE_QUOTE_OPENER, lambda m: _quoted(m.group(1)), body, "]")
    return body


# A bug form's "what did you expect" and "what happened" headings (lower case, as headings start).
_EXPECTED_HEADINGS = ("expected",)
# Also known as bare lines ("Expected behavior:"), though no type's section: what the author expected.
_EXPECTED_SECTION_NAMES = ("expected behavior", "expected behaviour", "expected result")
_OBSERVED_HEADINGS = ("observed", "actual", "current behavio", "what happened")


def _normalise(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2019" in text:
        text = text.replace("\u2019", "'")
    if "\uff1a" in text:  # a full-width colon ("Expected behavior："), as CJK keyboards type it
        text = text.replace("\uff1a", ": ")
    if "\uff1f" in text:  # a full-width question mark ("在哪里？"), as CJK keyboards type it
        text = text.replace("\uff1f", "?")
    return text


def _drop_quoted(text: str, problem: bool) -> tuple[str, bool]:
    """Text without its quoted messages, and whether one of them reported an error."""

    def drop(match: re.Match[str]) -> str:
        nonlocal problem
        if not problem and _says_error(match.group(0)):
            problem = True
        return " "

    return _QUOTED.sub(drop, text), problem


def _trie_pattern(phrases: Iterable[str], space: str = r"\s+") -> str:
    """One regex alternation shaped like a trie: at any position only one branch can go on.

    A space in a phrase matches ``space`` (any run of white space unless told otherwise).
    """
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = []
        for char in sorted(k for k in node if k):
            piece = space if char == " " else re.escape(char)
            branches.append(piece + emit(node[char]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(trie)


class _PhraseFinder(NamedTuple):
    r"""Every phrase through one trie-shaped pattern; group 1 of a match is the phrase found.

    Matched against lower-cased text: case-sensitive patterns are several times faster. A phrase
    starts where ``\b`` holds. When every phrase starts with a word character, the pattern reads
    the character before the phrase itself (a space is put in front of the text for a phrase at
    its start): the regex engine then tries the phrases only after a space or a punctuation mark
    instead of at every character. Telling a word character from another is the costly step of
    that scan, so ASCII text (most posts) gets a twin pattern whose classes list the ASCII
    characters that ``\w`` and ``\s`` match: on such text both patterns find the same.
    """

    pattern: re.Pattern[str]
    ascii: re.Pattern[str]
    lead: str  # put in front of the text; as long as what the pattern reads before a phrase

    @classmethod
    def build(cls, phrases: Iterable[str]) -> _PhraseFinder | None:
        keys = list(phrases)
        pattern = _trie_pattern(keys)
        if not pattern:
            return None
        if not all(_WORD_START.match(key) for key in keys):
            general = re.compile(rf"\b({pattern})(?!\w)")
            return cls(general, general, "")
        ascii_pattern = _trie_pattern(keys, space=f"[{_ASCII_SPACE}]+")
        return cls(
            re.compile(rf"[^\w]({pattern})(?!\w)"),
            re.compile(rf"[^{_ASCII_WORD}]({ascii_pattern})(?![{_ASCII_WORD}])"),
            " ",
        )

    def findall(self, text: str) -> list[str]:
        """The phrases in ``text``, left to right."""
        text = self.lead + text
        return (self.ascii if text.isascii() else self.pattern).findall(text)

    def split(self, text: str) -> list[str]:
        """``re.split`` of the lead and ``text`` at the phrases: the odd items are the phrases."""
        text = self.lead + text
        return (self.ascii if text.isascii() else self.pattern).split(text)


def keyword_pattern(keywords: Iterable[str], plurals: bool = False) -> re.Pattern[str] | None:
    r"""Any of ``keywords`` as a whole word, case-insensitively; the longest wins where several start.
    With ``plurals``, a keyword also matches with "s" or "es" after it ("push notifications"). A space
    in a keyword matches any run of white space with at most one line end in it: a hard-wrapped
    paragraph puts a phrase's words on two lines ("push\nnotification"), which Markdown shows as one
    phrase, while a blank line between them ends a paragraph ("… broken after\n\nUpdate: …").

    The same matches as an alternation of ``(?<!\w)keyword(?!\w)`` (each space ``_PHRASE_SPACE``),
    longest first, but through one trie, so the cost per character no longer grows with the number of
    keywords.
    """
    ordered = sorted({" ".join(k.casefold().split()) for k in keywords if k.strip()}, key=len, reverse=True)
    if not ordered:
        return None
    end = r"(?:e?s)?(?!\w)" if plurals else r"(?!\w)"
    if not all(k.isascii() for k in ordered):
        # Outside ASCII, case folding can make two keywords match the same text: keep their order.
        return re.compile("|".join(rf"(?<!\w){_spaced(k)}{end}" for k in ordered), re.IGNORECASE)
    return re.compile(rf"(?<!\w)(?:{_trie_pattern(ordered, space=_PHRASE_SPACE)}){end}", re.IGNORECASE)


# White space between a phrase's words within one paragraph: blanks, at most one line end among them
# ("\r\n" included). Each alternative starts differently, so a long run of blanks is read once.
_PHRASE_SPACE = r"(?:[^\S\n]+(?:\n[^\S\n]*)?|\n[^\S\n]*)"


def _spaced(keyword: str) -> str:
    """``keyword`` as a pattern whose spaces match ``_PHRASE_SPACE``."""
    return _PHRASE_SPACE.join(re.escape(word) for word in keyword.split())


def _link_words(match: re.Match[str]) -> str:
    """What stays of a link: a Markdown link's text (itself a URL often: then its host), else the
    host a URL names."""
    text = match.group(1) or match.group(2)
    if text:
        return " " + (_URL.sub(_link_words, text) if "http" in text or "www." in text else text) + " "
    return " " + (match.group(3) or match.group(4) or match.group(5) or "") + " "


def _phrase_key(text: str) -> str:
    return " ".join(text.lower().split())


def _rules_shown(label: str, phrases: Iterable[str]) -> frozenset[str]:
    """The rule text a phrase found shows (``phrase "can't connect"``), lower-cased, for each way
    ``_add_phrase`` finds it (with and without the apostrophe of a negation)."""
    return frozenset(
        f'{label} "{variant}"'
        for phrase in phrases
        for variant in (_phrase_key(phrase), _phrase_key(phrase).replace("n't", "nt"))
    )


def _label_keys(label: str) -> list[str]:
    """The ways a real tracker label can match a configured one: whole, its head, its segments."""
    folded = " ".join(label.casefold().split())
    keys = [folded]
    parts = [p.strip() for p in re.split(r"[/:]", folded) if p.strip()]
    if len(parts) > 1:
        keys.append(parts[0])
        keys.extend(parts[1:])
    return keys


def _type_labels(post: Post) -> list[tuple[str, str]]:
    """The post's labels, then its GitHub issue type, which says the type as a label would: each with
    what the decided rule calls it."""
    found = [(label, "label") for label in post.labels]
    if post.issue_type:
        found.append((post.issue_type, "issue type"))
    return found


class PostClassifier:
    """Compiled form of the rules file's ``post_types``: build once, classify many posts."""

    def __init__(self, rules: PostTypesSection) -> None:
        self._rules = rules
        self._labels = {
            " ".join(name.casefold().split()): (post_type, name)
            for post_type, names in rules.labels.items()
            for name in names
        }
        self._form_labels = {
            " ".join(name.casefold().split()): post_type
            for post_type, names in rules.form_labels.items()
            for name in names
        }
        self._categories = {
            name.casefold(): (post_type, name)
            for post_type, names in rules.categories.items()
            for name in names
        }
        self._title_markers = self._marker_pattern(rules.title_markers)
        self._form_title_markers = self._marker_pattern(rules.form_title_markers)
        # Headings: every configured section name, also as a bare line or "Name:" line.
        self._section_types: list[tuple[str, str, str]] = sorted(
            (
                (name.lower(), post_type, name)
                for post_type, names in rules.template_sections.items()
                for name in names
            ),
            key=lambda item: -len(item[0]),
        )
        self._metadata = tuple(name.lower() for name in rules.metadata_sections)
        self._section_cache: dict[str, tuple[str, str] | None] = {}
        names = sorted(
            {n for n, _, _ in self._section_types} | set(self._metadata) | set(_EXPECTED_SECTION_NAMES),
            key=len,
            reverse=True,
        )
        # As a trie: each line start then tries one branch per letter instead of every name in turn.
        # The names that match at one place are each the start of the next longer one, and the
        # trie, like the longest-first list, tries the longer first: the same name is found.
        bare = _trie_pattern(names, space=re.escape(" ")) or r"(?!)"
        self._bare_heading = re.compile(
            # Each run of blanks or of "*_" after the name read once, as a whole (atomic groups): three
            # runs of blanks side by side were split every way on a line of blanks after the name
            # (cubic), and two runs of "*_" on a line of them. Each run taken whole is the only split
            # that can reach the line's end or its ":".
            rf"\n[ \t]*[*_]*({bare})\b(?>[^\S\n]*)(?:\([^)\n]*\))?(?>[*_]*)(?>[ \t]*)"
            rf"(?::[*_]*[ \t]*([^\n]*)|(?>[*_]*)(?>[ \t]*){_EOL})"
        )
        self._template_line = self._template_pattern(rules.template_placeholders)
        # The same for a text without a link, where no line is a redirect line: that alternative
        # reads every line to its end looking for a link (a quarter of the pass on real posts).
        self._template_line_no_link = self._template_pattern(rules.template_placeholders, redirects=False)
        self._compile_phrases(rules)
        verbs = _trie_pattern(sorted({_phrase_key(v) for v in rules.request_verbs if _phrase_key(v)}))
        # A title that asks for something: "Add …", "Mobile - allow …", "[Bug]: Let me …". The
        # second pattern is the first without the component prefix, for titles without a separator.
        self._request: tuple[re.Pattern[str], re.Pattern[str]] | None = (
            (
                # Not "Let's Encrypt …": a verb with an apostrophe after it is another word.
                re.compile(rf"^[\W_]*(?:[\w./ ]{{1,24}}?[ \t]*[:\u2013\u2014-][ \t]+)?({verbs})(?![\w'])"),
                re.compile(rf"^[\W_]*({verbs})(?![\w'])"),
            )
            if verbs
            else None
        )
        oldest = rules.oldest_supported_server
        self._oldest: tuple[int, int] | None = (
            (int(oldest.split(".")[0]), int(oldest.split(".")[1])) if oldest else None
        )

    @staticmethod
    def _template_pattern(placeholders: Iterable[str], redirects: bool = True) -> re.Pattern[str]:
        """Template text: placeholders (short ones are the whole line, longer ones start it),
        confirmation checkboxes and (unless told otherwise) the template's redirect lines."""
        short = sorted({p.lower().strip() for p in placeholders if len(p.strip()) <= 12})
        long = sorted({p.lower().strip() for p in placeholders if len(p.strip()) > 12})
        # No two runs of blanks side by side: "[*_`]*[ \t]*" after "[ \t]*" let a line of n blanks
        # be split between them in n² ways, tried at each of its places (a body of 16,000 spaces
        # took 20 s to classify, one of a GitHub body's 65,536 minutes). The blanks after an
        # emphasis mark are read only after one.
        lead = r"[ \t]*(?:[-*+][ \t]+|\d{1,2}[.)][ \t]+)?(?:[*_`]+[ \t]*)?"
        alternatives = [_CHECKBOX, _REDIRECT, _EMPTY_FIELD] if redirects else [_CHECKBOX, _EMPTY_FIELD]
        if short:
            alternatives.append(lead + "(?:" + _trie_pattern(short) + r")[ \t*_.!]*")
        if long:
            alternatives.append(lead + "(?:" + _trie_pattern(long) + r")[^\n]*")
        # A blank line is template text only when a placeholder is blank: else skip it at once.
        blank = "" if "" in short else r"(?!\n)"
        return re.compile(r"\n" + blank + "(?:" + "|".join(alternatives) + ")" + _EOL)

    def _compile_phrases(self, rules: PostTypesSection) -> None:
        """Every phrase of every kind through one pattern; the matched text says which it was."""
        self._phrase_kinds: dict[str, list[tuple[str, str]]] = {}
        for post_type, phrases in rules.phrases.items():
            kind = "symptom" if post_type == "troubleshooting" else "phrase"
            if post_type == "feature_proposal":
                kind = "wish"
            for phrase in phrases:
                self._add_phrase(phrase, kind, post_type)
        for phrase in rules.help_phrases:
            self._add_phrase(phrase, "symptom", "troubleshooting")
        # Shown as 'phrase "…"' like a symptom, but never copied to bug (see _read_phrases).
        self._help_rules = _rules_shown("phrase", rules.help_phrases)
        for phrase in rules.wish_phrases:
            self._add_phrase(phrase, "wish", "feature_proposal")
        for phrase in rules.want_phrases:
            self._add_phrase(phrase, "wish", "feature_proposal")
        # Shown as 'wish "…"', but they do not cancel a question (see _decide).
        self._want_rules = _rules_shown("wish", rules.want_phrases)
        for phrase in (*rules.setup_markers, *rules.install_markers):
            self._add_phrase(phrase, "setup", "troubleshooting")
        self._install_keys = frozenset(_phrase_key(p) for p in rules.install_markers)
        for phrase in rules.neutral_phrases:
            self._add_phrase(phrase, "neutral", "")
        # At equal weight the marker listed first is the one shown.
        markers = (*rules.setup_markers, *rules.install_markers)
        self._setup_rank = {_phrase_key(p): index / (len(markers) + 1) for index, p in enumerate(markers)}
        self._phrases = _PhraseFinder.build(self._phrase_kinds)
        self._phrase_hits = self._phrase_table(self._phrase_kinds)

    def _phrase_table(self, kinds: dict[str, list[tuple[str, str]]]) -> dict[str, _Phrase]:
        """Per phrase key, what finding it does: worked out once rather than for every post."""
        groups: dict[tuple[str, str], int] = {}
        table = {}
        for key, entries in kinds.items():
            counts = []
            setup: _Setup | None = None
            for kind, post_type in entries:
                if kind == "neutral":  # found, so read, but counting for nothing
                    continue
                if kind == "setup":
                    rank = 2 + self._setup_rank.get(key, 0.0)  # as found in the body
                    setup = (_phrase_key(key), (W_SETUP, rank, f'setup "{key}"'))
                    continue
                label = "wish" if kind == "wish" else "phrase"
                weights = _PHRASE_WEIGHTS[kind]
                group = groups.setdefault((kind, post_type), len(groups))
                problem = kind != "wish" and post_type in ("troubleshooting", "bug")
                body = (weights[1], 5, f'{label} "{key}"')
                counts.append((post_type, group, MAX_HITS[kind], problem, weights, label, body))
            table[key] = _Phrase(tuple(counts), setup)
        return table

    def _add_phrase(self, phrase: str, kind: str, post_type: str) -> None:
        key = _phrase_key(phrase)
        # Many real posts drop the apostrophe of a negation ("doesnt work", "cant connect").
        for variant in dict.fromkeys((key, key.replace("n't", "nt"))) if key else ():
            entries = self._phrase_kinds.setdefault(variant, [])
            if (kind, post_type) not in entries:
                entries.append((kind, post_type))

    @staticmethod
    def _marker_pattern(markers: dict[str, list[str]]) -> _Markers:
        lookup: dict[str, str] = {}
        words: dict[str, str] = {}
        anywhere, start = [], []
        for post_type, names in markers.items():
            for name in names:
                key = _phrase_key(name)
                if _marker_words(name):
                    words.setdefault(_marker_words(name), post_type)
                # "Feature : Dark mode": a space before the colon is common (French typography).
                spaced = key[:-1].rstrip() + " :" if key.endswith(":") and len(key) > 1 else key
                for variant in dict.fromkeys((key, spaced)):
                    lookup[variant] = post_type
                    (anywhere if variant.startswith("[") else start).append(variant)
        starts = r"[\W_]*?(?:" + _trie_pattern(start) + r")(?![^\W_])"
        return _Markers(
            re.compile(starts, re.IGNORECASE) if start else None,
            re.compile("(?:" + _trie_pattern(anywhere) + ")", re.IGNORECASE) if anywhere else None,
            lookup,
            words,
            _words_pattern(words),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> PostClassifier:
        return cls(settings.post_types)

    # -- reading the text -------------------------------------------------------------------

    def prepare(self, body: str) -> PreparedText:
        """Split a body into the author's prose, the template's sections, code and logs."""
        text = "\n\n" + _normalise(body)
        if "<!--" in text:
            text = _COMMENT.sub("", text)
        text = _as_markdown(text)
        has_code = False
        # Log lines are told by their case (levels, exception names), so they go first; the rest
        # of the rules read lower case (case-sensitive patterns are several times faster).
        masked, logs = _LOG_LINE.subn(_LOG_LINE_MASK, text)
        # Whether a log line reports an error: read again only in the few posts with a log.
        reports_error = bool(logs) and any(_says_error(line) for line in _LOG_LINE.findall(text))
        text = masked.lower()
        text = (self._template_line if "http" in text else self._template_line_no_link).sub("", text)
        if "http" in text or "www." in text:
            text = _URL.sub(_link_words, text)
        if "```" in text or "~~~" in text:

            def mask(match: re.Match[str]) -> str:
                nonlocal has_code, reports_error
                content = match.group(2)
                if content.strip():
                    has_code = True
                    if not reports_error and _says_error(content):
                        reports_error = True
                    return "\n" + _CODE_MARK
                return ""

            text = _FENCE.sub(mask, text)
        if "    " in text or "\t" in text:
            # Markdown's indented code (a line indented under a list item continues the item).
            text, blocks = replace_indented_code(text, _CODE_MARK)
            has_code = has_code or blocks > 0
        sections, prose = self._sections(text)
        if ">" in prose:
            prose = _QUOTE_LINE.sub("", prose)
        if "`" in prose:
            prose = _INLINE_CODE.sub(" ", prose)
        if "'" in prose or '"' in prose or "\u201c" in prose or "\u2018" in prose:
            prose, reports_error = _drop_quoted(prose, reports_error)
        if "not " in prose or "n't " in prose or "no " in prose:
            # "This is not a feature request but …": a type the author rules out is no evidence of it.
            prose = _NEGATED_TYPE.sub(" ", prose)
        if "\x00" in prose:
            prose = prose.replace(_CODE_MARK, " ").replace(_LOG_MARK, " ")
        versions: tuple[ServerVersion, ...] = ()
        if self._oldest is not None:
            versions = _server_versions(text)
        return PreparedText(prose, sections, has_code, _LOG_MARK in text, reports_error, versions)

    def _sections(self, text: str) -> tuple[tuple[TemplateSection, ...], str]:
        # start, end of heading, name, inline content, whether the line is only bold (emphasis), and
        # a Markdown heading's level (its "#"s; 0 for a bold or bare heading)
        heads: list[tuple[int, int, str, str, bool, int]] = []
        if "#" in text or "**" in text or "__" in text:
            for match in _MARKUP_HEADING.finditer(text):
                name = (match.group(1) or match.group(2) or match.group(3) or "").strip(" *_:")
                if not name.isascii():
                    # A form's pictograph before or after its heading ("## \U0001f92c Actual Behavior",
                    # "### Current behavior \U0001f62f") is no part of the section's name.
                    name = _PICTOGRAPH.sub(_without_pictograph, name).strip(" *_:")
                level = 0 if match.group(1) is None else text.count("#", match.start(), match.start(1))
                heads.append((match.start(), match.end(), name, "", match.group(1) is None, level))
        # One search first: most texts have no such heading, and a search costs less than finditer.
        first = self._bare_heading.search(text) if self._section_types or self._metadata else None
        if first is not None:
            seen = {start for start, *_ in heads}
            for match in self._bare_heading.finditer(text, first.start()):
                if match.start() not in seen:
                    heads.append((match.start(), match.end(), match.group(1), match.group(2) or "", False, 0))
        if not heads:
            return (), text
        heads.sort()
        prose_parts = [text[: heads[0][0]]]
        sections = []
        expected: list[int] = []  # where in prose_parts the "Expected behavior" sections are
        observed = False
        metadata_level = 0  # the level of the Markdown heading of the metadata section we are in
        for index, (_, end, name, inline, bold, level) in enumerate(heads):
            stop = heads[index + 1][0] if index + 1 < len(heads) else len(text)
            content = (inline + "\n" + text[end:stop]).strip()
            filled = any(ch.isalnum() for ch in content)
            sections.append(TemplateSection(name, content, filled))
            if metadata_level and level > metadata_level:
                # A heading under a metadata section's heading ("## Environment", then "### Backend")
                # is part of it: data too.
                continue
            metadata_level = level if level and self.is_metadata(name) else 0
            if not metadata_level and not self.is_metadata(name):
                folded = name.lower()
                found = self.section_type(name) if self._section_types else None
                if folded.startswith(_EXPECTED_HEADINGS):
                    expected.append(len(prose_parts))
                elif filled and not observed:
                    observed = folded.startswith(_OBSERVED_HEADINGS) or (
                        found is not None and found[0] == "bug"
                    )
                if (
                    bold
                    and found is None
                    and "?" not in name
                    and not folded.startswith(_EXPECTED_HEADINGS + _OBSERVED_HEADINGS)
                ):
                    # A bold line that names no section is the author's sentence set in bold for
                    # emphasis ("**Add support for the X sensor**"): its words are read. A bold
                    # question is a template's prompt ("**Is your … related to a problem?**").
                    content = name + "\n" + content
                prose_parts.append(content)
        if observed:
            # Beside what went wrong (or how to make it happen), what the author expected is what
            # should have happened ("should be able to open every page"), no wish; alone (a bug
            # form used for an idea), it may well be one.
            for at in expected:
                prose_parts[at] = ""
        return tuple(sections), "\n".join(prose_parts)

    def section_type(self, heading: str) -> tuple[str, str] | None:
        """The type a template heading speaks for, and its configured name."""
        folded = heading.lower()
        if folded in self._section_cache:
            return self._section_cache[folded]
        found = next(
            ((t, configured) for name, t, configured in self._section_types if folded.startswith(name)), None
        )
        if len(self._section_cache) < 10_000:  # headings repeat: templates are few
            self._section_cache[folded] = found
        return found

    def is_metadata(self, heading: str) -> bool:
        return bool(self._metadata) and heading.lower().startswith(self._metadata)

    # -- deciding ---------------------------------------------------------------------------

    def classify(self, post: Post) -> Classification:
        decided, evidence = self._weigh(post)
        return decided or self._decide(post, evidence)

    def classify_all(self, posts: Iterable[Post]) -> list[Classification]:
        """``classify`` for many posts (the same interface as the model's ``ModelClassifier``)."""
        return [self.classify(post) for post in posts]

    def explain(self, post: Post) -> dict[str, list[tuple[float, str]]]:
        """Every piece of evidence per type, weightiest first (a deciding label or category alone)."""
        decided, evidence = self._weigh(post)
        if decided:
            return {decided.post_type: [(float("inf"), decided.rule)]}
        return {
            t: [(w, rule) for w, _, rule in sorted(items, key=lambda i: (-i[0], i[1]))]
            for t, items in evidence.items()
            if items
        }

    def _weigh(self, post: Post) -> tuple[Classification | None, dict[str, list[tuple[float, float, str]]]]:
        # type -> list of (weight, order, rule); order breaks ties between equal weights.
        # POST_TYPES in its order (the order breaks ties in _decide), spelt out: a comprehension
        # costs a function call.
        evidence: dict[str, list[tuple[float, float, str]]] = {
            "bug": [],
            "troubleshooting": [],
            "feature_proposal": [],
            "question": [],
        }
        form: tuple[str, str] | None = None  # (type, rule)
        for label, kind in _type_labels(post) if post.labels or post.issue_type else ():
            folded = " ".join(label.casefold().split())
            if folded in self._form_labels:
                form = form or (self._form_labels[folded], f'{kind} "{label}"')
                continue
            for index, key in enumerate(_label_keys(label)):
                hit = self._labels.get(key)
                if hit:
                    # The configured name when the whole label matched, else the post's own label.
                    rule = f'{kind} "{hit[1] if index == 0 else label}"'
                    if kind == "issue type":
                        # An issue form sets the type as it sets its own labels (`type: bug`): which
                        # form the author picked, evidence as a form label is, never the decision.
                        form = form or (hit[0], rule)
                        break
                    return Classification(hit[0], rule), evidence
        if post.category and post.channel == "forum":
            for name in category_names(post.category):
                hit = self._categories.get(name.casefold())
                if hit:
                    return Classification(hit[0], f'category "{hit[1]}"'), evidence

        tracker = self._rules.channel_defaults.get(post.channel) == "bug"
        title = _normalise(post.title)
        if "http" in title or "www." in title:
            # A link in the title is read as the body's are: its host, not its "https" or path.
            title = _URL.sub(_link_words, title).strip()
        if not title.isascii():
            # A form's prefix with its pictograph ("[\U0001f41b Bug]: ", "\u2728 Feature: ") is the prefix;
            # one between two words ("Login\u274cfails") parts them.
            title = _PICTOGRAPH.sub(_without_pictograph, title)
        title = self._read_title(title, evidence, form, tracker)
        prepared = self.prepare(post.body) if post.body else None
        problem = prepared is not None and prepared.reports_error
        if "'" in title or '"' in title or "\u201c" in title or "\u2018" in title:
            title, problem = _drop_quoted(title, problem)
        title_lower = title.lower()
        symptoms = self._read_phrases(
            title_lower, title, prepared.prose if prepared else "", problem, tracker, evidence
        )
        run_old = False
        old_servers: list[tuple[float, float, str]] = []
        if prepared is not None:
            if prepared.sections:
                self._read_sections(prepared, evidence)
            if prepared.versions and self._oldest is not None:
                run_old = self._read_versions(prepared.versions, old_servers)
        if self._oldest is not None and (named := _server_versions(title_lower)):
            run_old = self._read_versions(named, old_servers) or run_old
        if old_servers and (run_old or evidence["troubleshooting"]):
            # An old server the author runs is their setup. One only named (a form's version field)
            # is as often the version current when the report was filed: it adds to troubleshooting
            # the post shows otherwise (a symptom, a setup), and alone decides nothing.
            evidence["troubleshooting"].extend(old_servers)
        if (
            prepared is not None
            and "?" in prepared.prose
            and not (evidence["question"] or evidence["bug"] or evidence["troubleshooting"])
            and not (prepared.has_code or prepared.has_log or problem)
            and _asks_question(prepared.prose)
        ):
            # Nothing else said: a post that asks something and shows no problem is a question.
            evidence["question"].append((W_QUESTION_ASKED, 8, "question asked"))
        if symptoms and not run_old:
            # On a tracker a problem reported without the author's setup (no setup marker, no old
            # server they run) is what a bug report is: its symptoms count for bug as much as for
            # troubleshooting, and the channel's default decides between the two.
            evidence["bug"].extend(symptoms)
        return None, evidence

    def _read_phrases(
        self,
        title_lower: str,
        title: str,
        prose: str,
        problem: bool,
        tracker: bool,
        evidence: dict[str, list[tuple[float, float, str]]],
    ) -> list[tuple[float, float, str]]:
        """The phrases of the title and the prose; setup markers count when the post describes a problem.

        Returns, on a tracker (a channel whose default is bug), the symptoms found when the post
        names no setup: they may count for bug too (see ``_weigh``)."""
        hits: dict[int, set[str]] = {}  # group -> the distinct phrases counted
        symptoms_from = len(evidence["troubleshooting"])  # what follows are this call's symptoms
        setup: list[_Setup] = []
        in_title = self._title_phrases(title_lower, title)
        if in_title and self._count(in_title, True, hits, setup, evidence):
            problem = True
        table = self._phrase_hits
        # In the prose the text shown is the text searched: the matched text is the phrase shown,
        # and a phrase found as its key reads (most) has its evidence worked out already.
        for key in self._phrases.findall(prose) if self._phrases is not None and prose else ():
            phrase = table.get(key)
            if phrase is None:  # written with other white space
                problem = self._count(((key, key),), False, hits, setup, evidence) or problem
                continue
            if phrase.setup is not None:
                setup.append(phrase.setup)
            for post_type, group, cap, is_problem, _, _, body in phrase.counts:
                problem = problem or is_problem
                seen = hits.get(group)
                if seen is None:
                    seen = hits[group] = set()
                if key not in seen and len(seen) < cap:
                    seen.add(key)
                    evidence[post_type].append(body)
        troubleshooting = evidence["troubleshooting"]
        if setup and not problem and _NOT_WORKING.search(title_lower):
            problem = True
        if setup and tracker and all(key in self._install_keys for key, _ in setup):
            # Installing it is all the setup named: the install failing is reported, unless the
            # author asks for help with it.
            helps = self._help_rules
            if not any(item[2].lower() in helps for item in troubleshooting[symptoms_from:]):
                setup = []
        if setup and problem:
            counted: set[str] = set()
            for key, item in setup:
                if key not in counted and len(counted) < MAX_HITS["setup"]:
                    counted.add(key)
                    troubleshooting.append(item)
        elif tracker:
            helps = self._help_rules
            return [item for item in troubleshooting[symptoms_from:] if item[2].lower() not in helps]
        return []

    def _count(
        self,
        found: Iterable[tuple[str, str]],
        in_title: bool,
        hits: dict[int, set[str]],
        setup: list[_Setup],
        evidence: dict[str, list[tuple[float, float, str]]],
    ) -> bool:
        """Count the phrases found: (as matched, as the author wrote it); whether one says there is a problem."""
        problem = False
        side, order = (0, 3) if in_title else (1, 5)
        for key, matched in found:
            phrase = self._phrase_hits.get(key) or self._phrase_hits.get(_phrase_key(key))
            if phrase is None:
                continue
            if phrase.setup is not None:
                rank = (1 if in_title else 2) + self._setup_rank.get(key, 0.0)
                setup.append((_phrase_key(matched), (W_SETUP, rank, f'setup "{matched}"')))
            for post_type, group, cap, is_problem, weights, label, _ in phrase.counts:
                problem = problem or is_problem
                seen = hits.get(group)
                if seen is None:
                    seen = hits[group] = set()
                if key not in seen and len(seen) < cap:
                    seen.add(key)
                    evidence[post_type].append((weights[side], order, f'{label} "{matched}"'))
        return problem

    def _read_versions(
        self, versions: Iterable[ServerVersion], found_old: list[tuple[float, float, str]]
    ) -> bool:
        """Adds to ``found_old`` the server version older than the oldest supported one that weighs
        most (the first of those), if any; whether the author runs or upgrades from it."""
        oldest = self._oldest
        old = [v for v in versions if oldest is not None and (v.major, v.minor) < oldest]
        if not old:
            return False
        found = next((v for v in old if v.run), old[0])
        weight = W_OLD_SERVER_RUN if found.run else W_OLD_SERVER_NAMED
        found_old.append((weight, 6, f'old server "{found.major}.{found.minor}"'))
        return found.run

    def _title_phrases(self, title_lower: str, title: str) -> list[tuple[str, str]]:
        """(phrase as matched, as the author wrote it) for each phrase in the title."""
        phrases = self._phrases
        if phrases is None or not title_lower:
            return []
        if len(title_lower) != len(title):
            return [(key, key) for key in phrases.findall(title_lower)]
        # split() gives the text between the phrases too, in one call (finditer's match objects
        # cost more than the search): each phrase starts one separator after the text before it
        # (the pattern reads one character before a phrase exactly when the lead is one character),
        # and its place in the lower-cased title is its place in the title.
        pieces = phrases.split(title_lower)
        found = []
        lead = len(phrases.lead)
        at = -lead
        for index in range(1, len(pieces), 2):
            at += len(pieces[index - 1]) + lead
            key = pieces[index]
            found.append((key, title[at : at + len(key)]))
            at += len(key)
        return found

    def _read_title(
        self,
        title: str,
        evidence: dict[str, list[tuple[float, float, str]]],
        form: tuple[str, str] | None,
        tracker: bool = False,
    ) -> str:
        match = self._form_title_markers.at_start(title)
        if match is not None:
            marker = match.group(0).strip()
            lookup = self._form_title_markers.lookup
            form = form or (lookup.get(_phrase_key(marker.lstrip(" \t")), ""), f'title marker "{marker}"')
            title = title[match.end() :]
        if form and form[0]:
            evidence[form[0]].append((W_FORM, 9, form[1]))
        known = self._title_markers.first_known(title)
        if known is not None:
            match, marker, post_type = known
            evidence[post_type].append((W_TITLE_MARKER, 0, f'title marker "{marker}"'))
            title = title.replace(match.group(0), " ", 1)
        elif (alone := self._title_markers.alone(title)) is not None:
            evidence[alone].append((W_TITLE_MARKER, 0, f'title marker "{title.strip()}"'))
            title = ""
        stripped = title.strip()
        if "?" in stripped:
            if _INTERROGATIVE.match(stripped):
                evidence["question"].append((W_QUESTION_TITLE, 4, "question title"))
            elif stripped.endswith("?"):
                evidence["question"].append((W_QUESTION_TITLE / 2, 4, "question title"))
        elif _ASKING_TITLE.match(stripped):
            # Asked without its "?" ("does the old token remain valid after a restart").
            evidence["question"].append((W_QUESTION_TITLE / 2, 4, "question title"))
        stripped_lower = stripped.lower()
        if self._request is not None and stripped:
            # Without a separator the optional component prefix cannot match: the shorter
            # pattern finds the same verb without trying every prefix length first.
            separated = ":" in stripped or "-" in stripped or "\u2013" in stripped or "\u2014" in stripped
            match = self._request[0 if separated else 1].match(stripped_lower)
            if match:
                verb = stripped[match.start(1) : match.end(1)]
                evidence["feature_proposal"].append((W_REQUEST_TITLE, 3, f'request "{verb}"'))
        # On a tracker a title that ends by calling it a bug says what the author reports, as a bug
        # phrase in the title does. On the forum, where authors call their own problems bugs as
        # often, it is no evidence.
        if (
            tracker
            and "?" not in stripped
            and "bug" in stripped_lower
            and _TITLE_ENDS_BUG.search(stripped_lower)
        ):
            evidence["bug"].append((W_PHRASE_TITLE, 3, 'title ending "bug"'))
        elif (
            tracker
            and "?" not in stripped
            and "support" in stripped_lower
            and _TITLE_ENDS_SUPPORT.search(stripped_lower)
            and not _FLAWED_SUPPORT.search(stripped_lower)
        ):
            evidence["feature_proposal"].append((W_REQUEST_TITLE, 3, 'title ending "support"'))
        return title

    def _read_sections(
        self, prepared: PreparedText, evidence: dict[str, list[tuple[float, float, str]]]
    ) -> None:
        done: set[str] = set()
        for section in prepared.sections:
            if not section.written:
                continue
            found = self.section_type(section.heading)
            if found is None or found[0] in done:
                continue
            post_type, name = found
            done.add(post_type)
            weight = W_BUG_SECTION if post_type == "bug" else W_FEATURE_SECTION
            evidence[post_type].append((weight, 7, f'filled section "{name}"'))

    def _decide(self, post: Post, evidence: dict[str, list[tuple[float, float, str]]]) -> Classification:
        default = self._rules.channel_defaults.get(post.channel, "question")
        wants = self._want_rules
        if evidence["question"] and any(
            r.startswith("wish ") and r.lower() not in wants for _, _, r in evidence["feature_proposal"]
        ):
            # A question that also wishes for a capability asks for the capability.
            evidence["question"] = [e for e in evidence["question"] if e[2].startswith("title marker")]
        elif evidence["question"] and evidence["feature_proposal"]:
            # Beside a question the post asks, wanting something says what the author is trying to
            # do ("I'd like to run it under a subfolder: is it possible?"): the question weighs more.
            evidence["feature_proposal"] = [
                (min(item[0], W_WANT_BESIDE_QUESTION), item[1], item[2]) if item[2].lower() in wants else item
                for item in evidence["feature_proposal"]
            ]
        best, best_score = default, 0.0
        for post_type, items in evidence.items():
            if items:
                bonus = W_CHANNEL_DEFAULT if post_type == default else 0.0
                score = sum(map(_WEIGHT, items)) + bonus
                if score > best_score or (score == best_score and post_type == default):
                    best, best_score = post_type, score
        if not best_score or not evidence[best]:
            return Classification(default, f"default for {post.channel}")
        # The weightiest item, the lowest order among equals, the first of those.
        strongest = evidence[best][0]
        for item in evidence[best]:
            if item[0] > strongest[0] or (item[0] == strongest[0] and item[1] < strongest[1]):
                strongest = item
        return Classification(best, strongest[2])


_WEIGHT = itemgetter(0)  # of an item of evidence: (weight, order, rule)


def classify_posts(classifier: Any, posts: Sequence[Post]) -> list[Classification]:
    """Each post's classification from the rules or the learned model (``triage_model.ModelClassifier``);
    in one batch where the classifier takes one (the model vectorises the posts at once)."""
    classify_all = getattr(classifier, "classify_all", None)
    return classify_all(posts) if classify_all else [classifier.classify(post) for post in posts]
