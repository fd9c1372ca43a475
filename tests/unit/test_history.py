"""The team's past decisions read off the channels (SPEC §12): what decides, and what teaches nothing."""

from __future__ import annotations

from typing import Any

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.history import Example, TeamDecisions, build_training_set, example_text
from community_monitoring.records import Post

DECISIONS = TeamDecisions(SETTINGS)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["Type/Bug"], {"bug": "Type/Bug"}),
        (["type/bug"], {"bug": "type/bug"}),
        (["Type/Bug/Confirmed"], {"bug": "Type/Bug/Confirmed"}),  # a longer label under a mapped one
        (["Type / Bug"], {"bug": "Type / Bug"}),
        (["Bug"], {"bug": "Bug"}),
        (["type::bug"], {"bug": "type::bug"}),  # GitLab's scoped labels
        (["Triage/Support"], {"troubleshooting": "Triage/Support"}),
        (["Area/Search", "Type/Enhancement"], {"feature_proposal": "Type/Enhancement"}),
        (["Feature Request"], {"feature_proposal": "Feature Request"}),
        (["Type/Question"], {"question": "Type/Question"}),
        (["Bug Report/Open"], {}),  # set by the issue form itself: not the team's decision
        (["Bugfix"], {}),
        (["Area/Bug"], {}),  # a segment prefix, not any segment
        (["Type/Bug", "Type/Enhancement"], {"bug": "Type/Bug", "feature_proposal": "Type/Enhancement"}),
        ([], {}),
    ],
)
def test_labels_the_team_applies(labels: list[str], expected: dict[str, str]) -> None:
    assert DECISIONS.label_types(labels) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks! Please post this on the forum, people there run the same setup.", "troubleshooting"),
        ("You could ask on our forum: https://forum.mattermost.com/c/trouble-shoot/16", "troubleshooting"),
        ("Try the ~peer-to-peer-help channel on our community server.", "troubleshooting"),
        ("Looks like a configuration issue with your proxy.", "troubleshooting"),
        ("Nice idea! Please post the idea on the feature idea forum.", "feature_proposal"),
        ("Could you add it to UserVoice so others can vote?", "feature_proposal"),
        ("See https://mattermost.com/suggestions/ for feature requests.", "feature_proposal"),
        ("I reproduced this on 11.0 and created a ticket.", "bug"),
        ("Tracked in MM-61234, thanks.", "bug"),
        ("I was able to reproduce it with the steps above.", "bug"),
        ("See the documentation: it has an example.", "question"),
        ("This is explained on docs.mattermost.com/configure/smtp.html", "question"),
        # At equal counts, the first type listed in redirect_phrases wins within one reply.
        ("A configuration issue, not a bug; if it were one we'd track it in MM-1234.", "troubleshooting"),
        # The type with the most phrases wins: confirming a bug on the community server is a bug.
        ("I was able to reproduce this on the community server and created MM-61234.", "bug"),
        # A negated phrase says the opposite; a quote of the post is the author's words.
        ("This is not a configuration issue: I can reproduce it. Created a ticket.", "bug"),
        ("> Is this a setup problem on my side?\n\nNo, I reproduced it on 11.1.", "bug"),
        (
            "This isn't something for the troubleshooting forum; please post the idea on the feature idea forum.",
            "feature_proposal",
        ),
        ("It is not a setup issue.", None),
        ("I can't reproduce this.", None),  # "i can reproduce" does not match a negation
        ("MM- is our Jira project.", None),  # a Jira key needs its number
        ("Thanks for the report!", None),
        ("", None),
    ],
)
def test_redirect_phrases_of_a_staff_reply(text: str, expected: str | None) -> None:
    found = DECISIONS.redirect_type(text)
    assert (found[0] if found else None) == expected


def issue(labels: tuple[str, ...] = (), replies: tuple[Any, ...] = (), **kwargs: Any) -> Post:
    return post(
        "github",
        author="alice",
        created=kwargs.pop("created", ago(days=40)),
        labels=labels,
        replies=replies,
        title="Uploads fail",
        body="Every upload over 10 MB fails.",
        **kwargs,
    )


FORUM_REDIRECT = "Please post this on the forum."
TICKET = "I reproduced this and created a ticket: MM-60001"


