"""Every channel against the sandbox's faults: an answer that is not the promised page is an error,
never zero items; a bad item is skipped and named; rate limits are waited out at the HTTP layer.

One scenario holds a little data for all six channels; each test adds its faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gitlab
import pytest
from github import Auth, Github
from requests.structures import CaseInsensitiveDict

from community_monitoring.sources import ItemProblem
from community_monitoring.sources.discourse import DiscourseClient, fetch_forum_topics
from community_monitoring.sources.github import (
    GithubApi,
    GithubIssuesClient,
    fetch_github_issues,
    github_timeout,
)
from community_monitoring.sources.gitlab import GitlabApi, GitlabIssuesClient, fetch_gitlab_issues
from community_monitoring.sources.http import (
    ApiClient,
    Call,
    HttpPolicy,
    InvalidResponseError,
    RawResponse,
    UpstreamError,
    counted_next,
    linked_page,
)
from community_monitoring.sources.jira import JiraClient, fetch_jira_tickets
from community_monitoring.sources.stackexchange import StackExchangeClient, fetch_stackoverflow_questions
from community_monitoring.sources.uservoice import (
    UserVoiceClient,
    UserVoiceTokenAuth,
    fetch_uservoice_suggestions,
)
from community_sandbox import Sandbox
from scenario_files import days, forum_post, forum_topic, github_issue, iso, write_scenario
from scenario_files_more import gitlab_issue, gitlab_note, se_answer, se_question
from scenario_files_uv_jira import jira_issue, uv_category, uv_comment, uv_status, uv_suggestion, uv_user

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
SINCE = NOW - days(30)
REPO = "o/r"
PROJECT = "acme/widgets"
FORUM = "https://forum.example"
FAST = HttpPolicy(connect_timeout=1.0, read_timeout=0.3, max_attempts=3, base_delay=0.0, max_wait=120.0)
HTML = "<!DOCTYPE html><html><head><title>Error</title></head><body>Service unavailable</body></html>"
# Each channel's credential, long enough for an error that echoes it to show it if it were not scrubbed.
SECRETS = {
    "github": "ghp_sourcefaults0123456789",
    "gitlab": "glpat-test-token",
    "forum": "forum-api-key-0123456789",
    "uservoice": "pm-secret",
    "jira": "api-token",
}


# ----- one scenario, six channels -----------------------------------------------------------------


def forum_data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    topics, posts = [], []
    for i in range(3):
        created = NOW - days(3 - i)
        thread = [forum_post(10 + i, 100 + i, 1, f"asker{i}", created, raw=f"Question {i}")]
        topics.append(forum_topic(100 + i, f"Topic {i}", created, thread))
        posts += thread
    return topics, posts


def write_json(folder: Path, files: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")


def scenario(root: Path, faults: list[dict[str, Any]] | None = None) -> Path:
    topics, posts = forum_data()
    issues = [github_issue(REPO, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2, 3)]
    github = {REPO: {"issues": issues, "comments": [], "releases": []}}
    write_scenario(root, NOW, github=github, topics=topics, posts=posts, faults=faults)
    gl_issues = [gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", NOW - days(n)) for n in (1, 2, 3)]
    # A note on each issue, so that each issue's notes are read.
    notes = [gitlab_note(900 + n, n, "helper", NOW - days(n) + days(0.2)) for n in (1, 2, 3)]
    write_json(root / "gitlab" / PROJECT, {"issues": gl_issues, "notes": notes})
    questions = [se_question(1000 + n, f"Q{n}", f"asker{n}", NOW - days(n)) for n in (1, 2, 3)]
    answers = [se_answer(5000 + n, 1000 + n, "helper", NOW - days(n) + days(0.1)) for n in (1, 2, 3)]
    write_json(root / "stackexchange", {"questions": questions, "answers": answers, "comments": []})
    suggestions = [
        uv_suggestion(50_000 + n, f"Idea {n}", NOW - days(n), creator=1, status=7) for n in (1, 2, 3)
    ]
    uservoice = {
        "suggestions": suggestions,
        "statuses": [uv_status(7, "Under Review")],
        "users": [uv_user(1, "Lena")],
        "categories": [uv_category(3, "Messaging")],
        "comments": [uv_comment(700 + n, 50_000 + n, 1, NOW - days(n) + days(0.1)) for n in (1, 2, 3)],
    }
    write_json(root / "uservoice", uservoice)
    tickets = [jira_issue(f"MM-{n}", f"Ticket {n}", NOW - days(n)) for n in (1, 2, 3)]
    links = {
        f"MM-{n}": [{"id": n, "object": {"url": f"https://feedback.example/s/{n}", "title": "Idea"}}]
        for n in (1, 2, 3)
    }
    write_json(root / "jira", {"issues": tickets, "remotelinks": links})
    return root


@dataclass(frozen=True)
class Channel:
    """How to read one channel from the sandbox, and where its list page is."""

    service: str  # the sandbox's name
    list_path: str  # regex of the list endpoint (for faults)
    endpoint: str  # how errors name that call
    read: Callable[[Sandbox, pytest.MonkeyPatch, list[ItemProblem], list[float]], list[Any]]


def connect(monkeypatch: pytest.MonkeyPatch, conn_id: str, host: str, **fields: Any) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", "host": host, **fields})
    )


def read_github(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    gh = Github(
        base_url=f"{sb.base_url}/api/v3",
        auth=Auth.Token(SECRETS["github"]),
        retry=None,
        lazy=True,
        timeout=github_timeout(FAST),
    )
    client = GithubIssuesClient(gh, FAST, sleep=sleeps.append)
    return list(fetch_github_issues(client, [REPO], SINCE, NOW, problems))


def read_gitlab(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    client = GitlabIssuesClient(
        gitlab.Gitlab(f"{sb.base_url}/gitlab", private_token=SECRETS["gitlab"], timeout=FAST.timeout),  # type: ignore[arg-type]
        FAST,
        sleep=sleeps.append,
    )
    return list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, SINCE, NOW, problems))


def read_forum(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    connect(
        mp,
        "forum_t",
        f"{sb.base_url}/discourse",
        extra={"Api-Key": SECRETS["forum"], "Api-Username": "system"},
    )
    client = DiscourseClient(ApiClient("forum_t", "forum", policy=FAST, sleep=sleeps.append))
    return list(fetch_forum_topics(client, SINCE, NOW, FORUM, problems))


def read_stackoverflow(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    connect(mp, "se_t", f"{sb.base_url}/stackexchange")
    api = ApiClient("se_t", "stackoverflow", policy=FAST, sleep=sleeps.append)
    client = StackExchangeClient(api, sleep=sleeps.append, clock=lambda: 0.0)
    return list(fetch_stackoverflow_questions(client, ["mattermost"], SINCE, NOW, problems))


def read_uservoice(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    mp.setattr(UserVoiceTokenAuth, "_tokens", {})
    connect(mp, "uv_t", f"{sb.base_url}/uservoice", login="pm-client", password=SECRETS["uservoice"])
    client = UserVoiceClient.from_connection("uv_t", http=FAST, sleep=sleeps.append)
    return list(fetch_uservoice_suggestions(client, NOW, problems))


def read_jira(
    sb: Sandbox, mp: pytest.MonkeyPatch, problems: list[ItemProblem], sleeps: list[float]
) -> list[Any]:
    connect(mp, "jira_t", f"{sb.base_url}/jira", login="bot@example.com", password=SECRETS["jira"])
    client = JiraClient(ApiClient("jira_t", "jira", policy=FAST, sleep=sleeps.append))
    return list(fetch_jira_tickets(client, "project = MM", SINCE, "https://jira.example", True, problems))


CHANNELS = {
    "github": Channel("github", r"/repos/o/r/issues$", "github: GET /repos/o/r/issues", read_github),
    "gitlab": Channel(
        "gitlab", r"widgets/issues$", "gitlab: GET /projects/acme%2Fwidgets/issues", read_gitlab
    ),
    "forum": Channel("discourse", r"/latest", "forum: GET /latest.json", read_forum),
    "stackoverflow": Channel(
        "stackexchange", r"/questions$", "stackoverflow: GET /2.3/questions", read_stackoverflow
    ),
    "uservoice": Channel(
        "uservoice",
        r"/admin/suggestions$",
        r"uservoice \(uv_t\): GET /api/v2/admin/suggestions",
        read_uservoice,
    ),
    "jira": Channel("jira", r"/search/jql", "jira: GET /rest/api/3/search/jql", read_jira),
}


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[list[Any], list[Any]]]]:
    """``run(channel, faults)`` → (items, problems); the sandbox's request log is ``run.log``."""

    def read(key: str, faults: list[dict[str, Any]] | None = None, sleeps: list[float] | None = None) -> Any:
        problems: list[ItemProblem] = []
        with Sandbox(scenario(tmp_path / key, faults)) as sandbox:
            try:
                return CHANNELS[key].read(
                    sandbox, monkeypatch, problems, [] if sleeps is None else sleeps
                ), problems
            finally:
                read.log = list(sandbox.requests_log)  # type: ignore[attr-defined]

    return read


