"""Credentials never follow a redirect to another host or port, whichever client makes the call.

Server A (the configured upstream) redirects to server B on another port; B records every header
it receives. python-gitlab would resend ``PRIVATE-TOKEN`` and requests would keep custom headers
such as ``Api-Key``: the HTTP layer refuses the redirect instead and names B's address.
"""

from __future__ import annotations

from datetime import UTC, datetime

import gitlab
import pytest
from github import Auth, Github
from test_http_loopback import Loopback, Reply, http_connection

from community_monitoring.sources.github import GithubIssuesClient
from community_monitoring.sources.gitlab import GitlabIssuesClient, gitlab_client
from community_monitoring.sources.http import HttpPolicy, RedirectRefusedError
from community_monitoring.sources.uservoice import UserVoiceClient, UserVoiceTokenAuth

FAST = HttpPolicy(connect_timeout=1.0, read_timeout=1.0, max_attempts=2, base_delay=0.0, max_wait=5.0)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def redirect_to(target: Loopback, status: int = 302) -> Reply:
    return Reply(status, "", headers={"Location": f"{target.url}/elsewhere?page=2"})


def nothing_reached(elsewhere: Loopback) -> None:
    """No request at all reached the other port, so no credential did."""
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_gitlab_never_sends_its_token_to_another_port(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with Loopback(Reply(200, [])) as elsewhere, Loopback(redirect_to(elsewhere, status)) as server:
        http_connection(monkeypatch, "gitlab_redirect", server.url, password="glpat-redirect-secret")
        client = GitlabIssuesClient(gitlab_client("gitlab_redirect", FAST), FAST)
        with pytest.raises(
            RedirectRefusedError,
            match=rf"^gitlab: GET /projects/g%2Fp/issues answered {status}: "
            rf"redirected to http://127.0.0.1:{elsewhere.port}",
        ):
            list(client.issues("g/p", SINCE))
        assert server.received[0].headers["PRIVATE-TOKEN"] == "glpat-redirect-secret"
        assert len(server.received) == 1  # a redirect is not retried either
        nothing_reached(elsewhere)


def test_a_hand_built_python_gitlab_client_is_guarded_too() -> None:
    with Loopback(Reply(200, [])) as elsewhere, Loopback(redirect_to(elsewhere)) as server:
        gl = gitlab.Gitlab(server.url, private_token="glpat-redirect-secret")
        with pytest.raises(RedirectRefusedError):
            list(GitlabIssuesClient(gl, FAST).notes("g/p", 3))
        nothing_reached(elsewhere)


def test_github_never_sends_its_token_to_another_port() -> None:
    with Loopback(Reply(200, [])) as elsewhere, Loopback(redirect_to(elsewhere)) as server:
        gh = Github(base_url=server.url, auth=Auth.Token("ghp_redirect_secret"), retry=None, lazy=True)
        with pytest.raises(RedirectRefusedError, match=rf"redirected to http://127.0.0.1:{elsewhere.port}"):
            list(GithubIssuesClient(gh, FAST).issues("o/r", SINCE))
        assert server.received[0].headers["Authorization"] == "token ghp_redirect_secret"
        nothing_reached(elsewhere)


def test_a_github_next_page_link_to_another_host_stays_on_the_configured_host() -> None:
    with Loopback(Reply(200, [])) as elsewhere:
        link = {"Link": f'<{elsewhere.url}/repos/o/r/issues?page=2>; rel="next"'}
        with Loopback(Reply(200, [{"number": 1}], headers=link), Reply(200, [])) as server:
            gh = Github(base_url=server.url, auth=Auth.Token("ghp_redirect_secret"), retry=None, lazy=True)
            items = list(GithubIssuesClient(gh, FAST).issues("o/r", SINCE))
            assert [r.path.split("?")[0] for r in server.received] == ["/repos/o/r/issues"] * 2
        nothing_reached(elsewhere)
    assert items == [{"number": 1}]


def test_a_gitlab_next_page_link_to_another_host_is_an_error() -> None:
    with Loopback(Reply(200, [])) as elsewhere:
        link = {"Link": f'<{elsewhere.url}/api/v4/projects/g%2Fp/issues?page=2>; rel="next"'}
        with Loopback(Reply(200, [{"iid": 1}], headers=link)) as server:
            gl = gitlab.Gitlab(server.url, private_token="glpat-redirect-secret")
            with pytest.raises(
                Exception, match=rf"next-page link points to http://127.0.0.1:{elsewhere.port}"
            ):
                list(GitlabIssuesClient(gl, FAST).issues("g/p", SINCE))
        nothing_reached(elsewhere)


def test_uservoice_sends_neither_token_nor_secret_to_another_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UserVoiceTokenAuth, "_tokens", {})
    token = Reply(200, {"access_token": "uv-token-redirect"})
    with Loopback(Reply(200, {})) as elsewhere, Loopback(token, redirect_to(elsewhere)) as server:
        http_connection(
            monkeypatch, "uv_redirect", server.url, login="client", password="client-secret-redirect"
        )
        with pytest.raises(
            RedirectRefusedError, match=r"uservoice \(uv_redirect\): GET /api/v2/admin/statuses"
        ):
            UserVoiceClient.from_connection("uv_redirect", http=FAST).statuses()
        nothing_reached(elsewhere)


def test_the_uservoice_token_request_is_not_redirected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UserVoiceTokenAuth, "_tokens", {})
    with Loopback(Reply(200, {})) as elsewhere, Loopback(redirect_to(elsewhere, 307)) as server:
        http_connection(
            monkeypatch, "uv_redirect", server.url, login="client", password="client-secret-redirect"
        )
        with pytest.raises(
            RedirectRefusedError, match=r"uservoice \(uv_redirect\): POST /oauth/token answered 307"
        ):
            UserVoiceClient.from_connection("uv_redirect", http=FAST).statuses()
        nothing_reached(elsewhere)


def test_a_refused_redirect_on_its_own_host_is_not_called_another_host() -> None:
    from requests.structures import CaseInsensitiveDict

    from community_monitoring.sources.http import Call, RawResponse, _redirect_error

    here = "http://127.0.0.1:9/api/v3/repos/o/r/issues"
    login = RawResponse(302, CaseInsensitiveDict({"location": "/login?return_to=x"}), "", here)
    error = _redirect_error(Call("github", "GET", "/repos/o/r/issues"), login)
    assert "redirected to /login on its own host: not followed" in str(error)
    assert "credentials never leave" not in str(error)
    away = RawResponse(302, CaseInsensitiveDict({"location": "https://sso.example/login"}), "", here)
    assert "redirected to https://sso.example:443: not followed, so credentials never leave" in str(
        _redirect_error(Call("github", "GET", "/repos/o/r/issues"), away)
    )
