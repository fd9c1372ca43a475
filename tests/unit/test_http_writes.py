"""Writes are re-sent only when they provably were not processed; secrets stay out of errors and logs.

Against scripted servers on 127.0.0.1 (``test_http_loopback.Loopback``): the Mattermost webhook
post, a UserVoice status update (HttpHook), a GitHub comment (PyGithub) and a GitLab note
(python-gitlab). Connection refused, 429 and 503 are retried; a reset once the request was sent,
a read timeout and any other 5xx raise ``AmbiguousWriteError`` after exactly one request.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import gitlab
import pytest
from github import Auth, Github
from test_http_loopback import Loopback, Reply, Reset, Stall, closed_port, http_connection

from builders import rsa_private_key
from community_monitoring.errors import AmbiguousWrite
from community_monitoring.mattermost import MattermostWebhook
from community_monitoring.sources.github import GithubIssuesClient, github_client
from community_monitoring.sources.gitlab import GitlabIssuesClient
from community_monitoring.sources.http import (
    AmbiguousWriteError,
    HttpPolicy,
    RedirectRefusedError,
    UpstreamError,
)
from community_monitoring.sources.uservoice import UserVoiceClient, UserVoiceTokenAuth

FAST = HttpPolicy(connect_timeout=1.0, read_timeout=0.3, max_attempts=3, base_delay=0.0, max_wait=5.0)
HOOK_ID = "whsecret8k3jd93kdq8xnbc"
GITHUB_TOKEN = "ghp_writesecret0123456789"
GITLAB_TOKEN = "glpat-writesecret0123456789"

AMBIGUOUS = [
    pytest.param(Reset(), id="reset-after-sending"),
    pytest.param(Stall(30), id="read-timeout"),
    pytest.param(Reply(500, "oops"), id="500"),
    pytest.param(Reply(502, "<html>bad gateway</html>", "text/html"), id="502"),
    pytest.param(Reply(504, "gateway timeout"), id="504"),
    # A proxy's sign-in page in the service's place: it may or may not have passed the write on.
    pytest.param(
        Reply(200, "<!DOCTYPE html><html><title>Sign in</title></html>", "text/html"), id="200-html-page"
    ),
    pytest.param(Reply(200, "<html><body>Sign in</body></html>", "text/plain"), id="200-html-as-text"),
]
REFUSED_BEFORE_PROCESSING = [
    pytest.param(Reply(503, "maintenance"), 0.0, id="503"),
    pytest.param(Reply(429, "slow down", headers={"Retry-After": "1"}), 1.0, id="429"),
]


@pytest.fixture
def sleeps() -> list[float]:
    return []


# ----- Mattermost webhook -------------------------------------------------------------------------


def webhook(monkeypatch: pytest.MonkeyPatch, host: str, sleeps: list[float]) -> MattermostWebhook:
    http_connection(monkeypatch, "mm_loop", host, password=HOOK_ID)
    return MattermostWebhook("mm_loop", http=FAST, sleep=sleeps.append)


def no_hook_id(err: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    # Every log line at INFO and above (urllib3's DEBUG lines show paths; Airflow's secrets masker,
    # which is handed the id, covers those), the error and its whole traceback.
    shown = "".join(traceback.format_exception(err)) + caplog.text
    assert HOOK_ID not in shown
    assert "/hooks/…" in str(err)


@pytest.mark.parametrize("action", AMBIGUOUS)
def test_an_ambiguous_webhook_failure_is_sent_once_and_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float], action: Any
) -> None:
    caplog.set_level(logging.INFO)
    with Loopback(action) as server:
        with pytest.raises(AmbiguousWriteError, match=r"^mattermost \(mm_loop\): POST /hooks/… ") as err:
            webhook(monkeypatch, server.url, sleeps).post("[Help Wanted] hello")
        assert [r.path for r in server.received] == [f"/hooks/{HOOK_ID}"]  # exactly one request
    assert json.loads(server.received[0].body)["text"] == "[Help Wanted] hello"
    assert "not re-sent" in str(err.value)
    assert isinstance(err.value, AmbiguousWrite)  # what the ledger catches: read back or "uncertain"
    assert sleeps == []
    no_hook_id(err.value, caplog)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Reply(200, {"message": "Unauthorized", "login": "https://sso.example/"}), id="200-json"),
        pytest.param(Reply(200, ""), id="200-empty"),
        pytest.param(Reply(204, ""), id="204"),
        pytest.param(Reply(202, "queued"), id="202-text"),
    ],
)
def test_a_2xx_that_is_not_mattermosts_ok_is_a_post_that_may_not_have_arrived(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float], answer: Reply
) -> None:
    """Mattermost answers every webhook post it took with "200 ok" (text/plain). Another 2xx came
    from something else in its place (a gateway's or single sign-on's JSON, a proxy that queues):
    taken as posted, the digest was recorded as sent, the run was green and nobody saw it."""
    with Loopback(answer) as server:
        with pytest.raises(AmbiguousWriteError, match=r"not Mattermost's \"ok\".*not re-sent") as err:
            webhook(monkeypatch, server.url, sleeps).post("[Help Wanted] hello")
        assert len(server.received) == 1
    assert sleeps == []
    no_hook_id(err.value, caplog)


@pytest.mark.parametrize("cut", [190, 196])
def test_a_2xx_that_echoes_the_hook_url_where_the_answer_is_cut_shows_no_part_of_the_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float], cut: int
) -> None:
    """A gateway's answer echoing the request's URL: the id straddling the shown excerpt's end was
    cut before it was scrubbed, so its first characters were shown in the alert."""
    body = "x" * (cut - len("/hooks/")) + f"/hooks/{HOOK_ID} queued"
    with Loopback(Reply(200, body, "text/plain")) as server, pytest.raises(AmbiguousWriteError) as err:
        webhook(monkeypatch, server.url, sleeps).post("[Help Wanted] hello")
    shown = "".join(traceback.format_exception(err.value))
    assert HOOK_ID[:4] not in shown


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_of_white_space_then_the_hook_url_shows_no_part_of_the_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float], status: int
) -> None:
    """White space collapsed after the answer was cut brought the start of an id cut in two (and so
    not found by the scrub) into the excerpt shown."""
    body = " " * (2000 - len("/hooks/") - 4) + f"/hooks/{HOOK_ID}"
    with Loopback(Reply(status, body, "text/plain")) as server, pytest.raises(AmbiguousWriteError) as err:
        webhook(monkeypatch, server.url, sleeps).post("[Help Wanted] hello")
    shown = "".join(traceback.format_exception(err.value))
    assert HOOK_ID[:4] not in shown


@pytest.mark.parametrize("body", ["ok", "ok\n", "OK"])
def test_mattermosts_ok_is_a_post_that_arrived(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], body: str
) -> None:
    with Loopback(Reply(200, body, "text/plain")) as server:
        webhook(monkeypatch, server.url, sleeps).post("[Triage] hi")
        assert len(server.received) == 1


def test_a_webhook_answer_larger_than_max_body_is_a_post_that_may_have_arrived(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """The post went out and the answer never ended: sent once, then unsure (never sent again)."""
    policy = replace(FAST, max_body_bytes=1024)
    with Loopback(Reply(200, "x" * 10_000)) as server:
        http_connection(monkeypatch, "mm_loop", server.url, password=HOOK_ID)
        hook = MattermostWebhook("mm_loop", http=policy, sleep=sleeps.append)
        with pytest.raises(AmbiguousWriteError, match=r"larger than .* not re-sent"):
            hook.post("[Triage] hi")
        assert len(server.received) == 1


def test_a_webhook_answer_in_a_charset_python_does_not_know_is_a_post_that_arrived(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Decoding the answer failed after Mattermost took the post: it was marked failed, and every
    retry posted it again."""
    with Loopback(Reply(200, "ok", "text/plain; charset=x-unknown-cs")) as server:
        webhook(monkeypatch, server.url, sleeps).post("[Triage] hi")
        assert len(server.received) == 1


