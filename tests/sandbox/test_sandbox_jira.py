"""Airflow's HttpHook, unchanged, against the sandbox's Jira Cloud emulation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.http.hooks.http import HttpHook

from community_sandbox import Sandbox
from community_sandbox.loading import ScenarioError

DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
SEARCH = "/rest/api/3/search/jql"


def jira_issue(
    number: int,
    updated: str,
    *,
    project: str = "MM",
    resolution: str | None = None,
    versions: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
    status: str = "Open",
) -> dict[str, Any]:
    key = f"{project}-{number}"
    return {
        "id": str(10_000 + number),
        "key": key,
        "self": f"https://example.atlassian.net/rest/api/3/issue/{10_000 + number}",
        "fields": {
            "summary": f"Ticket {number}",
            "project": {"id": "100", "key": project, "name": project},
            "status": {"name": status, "id": "1", "statusCategory": {"key": "new", "name": "To Do", "id": 2}},
            "resolution": {"id": "1", "name": resolution} if resolution else None,
            "fixVersions": [{"id": f"9{index}", "name": name} for index, name in enumerate(versions)],
            "labels": list(labels),
            "created": "2026-09-01T10:00:00.000+0000",
            "updated": updated,
        },
    }


ISSUES = [
    jira_issue(1, "2026-09-20T10:00:00.000+0000", resolution="Done", versions=("v11.0",), status="Done"),
    jira_issue(2, "2026-10-01T00:00:00.000+0000", resolution="Done", versions=("11.1",), status="Done"),
    jira_issue(3, "2026-10-05T12:00:00.000+0000", versions=("v11.1",), labels=("Help Wanted",)),
    jira_issue(4, "2026-10-20T08:30:00.000+0000", resolution="Won't Do", labels=("SAML",)),
    jira_issue(5, "2026-11-02T09:00:00.000+0000", labels=("Help Wanted", "Difficulty/1:Easy")),
    jira_issue(6, "2026-11-15T16:00:00.000+0000", resolution="Fixed", versions=("11.1", "v11.1")),
    jira_issue(7, "2026-11-16T10:00:00.000+0000", project="OTHER"),
]
REMOTE_LINKS = {
    "MM-3": [
        {
            "id": 501,
            "relationship": "mentioned in",
            "object": {"url": "https://example.uservoice.com/forums/1/suggestions/777-x", "title": "UV"},
        }
    ]
}


def connect(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {
        "conn_type": "http",
        "host": f"{sandbox.base_url}/jira",
        "login": "me@example.com",
        "password": "api-token",
    }
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_TEST", json.dumps(conn))


@pytest.fixture
def sandbox(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> Sandbox:
    started = start_sandbox(
        write_scenario({"jira/issues.json": ISSUES, "jira/remotelinks.json": REMOTE_LINKS})
    )
    connect(started, monkeypatch)
    return started


def call(endpoint: str, data: dict[str, Any] | None = None, method: str = "GET") -> requests.Response:
    hook = HttpHook(method=method, http_conn_id="jira_test")
    return hook.run(endpoint, data=data, extra_options={"check_response": False})


def search(jql: str, **params: Any) -> dict[str, Any]:
    response = call(SEARCH, {"jql": jql, "fields": "key,updated", **params})
    assert response.status_code == 200, response.text
    return response.json()


def keys(jql: str) -> list[str]:
    return [issue["key"] for issue in search(jql, maxResults=100)["issues"]]


def test_next_page_token_paging(sandbox: Sandbox) -> None:
    jql = "project = MM ORDER BY updated DESC"
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"maxResults": 2}
        if token:
            params["nextPageToken"] = token
        page = search(jql, **params)
        pages.append(page)
        if page["isLast"]:
            break
        token = page["nextPageToken"]

    assert [[i["key"] for i in page["issues"]] for page in pages] == [
        ["MM-6", "MM-5"],
        ["MM-4", "MM-3"],
        ["MM-2", "MM-1"],
    ]
    assert [page["isLast"] for page in pages] == [False, False, True]
    assert "nextPageToken" not in pages[-1]  # absent, not null, on the last page (as on Cloud)
    assert len(sandbox.requests_log) == 3


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("project = MM", ["MM-6", "MM-5", "MM-4", "MM-3", "MM-2", "MM-1"]),
        ("key in (MM-2, mm-5, MM-99) ORDER BY key ASC", ["MM-2", "MM-5"]),
        (
            'project = MM AND updated >= "2026-10-01 00:00" ORDER BY updated ASC',
            ["MM-2", "MM-3", "MM-4", "MM-5", "MM-6"],
        ),
        ('updated > "2026/10/01" AND updated < "2026-11-02 09:00" ORDER BY updated', ["MM-3", "MM-4"]),
        ("project = MM AND resolution is EMPTY ORDER BY key", ["MM-3", "MM-5"]),
        ("project = MM AND resolution is not EMPTY ORDER BY key", ["MM-1", "MM-2", "MM-4", "MM-6"]),
        ("project = MM AND resolution = Unresolved ORDER BY key", ["MM-3", "MM-5"]),
        ('project = MM AND fixVersion = "11.1" ORDER BY key', ["MM-2", "MM-6"]),
        ('fixVersion in ("11.1", "v11.1") AND resolution is not EMPTY ORDER BY key', ["MM-2", "MM-6"]),
        ("fixVersion != 11.1 ORDER BY key", ["MM-1", "MM-3"]),  # empty fields never match !=
        ('labels = "Help Wanted" ORDER BY key DESC', ["MM-5", "MM-3"]),
        ("labels = SAML AND project = MM", ["MM-4"]),
        ("labels is EMPTY and project = MM ORDER BY key", ["MM-1", "MM-2", "MM-6"]),
        ('status = "Done" AND resolution != "Done" ORDER BY key', []),
        ("project = OTHER", ["OTHER-7"]),
    ],
)
def test_jql_filters(sandbox: Sandbox, jql: str, expected: list[str]) -> None:
    assert keys(jql) == expected


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("project = MM OR labels = SAML", "OR"),
        ("assignee = currentUser()", "assignee"),
        ("updated >= startOfDay()", "startOfDay"),
        ("foo = bar", "Field 'foo' does not exist"),
        ("ORDER BY updated DESC", "Unbounded JQL"),
        ("", "Unbounded JQL"),
        ('updated >= "yesterday"', "Date value 'yesterday' is invalid"),
        ("project = MM AND", "Expecting a field name"),
        ("labels > x", "operator '>'"),
    ],
)
def test_unsupported_jql_is_a_400(sandbox: Sandbox, jql: str, fragment: str) -> None:
    response = call(SEARCH, {"jql": jql})

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {}
    assert fragment in body["errorMessages"][0]


def test_fields_limit_what_search_returns(sandbox: Sandbox) -> None:
    default = call(SEARCH, {"jql": "key = MM-6"}).json()["issues"][0]
    some = call(SEARCH, {"jql": "key = MM-6", "fields": "status,fixVersions,labels"}).json()["issues"][0]
    everything = call(SEARCH, {"jql": "key = MM-6", "fields": "*all,-summary"}).json()["issues"][0]

    assert default == {"id": "10006"}  # Cloud's enhanced search returns ids unless asked for fields
    assert some["key"] == "MM-6"
    assert set(some["fields"]) == {"status", "fixVersions", "labels"}
    assert "summary" not in everything["fields"]
    assert {"updated", "resolution", "project"} <= set(everything["fields"])


def test_issue_and_remote_links(sandbox: Sandbox) -> None:
    issue = call("/rest/api/3/issue/MM-3").json()
    by_id = call("/rest/api/3/issue/10003", {"fields": "summary"}).json()
    links = call("/rest/api/3/issue/MM-3/remotelink").json()
    none = call("/rest/api/3/issue/MM-5/remotelink").json()
    missing = call("/rest/api/3/issue/MM-404/remotelink")

    assert issue["fields"]["summary"] == "Ticket 3"
    assert issue["self"] == "https://example.atlassian.net/rest/api/3/issue/10003"  # as written
    assert by_id["key"] == "MM-3"
    assert set(by_id["fields"]) == {"summary"}
    assert [link["object"]["url"] for link in links] == [
        "https://example.uservoice.com/forums/1/suggestions/777-x"
    ]
    assert none == []
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [("GET", "/rest/api/2/search"), ("POST", "/rest/api/2/search"), ("GET", "/rest/api/3/search")],
)
def test_old_search_is_gone(sandbox: Sandbox, method: str, endpoint: str) -> None:
    response = call(endpoint, {"jql": "project = MM"}, method=method)

    assert response.status_code == 410
    assert response.json()["errorMessages"] == [
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
    ]
    assert sandbox.outbox == []


def test_basic_auth_required_and_token_tied_to_query(sandbox: Sandbox) -> None:
    anonymous = requests.get(f"{sandbox.base_url}/jira{SEARCH}", params={"jql": "project = MM"}, timeout=5)
    token = search("project = MM", maxResults=1)["nextPageToken"]
    reused = call(SEARCH, {"jql": "project = OTHER", "nextPageToken": token})

    assert anonymous.status_code == 401
    assert anonymous.json()["errorMessages"][0].startswith("You are not authenticated")
    assert reused.status_code == 400


def test_demo_scenario_serves_jira(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(DEMO) as sandbox:
        connect(sandbox, monkeypatch)
        closeout = search(
            'project = MM AND fixVersion in ("11.1", "v11.1") AND resolution is not EMPTY', maxResults=100
        )
        help_wanted = search(
            'project = MM AND labels = "Help Wanted" AND resolution is EMPTY', maxResults=100
        )
        recent = search(
            'project = MM AND updated >= "2026-11-10 00:00" ORDER BY updated DESC', maxResults=100
        )
        links = call("/rest/api/3/issue/MM-61501/remotelink").json()

    assert sorted(i["key"] for i in closeout["issues"]) == ["MM-61501", "MM-61502", "MM-61503", "MM-61504"]
    assert sorted(i["key"] for i in help_wanted["issues"]) == [
        "MM-61234",
        "MM-61300",
        "MM-61452",
        "MM-61507",
        "MM-61513",
    ]
    assert [i["key"] for i in recent["issues"]] == ["MM-61520", "MM-61452", "MM-61505", "MM-61513"]
    assert "uservoice.com" in links[0]["object"]["url"]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 2026-11-02 09:00 UTC is MM-5's update.
        (None, ["MM-5", "MM-6"]),  # no myself.json: UTC
        ("UTC", ["MM-5", "MM-6"]),
        ("America/Los_Angeles", ["MM-6"]),  # 09:00 there is 17:00 UTC: MM-5 is earlier
        ("Asia/Tokyo", ["MM-5", "MM-6"]),  # 09:00 there is 00:00 UTC
    ],
)
def test_a_jql_date_is_a_wall_time_of_the_api_users_zone(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
    zone: str | None,
    expected: list[str],
) -> None:
    files: dict[str, Any] = {"jira/issues.json": ISSUES}
    if zone is not None:
        files["jira/myself.json"] = {"timeZone": zone, "emailAddress": "me@example.com"}
    connect(start_sandbox(write_scenario(files)), monkeypatch)

    assert keys('project = MM AND updated >= "2026-11-02 09:00" ORDER BY key') == expected
    # Epoch milliseconds and relative dates are instants: no zone applies.
    assert keys("project = MM AND updated >= 1793610000000 ORDER BY key") == ["MM-5", "MM-6"]
    myself = call("/rest/api/3/myself").json()
    assert myself["timeZone"] == (zone or "UTC")


def test_a_bad_time_zone_is_named(write_scenario: Callable[..., Path]) -> None:
    from community_sandbox.jira import load_jira
    from community_sandbox.scenario import ScenarioError

    root = write_scenario({"jira/issues.json": ISSUES, "jira/myself.json": {"timeZone": "Mars/Olympus"}})
    with pytest.raises(
        ScenarioError, match=r"jira/myself\.json: \"timeZone\" is not an IANA time zone: 'Mars/Olympus'"
    ):
        load_jira(root)


def test_a_hand_trimmed_issue_gets_the_project_and_times_every_jira_issue_has(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Written without fields.project, created or updated (a search asked for other fields): the
    # product's "project = MM AND updated >= ..." must still find them, as on Jira.
    trimmed = [
        {"id": 1, "key": "MM-1", "fields": {"summary": "No dates", "status": {"name": "Open"}}},
        {
            "id": "2",
            "key": "MM-2",
            "fields": {"summary": "Updated only", "updated": "2026-11-10T08:00:00.000+0000"},
        },
        {"id": "3", "key": "OPS-3", "fields": {"summary": "Other project"}},
    ]
    started = start_sandbox(write_scenario({"jira/issues.json": trimmed}))
    connect(started, monkeypatch)

    assert keys('project = MM AND updated >= "2026-11-01"') == ["MM-2", "MM-1"]
    assert keys('project = MM AND updated >= "2026-11-15"') == ["MM-1"]  # dated at T
    found = {
        i["key"]: i["fields"] for i in search("project = MM", fields="project,created,updated")["issues"]
    }
    assert found["MM-1"]["project"]["key"] == "MM"
    assert found["MM-1"]["created"] == found["MM-1"]["updated"] == "2026-11-17T10:00:00.000+0000"
    assert found["MM-2"]["created"] == "2026-11-10T08:00:00.000+0000"
    # A ticket without labels, fixVersions or a resolution: Jira answers them empty, not left out.
    sparse = {
        i["key"]: i["fields"]
        for i in search("project = MM", fields="labels,fixVersions,resolution")["issues"]
    }
    assert sparse["MM-1"] == {"labels": [], "fixVersions": [], "resolution": None}


def test_a_fix_version_carries_released_and_archived_as_on_jira(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Jira sends ``released`` and ``archived`` on every fixVersion, ``releaseDate`` only when set: a
    hand-trimmed version object gets the two flags false, one written in full is served as written."""
    desktop = {
        "id": "20",
        "name": "Desktop v5.10",
        "archived": True,
        "released": True,
        "releaseDate": "2026-11-02",
    }
    issue = jira_issue(1, "2026-11-17T10:00:00.000+0000", versions=("v11.3",))
    issue["fields"]["fixVersions"].append(desktop)
    started = start_sandbox(write_scenario({"jira/issues.json": [issue]}))
    connect(started, monkeypatch)

    [found] = search("project = MM", fields="fixVersions")["issues"]
    assert found["fields"]["fixVersions"] == [
        {"id": "90", "name": "v11.3", "archived": False, "released": False},
        desktop,
    ]


