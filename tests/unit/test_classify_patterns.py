"""The classifier's fast forms of its patterns find what their plain forms find.

Several patterns of ``classify`` are written for the regex engine's speed rather than as they read
(no group or "\\b" first, case folding done by ``lower()`` on ASCII, a title's marker words told by
one match): each case below holds the fast form against the plain one, kept here as the reference,
on texts that reach their corners (links of every kind, negations at the start of the text and
after a word, "run" words, non-ASCII case folding), and the server versions and the phrases also on
a seeded random sample of a few thousand texts.
"""

from __future__ import annotations

import random
import re

import pytest

from builders import SETTINGS
from community_monitoring import classify
from community_monitoring.classify import PostClassifier

CLASSIFIER = PostClassifier.from_settings(SETTINGS)

# The plain forms, as they read before they were reshaped.
PLAIN_SERVER_VERSION = re.compile(
    r"\b(?:server|mattermost|running|on version|"
    r"(still on|still run|we run|upgrad(?:e|ed|ing) from|updat(?:e|ed|ing) from))"
    r"(?:[ \t]+version)?[\s:=]{0,6}v?(\d{1,2})\.(\d{1,2})(?!\d)"
)
# Another server named just before "server" (read on the text before a match).
PLAIN_OTHER_SERVER = re.compile(f"(?:{'|'.join(classify._OTHER_SERVERS)})[ \t-]$")
PLAIN_URL = re.compile(
    r"!?\[([^\[\]\n]*+)\]\([ \t]*+(?:https?://|www\.)[^()\[\]\s]*+(?:[ \t]++\"[^\"\n]*+\")?[ \t]*+\)"
    r"|<https?://([^/<>\s]*+)[^<>\s]*+>"
    r"|(?:https?://|www\.)([^/\s)\]>\"'`]*+)[^\s)\]>\"'`]*+"
)
PLAIN_NEGATED_TYPE = re.compile(
    r"\b(?:not|isn't|isnt|wasn't|no|never)[ \t]+(?:(?:a|an|really|just|exactly|strictly|necessarily|"
    r"actually|even|the|my)[ \t]+){0,2}(?:feature[ \t]+requests?|features?|bug[ \t]+reports?|bugs?|"
    r"questions?|enhancements?|support[ \t]+requests?)\b"
)
PLAIN_SENTENCE_ASKING = re.compile(r"[^.!?\n]*\?")  # a sentence with its "?"


def plain_asks_question(text: str) -> bool:
    """A sentence that ends in "?" after a word and says nothing does not work."""
    for sentence in PLAIN_SENTENCE_ASKING.findall(text):
        said = sentence[:-1].rstrip(" \t)\"'\u201d\u2019")
        if re.search(r"\w\Z", said) and not classify._NOT_WORKING.search(said):
            return True
    return False


def plain_link_words(match: re.Match[str]) -> str:
    text = match.group(1)
    if text:
        return (
            " " + (PLAIN_URL.sub(plain_link_words, text) if "http" in text or "www." in text else text) + " "
        )
    return " " + (match.group(2) or match.group(3) or "") + " "


def plain_marker_alone(markers: classify._Markers, title: str) -> str | None:
    words = " ".join(re.sub(r"[\W_]+", " ", title.lower()).split())
    return markers.words.get(words) if markers.words else None


