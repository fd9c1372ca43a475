"""Jira extraction through HttpHook against the sandbox: tickets, linked suggestions and requests."""

from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from community_monitoring.item_cache import ItemCache
from community_monitoring.records import (
    JiraTicket,
    JiraVersion,
    read_records,
    record_to_dict,
    suggestion_id_from_url,
    ticket_from_dict,
    write_records,
)
from community_monitoring.settings import load_settings
from community_monitoring.sources import FetchRequest, ItemProblem
from community_monitoring.sources.http import ApiClient, Call, InvalidResponseError, UpstreamError
from community_monitoring.sources.jira import (
    FIELDS,
    JiraClient,
    build_jql,
    fetch_for,
    fetch_jira_tickets,
    normalise_ticket,
    release_clause,
)
from community_sandbox import Sandbox
from scenario_files import days
from scenario_files_uv_jira import (
    adf,
    jira_issue,
    portal_url,
    remote_link,
    write_uv_jira_scenario,
)

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
BROWSE = "https://mattermost.atlassian.net/"
TICKETS = 120  # matching tickets: more than one search page (the client asks for 100)
SEARCH = "/jira/rest/api/3/search/jql"
LOOKBACK_START = NOW - timedelta(days=30)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def jira_data() -> tuple[list[dict], dict[str, list[dict]]]:
    # MM-1..MM-120 updated every 6 hours back from T-1h: all inside a 30-day lookback.
    issues = [
        jira_issue(f"MM-{n}", f"Ticket {n}", NOW - hours(1 + (n - 1) * 6)) for n in range(1, TICKETS + 1)
    ]
    issues[0] = jira_issue(
        "MM-1",
        "Read receipts",
        NOW - hours(1),
        status="Done",
        resolution="Done",
        resolved=NOW - hours(2),
        fix_versions=("v11.1", "v11.0.3"),
        labels=("SAML", "Help Wanted"),
        description="See the linked UserVoice suggestion for the discussion.",
    )
    issues[1] = jira_issue(
        "MM-2",
        "Markdown tables",
        NOW - hours(7),
        status="Closed",
        category="Done",
        resolution="Won't Do",
        # Plain-text description (Server, API v2 style) with the portal URL in it.
        description=f"Requested on UserVoice: {portal_url(44_120_877, 'tables')}\n\nAlso {portal_url(44_120_878)}",
    )
    issues[2] = jira_issue(
        "MM-3",
        "Tray icon",
        NOW - hours(13),
        status="In Progress",
        fix_versions=("v11.2",),
        # Cloud's Atlassian document: a URL in text, a link mark and an inline card.
        description=adf(
            [{"type": "text", "text": f"Requested on UserVoice: {portal_url(44_755_002)} (the main one)"}],
            [
                {
                    "type": "text",
                    "text": "also this one",
                    "marks": [{"type": "link", "attrs": {"href": portal_url(44_755_003)}}],
                },
                {"type": "inlineCard", "attrs": {"url": portal_url(44_755_004)}},
            ],
            [{"type": "text", "text": "GitHub: https://github.com/mattermost/mattermost/issues/34450"}],
        ),
    )
    # Outside the base JQL (another project) or the lookback: never returned.
    issues += [
        jira_issue("OPS-1", "Other project", NOW - hours(2), description=portal_url(1)),
        jira_issue("MM-900", "Old", NOW - days(45), description=portal_url(2)),
    ]
    remotelinks = {
        "MM-1": [
            remote_link(10_001, "MM-1", portal_url(43_871_022, "read-receipts")),
            remote_link(10_002, "MM-1", "https://github.com/mattermost/mattermost/issues/34450", "GitHub"),
        ],
        # The same suggestion as in the description: one link, not two.
        "MM-2": [remote_link(10_003, "MM-2", portal_url(44_120_877, "tables"))],
        "MM-4": [remote_link(10_004, "MM-4", "https://mattermost.uservoice.com/forums/306457/suggestions/")],
        "OPS-1": [remote_link(10_005, "OPS-1", portal_url(3))],
    }
    return issues, remotelinks


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, base: str) -> None:
    conn = {"conn_type": "http", "host": f"{base}/jira", "login": "bot@example.com", "password": "api-token"}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    issues, remotelinks = jira_data()
    scenario = write_uv_jira_scenario(tmp_path / "s", NOW, jira_issues=issues, remotelinks=remotelinks)
    with Sandbox(scenario) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        yield running


