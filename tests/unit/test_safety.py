"""Untrusted text never pings, never breaks Markdown, never grows unbounded."""

from __future__ import annotations

import re

import pytest

from community_monitoring.safety import ZERO_WIDTH_SPACE, cap_length, safe_block, safe_text, safe_url

# A mention Mattermost would act on: @ directly followed by a name character, or <!here>.
LIVE_MENTION = re.compile(r"(?<![\w\u200b])@[A-Za-z0-9_.-]|<!(here|channel|all)")


@pytest.mark.parametrize(
    "hostile",
    [
        "@channel URGENT",
        "ping @here please",
        "@ALL look",
        "@all.",
        "hey @someone",
        "<!here> and <!channel> and <!all>",
        "email me at bob@example.com",
    ],
)
def test_no_mention_survives(hostile: str) -> None:
    assert not LIVE_MENTION.search(safe_text(hostile))
    assert not LIVE_MENTION.search(safe_block(hostile))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[click](http://evil.example)", r"\[click\]\(http://evil.example\)"),
        ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
        ("line one\nline two\r\n\tthree", "line one line two three"),
        ("# heading | table ~~strike~~", r"\# heading \| table \~\~strike\~\~"),
        ("a\x1eb", "a b"),
    ],
)
def test_markdown_is_escaped_to_one_line(raw: str, expected: str) -> None:
    assert safe_text(raw) == expected


def test_length_is_capped() -> None:
    capped = safe_text("x" * 10_000, max_chars=160)
    assert capped.endswith("…")
    assert len(capped) == 160


@pytest.mark.parametrize(
    ("raw", "max_chars", "expected"),
    [
        # A cut never parts a character from what modifies or joins it: the emoji keeps its skin
        # tone or is left out whole, a flag keeps both its letters, a letter its accent.
        ("ab👍🏽cd", 4, "ab…"),
        ("ab👍🏽cd", 5, "ab👍🏽…"),
        ("ab👨\u200d👩\u200d👧 family", 5, "ab…"),
        ("ab👨\u200d👩\u200d👧 family", 7, "ab…"),
        ("ab👨\u200d👩\u200d👧 family", 8, "ab👨\u200d👩\u200d👧…"),
        ("abc🇩🇪🇫🇷", 5, "abc…"),
        ("abc🇩🇪🇫🇷", 6, "abc🇩🇪…"),
        ("abcd\u0301e", 5, "abc…"),
        ("ab❤\ufe0f cd", 4, "ab…"),
        ("abcdef", 4, "abc…"),
    ],
)
def test_a_cut_keeps_each_character_whole(raw: str, max_chars: int, expected: str) -> None:
    assert cap_length(raw, max_chars) == expected


def test_block_stays_a_quote() -> None:
    block = safe_block("first\n\n```\ncode\n```\n> nested\n@here")
    assert all(line.startswith(">") for line in block.splitlines())
    assert f"@{ZERO_WIDTH_SPACE}here" in block


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://github.com/o/r/issues/1", "https://github.com/o/r/issues/1"),
        ("https://forum.example/t/a-b/12", "https://forum.example/t/a-b/12"),
        ("https://x.example/p (evil)", "https://x.example/p%20%28evil%29"),
        ("https://x.example/a)b", "https://x.example/a%29b"),
        ("javascript:alert(1)", ""),
        ("", ""),
        # A host part no link has is no link (the title is shown alone), never a failed digest.
        ("https://stackoverflow.com]/q/5", ""),
        ("https://[github.com/o/r/issues/1", ""),
        ("https://exa mple.com/x", ""),
        ("https://example.com:port/x", ""),
        ("https://[::1]:8080/x", "https://[::1]:8080/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        # An entity's "&" shown as text would be decoded into a mention: encoded; a query's is kept.
        ("https://uv.test/s/1&#64;here", "https://uv.test/s/1%26#64;here"),
        ("https://uv.test/s?q=1&commat;channel", "https://uv.test/s?q=1%26commat;channel"),
        ("https://uv.test/s?a=1&b=2", "https://uv.test/s?a=1&b=2"),
    ],
)
def test_safe_url(raw: str, expected: str) -> None:
    assert safe_url(raw) == expected


