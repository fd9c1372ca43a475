"""Rendered [Help Wanted] and [Triage] messages: header, sections, safety, splitting."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from test_safety import LIVE_MENTION

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.classify import Classification
from community_monitoring.messages import (
    TriageFindings,
    render_help_wanted_digest,
    render_triage_list,
    render_weekly_review,
)
from community_monitoring.records import Post
from community_monitoring.rendering import BREAK, split_message
from community_monitoring.rules import Release, StaleItem, find_aged_out, find_help_wanted_sections
from community_monitoring.settings import load_settings

HEADER = (
    "[Help Wanted] #forum #github @here @alex.dev These forum posts are open to everyone in the "
    "community. If you find something you think you know the answer to or can help with, please help "
    "post a response and be part of creating a vibrant Mattermost community!"
)
RELEASES = [Release("v11.1.0", "v11.1.0", ago(days=8))]
HOSTILE_TITLE = "@channel URGENT: <!here> login broken [click](http://evil.example) **now**"


def _digest(posts: list, **kwargs: object):  # type: ignore[no-untyped-def]
    sections = find_help_wanted_sections(posts, ROSTER, SETTINGS, T, RELEASES)
    return render_help_wanted_digest(sections, SETTINGS, T, rotation="alex.dev", **kwargs)


def test_header_and_sections() -> None:
    waiting = post(number=1, title="Push notifications stopped", created=ago(days=4))
    release_topic = post(channel="forum", number=2, title="SAML fails after upgrade", created=ago(hours=3))
    question = post(
        channel="forum",
        number=3,
        created=ago(days=1, hours=2),
        replies=(
            reply("forum.staffer", at=ago(hours=20), body="Which version?"),
            reply("alice", at=ago(hours=2)),
        ),
    )
    message = _digest([waiting, release_topic, question])
    text = message.text
    assert text.splitlines()[0] == HEADER
    order = [
        text.index(h)
        for h in (
            "#### Waiting for a first response",
            "#### After the release (v11.1.0)",
            "#### New reply to a core-team question",
        )
    ]
    assert order == sorted(order)
    assert "[Push notifications stopped](https://example.test/github/1)" in text
    assert message.item_urls == (waiting.url, release_topic.url, question.url)
    assert len(message.parts) == 1


def test_a_release_tag_pings_no_one() -> None:
    """Tags are upstream text: "@here" is a legal tag name."""
    topic = post(channel="forum", number=2, title="SAML fails after upgrade", created=ago(hours=3))
    sections = find_help_wanted_sections(
        [topic], ROSTER, SETTINGS, T, [Release("@here", "@here", ago(days=8))]
    )
    text = render_help_wanted_digest(sections, SETTINGS, T, rotation="alex.dev").text
    assert "#### After the release (" in text
    assert not LIVE_MENTION.search(text.split("\n", 1)[1])


def test_empty_sections_are_left_out() -> None:
    text = _digest([post(created=ago(days=4))]).text
    assert "Waiting for a first response" in text
    assert "After the release" not in text
    assert "core-team question" not in text


def test_nothing_waiting_pings_no_one() -> None:
    message = _digest([])
    assert message.text.startswith("[Help Wanted] Nothing is waiting")
    assert "@here" not in message.text


def test_missing_channel_is_named() -> None:
    text = _digest([post(created=ago(days=4))], missing_channels=["forum"]).text
    assert "could not read Forum (forum)" in text


def test_hostile_titles_ping_no_one_and_keep_markdown() -> None:
    hostile = [
        post(number=i, title=title, author="@here", created=ago(days=3 + i))
        for i, title in enumerate(
            [HOSTILE_TITLE, "x" * 10_000, "](http://a) [b", "`unclosed code", "<!channel>"]
        )
    ]
    message = _digest(hostile)
    body = message.text.split("\n", 1)[1]  # the header is ours and pings on purpose
    # From the mention day, item lines name the developer on rotation: our name, on purpose too.
    assert not LIVE_MENTION.search(body.replace(" · @alex.dev", ""))
    items = [line for line in body.splitlines() if line.startswith("- [")]
    assert len(items) == 5
    for line in items:
        # Each item is exactly one well-formed link followed by plain text.
        assert re.match(r"^- \[(?:[^\[\]\\]|\\.)*\]\(https://example\.test/github/\d\) · ", line), line
        assert len(line) < 400


def test_long_digest_is_split_at_item_boundaries() -> None:
    posts = [
        post(number=i, title=f"Issue {i} " + "y" * 150, created=ago(days=3, hours=i % 20)) for i in range(100)
    ]
    # Uncapped, so that the 100 items need several posts (but no more than 3: the caps and that
    # limit are in test_digest_caps.py).
    uncapped = SETTINGS.model_copy(
        update={"digest": SETTINGS.digest.model_copy(update={"max_items_per_section": 1000})}
    )
    sections = find_help_wanted_sections(posts, ROSTER, uncapped, T, RELEASES)
    message = render_help_wanted_digest(sections, uncapped, T, rotation="alex.dev")
    assert len(message.parts) > 1
    total = len(message.parts)
    for index, part in enumerate(message.parts, start=1):
        assert len(part) <= SETTINGS.digest.message_max_chars
        assert part.startswith(f"[Help Wanted] ({index}/{total})")
        for line in part.splitlines()[1:]:
            assert line.startswith(("- [", "####")), line
    assert message.parts[0].startswith(f"[Help Wanted] (1/{total}) #forum #github @here @alex.dev")
    assert message.parts[1].splitlines()[1] == "#### Waiting for a first response (continued)"
    listed = "\n".join(message.parts)
    assert all(f"(https://example.test/github/{i})" in listed for i in range(100))


def test_split_keeps_headings_with_their_items() -> None:
    blocks = ["[Triage] head", "#### A", "a" * 40, "#### B", "b" * 40]
    parts = split_message(BREAK.join(blocks), "[Triage]", max_chars=90)
    assert all(not part.rstrip().endswith(("#### A", "#### B")) for part in parts)
    assert "#### B\n" + "b" * 40 in "\n".join(parts)


@pytest.mark.parametrize(
    ("heading", "carried"),
    [
        (
            "#### Escalated (day 7+ on the list) @jason.blais",
            "#### Escalated (day 7+ on the list) (continued)",
        ),
        ("#### Waiting for a first response", "#### Waiting for a first response (continued)"),
        # Upstream text in a heading (a release tag) has no live mention: it is carried as it is.
        ("#### After the release (@\u200bhere)", "#### After the release (@\u200bhere) (continued)"),
    ],
)
def test_a_continued_heading_calls_no_one_again(heading: str, carried: str) -> None:
    """The Escalated section calls the CM lead once: a part it runs on into does not ping them again."""
    blocks = ["[Help Wanted] head", heading, *(f"- item {i} " + "x" * 40 for i in range(6))]
    parts = split_message(BREAK.join(blocks), "[Help Wanted]", max_chars=200)
    assert len(parts) > 1
    assert parts[0].splitlines()[1] == heading
    assert all(part.splitlines()[1] == carried for part in parts[1:])


@pytest.mark.parametrize("seed", range(4))
def test_no_part_is_longer_than_the_limit_whatever_the_blocks(seed: int) -> None:
    """An item just under a part's room, then a heading carried on with it ("… (continued)"),
    made a part longer than the limit."""
    import random

    rng = random.Random(seed)
    for max_chars in (1000, 2000, 16383):
        for _ in range(60):
            kind = rng.choice(["[Triage]", "[Help Wanted]"])
            blocks = [f"{kind} header " + "h" * rng.randint(0, 300)]
            for index in range(rng.randint(1, 60)):
                if rng.random() < 0.15:
                    blocks.append("#### Section " + "s" * rng.randint(0, 60))
                else:
                    longest = int(max_chars * rng.choice([0.05, 0.3, 0.99, 1.0]))
                    blocks.append(f"- item{index} " + "x" * rng.randint(10, longest))
            separator = rng.choice(["\n", "\n\n"])
            for part in split_message(BREAK.join(blocks), kind, max_chars, separator=separator):
                assert len(part) <= max_chars
                assert part.startswith(kind)


def test_triage_groups_by_type_with_action_and_draft() -> None:
    bug = post(number=1, title="Crash on login", labels=("Bug",), created=ago(hours=3), author="bob_the_user")
    feature = post(number=2, title="It would be nice to have dark mode", created=ago(hours=4))
    question = post(
        channel="forum", number=3, title="How do I set up SAML?", category="Developers", created=ago(hours=5)
    )
    troubleshooting = post(
        number=4,
        title="Push notifications not working",
        created=ago(hours=6),
        body="v10.5 behind nginx, with logs attached",  # the author's setup: troubleshooting on GitHub
    )
    message = render_triage_list([bug, feature, question, troubleshooting], SETTINGS, T)
    text = message.text
    assert text.splitlines()[0].startswith("[Triage] 4 new community posts from 2026-11-17 09:00 UTC")
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == [
        "#### Bug",
        "#### Troubleshooting",
        "#### Feature Proposal",
        "#### Developer/Product Question",
    ]
    assert "Suggested action: Try to reproduce; if it reproduces, create a Jira ticket" in text
    assert "Suggested action: Reply asking to move the discussion to the forum." in text
    assert "Suggested action: Reply asking to post the idea on the feature-idea forum." in text
    assert "Suggested action: Answer with a link to the documentation." in text
    assert 'label "Bug"' in text
    assert "https://docs.mattermost.com/onboard/sso-saml.html" in text
    assert "Hi bob\\_the\\_user" in text
    bug_block = text[text.index("Crash on login") : text.index("#### Troubleshooting")]
    assert "Missing: versions, logs, steps." in bug_block
    assert "contributing the fix" in bug_block


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("", "Missing: versions, logs."),
        ("Server v10.5.2", "Missing: logs."),
        ("Version 10, here are the logs:\n```\nerror\n```", None),
    ],
)
def test_triage_asks_for_what_is_missing(body: str, missing: str | None) -> None:
    item = post(title="Can't connect from the mobile app through our proxy", body=body, created=ago(hours=3))
    text = render_triage_list([item], SETTINGS, T).text
    if missing:
        assert missing in text
    else:
        assert "Missing:" not in text


@pytest.mark.parametrize(
    ("closed_at", "shown_closed"),
    [(None, False), (T - timedelta(hours=1), True), (T + timedelta(hours=1), False)],
)
def test_triage_shows_the_state_as_of_t(closed_at: datetime | None, shown_closed: bool) -> None:
    """A post closed after T was open on T's day: a rerun or backfill of that day says so."""
    item = post(
        title="Crash on login",
        created=ago(hours=3),
        state="open" if closed_at is None else "closed",
        closed_at=closed_at,
    )
    first_line = next(
        line for line in render_triage_list([item], SETTINGS, T).text.splitlines() if "Crash on login" in line
    )
    assert bool(re.search(r" · closed( ·|$)", first_line)) is shown_closed


