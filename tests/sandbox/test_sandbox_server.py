"""The server itself: faults, request log, outbox, control endpoints, binding."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from community_sandbox import Sandbox, load_scenario

FORUM = {
    "discourse/topics.json": [{"id": 1, "title": "Hello", "created_at": "2026-11-16T00:00:00Z"}],
    "discourse/posts.json": [
        {"id": 7, "topic_id": 1, "post_number": 1, "username": "a", "created_at": "2026-11-16T00:00:00Z"}
    ],
}
AUTH = {"Api-Key": "k", "Api-Username": "system"}


def test_fault_times_and_retry_after(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    fault = {"service": "discourse", "path": r"/latest\.json$", "status": 429, "times": 2, "retry_after": 7}
    sandbox = start_sandbox(write_scenario(FORUM, faults=[fault]))
    url = f"{sandbox.base_url}/discourse/latest.json"

    answers = [requests.get(url, params={"page": 0}, headers=AUTH, timeout=5) for _ in range(3)]
    other = requests.get(f"{sandbox.base_url}/discourse/posts.json", headers=AUTH, timeout=5)

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json()["error_type"] == "rate_limit"
    assert answers[0].json()["extras"]["wait_seconds"] == 7
    assert other.status_code == 200
    assert [e["status"] for e in sandbox.requests_log] == [429, 429, 200, 200]


def test_fault_every_time_by_method_with_custom_body(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    faults = [
        {"service": "mattermost", "method": "post", "path": "^/hooks/broken$", "status": 503},
        {"service": "mattermost", "path": "/hooks/teapot", "status": 418, "body": {"custom": True}},
    ]
    sandbox = start_sandbox(write_scenario(faults=faults))
    hooks = f"{sandbox.base_url}/hooks"

    broken = [requests.post(f"{hooks}/broken", json={"text": "x"}, timeout=5) for _ in range(3)]
    teapot = requests.post(f"{hooks}/teapot", json={"text": "x"}, timeout=5)
    fine = requests.post(f"{hooks}/fine", json={"text": "x"}, timeout=5)

    assert [r.status_code for r in broken] == [503, 503, 503]
    assert broken[0].json()["status_code"] == 503  # Mattermost's error style
    assert "Retry-After" not in broken[0].headers
    assert teapot.status_code == 418
    assert teapot.json() == {"custom": True}
    assert fine.status_code == 200
    # Only the accepted post reached the "channel".
    assert [entry["path"] for entry in sandbox.outbox] == ["/hooks/fine"]


def test_github_fault_uses_github_error_body(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    fault = {"service": "github", "path": "/repos/", "query": "page=2", "status": 502}
    sandbox = start_sandbox(write_scenario({"github/o/r/issues.json": []}, faults=[fault]))
    api = f"{sandbox.base_url}/api/v3/repos/o/r/issues"

    page_one = requests.get(api, timeout=5)
    page_two = requests.get(api, params={"page": 2}, timeout=5)

    assert page_one.status_code == 200
    assert page_two.status_code == 502
    assert set(page_two.json()) >= {"message", "documentation_url"}
    assert "x-ratelimit-remaining" in page_two.headers


def test_request_log_and_reset(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario(FORUM))
    base = sandbox.base_url

    requests.get(f"{base}/discourse/t/1.json", headers=AUTH, timeout=5)
    requests.get(f"{base}/discourse/t/99.json", headers=AUTH, timeout=5)
    requests.get(f"{base}/nowhere", params={"a": ["1", "2"]}, timeout=5)
    logged = requests.get(f"{base}/_sandbox/requests", timeout=5).json()
    reset = requests.post(f"{base}/_sandbox/requests/reset", timeout=5)

    fields = ("service", "method", "path", "query", "status", "caller", "fault")
    assert [{key: entry[key] for key in fields} for entry in logged] == [
        {
            "service": "discourse",
            "method": "GET",
            "path": "/discourse/t/1.json",
            "query": {},
            "status": 200,
            "caller": "",
            "fault": None,
        },
        {
            "service": "discourse",
            "method": "GET",
            "path": "/discourse/t/99.json",
            "query": {},
            "status": 404,
            "caller": "",
            "fault": None,
        },
        {
            "service": "sandbox",
            "method": "GET",
            "path": "/nowhere",
            "query": {"a": ["1", "2"]},
            "status": 404,
            "caller": "",
            "fault": None,
        },
    ]
    # Every request's headers, with lower-case names, so tests can tell what a client sent where.
    assert [entry["headers"].get("api-key") for entry in logged] == ["k", "k", None]
    assert all(entry["headers"]["host"] == base.removeprefix("http://") for entry in logged)
    assert reset.status_code == 200
    assert sandbox.requests_log == []
    assert requests.get(f"{base}/_sandbox/requests", timeout=5).json() == []


def test_unknown_paths_answer_in_the_service_style(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario())
    base = sandbox.base_url

    github = requests.get(f"{base}/api/v3/nothing/here", timeout=5)
    forum = requests.get(f"{base}/discourse/nothing.json", headers=AUTH, timeout=5)
    hooks = requests.get(f"{base}/hooks/abc", timeout=5)

    assert (github.status_code, github.json()["message"]) == (404, "Not Found")
    assert (forum.status_code, forum.json()["error_type"]) == (404, "not_found")
    assert (hooks.status_code, hooks.json()["id"]) == (404, "api.context.404.app_error")


def test_concurrent_writes_are_all_recorded(
    write_scenario: Callable[..., Path], start_sandbox: Callable[[Path], Sandbox]
) -> None:
    sandbox = start_sandbox(write_scenario())

    def post(index: int) -> int:
        return requests.post(f"{sandbox.base_url}/hooks/h", json={"text": f"m{index}"}, timeout=5).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(40)))

    assert statuses == [200] * 40
    assert sorted(int(e["body"]["text"][1:]) for e in sandbox.outbox) == list(range(40))
    assert len(sandbox.requests_log) == 40


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.1"])
def test_refuses_hosts_other_than_loopback(write_scenario: Callable[..., Path], host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        Sandbox(write_scenario(), host=host)


def test_binds_loopback_and_stops(write_scenario: Callable[..., Path]) -> None:
    with Sandbox(load_scenario(write_scenario())) as sandbox:
        base = sandbox.base_url
        assert base.startswith("http://127.0.0.1:")
        assert requests.get(f"{base}/_sandbox/outbox", timeout=5).json() == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/_sandbox/outbox", timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = sandbox.base_url
