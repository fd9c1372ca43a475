"""A missing service folder means no data: projects and repos exist, lists are empty (SPEC §8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import gitlab
import pytest
import requests

from community_sandbox import Sandbox

Writer = Callable[..., Path]
Starter = Callable[[Path], Sandbox]
ISSUE = {"number": 1, "title": "Crash", "created_at": "2026-11-16T00:00:00Z", "user": {"login": "ana"}}


@pytest.fixture
def empty(write_scenario: Writer, start_sandbox: Starter) -> Sandbox:
    """A scenario with nothing but scenario.yaml."""
    return start_sandbox(write_scenario())


def get(sandbox: Sandbox, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{sandbox.base_url}{path}", timeout=5, **kwargs)


def test_github_repo_without_a_folder_exists_and_is_empty(empty: Sandbox) -> None:
    api = "/api/v3/repos/mattermost/mattermost"

    repo = get(empty, api)
    lists = [get(empty, f"{api}/{what}") for what in ("issues", "issues/comments", "releases")]
    issue = get(empty, f"{api}/issues/1")
    latest = get(empty, f"{api}/releases/latest")

    assert repo.status_code == 200
    assert (repo.json()["full_name"], repo.json()["url"]) == (
        "mattermost/mattermost",
        f"{empty.base_url}{api}",
    )
    assert [(r.status_code, r.json()) for r in lists] == [(200, [])] * 3
    assert "Link" not in lists[0].headers  # one empty page, nothing to follow
    assert (issue.status_code, latest.status_code) == (404, 404)  # as on GitHub for an empty repo


def test_pygithub_reads_an_unlisted_repo_next_to_a_listed_one(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    sandbox = start_sandbox(write_scenario({"github/o/r/issues.json": [ISSUE]}))
    client = github.Github(base_url=f"{sandbox.base_url}/api/v3", auth=github.Auth.Token("t"))

    listed = [issue.number for issue in client.get_repo("o/r").get_issues(state="all")]
    other = client.get_repo("o/other")

    assert listed == [1]
    assert other.full_name == "o/other"
    assert list(other.get_issues(state="all")) == []
    assert list(other.get_issues_comments()) == []
    assert list(other.get_releases()) == []


def test_gitlab_without_a_folder_has_every_project_empty(empty: Sandbox) -> None:
    client = gitlab.Gitlab(f"{empty.base_url}/gitlab", private_token="t")

    project = client.projects.get("gitlab-org/omnibus-gitlab")
    by_id = client.projects.get(project.id)
    lazy = client.projects.get("grp/sub/proj", lazy=True)

    assert project.path_with_namespace == "gitlab-org/omnibus-gitlab"
    assert by_id.path_with_namespace == "gitlab-org/omnibus-gitlab"
    assert project.issues.list(get_all=True) == []
    assert lazy.issues.list(get_all=True, state="all", labels="Mattermost") == []
    with pytest.raises(gitlab.GitlabGetError) as caught:
        project.issues.get(1)
    assert caught.value.response_code == 404  # the project is empty, not missing


def test_gitlab_without_a_folder_still_needs_a_token_and_a_path(empty: Sandbox) -> None:
    anonymous = get(empty, "/gitlab/api/v4/projects/grp%2Fproj")
    unknown_id = get(empty, "/gitlab/api/v4/projects/424242", headers={"PRIVATE-TOKEN": "t"})

    assert anonymous.status_code == 401
    # A numeric id names no path to invent a project from: only ids already handed out work.
    assert unknown_id.status_code == 404


def test_discourse_without_a_folder(empty: Sandbox) -> None:
    auth = {"Api-Key": "k", "Api-Username": "system"}

    latest = get(empty, "/discourse/latest.json", headers=auth)
    posts = get(empty, "/discourse/posts.json", headers=auth)
    categories = get(empty, "/discourse/categories.json", headers=auth)

    assert latest.status_code == 200
    assert latest.json()["topic_list"]["topics"] == []
    assert "more_topics_url" not in latest.json()["topic_list"]
    assert posts.json() == {"latest_posts": []}
    assert categories.json()["category_list"]["categories"] == []


def test_stackexchange_without_a_folder(empty: Sandbox) -> None:
    params = {"site": "stackoverflow", "tagged": "mattermost"}

    questions = get(empty, "/stackexchange/2.3/questions", params=params)
    answers = get(empty, "/stackexchange/2.3/questions/1;2/answers", params=params)

    for answer in (questions, answers):
        assert answer.status_code == 200
        assert (answer.json()["items"], answer.json()["has_more"]) == ([], False)


def test_uservoice_without_a_folder(empty: Sandbox) -> None:
    api = f"{empty.base_url}/uservoice/api/v2"
    token = requests.post(
        f"{api}/oauth/token", data={"client_id": "c", "client_secret": "s"}, timeout=5
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    suggestions = requests.get(f"{api}/admin/suggestions", headers=auth, timeout=5)
    statuses = requests.get(f"{api}/admin/statuses", headers=auth, timeout=5)
    updates = requests.get(f"{api}/admin/status_updates", headers=auth, timeout=5)

    assert suggestions.status_code == 200
    assert suggestions.json()["suggestions"] == []
    assert suggestions.json()["pagination"]["total_records"] == 0
    assert statuses.json()["statuses"] == []
    assert updates.json()["status_updates"] == []


def test_jira_without_a_folder(empty: Sandbox) -> None:
    search = get(
        empty,
        "/jira/rest/api/3/search/jql",
        params={"jql": "project = MM AND updated >= -7d", "fields": "summary"},
        auth=("me@example.com", "token"),
    )

    assert search.status_code == 200
    assert search.json() == {"issues": [], "isLast": True}


def test_issue_lists_of_unlisted_repos_and_projects_answer_200(empty: Sandbox) -> None:
    get(empty, "/api/v3/repos/a/b/issues")
    get(empty, "/gitlab/api/v4/projects/a%2Fb/issues", headers={"PRIVATE-TOKEN": "t"})

    assert [entry["status"] for entry in empty.requests_log] == [200, 200]
