"""Reply drafts are planned only where switched on, for new posts nobody has answered by T.

That each post gets at most one reply across runs is the outbox's job (``test_outbox.py``);
that a bad ``replies.post_upstream`` names its key is the settings schema's (``test_settings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from builders import ROSTER, SCHEDULE_IDEA, SETTINGS, T, ago, jira_ticket, post, release, reply
from community_monitoring.classify import Classification, PostClassifier
from community_monitoring.drafts import DraftWriter
from community_monitoring.messages import render_triage_list
from community_monitoring.records import JiraTicket, Post
from community_monitoring.related import Related, find_related
from community_monitoring.replies import PlannedReply, RelatedFinder, own_copies, plan_replies
from community_monitoring.settings import load_settings

GITHUB_ON = load_settings({"replies": {"post_upstream": {"github": True}}})
BOTH_ON = load_settings({"replies": {"post_upstream": {"github": True, "gitlab": True}}})
NEW = ago(hours=2)


def test_off_by_default() -> None:
    assert SETTINGS.replies.channels == frozenset()
    assert plan_replies([post(created=NEW), post(channel="gitlab", created=NEW)], ROSTER, SETTINGS, T) == []


def test_switched_off_explicitly() -> None:
    settings = load_settings({"replies": {"post_upstream": {"github": False, "gitlab": False}}})
    assert settings.replies.channels == frozenset()
    assert plan_replies([post(created=NEW)], ROSTER, settings, T) == []


@pytest.mark.parametrize(
    ("case", "item", "planned"),
    [
        ("new, unanswered GitHub issue", post(created=NEW), True),
        ("answered by someone", post(created=NEW, replies=(reply("bob", at=ago(hours=1)),)), False),
        ("answered by staff", post(created=NEW, replies=(reply("staffer", at=ago(hours=1)),)), False),
        ("the author's own comment is no answer", post(created=NEW, replies=(reply("alice"),)), True),
        ("a bot comment is no answer", post(created=NEW, replies=(reply("ci[bot]"),)), True),
        ("a roster bot is no answer", post(created=NEW, replies=(reply("helper-bot"),)), True),
        (
            "answered only after T",
            post(created=NEW, replies=(reply("bob", at=T + timedelta(minutes=5)),)),
            True,
        ),
        ("older than the day", post(created=ago(days=1, hours=1)), False),
        ("created after T", post(created=T + timedelta(minutes=1)), False),
        ("by staff", post(created=NEW, author="staffer"), False),
        ("by a bot", post(created=NEW, author="renovate[bot]"), False),
        ("a pull request", post(created=NEW, is_pull_request=True), False),
        ("GitLab is still off", post(channel="gitlab", created=NEW), False),
        ("forum: no upstream replies", post(channel="forum", created=NEW), False),
    ],
)
def test_only_new_unanswered_posts_of_switched_on_channels(case: str, item: Post, planned: bool) -> None:
    found = plan_replies([item], ROSTER, GITHUB_ON, T)
    assert [p.source_id for p in found] == ([item.source_id] if planned else []), case


def test_planned_reply_carries_where_to_send_it() -> None:
    issue = post(number=7, created=NEW, container="o/r", author="dana", title="How do I configure SMTP?")
    note = post(channel="gitlab", number=3, created=ago(hours=1), container="g/p", author="eve")
    answered = post(number=8, created=NEW, replies=(reply("bob"),))
    planned = plan_replies([note, answered, issue], ROSTER, BOTH_ON, T)
    assert [(p.channel, p.source_id, p.url, p.container, p.number) for p in planned] == [
        ("github", "o/r#7", "https://example.test/github/7", "o/r", 7),
        ("gitlab", "o/r#3", "https://example.test/gitlab/3", "g/p", 3),
    ]
    assert all(isinstance(p, PlannedReply) for p in planned)
    assert planned[0].draft.startswith("Hi dana, thanks for reaching out!")
    assert "https://docs.mattermost.com/configure/smtp-email.html" in planned[0].draft
    assert planned[1].draft.startswith("Hi eve, thanks for reaching out!")


def test_the_upstream_text_ends_with_its_ledger_keys_marker() -> None:
    """A resend after a lost answer first looks for this marker upstream (SPEC §6)."""
    [planned] = plan_replies([post(number=7, created=NEW, container="o/r")], ROSTER, GITHUB_ON, T)
    assert planned.key == "reply:github:o/r#7"
    assert planned.draft.endswith("\n\n<!-- community-monitoring:reply:github:o/r#7 -->")
    assert planned.draft.count("<!--") == 1


@pytest.mark.parametrize(
    ("author", "greeting"),
    [
        ("", "Hi there,"),
        ("   ", "Hi there,"),
        ("\u200b\u2060", "Hi there,"),  # zero-width space and word joiner
        ("\u200e\ufeff", "Hi there,"),  # a direction mark and a byte-order mark (format characters)
        ("\u3164", "Hi there,"),  # the Hangul filler, drawn blank
        ("\u2800 ", "Hi there,"),  # the braille blank
        # A deleted account: GitHub's and GitLab's "ghost", our own "deleted-user" (nobody to greet).
        ("ghost", "Hi there,"),
        ("deleted-user", "Hi there,"),
        ("dana", "Hi dana,"),
        ("ghostwriter", "Hi ghostwriter,"),
    ],
)
def test_an_author_whose_name_shows_nothing_is_greeted_as_there_upstream_too(
    author: str, greeting: str
) -> None:
    """The upstream draft greets as [Triage]'s does: "Hi \u200b," reads as a broken greeting."""
    item = post(number=7, created=NEW, container="o/r", author=author, title="Crash when opening settings")
    [planned] = plan_replies([item], ROSTER, GITHUB_ON, T)
    assert planned.draft.startswith(f"{greeting} thanks for reaching out!"), planned.draft
    shown = render_triage_list([item], GITHUB_ON, T).text
    assert f"> {greeting} thanks for reaching out!" in shown


