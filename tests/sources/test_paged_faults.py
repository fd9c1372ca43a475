"""A fault on the last page of a channel's list, through the real clients and the sandbox (SPEC §6,
§8): the pages before it were read and their items handed on. A fault the retries mend leaves each
item read exactly once (a page asked again is not a second copy of its items); one they cannot mend
fails the channel, naming the call, never a shorter list in a green run.

Each channel's list spans two pages at the client's page size, so its page 2 is its last page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_source_answers import CHANNELS, HTML, NOW, PROJECT, REPO, scenario, write_json

from community_monitoring.sources import ItemProblem
from community_monitoring.sources.http import UpstreamError
from community_sandbox import Sandbox
from scenario_files import days, forum_post, forum_topic, github_issue
from scenario_files_more import gitlab_issue, se_question
from scenario_files_uv_jira import jira_issue, uv_suggestion

# (items in the list: two pages at the page size the client asks for, the query of its page 2).
# PyGithub asks for 30 a page unless told; Discourse's /latest.json lists 30 topics a page from page 0;
# the others ask for 100; Jira's next page is asked by its token.
PAGED: dict[str, tuple[int, str]] = {
    "github": (45, r"(^|&)page=2(&|$)"),
    "gitlab": (130, r"(^|&)page=2(&|$)"),
    "forum": (45, r"(^|&)page=1(&|$)"),
    "stackoverflow": (130, r"(^|&)page=2(&|$)"),
    "uservoice": (130, r"(^|&)page=2(&|$)"),
    "jira": (130, r"(^|&)nextPageToken="),
}


def created(n: int) -> Any:
    return NOW - days(1) - days(n / 10)  # all in the read window, a tenth of a day apart


def paged_scenario(root: Path, faults: list[dict[str, Any]]) -> Path:
    """The six channels' scenario, each list long enough for two pages."""
    scenario(root, faults)
    count = {key: PAGED[key][0] for key in PAGED}
    issues = [
        github_issue(REPO, n, f"Issue {n}", f"user{n}", created(n)) for n in range(1, count["github"] + 1)
    ]
    write_json(root / "github" / REPO, {"issues": issues, "comments": [], "releases": []})
    gl = [
        gitlab_issue(PROJECT, n, f"Issue {n}", f"user{n}", created(n)) for n in range(1, count["gitlab"] + 1)
    ]
    write_json(root / "gitlab" / PROJECT, {"issues": gl, "notes": []})
    topics, posts = [], []
    for n in range(1, count["forum"] + 1):
        # Each with a reply: /posts.json (50 a page) lists the window's posts over two pages too.
        thread = [
            forum_post(10_000 + n, 100 + n, 1, f"asker{n}", created(n), raw=f"Question {n}"),
            forum_post(20_000 + n, 100 + n, 2, "helper", created(n) + days(0.01), raw=f"Try this, {n}"),
        ]
        topics.append(forum_topic(100 + n, f"Topic {n}", created(n), thread))
        posts += thread
    write_json(root / "discourse", {"topics": topics, "posts": posts})
    questions = [
        se_question(1000 + n, f"Q{n}", f"asker{n}", created(n)) for n in range(1, count["stackoverflow"] + 1)
    ]
    write_json(root / "stackexchange", {"questions": questions, "answers": [], "comments": []})
    suggestions = [
        uv_suggestion(50_000 + n, f"Idea {n}", created(n), creator=1, status=7)
        for n in range(1, count["uservoice"] + 1)
    ]
    write_json(root / "uservoice", {"suggestions": suggestions, "comments": []})
    tickets = [jira_issue(f"MM-{n}", f"Ticket {n}", created(n)) for n in range(1, count["jira"] + 1)]
    write_json(root / "jira", {"issues": tickets, "remotelinks": {}})
    return root


def ids(items: list[Any]) -> list[str]:
    """Each item's id, with its replies' (a post's thread read whole)."""
    return sorted(
        f"{getattr(item, 'source_id', None) or item.key}: "
        + ",".join(r.reply_id for r in getattr(item, "replies", ()))
        for item in items
    )


@pytest.fixture
def read_paged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dict[str, Any] | None], tuple[list[Any], list[ItemProblem], list[dict[str, Any]]]]:
    """``read_paged(channel, fault on its list's page 2 or None, where=(path, query) of another
    paged read)`` → (items, problems, the request log)."""

    def read(key: str, fault: dict[str, Any] | None, where: tuple[str, str] | None = None) -> Any:
        channel = CHANNELS[key]
        path, query = where or (channel.list_path, PAGED[key][1])
        faults = (
            [] if fault is None else [{"service": channel.service, "path": path, "query": query, **fault}]
        )
        problems: list[ItemProblem] = []
        log: list[dict[str, Any]] = []
        try:
            with Sandbox(
                paged_scenario(tmp_path / f"{key}-{len(list(tmp_path.iterdir()))}", faults)
            ) as sandbox:
                try:
                    return channel.read(sandbox, monkeypatch, problems, []), problems, log
                finally:
                    log.extend(sandbox.requests_log)
        except Exception as exc:
            exc.add_note(json.dumps(log))
            raise

    return read