def fault_on(key: str, **fault: Any) -> dict[str, Any]:
    return {"service": CHANNELS[key].service, "path": CHANNELS[key].list_path, **fault}


# ----- sanity: without faults every channel reads its three items ----------------------------------


@pytest.mark.parametrize("key", list(CHANNELS))
def test_every_channel_reads_the_scenario(run: Any, key: str) -> None:
    items, problems = run(key)
    assert len(items) == 3
    assert problems == []


# ----- pages: never an empty page from an invalid answer ------------------------------------------


PAGE_FAULTS = {
    "html-200": {"kind": "body", "body": HTML, "content_type": "text/html; charset=utf-8"},
    "empty-object": {"kind": "body", "body": {}},
    "truncated-json": {
        "kind": "body",
        "body": '{"items": [{"id": 1, "tit',
        "content_type": "application/json",
    },
    "json-as-text": {"kind": "body", "body": "[]", "content_type": "text/plain"},
}


@pytest.mark.parametrize("fault", list(PAGE_FAULTS))
@pytest.mark.parametrize("key", list(CHANNELS))
def test_an_invalid_list_page_fails_the_channel_naming_service_and_endpoint(
    run: Any, key: str, fault: str
) -> None:
    with pytest.raises(InvalidResponseError, match=rf"^{CHANNELS[key].endpoint} answered 200: ") as err:
        run(key, [fault_on(key, **PAGE_FAULTS[fault])])
    faulted = [r for r in run.log if r.get("fault") == "body"]
    assert len(faulted) == FAST.max_attempts  # retried like a 5xx, boundedly, then raised
    assert len(str(err.value)) < 500