@pytest.mark.parametrize(
    ("headers", "decoding_fails", "error"),
    [({"Location": "http://[bad"}, False, "ValueError"), ({}, True, "LookupError")],
    ids=["bad-location", "decoding"],
)
def test_a_write_whose_answer_cannot_be_read_may_have_been_applied(
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    headers: dict[str, str],
    decoding_fails: bool,
    error: str,
) -> None:
    """Whatever fails once the request is out (here, reading the answer) is no proof that the
    write was not applied: never a plain failure that a retry sends again."""
    from community_monitoring.sources import http

    def unreadable(response: Any) -> Any:
        raise LookupError("unknown encoding: x-unknown-cs")

    if decoding_fails:
        monkeypatch.setattr(http.RawResponse, "of", classmethod(lambda cls, response: unreadable(response)))
    with Loopback(Reply(200, "ok", headers=headers)) as server:
        with pytest.raises(AmbiguousWriteError, match=f"could not be read \\({error}"):
            webhook(monkeypatch, server.url, sleeps).post("[Triage] hi")
        assert len(server.received) == 1


@pytest.mark.parametrize(("action", "wait"), REFUSED_BEFORE_PROCESSING)
def test_a_webhook_post_refused_before_processing_is_retried(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], action: Reply, wait: float
) -> None:
    with Loopback(action, Reply(200, "ok")) as server:
        webhook(monkeypatch, server.url, sleeps).post("[Triage] hi")
        assert len(server.received) == 2
    assert sleeps == [wait]