def test_a_ticket_written_with_null_labels_is_served_so(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = [{"id": 1, "key": "MM-1", "fields": {"summary": "x", "labels": None}}]
    started = start_sandbox(write_scenario({"jira/issues.json": broken}))
    connect(started, monkeypatch)
    [issue] = search("project = MM", fields="labels")["issues"]
    assert issue["fields"] == {"labels": None}


def test_a_single_remote_link_object_is_that_issues_one_link(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Copied from /remotelink/{id}, which answers one object, not the issue's array.
    link = {
        "id": 10001,
        "object": {"url": "https://mattermost.uservoice.com/forums/1/suggestions/7", "title": "UV"},
    }
    started = start_sandbox(
        write_scenario({"jira/issues.json": ISSUES, "jira/remotelinks.json": {"MM-3": link}})
    )
    connect(started, monkeypatch)

    served = call("/rest/api/3/issue/MM-3/remotelink").json()
    assert [entry["object"]["url"] for entry in served] == [link["object"]["url"]]


def test_remote_links_that_are_no_link_objects_are_refused(write_scenario: Callable[..., Path]) -> None:
    root = write_scenario({"jira/issues.json": ISSUES, "jira/remotelinks.json": {"MM-3": "https://x"}})
    with pytest.raises(
        ScenarioError, match=r"^jira/remotelinks.json: MM-3 must map to an array of remote-link"
    ):
        Sandbox(root)