VERSIONS = [
    "we run 6.0 and upgrading from 5.9 to server 9.11, still on v7.1, still running 5.2",
    "mattermost: 10.5.1 on version 4.0; updated from 3.3 / update from 2.2. serverversion 1.2",
    "running version 8.1 since we run\t7.2 (server = 6.3), we still run 4.4",
    "1.2 3.4 server 123.4 server 12.345 server v 1.2 server: v1.2",
]
# Texts the quick test of _server_versions (a word every match holds, a digit, a dot and a digit)
# turns away or lets through: the same versions as the plain pattern, none where it finds none.
VERSIONS_OR_NONE = [
    "",
    "upgraded to 7.1 from 6.0",
    "running5.2 and still\ton 4.4",
    "we run\n7.2, on version:7.1",
    "upgradingfrom 6.0, mattermost-7.1, mattermost7.1",
    "servers 1.2, serve 1.2, the server",
    "release 10.5.1 on ubuntu 22.04",
    "updating from v6.3.",
    "still running version \t 5.9",
    "\u00e9 server 1.2 \u00e9",
    "webserver 1.24, web-server 1.2, nginx server 1.24, mssql server 15.0, the server 1.2",
    "python version 3.11, rerunning 5.2, westill on 4.4, reupgraded from 3.3, \u00e9running 1.2",
]
LINKS = [
    'see [the docs](https://docs.example.com/a/b) and ![shot](https://x.io/s.png "title")',
    "![](https://img.example/x.png) [](www.example.com) <https://host.example:8065/path> done",
    "bare https://example.com/a?b=c, www.example.org/x and http://h:1/ [text [nested](https://a.b)",
    "[link text with https://inner.example/url](https://outer.example) ![alt](www.x.y)",
    "unclosed [text](https://example.com/a\nnext line <https://not closed",
]
NEGATIONS = [
    "not a feature request but a bug",
    "this is not really a bug. isn't a question; isnt the bug report, wasn't my feature",
    "know bugs, cannot features, snot bugs, nobody bugs, no  enhancements and never support requests",
    "i_not bugs é not bug ñno bugs 2no bugs",
]
QUESTIONS = [
    "how do i do this?",
    "it broke. is it encrypted at rest?",
    "can't connect? what now",
    "nothing asked here. done",
    "  which one?",
    "x, does it work\nwhy?",
    "\ncan not be done?",
    "well, will it be out on ios?",
    "graphite, carbon ? where are they",
    "why doesn't it start? no idea",
    "tried it ...? then this",
    "on ios (both) ?",
    "?leading mark. then a word?",
    "\u201cquoted\u201d?",
]
ERROR_TEXTS = [
    "Connection REFUSED",
    "no error here",
    "Fatal: Can't open",
    "Timeout",
    "nothing wrong",
    "\u0130nvalid token",  # a capital I with a dot: lower() gives two characters
    "Unable to \u017f end",  # a long s
    "NOT FOUND",
    "No Such file",
]
TITLES = [
    "Question",
    "bug?",
    "[Bug]",
    "Feature request",
    "feature_request!!",
    "  question about  ",
    "Question about the API",
    "Help: the mobile app on Android times out 1260",
    "Q",
    "FR.",
    "help needed",
    "HELP NEEDED?!",
    "Bug report",
    "bug \u2013 report",
    "Questi\u00f3n",
    "\u2728 Feature",
    "",
    "---",
]


@pytest.mark.parametrize("text", VERSIONS)
def test_server_versions_as_the_plain_pattern_reads_them(text: str) -> None:
    plain = plain_server_versions(text)
    assert plain  # every case names a version
    assert classify._server_versions(text) == plain


def plain_server_versions(text: str) -> tuple[classify.ServerVersion, ...]:
    return tuple(
        classify.ServerVersion(int(match[2]), int(match[3]), bool(match[1]))
        for match in PLAIN_SERVER_VERSION.finditer(text)
        if not (match[0].startswith("server") and PLAIN_OTHER_SERVER.search(text, 0, match.start()))
    )


@pytest.mark.parametrize("text", VERSIONS_OR_NONE)
def test_server_versions_or_none_as_the_plain_pattern_reads_them(text: str) -> None:
    assert classify._server_versions(text) == plain_server_versions(text)


def test_server_versions_of_random_texts_as_the_plain_pattern_reads_them() -> None:
    pieces = [
        "server", "mattermost", "running", "run", "on version", "still on", "still run", "we run", "version",
        "upgrade from", "upgraded from", "upgrading", "updating from", "update", "from", "v", "1", "7.1",
        "10.5.1", "12.345", ".", ":", "=", " ", "  ", "\t", "\n", "\u00a0", "x", "\u00e9", "web", "-", "sql",
    ]  # fmt: skip
    rng = random.Random(1903)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert classify._server_versions(text) == plain_server_versions(text), text


@pytest.mark.parametrize("text", LINKS)
def test_links_keep_what_the_plain_pattern_kept(text: str) -> None:
    assert classify._URL.sub(classify._link_words, text) == PLAIN_URL.sub(plain_link_words, text)


