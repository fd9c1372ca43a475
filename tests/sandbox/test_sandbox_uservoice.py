"""Airflow's HttpHook, unchanged, against the sandbox's UserVoice v2 admin API emulation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.http.hooks.http import HttpHook

from community_sandbox import Sandbox
from community_sandbox.synth import is_history_id

DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
UNDER_REVIEW, PLANNED, COMPLETED = 11, 12, 15


def suggestion(sid: int, hour: int, status: int | None, category: int, user: int) -> dict[str, Any]:
    stamp = f"2026-11-16T{hour:02d}:00:00Z"
    return {
        "id": sid,
        "title": f"Suggestion {sid}",
        "created_at": stamp,
        "updated_at": stamp,
        "state": "approved",
        "closed_at": None,
        "links": {"forum": 1, "category": category, "status": status, "created_by": user},
    }


FILES = {
    "uservoice/suggestions.json": [
        suggestion(101, 1, UNDER_REVIEW, 201, 301),
        suggestion(102, 2, None, 202, 302),
        suggestion(103, 3, PLANNED, 201, 301),
        suggestion(104, 4, UNDER_REVIEW, 203, 303),
        suggestion(105, 5, PLANNED, 202, 304),
    ],
    "uservoice/statuses.json": [
        {"id": COMPLETED, "name": "Completed", "is_open": False, "position": 5},
        {"id": UNDER_REVIEW, "name": "Under Review", "is_open": True, "position": 1},
        {"id": PLANNED, "name": "Planned", "is_open": True, "position": 2},
    ],
    "uservoice/users.json": [{"id": n, "name": f"User {n}"} for n in (301, 302, 303, 304, 305)],
    "uservoice/categories.json": [{"id": n, "name": f"Category {n}"} for n in (201, 202, 203, 204)],
    "uservoice/comments.json": [
        {
            "id": 401,
            "body": "+1",
            "created_at": "2026-11-16T06:00:00Z",
            "links": {"suggestion": 103, "created_by": 305},
        },
        {
            "id": 402,
            "body": "me too",
            "created_at": "2026-11-16T07:00:00Z",
            "links": {"suggestion": 101, "created_by": 302},
        },
    ],
}


@pytest.fixture
def sandbox(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> Sandbox:
    started = start_sandbox(write_scenario(FILES))
    connect(started, monkeypatch)
    return started


def connect(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "host": f"{sandbox.base_url}/uservoice"}
    monkeypatch.setenv("AIRFLOW_CONN_UV_TEST", json.dumps(conn))


def token(client_id: str = "monitor") -> str:
    hook = HttpHook(method="POST", http_conn_id="uv_test")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s3cret"}
    answer = hook.run("/api/v2/oauth/token", data=form).json()
    assert answer["token_type"] == "bearer"
    return answer["access_token"]


def call(method: str, endpoint: str, access_token: str | None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    hook = HttpHook(method=method, http_conn_id="uv_test")
    return hook.run(endpoint, headers=headers, extra_options={"check_response": False}, **kwargs)


def test_token_then_suggestions_with_includes_and_pagination(sandbox: Sandbox) -> None:
    access = token()
    pages = [
        call(
            "GET",
            "/api/v2/admin/suggestions",
            access,
            data={"page": page, "per_page": 2, "includes": "status,category,created_by"},
        ).json()
        for page in (1, 2, 3)
    ]

    assert access == "sandbox-token-monitor"
    assert [[s["id"] for s in page["suggestions"]] for page in pages] == [[105, 104], [103, 102], [101]]
    assert pages[0]["pagination"] == {"page": 1, "per_page": 2, "total_pages": 3, "total_records": 5}
    linked = pages[0]["linked"]
    # Only what this page links to.
    assert [s["id"] for s in linked["statuses"]] == [UNDER_REVIEW, PLANNED]
    assert [c["id"] for c in linked["categories"]] == [202, 203]
    assert [u["id"] for u in linked["users"]] == [303, 304]
    plain = call("GET", "/api/v2/admin/suggestions", access).json()
    assert "linked" not in plain
    assert plain["pagination"]["per_page"] == 20


def test_other_collections_and_filters(sandbox: Sandbox) -> None:
    access = token()

    statuses = call("GET", "/api/v2/admin/statuses", access).json()["statuses"]
    comments = call("GET", "/api/v2/admin/comments", access, data={"suggestion": 103}).json()
    recent = call(
        "GET",
        "/api/v2/admin/suggestions",
        access,
        data={"updated_after": "2026-11-16T03:00:00Z", "sort": "updated_at"},
    ).json()
    one = call("GET", "/api/v2/admin/suggestions/103", access, data={"includes": "status"}).json()
    users = call("GET", "/api/v2/admin/users", access, data={"per_page": 2}).json()
    categories = call("GET", "/api/v2/admin/categories", access).json()["categories"]

    assert [s["name"] for s in statuses] == ["Under Review", "Planned", "Completed"]  # by position
    assert [c["id"] for c in comments["comments"]] == [401]
    assert [s["id"] for s in recent["suggestions"]] == [104, 105]  # strictly after, ascending
    assert one["suggestions"][0]["id"] == 103
    assert one["linked"]["statuses"][0]["name"] == "Planned"
    assert users["pagination"]["total_records"] == 5
    assert len(users["users"]) == 2
    assert len(categories) == 4


def test_status_update_is_applied_and_recorded(sandbox: Sandbox) -> None:
    access = token("closeout")
    form = {
        "status_update[body]": "Shipped in 11.1, thanks!",
        "status_update[links][suggestion]": "101",
        "status_update[links][status]": str(COMPLETED),
        "notify_supporters": "true",
    }

    created = call("POST", "/api/v2/admin/status_updates", access, data=form)
    after = call("GET", "/api/v2/admin/suggestions/101", access).json()["suggestions"][0]
    updates = call("GET", "/api/v2/admin/status_updates", access, data={"suggestion": 101}).json()

    assert created.status_code == 200
    record = created.json()["status_updates"][0]
    assert record["links"]["status"] == COMPLETED
    assert record["notify_supporters"] is True
    assert record["created_at"].startswith("2026-11-17T10:00:")  # the scenario's clock
    assert created.headers["X-Sandbox-Client-Id"] == "closeout"
    assert after["links"]["status"] == COMPLETED
    assert after["state"] == "closed"  # a closed status closes the suggestion
    assert [u["body"] for u in updates["status_updates"]] == ["Shipped in 11.1, thanks!"]
    writes = [entry for entry in sandbox.outbox if entry["path"].endswith("/status_updates")]
    assert len(writes) == 1
    assert writes[0]["service"] == "uservoice"
    assert "status_update%5Blinks%5D%5Bstatus%5D=15" in writes[0]["body"]


@pytest.mark.parametrize(
    "payload",
    [
        {"status_update": {"body": "Planned", "links": {"suggestion": 102, "status": PLANNED}}},
        {"status_updates": {"body": "Planned", "links": {"suggestion": 102, "status": PLANNED}}},
        {"body": "Planned", "links": {"suggestion": 102, "status": PLANNED}, "notify_supporters": False},
    ],
)
def test_status_update_json_shapes(sandbox: Sandbox, payload: dict[str, Any]) -> None:
    access = token()

    created = call("POST", "/api/v2/admin/status_updates", access, json=payload)
    after = call("GET", "/api/v2/admin/suggestions/102", access).json()["suggestions"][0]

    assert created.status_code == 200
    assert created.json()["status_updates"][0]["body"] == "Planned"
    assert after["links"]["status"] == PLANNED
    assert sandbox.outbox[-1]["body"] == payload


def test_invalid_status_updates_change_nothing(sandbox: Sandbox) -> None:
    access = token()
    before = len(sandbox.outbox)

    bad_status = call(
        "POST", "/api/v2/admin/status_updates", access, json={"links": {"suggestion": 101, "status": 999}}
    )
    bad_suggestion = call(
        "POST", "/api/v2/admin/status_updates", access, json={"links": {"suggestion": 999, "status": PLANNED}}
    )
    unchanged = call("GET", "/api/v2/admin/suggestions/101", access).json()["suggestions"][0]

    assert bad_status.status_code == 422
    assert "status" in bad_status.json()["errors"]
    assert bad_suggestion.status_code == 404
    assert "suggestion" in bad_suggestion.json()["errors"]
    assert unchanged["links"]["status"] == UNDER_REVIEW
    assert len(sandbox.outbox) == before


def test_auth_required(sandbox: Sandbox) -> None:
    anonymous = call("GET", "/api/v2/admin/suggestions", None)
    forged = call("GET", "/api/v2/admin/suggestions", "not-a-sandbox-token")
    no_secret = requests.post(
        f"{sandbox.base_url}/uservoice/api/v2/oauth/token", data={"client_id": "x"}, timeout=5
    )
    basic = requests.post(
        f"{sandbox.base_url}/uservoice/api/v2/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("basic-client", "s"),
        timeout=5,
    )
    write = requests.post(
        f"{sandbox.base_url}/uservoice/api/v2/admin/status_updates",
        json={"links": {"suggestion": 101, "status": PLANNED}},
        timeout=5,
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["errors"]["type"] == "unauthorized"
    assert forged.status_code == 401
    assert no_secret.status_code == 401
    assert basic.json()["access_token"] == "sandbox-token-basic-client"
    assert write.status_code == 401
    assert not [entry for entry in sandbox.outbox if entry["path"].endswith("/status_updates")]


def test_rate_limit_fault_headers(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fault = {
        "service": "uservoice",
        "path": "/admin/suggestions$",
        "status": 429,
        "times": 1,
        "retry_after": 3,
    }
    sandbox = start_sandbox(write_scenario(FILES, faults=[fault]))
    connect(sandbox, monkeypatch)
    access = token()

    limited = call("GET", "/api/v2/admin/suggestions", access)
    fine = call("GET", "/api/v2/admin/suggestions", access)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(limited.headers["X-Rate-Limit-Reset"]) > 0
    assert fine.status_code == 200
    assert int(fine.headers["X-Rate-Limit-Remaining"]) > 0


def test_demo_scenario_serves_uservoice(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(DEMO) as sandbox:
        connect(sandbox, monkeypatch)
        access = token()
        page = call(
            "GET",
            "/api/v2/admin/suggestions",
            access,
            data={"per_page": 100, "includes": "statuses,categories,users"},
        ).json()
        statuses = call("GET", "/api/v2/admin/statuses", access).json()["statuses"]
        comments = call("GET", "/api/v2/admin/comments", access, data={"per_page": 100}).json()["comments"]

    # Beyond the 20 written by hand: the triage model's history (older suggestions, no Jira link).
    assert page["pagination"]["total_records"] == len(page["suggestions"])
    assert len([s for s in page["suggestions"] if not is_history_id("suggestion", s["id"])]) == 20
    assert {s["name"] for s in statuses} >= {"Under Review", "Planned", "Started", "Completed", "Declined"}
    assert len([c for c in comments if not is_history_id("uv_comment", c["id"])]) == 9
    assert {"statuses", "categories", "users"} <= set(page["linked"])


def test_token_requests_are_not_outbox_writes(sandbox: Sandbox) -> None:
    token("monitor")
    token("sales")
    assert sandbox.outbox == []
    assert [r["path"] for r in sandbox.requests_log].count("/uservoice/api/v2/oauth/token") == 2


def test_a_suggestion_without_its_links_gets_the_urls_uservoice_always_sends(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A hand-trimmed suggestion (no portal_url, admin_url or links) is served as UserVoice would.
    given = "https://mattermost.uservoice.com/forums/306457-general/suggestions/7-kept"
    trimmed = [
        {"id": 6, "title": "Dark mode, please!", "created_at": "2026-11-16T01:00:00Z"},
        {"id": 7, "title": "Kept", "created_at": "2026-11-16T02:00:00Z", "portal_url": given},
    ]
    started = start_sandbox(write_scenario({"uservoice/suggestions.json": trimmed}))
    connect(started, monkeypatch)

    served = {s["id"]: s for s in call("GET", "/api/v2/admin/suggestions", token()).json()["suggestions"]}

    assert served[6]["portal_url"] == (
        "https://mattermost.uservoice.com/forums/306457-general/suggestions/6-dark-mode-please"
    )
    assert served[6]["admin_url"] == "https://mattermost.uservoice.com/admin/v3/suggestions/6"
    assert served[6]["links"] == {}
    assert served[7]["portal_url"] == given
