"""Routing (SPEC §4): the first route that matches names the owner; any one field is enough."""

from __future__ import annotations

import pytest

from builders import post
from community_monitoring.records import Post
from community_monitoring.routing import first_paragraph, route_owner
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
        (
            "phrase keyword in the first paragraph",
            post(body="Push notification never arrives.\n\nLogs"),
            "mobile-team",
        ),
        ("keyword after the first paragraph is no match", post(body="It fails.\n\nAPNs says 410"), ""),
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