@pytest.mark.parametrize("text", NEGATIONS)
def test_negated_types_as_the_plain_pattern_finds_them(text: str) -> None:
    assert classify._NEGATED_TYPE.findall(text) == PLAIN_NEGATED_TYPE.findall(text)
    assert classify._NEGATED_TYPE.sub(" ", text) == PLAIN_NEGATED_TYPE.sub(" ", text)


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_is_asked_where_the_plain_pattern_finds_one(text: str) -> None:
    assert classify._asks_question(text) == plain_asks_question(text)


@pytest.mark.parametrize("text", ERROR_TEXTS)
def test_error_words_as_the_case_insensitive_pattern_finds_them(text: str) -> None:
    assert classify._says_error(text) == (classify._ERROR_WORD.search(text) is not None)


@pytest.mark.parametrize("title", TITLES)
def test_a_title_of_marker_words_alone_as_the_plain_reading_finds_it(title: str) -> None:
    for markers in (CLASSIFIER._title_markers, CLASSIFIER._form_title_markers):
        assert markers.alone(title) == plain_marker_alone(markers, title)


def test_a_title_outside_ascii_is_read_as_lower_case_reads_it() -> None:
    # The Kelvin sign is a capital K to lower(), and to no ASCII-only match.
    markers = PostClassifier._marker_pattern({"bug": ["Kaput"]})
    assert markers.alone("\u212aaput!") == plain_marker_alone(markers, "\u212aaput!") == "bug"


TEMPLATE_TEXTS = [
    "\n\n- [x] i searched the issues\n_no response_\n- mattermost server version:\nn/a\nhow to reproduce\n",
    "\n\nsee the troubleshooting forum first.\n\n### steps\n1. _no response_\n- [ ] agree\n",
    "\n\nfeature ideas go to uservoice: www.example.com/ideas\n- [x] read it\nplain line\n",
]


@pytest.mark.parametrize("text", TEMPLATE_TEXTS)
def test_template_lines_of_a_text_without_a_link_as_the_full_pattern_finds_them(text: str) -> None:
    assert "http" not in text
    assert CLASSIFIER._template_line_no_link.sub("", text) == CLASSIFIER._template_line.sub("", text)
    assert CLASSIFIER._template_line.sub("", text) != text  # each holds template text


def test_bare_headings_as_the_longest_first_list_finds_them() -> None:
    names = sorted(
        {n for n, _, _ in CLASSIFIER._section_types}
        | set(CLASSIFIER._metadata)
        | set(classify._EXPECTED_SECTION_NAMES),
        key=len,
        reverse=True,
    )
    plain = re.compile(
        CLASSIFIER._bare_heading.pattern.replace(
            classify._trie_pattern(names, space=re.escape(" ")), "|".join(re.escape(n) for n in names)
        )
    )
    assert plain.pattern != CLASSIFIER._bare_heading.pattern
    text = "\n\n".join(f"{n}\n**{n}**: x\n{n} (optional):\n{n}s\n{n[:-1]}\n{n} extra:" for n in names)
    found = [(m.span(), m.groups()) for m in CLASSIFIER._bare_heading.finditer(text)]
    assert found == [(m.span(), m.groups()) for m in plain.finditer(text)]
    assert len(found) >= 2 * len(names)