def test_triage_hostile_author_and_title_ping_no_one() -> None:
    item = post(title=HOSTILE_TITLE, author="here", created=ago(hours=2))
    renamed = replace(item, author="@channel", source_id="o/r#9", url="https://example.test/9")
    text = render_triage_list([item, renamed], SETTINGS, T).text
    assert not LIVE_MENTION.search(text)


@pytest.mark.parametrize(
    ("post_type", "released"),
    [("feature_proposal", True), ("bug", False), ("feature_proposal", False)],
)
def test_related_items_upstream_text_pings_no_one_in_the_action_or_draft(
    post_type: str, released: bool
) -> None:
    """A related ticket's key, URL and version, and a suggestion's URL, are upstream text too: in the
    suggested action ("Tracked in KEY"), the draft's links and the related line."""
    from community_monitoring.classify import Classification
    from community_monitoring.messages import TriageFindings
    from community_monitoring.related import Related

    hostile = " @channel [x](javascript:alert(1)) &#64;here"
    idea = Related("uservoice", "suggestion 1", "https://uv.test/s/1)" + hostile, "Idea", 0.9, "Open", True)
    ticket = Related(
        "jira",
        "MM-1" + hostile,
        "https://jira.test/browse/MM-1" + hostile,
        "Ticket",
        0.95,
        "Done" if released else "Open",
        not released,
        released_in=("11.1" + hostile) if released else None,
    )
    item = post(channel="forum", number=5, title="Dark mode", created=ago(hours=3), body="It would be nice")
    findings = TriageFindings(related={item.url: (ticket, idea)})
    text = render_triage_list(
        [item], SETTINGS, T, findings=findings, decisions=[Classification(post_type, "x")]
    ).text
    assert not LIVE_MENTION.search(text)
    assert not re.search(r"(?<!\\)\]\((?!https?://)", text)  # no link but to a web page
    assert "&#64;" not in text.replace("%26#64;", "").replace("&amp;#64;", "")


