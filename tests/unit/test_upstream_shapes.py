"""Answers real deployments give that are not the API's usual page, against the real clients over
HTTP on 127.0.0.1 (``Loopback`` answers each request with the next scripted reply).

Each shape is one a client library's users met: a renamed repository's redirect, GitHub's 202
while it computes, a JSON body behind a byte order mark, a sign-in page in the API's place, a
plain-http URL the server moves to https.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import gitlab
import pytest
from pydantic import BaseModel
from test_http_loopback import Loopback, Reply, http_connection

from community_monitoring.errors import AmbiguousWrite
from community_monitoring.mattermost import MattermostWebhook
from community_monitoring.sources import ItemProblem
from community_monitoring.sources.github import (
    GithubApi,
    GithubIssuesClient,
    fetch_github_issues,
    make_github_hook_class,
)
from community_monitoring.sources.gitlab import GitlabApi
from community_monitoring.sources.http import (
    ApiClient,
    HttpPolicy,
    InvalidResponseError,
    RateLimit,
    RawResponse,
    RedirectRefusedError,
    UpstreamError,
    decode_json,
    leads_to_sign_in,
    upstream_rate_limit,
)
from community_monitoring.sources.jira import JiraClient
from community_monitoring.sources.stackexchange import StackExchangeClient
from community_monitoring.timeutil import isoformat_z
from community_sandbox import Sandbox
from scenario_files import days, github_issue, iso, write_scenario

FAST = HttpPolicy(connect_timeout=1.0, read_timeout=1.0, max_attempts=3, base_delay=0.0, max_wait=5.0)
TOKEN = "ghp-t0ken-0123456789"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``github(server)``: the product's GithubApi (the provider hook's client) for a Loopback."""
    from github.Requester import Requester

    def make(server: Loopback, sleep: Any = lambda _: None) -> GithubApi:
        conn = {"conn_type": "github", "host": server.url, "password": TOKEN}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
        policy = replace(FAST, max_wait=120.0)
        return GithubApi(make_github_hook_class(policy)().get_conn(), policy, sleep=sleep)

    try:
        yield make
    finally:
        Requester.resetConnectionClasses()


def query_of(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)


# ----- GitHub: a renamed or transferred repository ------------------------------------------------


def test_a_renamed_github_repository_is_read_at_its_new_place_with_the_whole_query(github: Any) -> None:
    """GitHub answers the old name with a 301 to /repositories/ID/issues?<the query>. PyGithub
    follows it to the path alone: state=all and since were lost, so only open issues came back
    (every issue closed in the window missing, the run green)."""
    issues = [{"number": 1}, {"number": 2}]
    with Loopback(Reply(200, issues)) as server:
        moved = f"{server.url}/repositories/9/issues?state=all&since=2026-11-01T00%3A00%3A00Z&per_page=100"
        server.actions.insert(0, Reply(301, {"message": "Moved Permanently"}, headers={"Location": moved}))
        api = github(server)
        _, items = api.get_list("/repos/o/r/issues", {"state": "all", "since": "2026-11-01T00:00:00Z"})
    assert items == issues
    assert [urlsplit(r.path).path for r in server.received] == ["/repos/o/r/issues", "/repositories/9/issues"]
    followed = query_of(server.received[1].path)
    assert followed["state"] == ["all"]
    assert followed["since"] == ["2026-11-01T00:00:00Z"]
    assert server.received[1].headers.get("Authorization") == f"token {TOKEN}"  # its own host


def test_a_github_redirect_to_another_port_is_still_refused(github: Any) -> None:
    with Loopback(Reply(200, [])) as elsewhere, Loopback() as server:
        server.actions[0] = Reply(301, "", headers={"Location": f"{elsewhere.url}/repositories/9/issues"})
        with pytest.raises(RedirectRefusedError, match=r"^github: GET /repos/o/r/issues answered 301"):
            github(server).get_list("/repos/o/r/issues", {})
    assert elsewhere.received == []


# ----- GitHub: 202 Accepted -----------------------------------------------------------------------