PLAIN_LOG_LINE = re.compile(
    r"\n(?!\n)(?:"
    r"[ \t]*[\[(]?\d(?:\d{3}[-/.]\d\d[-/.]\d\d[T \t]\d\d:\d\d|\d:\d\d:\d\d)"
    r"|[ \t]*[{\[][ \t]*\""
    r"|[ \t]*(?:time|ts|level|lvl|msg)=\S"
    r"|[ \t]*\[?(?:ERROR|ERRO|WARN|WARNING|INFO|DEBUG|FATAL|TRACE|CRIT)\]?(?:[ \t:\]|]|$)"
    r"|[ \t]+at[ \t]+[\w$.<>]+[.(:]"
    r"|[ \t]*File \"[^\"]+\", line \d+"
    r"|[ \t]*goroutine \d+ \["
    r"|[ \t]*[\w./-]+\.(?:go|py|js|ts|tsx|kt|java|swift|rb):\d+"
    r"|\t/"
    r"|[ \t]*(?:panic|fatal error|Traceback|Caused by|FATAL EXCEPTION|Process(?=:)|signal \w+)\b[^\n]*:"
    r"|[ \t]*(?:Uncaught[ \t]+)?(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception)\b:?"
    r"|[ \t]*(?:Error|ERROR|error|Err)[ \t]*:"
    r"|[\w.-]++[ \t]++\|[ \t]"
    r"|[ \t]*\$[ \t]"
    r")[^\n]*"
)
LOG_TEXT = "\n\n" + "\n".join(
    indent + line
    for line in [
        "2025-03-02 10:11 started",
        "[2025/03/11 10:22] x",
        "10:22:01 y",
        '{"level": "error"}',
        "level=info msg=ok",
        "[ERROR] boom",
        "WARN",
        "at com.example.Main.run(Main.java:1)",
        'File "app.py", line 3, in main',
        "goroutine 7 [running]:",
        "server/app.go:120 +0x1",
        "/usr/lib/x",
        "panic: runtime error",
        "Uncaught TypeError: x is undefined",
        "Error: failed",
        "mattermost-1  | started",
        "$ docker ps",
        "plain prose line.",
        "",
    ]
    for indent in ("", " ", "    ", "\t", " \t ")
)


def test_log_lines_as_the_plain_pattern_finds_them() -> None:
    found = classify._LOG_LINE.findall(LOG_TEXT)
    assert found == PLAIN_LOG_LINE.findall(LOG_TEXT)
    assert classify._LOG_LINE.subn("\n<log>", LOG_TEXT) == PLAIN_LOG_LINE.subn("\n<log>", LOG_TEXT)
    assert 50 < len(found) < LOG_TEXT.count("\n") - 10  # most kinds at most indentations, never prose


def plain_markers(markers: classify._Markers) -> re.Pattern[str]:
    """The one alternation the two marker patterns stand for: a start marker at the title's start, or
    one read anywhere."""
    parts = [f"^(?:{markers.start.pattern})"] if markers.start is not None else []
    parts += [f"(?:{markers.anywhere.pattern})"] if markers.anywhere is not None else []
    return re.compile("|".join(parts), re.IGNORECASE)


MARKED_TITLES = [
    "[Bug] login fails",
    "login fails [Bug]",
    "  [feature request] dark mode",
    "Bug: [Feature] both",
    "[not a marker] then [Feature request] z",
    "Feature request: dark mode",
    "no marker at all",
    "[",
    "[]",
    "x [ bug ] y",
    "\u2728 [Bug]: x",
    "",
]


@pytest.mark.parametrize("title", MARKED_TITLES)
def test_title_markers_as_the_one_alternation_finds_them(title: str) -> None:
    for markers in (CLASSIFIER._title_markers, CLASSIFIER._form_title_markers):
        plain = plain_markers(markers)
        start, match = markers.at_start(title), plain.match(title)
        assert (start and start.group(0)) == (match and match.group(0))
        known = markers.first_known(title)
        expected = next(
            (found for m in plain.finditer(title) if (found := markers._known(m)) is not None), None
        )
        assert (known and (known[0].group(0), known[1:])) == (
            expected and (expected[0].group(0), expected[1:])
        )


# The phrase finder: one trie-shaped pattern reading the character before each phrase, with an ASCII
# twin for ASCII text, against the plain reading of its definition.
PHRASE_KEYS = sorted(CLASSIFIER._phrase_kinds)
_KEYS_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _key in sorted(PHRASE_KEYS, key=len, reverse=True):
    _KEYS_BY_FIRST.setdefault(_key[0], []).append(
        (_key, re.compile(r"\s+".join(map(re.escape, _key.split(" ")))))
    )
_WORD_CHAR = re.compile(r"\w")