def test_triage_names_what_could_not_be_read() -> None:
    problem = {
        "channel": "github",
        "item": "mattermost/mattermost#5",
        "problem": "field 'labels' is not a list",
    }
    text = render_triage_list([], SETTINGS, T, unreadable=[problem]).text
    assert "#### Could not read (1)" in text
    assert "github mattermost/mattermost#5: field 'labels' is not a list" in text.replace("\\", "")


ROUTED = load_settings({"routing": [{"match": {"labels": ["Mobile"]}, "owner": "@mobile-team"}]})


def _routed_digest(posts: list, **kwargs: object):  # type: ignore[no-untyped-def]
    sections = find_help_wanted_sections(posts, ROSTER, ROUTED, T, RELEASES)
    return render_help_wanted_digest(sections, ROUTED, T, rotation="alex.dev", **kwargs)


def _item_line(text: str, url: str) -> str:
    [line] = [line for line in text.splitlines() if f"]({url})" in line]
    return line


@pytest.mark.parametrize(
    ("case", "days_old", "shown", "not_shown"),
    [
        ("day 1: state and day only", 2, ["· unanswered · day 1"], ["@alex.dev", "→", "last call"]),
        ("day 2", 3, ["· day 2"], ["@alex.dev", "→"]),
        ("day 3 names the rotation, not yet the owner", 4, ["· day 3 · @alex.dev"], ["last call", "→"]),
        ("day 6 still no owner", 7, ["· day 6 · @alex.dev"], ["→"]),
        ("day 7, escalated: the owner too", 8, ["· day 7 · @alex.dev → @mobile-team"], ["last call"]),
        ("last call", 27.5, ["· day 26 · **last call** · @alex.dev → @mobile-team"], []),
    ],
)
def test_item_lines_climb_the_ladder(
    case: str, days_old: float, shown: list[str], not_shown: list[str]
) -> None:
    item = post(labels=("Mobile",), created=ago(days=days_old))
    line = _item_line(_routed_digest([item], cm_lead="cm.lead").text, item.url)
    assert all(s in line for s in shown), (case, line)
    assert not any(s in line for s in not_shown), (case, line)


