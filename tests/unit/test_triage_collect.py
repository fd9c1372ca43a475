"""``messages.collect_triage``: the day's [Triage] entries from a stream, a batch at a time, are the
entries of the whole sorted day (classified, folded, capped) and render the same message."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from builders import ANSWER_TEXT, ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring import messages
from community_monitoring.answers import answer_state
from community_monitoring.classify import PostClassifier, classify_posts
from community_monitoring.messages import (
    TriageFindings,
    collect_triage,
    render_triage_items,
    triage_items,
)
from community_monitoring.records import Post, PostAuthorship
from community_monitoring.related import authors_on_two_channels, fold_duplicates
from community_monitoring.rules import find_new_posts, new_posts_of
from community_monitoring.settings import Settings

CLASSIFIER = PostClassifier.from_settings(SETTINGS)
TITLES = (
    "Login fails after upgrading to 11.2",  # bug-like
    "How do I configure SAML with Okta?",  # question
    "Feature request: dark mode for the desktop app",  # feature proposal
    "Can't connect to the server behind nginx",  # troubleshooting
)
CHANNELS = ("github", "forum", "stackoverflow", "gitlab")


def _day(count: int, seed: int) -> list[Post]:
    """``count`` new posts over the last day on four channels, some answered, in shuffled order,
    with one author who posts the same thing on two channels (twice), a staff member's post and two
    posts read twice."""
    rng = random.Random(seed)
    posts = []
    for n in range(count):
        channel = CHANNELS[n % 4]
        created = ago(hours=23 - (n * 23 / count))
        replies = (
            (reply("helper", created.replace(microsecond=1) + (T - created) / 2, body=ANSWER_TEXT),)
            if n % 3
            else ()
        )
        posts.append(
            post(
                channel,
                author=f"user{n % 17}",
                created=created,
                title=f"{TITLES[n % 4]} ({n})",
                number=n,
                replies=replies,
            )
        )
    copier = "Cross.Poster"
    text = "The mobile app crashes on start after the 2.30 update on Android 14 with SSO"
    for n, (channel, hours) in enumerate(
        (("github", 20.5), ("forum", 20.0), ("gitlab", 5.0), ("forum", 4.5))
    ):
        posts.append(
            post(
                channel,
                author=copier if n % 2 else copier.lower(),
                created=ago(hours=hours),
                title=text,
                body=text,
                number=1000 + n,
            )
        )
    posts.append(post("github", author="alex.staff", created=ago(hours=2), title="Staff note", number=2000))
    posts.append(post("forum", created=ago(days=2), title="Yesterday's", number=2001))  # outside the day
    # Posts read twice (an upstream page that shifted while it was read): the earliest, which every
    # cap shows, and one later in the day, which a small cap pushes out of its section.
    posts += [posts[0], posts[count // 2]]
    rng.shuffle(posts)
    return posts


def _reference(posts: list[Post], config: Settings) -> tuple[list[messages.TriageItem], TriageFindings]:
    """The whole day at once, sorted, folded, classified (what ``build_triage_list`` did before)."""
    new_posts = find_new_posts(posts, ROSTER, config, T)
    kept, also_posted = fold_duplicates(new_posts, config)
    decisions = classify_posts(CLASSIFIER, kept)
    states = {p.url: answer_state(p, ROSTER, config, T) for p in kept}
    findings = TriageFindings(answer_states=states, also_posted=also_posted)
    return triage_items(kept, decisions, config, findings, T), findings


def _with_cap(cap: int) -> Settings:
    return SETTINGS.model_copy(
        update={"digest": SETTINGS.digest.model_copy(update={"triage_max_items_per_section": cap})}
    )


def _entry(item: messages.TriageItem) -> tuple[object, ...]:
    return (item.post_type, item.url, item.copy_urls, item.post is not None, item.line)


@pytest.mark.parametrize(
    ("count", "cap", "batch", "seed"), [(40, 3, 7, 1), (60, 15, 5000, 2), (25, 1, 1, 3), (9, 0, 4, 4)]
)
def test_a_stream_of_the_day_gives_the_entries_of_the_whole_sorted_day(
    count: int, cap: int, batch: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "TRIAGE_BATCH", batch)
    config = _with_cap(cap)
    posts = _day(count, seed)
    expected_items, expected_findings = _reference(posts, config)
    fold_authors = authors_on_two_channels(PostAuthorship(p.channel, p.author) for p in posts)
    day = collect_triage(new_posts_of(posts, ROSTER, config, T), fold_authors, CLASSIFIER, ROSTER, config, T)

    assert [_entry(i) for i in day.items] == [_entry(i) for i in expected_items]
    assert day.found == len(find_new_posts(posts, ROSTER, config, T))
    assert day.listed == [i.post for i in expected_items if i.post is not None]
    assert {url: [p.url for p in copies] for url, copies in day.findings.also_posted.items()} == {
        url: [p.url for p in copies] for url, copies in expected_findings.also_posted.items()
    }
    assert day.findings.answer_states == {p.url: expected_findings.answer_states[p.url] for p in day.listed}
    # The message is the same, drafts included.
    assert (
        render_triage_items(day.items, config, T, findings=day.findings).text
        == render_triage_items(expected_items, config, T, findings=expected_findings).text
    )


def test_posts_of_deleted_accounts_never_fold_together() -> None:
    """ "ghost" on GitHub and GitLab, "deleted-user" on the forum and Stack Overflow, and no name at
    all: many people."""
    authorships = [
        PostAuthorship("github", "ghost"),
        PostAuthorship("gitlab", "Ghost"),
        PostAuthorship("forum", "deleted-user"),
        PostAuthorship("stackoverflow", "deleted-user"),
        PostAuthorship("forum", "cross.poster"),
        PostAuthorship("github", "cross.poster"),
        # No name at all (an anonymous UserVoice suggestion, a forum post whose user was removed).
        PostAuthorship("uservoice", ""),
        PostAuthorship("forum", ""),
        PostAuthorship("uservoice", " "),
        PostAuthorship("github", " "),
    ]
    assert authors_on_two_channels(authorships) == {"cross.poster"}


def test_the_copies_fold_into_the_earliest_post_and_are_never_listed_on_their_own() -> None:
    posts = _day(12, 5)
    fold_authors = authors_on_two_channels(PostAuthorship(p.channel, p.author) for p in posts)
    assert fold_authors == {"cross.poster"}
    day = collect_triage(
        new_posts_of(posts, ROSTER, SETTINGS, T), fold_authors, CLASSIFIER, ROSTER, SETTINGS, T
    )
    urls = [i.url for i in day.items]
    # The forum and GitLab copies join the earliest post; a second forum post cannot (one channel
    # twice is never one item), so it stays an entry of its own.
    assert "https://example.test/github/1000" in urls
    assert "https://example.test/forum/1003" in urls
    assert not {"https://example.test/forum/1001", "https://example.test/gitlab/1002"} & set(urls)
    assert [p.url for p in day.findings.also_posted["https://example.test/github/1000"]] == [
        "https://example.test/forum/1001",
        "https://example.test/gitlab/1002",
    ]
    assert day.found - len(day.items) == 2  # two copies folded


def test_only_the_shown_posts_and_those_that_may_fold_are_kept_whole() -> None:
    config = _with_cap(2)
    posts = _day(80, 6)
    day = collect_triage(new_posts_of(posts, ROSTER, config, T), set(), CLASSIFIER, ROSTER, config, T)
    whole = [i for i in day.items if i.post is not None]
    assert len(whole) == len(day.listed) <= 2 * 4
    assert all(i.line is not None for i in day.items if i.post is None)
    first: dict[str, datetime] = {}
    for item in day.items:  # the shown ones are each type's earliest
        created = (item.post or item.line).created_at  # type: ignore[union-attr]
        first.setdefault(item.post_type, created)
        assert created >= first[item.post_type]


def test_a_post_read_twice_keeps_its_place_when_an_earlier_one_arrives() -> None:
    config = _with_cap(2)
    later = post("forum", created=ago(hours=3), title="How do I configure SAML with Okta?", number=1)
    earlier = post("forum", created=ago(hours=20), title="How do I reset a password?", number=2)
    # The twice-read post fills the section first; the earlier one then pushes one copy out.
    stream = [later, later, earlier]
    expected_items, _ = _reference(stream, config)
    day = collect_triage(iter(stream), set(), CLASSIFIER, ROSTER, config, T)
    assert [_entry(i) for i in day.items] == [_entry(i) for i in expected_items]
    assert [p.url for p in day.listed] == [earlier.url, later.url]