def plain_phrases(text: str) -> list[str]:
    """Left to right: at each place after a non-word character (or the text's start), the longest
    phrase that reads there (a space in it reads any run of white space) and that no word
    character follows; the next is looked for after it."""
    found: list[str] = []
    at = 0
    while at < len(text):
        if at == 0 or not _WORD_CHAR.match(text[at - 1]):
            for _, pattern in _KEYS_BY_FIRST.get(text[at], ()):
                match = pattern.match(text, at)
                if match and not _WORD_CHAR.match(text, match.end()):
                    found.append(match.group(0))
                    at = match.end()
                    break
            else:
                at += 1
        else:
            at += 1
    return found


PHRASE_TEXTS = [
    "",
    "crash",
    "it crashes every time since upgrading to 10.12.1.",
    "crashx xcrash crash_ _crash 2crash crash2 crash-crash crash.crash",
    "doesn't work as expected, doesnt work as expected and does not\t\twork \n as expected",
    "does not work as expect",  # the longest phrase that fits: "does not work"
    "any idea? any idea ?any ideas?x any idea?? any idea",
    "question:x question: question:: question",
    "what\u00b4s wrong, what\u00b4swrong, what's wrong",
    "stopped\u00a0working, stopped\u2003working, stopped\x1cworking, stopped\x85working",
    "\u00e9crash crash\u00e9 \u00e9 crash \u00e9, \u4e2d\u6587crash",
    "would be nice would be nicer it would be nice to",
    "is broken.is broken\nis  broken",
    "'crash' \"hangs\" (freezes) [twice]",
]


def _random_phrase_text(rng: random.Random) -> str:
    glue = [" ", "  ", "\t", "\n", " \n ", ".", ",", "?", ":", "'", "-", "_", "x", "2", "\u00e9", "\u00a0",
            "\u2003", "\x1c", "\u00b4", "\u2019", "(", "\"", "", ""]  # fmt: skip
    parts = []
    for _ in range(rng.randint(0, 14)):
        key = rng.choice(PHRASE_KEYS)
        if rng.random() < 0.3:
            key = key.replace(" ", rng.choice([" ", "  ", "\t", "\n", "\u00a0", "\u2003", "x", ""]))
        if rng.random() < 0.2:
            key = key[: rng.randint(1, len(key))]
        parts += (key, rng.choice(glue))
    return "".join(parts)


RANDOM_PHRASE_TEXTS = [_random_phrase_text(random.Random(seed)) for seed in range(3000)]


@pytest.mark.parametrize("text", PHRASE_TEXTS)
def test_phrases_as_the_plain_reading_finds_them(text: str) -> None:
    finder = CLASSIFIER._phrases
    assert finder is not None
    assert finder.findall(text) == plain_phrases(text)
    assert finder.split(text)[1::2] == plain_phrases(text)


def test_phrases_of_random_texts_as_the_plain_reading_finds_them() -> None:
    finder = CLASSIFIER._phrases
    assert finder is not None
    ascii_texts = 0
    for text in RANDOM_PHRASE_TEXTS:
        assert finder.findall(text) == plain_phrases(text), text
        ascii_texts += text.isascii()
    assert 300 < ascii_texts < 2700  # both patterns, the ASCII twin and the Unicode one, are held


def test_title_phrases_are_shown_as_the_author_wrote_them() -> None:
    for text in PHRASE_TEXTS + RANDOM_PHRASE_TEXTS[:500]:
        title = text.upper() if text.isascii() else text.title()
        found = CLASSIFIER._title_phrases(title.lower(), title)
        assert [key for key, _ in found] == plain_phrases(title.lower())
        if len(title) == len(title.lower()):
            assert [shown.lower() for _, shown in found] == [key for key, _ in found]


def test_the_evidence_of_a_post_lists_the_post_types_in_their_order() -> None:
    """_weigh spells POST_TYPES out (a comprehension costs a call a post): in their order, which
    breaks ties in _decide, and all of them."""
    from datetime import UTC, datetime

    from community_monitoring.records import Post
    from community_monitoring.settings import POST_TYPES

    item = Post(
        channel="forum",
        source_id="1",
        url="https://example.test/1",
        title="",
        body="",
        author="someone",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    decided, evidence = CLASSIFIER._weigh(item)
    assert decided is None
    assert tuple(evidence) == POST_TYPES