@pytest.mark.parametrize(
    ("name", "item", "expected"),
    [
        ("team label", issue(("Type/Bug",)), ("bug", "label", 'label "Type/Bug"')),
        (
            "issue type",
            issue(issue_type="Feature"),
            ("feature_proposal", "issue type", 'issue type "Feature"'),
        ),
        (
            "a label and the issue type agree",
            issue(("Type/Bug",), issue_type="Bug"),
            ("bug", "label", 'label "Type/Bug"'),
        ),
        (
            # The type is often the issue form's (the author picked "Bug report"); the label the team's.
            "a label and the issue type disagree: the team's label decides",
            issue(("Type/Enhancement",), issue_type="Bug"),
            ("feature_proposal", "label", 'label "Type/Enhancement"'),
        ),
        (
            "a staff redirect beats the issue type the author's form set",
            issue(issue_type="Bug", replies=(reply("staffer", ago(days=39), body=FORUM_REDIRECT),)),
            ("troubleshooting", "redirect", 'redirect "Please post this on the forum"'),
        ),
        ("an issue type no type maps", issue(issue_type="Task"), "no team label or redirect"),
        (
            "roster staff redirect",
            issue(replies=(reply("staffer", ago(days=39), body=FORUM_REDIRECT),)),
            ("troubleshooting", "redirect", 'redirect "Please post this on the forum"'),
        ),
        (
            "platform staff redirect (GitHub MEMBER)",
            issue(replies=(reply("maintainer", ago(days=39), body=TICKET, author_platform_staff=True),)),
            ("bug", "redirect", 'redirect "I reproduced"'),
        ),
        (
            "a community member's redirect is no decision",
            issue(replies=(reply("bob", ago(days=39), body=FORUM_REDIRECT),)),
            "no team label or redirect",
        ),
        (
            "a bot's redirect is no decision",
            issue(
                replies=(reply("helper-bot", ago(days=39), body=FORUM_REDIRECT, author_platform_staff=True),)
            ),
            "no team label or redirect",
        ),
        (
            "a staff reply after T does not exist yet",
            issue(replies=(reply("staffer", T.replace(hour=10), body=FORUM_REDIRECT),)),
            "no team label or redirect",
        ),
        (
            "the latest staff decision wins",
            issue(
                replies=(
                    reply("staffer", ago(days=39), body=FORUM_REDIRECT),
                    reply("staffer", ago(days=38), body=TICKET),
                )
            ),
            ("bug", "redirect", 'redirect "I reproduced"'),
        ),
        (
            "a later staff reply without a phrase does not undo an earlier decision",
            issue(
                replies=(
                    reply("staffer", ago(days=39), body=FORUM_REDIRECT),
                    reply("staffer", ago(days=38), body="Closing."),
                )
            ),
            ("troubleshooting", "redirect", 'redirect "Please post this on the forum"'),
        ),
        (
            "a team label beats a redirect",
            issue(("Type/Enhancement",), replies=(reply("staffer", ago(days=39), body=FORUM_REDIRECT),)),
            ("feature_proposal", "label", 'label "Type/Enhancement"'),
        ),
        (
            "labels naming two types teach nothing",
            issue(("Type/Bug", "Type/Enhancement")),
            "labels name two types",
        ),
        ("only the form's label", issue(("Bug Report/Open",)), "no team label or redirect"),
        (
            "GitLab scoped label",
            post("gitlab", created=ago(days=40), labels=("Mattermost", "type::feature")),
            ("feature_proposal", "label", 'label "type::feature"'),
        ),
        (
            "forum category",
            post("forum", created=ago(days=40), category="Troubleshooting"),
            ("troubleshooting", "category", 'category "Troubleshooting"'),
        ),
        (
            "forum subcategory of a mapped category",
            post("forum", created=ago(days=40), category="Troubleshooting › Mobile"),
            ("troubleshooting", "category", 'category "Troubleshooting › Mobile"'),
        ),
        (
            "forum category not mapped",
            post("forum", created=ago(days=40), category="Announcements"),
            "forum category not mapped",
        ),
        (
            "UserVoice suggestion",
            post("uservoice", created=ago(days=40)),
            ("feature_proposal", "suggestion", "UserVoice suggestion"),
        ),
        (
            "Stack Overflow question",
            post("stackoverflow", created=ago(days=40), labels=("mattermost", "go")),
            ("question", "question", "Stack Overflow question"),
        ),
        (
            "Stack Overflow question with a troubleshooting tag",
            post("stackoverflow", created=ago(days=40), labels=("mattermost", "nginx")),
            ("troubleshooting", "tag", 'tag "nginx"'),
        ),
        ("a Jira ticket is no community post", post("jira", created=ago(days=40)), "no decision on jira"),
    ],
)
def test_what_decides_a_post(name: str, item: Post, expected: tuple[str, str, str] | str) -> None:
    assert DECISIONS.decide(item, ROSTER, T) == expected, name