def test_a_webhook_that_stays_unavailable_fails_after_the_attempts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    with Loopback(Reply(503, f"hook {HOOK_ID} unavailable")) as server:
        with pytest.raises(UpstreamError, match=r"POST /hooks/… answered 503") as err:
            webhook(monkeypatch, server.url, sleeps).post("x")
        assert len(server.received) == FAST.max_attempts
    assert not isinstance(err.value, AmbiguousWriteError)  # 503: Mattermost did not take it
    no_hook_id(err.value, caplog)


def test_a_refused_connection_is_retried_and_names_no_webhook_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    caplog.set_level(logging.INFO)
    hook = webhook(monkeypatch, f"http://127.0.0.1:{closed_port()}", sleeps)
    with pytest.raises(UpstreamError, match=r"POST /hooks/… failed: connection refused") as err:
        hook.post("x")
    assert not isinstance(err.value, AmbiguousWriteError)
    assert len(sleeps) == FAST.max_attempts - 1
    no_hook_id(err.value, caplog)


def test_a_rejected_webhook_post_is_not_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    body = {"id": "web.incoming_webhook.invalid.app_error", "message": f"Invalid webhook {HOOK_ID}"}
    with Loopback(Reply(400, body)) as server:
        with pytest.raises(UpstreamError, match=r"answered 400: .*Invalid webhook \*\*\*") as err:
            webhook(monkeypatch, server.url, sleeps).post("x")
        assert len(server.received) == 1
    no_hook_id(err.value, caplog)