def fetch(
    remote_links: bool = True,
    base: str = "project = MM",
    cache: ItemCache | None = None,
    since: datetime = LOOKBACK_START,
    problems: list[ItemProblem] | None = None,
) -> dict[str, JiraTicket]:
    client = JiraClient.from_connection("jira_test")
    tickets = fetch_jira_tickets(
        client, base, since, BROWSE, remote_links=remote_links, problems=problems, cache=cache
    )
    return {t.key: t for t in tickets}


def remote_link_calls(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests_log if r["path"].endswith("/remotelink")]


def test_tickets_over_several_pages_newest_first(sandbox: Sandbox) -> None:
    tickets = fetch()
    assert list(tickets) == [f"MM-{n}" for n in range(1, TICKETS + 1)]  # ORDER BY updated DESC

    searches = [r for r in sandbox.requests_log if r["path"] == SEARCH]
    assert len(searches) == 2  # 100 + 20
    # Twelve hours before the lookback's start: Jira reads the date in the API user's time zone.
    jql = 'project = MM AND updated >= "2026-10-18 21:00" ORDER BY updated DESC'
    assert searches[0]["query"] == {"jql": [jql], "fields": [FIELDS], "maxResults": ["100"]}
    assert searches[1]["query"]["jql"] == [jql]
    assert searches[1]["query"]["fields"] == [FIELDS]
    assert searches[1]["query"]["nextPageToken"] != [""]
    assert all(r["status"] == 200 for r in sandbox.requests_log)

    # Remote links are read once per returned ticket, and for no other ticket.
    per_key = Counter(path.split("/")[-2] for path in remote_link_calls(sandbox))
    assert per_key == Counter(list(tickets))
    assert len(sandbox.requests_log) == 2 + TICKETS


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Etc/GMT+12", "Pacific/Kiritimati"])
def test_the_lookback_starts_where_it_should_whatever_the_api_users_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """Jira reads a JQL date as a wall time of the API user's zone: behind UTC (Los Angeles, UTC-12)
    a date written in UTC starts the search hours late, and tickets updated just after the lookback
    began were lost; ahead of UTC (UTC+14) it starts early, and the early ones are left out here."""
    since = NOW - days(1)
    issues = [
        jira_issue("MM-1", "At the start", since),
        jira_issue("MM-2", "An hour in", since + hours(1)),
        jira_issue("MM-3", "Eleven hours in", since + hours(11)),
        jira_issue("MM-4", "An hour early", since - hours(1)),
        jira_issue("MM-5", "Thirteen hours early", since - hours(13)),
    ]
    scenario = write_uv_jira_scenario(tmp_path / "s", NOW, jira_issues=issues)
    (scenario / "jira" / "myself.json").write_text(json.dumps({"timeZone": zone}))
    with Sandbox(scenario) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        tickets = fetch(remote_links=False, since=since)
    assert sorted(tickets) == ["MM-1", "MM-2", "MM-3"]


