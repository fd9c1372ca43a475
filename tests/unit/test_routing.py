"""Routing (SPEC §4): the first route that matches names the owner; any one field is enough."""

from __future__ import annotations

import pytest

from builders import post
from community_monitoring.records import Post
from community_monitoring.routing import first_paragraph, first_prose_paragraph, route_owner
from community_monitoring.settings import SettingsError, load_settings

ROUTES = load_settings(
    {
        "routing": [
            {"match": {"labels": ["Area/Mobile"], "categories": ["Mobile"]}, "owner": "@mobile-team"},
            {
                "match": {"tags": ["mattermost-plugin"], "keywords": ["plugin", "webapp plugin"]},
                "owner": "plugins",
            },
            {"match": {"keywords": ["push notification", "APNs"]}, "owner": "@mobile-team"},
            {"match": {"labels": ["Area/Mobile"], "keywords": ["calls"]}, "owner": "calls-team"},
        ]
    }
).routing


@pytest.mark.parametrize(
    ("case", "item", "owner"),
    [
        ("label, any case", post(labels=("area/mobile",)), "mobile-team"),
        ("forum category", post(channel="forum", category="Mobile"), "mobile-team"),
        ("its subcategory", post(channel="forum", category="Mobile › iOS"), "mobile-team"),
        ("a subcategory named so", post(channel="forum", category="Help › Mobile"), "mobile-team"),
        ("another channel's category is one name", post(channel="uservoice", category="Help › Mobile"), ""),
        ("a label named like a category on GitHub", post(labels=("Mobile",)), ""),
        ("Stack Overflow tag", post(channel="stackoverflow", labels=("mattermost-plugin",)), "plugins"),
        ("a tag route does not read GitHub labels", post(labels=("mattermost-plugin",)), ""),
        ("keyword in the title, whole word", post(title="My Plugin crashes"), "plugins"),
        ("keyword inside a word is no match", post(title="Pluginator crashes"), ""),
        # sc26 held-out scenario: a keyword names its plural too (SPEC §4: the keyword in the title).
        ("a phrase keyword's plural", post(title="Push notifications never arrive"), "mobile-team"),
        ("a keyword's plural", post(title="My plugins crash"), "plugins"),
        ("a plural inside a word is no match", post(title="Pluginsets crash"), ""),
        (
            "phrase keyword in the first paragraph",
            post(body="Push notification never arrives.\n\nLogs"),
            "mobile-team",
        ),
        ("keyword after the first paragraph is no match", post(body="It fails.\n\nAPNs says 410"), ""),
        # sc34 held-out scenario: a phrase keyword whose words a hard-wrapped first paragraph puts on
        # two lines is the same phrase (Markdown reads the line end as a space), as is one spaced twice.
        (
            "phrase keyword wrapped across a line of the first paragraph",
            post(body="Since 11.1 every push\nnotification arrives twice on Android.\n\nLogs"),
            "mobile-team",
        ),
        (
            "phrase keyword spaced twice in the title",
            post(title="Push  notifications arrive twice"),
            "mobile-team",
        ),
        ("phrase keyword's words across a paragraph break", post(body="No push\n\nnotification"), ""),
        # The first paragraph is the author's own words: code, quotes and headings are not it.
        (
            "keyword in a log pasted first is no match",
            post(body="```\nWARN push notification proxy idle\n```\n\nSAML login fails since today."),
            "",
        ),
        (
            "keyword in a quote opening the post is no match",
            post(body="> the plugin API is stable\n\nLogin fails since today."),
            "",
        ),
        (
            "an issue form's first answer is its first paragraph",
            post(
                body="### Summary\n\nNo push notification arrives after a reboot.\n\n### Steps\n\n1. Reboot"
            ),
            "mobile-team",
        ),
        (
            "an HTML body's code block is no paragraph",
            post(
                channel="stackoverflow",
                body="<pre><code>APNs: 410</code></pre>\n<p>Login fails.</p><p>Push notification works.</p>",
            ),
            "",
        ),
        ("first match wins", post(labels=("Area/Mobile",), title="calls drop"), "mobile-team"),
        ("no route matches", post(title="Server will not start"), ""),
    ],
)
def test_first_matching_route_names_the_owner(case: str, item: Post, owner: str) -> None:
    assert route_owner(item, ROUTES) == owner, case


def test_no_routes_no_owner() -> None:
    assert route_owner(post(labels=("Area/Mobile",)), ()) == ""


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"match": {"labels": ["x"]}, "owner": "@channel"}, "would ping everyone"),
        ({"match": {"labels": ["x"]}, "owner": "Mobile Team"}, "not a Mattermost name"),
        ({"match": {}, "owner": "mobile-team"}, "at least one of"),
        ({"match": {"labels": ["x"], "teams": ["y"]}, "owner": "mobile-team"}, "routing.0.match.teams"),
    ],
)
def test_bad_routes_are_named(route: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"routing": [route]})


@pytest.mark.parametrize(
    ("body", "first"),
    [
        ("", ""),
        ("one line", "one line"),
        ("\n\nfirst\nstill first\n\nsecond", "first\nstill first"),
        # HTML (a forum post's cooked text, a Stack Exchange body): a paragraph ends at its </p>.
        ("<p>Login fails</p>\n<p>Side note: push notifications work.</p>", "<p>Login fails"),
        ("<p>Login fails</P>\n\n<p>Push works.</p>", "<p>Login fails"),
    ],
)
def test_first_paragraph(body: str, first: str) -> None:
    assert first_paragraph(body) == first


@pytest.mark.parametrize(
    ("body", "first"),
    [
        ("", ""),
        ("<!-- Describe the issue -->\nThe app hangs.\n\nMore.", "The app hangs."),
        ("### Summary\nThe app hangs.\n\n### Steps", "The app hangs."),
        ("```\ntrace\n\nmore trace\n```\nThe app hangs.", "The app hangs."),
        (
            "> someone said\n\nThe app hangs, see [the log](https://x.example/l).",
            "The app hangs, see the log.",
        ),
        (
            '<aside class="quote"><blockquote>old</blockquote></aside>\n<p>The app hangs.</p>',
            "<p>The app hangs.",
        ),
    ],
)
def test_first_prose_paragraph(body: str, first: str) -> None:
    assert first_prose_paragraph(body) == first