# ----- the draft that goes upstream is the one [Triage] shows ---------------------------------------

SCHEDULING_SHIPPED = jira_ticket()  # Done in v11.1
RELEASED_11_1 = (release("v11.1.0", days_ago=5),)


def related_among(tickets: tuple[JiraTicket, ...], asked: list[list[str]]) -> RelatedFinder:
    """The related items among ``tickets`` (no candidate posts), recording which posts were asked about."""

    def find(posts: Sequence[Post], copies: Mapping[str, Sequence[Post]]) -> dict[str, tuple[Related, ...]]:
        asked.append([p.url for p in posts])
        return find_related(posts, [], tickets, RELEASED_11_1, GITHUB_ON, T, also_posted=copies)

    return find


def test_a_related_ticket_fills_the_upstream_draft_as_in_triage() -> None:
    asked: list[list[str]] = []
    [planned] = plan_replies(
        [SCHEDULE_IDEA], ROSTER, GITHUB_ON, T, find_related=related_among((SCHEDULING_SHIPPED,), asked)
    )
    assert asked == [[SCHEDULE_IDEA.url]]  # once, for the posts that get a reply
    assert "already available in Mattermost 11.1 (https://jira.test/browse/MM-61501)" in planned.draft
    related = find_related([SCHEDULE_IDEA], [], (SCHEDULING_SHIPPED,), RELEASED_11_1, GITHUB_ON, T)
    classification = PostClassifier.from_settings(GITHUB_ON).classify(SCHEDULE_IDEA)
    triage_draft = (
        DraftWriter(GITHUB_ON).suggest(SCHEDULE_IDEA, classification, related[SCHEDULE_IDEA.url], T).draft
    )
    assert planned.draft.startswith(triage_draft)
    # Without the lookup the same post would be sent to the feature-idea forum instead.
    [plain] = plan_replies([SCHEDULE_IDEA], ROSTER, GITHUB_ON, T)
    assert "already available" not in plain.draft


class _Decides:
    """A decider like the learned model: one type for every post."""

    def __init__(self, post_type: str) -> None:
        self.post_type = post_type

    def classify_all(self, posts: Sequence[Post]) -> list[Classification]:
        return [Classification(self.post_type, "model 0.91") for _ in posts]


def test_the_triage_decider_gives_the_drafts_type() -> None:
    item = post(number=5, created=NEW, title="Crash when opening settings", author="dana")
    [rules] = plan_replies([item], ROSTER, GITHUB_ON, T)
    [model] = plan_replies([item], ROSTER, GITHUB_ON, T, classifier=_Decides("troubleshooting"))
    assert "troubleshooting gets faster help" not in rules.draft
    assert "troubleshooting gets faster help on the Mattermost forum" in model.draft


def test_nothing_to_reply_to_looks_nothing_up() -> None:
    asked: list[list[str]] = []
    finder = related_among((SCHEDULING_SHIPPED,), asked)
    assert plan_replies([SCHEDULE_IDEA], ROSTER, SETTINGS, T, find_related=finder) == []  # off
    answered = replace(SCHEDULE_IDEA, replies=(reply("bob", at=ago(hours=1)),))
    assert plan_replies([answered], ROSTER, GITHUB_ON, T, find_related=finder) == []
    assert asked == []


def test_the_authors_own_copy_on_another_channel_is_never_a_related_item() -> None:
    """[Triage] folds an idea its author posted on UserVoice and GitHub into one item; the GitHub
    reply must not send the author to their own suggestion as "already on the feature-idea forum",
    nor ask them to post the idea there: it thanks them for posting it there (SPEC §4)."""
    on_github = post(
        title=SCHEDULE_IDEA.title, body=SCHEDULE_IDEA.body, number=21, author="erin", created=NEW
    )
    on_uservoice = post(
        channel="uservoice",
        title=SCHEDULE_IDEA.title,
        body=SCHEDULE_IDEA.body,
        number=22,
        author="Erin",
        created=ago(hours=3),
    )
    window = [on_uservoice, on_github]

    def find(posts: Sequence[Post], copies: Mapping[str, Sequence[Post]]) -> dict[str, tuple[Related, ...]]:
        return find_related(posts, window, [], [], GITHUB_ON, T, also_posted=copies)

    assert own_copies(window, GITHUB_ON) == {on_github.url: (on_uservoice,), on_uservoice.url: (on_github,)}
    thanks = f"Thanks for also posting this idea on the feature-idea forum, where others can vote for it: {on_uservoice.url}."
    [planned] = plan_replies(window, ROSTER, GITHUB_ON, T, find_related=find)
    # Not folded (as when the suggestion was posted on an earlier day), the copy is still found to be
    # the author's own among the related items (related._earlier_copies): the same draft.
    [unfolded] = plan_replies(window, ROSTER, GITHUB_ON, T, find_related=lambda posts, _: find(posts, {}))
    for draft in (planned.draft, unfolded.draft):
        assert thanks in draft
        assert "where others vote for it" not in draft
        assert "Could you post your idea there" not in draft
    # Someone else's suggestion of the same idea is one to send the author to.
    by_other = replace(on_uservoice, author="zed")
    [linked] = plan_replies(
        [by_other, on_github],
        ROSTER,
        GITHUB_ON,
        T,
        find_related=lambda posts, _: find_related(posts, [by_other, on_github], [], [], GITHUB_ON, T),
    )
    assert f"already on the feature-idea forum, where others vote for it: {by_other.url}" in linked.draft