class ScriptedSearch:
    """Answers the search with the pages given, in order; records each call's parameters."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def get_page(self, endpoint: str, model: Any, params: dict[str, Any]) -> Any:
        self.calls.append(dict(params))
        return model.model_validate(self.pages[len(self.calls) - 1])

    def call(self, method: str, endpoint: str) -> Call:
        return Call("jira", method, endpoint)


@pytest.mark.parametrize(
    ("pages", "keys", "tokens_sent"),
    [
        pytest.param(
            [{"issues": ["MM-1"], "nextPageToken": "t1"}, {"issues": ["MM-2"]}],
            ["MM-1", "MM-2"],
            [None, "t1"],
            id="isLast left out: the token pages",
        ),
        pytest.param(
            [{"issues": ["MM-1"], "nextPageToken": "t1", "isLast": True}, {"issues": [], "isLast": True}],
            ["MM-1"],
            [None, "t1"],
            id="a token beside isLast true is still followed",
        ),
        pytest.param(
            [
                {"issues": ["MM-1"], "nextPageToken": "t1", "isLast": False},
                {"issues": ["MM-2"], "isLast": True},
            ],
            ["MM-1", "MM-2"],
            [None, "t1"],
            id="as documented",
        ),
    ],
)
def test_search_follows_next_page_token(
    pages: list[dict[str, Any]], keys: list[str], tokens_sent: list[str | None]
) -> None:
    api = ScriptedSearch(pages)
    assert list(JiraClient(api).search("project = MM")) == keys  # type: ignore[arg-type]
    assert [call.get("nextPageToken") for call in api.calls] == tokens_sent


def test_a_token_given_twice_is_an_invalid_answer_not_an_endless_search() -> None:
    api = ScriptedSearch([{"issues": ["MM-1"], "nextPageToken": "t1"}] * 3)
    with pytest.raises(UpstreamError, match="the same nextPageToken came back twice"):
        list(JiraClient(api).search("project = MM"))  # type: ignore[arg-type]
    assert len(api.calls) == 2


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        pytest.param(
            [
                {"issues": [{"id": "1", "key": "MM-1"}], "nextPageToken": "t1"},
                {"issues": [], "nextPageToken": "t2"},
            ],
            "page 2 is empty but carries a nextPageToken",
            id="an empty page that goes on",
        ),
        pytest.param(
            [{"issues": [{"id": "1", "key": "MM-1"}], "nextPageToken": f"t{n}"} for n in range(5)],
            "page 2 holds only items of earlier pages",
            id="the first page again under new tokens",
        ),
        pytest.param(
            [
                {"issues": [{"id": "1", "key": "MM-1"}], "nextPageToken": "t1"},
                {"issues": [{"id": "2", "key": "MM-2"}], "isLast": False},
            ],
            "page 2 says isLast: false but carries no nextPageToken",
            id="not the last page, and no way to the next",
        ),
    ],
)
def test_a_search_that_pages_on_without_new_tickets_is_an_invalid_answer(
    pages: list[dict[str, Any]], message: str
) -> None:
    """A Jira answering new tokens for ever would otherwise be asked until the task's timeout; one
    that says there is more but not how to ask for it would lose the rest in a green run."""
    api = ScriptedSearch(pages)
    with pytest.raises(
        InvalidResponseError, match=rf"^jira: GET /rest/api/3/search/jql answered 200: {message}"
    ):
        list(JiraClient(api).search("project = MM"))  # type: ignore[arg-type]
    assert len(api.calls) == 2


# Where the lookback starts in the JQL (NOW less 30 days, less JQL_ZONE_SLACK).
SINCE_JQL = 'updated >= "2026-10-18 21:00"'


@pytest.mark.parametrize(
    ("base", "narrow", "expected"),
    [
        pytest.param(
            "project = MM ORDER BY created DESC",
            'fixVersion in ("11.1")',
            f'project = MM AND fixVersion in ("11.1") AND {SINCE_JQL} ORDER BY updated DESC',
            id="a clause added to a JQL with its own ORDER BY is kept",
        ),
        pytest.param(
            "project = MM OR labels = UserVoice",
            None,
            f"(project = MM OR labels = UserVoice) AND {SINCE_JQL} ORDER BY updated DESC",
            id="OR: the configured query is grouped, AND binds tighter",
        ),
        pytest.param(
            "project = MM or labels = UserVoice order by key",
            'fixVersion in ("11.1")',
            f'(project = MM or labels = UserVoice) AND fixVersion in ("11.1") AND {SINCE_JQL} '
            "ORDER BY updated DESC",
            id="lower case or and order by",
        ),
        pytest.param(
            "project = MM || labels = UserVoice",
            None,
            f"(project = MM || labels = UserVoice) AND {SINCE_JQL} ORDER BY updated DESC",
            id="OR spelled ||",
        ),
        pytest.param(
            'project = MM AND summary ~ "sort ORDER BY date"',
            None,
            f'project = MM AND summary ~ "sort ORDER BY date" AND {SINCE_JQL} ORDER BY updated DESC',
            id="ORDER BY inside a quoted value is text",
        ),
        pytest.param(
            "(project = MM OR project = OPS) AND labels = UserVoice ORDER BY key",
            "fixVersion in (11.1, v11.1)",
            f"(project = MM OR project = OPS) AND labels = UserVoice AND fixVersion in (11.1, v11.1) "
            f"AND {SINCE_JQL} ORDER BY updated DESC",
            id="an OR inside parentheses binds already",
        ),
    ],
)
def test_the_configured_jql_is_narrowed_whatever_it_says(
    base: str, narrow: str | None, expected: str
) -> None:
    """The added clauses went after the configured ORDER BY (and were cut with it: a release closeout
    read every ticket of the project), or after an OR (``a OR b AND updated >= ...`` read every
    ticket ``a`` matches, however old)."""
    assert build_jql(base, LOOKBACK_START, narrow) == expected


def test_a_jql_that_is_only_an_order_by_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'jira\.jql' is empty \(or only an ORDER BY\)"):
        build_jql("ORDER BY created DESC", None)


def test_a_release_is_looked_up_within_the_configured_jql_and_its_order_by(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closeout's clause after a configured ORDER BY was cut off with it: every ticket came back."""
    set_connection(monkeypatch, "jira_default", sandbox.base_url)
    settings = load_settings(
        {"jira": {"jql": "project = MM ORDER BY created DESC", "read_remote_links": False}}
    )
    fetched = fetch_for(FetchRequest(settings, NOW - days(1), NOW), release_clause("11.1"), None)
    assert [t.key for t in fetched.tickets] == ["MM-1"]  # fixed in v11.1 (and v11.0.3)
    [search] = [r for r in sandbox.requests_log if r["path"] == SEARCH]
    assert search["query"]["jql"] == [
        'project = MM AND fixVersion in ("11.1", "v11.1", "11.1.0", "v11.1.0") ORDER BY updated DESC'
    ]


