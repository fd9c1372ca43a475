"""SPEC §8's fault kinds on every endpoint a channel reads and on every write, through the real
clients and the sandbox (SPEC §6): a fault a channel cannot absorb fails it, naming the call and the
fault, never an answer read as fewer items; one it can absorb (a rate limit, a line dropped once, a
slow answer) leaves what is read as it was. A write is made at most once across a task's tries, and
is made in the end unless it may have arrived and cannot be read back (a Mattermost post: uncertain).
No secret shows in an error or a log line.

The list pages' own cases (every channel's first page: bodies, cuts, endless pages, rate limits in
each service's form) are in test_source_answers; this file covers the rest of the matrix.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_source_answers import CHANNELS, HTML, SECRETS, scenario

from community_monitoring.errors import AmbiguousWrite, UncertainDelivery
from community_monitoring.ledger import NotificationLedger
from community_monitoring.mattermost import MattermostWebhook
from community_monitoring.sources import ItemProblem, github, gitlab
from community_monitoring.sources.http import HttpPolicy, RedirectRefusedError, UpstreamError
from community_monitoring.sources.uservoice import UserVoiceClient, UserVoiceTokenAuth
from community_sandbox import Sandbox
from scenario_files_uv_jira import uv_status

# (channel, what is read, the sandbox path it is read from, how errors name the call)
READS_MADE = [
    ("github", "comments", r"/repos/o/r/issues/comments$", "github: GET /repos/o/r/issues/comments"),
    ("gitlab", "notes", r"/issues/1/notes$", "gitlab: GET /projects/acme%2Fwidgets/issues/1/notes"),
    ("forum", "posts", r"/posts\.json$", "forum: GET /posts.json"),
    ("forum", "categories", r"/categories\.json$", "forum: GET /categories.json"),
    ("stackoverflow", "filters", r"/filters/create$", "stackoverflow: GET /2.3/filters/create"),
    ("uservoice", "token", r"/oauth/token$", r"uservoice \(uv_t\): POST /oauth/token"),
    ("uservoice", "statuses", r"/admin/statuses$", r"uservoice \(uv_t\): GET /api/v2/admin/statuses"),
    ("uservoice", "users", r"/admin/users$", r"uservoice \(uv_t\): GET /api/v2/admin/users"),
    ("uservoice", "comments", r"/admin/comments$", r"uservoice \(uv_t\): GET /api/v2/admin/comments"),
    ("uservoice", "categories", r"/admin/categories$", r"uservoice \(uv_t\): GET /api/v2/admin/categories"),
    ("jira", "remote links", r"/issue/MM-1/remotelink$", "jira: GET /rest/api/3/issue/MM-1/remotelink"),
]
# Every channel's list page, for the fault kinds test_source_answers does not put on each of them.
LISTS_MADE = [(key, "list", channel.list_path, channel.endpoint) for key, channel in CHANNELS.items()]
READS = [pytest.param(*read, id=f"{read[0]} {read[1]}") for read in READS_MADE]
LISTS = [pytest.param(*read, id=f"{read[0]} {read[1]}") for read in LISTS_MADE]

# What the channel cannot absorb: (the fault, as its error must say it). Each fault stays for every
# request, so the bounded retries run out.
UNREADABLE: dict[str, tuple[dict[str, Any], str]] = {
    "500 with the service's own error body": ({"status": 500}, "answered 500: "),
    "HTML page with 200": (
        {"kind": "body", "body": HTML, "content_type": "text/html"},
        "answered 200: Content-Type is text/html",
    ),
    "{} with 200": ({"kind": "body", "body": {}}, "answered 200: not the page the API promises"),
    "truncated JSON": (
        {"kind": "body", "body": '{"items": [{"id": 1, "ti', "content_type": "application/json"},
        "answered 200: body is not valid JSON",
    ),
    "JSON sent as text/plain": (
        {"kind": "body", "body": "[]", "content_type": "text/plain"},
        "answered 200: Content-Type is text/plain, not JSON",
    ),
    "stall past the read timeout": ({"kind": "stall", "seconds": 4}, "failed: read timeout"),
    "reset": ({"kind": "reset"}, "failed: connection reset or closed before a complete answer"),
    "redirect to a login page": (
        {"kind": "redirect", "location": "/login?return_to=%2F"},
        r"answered 302: redirected to /login on its own host: not followed \(a sign-in page",
    ),
}
# What the channel absorbs: the items read are the fault-free ones.
ABSORBED: dict[str, dict[str, Any]] = {
    "503 with Retry-After, once": {"status": 503, "retry_after": 1, "times": 1},
    "429 with Retry-After, once": {"status": 429, "retry_after": 1, "times": 1},
    "reset, once": {"kind": "reset", "times": 1},
    "stall, once": {"kind": "stall", "seconds": 4, "times": 1},
    "slow, within the read timeout": {"kind": "slow", "seconds": 0.05},
}


@pytest.fixture
def read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Callable[[str, dict[str, Any]], tuple[list[Any], list[ItemProblem], list[dict[str, Any]]]]:
    """``read(channel, fault)`` → (items, problems, the sandbox's request log), the fault on its path."""
    caplog.set_level(logging.INFO)
    # The UserVoice token is fetched once per site: a token left by another case would be taken.
    monkeypatch.setattr(UserVoiceTokenAuth, "_tokens", {})

    def run(key: str, fault: dict[str, Any]) -> tuple[list[Any], list[ItemProblem], list[dict[str, Any]]]:
        problems: list[ItemProblem] = []
        log: list[dict[str, Any]] = []
        try:
            with Sandbox(scenario(tmp_path / key, [{"service": CHANNELS[key].service, **fault}])) as sandbox:
                try:
                    return CHANNELS[key].read(sandbox, monkeypatch, problems, []), problems, log
                finally:
                    log.extend(sandbox.requests_log)
        except Exception as exc:
            exc.add_note(json.dumps(log))  # the requests made, for the test to count
            raise

    return run


def no_secret(text: str) -> None:
    shown = [name for name, secret in SECRETS.items() if secret in text]
    assert shown == [], f"the {shown} credential shows: {text[:600]}"


def faulted(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in log if entry.get("fault")]


@pytest.mark.parametrize("kind", list(UNREADABLE))
@pytest.mark.parametrize(("key", "what", "path", "endpoint"), READS + LISTS)
def test_a_fault_no_retry_mends_fails_the_channel_naming_the_call_and_the_fault(
    read: Any, caplog: pytest.LogCaptureFixture, key: str, what: str, path: str, endpoint: str, kind: str
) -> None:
    fault, said = UNREADABLE[kind]
    with pytest.raises(UpstreamError, match=rf"^{endpoint} {said}") as err:
        read(key, {"path": path, **fault})
    log = json.loads(err.value.__notes__[-1])
    # Bounded: a redirect to a login page or a refusal by status is not retried, every other fault is
    # retried up to the policy's attempts (a 500 too: it may pass), never more.
    assert 1 <= len(faulted(log)) <= 3
    if isinstance(err.value, RedirectRefusedError):
        assert len(faulted(log)) == 1
    assert len(str(err.value)) < 700
    no_secret(str(err.value) + caplog.text)


@pytest.mark.parametrize("kind", list(ABSORBED))
@pytest.mark.parametrize(("key", "what", "path", "endpoint"), READS + LISTS)
def test_a_fault_a_retry_or_a_wait_mends_leaves_what_is_read_as_it_was(
    read: Any, key: str, what: str, path: str, endpoint: str, kind: str
) -> None:
    items, problems, log = read(key, {"path": path, **ABSORBED[kind]})
    assert (len(items), problems) == (3, [])
    assert faulted(log), "the fault was injected"


# Stack Exchange reads with no credential (its app key echoed: test_stackexchange_source).
CREDENTIALED = [read for read in READS + LISTS if read.values[0] in SECRETS]


@pytest.mark.parametrize(("key", "what", "path", "endpoint"), CREDENTIALED)
def test_an_error_body_that_echoes_the_credential_never_shows_it(
    read: Any, caplog: pytest.LogCaptureFixture, key: str, what: str, path: str, endpoint: str
) -> None:
    secret = SECRETS[key]
    body = {"message": f"Bad credentials: {secret}", "errors": [f"token {secret} refused"]}
    with pytest.raises(UpstreamError, match=rf"^{endpoint} answered 500") as err:
        read(key, {"path": path, "status": 500, "body": body})
    no_secret(str(err.value) + caplog.text)


def test_a_uservoice_client_refused_its_token_names_the_connection_and_what_to_check(read: Any) -> None:
    """OAuth's invalid_client (401): the token's answer is never shown, so the error says what it means."""
    refused = {"path": r"/oauth/token$", "status": 401, "body": {"error": "invalid_client"}}
    with pytest.raises(
        UpstreamError,
        match=r"^uservoice \(uv_t\): POST /oauth/token answered 401: .*the API client was refused: "
        r"check connection 'uv_t''s login \(the client id\) and password \(its secret\)",
    ) as err:
        read("uservoice", refused)
    assert len(faulted(json.loads(err.value.__notes__[-1]))) == 1  # no retry mends it


# ----- writes -------------------------------------------------------------------------------------

WRITE_POLICY = HttpPolicy(connect_timeout=1.0, read_timeout=1.0, max_attempts=3, base_delay=0.0, max_wait=5.0)
HOOK_ID = "whfaultmatrix0hook0id0123"
WRITE_TOKEN = "glpat-faultmatrix0write0token"
UV_SECRET = "uv-faultmatrix-client-secret"
WRITE_SECRETS = (HOOK_ID, WRITE_TOKEN, UV_SECRET)
# The write, the sandbox path it goes to, and how errors name the call.
WRITES = {
    "mattermost webhook": ("mattermost", r"^/hooks/", r"mattermost \(w_t\): POST /hooks/… "),
    "github comment": ("github", r"/issues/3/comments$", "github: POST /repos/o/r/issues/3/comments "),
    "gitlab note": ("gitlab", r"/issues/3/notes$", "gitlab: POST /projects/acme%2Fwidgets/issues/3/notes "),
    "uservoice status update": (
        "uservoice",
        r"/admin/status_updates$",
        r"uservoice \(w_t\): POST /api/v2/admin/status_updates ",
    ),
}
SIGN_IN = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
# Each fault once (the upstream mends): (fault, what it is to the write).
# "taken": the first try makes it; "refused": the first try fails, provably not applied, and the next
# makes it; "in doubt": it may have been applied: read back before any resend, or (a webhook post)
# recorded as uncertain and never sent again.
WRITE_FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "503 with Retry-After": ({"status": 503, "retry_after": 1}, "taken"),
    "429 with Retry-After": ({"status": 429, "retry_after": 1}, "taken"),
    "429 asking for longer than allowed": ({"status": 429, "retry_after": 100}, "refused"),
    "redirect to a login page": ({"kind": "redirect", "location": "/login?return_to=%2F"}, "refused"),
    "500 with the service's own error body, not applied": ({"status": 500}, "in doubt"),
    "502 HTML page after it was applied": ({"status": 502, "applied": True, "body": SIGN_IN}, "in doubt"),
    "HTML page with 200": ({"kind": "body", "body": SIGN_IN, "content_type": "text/html"}, "in doubt"),
    "{} with 200": ({"kind": "body", "body": {}}, "in doubt"),
    "truncated JSON": (
        {"kind": "body", "body": '{"id": 1, "bo', "content_type": "application/json"},
        "in doubt",
    ),
    "stall past the read timeout": ({"kind": "stall", "seconds": 3}, "in doubt"),
    "reset after it was applied": ({"kind": "reset"}, "in doubt"),
    "cut after it was applied": ({"kind": "cut"}, "in doubt"),
    "slow": ({"kind": "slow", "seconds": 0.05}, "taken"),
}


