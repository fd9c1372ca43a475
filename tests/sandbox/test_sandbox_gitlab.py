"""python-gitlab, unchanged, against the sandbox's GitLab v4 emulation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gitlab
import pytest
import requests

from community_sandbox import Sandbox
from community_sandbox.synth import is_history_id

DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
PROJECT_ID = 4242
ISSUES_PATH = f"/gitlab/api/v4/projects/{PROJECT_ID}/issues"


def gl_issue(iid: int, day: int, labels: list[str], **extra: Any) -> dict[str, Any]:
    """An issue as GitLab returns it, with API URLs the sandbox must rewrite."""
    stamp = f"2026-11-{day:02d}T10:00:00.000Z"
    issue: dict[str, Any] = {
        "id": 900 + iid,
        "iid": iid,
        "project_id": PROJECT_ID,
        "title": f"Issue {iid}",
        "state": "opened",
        "created_at": stamp,
        "updated_at": stamp,
        "labels": labels,
        "author": {"username": f"user{iid}"},
        "web_url": f"https://gitlab.com/grp/proj/-/issues/{iid}",
        "_links": {"self": f"https://gitlab.com/api/v4/projects/{PROJECT_ID}/issues/{iid}"},
    }
    issue.update(extra)
    return issue


def gl_note(note_id: int, iid: int, hour: int, *, system: bool = False) -> dict[str, Any]:
    return {
        "id": note_id,
        "body": "changed the label" if system else f"Note {note_id}",
        "author": {"username": "helper"},
        "created_at": f"2026-11-10T{hour:02d}:00:00.000Z",
        "system": system,
        "noteable_iid": iid,
    }


ISSUES = [
    gl_issue(1, 1, ["Mattermost"]),
    gl_issue(2, 2, ["Mattermost", "bug"], updated_at="2026-11-12T10:00:00.000Z"),
    gl_issue(3, 3, ["Gitaly"]),
    gl_issue(4, 4, ["Mattermost", "bug"], state="closed", closed_at="2026-11-05T10:00:00.000Z"),
    gl_issue(5, 5, ["Mattermost"]),
    gl_issue(6, 6, []),
]
NOTES = [
    gl_note(11, 2, 9),
    gl_note(12, 2, 10, system=True),
    gl_note(13, 2, 11),
    gl_note(14, 5, 9),
]


@pytest.fixture
def sandbox(write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]) -> Sandbox:
    files = {"gitlab/grp/proj/issues.json": ISSUES, "gitlab/grp/proj/notes.json": NOTES}
    return start_sandbox(write_scenario(files))


def client(sandbox: Sandbox) -> gitlab.Gitlab:
    return gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token="t")


def calls(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.requests_log if entry["path"] == path]


def test_project_by_path_then_issues_across_pages(sandbox: Sandbox) -> None:
    project = client(sandbox).projects.get("grp/proj")

    issues = list(
        project.issues.list(
            iterator=True,
            state="all",
            created_after="2026-11-02T00:00:00Z",
            order_by="created_at",
            sort="asc",
            per_page=2,
        )
    )

    assert project.id == PROJECT_ID  # taken from the issues' project_id
    assert project.path_with_namespace == "grp/proj"
    assert project.web_url == "https://gitlab.com/grp/proj"
    assert [issue.iid for issue in issues] == [2, 3, 4, 5, 6]
    # python-gitlab followed Link rel="next": one request per page of two.
    assert len(calls(sandbox, ISSUES_PATH)) == 3
    assert calls(sandbox, "/gitlab/api/v4/projects/grp%2Fproj")[0]["status"] == 200


def test_issue_filters_and_defaults(sandbox: Sandbox) -> None:
    project = client(sandbox).projects.get(PROJECT_ID, lazy=True)

    default = [i.iid for i in project.issues.list(get_all=True)]
    labelled = [i.iid for i in project.issues.list(get_all=True, labels=["Mattermost", "bug"])]
    opened = [i.iid for i in project.issues.list(get_all=True, state="opened", labels="Mattermost")]
    updated = [
        i.iid
        for i in project.issues.list(
            get_all=True, updated_after="2026-11-04T00:00:00Z", order_by="updated_at", sort="desc"
        )
    ]
    unlabelled = [i.iid for i in project.issues.list(get_all=True, labels="None")]

    assert default == [6, 5, 4, 3, 2, 1]  # GitLab's defaults: all states, newest created first
    assert labelled == [4, 2]  # every label must match
    assert opened == [5, 2, 1]
    assert updated == [2, 6, 5, 4]  # #2 was updated on the 12th
    assert unlabelled == [6]


def test_an_issue_written_without_labels_is_served_with_none(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    """GitLab always sends ``labels``; a hand-written issue that leaves them out has none."""
    bare = {k: v for k, v in gl_issue(7, 7, []).items() if k != "labels"}
    started = start_sandbox(write_scenario({"gitlab/grp/proj/issues.json": [bare]}))
    [issue] = client(started).projects.get(PROJECT_ID, lazy=True).issues.list(get_all=True)
    assert issue.attributes["labels"] == []
    assert [
        i.iid for i in client(started).projects.get(PROJECT_ID, lazy=True).issues.list(labels="None")
    ] == [7]


def test_notes_include_system_notes_and_user_notes_count(sandbox: Sandbox) -> None:
    issue = client(sandbox).projects.get(PROJECT_ID, lazy=True).issues.get(2)

    newest_first = [note.id for note in issue.notes.list(get_all=True)]
    oldest_first = issue.notes.list(get_all=True, sort="asc", order_by="created_at")

    assert newest_first == [13, 12, 11]
    assert [(n.id, n.system) for n in oldest_first] == [(11, False), (12, True), (13, False)]
    assert issue.user_notes_count == 2  # system notes are not user notes


def test_posting_a_note_is_recorded_and_visible(sandbox: Sandbox) -> None:
    issue = client(sandbox).projects.get(PROJECT_ID, lazy=True).issues.get(5)

    note = issue.notes.create({"body": "Fixed in 18.7"})

    assert note.body == "Fixed in 18.7"
    assert note.created_at.startswith("2026-11-17T10:00:")  # the scenario's clock
    assert [(e["service"], e["method"], e["path"], e["body"]) for e in sandbox.outbox] == [
        ("gitlab", "POST", f"{ISSUES_PATH}/5/notes", {"body": "Fixed in 18.7"})
    ]
    refreshed = client(sandbox).projects.get(PROJECT_ID, lazy=True).issues.get(5)
    assert refreshed.user_notes_count == 2
    assert refreshed.updated_at == note.created_at
    assert note.id in [n.id for n in refreshed.notes.list(get_all=True)]


def test_pagination_headers_and_urls(sandbox: Sandbox) -> None:
    api = f"{sandbox.base_url}{ISSUES_PATH}"

    page = requests.get(api, params={"per_page": 2, "page": 2}, headers={"PRIVATE-TOKEN": "t"}, timeout=5)

    assert page.headers["Content-Type"] == "application/json"
    assert page.headers["Link"] == (
        f'<{api}?page=1&per_page=2>; rel="prev", <{api}?page=3&per_page=2>; rel="next", '
        f'<{api}?page=1&per_page=2>; rel="first", <{api}?page=3&per_page=2>; rel="last"'
    )
    expected = {"x-next-page": "3", "x-page": "2", "x-per-page": "2", "x-prev-page": "1"}
    assert {name: page.headers[name] for name in expected} == expected
    assert (page.headers["x-total"], page.headers["x-total-pages"]) == ("6", "3")
    first = page.json()[0]
    assert first["_links"]["self"] == f"{sandbox.base_url}{ISSUES_PATH}/4"  # API URL rewritten
    assert first["web_url"] == "https://gitlab.com/grp/proj/-/issues/4"  # page URL kept
    last = requests.get(api, params={"per_page": 2, "page": 3}, headers={"PRIVATE-TOKEN": "t"}, timeout=5)
    assert last.headers["x-next-page"] == ""
    assert 'rel="next"' not in last.headers["Link"]


def test_auth_and_not_found_errors(sandbox: Sandbox) -> None:
    base = f"{sandbox.base_url}/gitlab/api/v4"

    anonymous = requests.get(f"{base}/projects/grp%2Fproj", timeout=5)
    missing = requests.get(f"{base}/projects/grp%2Fnope", headers={"PRIVATE-TOKEN": "t"}, timeout=5)
    bad_state = requests.get(
        f"{base}/projects/{PROJECT_ID}/issues",
        params={"state": "open"},
        headers={"PRIVATE-TOKEN": "t"},
        timeout=5,
    )

    assert (anonymous.status_code, anonymous.json()) == (401, {"message": "401 Unauthorized"})
    assert (missing.status_code, missing.json()) == (404, {"message": "404 Project Not Found"})
    assert bad_state.status_code == 400
    assert bad_state.json() == {"error": "state does not have a valid value"}
    with pytest.raises(gitlab.GitlabGetError) as caught:
        client(sandbox).projects.get("grp/nope")
    assert caught.value.response_code == 404
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gitlab.Gitlab(f"{sandbox.base_url}/gitlab").projects.get("grp/proj")


def test_python_gitlab_obeys_retry_after_on_429(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    faults = [
        {"service": "gitlab", "path": "/issues$", "status": 429, "times": 1, "retry_after": 0},
        {"service": "gitlab", "path": "/notes$", "status": 429, "times": 1},
    ]
    sandbox = start_sandbox(write_scenario({"gitlab/grp/proj/issues.json": ISSUES}, faults=faults))
    project = client(sandbox).projects.get(PROJECT_ID, lazy=True)

    iids = [issue.iid for issue in project.issues.list(get_all=True)]
    limited = requests.get(
        f"{sandbox.base_url}{ISSUES_PATH}/1/notes", headers={"PRIVATE-TOKEN": "t"}, timeout=5
    )

    assert iids == [6, 5, 4, 3, 2, 1]
    assert [entry["status"] for entry in calls(sandbox, ISSUES_PATH)] == [429, 200]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"].isdigit()  # whole seconds: python-gitlab int()s it


def test_demo_scenario_serves_gitlab() -> None:
    with Sandbox(DEMO) as sandbox:
        project = client(sandbox).projects.get("gitlab-org/omnibus-gitlab")
        issues = list(project.issues.list(iterator=True, labels="Mattermost", state="all", per_page=5))
        notes = project.issues.get(9030).notes.list(get_all=True, sort="asc")

    assert project.id == 20699
    # #9150 has no Mattermost label; the others beyond the 12 are the triage model's history.
    assert len([i for i in issues if not is_history_id("gitlab_issue", i.iid)]) == 12
    assert 9150 not in [issue.iid for issue in issues]
    assert [(note.author["username"], note.system) for note in notes] == [
        ("gitlab-bot", False),
        ("gitlab-bot", True),
        ("gitlab-bot", False),
    ]