def test_ticket_fields_are_normalised(sandbox: Sandbox) -> None:
    tickets = fetch()
    done = tickets["MM-1"]
    assert done.url == "https://mattermost.atlassian.net/browse/MM-1"
    assert done.summary == "Read receipts"
    assert (done.status, done.status_category, done.resolution) == ("Done", "Done", "Done")
    assert done.is_resolved
    assert done.fix_versions == ("v11.1", "v11.0.3")
    assert done.labels == ("SAML", "Help Wanted")
    assert done.updated_at == (NOW - hours(1)).isoformat()
    assert done.resolved_at == (NOW - hours(2)).isoformat()
    assert done.created_at == (NOW - hours(1)).isoformat()  # the builder creates it when last updated
    assert done.linked_urls == (
        portal_url(43_871_022, "read-receipts"),
        "https://github.com/mattermost/mattermost/issues/34450",
    )
    assert done.suggestion_ids == (43_871_022,)

    wont = tickets["MM-2"]
    assert (wont.status, wont.status_category, wont.resolution) == ("Closed", "Done", "Won't Do")
    assert wont.fix_versions == ()
    assert wont.resolved_at is None

    started = tickets["MM-3"]
    assert (started.status, started.status_category, started.resolution) == (
        "In Progress",
        "In Progress",
        None,
    )
    assert not started.is_resolved
    assert started.fix_versions == ("v11.2",)

    plain = tickets["MM-50"]
    assert (plain.status, plain.status_category, plain.resolution) == ("To Do", "To Do", None)
    assert (plain.fix_versions, plain.labels, plain.linked_urls, plain.suggestion_ids) == ((), (), (), ())

    stream = io.StringIO()
    assert write_records([done, wont, started, plain], stream) == 4
    stream.seek(0)
    assert list(read_records(stream, ticket_from_dict)) == [done, wont, started, plain]


def test_suggestions_from_remote_links_and_descriptions(sandbox: Sandbox) -> None:
    tickets = fetch()
    # Remote link and description name the same suggestion: the URL appears once.
    assert tickets["MM-2"].linked_urls == (portal_url(44_120_877, "tables"), portal_url(44_120_878))
    assert tickets["MM-2"].suggestion_ids == (44_120_877, 44_120_878)
    # Atlassian document: URLs in text, in link marks and in inline cards all count.
    assert tickets["MM-3"].suggestion_ids == (44_755_002, 44_755_003, 44_755_004)
    assert "https://github.com/mattermost/mattermost/issues/34450" in tickets["MM-3"].linked_urls
    # A link to the suggestions page itself names no suggestion.
    assert tickets["MM-4"].linked_urls == ("https://mattermost.uservoice.com/forums/306457/suggestions/",)
    assert tickets["MM-4"].suggestion_ids == ()
    linked = {key: t.suggestion_ids for key, t in tickets.items() if t.suggestion_ids}
    assert sorted(linked) == ["MM-1", "MM-2", "MM-3"]


def test_without_remote_links_only_descriptions_count(sandbox: Sandbox) -> None:
    tickets = fetch(remote_links=False)
    assert len(tickets) == TICKETS
    assert remote_link_calls(sandbox) == []
    assert len(sandbox.requests_log) == 2
    assert tickets["MM-1"].suggestion_ids == ()
    assert tickets["MM-2"].suggestion_ids == (44_120_877, 44_120_878)
    assert tickets["MM-3"].suggestion_ids == (44_755_002, 44_755_003, 44_755_004)


def test_refused_jql_names_jira_and_the_400(sandbox: Sandbox) -> None:
    with pytest.raises(
        UpstreamError, match=r"^jira: GET /rest/api/3/search/jql answered 400: .*Field 'team' does not exist"
    ) as caught:
        fetch(base="project = MM AND team = Core")
    assert caught.value.service == "jira"
    assert caught.value.status == 400
    # Not retried; the credentials are checked once (anonymous may not see a project either).
    assert [(r["path"], r["status"]) for r in sandbox.requests_log] == [
        (SEARCH, 400),
        ("/jira/rest/api/3/myself", 200),
    ]