def test_a_forum_posts_page_without_its_list_fails_the_channel(run: Any) -> None:
    fault = {"service": "discourse", "path": r"/posts\.json$", "kind": "body", "body": {"posts": []}}
    with pytest.raises(
        InvalidResponseError, match=r"forum: GET /posts.json answered 200: .*'latest_posts' is missing"
    ):
        run("forum", [fault])


def test_a_stalled_list_page_fails_within_its_timeouts(run: Any) -> None:
    with pytest.raises(UpstreamError, match=r"^jira: GET /rest/api/3/search/jql failed: read timeout"):
        run("jira", [fault_on("jira", kind="stall", seconds=5)])
    assert len([r for r in run.log if r.get("fault") == "stall"]) == FAST.max_attempts


@pytest.mark.parametrize(
    "fault",
    [{"kind": "reset"}, {"kind": "stall", "seconds": 5}, {"kind": "cut"}],
    ids=["reset", "stall", "cut"],
)
def test_a_read_that_fails_once_on_the_wire_is_retried(run: Any, fault: dict[str, Any]) -> None:
    items, problems = run("forum", [fault_on("forum", times=1, **fault)])
    assert len(items) == 3
    assert problems == []


@pytest.mark.parametrize("key", list(CHANNELS))
def test_a_list_page_cut_short_every_time_fails_the_channel_saying_so(run: Any, key: str) -> None:
    """The line drops part way through every answer (the sandbox's ``cut``): retried, then the
    channel fails naming the call and what happened, never a page read as shorter."""
    with pytest.raises(
        UpstreamError,
        match=rf"^{CHANNELS[key].endpoint} failed: the connection closed before the whole answer arrived "
        r"\(\d+ of \d+ bytes\)",
    ):
        run(key, [fault_on(key, kind="cut")])
    assert len([r for r in run.log if r.get("fault") == "cut"]) == FAST.max_attempts


