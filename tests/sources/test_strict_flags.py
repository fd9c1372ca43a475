"""A flag the rules read must be a JSON boolean: "false" as a string is truthy, so read loosely it
made a topic staff's, a release a draft, a note a system note, and posts vanished from a green run.
The item models refuse it, so the item is named among the ones that could not be read."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from community_monitoring.sources.discourse import DiscoursePost, DiscourseTopic
from community_monitoring.sources.github import GithubRelease
from community_monitoring.sources.gitlab import GitlabIssue, GitlabNote

TOPIC = {
    "id": 1,
    "created_at": "2026-11-17T10:00:00Z",
    "title": "Topic",
    "closed": False,
    "archived": False,
    "visible": True,
}
POST = {"id": 1, "topic_id": 1, "post_number": 1, "created_at": "2026-11-17T10:00:00Z", "username": "ana"}
ISSUE = {
    "iid": 1,
    "created_at": "2026-11-17T10:00:00Z",
    "state": "opened",
    "web_url": "https://g.test/1",
    "title": "I",
    "author": {"username": "ana"},
    "labels": [],
}
NOTE = {"id": 1, "created_at": "2026-11-17T10:00:00Z", "author": {"username": "ana"}}


@pytest.mark.parametrize(
    ("model", "base", "flag"),
    [
        (DiscourseTopic, TOPIC, "closed"),
        (DiscourseTopic, TOPIC, "archived"),
        (DiscourseTopic, TOPIC, "visible"),
        (DiscoursePost, POST, "staff"),
        (DiscoursePost, POST, "admin"),
        (DiscoursePost, POST, "moderator"),
        (DiscoursePost, POST, "hidden"),
        (DiscoursePost, POST, "user_deleted"),
        (GithubRelease, {"draft": False, "prerelease": False}, "draft"),
        (GithubRelease, {"draft": False, "prerelease": False}, "prerelease"),
        (GitlabIssue, ISSUE, "confidential"),
        (GitlabNote, NOTE, "system"),
        (GitlabNote, NOTE, "internal"),
    ],
)
def test_a_flag_sent_as_a_string_is_an_invalid_item(
    model: type[BaseModel], base: dict[str, Any], flag: str
) -> None:
    assert getattr(model.model_validate({**base, flag: False}), flag) is False
    assert getattr(model.model_validate({**base, flag: True}), flag) is True
    with pytest.raises(ValidationError, match=flag):
        model.model_validate({**base, flag: "false"})


def test_a_post_without_its_title_is_an_invalid_item() -> None:
    """The rules read the title (type, routing, related items): a null one was listed as "(no
    title)" in a green run, where SPEC §6 names the item and turns the run red."""
    from community_monitoring.sources.github import GithubIssue
    from community_monitoring.sources.stackexchange import Question
    from community_monitoring.sources.uservoice import Suggestion

    github = {
        "number": 1,
        "created_at": "2026-11-17T10:00:00Z",
        "state": "open",
        "html_url": "https://g.test/1",
    }
    for model, base in ((GithubIssue, github), (GitlabIssue, ISSUE), (DiscourseTopic, TOPIC)):
        with pytest.raises(ValidationError, match="title"):
            model.model_validate({**base, "title": None})
    for model in (Question, Suggestion):
        assert model.model_fields["title"].is_required()