def test_escalated_section_comes_first_and_calls_the_cm_lead() -> None:
    escalated = post(number=1, created=ago(days=10))
    fresh = post(number=2, created=ago(days=3))
    text = _digest([fresh, escalated], cm_lead="cm.lead").text
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == ["#### Escalated (day 7+ on the list) @cm.lead", "#### Waiting for a first response"]
    assert text.index(escalated.url) < text.index("#### Waiting") < text.index(fresh.url)


def test_escalated_section_without_a_cm_lead_mentions_no_one() -> None:
    text = _digest([post(created=ago(days=10))]).text
    assert "#### Escalated (day 7+ on the list)\n" in text


def test_an_older_backfill_day_pings_no_one() -> None:
    items = [post(number=1, labels=("Mobile",), created=ago(days=10)), post(number=2, created=ago(days=4))]
    sections = find_help_wanted_sections(items, ROSTER, ROUTED, T, RELEASES)
    text = render_help_wanted_digest(sections, ROUTED, T, rotation="", mention=False, cm_lead="cm.lead").text
    assert not LIVE_MENTION.search(text)
    assert "day 9" in text
    assert "day 3" in text


def test_every_item_shows_its_answer_state() -> None:
    waiting = post(number=1, created=ago(days=4))
    question = post(
        channel="forum",
        number=3,
        created=ago(days=4),
        replies=(
            reply("forum.staffer", at=ago(days=2), body="Which version?"),
            reply("alice", at=ago(hours=2), body="11.1.0 on Ubuntu"),
        ),
    )
    text = _digest([waiting, question]).text
    assert "· unanswered · day 3" in _item_line(text, waiting.url)
    assert "· waiting on us · day 1" in _item_line(text, question.url)