# ----- lists that say they go on but give nothing, or go round: an error, never an end ------------


ENDLESS = {
    "stackoverflow": {"items": [], "has_more": True, "quota_max": 10000, "quota_remaining": 9000},
    "forum": {"topic_list": {"topics": [], "more_topics_url": "/latest?page=2"}},
    "uservoice": {
        "suggestions": [],
        "pagination": {"page": 1, "per_page": 100, "total_pages": 1_000_000, "total_records": 3},
    },
}


@pytest.mark.parametrize("key", list(ENDLESS))
def test_an_empty_page_that_says_there_is_more_fails_the_channel(run: Any, key: str) -> None:
    fault = fault_on(key, kind="body", body=ENDLESS[key], content_type="application/json")
    with pytest.raises(
        InvalidResponseError,
        match=rf"^{CHANNELS[key].endpoint} answered 200: .*(has_more|pages|more_topics_url)",
    ):
        run(key, [fault])
    assert len(run.log) < 10  # at once (after the page's retries), not after 10,000 pages


def test_a_forum_topic_list_that_does_not_move_on_fails_the_channel(run: Any) -> None:
    topics, _ = forum_data()
    page = {"topic_list": {"topics": topics, "more_topics_url": "/latest?page=1"}}
    fault = fault_on("forum", kind="body", body=page, content_type="application/json")
    with pytest.raises(
        InvalidResponseError, match=r"forum: GET /latest.json answered 200: page 1 lists only"
    ):
        run("forum", [fault])
    assert len([r for r in run.log if r["path"].endswith("/latest.json")]) == 2


def test_a_forum_that_ignores_before_fails_the_channel(run: Any) -> None:
    _, posts = forum_data()
    fault = {
        "service": "discourse",
        "path": r"/posts\.json$",
        "query": "before=",
        "kind": "body",
        "body": {"latest_posts": posts},
        "content_type": "application/json",
    }
    with pytest.raises(
        InvalidResponseError, match=r"forum: GET /posts.json answered 200: .*ignored `before`"
    ):
        run("forum", [fault])


def test_a_redirect_loop_on_its_own_host_is_named_as_one(run: Any) -> None:
    fault = fault_on("forum", kind="redirect", location="/discourse/latest.json?page=0")
    with pytest.raises(UpstreamError, match=r"forum: GET /latest.json answered 302: .*a redirect loop"):
        run("forum", [fault])
    assert len(run.log) == 6  # the request and five redirects, once: a loop is not retried


LINKED = "http://127.0.0.1:9/api/v4/projects/1/issues"


def test_an_empty_linked_page_that_links_a_next_page_is_invalid() -> None:
    call = Call("gitlab", "GET", "/projects/1/issues")
    json_type = {"content-type": "application/json"}
    goes_on = RawResponse(
        200, CaseInsensitiveDict({**json_type, "link": f'<{LINKED}?page=2>; rel="next"'}), "[]", LINKED
    )
    with pytest.raises(InvalidResponseError, match="an empty page links a next page"):
        linked_page(call, goes_on)
    last = RawResponse(200, CaseInsensitiveDict(json_type), "[]", LINKED)
    assert linked_page(call, last)[1] == []  # an empty last page is an empty list
    # …unless the page before linked to it from the list's total: items were lost on the way.
    with pytest.raises(InvalidResponseError, match="an empty page, though the page before it linked to it"):
        linked_page(call, last, linked_to=True)


