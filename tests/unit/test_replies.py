"""Reply drafts are planned only where switched on, for new posts nobody has answered by T.

That each post gets at most one reply across runs is the outbox's job (``test_outbox.py``);
that a bad ``replies.post_upstream`` names its key is the settings schema's (``test_settings.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.records import Post
from community_monitoring.replies import PlannedReply, plan_replies
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