def test_a_webhook_post_is_never_redirected(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    with Loopback(Reply(200, "ok")) as elsewhere:
        with Loopback(Reply(307, "", headers={"Location": f"{elsewhere.url}/hooks/{HOOK_ID}"})) as server:
            with pytest.raises(
                RedirectRefusedError, match=rf"redirected to http://127.0.0.1:{elsewhere.port}"
            ):
                webhook(monkeypatch, server.url, sleeps).post("x")
            assert len(server.received) == 1
        assert elsewhere.received == []


def test_the_webhook_id_is_handed_to_the_secrets_masker(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    masked: list[Any] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: masked.append(value))
    with Loopback(Reply(200, "ok")) as server:
        webhook(monkeypatch, server.url, sleeps).post("x")
    assert HOOK_ID in masked


# ----- UserVoice status update (HttpHook, bearer token) -------------------------------------------


TOKEN = Reply(200, {"access_token": "uv-token-0123456789", "token_type": "bearer"})


def uservoice(
    monkeypatch: pytest.MonkeyPatch, host: str, sleeps: list[float] | None = None
) -> UserVoiceClient:
    monkeypatch.setattr(UserVoiceTokenAuth, "_tokens", {})
    http_connection(monkeypatch, "uv_loop", host, login="client-id", password="client-secret-0123")
    return UserVoiceClient.from_connection(
        "uv_loop", http=FAST, sleep=(sleeps if sleeps is not None else []).append
    )


@pytest.mark.parametrize("action", AMBIGUOUS)
def test_an_ambiguous_status_update_is_sent_once(monkeypatch: pytest.MonkeyPatch, action: Any) -> None:
    with Loopback(TOKEN, action) as server:
        with pytest.raises(
            AmbiguousWriteError, match=r"uservoice \(uv_loop\): POST /api/v2/admin/status_updates"
        ):
            uservoice(monkeypatch, server.url).post_status_update(5, 7, "Shipped")
        writes = [r for r in server.received if r.path.endswith("/status_updates")]
        assert len(writes) == 1
        assert writes[0].headers["Authorization"] == "Bearer uv-token-0123456789"


@pytest.mark.parametrize(("action", "wait"), REFUSED_BEFORE_PROCESSING)
def test_a_status_update_refused_before_processing_is_retried(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], action: Reply, wait: float
) -> None:
    done = Reply(200, {"status_updates": [{"id": 9, "body": "Shipped"}]})
    with Loopback(TOKEN, action, done) as server:
        update = uservoice(monkeypatch, server.url, sleeps).post_status_update(5, 7, "Shipped")
        assert [r.path for r in server.received].count("/api/v2/admin/status_updates") == 2
    assert update["id"] == 9
    assert sleeps == [wait]


def test_an_expired_token_on_a_write_is_refreshed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    done = Reply(200, {"status_updates": [{"id": 9}]})
    with Loopback(TOKEN, Reply(401, {"errors": {"type": "unauthorized"}}), TOKEN, done) as server:
        update = uservoice(monkeypatch, server.url).post_status_update(5, 7, "Shipped")
        assert [r.path for r in server.received] == [
            "/api/v2/oauth/token",
            "/api/v2/admin/status_updates",
            "/api/v2/oauth/token",
            "/api/v2/admin/status_updates",
        ]
    assert update == {"id": 9}


# ----- GitHub comment (PyGithub) and GitLab note (python-gitlab) ----------------------------------


def github_comment(host: str, sleeps: list[float]) -> Callable[[], Any]:
    gh = Github(
        base_url=host,
        auth=Auth.Token(GITHUB_TOKEN),
        retry=None,
        timeout=1,
        lazy=True,
        seconds_between_writes=None,
    )
    client = GithubIssuesClient(gh, FAST, sleep=sleeps.append)
    return lambda: client.create_comment("o/r", 5, "Thanks for the report")


def gitlab_note(host: str, sleeps: list[float]) -> Callable[[], Any]:
    gl = gitlab.Gitlab(host, private_token=GITLAB_TOKEN, timeout=FAST.timeout)  # type: ignore[arg-type]
    client = GitlabIssuesClient(gl, FAST, sleep=sleeps.append)
    return lambda: client.create_note("g/p", 5, "Thanks for the report")


WRITERS = [
    pytest.param(github_comment, "/repos/o/r/issues/5/comments", GITHUB_TOKEN, id="github"),
    pytest.param(gitlab_note, "/api/v4/projects/g%2Fp/issues/5/notes", GITLAB_TOKEN, id="gitlab"),
]