def test_the_example_is_what_the_author_wrote() -> None:
    decided = issue(("Type/Bug",), replies=(reply("staffer", ago(days=39), body=TICKET),))
    [example] = build_training_set([decided], ROSTER, SETTINGS, T).examples
    assert example.text == "Uploads fail\n\nEvery upload over 10 MB fails."
    assert "MM-60001" not in example.text
    assert "Type/Bug" not in example.text
    assert (example.post_type, example.channel, example.source) == ("bug", "github", "label")
    assert example.url == decided.url
    assert example_text(post(title="  Only a title ", body="")) == "Only a title"


WINDOW_CASES = [
    ("older than history_days", {"created": ago(days=366)}, "outside the history window"),
    ("created after T", {"created": T.replace(hour=10)}, "outside the history window"),
    ("younger than settle_days", {"created": ago(days=3)}, "too recent to be settled"),
    ("by staff (roster)", {"author": "staffer"}, "not a community post"),
    ("by staff (platform flag)", {"author_platform_staff": True}, "not a community post"),
    ("by a bot", {"author": "renovate[bot]"}, "not a community post"),
    ("a pull request", {"is_pull_request": True}, "not a community post"),
    ("nothing decided it", {"labels": ()}, "no team label or redirect"),
]


@pytest.mark.parametrize(("name", "change", "reason"), WINDOW_CASES, ids=[c[0] for c in WINDOW_CASES])
def test_what_teaches_nothing(name: str, change: dict[str, Any], reason: str) -> None:
    fields: dict[str, Any] = {"author": "alice", "created": ago(days=40), "labels": ("Type/Bug",), **change}
    training = build_training_set([post("github", title="A title", **fields)], ROSTER, SETTINGS, T)
    assert training.examples == []
    assert dict(training.skipped) == {reason: 1}


def test_counts_by_type_channel_and_source() -> None:
    posts = [
        issue(("Type/Bug",)),
        issue(("Type/Bug",), number=2),
        post("forum", created=ago(days=50), category="Feature Ideas", title="Quiet hours"),
        post("stackoverflow", created=ago(days=60), labels=("mattermost",), title="How do I?"),
    ]
    training = build_training_set(posts, ROSTER, SETTINGS, T)
    assert training.counts("post_type") == {"bug": 2, "feature_proposal": 1, "question": 1}
    assert training.counts("channel") == {"forum": 1, "github": 2, "stackoverflow": 1}
    assert training.counts("source") == {"category": 1, "label": 2, "question": 1}


def test_history_days_and_maps_come_from_the_settings() -> None:
    settings = SETTINGS.model_copy(
        update={
            "triage_model": SETTINGS.triage_model.model_copy(
                update={"history_days": 30, "labels": {"question": ["Needs Answer"]}}
            )
        }
    )
    posts = [issue(("Needs Answer",)), issue(("Type/Bug",), created=ago(days=20), number=3)]
    training = build_training_set(posts, ROSTER, settings, T)
    assert [e.post_type for e in training.examples] == []  # #1 is 40 days old, #3 has no mapped label
    assert dict(training.skipped) == {"outside the history window": 1, "no team label or redirect": 1}


def test_examples_round_trip_and_are_checked() -> None:
    example = Example("Title\n\nBody", "bug", "github", "label", "https://x.test/1", 'label "Bug"')
    assert Example.from_dict(example.to_dict()) == example
    with pytest.raises(ValueError, match="post_type"):
        Example.from_dict({**example.to_dict(), "post_type": "rant"})
    with pytest.raises(ValueError, match="strings"):
        Example.from_dict({**example.to_dict(), "text": 42})
