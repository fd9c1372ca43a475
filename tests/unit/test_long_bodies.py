"""A long body costs time in proportion to its length: no pattern that reads upstream text may
try each place of a long run (blanks, "<", "http://") again to the run's end (SPEC §9: cost grows
linearly with posts; a GitHub body may hold 65,536 characters, a GitLab description a million).

Each case is bounded by an alarm far above what a linear reading takes (milliseconds): before the
fix the first took 20 s at 16,000 characters and minutes at the sizes below, so the alarm fails it
instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

import pytest

from builders import SETTINGS, post
from community_monitoring.answers import asks_a_question, own_words, says_it_is_solved, without_quotes
from community_monitoring.classify import PostClassifier
from community_monitoring.drafts import _asked_in, _details_in
from community_monitoring.routing import first_prose_paragraph
from community_monitoring.rules import JIRA_BROWSE_URL, is_help_wanted_from_jira, links_jira_ticket
from community_monitoring.uservoice_review import offer_in, offer_pattern, plain_words

SIZE = 65_536
OFFER = offer_pattern(SETTINGS.uservoice.offer_phrases)
BOUND_SECONDS = 10


@contextlib.contextmanager
def within(seconds: int) -> Iterator[None]:
    def stop(*_: object) -> None:
        raise TimeoutError(f"still reading after {seconds}s: the cost is not linear in the body's length")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


CLASSIFIER = PostClassifier.from_settings(SETTINGS)
BODIES = {
    "a list item of blanks": "Help\n- " + " " * SIZE + "x",
    "a line of tabs": "Help\n" + "\t" * SIZE + "x",
    "blanks between question marks": (" " * (SIZE // 8) + "?") * 8,
    "a template word then links only before it": "Help\nhttp://x " + "forum " * (SIZE // 6),
    "blank lines of one space": "Help\n" + " \n" * (SIZE // 2) + "x",
    "a heading of hashes": "Help\n# " + "# " * (SIZE // 2) + "end",
    "a bold heading then blanks": "Help\n**Version**" + " " * SIZE + "x",
    "a heading name then stars": "Help\nVersion" + "*" * SIZE + "x",
    # "version", blanks, no ":" or digit: the blanks before and after the ":" were split every way.
    "the word version then blanks": "Help\nVersion" + " " * SIZE + "(",
    # A GitLab description or note may be a million characters long.
    "links with nothing between": "See " + "http://" * (SIZE // 2),
    "angle brackets never closed": "<" * SIZE * 4,
    # A Markdown link's text was read from every "[" to the next "]", its URL from every "](" to the
    # next ")": each of a long run of them again to the run's end.
    "link openings never closed": "Help " + "[" * SIZE + "](",
    "link targets never closed": "Help " + "[](" * SIZE,
    # Blocks opened and never closed, or openers whose attributes never end (fw28).
    "pre blocks never closed": "<pre>" * SIZE,
    "bbcode quotes never closed": "[quote]" * SIZE,
    "blockquotes never closed": "<blockquote>" * (SIZE // 2),
    "quote asides never closed": '<aside class="quote">' * (SIZE // 4),
    "asides without quote before one '>'": "<aside " * SIZE + ">",
    "pre openers without '>'": "<pre " * SIZE,
    "code openers without '>'": "<code " * SIZE,
    # Read as HTML (one tag is enough), then its tags' attributes to a '>' that never comes.
    "HTML list items without '>'": "<b>x</b>" + "<li " * SIZE,
    "HTML pre openers without '>'": "<b>x</b>" + "<pre " * SIZE,
    "HTML code openers without '>'": "<b>x</b>" + "<code " * SIZE,
    "HTML blockquote openers without '>'": "<b>x</b>" + "<blockquote " * (SIZE // 2),
    "bbcode quotes with a name never closed": "[quote=" * SIZE,
    "link brackets never closed": "](" + "[" * SIZE,
    "link texts with no target's end": "[x](" * SIZE,
    "HTML heading openers without '>'": "<h1 " * SIZE,
    # Code blocks whose lines start as quotes do, each fence opening one.
    "fences between quote lines": "```\n> x\n" * (SIZE // 8),
    "phrases saying it is solved, each negated": "not that worked. " * (SIZE // 4),
    "sentences asking for the steps": "could you share the steps? " * (SIZE // 8),
    "offers in one long question": "anyone happy to contribute to this " * (SIZE // 16) + "?",
}
READERS: dict[str, Callable[[str], object]] = {
    "classify": lambda body: CLASSIFIER.classify(post(title="Help", body=body)),
    "first prose paragraph": lambda body: first_prose_paragraph(body + "\n> quote\n# heading\n```\ncode"),
    "first prose paragraph alone": first_prose_paragraph,
    "details given": lambda body: _details_in(body.lower()),
    "details asked": lambda body: _asked_in(body.lower(), SETTINGS.responses),
    "an offer to build": lambda body: offer_in(plain_words(body), OFFER),
    "a reply's own words": lambda body: own_words(body),
    "a reply without its quotes": lambda body: without_quotes(body),
    "a reply asks a question": lambda body: asks_a_question(body),
    "a reply says it is solved": lambda body: says_it_is_solved(body, SETTINGS.responses),
    "Help Wanted from Jira": lambda body: is_help_wanted_from_jira(
        post(labels=("Help Wanted",), body=body), SETTINGS
    ),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("body", BODIES)
def test_a_long_body_is_read_in_linear_time(reader: str, body: str) -> None:
    with within(BOUND_SECONDS):
        READERS[reader](BODIES[body])


def test_what_the_patterns_find_is_unchanged() -> None:
    """The blanks' patterns now start on the marker's own line: the same lines are found."""
    assert first_prose_paragraph("> quoted\n\n   \n> more\nMine: push fails") == "Mine: push fails"
    assert first_prose_paragraph("   ```\ncode\n   ```\nMine\n\nLater") == "Mine"
    assert first_prose_paragraph("Mine\n   \n# Heading\nLater") == "Mine"
    assert _details_in("intro\n\n   1. open the app\n") == {"steps"}
    assert (
        CLASSIFIER.prepare("Hi\n\n- **Server Version:** \n\nIt crashes").prose.strip().endswith("it crashes")
    )


@pytest.mark.parametrize("blank", ["\u00a0", "\u3000", "\f", "\v"])
def test_a_marker_after_any_other_blank_than_a_space_or_tab_is_found_as_before(blank: str) -> None:
    """The old patterns' leading blanks were any blank a line starts with, not only spaces and tabs:
    a quote, heading or fence indented with a no-break or ideographic space (a Japanese paragraph's
    indent), a form feed or a vertical tab is still no prose, and a step numbered after one is still
    a step. Only the line's end is no longer crossed."""
    assert first_prose_paragraph(f"{blank}> quoted\nMine: push fails") == "Mine: push fails"
    assert first_prose_paragraph(f"{blank}## Summary\nMine: push fails") == "Mine: push fails"
    assert first_prose_paragraph(f"{blank}```\nlog\n{blank}```\nMine\n\nLater") == "Mine"
    assert _details_in(f"intro\n{blank}1. open the app\n") == {"steps"}


@pytest.mark.parametrize(
    "text",
    [
        "https://mattermost.atlassian.net/browse/MM-61501",
        "see (https://jira.example/browse/MM-1).",
        "https://jira.example/browse/MM-1/comments",
        "https://jira.example/browse/MM-1a",
        "http:///browse/MM-1",
        "xhttp://http://j/browse/MM-12?focused=1",
        "http://j/browse/mm-1 http://k/browse/MM-2",
        "http://j /browse/MM-1",
        "<http://j/browse/MM-1>",
    ],
)
def test_links_jira_ticket_finds_what_the_pattern_finds(text: str) -> None:
    assert links_jira_ticket(text) is (JIRA_BROWSE_URL.search(text) is not None)