@pytest.mark.parametrize(("writer", "path", "token"), WRITERS)
@pytest.mark.parametrize("action", AMBIGUOUS)
def test_an_ambiguous_upstream_reply_is_sent_once(
    sleeps: list[float], writer: Callable[..., Callable[[], Any]], path: str, token: str, action: Any
) -> None:
    with Loopback(action) as server:
        send = writer(server.url, sleeps)
        with pytest.raises(AmbiguousWriteError, match="not re-sent") as err:
            send()
        assert [r.path for r in server.received] == [path]  # exactly one request: no library retry
    assert token not in str(err.value)
    assert sleeps == []


@pytest.mark.parametrize(("writer", "path", "token"), WRITERS)
@pytest.mark.parametrize(("action", "wait"), REFUSED_BEFORE_PROCESSING)
def test_an_upstream_reply_refused_before_processing_is_retried(
    sleeps: list[float],
    writer: Callable[..., Callable[[], Any]],
    path: str,
    token: str,
    action: Reply,
    wait: float,
) -> None:
    with Loopback(action, Reply(201, {"id": 1})) as server:
        writer(server.url, sleeps)()
        assert [r.path for r in server.received] == [path, path]
    assert sleeps == [wait]


@pytest.mark.parametrize(("writer", "path", "token"), WRITERS)
def test_a_rejected_upstream_reply_is_not_retried(
    sleeps: list[float], writer: Callable[..., Callable[[], Any]], path: str, token: str
) -> None:
    with Loopback(Reply(422, {"message": "Validation Failed"})) as server:
        with pytest.raises(UpstreamError, match="answered 422") as err:
            writer(server.url, sleeps)()
        assert len(server.received) == 1
    assert not isinstance(err.value, AmbiguousWriteError)


# ----- a worker that dies while a webhook post is being sent (SPEC §6) ----------------------------


class WorkerDied(BaseException):
    """The process is gone: nothing in the sender records an outcome."""


def _post_and_die_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, server: Loopback, ledger: Any, die_in_wait: bool
) -> None:
    def sleep(_: float) -> None:
        if die_in_wait:
            raise WorkerDied

    http_connection(monkeypatch, "mm_loop", server.url, password=HOOK_ID)
    hook = MattermostWebhook("mm_loop", http=FAST, sleep=sleep)
    with pytest.raises(WorkerDied):
        ledger.deliver_once("k", "triage", "mm", ["[Triage] hi"], hook.post, owner="dag/run/post")