def write_scenario_for(root: Path, faults: list[dict[str, Any]]) -> Path:
    """The six channels' scenario (issue 3 in both trackers), and UserVoice's status to move to."""
    scenario(root, faults)
    statuses = root / "uservoice" / "statuses.json"
    statuses.write_text(json.dumps([*json.loads(statuses.read_text()), uv_status(8, "Completed")]))
    return root


Writer = tuple[Callable[[str], Any], Callable[[str], bool] | None]


def connection(monkeypatch: pytest.MonkeyPatch, host: str, conn_type: str = "http", **fields: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_W_T", json.dumps({"conn_type": conn_type, "host": host, **fields}))


def webhook_post(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, marker: str) -> Writer:
    connection(monkeypatch, sandbox.base_url, password=HOOK_ID)
    return MattermostWebhook("w_t", http=WRITE_POLICY, sleep=lambda _: None).post, None  # no read-back


def reply_comment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, marker: str) -> Writer:
    connection(monkeypatch, f"{sandbox.base_url}/api/v3", "github", password=WRITE_TOKEN)
    send, has = github.reply_sender("w_t", WRITE_POLICY), github.reply_reader("w_t", WRITE_POLICY)
    return (lambda text: send("o/r", 3, text)), (lambda _: has("o/r", 3, marker))