def _stale(item: Post) -> StaleItem:
    return StaleItem(item, item.created_at, item.author, "unanswered")


def test_weekly_review_lists_aged_out_first_and_stale_posts_under_their_channel_too() -> None:
    """SPEC §4: the stale list is every stale post of the channel (an aged-out one included) and the
    aged-out section comes on top of it; the header counts each post once."""
    topic = post(channel="forum", number=1, title="Forum topic nobody answered", created=ago(days=45))
    issue = post(number=2, title="Old issue nobody answered", created=ago(days=40))
    quiet = post(number=3, title="Answered, then quiet", created=ago(days=12))
    aged = find_aged_out([topic, issue, quiet], ROSTER, SETTINGS, T)
    stale = {"github": [_stale(issue), StaleItem(quiet, quiet.created_at, "bob", "answered")]}
    message = render_weekly_review(stale, SETTINGS, T, 7, aged_out=aged)
    text = message.text
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == ["#### Aged out without an answer (2)", "#### GitHub (2)"]
    assert text.count(f"]({issue.url})") == 2
    github = text[text.index("#### GitHub") :]
    assert github.index(issue.url) < github.index(quiet.url)  # oldest activity first
    assert text.index(topic.url) < text.index(issue.url) < text.index("#### GitHub")
    assert "· Forum · unanswered · last activity" in _item_line(text, topic.url)
    assert "· answered · last activity" in _item_line(text, quiet.url)
    assert message.item_urls == (topic.url, issue.url, quiet.url)
    assert text.splitlines()[0].startswith("[Weekly Review] 3 open community posts to look at")
    assert ": 2 aged out without an answer, 2 with no activity for 7+ days" in text.splitlines()[0]


def test_triage_list_classifies_the_days_posts_in_one_batch() -> None:
    """A classifier with ``classify_all`` (the triage model) gets the day's posts at once, in order."""
    from community_monitoring.classify import Classification

    class Batched:
        def __init__(self) -> None:
            self.batches: list[list[str]] = []

        def classify(self, item: Post) -> Classification:
            raise AssertionError("one post at a time")

        def classify_all(self, items: list[Post]) -> list[Classification]:
            self.batches.append([p.title for p in items])
            return [Classification("question", "stub") for _ in items]

    posts = (post(number=n, title=f"Question {n}", created=ago(hours=n)) for n in (1, 2, 3))
    classifier = Batched()
    text = render_triage_list(posts, SETTINGS, T, classifier=classifier).text  # type: ignore[arg-type]
    assert classifier.batches == [["Question 1", "Question 2", "Question 3"]]
    assert "[Triage] 3 new community posts" in text


def test_an_empty_uservoice_review_that_could_not_read_does_not_say_all_is_well() -> None:
    import dataclasses

    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.uservoice_review import UserVoiceReview

    empty = UserVoiceReview(**{f.name: () for f in dataclasses.fields(UserVoiceReview)})
    assert render_uservoice_review(empty, SETTINGS, T).text.endswith("\nNothing needs the PM today.")
    unread = render_uservoice_review(empty, SETTINGS, T, missing_channels=["uservoice"]).text
    assert "could not read UserVoice (uservoice)" in unread
    assert "Nothing needs the PM today" not in unread


def test_a_uservoice_review_without_jira_does_not_say_a_suggestion_has_no_ticket() -> None:
    """Jira could not be read: whether a new suggestion has a linked ticket is unknown, so the
    section that lists it must not say "no Jira ticket" (Jira's failure is not an empty Jira)."""
    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.uservoice_review import UserVoiceReview

    new = post(
        channel="uservoice", number=46011700, title="Sync status with a calendar", created=ago(hours=3)
    )
    review = UserVoiceReview(status_drift=(), needs_question=(new,), offers=())
    read = render_uservoice_review(review, SETTINGS, T).text
    assert "#### New, no Jira ticket and no admin response: PM may want to ask a question (1)" in read
    unread = render_uservoice_review(review, SETTINGS, T, missing_channels=["jira"]).text
    assert "could not read Jira (jira)" in unread
    assert "no Jira ticket" not in unread
    heading = next(line for line in unread.splitlines() if line.startswith("#### New"))
    assert "Jira could not be read" in heading
    assert heading.endswith("PM may want to ask a question (1)")
    assert new.url in unread  # still listed: the PM still hears of the new suggestion
    # Another channel missing (uservoice comments, say) changes nothing about the tickets.
    other = render_uservoice_review(review, SETTINGS, T, missing_channels=["uservoice"]).text
    assert "#### New, no Jira ticket and no admin response" in other