def test_dying_while_waiting_after_a_503_sends_the_post_once_on_the_next_try(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The 503 proved the post was not processed: the next try sends it, and it arrives once."""
    from community_monitoring.ledger import NotificationLedger

    ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")
    with Loopback(Reply(503, "maintenance"), Reply(200, "ok")) as server:
        _post_and_die_in(monkeypatch, tmp_path, server, ledger, die_in_wait=True)
        entry = ledger.get("k")
        assert entry is not None
        assert entry.in_flight_since is None  # nothing was out when the worker died
        hook = MattermostWebhook("mm_loop", http=FAST, sleep=lambda _: None)
        result = ledger.deliver_once("k", "triage", "mm", ["[Triage] hi"], hook.post, owner="dag/run/post")
        assert (result.status, result.parts_sent_now) == ("sent", 1)
        assert len(server.received) == 2  # the refused try and the one that arrived


def test_dying_while_the_post_is_out_is_uncertain_and_never_resent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from community_monitoring.errors import UncertainDelivery
    from community_monitoring.ledger import NotificationLedger

    ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")

    def die_mid_request(text: str) -> None:
        hook = MattermostWebhook("mm_loop", http=FAST, sleep=lambda _: None)
        hook.post(text)  # it arrives...
        raise WorkerDied  # ...and the worker is gone before the answer is recorded

    with Loopback(Reply(200, "ok")) as server:
        http_connection(monkeypatch, "mm_loop", server.url, password=HOOK_ID)
        with pytest.raises(WorkerDied):
            ledger.deliver_once("k", "triage", "mm", ["[Triage] hi"], die_mid_request, owner="dag/run/post")
        hook = MattermostWebhook("mm_loop", http=FAST, sleep=lambda _: None)
        with pytest.raises(UncertainDelivery):
            ledger.deliver_once("k", "triage", "mm", ["[Triage] hi"], hook.post, owner="dag/run/post")
        assert len(server.received) == 1


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        pytest.param(ValueError("Invalid IPv6 URL"), AmbiguousWriteError, id="the answer unreadable"),
        pytest.param(
            RedirectRefusedError("github", "POST", "/repos/o/r/issues/1/comments", 301, "redirected"),
            RedirectRefusedError,
            id="an error that says what it is",
        ),
    ],
)
def test_what_a_writes_send_raises_keeps_its_meaning(raised: Exception, kind: type[Exception]) -> None:
    """Once the request is out, an error that says nothing of the write (the answer could not be
    read) may hide one that was applied; one of our own errors (a redirect refused before any
    answer, a token refused before the request) already says what happened."""
    from community_monitoring.sources.http import Call, send_with_retries

    def send() -> Any:
        raise raised

    call = Call("github", "POST", "/repos/o/r/issues/1/comments")
    with pytest.raises(kind) as err:
        send_with_retries(call, send, lambda raw: raw, FAST, sleep=lambda s: None)
    assert type(err.value) is kind


def test_a_github_app_installation_token_is_fetched_by_the_first_request_and_retried_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the client read the installation's token for the secrets to scrub: a POST outside
    any retry (PyGithub's own removed), so one 502 from it failed the whole channel."""
    token = {"token": "ghs_installation_token", "expires_at": "2099-01-01T00:00:00Z"}
    answers = (Reply(502, "bad gateway", "text/html"), Reply(201, token), Reply(200, []))
    with Loopback(*answers) as server:
        app = {"private_key": rsa_private_key(), "app_id": "123", "installation_id": 456}
        conn = {"conn_type": "github", "host": f"{server.url}/api/v3", "extra": app}
        monkeypatch.setenv("AIRFLOW_CONN_GH_APP", json.dumps(conn))
        client = GithubIssuesClient(github_client("gh_app", FAST), FAST, sleep=lambda _: None)
        assert server.received == []
        _, items = client._api.get_list("/repos/o/r/issues", {})
    assert items == []
    assert [r.path.split("?")[0] for r in server.received] == [
        "/api/v3/app/installations/456/access_tokens",
        "/api/v3/app/installations/456/access_tokens",
        "/api/v3/repos/o/r/issues",
    ]


def test_a_github_app_installation_token_echoed_in_an_error_is_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token GitHub issues the installation is a credential like a connection's own: a proxy's
    error page that echoes the request's Authorization header showed it in the error and the alert."""
    secret = "ghs_installationsecret0123456789"
    token = {"token": secret, "expires_at": "2099-01-01T00:00:00Z"}
    echo = Reply(400, f"<html>Bad request. Authorization: token {secret}</html>", "text/html")
    with Loopback(Reply(201, token), echo) as server:
        app = {"private_key": rsa_private_key(), "app_id": "123", "installation_id": 456}
        conn = {"conn_type": "github", "host": f"{server.url}/api/v3", "extra": app}
        monkeypatch.setenv("AIRFLOW_CONN_GH_APP", json.dumps(conn))
        client = GithubIssuesClient(github_client("gh_app", FAST), FAST, sleep=lambda _: None)
        with pytest.raises(UpstreamError, match="answered 400") as raised:
            client._api.get_list("/repos/o/r/issues", {})
    assert secret not in str(raised.value)
    assert "token ***" in str(raised.value)