def reply_note(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, marker: str) -> Writer:
    connection(monkeypatch, f"{sandbox.base_url}/gitlab/", password=WRITE_TOKEN)
    send, has = gitlab.reply_sender("w_t", WRITE_POLICY), gitlab.reply_reader("w_t", WRITE_POLICY)
    return (lambda text: send("acme/widgets", 3, text)), (lambda _: has("acme/widgets", 3, marker))


def status_update(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, marker: str) -> Writer:
    connection(monkeypatch, f"{sandbox.base_url}/uservoice", login="pm-client", password=UV_SECRET)
    client = UserVoiceClient.from_connection("w_t", http=WRITE_POLICY, sleep=lambda _: None)
    return (
        lambda _: client.post_status_update(50_001, 8, "Completed", notify=False),
        lambda _: client.current_status(50_001) == 8,  # as the daily DAG reads it back
    )


WRITERS: dict[str, Callable[[Sandbox, pytest.MonkeyPatch, str], Writer]] = {
    "mattermost": webhook_post,
    "github": reply_comment,
    "gitlab": reply_note,
    "uservoice": status_update,
}


@pytest.fixture
def delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, dict[str, Any]], tuple[Sandbox, Callable[[], Any]]]]:
    """``delivery(write, fault, *more faults)`` → (the sandbox, one try of the write through the
    ledger, as ``owner``: a task of a run)."""
    monkeypatch.setattr(UserVoiceTokenAuth, "_tokens", {})
    started: list[Sandbox] = []

    def start(write: str, fault: dict[str, Any], *more: dict[str, Any]) -> tuple[Sandbox, Callable[..., Any]]:
        service, path, _ = WRITES[write]
        once = {"service": service, "method": "POST", "path": path, "times": 1, **fault}
        running = Sandbox(write_scenario_for(tmp_path / "s", [once, *more])).start()
        started.append(running)
        key = f"fault-matrix:{service}"
        marker = f"<!-- community-monitoring:{key} -->"
        send, read_back = WRITERS[service](running, monkeypatch, marker)
        ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")
        text = f"Thanks for the report!\n\n{marker}"
        return running, lambda owner="": ledger.deliver_once(
            key, "fault_matrix", service, [text], send, owner=owner, read_back=read_back
        )

    yield start
    for running in started:
        running.stop()


