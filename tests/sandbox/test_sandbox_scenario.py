"""Loading scenarios: what is exposed, and errors that name the file to fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from community_sandbox import ScenarioError, load_scenario

Writer = Callable[..., Path]
ISSUE = {"number": 1, "created_at": "2026-11-16T00:00:00Z", "user": {"login": "ana"}}


def test_loads_config_and_data(write_scenario: Writer) -> None:
    root = write_scenario(
        {"github/mattermost/mattermost/issues.json": [ISSUE]},
        variables={"digest_limit": 5},
        closeout={"release": "v1.2"},
        faults=[{"service": "github", "path": "/issues", "status": 500, "times": 1}],
    )

    scenario = load_scenario(root)

    assert scenario.now == datetime(2026, 11, 17, 10, tzinfo=UTC)
    assert scenario.variables == {"digest_limit": 5}
    assert scenario.closeout == {"release": "v1.2"}
    assert scenario.faults[0].status == 500
    assert scenario.faults[0].times == 1
    assert scenario.data["github"]["mattermost/mattermost"].issues == [ISSUE]
    assert scenario.data["discourse"].topics == []  # optional files: empty lists


def error_for(write_scenario: Writer, files: dict[str, Any], **config: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(files, **config))
    return str(caught.value)


def test_missing_key_names_file_and_item(write_scenario: Writer) -> None:
    issues = [ISSUE, {**ISSUE, "number": 2}, {**ISSUE, "number": 3}, {"created_at": "2026-11-16T00:00:00Z"}]

    message = error_for(write_scenario, {"github/mattermost/mattermost/issues.json": issues})

    assert message == 'github/mattermost/mattermost/issues.json: item 3 has no "number"'


def test_invalid_json_names_file_and_line(write_scenario: Writer) -> None:
    root = write_scenario()
    (root / "discourse").mkdir()
    (root / "discourse" / "posts.json").write_text('[\n  {"id": 1,}\n]\n', encoding="utf-8")

    with pytest.raises(ScenarioError, match=r"^discourse/posts\.json: invalid JSON at line 2"):
        load_scenario(root)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "github/o/r/comments.json": [
                    {"id": 1, "issue_url": "x/issues/9", "created_at": "2026-11-16T00:00:00Z"}
                ]
            },
            "github/o/r/comments.json: item 0 points at issue #9, which is not in issues.json",
        ),
        (
            {"github/o/r/issues.json": [{**ISSUE, "created_at": "yesterday"}]},
            'github/o/r/issues.json: item 0 has a bad "created_at"',
        ),
        ({"github/o/r/issues.json": [ISSUE, ISSUE]}, 'github/o/r/issues.json: item 1 repeats "number" 1'),
        ({"discourse/topics.json": {"id": 1}}, "discourse/topics.json: expected a JSON array"),
        (
            {"discourse/posts.json": [{"id": 1, "topic_id": 5}]},
            "discourse/posts.json: item 0 points at topic 5, which is not in topics.json",
        ),
    ],
)
def test_data_errors_name_the_file(write_scenario: Writer, files: dict[str, Any], expected: str) -> None:
    assert error_for(write_scenario, files).startswith(expected)


def test_a_list_response_copied_whole_from_the_api_is_read_as_its_list(write_scenario: Writer) -> None:
    # A scenario author pasting what the API answered: Discourse's /latest.json, /posts.json and
    # /categories.json, Stack Exchange's wrapper, Jira's search answer, a UserVoice collection.
    topic = {"id": 1, "title": "Help", "created_at": "2026-11-16T00:00:00Z"}
    post = {"id": 2, "topic_id": 1, "post_number": 1, "username": "ana", "created_at": "2026-11-16T00:00:00Z"}
    question = {"question_id": 4, "creation_date": 1763251200}
    issue = {"id": "10001", "key": "MM-1", "fields": {"summary": "x"}}
    suggestion = {"id": 7, "title": "Idea", "created_at": "2026-11-16T00:00:00Z"}
    root = write_scenario(
        {
            "discourse/topics.json": {
                "users": [],
                "topic_list": {"more_topics_url": None, "topics": [topic]},
            },
            "discourse/posts.json": {"latest_posts": [post]},
            "discourse/categories.json": {"category_list": {"categories": [{"id": 3, "name": "Q&A"}]}},
            "stackexchange/questions.json": {"items": [question], "has_more": False, "quota_max": 300},
            "jira/issues.json": {"issues": [issue], "isLast": True},
            "uservoice/suggestions.json": {"suggestions": [suggestion], "pagination": {"page": 1}},
        }
    )

    data = load_scenario(root).data

    assert data["discourse"].topics == [topic]
    assert data["discourse"].posts == [post]
    assert [c["id"] for c in data["discourse"].categories] == [3]
    assert data["stackexchange"].questions == [question]
    assert data["jira"].issues == [issue]
    assert data["uservoice"].suggestions == [suggestion]


def test_a_topic_page_copied_whole_gives_its_post_stream(write_scenario: Writer) -> None:
    topic = {"id": 1, "title": "Help", "created_at": "2026-11-16T00:00:00Z"}
    post = {"id": 2, "topic_id": 1, "post_number": 1, "username": "ana", "created_at": "2026-11-16T00:00:00Z"}
    root = write_scenario(
        {
            "discourse/topics.json": [topic],
            "discourse/posts.json": {"id": 1, "post_stream": {"posts": [post]}},
        }
    )
    assert load_scenario(root).data["discourse"].posts == [post]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # An object that is no list response of that API is still refused, naming what was expected.
        (
            {"stackexchange/answers.json": {"answer_id": 5}},
            'stackexchange/answers.json: expected a JSON array (or the API\'s response holding it: {"items": [...]}), found dict',
        ),
        ({"jira/issues.json": {"issues": {"MM-1": {}}}}, "jira/issues.json: expected a JSON array"),
        (
            {"uservoice/users.json": {"suggestions": []}},
            'uservoice/users.json: expected a JSON array (or the API\'s response holding it: {"users": [...]})',
        ),
        (
            {"github/o/r/issues.json": {"items": []}},
            "github/o/r/issues.json: expected a JSON array, found dict",
        ),
    ],
)
def test_an_object_that_is_no_list_response_is_refused(
    write_scenario: Writer, files: dict[str, Any], expected: str
) -> None:
    assert error_for(write_scenario, files).startswith(expected)


GL_ISSUE = {"iid": 1, "created_at": "2026-11-16T00:00:00Z", "author": {"username": "ana"}}
GL_NOTE = {"id": 2, "noteable_iid": 1, "created_at": "2026-11-16T01:00:00Z", "author": {"username": "bob"}}
GH_COMMENT = {
    "id": 3,
    "issue_url": "x/issues/1",
    "created_at": "2026-11-16T01:00:00Z",
    "user": {"login": "bob"},
}
SO_QUESTION = {"question_id": 4, "creation_date": 1763251200}
SO_ANSWER = {"answer_id": 5, "question_id": 4, "creation_date": 1763254800}
SO_COMMENT = {"comment_id": 6, "post_id": 4, "creation_date": 1763254800}


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"github/o/r/issues.json": [_without(ISSUE, "user")]},
            'github/o/r/issues.json: item 0 has no "user" (the API always sends it',
        ),
        (
            {"github/o/r/issues.json": [ISSUE], "github/o/r/comments.json": [_without(GH_COMMENT, "user")]},
            'github/o/r/comments.json: item 0 has no "user"',
        ),
        (
            {"gitlab/g/p/issues.json": [_without(GL_ISSUE, "author")]},
            'gitlab/g/p/issues.json: item 0 has no "author" (the API always sends it',
        ),
        (
            {"gitlab/g/p/issues.json": [GL_ISSUE], "gitlab/g/p/notes.json": [_without(GL_NOTE, "author")]},
            'gitlab/g/p/notes.json: item 0 has no "author"',
        ),
        (
            {"stackexchange/questions.json": [{**SO_QUESTION, "owner": "Ana"}]},
            'stackexchange/questions.json: item 0 has an "owner" that is no shallow_user object',
        ),
        (
            {"stackexchange/answers.json": [{**SO_ANSWER, "owner": {"user_type": "deleted"}}]},
            'stackexchange/answers.json: item 0 has an "owner" with a "user_type" the API never sends',
        ),
    ],
)
def test_an_author_the_api_always_sends_must_be_in_the_files(
    write_scenario: Writer, files: dict[str, Any], expected: str
) -> None:
    """The sandbox serves what the API sends: an item without its author is not one of them (the
    product names such an item as unreadable; a fault of kind ``body`` serves one on purpose)."""
    assert error_for(write_scenario, files).startswith(expected)


def test_the_real_deleted_account_shapes_load(write_scenario: Writer) -> None:
    ghost = {"id": 1, "username": "ghost", "name": "Ghost User"}
    scenario = load_scenario(
        write_scenario(
            {
                "github/o/r/issues.json": [{**ISSUE, "user": None}],
                "github/o/r/comments.json": [{**GH_COMMENT, "user": None}],
                "gitlab/g/p/issues.json": [{**GL_ISSUE, "author": ghost}],
                "gitlab/g/p/notes.json": [{**GL_NOTE, "author": ghost}],
                "discourse/topics.json": [{"id": 1, "title": "T", "created_at": "2026-11-16T00:00:00Z"}],
                "discourse/posts.json": [
                    {
                        "id": 1,
                        "topic_id": 1,
                        "post_number": 1,
                        "username": None,
                        "created_at": "2026-11-16T00:00:00Z",
                    }
                ],
                "stackexchange/questions.json": [SO_QUESTION],  # no owner at all
                "stackexchange/answers.json": [{**SO_ANSWER, "owner": {"user_type": "does_not_exist"}}],
                "stackexchange/comments.json": [
                    {**SO_COMMENT, "owner": {"user_type": "does_not_exist", "display_name": "user9"}}
                ],
            }
        )
    )
    assert scenario.data["github"]["o/r"].issues[0]["user"] is None
    assert scenario.data["gitlab"]["g/p"].notes[0]["author"] == ghost
    assert "owner" not in scenario.data["stackexchange"].questions[0]


def test_a_stack_exchange_owner_written_by_hand_loads(write_scenario: Writer) -> None:
    """A scenario written by hand gives an owner its name and id only, or null for none: the sandbox
    serves it (a filter may leave out ``user_type``; the product reads the owner by its name)."""
    scenario = load_scenario(
        write_scenario(
            {
                "stackexchange/questions.json": [
                    {**SO_QUESTION, "owner": {"display_name": "Ana", "user_id": 7}}
                ],
                "stackexchange/answers.json": [{**SO_ANSWER, "owner": None}],
                "stackexchange/comments.json": [{**SO_COMMENT, "owner": {"user_id": 9}}],
            }
        )
    )
    assert scenario.data["stackexchange"].questions[0]["owner"] == {"display_name": "Ana", "user_id": 7}
    assert scenario.data["stackexchange"].answers[0]["owner"] is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"faults": [{"service": "myspace", "path": "/", "status": 500}]},
            'faults item 0 has an unknown "service"',
        ),
        (
            {"faults": [{"service": "github", "path": "(", "status": 500}]},
            'faults item 0 has a bad "path" regex',
        ),
        ({"faults": [{"service": "github", "path": "/", "status": 500, "times": 0}]}, 'has a bad "times"'),
        ({"faults": [{"service": "github", "path": "/"}]}, 'faults item 0 has no "status"'),
        ({"now": "soon"}, '"now" is not an ISO-8601 time'),
        ({"variables": ["a"]}, '"variables" must be a mapping'),
    ],
)
def test_config_errors_name_scenario_yaml(
    write_scenario: Writer, config: dict[str, Any], expected: str
) -> None:
    message = error_for(write_scenario, {}, **config)

    assert message.startswith("scenario.yaml:")
    assert expected in message


def test_missing_scenario_yaml_or_now(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"^scenario\.yaml: missing"):
        load_scenario(tmp_path)
    (tmp_path / "scenario.yaml").write_text("variables: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r'^scenario\.yaml: has no "now"'):
        load_scenario(tmp_path)


def test_remote_links_of_a_deleted_jira_ticket_load(write_scenario: Writer) -> None:
    """A scenario for a deleted or moved Jira ticket keeps its old key's remote links: the scenario
    loads (the old key is no issue any more, so Jira, and the sandbox, answer its links with 404)."""
    issue = {"id": "1", "key": "NEW-5", "fields": {"summary": "Moved here"}}
    link = {"id": 7, "object": {"url": "https://example.uservoice.com/suggestions/1-x"}}
    files = {"jira/issues.json": [issue], "jira/remotelinks.json": {"MM-9001": [link], "NEW-5": [link]}}

    scenario = load_scenario(write_scenario(files))

    assert scenario.data["jira"].issues == [issue]
    assert scenario.data["jira"].remotelinks["NEW-5"] == [link]


def test_categories_copied_with_their_nested_subcategories_are_read_flat(write_scenario: Writer) -> None:
    # /categories.json?include_subcategories=true nests each subcategory in its parent's list.
    answer = {
        "category_list": {
            "categories": [
                {
                    "id": 3,
                    "name": "Troubleshooting",
                    "subcategory_ids": [7],
                    "subcategory_list": [{"id": 7, "name": "Docker", "parent_category_id": 3}],
                },
                {"id": 4, "name": "Ideas", "subcategory_list": [{"id": 8, "name": "Boards"}]},
            ]
        }
    }
    categories = (
        load_scenario(write_scenario({"discourse/categories.json": answer})).data["discourse"].categories
    )
    assert [(c["id"], c.get("parent_category_id")) for c in categories] == [
        (3, None),
        (7, 3),
        (4, None),
        (8, 4),
    ]
    assert all("subcategory_list" not in c for c in categories)


def test_a_category_listed_twice_names_itself(write_scenario: Writer) -> None:
    answer = [{"id": 3, "subcategory_list": [{"id": 3}]}]
    assert error_for(write_scenario, {"discourse/categories.json": answer}) == (
        'discourse/categories.json: item 1 repeats "id" 3'
    )