@pytest.mark.parametrize(
    "title",
    ["&commat;here look", "&#64;channel", "&#x40;all please", "&#X40;here", "&commat;someone", "＠here"],
)
def test_entities_never_become_a_mention(title: str) -> None:
    """Mattermost decodes character references before it looks for mentions."""
    import html

    shown = html.unescape(safe_text(title))  # what Mattermost's renderer sees after decoding
    assert "@here" not in shown
    assert "@channel" not in shown
    assert "@all" not in shown
    assert "@someone" not in shown
    assert "＠here" not in shown


def test_ampersands_still_read_as_ampersands() -> None:
    import html

    assert html.unescape(safe_text("Q&A: import & export")) == "Q&A: import & export"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://x.test/y", "", None])
def test_a_link_that_is_not_http_keeps_its_text_only(url: object) -> None:
    from community_monitoring.safety import safe_link

    assert safe_link("Title", url) == "Title"


def test_an_http_link_stays_a_link() -> None:
    from community_monitoring.safety import safe_link

    assert safe_link("Title", "https://example.test/a b") == "[Title](https://example.test/a%20b)"


@pytest.mark.parametrize(
    "title",
    [
        "",
        "   ",
        # Titles that show nothing though they are not empty: zero-width and direction characters,
        # the soft hyphen, a byte-order mark, and the blank letters used to fake an empty name.
        "\u200b\u200b",
        " \u200c\u200d ",
        "\u2060",
        "\ufeff",
        "\u200e\u200f\u061c",
        "\u00ad",
        "\u3164",
        "\u115f\u1160\uffa0",
        "\u2800",
    ],
)
def test_an_item_without_a_title_still_has_something_to_click(title: str) -> None:
    from community_monitoring.safety import safe_link

    assert safe_link(title, "https://example.test/7") == "[(no title)](https://example.test/7)"
    # As the templates show a title: made safe first (a right-to-left mark gets an isolate), then linked.
    assert safe_link(safe_text(title), "https://example.test/7") == "[(no title)](https://example.test/7)"


@pytest.mark.parametrize(
    "title",
    ["\u200b.", "👨\u200d👩\u200d👧", "a\u00adb", "\u0645\u0631\u062d\u0628\u0627", "\u3164x"],
)
def test_a_title_that_shows_something_is_its_own_link_text(title: str) -> None:
    from community_monitoring.safety import safe_link

    assert safe_link(title, "https://example.test/7") == f"[{title}](https://example.test/7)"


FSI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Right-to-left text is isolated: in the left-to-right line "by <name> · 10 days ago" an
        # Arabic or Hebrew name would otherwise pull " · 10" into its own direction and show
        # "by 10 · <name> days ago".
        ("محمد", f"{FSI}محمد{PDI}"),
        ("דוד כהן", f"{FSI}דוד כהן{PDI}"),
        ("Login fails: خطأ 500", f"{FSI}Login fails: خطأ 500{PDI}"),
        # Left-to-right text is left as it is.
        ("Login fails with error 500", "Login fails with error 500"),
        ("Ошибка входа 🔥", "Ошибка входа 🔥"),
        ("登录失败", "登录失败"),
        # Upstream isolates and overrides are dropped: none can close ours early or flip the line.
        (f"a{PDI}محمد\u202e", f"{FSI}a محمد{PDI}"),
        ("\u202eevil", "evil"),
    ],
)
def test_right_to_left_text_is_isolated(raw: str, expected: str) -> None:
    assert safe_text(raw) == expected


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("", "(no name)"),
        ("\u200b\u200d", "(no name)"),
        ("\u3164", "(no name)"),
        ("\u2800 ", "(no name)"),
        ("amy", "amy"),
        ("@here", "@\u200bhere"),
    ],
)
def test_a_name_that_shows_nothing_is_named_as_such(name: str, shown: str) -> None:
    from community_monitoring.safety import safe_name

    assert safe_name(name) == shown


def test_an_author_whose_name_shows_nothing_reads_as_no_name_and_is_greeted_as_there() -> None:
    from builders import SETTINGS, T, ago, post
    from community_monitoring.messages import render_triage_list

    text = render_triage_list(
        [post(number=1, title="Crash", author="\u3164", created=ago(hours=2))], SETTINGS, T
    ).text
    assert " · by (no name) · " in text
    assert "Hi there, thanks for reaching out!" in text