@pytest.mark.parametrize("fault", list(WRITE_FAULTS))
@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_under_a_fault_is_made_once_or_named_as_in_doubt(
    delivery: Any, caplog: pytest.LogCaptureFixture, write: str, fault: str
) -> None:
    caplog.set_level(logging.INFO)
    service, _, endpoint = WRITES[write]
    given, outcome = WRITE_FAULTS[fault]
    running, deliver = delivery(write, given)
    tries: list[Any] = []
    for _ in range(3):  # the task's try, then its retry and a rerun
        try:
            tries.append(deliver().status)
        except Exception as exc:
            tries.append(exc)
    made = [e for e in running.outbox if e["method"] == "POST" and e["service"] == service]
    sent = [
        r for r in running.requests_log if r["method"] == "POST" and not r["path"].endswith("/oauth/token")
    ]
    errors = [t for t in tries if isinstance(t, Exception)]
    shown = "\n".join(str(e) for e in errors) + caplog.text
    assert [s for s in WRITE_SECRETS if s in shown] == [], shown[:600]
    assert len(made) <= 1, "made twice"
    for error in errors:
        assert re.search(endpoint, str(error)), str(error)
    if outcome == "taken":
        assert tries == ["sent", "already_sent", "already_sent"]
        assert len(made) == 1
    elif outcome == "refused":
        assert isinstance(tries[0], UpstreamError)
        assert not isinstance(tries[0], AmbiguousWrite)
        assert tries[1:] == ["resumed", "already_sent"]
        assert len(made) == 1
    elif service == "mattermost":
        # It cannot be read back: every try says it may or may not have arrived, none sends it again.
        assert all(isinstance(t, UncertainDelivery) for t in tries), tries
        assert len(sent) == 1
    else:
        # Read back before any resend: made once, whether the fault came before or after applying it.
        assert tries[-1] == "already_sent", tries
        assert len(made) == 1


# Where each write that can be read back is looked up.
READ_BACK = {
    "github comment": r"/issues/3/comments$",
    "gitlab note": r"/issues/3/notes$",
    "uservoice status update": r"/admin/suggestions/50001$",
}


@pytest.mark.parametrize("lookup", [{"status": 500}, {"kind": "reset"}], ids=["500", "reset"])
@pytest.mark.parametrize("write", list(READ_BACK))
def test_a_write_whose_answer_was_lost_and_whose_lookup_failed_is_looked_up_by_the_next_run(
    delivery: Any, write: str, lookup: dict[str, Any]
) -> None:
    """The write landed, its answer was lost, and looking it up failed on every attempt: the run is
    red. The next run (a closeout triggered again) looks it up and does not make it again; it met
    "being sent by another worker" until the ledger's takeover timeout."""
    service = WRITES[write][0]
    failing = {"service": service, "method": "GET", "path": READ_BACK[write], "times": 3, **lookup}
    running, deliver = delivery(write, {"kind": "reset"}, failing)
    with pytest.raises(UpstreamError, match=r"answered 500|connection reset"):
        deliver(owner="closeout/run-1/post_thank_yous")
    assert deliver(owner="closeout/run-2/post_thank_yous").status == "resumed"
    assert len([e for e in running.outbox if e["method"] == "POST" and e["service"] == service]) == 1