# Faults the retries mend (once), and the same kinds past them (a 3-attempt policy: 4 times).
FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "reset": {"kind": "reset"},
    "stall past the read timeout": {"kind": "stall", "seconds": 2},
    "cut mid-answer": {"kind": "cut"},
    "HTML page with 200": {"kind": "body", "body": HTML, "content_type": "text/html"},
    "{} with 200": {"kind": "body", "body": {}},
}
ERRORS = {
    "500": "answered 500",
    "reset": "connection reset or closed before a complete answer",
    "stall past the read timeout": "read timeout",
    "cut mid-answer": "",
    "HTML page with 200": "answered 200: Content-Type is text/html",
    "{} with 200": "answered 200: ",
}


def list_requests(key: str, log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    path = CHANNELS[key].list_path
    return [entry for entry in log if re.search(path, entry["path"])]


@pytest.mark.parametrize("kind", list(FAULTS))
@pytest.mark.parametrize("key", list(PAGED))
def test_a_last_page_that_fails_once_is_asked_again_and_each_item_is_read_once(
    read_paged: Any, key: str, kind: str
) -> None:
    whole, _, _ = read_paged(key, None)
    assert len(whole) == PAGED[key][0], "every item, fault-free, over two pages"
    items, problems, log = read_paged(key, {"times": 1, **FAULTS[kind]})
    assert problems == []
    assert ids(items) == ids(whole)
    assert len(set(ids(items))) == len(items), "an item of a page asked again was read twice"
    faulted = [entry for entry in list_requests(key, log) if entry.get("fault")]
    assert len(faulted) == 1, "the fault was on one request"


@pytest.mark.parametrize("kind", list(FAULTS))
@pytest.mark.parametrize("key", list(PAGED))
def test_a_last_page_that_fails_past_the_retries_fails_the_channel_not_a_shorter_list(
    read_paged: Any, key: str, kind: str
) -> None:
    with pytest.raises(UpstreamError, match=rf"^{CHANNELS[key].endpoint} .*{ERRORS[kind]}") as err:
        read_paged(key, {"times": 4, **FAULTS[kind]})
    log = json.loads(err.value.__notes__[-1])
    answered = [entry for entry in list_requests(key, log) if not entry.get("fault")]
    assert answered, "page 1 was read before page 2 failed"


THROTTLE = {
    "error_id": 502,
    "error_name": "throttle_violation",
    "error_message": "too many requests from this IP, more requests available in 4 seconds",
}
# Each service's own "not now" on page 2, once: waited out (or, UserVoice's 401, a new token), then
# page 2 is asked again.
RATE_LIMITED: dict[str, dict[str, Any]] = {
    "github": {"status": 403, "body": {"message": "You have exceeded a secondary rate limit."}},
    "gitlab": {"status": 429, "retry_after": 3},
    "forum": {"status": 429, "retry_after": 5},
    "stackoverflow": {"status": 400, "body": THROTTLE},
    "uservoice": {"status": 401},
    "jira": {"status": 429, "retry_after": 2},
}


@pytest.mark.parametrize("key", list(PAGED))
def test_a_rate_limit_on_the_last_page_is_waited_out_and_each_item_is_read_once(
    read_paged: Any, key: str
) -> None:
    items, problems, log = read_paged(key, {"times": 1, **RATE_LIMITED[key]})
    assert problems == []
    assert len(items) == PAGED[key][0]
    assert len(set(ids(items))) == len(items)
    assert [entry["status"] for entry in list_requests(key, log) if entry.get("fault")] == [
        RATE_LIMITED[key]["status"]
    ]


# The forum's replies come from /posts.json, walked back by ``before`` (its page 2 asks with one).
FORUM_POSTS = (r"/posts\.json$", r"(^|&)before=")


@pytest.mark.parametrize("kind", list(FAULTS))
def test_a_forum_posts_page_that_fails_once_leaves_every_reply_read_once_and_past_the_retries_fails(
    read_paged: Any, kind: str
) -> None:
    whole, _, log = read_paged("forum", None)
    assert len([r for r in log if re.search(FORUM_POSTS[0], r["path"])]) >= 2, "two pages of posts"
    assert all(": 2" in entry for entry in ids(whole)), "every topic with its reply"
    items, problems, _ = read_paged("forum", {"times": 1, **FAULTS[kind]}, FORUM_POSTS)
    assert (ids(items), problems) == (ids(whole), [])
    with pytest.raises(UpstreamError, match=rf"^forum: GET /posts.json .*{ERRORS[kind]}"):
        read_paged("forum", {"times": 4, **FAULTS[kind]}, FORUM_POSTS)
