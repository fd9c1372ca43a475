"""Lists come from orders sorted once and results kept per query: writes must show at once,
equal sort keys keep the files' order, and the scenario's data is never changed."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from community_sandbox import Sandbox, load_scenario
from community_sandbox.loading import rewrite_urls

GH = "/api/v3/repos/o/r"
GL = "/gitlab/api/v4/projects/4242"
UV = "/uservoice/api/v2/admin"
SE = "/stackexchange/2.3"
JIRA = "/jira/rest/api/3/search/jql"
UV_AUTH = {"Authorization": "Bearer sandbox-token-test"}
JIRA_AUTH = ("me@example.com", "token")


def gh_issue(number: int, hour: int) -> dict[str, Any]:
    stamp = f"2026-11-16T{hour:02d}:00:00Z"
    return {
        "number": number,
        "title": f"Issue {number}",
        "url": f"https://api.github.com/repos/o/r/issues/{number}",
        "user": {"login": f"user{number}"},
        "labels": [{"name": "bug", "url": "https://api.github.com/repos/o/r/labels/bug"}],
        "pull_request": {"url": f"https://api.github.com/repos/o/r/pulls/{number}"} if number == 2 else None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def gh_comment(comment_id: int, number: int, hour: int) -> dict[str, Any]:
    stamp = f"2026-11-16T{hour:02d}:30:00Z"
    return {
        "id": comment_id,
        "issue_url": f"https://api.github.com/repos/o/r/issues/{number}",
        "user": {"login": "helper"},
        "created_at": stamp,
        "body": "hi",
    }


def gl_issue(iid: int, day: int) -> dict[str, Any]:
    stamp = f"2026-11-{day:02d}T10:00:00.000Z"
    return {
        "iid": iid,
        "project_id": 4242,
        "title": f"Issue {iid}",
        "created_at": stamp,
        "labels": [],
        "author": {"username": f"user{iid}"},
    }


def uv_suggestion(sid: int, hour: int) -> dict[str, Any]:
    stamp = f"2026-11-16T{hour:02d}:00:00Z"
    return {"id": sid, "title": f"S{sid}", "created_at": stamp, "updated_at": stamp, "links": {"status": 11}}


def se_question(qid: int, score: int, creation: int, activity: int) -> dict[str, Any]:
    return {
        "question_id": qid,
        "title": f"Q{qid}",
        "tags": ["mattermost"],
        "score": score,
        "creation_date": creation,
        "last_activity_date": activity,
    }


def jira_issue(number: int, updated: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"project": {"key": "MM"}, "created": "2026-01-01T00:00:00.000+0000"}
    if updated:
        fields["updated"] = updated
    return {"id": str(100 + number), "key": f"MM-{number}", "fields": fields}


# Ties on purpose: questions 2, 3 and 5 share a score and a creation date.
QUESTIONS = [
    se_question(1, 5, 100, 900),
    se_question(2, 3, 200, 800),
    se_question(3, 3, 200, 950),
    se_question(4, 1, 300, 700),
    se_question(5, 3, 200, 600),
]
FILES = {
    "github/o/r/issues.json": [gh_issue(n, n) for n in range(1, 7)],
    "github/o/r/comments.json": [gh_comment(100 + n, n, n) for n in (1, 3, 5)],
    "gitlab/grp/proj/issues.json": [gl_issue(n, n) for n in range(1, 7)],
    "uservoice/suggestions.json": [uv_suggestion(100 + n, n) for n in (1, 2, 3)],
    "uservoice/statuses.json": [{"id": 11, "name": "Open"}, {"id": 15, "name": "Done", "is_open": False}],
    "stackexchange/questions.json": QUESTIONS,
    "jira/issues.json": [
        jira_issue(1, "2026-11-10T10:00:00.000+0000"),
        jira_issue(2, None),
        jira_issue(3, "2026-11-12T10:00:00.000+0000"),
        jira_issue(4, "2026-11-10T10:00:00.000+0000"),
        jira_issue(5, "2026-11-14T10:00:00.000+0000"),
    ],
}


def get(sandbox: Sandbox, path: str, **kwargs: Any) -> Any:
    response = requests.get(f"{sandbox.base_url}{path}", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def post(sandbox: Sandbox, path: str, body: dict[str, Any], **kwargs: Any) -> None:
    response = requests.post(f"{sandbox.base_url}{path}", json=body, timeout=10, **kwargs)
    assert response.status_code in (200, 201), response.text


def test_github_lists_show_a_new_comment_at_once(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FILES))
    since = "2026-11-16T04:00:00Z"
    queries = [
        f"{GH}/issues?state=all&sort=updated&since={since}",
        f"{GH}/issues?state=all&sort=comments&direction=asc",
        f"{GH}/issues/comments?since={since}",
        f"{GH}/issues/2/comments",
    ]
    before = [get(sandbox, query) for query in queries]  # each list built and kept

    post(sandbox, f"{GH}/issues/2/comments", {"body": "a reply"}, headers={"Authorization": "token t"})
    after = [get(sandbox, query) for query in queries]

    assert [i["number"] for i in before[0]] == [6, 5, 4]
    assert [i["number"] for i in after[0]] == [2, 6, 5, 4]  # bumped by its comment
    assert [i["number"] for i in after[1]][-1] == 5  # 1, 3, 5 and now 2 have one comment: numbers break ties
    assert [c["id"] for c in before[2]] == [105]
    assert [c["id"] for c in after[2]] == [105, 106]
    assert (len(before[3]), len(after[3])) == (0, 1)


def test_gitlab_lists_show_a_new_note_at_once(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FILES))
    token = {"PRIVATE-TOKEN": "t"}
    query = f"{GL}/issues?order_by=updated_at&updated_after=2026-11-04T00:00:00Z"
    before = get(sandbox, query, headers=token)
    notes_before = get(sandbox, f"{GL}/issues/1/notes", headers=token)

    post(sandbox, f"{GL}/issues/1/notes", {"body": "a reply"}, headers=token)

    assert [i["iid"] for i in before] == [6, 5, 4]
    assert [i["iid"] for i in get(sandbox, query, headers=token)] == [1, 6, 5, 4]
    assert (len(notes_before), len(get(sandbox, f"{GL}/issues/1/notes", headers=token))) == (0, 1)


def test_uservoice_lists_show_a_status_update_at_once(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FILES))
    newest_first = f"{UV}/suggestions?sort=-updated_at"
    assert [s["id"] for s in get(sandbox, newest_first, headers=UV_AUTH)["suggestions"]] == [103, 102, 101]
    assert get(sandbox, f"{UV}/status_updates?suggestion=101", headers=UV_AUTH)["status_updates"] == []

    update = {"status_update": {"links": {"suggestion": 101, "status": 15}}}
    post(sandbox, f"{UV}/status_updates", update, headers=UV_AUTH)

    listed = get(sandbox, f"{newest_first}&includes=statuses", headers=UV_AUTH)
    assert [s["id"] for s in listed["suggestions"]] == [101, 103, 102]
    assert [s["id"] for s in listed["linked"]["statuses"]] == [11, 15]
    assert listed["suggestions"][0]["state"] == "closed"
    updates = get(sandbox, f"{UV}/status_updates?suggestion=101", headers=UV_AUTH)["status_updates"]
    assert [u["links"]["status"] for u in updates] == [15]


def test_stackexchange_ties_keep_the_files_order(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FILES))

    def ids(path: str, **params: Any) -> list[int]:
        body = get(sandbox, path, params={"site": "stackoverflow", "pagesize": 2, **params})
        found = [q["question_id"] for q in body["items"]]
        if body["has_more"]:
            found += ids(path, **{**params, "page": params.get("page", 1) + 1})
        return found

    def expected(questions: list[dict[str, Any]], field: str, descending: bool) -> list[int]:
        ordered = sorted(questions, key=lambda q: (q[field], q["creation_date"]), reverse=descending)
        return [q["question_id"] for q in ordered]

    for order in ("desc", "asc"):
        descending = order == "desc"
        assert ids(f"{SE}/questions", sort="votes", order=order) == expected(QUESTIONS, "score", descending)
        # min/max bound the sort field; fromdate bounds the creation date of what is left.
        kept = [q for q in QUESTIONS if 3 <= q["score"] <= 5 and q["creation_date"] >= 200]
        assert ids(f"{SE}/questions", sort="votes", order=order, min=3, max=5, fromdate=200) == expected(
            kept, "score", descending
        )
        kept = [q for q in QUESTIONS if q["creation_date"] >= 150]
        assert ids(f"{SE}/questions", sort="creation", order=order, fromdate=150, tagged="Mattermost") == (
            expected(kept, "creation_date", descending)
        )
        by_ids = ids(f"{SE}/questions/5;3;2", sort="votes", order=order)
        assert by_ids == expected([QUESTIONS[1], QUESTIONS[2], QUESTIONS[4]], "score", descending)


def test_jira_time_bounds_and_order(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FILES))

    def keys(jql: str) -> list[str]:
        body = get(sandbox, JIRA, params={"jql": jql, "fields": "updated"}, auth=JIRA_AUTH)
        return [issue["key"] for issue in body["issues"]]

    assert keys('project = MM AND updated >= "2026-11-10" ORDER BY updated DESC') == [
        "MM-5",
        "MM-3",
        "MM-4",  # ties on updated keep the default order: newest key first
        "MM-1",
    ]
    assert keys('project = MM AND updated = "2026-11-10 10:00" ORDER BY key') == ["MM-1", "MM-4"]
    # MM-2 is written without "updated": served with its "created" (2026-01-01), as Jira has both.
    assert keys('project = MM AND updated != "2026-11-10 10:00"') == ["MM-5", "MM-3", "MM-2"]
    assert keys("project = MM AND updated > 2026-11-11 AND updated < 2026-11-13") == ["MM-3"]
    assert keys("project = MM ORDER BY updated ASC") == ["MM-2", "MM-4", "MM-1", "MM-3", "MM-5"]


def test_writes_never_change_the_scenario_and_a_restart_starts_afresh(
    write_scenario: Callable[..., Path],
) -> None:
    scenario = load_scenario(write_scenario(FILES))
    loaded = pickle.dumps(scenario.data)

    for _ in range(2):
        with Sandbox(scenario) as sandbox:
            issue = get(sandbox, f"{GH}/issues/2")
            assert issue["pull_request"]["url"] == f"{sandbox.base_url}/api/v3/repos/o/r/pulls/2"
            assert issue["pull_request"]["html_url"] == "https://github.com/o/r/pull/2"
            assert get(sandbox, f"{GH}/issues/2")["comments"] == 0
            post(sandbox, f"{GH}/issues/2/comments", {"body": "hi"}, headers={"Authorization": "token t"})
            post(sandbox, f"{GL}/issues/1/notes", {"body": "hi"}, headers={"PRIVATE-TOKEN": "t"})
            update = {"status_update": {"links": {"suggestion": 101, "status": 15}}}
            post(sandbox, f"{UV}/status_updates", update, headers=UV_AUTH)
        assert pickle.dumps(scenario.data) == loaded


def test_rewrite_urls_copies_only_what_it_rewrites() -> None:
    user = {"login": "someone"}
    label = {"name": "bug", "url": "https://api.github.com/labels/bug"}
    item = {"url": "https://api.github.com/x", "user": user, "labels": [label], "n": 1}

    rewritten = rewrite_urls(item, "https://api.github.com", "http://sandbox/api")

    assert rewritten == {
        "url": "http://sandbox/api/x",
        "user": {"login": "someone"},
        "labels": [{"name": "bug", "url": "http://sandbox/api/labels/bug"}],
        "n": 1,
    }
    assert rewritten["user"] is user  # nothing to rewrite: shared
    assert label["url"] == "https://api.github.com/labels/bug"  # the original is untouched
    plain = {"user": user}
    assert rewrite_urls(plain, "https://api.github.com", "x") is not plain  # the top level is always new