def test_a_github_202_is_asked_again_a_bounded_number_of_times(
    github: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyGithub asks again every 2 s without end on a 202 (its users saw 35 minutes, then a
    RecursionError); the retry loop asks ``max_attempts`` times, then names the call."""
    from github import Consts

    monkeypatch.setattr(Consts, "PROCESSING_202_WAIT_TIME", 0)  # so the old behaviour ends too
    with (
        Loopback(Reply(202, {})) as server,
        pytest.raises(InvalidResponseError, match=r"^github: GET /repos/o/r/issues answered 202: "),
    ):
        github(server).get_list("/repos/o/r/issues", {})
    assert len(server.received) == FAST.max_attempts


def test_a_github_202_then_the_list_reads_the_list(github: Any) -> None:
    with Loopback(Reply(202, {}), Reply(200, [{"number": 7}])) as server:
        _, items = github(server).get_list("/repos/o/r/issues", {})
    assert items == [{"number": 7}]
    assert len(server.received) == 2


def test_a_github_redirect_loop_on_its_own_host_ends_naming_the_call(github: Any) -> None:
    """PyGithub follows a 301 on its own host again and again until the stack runs out."""
    with Loopback() as server:
        server.actions[0] = Reply(301, "", headers={"Location": f"{server.url}/repositories/9/issues?page=1"})
        with pytest.raises(
            RedirectRefusedError, match=r"^github: GET /repos/o/r/issues answered 301: redirected"
        ):
            github(server).get_list("/repos/o/r/issues", {})
    assert len(server.received) < 30


# ----- a JSON body behind a byte order mark -------------------------------------------------------

BOM = "\ufeff"


class TopicsPage(BaseModel):
    topic_list: dict[str, Any]


def test_a_json_page_behind_a_byte_order_mark_is_read_by_api_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's json refuses a leading BOM ("Unexpected UTF-8 BOM"): the good page was retried as
    invalid and the channel failed. RFC 8259 §8.1 lets a parser ignore it."""
    page = {"topic_list": {"topics": [{"id": 1}]}}
    body = BOM + json.dumps(page)
    with Loopback(Reply(200, body, content_type="application/json; charset=utf-8")) as server:
        http_connection(monkeypatch, "bom_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("bom_forum", "forum", policy=FAST, sleep=lambda _: None)
        assert api.get_page("/latest.json", TopicsPage).topic_list == page["topic_list"]
        assert api.get_json("/latest.json").data == page
    assert len(server.received) == 2  # no retry: each was the page


def test_a_json_list_behind_a_byte_order_mark_is_read_through_pygithub_and_python_gitlab(
    github: Any,
) -> None:
    body = BOM + json.dumps([{"number": 3}])
    with Loopback(Reply(200, body, content_type="application/json")) as server:
        _, items = github(server).get_list("/repos/o/r/issues", {})
        gl = GitlabApi(
            gitlab.Gitlab(server.url, private_token="glpat-0123456789"), FAST, sleep=lambda _: None
        )
        _, _, gl_items = gl.get_list("/projects/1/issues", {})
    assert items == gl_items == [{"number": 3}]
    assert len(server.received) == 2


def test_a_rate_limit_body_behind_a_byte_order_mark_is_still_read() -> None:
    """Discourse's wait_seconds is in the body: a BOM hid it, and the wait became a guess."""
    raw = RawResponse(429, {"content-type": "application/json"}, BOM + '{"extras": {"wait_seconds": 7}}')
    assert upstream_rate_limit(raw) == RateLimit(7.0)


# ----- Mattermost: its own refusals of a webhook post ---------------------------------------------

HOOK_ID = "hookid0123456789abcdefgh"


def webhook(monkeypatch: pytest.MonkeyPatch, server: Loopback) -> MattermostWebhook:
    http_connection(monkeypatch, "mm_town", server.url, password=HOOK_ID)
    return MattermostWebhook("mm_town", http=FAST, sleep=lambda _: None)


def mattermost_error(error_id: str, status: int) -> Reply:
    return Reply(status, {"id": error_id, "message": "…", "detailed_error": "", "status_code": status})


def test_webhooks_turned_off_is_a_refusal_that_says_so_never_an_uncertain_post(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mattermost answers 501 when incoming webhooks are off, before it reads the post. A 5xx
    other than 503 was taken as "may have been posted": the outbox recorded an uncertain post
    and the operator was asked to check a channel nothing reached."""
    with (
        Loopback(mattermost_error("web.incoming_webhook.disabled.app_error", 501)) as server,
        pytest.raises(UpstreamError) as err,
    ):
        webhook(monkeypatch, server).post("[Help Wanted] …")
    assert not isinstance(err.value, AmbiguousWrite)
    assert "incoming webhooks are turned off on this server" in str(err.value)
    assert "System Console" in str(err.value)
    assert len(server.received) == 1  # no retry: it changes nothing
    assert HOOK_ID not in str(err.value)


@pytest.mark.parametrize(
    ("error_id", "status", "hint"),
    [
        ("web.incoming_webhook.invalid.app_error", 400, "the webhook was deleted or its id is wrong"),
        ("web.incoming_webhook.channel_locked.app_error", 403, "locked to its own channel"),
        ("app.channel.get.existing.app_error", 404, "channel no longer exists"),
    ],
)
def test_a_refused_webhook_post_says_what_to_do_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch, error_id: str, status: int, hint: str
) -> None:
    with (
        Loopback(mattermost_error(error_id, status)) as server,
        pytest.raises(
            UpstreamError, match=rf"^mattermost \(mm_town\): POST /hooks/… answered {status}: "
        ) as err,
    ):
        webhook(monkeypatch, server).post("text")
    assert hint in str(err.value)
    assert not isinstance(err.value, AmbiguousWrite)
    assert len(server.received) == 1


def test_a_write_answered_501_elsewhere_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    with Loopback(Reply(501, "<html>Not Implemented</html>", content_type="text/html")) as server:
        http_connection(monkeypatch, "uv_like", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("uv_like", "uservoice", policy=FAST, sleep=lambda _: None)
        with pytest.raises(UpstreamError, match=r"answered 501") as err:
            api.post_json("/api/v2/admin/status_updates", {"body": "x"})
    assert not isinstance(err.value, AmbiguousWrite)
    assert len(server.received) == 1


# ----- a sign-in page or https in the API's place ------------------------------------------------


def test_a_redirect_to_the_sign_in_page_says_the_token_was_not_taken() -> None:
    """GitLab (and SSO proxies in front of Discourse or Jira) answer a token they do not take with
    a 302 to their sign-in page; the error said only "check the connection's URL and path"."""
    with Loopback(
        Reply(302, "<html>You are being redirected</html>", headers={"Location": "/users/sign_in"})
    ) as server:
        gl = GitlabApi(
            gitlab.Gitlab(server.url, private_token="glpat-0123456789"), FAST, sleep=lambda _: None
        )
        with pytest.raises(RedirectRefusedError) as err:
            gl.get_list("/projects/1/issues", {})
    assert str(err.value).startswith(
        "gitlab: GET /projects/1/issues answered 302: redirected to /users/sign_in"
    )
    assert "a sign-in page: the connection's credentials were not taken" in str(err.value)
    assert len(server.received) == 1  # no retry mends a token


def test_a_plain_http_url_the_server_moves_to_https_says_to_write_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Loopback(Reply(301, "", headers={"Location": "https://127.0.0.1/latest.json"})) as server:
        http_connection(monkeypatch, "plain_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("plain_forum", "forum", policy=FAST, sleep=lambda _: None)
        with pytest.raises(RedirectRefusedError, match=r"write https:// in the connection's host"):
            api.get_json("/latest.json")
    assert len(server.received) == 1


# ----- gzip that is cut short or not gzip at all --------------------------------------------------

PAGE = json.dumps({"items": [{"question_id": n} for n in range(200)], "has_more": False}).encode()


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (gzip.compress(PAGE)[: len(gzip.compress(PAGE)) // 2], "answered 200: body is not valid JSON"),
        (PAGE, "failed: the answer could not be unpacked as its Content-Encoding says"),
    ],
    ids=["gzip-cut-short", "marked-gzip-but-plain"],
)
def test_an_answer_that_does_not_unpack_as_its_encoding_says_is_retried_then_named(
    monkeypatch: pytest.MonkeyPatch, body: bytes, said: str
) -> None:
    """Stack Exchange always answers gzip. Half a gzip stream unpacks into half a page; a proxy that
    unpacked the answer but kept the header makes it undecodable: never a page, and the error says
    what went wrong ("connection failed (ChunkedEncodingError)" said nothing)."""
    reply = Reply(200, body, content_type="application/json", headers={"Content-Encoding": "gzip"})
    with Loopback(reply) as server:
        http_connection(monkeypatch, "se_gzip", server.url)
        api = ApiClient("se_gzip", "stackoverflow", policy=FAST, sleep=lambda _: None)
        with pytest.raises(UpstreamError, match=rf"^stackoverflow: GET /2.3/questions {said}"):
            api.get_json("/2.3/questions")
    assert len(server.received) == FAST.max_attempts


def test_a_comment_on_a_renamed_github_repository_is_sent_where_github_says(github: Any) -> None:
    """GitHub answers a write to a renamed repository with 307 ("send it again, as it is, there"):
    the comment was refused as a redirect and never posted."""
    with Loopback(Reply(201, {"id": 77})) as server:
        moved = f"{server.url}/repositories/9/issues/5/comments"
        server.actions.insert(0, Reply(307, "", headers={"Location": moved}))
        answer = github(server).post("/repos/o/r/issues/5/comments", {"body": "Thanks!"})
    assert answer == {"id": 77}
    assert [(r.method, r.path) for r in server.received] == [
        ("POST", "/repos/o/r/issues/5/comments"),
        ("POST", "/repositories/9/issues/5/comments"),
    ]
    assert json.loads(server.received[1].body) == {"body": "Thanks!"}


def test_a_github_write_redirected_with_303_is_not_sent_again(github: Any) -> None:
    with Loopback() as server:
        server.actions[0] = Reply(303, "", headers={"Location": f"{server.url}/repositories/9/issues/5"})
        with pytest.raises(AmbiguousWrite):
            github(server).post("/repos/o/r/issues/5/comments", {"body": "Thanks!"})
    assert len(server.received) == 1


def test_a_github_redirect_without_a_query_keeps_the_requests_own(github: Any) -> None:
    with Loopback(Reply(200, [])) as server:
        server.actions.insert(0, Reply(301, "", headers={"Location": "/repositories/9/issues"}))
        github(server).get_list("/repos/o/r/issues", {"state": "all", "since": "2026-11-01T00:00:00Z"})
    assert query_of(server.received[1].path)["state"] == ["all"]


# ----- a proxy in the service's place -------------------------------------------------------------


def test_a_proxy_asking_for_credentials_is_named_as_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    page = "<html><body><h1>407 Proxy Authentication Required</h1></body></html>"
    reply = Reply(407, page, content_type="text/html", headers={"Proxy-Authenticate": 'Basic realm="corp"'})
    with Loopback(reply) as server:
        http_connection(monkeypatch, "behind_proxy", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("behind_proxy", "forum", policy=FAST, sleep=lambda _: None)
        with pytest.raises(UpstreamError, match=r"^forum: GET /latest.json answered 407: .*a proxy between"):
            api.get_json("/latest.json")
    assert len(server.received) == 1


# ----- a redirect on the service's own host keeps the request's parameters -------------------------


@pytest.mark.parametrize(
    ("location", "followed"),
    [("/forum/latest.json", "page=2"), ("/forum/latest.json?page=2&order=created", "page=2&order=created")],
    ids=["location-without-query", "location-with-query"],
)
def test_a_redirect_on_its_own_host_keeps_the_page_asked_for(
    monkeypatch: pytest.MonkeyPatch, location: str, followed: str
) -> None:
    """A forum moved under /forum answers /latest.json?page=2 with a Location that has no query:
    the page number was dropped and page 0 read again in its place."""
    page = {"topic_list": {"topics": [{"id": 1}]}}
    with Loopback(Reply(301, "", headers={"Location": location}), Reply(200, page)) as server:
        http_connection(monkeypatch, "moved_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("moved_forum", "forum", policy=FAST, sleep=lambda _: None)
        assert api.get_json("/latest.json", {"page": 2}).data == page
    assert server.received[1].path == f"/forum/latest.json?{followed}"


def test_a_renamed_repository_in_the_sandbox_keeps_its_closed_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through the sandbox: acme/old was renamed acme/new, and GitHub answers each list
    of the old name with a 301 to the new one, query and all. Issue 2 was closed in the window: it
    was lost (PyGithub followed to the path alone, so to open issues only), the run green."""
    from github.Requester import Requester

    now = datetime(2026, 11, 18, 9, tzinfo=UTC)
    since = now - days(30)
    issues = [
        github_issue("acme/new", 1, "Still open", "ana", now - days(2)),
        github_issue("acme/new", 2, "Fixed already", "bo", now - days(3), state="closed", closed_at=iso(now)),
    ]
    when = quote(isoformat_z(since), safe="")
    moved = {
        "issues": f"state=all&since={when}&sort=created&direction=desc&per_page=100",
        "issues/comments": f"sort=created&direction=asc&since={when}&per_page=100",
    }
    faults = [
        {
            "service": "github",
            "path": rf"/repos/acme/old/{endpoint}$",
            "kind": "redirect",
            "status": 301,
            "location": f"/api/v3/repos/acme/new/{endpoint}?{query}",
        }
        for endpoint, query in moved.items()
    ]
    write_scenario(
        tmp_path, now, github={"acme/new": {"issues": issues, "comments": [], "releases": []}}, faults=faults
    )
    problems: list[ItemProblem] = []
    try:
        with Sandbox(tmp_path) as sandbox:
            conn = {"conn_type": "github", "host": f"{sandbox.base_url}/api/v3", "password": TOKEN}
            monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
            client = GithubIssuesClient(make_github_hook_class(FAST)().get_conn(), FAST, sleep=lambda _: None)
            posts = list(fetch_github_issues(client, ["acme/old"], since, now, problems))
            redirected = [r for r in sandbox.requests_log if r.get("fault") == "redirect"]
    finally:
        Requester.resetConnectionClasses()
    assert sorted(post.title for post in posts) == ["Fixed already", "Still open"]
    assert problems == []
    assert len(redirected) == 2


@pytest.mark.parametrize(
    "message",
    [
        "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again.",
        "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
        "Please retry your request again later.",
    ],
    ids=["abuse-detection", "content-creation"],
)
def test_github_secondary_limits_in_their_other_words_are_waited_out(github: Any, message: str) -> None:
    """A 403 whose message is GitHub's abuse-detection limit (no Retry-After) was taken as a refusal:
    the channel failed at once instead of waiting the minute GitHub asks for."""
    sleeps: list[float] = []
    limited = Reply(403, {"message": message, "documentation_url": "https://docs.github.com/rest"})
    with Loopback(limited, Reply(200, [{"number": 1}])) as server:
        _, items = github(server, sleeps.append).get_list("/repos/o/r/issues", {})
    assert items == [{"number": 1}]
    assert sleeps == [60.0]


# ----- Jira Cloud: a credential it does not take is served as anonymous ---------------------------


def jira_over(monkeypatch: pytest.MonkeyPatch, server: Loopback) -> JiraClient:
    http_connection(monkeypatch, "jira_town", server.url, login="bot@example.com", password="atl-t0ken-0123")
    return JiraClient(ApiClient("jira_town", "jira", policy=FAST, sleep=lambda _: None))


ANONYMOUS_VIEW = Reply(200, {"issues": [], "isLast": True})
NOT_AUTHENTICATED = Reply(
    401, "Client must be authenticated to access this resource.", content_type="text/html"
)


def test_a_jira_search_served_anonymously_is_not_a_quiet_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jira Cloud answers a search whose Basic credentials it does not take (a revoked API token)
    with 200 and what anonymous may see: nothing, for a private project. It read as no tickets."""
    with Loopback(ANONYMOUS_VIEW, NOT_AUTHENTICATED) as server:
        client = jira_over(monkeypatch, server)
        with pytest.raises(UpstreamError) as err:
            list(client.search("project = MM"))
    message = str(err.value)
    assert message.startswith("jira: GET /rest/api/3/search/jql answered 401: found nothing")
    assert "check the connection's login" in message
    assert "atl-t0ken-0123" not in message
    assert [urlsplit(r.path).path for r in server.received] == [
        "/rest/api/3/search/jql",
        "/rest/api/3/myself",
    ]


@pytest.mark.parametrize(
    "myself", [Reply(200, {"accountId": "a-1", "active": True}), Reply(403, {"errorMessages": ["scope"]})]
)
def test_an_empty_jira_search_with_credentials_taken_or_untold_stands(
    monkeypatch: pytest.MonkeyPatch, myself: Reply
) -> None:
    with Loopback(ANONYMOUS_VIEW, myself) as server:
        assert list(jira_over(monkeypatch, server).search("project = MM")) == []
    assert len(server.received) == 2


def test_a_jira_search_that_finds_tickets_asks_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    page = {"issues": [{"id": "1", "key": "MM-1", "fields": {}}], "isLast": True}
    with Loopback(Reply(200, page)) as server:
        assert len(list(jira_over(monkeypatch, server).search("project = MM"))) == 1
    assert len(server.received) == 1


def test_a_jira_search_refused_for_an_unknown_project_names_the_credentials_when_they_are_the_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unknown = Reply(400, {"errorMessages": ["The value 'MM' does not exist for the field 'project'."]})
    with (
        Loopback(unknown, NOT_AUTHENTICATED) as server,
        pytest.raises(UpstreamError, match=r"answered 401: was refused, and Jira does not take"),
    ):
        list(jira_over(monkeypatch, server).search("project = MM"))
    with (
        Loopback(unknown, Reply(200, {"accountId": "a-1"})) as server,
        pytest.raises(UpstreamError, match=r"answered 400: .*does not exist for the field 'project'"),
    ):
        list(jira_over(monkeypatch, server).search("project = MM"))
    assert len(server.received) == 2  # the refusal is not retried


# ----- Stack Exchange: a throttle error that names no wait ---------------------------------------


def test_a_stack_exchange_backoff_violation_is_waited_out_not_hammered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'Violation of backoff parameter' (error_id 502) names no time: it was retried after the
    exponential backoff's first second, each quick retry another violation (an IP that keeps
    violating is banned)."""
    violation = {
        "error_id": 502,
        "error_name": "throttle_violation",
        "error_message": "Violation of backoff parameter",
    }
    page = {"items": [], "has_more": False, "quota_max": 10000, "quota_remaining": 9000}
    sleeps: list[float] = []
    with Loopback(Reply(400, violation), Reply(200, page)) as server:
        http_connection(monkeypatch, "se_town", server.url)
        api = ApiClient("se_town", "stackoverflow", policy=replace(FAST, max_wait=120.0), sleep=sleeps.append)
        client = StackExchangeClient(api, filter_id="!thread", sleep=sleeps.append, clock=lambda: 0.0)
        assert list(client.questions(["mattermost"], datetime(2026, 11, 1, tzinfo=UTC))) == []
    assert sleeps == [60.0]
    assert len(server.received) == 2


def test_a_redirect_to_a_single_sign_on_page_elsewhere_says_so_and_sends_it_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Loopback(Reply(200, "")) as sso, Loopback() as server:
        server.actions[0] = Reply(
            302, "", headers={"Location": f"{sso.url}/auth/realms/corp/login?next=/hooks/x"}
        )
        http_connection(
            monkeypatch, "sso_jira", server.url, login="bot@example.com", password="atl-t0ken-0123"
        )
        api = ApiClient("sso_jira", "jira", policy=FAST, sleep=lambda _: None)
        with pytest.raises(
            RedirectRefusedError, match=r"credentials never leave their host \(a sign-in page"
        ):
            api.get_json("/rest/api/3/search/jql")
    assert sso.received == []


# ----- GitLab: a renamed or transferred project ---------------------------------------------------


def test_a_moved_gitlab_project_is_named_with_its_new_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """GitLab answers the old path of a moved project with a redirect to the new one; the error
    sent the operator to the connection's URL, where the fix is the project's path."""
    with Loopback() as server:
        moved = f"{server.url}/api/v4/projects/acme%2Fwidgets-ng/issues?state=opened"
        server.actions[0] = Reply(
            301, "This resource has been moved permanently", headers={"Location": moved}
        )
        gl = GitlabApi(
            gitlab.Gitlab(server.url, private_token="glpat-0123456789"), FAST, sleep=lambda _: None
        )
        with pytest.raises(RedirectRefusedError) as err:
            gl.get_list("/projects/acme%2Fwidgets/issues", {"state": "opened"})
    assert str(err.value) == (
        "gitlab: GET /projects/acme%2Fwidgets/issues answered 301: the project moved (renamed or "
        "transferred) to acme/widgets-ng: not followed; put its new path in the settings"
    )
    assert len(server.received) == 1


def test_a_github_enterprise_redirect_to_its_sign_in_page_is_named_not_followed(github: Any) -> None:
    with Loopback() as server:
        server.actions[0] = Reply(302, "", headers={"Location": f"{server.url}/login?return_to=%2Fapi%2Fv3"})
        with pytest.raises(
            RedirectRefusedError, match=r"answered 302: redirected to /login on its own host: .*sign-in"
        ):
            github(server).get_list("/repos/o/r/issues", {})
    assert len(server.received) == 1


def test_a_forum_redirect_to_its_login_page_is_named_not_followed_to_an_html_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forum that requires login answers an API key it does not take with a 302 to /login: it
    was followed to the HTML sign-in page, retried as an invalid page and named as HTML."""
    with Loopback(
        Reply(302, "", headers={"Location": "/login"}),
        Reply(200, "<html>Log in</html>", content_type="text/html"),
    ) as server:
        http_connection(monkeypatch, "closed_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("closed_forum", "forum", policy=FAST, sleep=lambda _: None)
        with pytest.raises(
            RedirectRefusedError, match=r"answered 302: redirected to /login on its own host: .*sign-in"
        ):
            api.get_json("/latest.json")
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("location", "sign_in"),
    [
        ("/login", True),
        ("/users/sign_in", True),
        ("/session/sso?return_path=%2F", True),
        ("/auth/realms/corp/protocol/openid-connect/auth", True),
        ("/t/cant-login-after-upgrade/12.json", False),  # a topic's slug, moved: no sign-in page
        ("/t/sso-with-okta/13.json", False),
        ("/c/saml-and-ldap/4.json", False),
    ],
)
def test_a_sign_in_page_is_told_by_a_whole_path_segment(location: str, sign_in: bool) -> None:
    assert leads_to_sign_in("https://forum.example.org" + location) is sign_in


def test_a_moved_topic_whose_slug_says_login_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    with Loopback(
        Reply(301, "", headers={"Location": "/t/cant-login-after-upgrade/12.json"}),
        Reply(200, json.dumps({"id": 12}).encode(), content_type="application/json"),
    ) as server:
        http_connection(monkeypatch, "moved_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("moved_forum", "forum", policy=FAST, sleep=lambda _: None)
        assert api.get_json("/t/12.json").data == {"id": 12}
    assert len(server.received) == 2


# ----- JSON labelled with another charset ---------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json;charset=ISO-8859-1", "text/json"])
def test_utf8_json_labelled_with_another_charset_keeps_its_text(
    monkeypatch: pytest.MonkeyPatch, content_type: str
) -> None:
    """JSON is UTF-8 (RFC 8259); a label saying ISO-8859-1 (or text/json, which requests reads as
    ISO-8859-1) turned every 'é' of a title into 'Ã©'."""
    body = json.dumps(
        {"issues": [{"key": "MM-1", "fields": {"summary": "Café crashes ✓"}}]}, ensure_ascii=False
    )
    with Loopback(Reply(200, body.encode(), content_type=content_type)) as server:
        http_connection(monkeypatch, "latin_jira", server.url)
        data = (
            ApiClient("latin_jira", "jira", policy=FAST, sleep=lambda _: None)
            .get_json("/rest/api/3/search/jql")
            .data
        )
    assert data["issues"][0]["fields"]["summary"] == "Café crashes ✓"


def test_json_that_really_is_iso_8859_1_is_read_as_its_label_says(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps({"title": "Café"}, ensure_ascii=False).encode("iso-8859-1")
    with Loopback(Reply(200, body, content_type="application/json; charset=ISO-8859-1")) as server:
        http_connection(monkeypatch, "latin_forum", server.url)
        data = ApiClient("latin_forum", "forum", policy=FAST, sleep=lambda _: None).get_json("/t/1.json").data
    assert data == {"title": "Café"}


# ----- JSON nested deeper than Python's stack -----------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_json_nested_past_the_stack_is_an_invalid_answer_naming_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's json raises RecursionError (not a ValueError) on arrays nested 100,000 deep: it
    escaped the checks of a page, and the channel failed with "maximum recursion depth exceeded",
    naming neither the service nor the call."""
    with Loopback(*[Reply(200, DEEP, content_type="application/json")] * FAST.max_attempts) as server:
        http_connection(monkeypatch, "deep_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("deep_forum", "forum", policy=FAST, sleep=lambda _: None)
        with pytest.raises(InvalidResponseError, match=r"^forum: GET /latest.json answered 200: .*nested"):
            api.get_json("/latest.json")
    assert len(server.received) == FAST.max_attempts  # retried as any answer that is not the page


def test_a_rate_limit_body_nested_past_the_stack_is_no_crash() -> None:
    raw = RawResponse(429, {"content-type": "application/json", "retry-after": "3"}, DEEP)
    assert raw.json_or_none() is None
    assert upstream_rate_limit(raw) == RateLimit(3.0)


def test_a_stack_exchange_error_body_nested_past_the_stack_is_no_crash() -> None:
    from community_monitoring.sources.stackexchange import _error_fields

    assert _error_fields(DEEP) is None


def test_json_with_an_escaped_surrogate_nested_deep_is_not_json_not_a_crash() -> None:
    """The walk that mends lone surrogates recursed over what json had read: 500 levels (json reads
    them) with one "\\ud800" in them raised RecursionError past decode_json, the crash it names."""
    deep = "[" * 500 + '"\\ud800"' + "]" * 500
    with pytest.raises(ValueError, match="nested too deep"):
        decode_json(deep)


# ----- an answer shorter than its Content-Length --------------------------------------------------


class ShortBody:
    """Answers every request 200 with a Content-Length of 100 and 8 bytes of body, then closes."""

    def __init__(self) -> None:
        import socket
        import threading

        self.requests = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.requests += 1
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                conn.sendall(head + b'{"a": 1}')

    def __enter__(self) -> ShortBody:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()


def test_an_answer_cut_short_of_its_content_length_is_retried_then_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection closed 8 bytes into an answer of 100: retried, then named as what it is; it
    said "connection failed (ChunkedEncodingError)", which told nothing of the answer."""
    with ShortBody() as server:
        http_connection(monkeypatch, "short_forum", server.url, extra={"Api-Key": "key-0123456789"})
        api = ApiClient("short_forum", "forum", policy=FAST, sleep=lambda _: None)
        with pytest.raises(
            UpstreamError,
            match=r"^forum: GET /latest.json failed: the connection closed before the whole answer "
            r"arrived \(8 of 100 bytes\)",
        ):
            api.get_json("/latest.json")
    assert server.requests == FAST.max_attempts


# ----- a wait that is no number, or below zero --------------------------------------------------------------


def _rate_limited_then_ok(monkeypatch: pytest.MonkeyPatch, limited: Reply) -> list[float]:
    """What the client slept between a rate-limited answer and the page that followed."""
    from community_monitoring.sources.stackexchange import stackexchange_rate_limit

    slept: list[float] = []
    with Loopback(limited, Reply(200, {"items": [], "has_more": False})) as server:
        http_connection(monkeypatch, "odd_wait", server.url)
        api = ApiClient(
            "odd_wait", "forum", policy=FAST, sleep=slept.append, rate_limit=stackexchange_rate_limit
        )
        assert api.get_json("/latest.json").data == {"items": [], "has_more": False}
    return slept


@pytest.mark.parametrize(
    "limited",
    [
        Reply(429, {"errors": ["slow down"]}, headers={"Retry-After": "NaN"}),
        Reply(429, '{"extras": {"wait_seconds": NaN}}', content_type="application/json"),
        Reply(
            400,
            '{"error_id": 502, "error_name": "throttle_violation", "backoff": NaN}',
            content_type="application/json",
        ),
    ],
    ids=["retry-after", "discourse-wait-seconds", "stack-exchange-backoff"],
)
def test_a_wait_that_is_not_a_number_is_backed_off_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, limited: Reply
) -> None:
    """float() reads "NaN" (and Python's json reads NaN): the wait passed every bound (NaN compares
    false with all) and time.sleep raised "Invalid value NaN (not a number)", naming neither the
    service nor the call. It is a wait not given: backed off as after any failed attempt."""
    assert _rate_limited_then_ok(monkeypatch, limited) == [FAST.backoff(1)]


@pytest.mark.parametrize(
    "limited",
    [
        Reply(429, '{"extras": {"wait_seconds": -5}}', content_type="application/json"),
        Reply(429, '{"extras": {"wait_seconds": -Infinity}}', content_type="application/json"),
        Reply(
            400,
            '{"error_id": 502, "error_name": "throttle_violation", "backoff": -1}',
            content_type="application/json",
        ),
        Reply(
            429, {"errors": ["slow down"]}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-3"}
        ),
    ],
    ids=["discourse-wait-seconds", "minus-infinity", "stack-exchange-backoff", "reset-in-seconds"],
)
def test_a_wait_below_zero_is_no_wait_not_a_crash(monkeypatch: pytest.MonkeyPatch, limited: Reply) -> None:
    """A wait below zero in a body or a reset header was slept as it came: time.sleep raised "sleep
    length must be non-negative", naming neither the service nor the call (Retry-After's was
    already read as no wait). It is a wait that is over: the next attempt goes at once."""
    assert _rate_limited_then_ok(monkeypatch, limited) == [0.0]