@pytest.mark.parametrize(
    ("link", "counted"),
    [
        (f'<{LINKED}?page=2>; rel="next", <{LINKED}?page=3>; rel="last"', True),
        # GitLab past 10,000 records, or a cursor list: a full page links a next one, maybe empty.
        (f'<{LINKED}?page=2>; rel="next"', False),
        (f'<{LINKED}?page=1>; rel="prev", <{LINKED}?page=2>; rel="last"', False),
        ("", False),
    ],
)
def test_a_next_link_counted_from_the_total(link: str, counted: bool) -> None:
    assert counted_next(CaseInsensitiveDict({"link": link} if link else {})) is counted


@pytest.mark.parametrize("service", ["github", "gitlab"])
@pytest.mark.parametrize("counted", [True, False])
def test_an_empty_page_after_a_counted_next_link_fails(
    service: str, counted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = Call(service, "GET", "/list")
    json_type = {"content-type": "application/json"}
    first_link = f'<{LINKED}?page=2>; rel="next"' + (f', <{LINKED}?page=2>; rel="last"' if counted else "")
    answers = {
        f"{LINKED}?page=1": RawResponse(
            200, CaseInsensitiveDict({**json_type, "link": first_link}), "[1]", LINKED
        ),
        f"{LINKED}?page=2": RawResponse(200, CaseInsensitiveDict(json_type), "[]", LINKED),
    }

    def get_list(url: str, params: Any, linked_to: bool = False) -> Any:
        headers, items = linked_page(call, answers[url], linked_to)
        return (headers, items) if service == "github" else (call, headers, items)

    if service == "github":
        api: Any = GithubApi(Github(base_url="http://127.0.0.1:9/api/v4"), policy=FAST)
    else:
        api = GitlabApi(gitlab.Gitlab("http://127.0.0.1:9", private_token="glpat-test-token"), policy=FAST)
    monkeypatch.setattr(api, "get_list", get_list)
    if counted:
        with pytest.raises(InvalidResponseError, match="though the page before it linked to it"):
            list(api.pages(f"{LINKED}?page=1", {}))
    else:
        assert list(api.pages(f"{LINKED}?page=1", {})) == [[1], []]


@pytest.mark.parametrize("service", ["github", "gitlab"])
def test_a_next_page_link_back_to_a_page_already_read_fails(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    back = CaseInsensitiveDict({"link": f'<{LINKED}?page=1>; rel="next"'})
    if service == "github":
        api: Any = GithubApi(Github(base_url="http://127.0.0.1:9/api/v4"), policy=FAST)
        monkeypatch.setattr(api, "get_list", lambda url, params, linked_to=False: (back, [1]))
    else:
        api = GitlabApi(gitlab.Gitlab("http://127.0.0.1:9", private_token="glpat-test-token"), policy=FAST)
        monkeypatch.setattr(
            api, "get_list", lambda url, params, linked_to=False: (api._call("GET", url), back, [1])
        )
    with pytest.raises(InvalidResponseError, match="next-page link goes back to a page already read"):
        list(api.pages(f"{LINKED}?page=1", {}))


# ----- items: one bad item never drops the others -------------------------------------------------


def bad_items(key: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A list page with one good item and two bad ones; the problems expected (item → field)."""
    if key == "github":
        good = github_issue(REPO, 1, "Good", "u", NOW - days(1))
        labels = {**github_issue(REPO, 2, "Labels", "u", NOW - days(1)), "labels": "bug"}
        no_time = github_issue(REPO, 3, "No time", "u", NOW - days(1))
        del no_time["created_at"]
        return {"body": [good, labels, no_time]}, {
            "o/r#2": "field 'labels'",
            "o/r#3": "field 'created_at' is missing",
        }
    if key == "gitlab":
        good = gitlab_issue(PROJECT, 1, "Good", "u", NOW - days(1))
        labels = {**gitlab_issue(PROJECT, 2, "Labels", "u", NOW - days(1)), "labels": "Mattermost"}
        no_author = {**gitlab_issue(PROJECT, 3, "Author", "u", NOW - days(1)), "author": {"name": "x"}}
        expected = {f"{PROJECT}#2": "field 'labels'", f"{PROJECT}#3": "field 'author.username' is missing"}
        return {"body": [good, labels, no_author]}, expected
    if key == "forum":
        topics, _ = forum_data()
        topics[1]["created_at"] = "yesterday"
        del topics[2]["id"]
        body = {"topic_list": {"topics": topics}}
        return {"body": body}, {
            f"{FORUM}/t/topic-101/101": "field 'created_at'",
            "without an id": "field 'id' is missing",
        }
    if key == "stackoverflow":
        good = se_question(1001, "Good", "a", NOW - days(1))
        no_time = se_question(1002, "No time", "a", NOW - days(1))
        del no_time["creation_date"]
        tags = {**se_question(1003, "Tags", "a", NOW - days(1)), "tags": "mattermost"}
        body = {
            "items": [good, no_time, tags],
            "has_more": False,
            "quota_max": 10000,
            "quota_remaining": 9000,
        }
        expected = {
            "/questions/1002/": "field 'creation_date' is missing",
            "/questions/1003/": "field 'tags'",
        }
        return {"body": body}, expected
    if key == "uservoice":
        good = uv_suggestion(50_001, "Good", NOW - days(1), creator=1)
        no_time = uv_suggestion(50_002, "No time", NOW - days(1))
        del no_time["created_at"]
        links = {**uv_suggestion(50_003, "Links", NOW - days(1)), "links": {"status": "planned"}}
        body = {
            "suggestions": [good, no_time, links],
            "pagination": {"page": 1, "per_page": 100, "total_pages": 1},
        }
        return {"body": body}, {"/50002-": "field 'created_at' is missing", "/50003-": "field 'links.status'"}
    good = jira_issue("MM-1", "Good", NOW - days(1))
    no_key = jira_issue("MM-2", "No key", NOW - days(1))
    del no_key["key"]
    versions = jira_issue("MM-3", "Versions", NOW - days(1))
    versions["fields"]["fixVersions"] = "v11.1"
    body = {"issues": [good, no_key, versions], "isLast": True}
    return {"body": body}, {"search result 2": "field 'key' is missing", "MM-3": "field 'fields.fixVersions'"}


@pytest.mark.parametrize("key", list(CHANNELS))
def test_a_malformed_item_is_skipped_and_named_and_the_others_kept(run: Any, key: str) -> None:
    page, expected = bad_items(key)
    items, problems = run(key, [fault_on(key, kind="body", times=1, **page)])
    # The forum's topic listed without an id is still named, and read from its own view all the
    # same (its first post is in /posts.json: a topic /latest.json did not list by its id).
    assert len(items) == (2 if key == "forum" else 1)
    assert len(problems) == 2
    assert all(problem.channel == key for problem in problems)
    for item, field in expected.items():
        assert [p for p in problems if item in p.item and field in p.problem], (item, field, problems)


# ----- the forum's first posts ----------------------------------------------------------------------


def forum_with_an_imported_post(root: Path, faults: list[dict[str, Any]] | None = None) -> Path:
    """Topic 100's first post (id 1) lies behind a page of old imported posts (ids 3-102) in
    /posts.json order (50 a page): the walk ends at that page without reaching it."""
    a1 = forum_post(1, 100, 1, "alice", NOW - days(2), raw="First post of A")
    old = [
        forum_post(3 + n, 102, 1 + n, "import", NOW - days(60), raw="Imported long ago") for n in range(100)
    ]
    b1 = forum_post(104, 101, 1, "bob", NOW - days(1), raw="First post of B")
    b2 = forum_post(105, 101, 2, "carol", NOW - days(0.5), raw="Reply to B")
    topics = [
        forum_topic(100, "A", NOW - days(2), [a1]),
        forum_topic(101, "B", NOW - days(1), [b1, b2]),
        forum_topic(102, "Old", NOW - days(60), old),
    ]
    return write_scenario(root, NOW, topics=topics, posts=[a1, *old, b1, b2], faults=faults)


def forum_with_posts_out_of_id_order(root: Path) -> Path:
    """Old imported posts (ids 3-12) among the window's posts on one page: passed over, not the end."""
    a1 = forum_post(1, 100, 1, "alice", NOW - days(2), raw="First post of A")
    a2 = forum_post(2, 100, 2, "dave", NOW - days(1.5), raw="Try raising the proxy timeout.")
    old = [
        forum_post(3 + n, 102, 1 + n, "import", NOW - days(60), raw="Imported long ago") for n in range(10)
    ]
    b1 = forum_post(14, 101, 1, "bob", NOW - days(1), raw="First post of B")
    topics = [
        forum_topic(100, "A", NOW - days(2), [a1, a2]),
        forum_topic(101, "B", NOW - days(1), [b1]),
        forum_topic(102, "Old", NOW - days(60), old),
    ]
    return write_scenario(root, NOW, topics=topics, posts=[a1, a2, *old, b1])


def test_old_posts_among_the_windows_posts_do_not_end_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items, problems, paths = read_forum_from(forum_with_posts_out_of_id_order(tmp_path / "s"), monkeypatch)
    assert problems == []
    by_title = {post.title: post for post in items}
    assert sorted(by_title) == ["A", "B"]
    assert [r.author for r in by_title["A"].replies] == ["dave"]
    assert not [path for path in paths if "/t/" in path]  # all from /posts.json


def forum_with_a_long_topic(root: Path) -> Path:
    """Topic 100's first post lies behind a page of imported posts, and it has 25 posts: its view
    inlines 20, the last 5 (a staff question, the author's answer) are read by id."""
    thread = [forum_post(1, 100, 1, "alice", NOW - days(5), raw="Websockets drop behind our proxy")]
    thread += [
        forum_post(n, 100, n, "alice", NOW - days(4.9), raw=f"More logs, part {n}") for n in range(2, 24)
    ]
    thread.append(forum_post(24, 100, 24, "amy.staff", NOW - days(2), raw="Which proxy is it?", staff=True))
    thread.append(forum_post(25, 100, 25, "alice", NOW - days(1), raw="nginx 1.24"))
    old = [
        forum_post(26 + n, 102, 1 + n, "import", NOW - days(60), raw="Imported long ago") for n in range(100)
    ]
    topics = [
        forum_topic(100, "A", NOW - days(5), thread),
        forum_topic(102, "Old", NOW - days(60), old),
    ]
    return write_scenario(root, NOW, topics=topics, posts=[*thread, *old])


def test_a_long_topic_read_from_its_view_keeps_its_posts_past_the_first_20(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items, problems, paths = read_forum_from(forum_with_a_long_topic(tmp_path / "s"), monkeypatch)
    assert problems == []
    [topic] = [post for post in items if post.title == "A"]
    assert [r.author for r in topic.replies][-2:] == ["amy.staff", "alice"]
    assert len(topic.replies) == 24
    assert paths.count("/discourse/t/100.json") == 1
    assert paths.count("/discourse/t/100/posts.json") == 1  # the 5 past the view's 20, in one call


def read_forum_from(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[ItemProblem], list[str]]:
    problems: list[ItemProblem] = []
    with Sandbox(root) as sandbox:
        items = read_forum(sandbox, monkeypatch, problems, [])
        paths = [r["path"] for r in sandbox.requests_log]
    return items, problems, paths


def test_a_topic_whose_first_post_is_not_in_posts_json_is_read_from_the_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items, problems, paths = read_forum_from(forum_with_an_imported_post(tmp_path / "s"), monkeypatch)
    assert problems == []
    by_title = {post.title: post for post in items}
    assert sorted(by_title) == ["A", "B"]
    assert (by_title["A"].author, by_title["A"].body) == ("alice", "First post of A")
    assert [r.author for r in by_title["B"].replies] == ["carol"]
    assert paths.count("/discourse/t/100.json") == 1  # only the topic that needed it
    assert "/discourse/t/101.json" not in paths


def test_a_first_post_that_cannot_be_read_is_named_never_skipped_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = [{"service": "discourse", "path": r"/t/100\.json$", "status": 500}]
    items, problems, _ = read_forum_from(forum_with_an_imported_post(tmp_path / "s", faults), monkeypatch)
    assert [post.title for post in items] == ["B"]
    [problem] = problems
    assert (problem.channel, problem.item) == ("forum", f"{FORUM}/t/topic-100/100")
    assert "/t/100.json failed" in problem.problem
    assert "answered 500" in problem.problem


# ----- rate limits in each service's own form, at the HTTP layer ----------------------------------


def test_github_429_with_retry_after_is_waited_out(run: Any) -> None:
    sleeps: list[float] = []
    items, _ = run("github", [fault_on("github", status=429, retry_after=2, times=1)], sleeps)
    assert len(items) == 3
    assert sleeps == [2.0]


def test_github_secondary_rate_limit_without_headers_waits_a_minute(run: Any) -> None:
    message = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    }
    sleeps: list[float] = []
    items, _ = run("github", [fault_on("github", status=403, body=message, times=1)], sleeps)
    assert len(items) == 3
    assert sleeps == [60.0]


def test_gitlab_429_is_waited_out(run: Any) -> None:
    sleeps: list[float] = []
    items, _ = run("gitlab", [fault_on("gitlab", status=429, retry_after=3, times=1)], sleeps)
    assert len(items) == 3
    assert sleeps == [3.0]


def test_stack_exchange_throttle_error_is_waited_out(run: Any) -> None:
    throttle = {
        "error_id": 502,
        "error_name": "throttle_violation",
        "error_message": "too many requests from this IP, more requests available in 4 seconds",
    }
    sleeps: list[float] = []
    items, _ = run("stackoverflow", [fault_on("stackoverflow", status=400, body=throttle, times=1)], sleeps)
    assert len(items) == 3
    assert sleeps == [4.0]


def test_a_stack_exchange_throttle_longer_than_allowed_fails_naming_it(run: Any) -> None:
    throttle = {
        "error_id": 502,
        "error_name": "throttle_violation",
        "error_message": "available in 86000 seconds",
    }
    with pytest.raises(UpstreamError, match=r"answered 400: asked to wait 86000s.*throttle_violation"):
        run("stackoverflow", [fault_on("stackoverflow", status=400, body=throttle)])


def test_discourse_429_wait_seconds_is_waited_out(run: Any) -> None:
    sleeps: list[float] = []
    items, _ = run("forum", [fault_on("forum", status=429, retry_after=5, times=1)], sleeps)
    assert len(items) == 3
    assert sleeps == [5.0]


def test_iso_helper_matches_the_sandbox() -> None:
    assert iso(NOW) == "2026-11-18T09:00:00Z"


@pytest.mark.parametrize("flag", ["closed", "archived"])
def test_a_forum_topic_listed_without_closed_or_archived_is_named_not_read_as_open(
    run: Any, flag: str
) -> None:
    """Discourse sends both flags with every topic. Read as False, a closed topic listed without
    them passed for open and was listed as waiting for an answer (Help Wanted, the weekly review's
    aged-out section), on a green run."""
    topics, _ = forum_data()
    topics[1]["closed"] = True
    del topics[1][flag]
    page = {"body": {"topic_list": {"topics": topics}}}
    items, problems = run("forum", [fault_on("forum", kind="body", **page)])
    assert [p.item for p in problems] == [f"{FORUM}/t/topic-101/101"]
    assert f"field '{flag}' is missing" in problems[0].problem
    assert all(not (post.source_id == "101" and post.state == "open") for post in items)