def test_rate_limit_retry_after_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    issues, remotelinks = jira_data()
    faults = [{"service": "jira", "path": "/search/jql$", "status": 429, "times": 1, "retry_after": 4}]
    scenario = write_uv_jira_scenario(
        tmp_path / "busy", NOW, jira_issues=issues, remotelinks=remotelinks, faults=faults
    )
    with Sandbox(scenario) as running:
        set_connection(monkeypatch, "jira_busy", running.base_url)
        sleeps: list[float] = []
        client = JiraClient(ApiClient("jira_busy", "jira", sleep=sleeps.append))
        tickets = list(fetch_jira_tickets(client, "project = MM", NOW - days(30), BROWSE, remote_links=False))
        statuses = [r["status"] for r in running.requests_log]
    assert len(tickets) == TICKETS
    assert sleeps == [4.0]
    assert statuses == [429, 200, 200]


def test_demo_tickets_link_the_expected_suggestions(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = yaml.safe_load((DEMO / "expected.yaml").read_text(encoding="utf-8"))
    drift = expected["uservoice_review"]["status_drift"]
    with Sandbox(DEMO) as running:
        set_connection(monkeypatch, "jira_demo", running.base_url)
        client = JiraClient.from_connection("jira_demo")
        now = running.scenario.now
        # As the daily DAG asks (monitoring.yaml: project = MM, 365 days back).
        tickets = {
            t.key: t
            for t in fetch_jira_tickets(
                client, "project = MM", now - days(365), "https://mattermost.atlassian.net"
            )
        }
        links = remote_link_calls(running)
    for item in drift:
        ticket = tickets[item["jira"]]
        assert suggestion_id_from_url(item["url"]) in ticket.suggestion_ids, item["jira"]
    in_range = sorted(key for key in tickets if "MM-61501" <= key <= "MM-61513")
    assert sorted({item["jira"] for item in drift} | {"MM-61512"}) == in_range
    assert "MM-60110" not in tickets  # last updated 2025-02-18, before the 365-day lookback
    assert len(links) == len(tickets)
    assert tickets["MM-61502"].resolution == "Fixed"
    assert tickets["MM-61502"].fix_versions == ("11.1",)
    assert tickets["MM-61506"].resolution == "Won't Do"
    assert tickets["MM-61513"].labels == ("Help Wanted",)
    assert tickets["MM-61513"].status_category == "In Progress"
    assert tickets["MM-61512"].suggestion_ids == (44_901_256,)
    assert tickets["MM-61234"].suggestion_ids == ()  # links a GitHub issue only


# ----- remote links are read again only for tickets changed since (SPEC §9) ----------------------


def calls_since(sandbox: Sandbox, start: int) -> list[str]:
    return [r["path"] for r in sandbox.requests_log[start:]]


def test_second_fetch_of_unchanged_tickets_reads_no_remote_links(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ItemCache.in_memory()
    first = fetch(cache=cache)
    assert len(remote_link_calls(sandbox)) == TICKETS  # nothing cached yet: every ticket is read
    start = len(sandbox.requests_log)
    with caplog.at_level(logging.INFO, logger="community_monitoring.sources.jira"):
        second = fetch(cache=cache)
    assert calls_since(sandbox, start) == [SEARCH, SEARCH]  # the search pages only
    assert second == first
    assert second["MM-1"].suggestion_ids == (43_871_022,)  # served links still link
    assert "Jira remote links: 0 read, 120 unchanged (cache)" in caplog.messages


def test_a_changed_or_new_ticket_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ItemCache.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")
    issues, remotelinks = jira_data()
    with Sandbox(
        write_uv_jira_scenario(tmp_path / "day1", NOW, jira_issues=issues, remotelinks=remotelinks)
    ) as day1:
        set_connection(monkeypatch, "jira_test", day1.base_url)
        fetch(cache=cache)
    # The next day: MM-5 gained a link (so Jira bumped its "updated"), MM-121 is new.
    later = NOW + hours(24)
    issues[4] = jira_issue("MM-5", "Ticket 5", later - hours(2))
    issues.append(jira_issue("MM-121", "New", later - hours(1)))
    remotelinks["MM-5"] = [remote_link(10_006, "MM-5", portal_url(45_000_001))]
    remotelinks["MM-121"] = [remote_link(10_007, "MM-121", portal_url(45_000_002))]
    scenario = write_uv_jira_scenario(tmp_path / "day2", later, jira_issues=issues, remotelinks=remotelinks)
    with Sandbox(scenario) as day2:
        set_connection(monkeypatch, "jira_test", day2.base_url)
        tickets = fetch(cache=cache, since=later - days(30))
        read = remote_link_calls(day2)
    assert sorted(read) == [
        "/jira/rest/api/3/issue/MM-121/remotelink",
        "/jira/rest/api/3/issue/MM-5/remotelink",
    ]
    assert tickets["MM-5"].suggestion_ids == (45_000_001,)
    assert tickets["MM-121"].suggestion_ids == (45_000_002,)
    assert tickets["MM-1"].suggestion_ids == (43_871_022,)  # unchanged: served from the cache


def test_a_refreshing_read_sees_a_link_added_without_updated_moving_and_stores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closeout reads its release's tickets with a refreshing cache: a remote link added while
    the ticket's ``updated`` stayed put is seen (its nominator is thanked), and the daily runs are
    served it from then on."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    issues, remotelinks = jira_data()
    with Sandbox(
        write_uv_jira_scenario(tmp_path / "day1", NOW, jira_issues=issues, remotelinks=remotelinks)
    ) as day1:
        set_connection(monkeypatch, "jira_test", day1.base_url)
        fetch(cache=ItemCache.from_url(url))
    remotelinks["MM-5"] = [remote_link(10_006, "MM-5", portal_url(45_000_001))]  # "updated" unchanged
    scenario = write_uv_jira_scenario(tmp_path / "day2", NOW, jira_issues=issues, remotelinks=remotelinks)
    with Sandbox(scenario) as day2:
        set_connection(monkeypatch, "jira_test", day2.base_url)
        assert fetch(cache=ItemCache.from_url(url))["MM-5"].suggestion_ids == ()  # served as first read
        refreshed = fetch(cache=ItemCache.from_url(url, refresh=True))
        assert len(remote_link_calls(day2)) == TICKETS  # every ticket read again
        start = len(day2.requests_log)
        daily = fetch(cache=ItemCache.from_url(url))
        assert calls_since(day2, start) == [SEARCH, SEARCH]
    assert refreshed["MM-5"].suggestion_ids == (45_000_001,)
    assert daily["MM-5"].suggestion_ids == (45_000_001,)


def test_a_backfill_is_served_by_the_cache_of_a_later_day(sandbox: Sandbox) -> None:
    cache = ItemCache.in_memory()
    fetch(cache=cache)  # today's run
    start = len(sandbox.requests_log)
    as_of = NOW - days(3)  # a backfill: its lookback starts earlier, the tickets are as they are now
    backfill = fetch(cache=cache, since=as_of - days(30))
    assert calls_since(sandbox, start) == [SEARCH, SEARCH]
    uncached = fetch(since=as_of - days(30))
    assert backfill == uncached  # nothing lost by serving the cache


def test_the_cache_survives_a_new_process(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first = fetch(cache=ItemCache.from_url(url))
    start = len(sandbox.requests_log)
    assert fetch(cache=ItemCache.from_url(url)) == first
    assert calls_since(sandbox, start) == [SEARCH, SEARCH]


def test_a_ticket_with_a_bad_remote_link_is_read_and_named_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issues = [jira_issue("MM-1", "Good", NOW - hours(1)), jira_issue("MM-2", "Bad link", NOW - hours(2))]
    broken = remote_link(10_002, "MM-2", "x")
    del broken["object"]["url"]
    remotelinks = {"MM-1": [remote_link(10_001, "MM-1", portal_url(1))], "MM-2": [broken]}
    scenario = write_uv_jira_scenario(tmp_path / "s", NOW, jira_issues=issues, remotelinks=remotelinks)
    cache = ItemCache.in_memory()
    with Sandbox(scenario) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        for _ in range(2):
            problems: list[ItemProblem] = []
            tickets = fetch(cache=cache, problems=problems)
            assert [p.item for p in problems] == ["MM-2 remote link 1"]
            assert sorted(tickets) == ["MM-1", "MM-2"]  # the ticket itself is kept
        read = Counter(path.split("/")[-2] for path in remote_link_calls(running))
    assert read == {"MM-1": 1, "MM-2": 2}


def fetch_with_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, issues: list[dict[str, Any]]
) -> tuple[dict[str, JiraTicket], list[ItemProblem]]:
    """The tickets read from a scenario of ``issues`` (no remote links), and the items named unreadable."""
    scenario = write_uv_jira_scenario(tmp_path / "s", NOW, jira_issues=issues, remotelinks={})
    with Sandbox(scenario) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        problems: list[ItemProblem] = []
        return fetch(problems=problems), problems


def test_a_tickets_fix_versions_keep_what_jira_says_of_their_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether another product's version (``Desktop v5.10``) shipped is only in its version object:
    ``released``, ``archived`` and ``releaseDate`` (sent only when set) reach the record, and a
    version object whose ``released`` is not a boolean names its ticket rather than read "unreleased"."""
    good = jira_issue("MM-1", "Desktop", NOW - hours(1), status="Done", resolution="Done")
    good["fields"]["fixVersions"] = [
        {
            "self": "https://x/rest/api/3/version/20",
            "id": "20",
            "name": "Desktop v5.10",
            "archived": False,
            "released": True,
            "releaseDate": "2026-11-02",
        },
        {
            "self": "https://x/rest/api/3/version/21",
            "id": "21",
            "name": "Mobile v2.22.0",
            "archived": True,
            "released": False,
        },
    ]
    bad = jira_issue("MM-2", "Broken", NOW - hours(2), fix_versions=("Desktop v5.11",))
    bad["fields"]["fixVersions"][0]["released"] = None
    tickets, [problem] = fetch_with_problems(tmp_path, monkeypatch, [good, bad])
    assert tickets["MM-1"].fix_versions == ("Desktop v5.10", "Mobile v2.22.0")
    assert tickets["MM-1"].versions == (
        JiraVersion("Desktop v5.10", released=True, archived=False, release_date="2026-11-02"),
        JiraVersion("Mobile v2.22.0", released=False, archived=True, release_date=None),
    )
    assert tickets["MM-1"].version("Desktop v5.10") == tickets["MM-1"].versions[0]
    # The record's JSON-lines form keeps them (the run store hands tickets on as JSON lines).
    assert ticket_from_dict(json.loads(json.dumps(record_to_dict(tickets["MM-1"])))) == tickets["MM-1"]
    assert (problem.item, "fixVersions" in problem.problem) == ("MM-2", True), problem.problem


@pytest.mark.parametrize("broken", ["no status", "a status without a name"])
def test_a_ticket_without_its_status_is_named_not_read_as_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    """Read without its status, a resolved ticket would pass for an open one (and drive a wrong
    UserVoice status): it is an item that could not be read, named; the others are kept."""
    issues = [jira_issue("MM-1", "Good", NOW - hours(1)), jira_issue("MM-2", "Bad", NOW - hours(2))]
    if broken == "no status":
        del issues[1]["fields"]["status"]
    else:
        issues[1]["fields"]["status"] = {"statusCategory": {"key": "done"}}
    tickets, [problem] = fetch_with_problems(tmp_path, monkeypatch, issues)
    assert sorted(tickets) == ["MM-1"]
    assert (problem.channel, "MM-2" in problem.item) == ("jira", True)
    assert "status" in problem.problem


@pytest.mark.parametrize("hidden", ["fixVersions", "labels", "resolution"])
def test_a_ticket_answered_without_a_field_the_rules_read_is_named_not_read_as_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hidden: str
) -> None:
    """Jira leaves out a field hidden from the ticket. Read as "none", a resolved ticket's missing
    fixVersions dropped its nominator from the release closeout on a green run, missing labels made
    an Enterprise ticket's nominator Team Edition, a missing resolution made it look open."""
    issues = [
        jira_issue("MM-1", "Good", NOW - hours(1), fix_versions=("11.1",), labels=("Enterprise",)),
        jira_issue(
            "MM-2",
            "Hidden field",
            NOW - hours(2),
            status="Done",
            resolution="Done",
            fix_versions=("11.1",),
            labels=("Enterprise",),
        ),
    ]
    from community_sandbox.jira import JiraService

    # A Jira whose field configuration hides the field from MM-2 (the sandbox, like Jira for a ticket
    # that merely has none, answers an empty value).
    shape = JiraService.shape

    def hiding(self: JiraService, issue: dict[str, Any], selection: Any) -> dict[str, Any]:
        shaped = shape(self, issue, selection)
        if shaped.get("key") == "MM-2":
            shaped["fields"].pop(hidden, None)
        return shaped

    monkeypatch.setattr(JiraService, "shape", hiding)
    tickets, [problem] = fetch_with_problems(tmp_path, monkeypatch, issues)
    assert sorted(tickets) == ["MM-1"]
    assert (problem.channel, problem.item) == ("jira", "MM-2")
    assert f"field 'fields.{hidden}' is missing" in problem.problem, problem.problem


@pytest.mark.parametrize(
    ("category", "name"),
    [
        ({"key": "done", "name": "Fertig"}, "Done"),  # a Jira answering in the API user's language
        ({"key": "indeterminate", "name": "En cours"}, "In Progress"),
        ({"key": "new", "name": "À faire"}, "To Do"),
        ({"name": "Done"}, "Done"),  # no key: its name
        ({"key": "custom", "name": "Parked"}, "Parked"),
        ({}, ""),
    ],
)
def test_a_status_category_is_read_by_its_key(category: dict[str, str], name: str) -> None:
    raw = {"key": "MM-1", "fields": {"status": {"name": "X", "statusCategory": category}}}
    assert normalise_ticket(raw, [], "https://jira.example").status_category == name


# ----- a ticket gone between the search and its remote links (SPEC §6: an item, not the channel) --

REMOTE_LINKS_OF = "/jira/rest/api/3/issue/{}/remotelink"
GONE = {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}


def gone_ticket_scenario(tmp_path: Path, faults: list[dict[str, Any]]) -> Path:
    issues = [
        jira_issue("MM-1", "Kept", NOW - hours(1)),
        jira_issue("MM-2", "Deleted after the search", NOW - hours(2), description=portal_url(7)),
        jira_issue("MM-3", "Kept too", NOW - hours(3)),
    ]
    remotelinks = {
        "MM-1": [remote_link(10_001, "MM-1", portal_url(1))],
        "MM-2": [remote_link(10_002, "MM-2", portal_url(2))],
        "MM-3": [remote_link(10_003, "MM-3", portal_url(3))],
    }
    return write_uv_jira_scenario(
        tmp_path / "s", NOW, jira_issues=issues, remotelinks=remotelinks, faults=faults
    )


def test_a_ticket_whose_remote_links_answer_404_is_kept_named_and_never_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ticket deleted (or put out of the API user's sight) between the search and its remote
    links failed the whole channel. It is one item that could not be read: named, and kept with what
    the search gave (its description's links); its links are not cached as none, so the next run
    reads them again."""
    faults = [{"service": "jira", "path": "/issue/MM-2/remotelink$", "status": 404, "body": GONE}]
    cache = ItemCache.in_memory()
    with Sandbox(gone_ticket_scenario(tmp_path, faults)) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        for _ in range(2):
            problems: list[ItemProblem] = []
            tickets = fetch(cache=cache, problems=problems)
            [problem] = problems
            assert (problem.channel, problem.item) == ("jira", "MM-2")
            assert re.match(
                r"remote links not read \(GET /rest/api/3/issue/MM-2/remotelink answered 404: .*"
                r"Issue does not exist.*\); kept without them$",
                problem.problem,
            )
            assert sorted(tickets) == ["MM-1", "MM-2", "MM-3"]
            assert tickets["MM-2"].suggestion_ids == (7,)  # from its description only
            assert tickets["MM-3"].suggestion_ids == (3,)
        read = remote_link_calls(running)
    assert Counter(path.split("/")[-2] for path in read) == {"MM-1": 1, "MM-2": 2, "MM-3": 1}


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(401, None), (403, None), (429, 0), (500, None)],
)
def test_other_remote_link_failures_still_fail_the_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, retry_after: int | None
) -> None:
    """Only a 404 is the ticket's own: a refused token, issue linking switched off (403, site-wide),
    a rate limit that does not lift or a failing server are the channel's, after the retries."""
    faults: list[dict[str, Any]] = [
        {"service": "jira", "path": "/issue/MM-2/remotelink$", "status": 404, "body": GONE},
        {"service": "jira", "path": "/issue/MM-3/remotelink$", "status": status},
    ]
    if retry_after is not None:
        faults[1]["retry_after"] = retry_after
    with Sandbox(gone_ticket_scenario(tmp_path, faults)) as running:
        set_connection(monkeypatch, "jira_test", running.base_url)
        client = JiraClient(ApiClient("jira_test", "jira", sleep=lambda seconds: None))
        problems: list[ItemProblem] = []
        with pytest.raises(UpstreamError) as caught:
            list(fetch_jira_tickets(client, "project = MM", LOOKBACK_START, BROWSE, problems=problems))
    assert (caught.value.status, caught.value.endpoint) == (status, "/rest/api/3/issue/MM-3/remotelink")
    assert [p.item for p in problems] == ["MM-2"]
