"""Closing the loop in the rendered messages: who is mentioned where, and only they (SPEC §4, §7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from builders import SETTINGS, T, ago, post
from community_monitoring.messages import render_uservoice_review
from community_monitoring.uservoice_review import UserVoiceReview

NEEDS_QUESTION = UserVoiceReview(
    status_drift=(),
    needs_question=(post(channel="uservoice", created=ago(hours=3), title="Dark mode"),),
    offers=(),
)
NOTHING = UserVoiceReview(status_drift=(), needs_question=(), offers=())


def mentions(text: str) -> list[str]:
    return re.findall(r"(?<![\w`])@[a-z0-9._-]+", text)


@pytest.mark.parametrize(
    ("case", "review", "pm", "expected"),
    [
        ("something to look at: the PM is mentioned in the header", NEEDS_QUESTION, "pat.pm", ["@pat.pm"]),
        ("nothing to look at: nobody is pinged", NOTHING, "pat.pm", []),
        ("no PM configured", NEEDS_QUESTION, "", []),
    ],
)
def test_uservoice_review_mentions_the_pm(
    case: str, review: UserVoiceReview, pm: str, expected: list[str]
) -> None:
    text = render_uservoice_review(review, SETTINGS, T, pm=pm).text
    header = text.splitlines()[0]
    assert header.startswith("[UserVoice Review]"), case
    assert mentions(header) == expected, case
    assert mentions(text) == expected, case


def _triage(new: list, findings: object, settings: object = SETTINGS) -> str:
    from community_monitoring.messages import render_triage_list

    return render_triage_list(new, settings, T, findings=findings).text  # type: ignore[arg-type]


def test_triage_item_shows_state_owner_related_and_copies() -> None:
    from community_monitoring.messages import TriageFindings
    from community_monitoring.related import Related
    from community_monitoring.settings import load_settings

    routed = load_settings({"routing": [{"match": {"keywords": ["push"]}, "owner": "@mobile-team"}]})
    issue = post(number=5, created=ago(hours=2), title="Push notifications crash the app", labels=("Bug",))
    copy = post(channel="forum", number=77, created=ago(hours=1), title="Push notifications crash")
    ticket = Related("jira", "MM-61500", "https://jira.test/browse/MM-61500", "Push crash", 0.7, "Open", True)
    findings = TriageFindings(
        answer_states={issue.url: "waiting_on_reporter"},
        related={issue.url: (ticket,)},
        also_posted={issue.url: (copy,)},
    )
    text = _triage([issue], findings, routed)
    line = next(line for line in text.splitlines() if issue.url in line)
    assert "· waiting on the reporter" in line
    assert line.endswith("→ @mobile-team")
    assert f"Also posted on [Forum]({copy.url}) by the same author." in text
    assert "\nRelated: [MM-61500](https://jira.test/browse/MM-61500) · Open\nType: Bug" in text
    assert "Suggested action: Tracked in MM-61500: link the ticket in a reply\n" in text
    assert "[Triage] 1 new community post " in text  # the copy is folded, not counted twice
    assert mentions(text) == ["@mobile-team"]


def test_triage_without_findings_names_no_owner_and_no_related() -> None:
    issue = post(number=6, created=ago(hours=2), title="Push notifications crash the app")
    text = _triage([issue], None)
    assert "Related:" not in text
    assert "Also posted on" not in text
    assert mentions(text) == []


def test_a_route_matched_only_by_a_folded_copy_still_names_its_owner() -> None:
    """The forum topic kept as the item lacks the GitHub label a route matches: the copy folded into
    it has it, so the routed team still hears of the item."""
    from community_monitoring.messages import TriageFindings
    from community_monitoring.settings import load_settings

    routed = load_settings({"routing": [{"match": {"labels": ["Area/Mobile"]}, "owner": "@mobile-team"}]})
    topic = post(channel="forum", number=23401, created=ago(hours=3), title="App logs me out every morning")
    copy = post(number=45001, created=ago(hours=2), title="App logs me out", labels=("Area/Mobile",))
    text = _triage([topic], TriageFindings(also_posted={topic.url: (copy,)}), routed)
    line = next(line for line in text.splitlines() if topic.url in line)
    assert line.endswith("→ @mobile-team")
    alone = _triage([topic], TriageFindings(), routed)
    assert "@mobile-team" not in alone


def test_the_authors_copy_from_an_earlier_day_is_shown_as_also_posted_not_as_related() -> None:
    """SPEC §4: the same author posting the same thing on two channels is "also posted on …". The
    forum topic of two days ago was listed on its own day; today's issue names it as the author's
    copy, not as "Related: topic …", and its state decides no action."""
    from community_monitoring.messages import TriageFindings
    from community_monitoring.related import Related

    issue = post(number=7, created=ago(hours=2), title="Push notifications crash the app")
    topic = post(channel="forum", number=3501, created=ago(days=2), title="Push notifications crash the app")
    copy = Related(
        "forum", "topic 3501", topic.url, topic.title, 0.9, "open", True, post=topic, own_copy=True
    )
    other = Related("jira", "MM-61500", "https://jira.test/browse/MM-61500", "Push crash", 0.6, "Open", True)
    text = _triage([issue], TriageFindings(related={issue.url: (copy, other)}))
    assert f"Also posted on [Forum]({topic.url}) by the same author." in text
    assert "topic 3501" not in text
    assert "\nRelated: [MM-61500](https://jira.test/browse/MM-61500) · Open\n" in text
    alone = _triage([issue], TriageFindings(related={issue.url: (copy,)}))
    assert "Related:" not in alone
    assert f"Also posted on [Forum]({topic.url}) by the same author." in alone


@pytest.mark.parametrize("how", ["folded the same day", "found among the related items"])
def test_the_triage_draft_thanks_the_author_for_their_copy_on_the_feature_idea_forum(how: str) -> None:
    """SPEC §4: drafts never re-ask what the author gave. The idea they posted on UserVoice too (the
    same day, folded; or an earlier day, found as their own copy) is thanked for, not asked for."""
    from community_monitoring.classify import TYPE_HEADINGS
    from community_monitoring.messages import TriageFindings
    from community_monitoring.related import Related

    issue = post(number=8, created=ago(hours=2), title="Feature request: schedule messages")
    idea = post(channel="uservoice", number=4401, created=ago(days=2), title="Schedule messages")
    if how == "folded the same day":
        findings = TriageFindings(also_posted={issue.url: (idea,)})
    else:
        copy = Related(
            "uservoice", "suggestion 4401", idea.url, idea.title, 0.9, "open", True, post=idea, own_copy=True
        )
        findings = TriageFindings(related={issue.url: (copy,)})
    text = _triage([issue], findings)
    assert f"Type: {TYPE_HEADINGS['feature_proposal']} (" in text
    assert (
        f"Thanks for also posting this idea on the feature-idea forum, where others can vote for it: {idea.url}."
        in text
    )
    assert "Could you post your idea there" not in text


@pytest.mark.parametrize(
    ("case", "copy", "shown"),
    [
        (
            "an open topic shows no state",
            post(channel="forum", number=61),
            "[Forum](https://example.test/forum/61)",
        ),
        (
            "a closed topic",
            post(channel="forum", number=62, state="closed"),
            "[Forum](https://example.test/forum/62) · closed",
        ),
        (
            "closed only after T: open at T",
            post(channel="forum", number=63, state="closed", closed_at=T + timedelta(hours=1)),
            "[Forum](https://example.test/forum/63)",
        ),
        (
            "a topic with a solution marked by T",
            post(channel="forum", number=64, accepted_at=ago(days=1)),
            "[Forum](https://example.test/forum/64) · answered",
        ),
        (
            "a solution marked after T does not exist yet",
            post(channel="forum", number=65, accepted_at=T + timedelta(hours=1)),
            "[Forum](https://example.test/forum/65)",
        ),
        (
            "a Stack Overflow question with an accepted answer",
            post(channel="stackoverflow", number=66, accepted_at=ago(days=1)),
            "[Stack Overflow](https://example.test/stackoverflow/66) · answered",
        ),
        (
            "a declined suggestion shows its UserVoice status",
            post(channel="uservoice", number=67, state="closed", status="Declined"),
            "[UserVoice](https://example.test/uservoice/67) · Declined",
        ),
    ],
)
@pytest.mark.parametrize("how", ["folded the same day", "found among the related items"])
def test_also_posted_shows_the_copys_state_when_it_is_not_open(
    how: str, case: str, copy: object, shown: str
) -> None:
    """The author's copy that is closed or answered already says so, as the related items do."""
    from community_monitoring.messages import TriageFindings
    from community_monitoring.related import Related

    issue = post(number=9, created=ago(hours=2), title="Push notifications crash the app")
    if how == "folded the same day":
        findings = TriageFindings(also_posted={issue.url: (copy,)})
    else:
        item = Related("forum", "x", copy.url, "x", 0.9, "open", True, post=copy, own_copy=True)  # type: ignore[attr-defined]
        findings = TriageFindings(related={issue.url: (item,)})
    assert f"Also posted on {shown} by the same author." in _triage([issue], findings), case
