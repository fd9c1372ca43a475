"""Scenario faults of every kind, seen by plain HTTP clients; and their validation errors."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from community_sandbox import Sandbox, ScenarioError, load_scenario

Writer = Callable[..., Path]
Starter = Callable[[Path], Sandbox]
ISSUE = {"number": 1, "title": "Crash", "created_at": "2026-11-16T00:00:00Z", "user": {"login": "ana"}}
REPO = {"github/o/r/issues.json": [ISSUE]}
FORUM_AUTH = {"Api-Key": "k", "Api-Username": "system"}
COMMENTS = "/api/v3/repos/o/r/issues/1/comments"


def log_of(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.requests_log if entry["path"] == path]


# ----- status and body ----------------------------------------------------------------------


def test_status_kind_is_the_default_and_can_be_named(write_scenario: Writer, start_sandbox: Starter) -> None:
    faults = [
        {"service": "github", "path": "/issues$", "status": 502, "times": 1},
        {"service": "github", "path": "/releases$", "kind": "status", "status": 429, "retry_after": 3},
    ]
    sandbox = start_sandbox(write_scenario(REPO, faults=faults))
    api = f"{sandbox.base_url}/api/v3/repos/o/r"

    issues = [requests.get(f"{api}/issues", timeout=5) for _ in range(2)]
    releases = requests.get(f"{api}/releases", timeout=5)

    assert [r.status_code for r in issues] == [502, 200]
    assert issues[0].json()["message"] == "Bad Gateway"  # GitHub's own error body
    assert (releases.status_code, releases.headers["Retry-After"]) == (429, "3")
    assert [entry["fault"] for entry in log_of(sandbox, "/api/v3/repos/o/r/issues")] == ["status", None]


def test_body_kind_sends_raw_text_with_its_content_type(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    faults = [
        {
            "service": "discourse",
            "path": "/latest",
            "kind": "body",
            "body": page,
            "content_type": "text/html",
        },
        {
            "service": "github",
            "path": "/issues$",
            "kind": "body",
            "body": '[{"number": 1, "title": "Cra',
            "content_type": "application/json; charset=utf-8",
            "times": 1,
        },
        {"service": "stackexchange", "path": "/questions$", "kind": "body", "body": {}, "status": 503},
    ]
    sandbox = start_sandbox(write_scenario(REPO, faults=faults))
    base = sandbox.base_url

    forum = urllib.request.urlopen(
        urllib.request.Request(f"{base}/discourse/latest.json", headers=FORUM_AUTH), timeout=5
    )
    truncated = requests.get(f"{base}/api/v3/repos/o/r/issues", timeout=5)
    then = requests.get(f"{base}/api/v3/repos/o/r/issues", timeout=5)
    with pytest.raises(urllib.error.HTTPError) as empty:
        urllib.request.urlopen(f"{base}/stackexchange/2.3/questions?site=stackoverflow", timeout=5)

    assert (forum.status, forum.headers["Content-Type"], forum.read().decode()) == (200, "text/html", page)
    assert truncated.status_code == 200
    assert truncated.text == '[{"number": 1, "title": "Cra'
    with pytest.raises(requests.JSONDecodeError):
        truncated.json()
    assert [issue["number"] for issue in then.json()] == [1]  # times: 1
    # Raw bytes: not gzipped, although Stack Exchange compresses every real answer.
    assert empty.value.code == 503
    assert empty.value.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Content-Encoding" not in empty.value.headers
    assert empty.value.read() == b"{}"


def test_body_or_status_fault_on_a_write_is_not_in_the_outbox(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    faults = [
        {"service": "mattermost", "path": "/hooks/h", "kind": "body", "body": "<html>ok?</html>", "times": 1}
    ]
    sandbox = start_sandbox(write_scenario(faults=faults))

    first = requests.post(f"{sandbox.base_url}/hooks/h", json={"text": "one"}, timeout=5)
    second = requests.post(f"{sandbox.base_url}/hooks/h", json={"text": "two"}, timeout=5)

    assert (first.status_code, first.text, second.text) == (200, "<html>ok?</html>", "ok")
    # The outbox holds what the upstream applied: the faulted post never reached the handler.
    assert [entry["body"] for entry in sandbox.outbox] == [{"text": "two"}]


# ----- stall, reset, slow -------------------------------------------------------------------


def test_stall_answers_nothing_so_the_client_times_out(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    fault = {"service": "github", "path": "/issues$", "kind": "stall", "seconds": 3, "times": 1}
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))
    url = f"{sandbox.base_url}/api/v3/repos/o/r/issues"

    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.get(url, timeout=(5, 0.5))
    waited = time.monotonic() - started
    after = requests.get(url, timeout=5)

    assert 0.5 <= waited < 2
    assert after.status_code == 200  # times: 1
    stalled = log_of(sandbox, "/api/v3/repos/o/r/issues")[0]
    assert (stalled["status"], stalled["fault"]) == (None, "stall")


def test_stall_then_closes_without_a_response(write_scenario: Writer, start_sandbox: Starter) -> None:
    fault = {"service": "mattermost", "path": "/hooks/h", "kind": "stall", "seconds": 0.5}
    sandbox = start_sandbox(write_scenario(faults=[fault]))
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)

    started = time.monotonic()
    connection.request(
        "POST", "/hooks/h", body=json.dumps({"text": "x"}), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(http.client.RemoteDisconnected):
        connection.getresponse()

    assert 0.5 <= time.monotonic() - started < 3
    assert sandbox.outbox == []  # a stall applies nothing


def test_stopping_the_sandbox_ends_a_stall(write_scenario: Writer) -> None:
    fault = {"service": "github", "path": "/issues$", "kind": "stall", "seconds": 60}
    sandbox = Sandbox(write_scenario(REPO, faults=[fault])).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(f"{sandbox.base_url}/api/v3/repos/o/r/issues", timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not sandbox.requests_log:
        time.sleep(0.01)
    started = time.monotonic()
    sandbox.stop()
    caller.join(timeout=10)

    assert not caller.is_alive()
    assert time.monotonic() - started < 5
    assert len(errors) == 1
    assert isinstance(errors[0], requests.ConnectionError)


def test_reset_of_a_read_drops_the_connection(write_scenario: Writer, start_sandbox: Starter) -> None:
    fault = {"service": "github", "path": "/issues$", "kind": "reset", "times": 2}
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))
    url = f"{sandbox.base_url}/api/v3/repos/o/r/issues"

    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    with pytest.raises(ConnectionResetError):  # a TCP reset, not a clean close
        urllib.request.urlopen(url, timeout=5)
    fine = requests.get(url, timeout=5)

    assert fine.status_code == 200
    assert [(e["status"], e["fault"]) for e in log_of(sandbox, "/api/v3/repos/o/r/issues")] == [
        (None, "reset"),
        (None, "reset"),
        (200, None),
    ]


def test_reset_after_a_write_applies_and_records_it(write_scenario: Writer, start_sandbox: Starter) -> None:
    faults = [
        {"service": "github", "method": "POST", "path": "/comments$", "kind": "reset", "times": 1},
        {"service": "mattermost", "path": "/hooks/", "kind": "reset", "times": 1},
    ]
    sandbox = start_sandbox(write_scenario(REPO, faults=faults))
    base = sandbox.base_url
    token = {"Authorization": "token t"}

    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}{COMMENTS}", json={"body": "We are on it"}, headers=token, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/hooks/h", json={"text": "posted"}, timeout=5)
    comments = requests.get(f"{base}{COMMENTS}", timeout=5).json()

    # The upstream accepted both before dropping the line: the state and the outbox have them.
    assert [comment["body"] for comment in comments] == ["We are on it"]
    assert [
        (entry["service"], entry["method"], entry["path"], entry["body"]) for entry in sandbox.outbox
    ] == [
        ("github", "POST", COMMENTS, {"body": "We are on it"}),
        ("mattermost", "POST", "/hooks/h", {"text": "posted"}),
    ]
    assert set(sandbox.outbox[0]) == {"service", "method", "path", "body", "received_at"}
    assert log_of(sandbox, COMMENTS)[0]["status"] is None


def test_reset_of_a_rejected_write_records_nothing(write_scenario: Writer, start_sandbox: Starter) -> None:
    fault = {"service": "github", "method": "POST", "path": "/comments$", "kind": "reset"}
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))

    with pytest.raises(requests.ConnectionError):  # no token: the upstream would answer 401
        requests.post(f"{sandbox.base_url}{COMMENTS}", json={"body": "x"}, timeout=5)

    assert sandbox.outbox == []


def test_cut_sends_part_of_the_answer_then_closes(write_scenario: Writer, start_sandbox: Starter) -> None:
    faults = [
        {"service": "github", "method": "GET", "path": "/issues$", "kind": "cut", "bytes": 10, "times": 1},
        {"service": "github", "method": "GET", "path": "/issues$", "kind": "cut", "times": 1},
        # More bytes than the body has: all but its last byte, still a cut.
        {"service": "github", "method": "GET", "path": "/issues$", "kind": "cut", "bytes": 10**9, "times": 1},
        {"service": "github", "method": "POST", "path": "/comments$", "kind": "cut", "times": 1},
    ]
    sandbox = start_sandbox(write_scenario(REPO, faults=faults))
    url = f"{sandbox.base_url}/api/v3/repos/o/r/issues"
    token = {"Authorization": "token t"}

    for _ in range(3):  # ten bytes, half of the body, all but a byte: each short of its Content-Length
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            requests.get(url, timeout=5)
    assert requests.get(url, timeout=5).json()[0]["number"] == 1
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(f"{sandbox.base_url}{COMMENTS}", json={"body": "Thanks"}, headers=token, timeout=5)

    assert [(e["status"], e["fault"]) for e in log_of(sandbox, "/api/v3/repos/o/r/issues")] == [
        (200, "cut"),
        (200, "cut"),
        (200, "cut"),
        (200, None),
    ]
    # The upstream took the write; only its answer was cut.
    assert [(e["service"], e["path"], e["body"]) for e in sandbox.outbox] == [
        ("github", COMMENTS, {"body": "Thanks"})
    ]


def test_slow_answers_normally_after_the_delay(write_scenario: Writer, start_sandbox: Starter) -> None:
    fault = {"service": "github", "path": "/issues$", "kind": "slow", "seconds": 0.6, "times": 2}
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))
    url = f"{sandbox.base_url}/api/v3/repos/o/r/issues"

    started = time.monotonic()
    slow = requests.get(url, timeout=5)
    waited = time.monotonic() - started
    with pytest.raises(requests.ReadTimeout):
        requests.get(url, timeout=(5, 0.2))
    quick_started = time.monotonic()
    quick = requests.get(url, timeout=5)

    assert waited >= 0.6
    assert [issue["number"] for issue in slow.json()] == [1]
    assert quick.status_code == 200
    assert time.monotonic() - quick_started < 0.5
    assert [e["fault"] for e in log_of(sandbox, "/api/v3/repos/o/r/issues")] == ["slow", "slow", None]


# ----- redirect -----------------------------------------------------------------------------


def test_redirect_to_another_port_shows_which_headers_follow(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    target = start_sandbox(write_scenario(name="target"))
    location = f"http://localhost:{target.port}/gitlab/api/v4/projects/grp%2Fproj/issues"
    fault = {"service": "gitlab", "path": "/issues$", "kind": "redirect", "location": location}
    origin = start_sandbox(write_scenario(faults=[fault], name="origin"))
    headers = {"PRIVATE-TOKEN": "secret", "Authorization": "Bearer secret"}

    followed = requests.get(
        f"{origin.base_url}/gitlab/api/v4/projects/grp%2Fproj/issues", headers=headers, timeout=5
    )
    held = requests.get(
        f"{origin.base_url}/gitlab/api/v4/projects/grp%2Fproj/issues",
        headers=headers,
        allow_redirects=False,
        timeout=5,
    )

    assert (held.status_code, held.headers["Location"]) == (302, location)
    assert followed.json() == []  # the target has no gitlab/ folder: an empty project
    [arrived] = target.requests_log
    # requests keeps custom headers across hosts but drops Authorization: the log shows both.
    assert arrived["headers"]["private-token"] == "secret"
    assert "authorization" not in arrived["headers"]
    assert [(e["status"], e["fault"]) for e in origin.requests_log] == [(302, "redirect"), (302, "redirect")]


def test_relative_redirect_with_another_status(write_scenario: Writer, start_sandbox: Starter) -> None:
    fault = {
        "service": "github",
        "path": "/repos/o/old$",
        "kind": "redirect",
        "status": 301,
        "location": "/api/v3/repos/o/r",
    }
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))

    moved = requests.get(f"{sandbox.base_url}/api/v3/repos/o/old", timeout=5)

    assert moved.status_code == 200
    assert moved.json()["full_name"] == "o/r"
    assert [r.status_code for r in moved.history] == [301]


def test_headers_are_set_last_over_the_services_own(write_scenario: Writer, start_sandbox: Starter) -> None:
    """GitHub's primary rate limit as GitHub answers it: 403, x-ratelimit-remaining 0 and a reset
    hours away (the sandbox's GitHub puts its own x-ratelimit-* on every answer); and a Link whose
    next page is the page itself."""
    limit = {
        "message": "API rate limit exceeded for user ID 1.",
        "documentation_url": "https://docs.github.com",
    }
    faults = [
        {
            "service": "github",
            "path": "/issues$",
            "status": 403,
            "body": limit,
            "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": 1900000000},
            "times": 1,
        },
        {
            "service": "github",
            "path": "/releases$",
            "kind": "body",
            "body": [],
            "headers": {"Link": '<http://127.0.0.1:1/api/v3/repos/o/r/releases>; rel="next"'},
        },
    ]
    sandbox = start_sandbox(write_scenario(REPO, faults=faults))
    api = f"{sandbox.base_url}/api/v3/repos/o/r"

    limited = requests.get(f"{api}/issues", timeout=5)
    releases = requests.get(f"{api}/releases", timeout=5)

    assert limited.status_code == 403
    assert (limited.headers["x-ratelimit-remaining"], limited.headers["x-ratelimit-reset"]) == (
        "0",
        "1900000000",
    )
    assert limited.json() == limit
    assert releases.headers["link"] == '<http://127.0.0.1:1/api/v3/repos/o/r/releases>; rel="next"'
    assert requests.get(f"{api}/issues", timeout=5).headers["x-ratelimit-remaining"] != "0"


# ----- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "explode"}, "faults item 1 has an unknown \"kind\": 'explode'"),
        ({"kind": ["reset"]}, "faults item 1 has an unknown \"kind\": ['reset']"),
        ({"kind": "stall"}, 'faults item 1 has no "seconds" (kind "stall" needs it)'),
        ({"kind": "slow", "seconds": -1}, 'faults item 1 has a bad "seconds": -1'),
        ({"kind": "slow", "seconds": "soon"}, 'faults item 1 has a bad "seconds"'),
        ({"kind": "redirect"}, 'faults item 1 has no "location" (kind "redirect" needs it)'),
        (
            {"kind": "redirect", "location": "/x", "status": 200},
            'faults item 1 has a bad "status": 200 (300-399)',
        ),
        ({"kind": "body"}, 'faults item 1 has no "body" (kind "body" needs it)'),
        ({"kind": "body", "body": 42}, 'faults item 1 has a bad "body": 42'),
        ({"kind": "body", "body": "", "content_type": 7}, 'faults item 1 has a bad "content_type"'),
        ({"kind": "status"}, 'faults item 1 has no "status"'),
        ({"status": 500, "seconds": 3}, 'faults item 1 has "seconds", which kind "status" does not take'),
        ({"kind": "reset", "status": 500}, 'faults item 1 has "status", which kind "reset" does not take'),
        ({"kind": "cut", "bytes": -1}, 'faults item 1 has a bad "bytes": -1'),
        ({"kind": "cut", "bytes": "half"}, "faults item 1 has a bad \"bytes\": 'half'"),
        ({"status": 500, "bytes": 3}, 'faults item 1 has "bytes", which kind "status" does not take'),
        (
            {"kind": "stall", "seconds": 1, "location": "/"},
            'has "location", which kind "stall" does not take',
        ),
        ({"status": 500, "colour": "red"}, "faults item 1 has an unknown key 'colour'"),
        ({"kind": "reset", "times": 0}, 'faults item 1 has a bad "times": 0'),
        ({"kind": "reset", "method": 5}, 'faults item 1 has a bad "method": 5'),
        ({"status": 403, "headers": "x-a: 1"}, 'faults item 1 has bad "headers"'),
        (
            {"status": 403, "headers": {"x a": "1"}},
            "faults item 1 has a bad header name in \"headers\": 'x a'",
        ),
        (
            {"status": 403, "headers": {"x-a": "1\r\nx-b: 2"}},
            "faults item 1 has a bad value for header 'x-a'",
        ),
        (
            {"kind": "stall", "seconds": 1, "headers": {"x-a": "1"}},
            'has "headers", which kind "stall" does not take',
        ),
    ],
)
def test_fault_errors_name_the_item_and_key(
    write_scenario: Writer, fault: dict[str, Any], expected: str
) -> None:
    first = {"service": "github", "path": "/", "status": 500}
    root = write_scenario(faults=[first, {"service": "github", "path": "/", **fault}])

    with pytest.raises(ScenarioError) as caught:
        load_scenario(root)

    assert str(caught.value).startswith("scenario.yaml: faults item 1 ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("named", "service"),
    [
        ("forum", "discourse"),
        ("stackoverflow", "stackexchange"),
        ("GitHub", "github"),
        (" Mattermost ", "mattermost"),
        ("discourse", "discourse"),
    ],
)
def test_a_fault_may_name_its_service_as_the_channel_or_in_any_case(
    write_scenario: Writer, named: str, service: str
) -> None:
    scenario = load_scenario(write_scenario(faults=[{"service": named, "path": "/", "status": 500}]))
    assert scenario.faults[0].service == service


def test_an_unknown_service_is_still_named(write_scenario: Writer) -> None:
    with pytest.raises(ScenarioError, match=r"faults item 0 has an unknown \"service\": 'slack'"):
        load_scenario(write_scenario(faults=[{"service": "slack", "path": "/", "status": 500}]))


def test_a_fault_item_that_is_not_a_mapping(write_scenario: Writer) -> None:
    with pytest.raises(ScenarioError, match=r"^scenario\.yaml: faults item 0 must be a mapping"):
        load_scenario(write_scenario(faults=["reset everything"]))


def test_fault_defaults(write_scenario: Writer) -> None:
    faults = [
        {"service": "github", "path": "/", "status": 500},
        {"service": "github", "path": "/", "kind": "body", "body": "x"},
        {"service": "github", "path": "/", "kind": "redirect", "location": "/y", "method": "get"},
        {"service": "github", "path": "/", "kind": "slow", "seconds": 2, "times": 3},
    ]

    loaded = load_scenario(write_scenario(faults=faults)).faults

    assert [(f.kind, f.status, f.times) for f in loaded] == [
        ("status", 500, None),
        ("body", 200, None),
        ("redirect", 302, None),
        ("slow", None, 3),
    ]
    assert loaded[2].method == "GET"
    assert loaded[3].seconds == 2.0


def test_a_status_after_a_write_applied_records_it_and_answers_the_status(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    """A gateway's 502 after the upstream processed the write: the state and the outbox have it."""
    fault = {"service": "github", "method": "POST", "path": "/comments$", "status": 502, "applied": True}
    sandbox = start_sandbox(write_scenario(REPO, faults=[fault]))
    token = {"Authorization": "token t"}

    answer = requests.post(f"{sandbox.base_url}{COMMENTS}", json={"body": "On it"}, headers=token, timeout=5)
    refused = requests.post(f"{sandbox.base_url}{COMMENTS}", json={"body": "No token"}, timeout=5)
    comments = requests.get(f"{sandbox.base_url}{COMMENTS}", timeout=5).json()

    assert (answer.status_code, refused.status_code) == (502, 502)
    assert [comment["body"] for comment in comments] == ["On it"]  # the unauthorised one was not applied
    assert [entry["body"] for entry in sandbox.outbox] == [{"body": "On it"}]


def test_applied_must_be_true_or_false(write_scenario: Writer) -> None:
    fault = {"service": "github", "path": "/", "status": 502, "applied": "yes"}
    with pytest.raises(ScenarioError, match=r'faults item 0 has a bad "applied": \'yes\''):
        load_scenario(write_scenario(faults=[fault]))


# ----- which paths a fault's regex sees -----------------------------------------------------


@pytest.mark.parametrize(
    ("service", "fault_path", "url_path", "files"),
    [
        # The upstream's own path, anchored: the sandbox's mount for that upstream is not part of it.
        ("discourse", r"^/latest\.json$", "/discourse/latest.json", {}),
        ("stackexchange", r"^/2\.3/questions$", "/stackexchange/2.3/questions?site=stackoverflow", {}),
        ("gitlab", r"^/api/v4/projects/g%2Fp/issues$", "/gitlab/api/v4/projects/g%2Fp/issues", {}),
        ("github", r"^/repos/o/r/issues$", "/api/v3/repos/o/r/issues", REPO),
        ("jira", r"^/rest/api/3/search/jql$", "/jira/rest/api/3/search/jql", {}),
        # The sandbox's own full path still matches, anchored or not.
        ("discourse", r"^/discourse/latest\.json$", "/discourse/latest.json", {}),
        ("github", r"^/api/v3/repos/o/r/issues$", "/api/v3/repos/o/r/issues", REPO),
        ("stackexchange", r"/questions$", "/stackexchange/2.3/questions?site=stackoverflow", {}),
    ],
)
def test_a_fault_path_matches_the_upstreams_own_path_or_the_sandboxs(
    write_scenario: Writer, start_sandbox: Starter, service: str, fault_path: str, url_path: str, files: Any
) -> None:
    fault = {"service": service, "path": fault_path, "status": 418, "times": 1}
    sandbox = start_sandbox(write_scenario(files, faults=[fault]))

    answer = requests.get(f"{sandbox.base_url}{url_path}", headers=FORUM_AUTH, timeout=5)

    assert answer.status_code == 418


def test_an_anchored_upstream_path_matches_no_longer_path(
    write_scenario: Writer, start_sandbox: Starter
) -> None:
    fault = {"service": "discourse", "path": r"^/posts\.json$", "status": 418}
    sandbox = start_sandbox(write_scenario({}, faults=[fault]))

    topic_posts = requests.get(f"{sandbox.base_url}/discourse/t/1/posts.json", headers=FORUM_AUTH, timeout=5)
    site_posts = requests.get(f"{sandbox.base_url}/discourse/posts.json", headers=FORUM_AUTH, timeout=5)

    assert (topic_posts.status_code != 418, site_posts.status_code) == (True, 418)
