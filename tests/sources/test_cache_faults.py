"""A per-item read that fails for good partway through a channel, then the next run, with the item
cache in between (SPEC §9, §6): the channel fails, and the next run reads again only the items it did
not finish (each read item was kept), serving the others from the cache; no item is skipped or
served from a read that did not finish.

GitLab notes and Jira remote links are read one item at a time (``item_cache.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gitlab
import pytest
from test_source_answers import FAST, NOW, PROJECT, SECRETS, SINCE, connect, scenario, write_json

from community_monitoring.item_cache import ItemCache
from community_monitoring.sources import ItemProblem
from community_monitoring.sources.gitlab import GitlabIssuesClient, fetch_gitlab_issues
from community_monitoring.sources.http import ApiClient, UpstreamError
from community_monitoring.sources.jira import JiraClient, fetch_jira_tickets
from community_sandbox import Sandbox
from scenario_files import days
from scenario_files_uv_jira import jira_issue, remote_link


def read_gitlab(sandbox: Sandbox, mp: pytest.MonkeyPatch, cache: ItemCache) -> list[Any]:
    gl = gitlab.Gitlab(f"{sandbox.base_url}/gitlab", private_token=SECRETS["gitlab"], timeout=FAST.timeout)  # type: ignore[arg-type]
    client = GitlabIssuesClient(gl, FAST, sleep=lambda _: None)
    problems: list[ItemProblem] = []
    posts = list(fetch_gitlab_issues(client, {PROJECT: ["Mattermost"]}, SINCE, NOW, problems, cache=cache))
    assert problems == []
    return sorted((post.source_id, [reply.author for reply in post.replies]) for post in posts)


def read_jira(sandbox: Sandbox, mp: pytest.MonkeyPatch, cache: ItemCache) -> list[Any]:
    connect(mp, "jira_t", f"{sandbox.base_url}/jira", login="bot@example.com", password=SECRETS["jira"])
    client = JiraClient(ApiClient("jira_t", "jira", policy=FAST, sleep=lambda _: None))
    problems: list[ItemProblem] = []
    tickets = list(
        fetch_jira_tickets(client, "project = MM", SINCE, "https://jira.example", True, problems, cache=cache)
    )
    assert problems == []
    return sorted((ticket.key, list(ticket.linked_urls)) for ticket in tickets)


# (the per-item read's path: its item's id in group 1, how to read the channel, the item failing)
PER_ITEM: dict[str, tuple[str, Callable[[Sandbox, pytest.MonkeyPatch, ItemCache], list[Any]], str]] = {
    "gitlab notes": (r"/issues/(\d+)/notes$", read_gitlab, "2"),
    "jira remote links": (r"/issue/(MM-\d+)/remotelink$", read_jira, "MM-2"),
}


def items_read(log: list[dict[str, Any]], path: str) -> list[str]:
    """The items whose per-item read was answered (a fault's requests left out)."""
    found = [(re.search(path, r["path"]), r) for r in log]
    return [match.group(1) for match, r in found if match and not r.get("fault")]


def fail_then_read(
    root: Path, read: Callable[..., list[Any]], path: str, mp: pytest.MonkeyPatch, cache: ItemCache
) -> tuple[list[str], list[Any], list[str]]:
    """A run the scenario's fault fails, then the next one against the same upstream and cache:
    (the items read by the first, what the second returns, the items read by the second)."""
    with Sandbox(root) as running:
        with pytest.raises(UpstreamError, match="answered 500"):
            read(running, mp, cache)
        first = items_read(running.requests_log, path)
        start = len(running.requests_log)
        items = read(running, mp, cache)
        return first, items, items_read(running.requests_log[start:], path)


@pytest.mark.parametrize("what", list(PER_ITEM))
def test_after_a_per_item_read_fails_the_next_run_reads_only_what_was_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    path, read, failing = PER_ITEM[what]
    cache = ItemCache.from_url(f"sqlite:///{tmp_path / 'cache.db'}")
    item_path = path.replace(r"(\d+)", failing).replace(r"(MM-\d+)", failing)
    service = "gitlab" if what.startswith("gitlab") else "jira"
    # On every attempt of the first run (the channel fails); the upstream answers again after that.
    broken = {"service": service, "path": item_path, "status": 500, "times": FAST.max_attempts}

    done_before, items, read_now = fail_then_read(
        scenario(tmp_path / "s", [broken]), read, path, monkeypatch, cache
    )
    assert failing not in done_before
    assert done_before, "an item was read before the failing one"
    # Nothing skipped: each item with its replies or links, as a run without a cache reads them.
    with Sandbox(scenario(tmp_path / "uncached")) as fresh:
        assert items == read(fresh, monkeypatch, ItemCache.disabled())
        every = items_read(fresh.requests_log, path)
    assert len(every) == 3
    # The items read before the failure were kept: only the rest is read again.
    assert sorted(read_now) == sorted(set(every) - set(done_before)), (done_before, read_now)


def test_a_search_page_failing_right_after_the_page_before_was_cached_reads_only_its_own_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jira's search page 2 fails past the retries right after page 1's remote links were stored: the
    next run serves page 1's from the cache and reads page 2's alone."""
    root = scenario(
        tmp_path / "s",
        [
            {
                "service": "jira",
                "path": r"/search/jql$",
                "query": "nextPageToken=",
                "status": 500,
                "times": FAST.max_attempts,
            }
        ],
    )
    tickets = [jira_issue(f"MM-{n}", f"Ticket {n}", NOW - days(1) - days(n / 200)) for n in range(1, 131)]
    links = {f"MM-{n}": [remote_link(n, f"MM-{n}", f"https://feedback.example/s/{n}")] for n in range(1, 131)}
    write_json(root / "jira", {"issues": tickets, "remotelinks": links})
    cache = ItemCache.from_url(f"sqlite:///{tmp_path / 'cache.db'}")
    path = PER_ITEM["jira remote links"][0]
    first, items, second = fail_then_read(root, read_jira, path, monkeypatch, cache)
    assert len(first) == 100, "page 1's links were read (and kept) before page 2 was asked for"
    assert len(items) == 130
    assert sorted(second) == sorted({f"MM-{n}" for n in range(1, 131)} - set(first))