def test_a_uservoice_review_missing_one_jira_ticket_does_not_say_a_suggestion_has_none() -> None:
    """One Jira ticket that could not be read may be the one linked to a new suggestion: the
    section must not say it has no Jira ticket, as when all of Jira could not be read."""
    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.uservoice_review import UserVoiceReview

    new = post(
        channel="uservoice", number=46011700, title="Sync status with a calendar", created=ago(hours=3)
    )
    review = UserVoiceReview(status_drift=(), needs_question=(new,), offers=())
    jira_item = [{"channel": "jira", "item": "MM-7", "problem": "remote links not read"}]
    text = render_uservoice_review(review, SETTINGS, T, unreadable=jira_item).text
    heading = next(line for line in text.splitlines() if line.startswith("#### New"))
    assert heading == (
        "#### New, no admin response (some Jira tickets could not be read: they may have a ticket):"
        " PM may want to ask a question (1)"
    )
    assert "no Jira ticket" not in text
    # A UserVoice item that could not be read says nothing about tickets.
    uservoice_item = [{"channel": "uservoice", "item": "46011701", "problem": "field 'id' is missing"}]
    other = render_uservoice_review(review, SETTINGS, T, unreadable=uservoice_item).text
    assert "#### New, no Jira ticket and no admin response" in other


def test_the_uservoice_review_names_the_items_it_lacks() -> None:
    """A Jira ticket that could not be read hides its suggestion's drift: the PM hears of it too."""
    import dataclasses

    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.uservoice_review import UserVoiceReview

    empty = UserVoiceReview(**{f.name: () for f in dataclasses.fields(UserVoiceReview)})
    problems = [
        {"channel": "jira", "item": f"MM-{n}", "problem": "field 'status' is missing"} for n in range(7)
    ]
    text = render_uservoice_review(empty, SETTINGS, T, unreadable=problems).text
    assert (
        "Incomplete: could not read jira MM-0, jira MM-1, jira MM-2, jira MM-3, jira MM-4 and 2 more;" in text
    )
    assert text.endswith("Nothing to show from what could be read.")
    assert "Incomplete" not in render_uservoice_review(empty, SETTINGS, T).text


def test_a_right_to_left_title_and_name_keep_the_line_in_order() -> None:
    """The title and the author are isolated: the day count and age after them stay where they are."""
    item = post(number=5, title="مشكلة في تسجيل الدخول 2", author="محمد", created=ago(days=4))
    line = next(text for text in _digest([item]).text.splitlines() if item.url in text)
    assert line == (
        "- [\u2068مشكلة في تسجيل الدخول 2\u2069](https://example.test/github/5) · GitHub · by \u2068محمد\u2069"
        " · 4 days ago · unanswered · day 3 · @alex.dev"
    )


def test_a_day_no_triage_went_out_for_says_so_from_where_its_posts_start() -> None:
    """A [Triage] sent later for a day that had none: its header says so and starts after the last
    [Triage] (here a manual run 6 hours into the day), not at the day's start."""
    from community_monitoring.messages import render_triage_items, triage_items

    late = post(number=1, title="Crash on login", labels=("Bug",), created=ago(hours=3))
    items = triage_items([late], [Classification("bug", 'label "Bug"')], SETTINGS, TriageFindings(), T)
    text = render_triage_items(items, SETTINGS, T, since=T - timedelta(hours=18)).text
    assert text.splitlines()[0] == (
        "[Triage] 1 new community post from 2026-11-17 15:00 UTC to 2026-11-18 09:00 UTC, "
        "not listed before: no [Triage] went out for this day"
    )
    assert "Not triaged" not in text


def test_posts_no_run_can_list_any_more_are_named_with_the_backfill_that_lists_them() -> None:
    from community_monitoring.messages import render_triage_items

    command = (
        "`airflow backfill create --dag-id community_daily_monitoring --from-date 2026-10-10T09:00:00+00:00`"
    )
    untriaged = {"after": T - timedelta(days=40), "until": T - timedelta(days=30), "command": command}
    text = render_triage_items([], SETTINGS, T, untriaged=untriaged).text
    first, second = text.splitlines()[:2]
    assert first == "[Triage] 0 new community posts from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC"
    assert second == (
        ":warning: Not triaged: new posts from 2026-10-09 09:00 UTC to 2026-10-19 09:00 UTC (no [Triage] "
        "went out for those days, and they are older than this run reads). To list them: " + command
    )


def test_a_catch_ups_and_n_more_names_the_full_list_it_is_archived_with() -> None:
    """A [Triage] a later run sends for an earlier day is archived in that run's folder under its
    own name (triage.not-listed.of-<T>): its "… and N more" named <T>/triage.full.md, which is not
    there (or is another list: that day's own [Triage], when one was archived)."""
    from community_monitoring.messages import render_triage_items, triage_items

    day = T - timedelta(days=3)
    bugs = [
        post(number=n, title=f"Crash {n}", labels=("Bug",), created=day - timedelta(hours=n)) for n in (1, 2)
    ]
    items = triage_items(bugs, [Classification("bug", 'label "Bug"')] * 2, SETTINGS, TriageFindings(), day)
    capped = SETTINGS.model_copy(
        update={
            "digest": SETTINGS.digest.model_copy(
                update={"triage_max_items_per_section": 1, "full_list_url": ""}
            )
        }
    )
    name = "2026-11-18T090000Z/triage.not-listed.of-2026-11-15T090000Z"
    text = render_triage_items(items, capped, day, since=day - timedelta(days=1), archived_as=name).text
    assert f"- … and 1 more in the full list, archived as `{name}.full.md`" in text
    own = render_triage_items(items, capped, day).text
    assert "- … and 1 more in the full list, archived as `2026-11-15T090000Z/triage.full.md`" in own


def test_every_uservoice_review_item_shows_its_answer_state() -> None:
    """SPEC §4: every listed item shows its state, in [UserVoice Review] as in [Triage]."""
    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.uservoice_review import Offer, UserVoiceReview

    asked = post(
        channel="uservoice", number=46011700, title="Sync status with a calendar", created=ago(hours=3)
    )
    back = post(
        channel="uservoice", number=46011701, title="Dark mode for the desktop app", created=ago(days=2)
    )
    silent = post(channel="uservoice", number=46011702, title="Export a channel as PDF", created=ago(days=1))
    review = UserVoiceReview(
        status_drift=(),
        needs_question=(asked, back),
        offers=(Offer(silent, "I could build this myself", "comment"),),
    )
    states = {asked.url: "waiting_on_reporter", back.url: "waiting_on_us", silent.url: "unanswered"}
    lines = render_uservoice_review(review, SETTINGS, T, answer_states=states).text.splitlines()

    def line_of(item: Post) -> str:
        return next(line for line in lines if item.url in line)

    assert line_of(asked).endswith(" · waiting on the reporter")
    assert line_of(back).endswith(" · waiting on us")
    assert " · unanswered (in the comment): " in line_of(silent)
    # Without states (a caller that has none) the lines stay as they were.
    plain = render_uservoice_review(review, SETTINGS, T).text
    assert "waiting on" not in plain


@pytest.mark.parametrize(
    ("render", "all_is_well"),
    [
        (lambda missing: _digest([], missing_channels=missing).text, "Nothing is waiting for help"),
        (
            lambda missing: render_weekly_review({}, SETTINGS, T, 7, missing_channels=missing).text,
            "Nothing has gone quiet",
        ),
    ],
    ids=["help_wanted", "weekly_review"],
)
def test_an_empty_digest_that_could_not_read_a_channel_does_not_say_all_is_well(render, all_is_well) -> None:
    """A channel that could not be read is not an empty channel (SPEC §2, §6): with nothing listed,
    the digest says nothing was found in what could be read, not that nothing is waiting."""
    assert all_is_well in render(())
    unread = render(["github", "forum"])
    assert "could not read GitHub (github), Forum (forum)" in unread
    assert all_is_well not in unread
    assert "Nothing to show from what could be read" in unread
    assert "missing below" not in unread  # nothing is below
    assert "posts there are not listed" in unread
    assert "@here" not in unread
