"""The daily DAG end to end: real Airflow, real clients, the sandbox, the demo scenario's oracle."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import PROJECT_ROOT, AirflowRunner

from community_monitoring.settings import load_settings
from community_monitoring.timeutil import parse_time
from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"
DAG_ID = "community_daily_monitoring"
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
LIVE_MENTION = re.compile(r"(?<![\w\u200b])@[A-Za-z0-9_.-]|<!(here|channel|all)")
SECTION_TITLES = {
    "escalated": "Escalated",
    "waiting_for_first_response": "Waiting for a first response",
    "after_the_release": "After the release",
    "new_reply_to_core_team_question": "New reply to a core-team question",
}
TRIAGE_HEADINGS = {
    "bug": "Bug",
    "troubleshooting": "Troubleshooting",
    "feature_proposal": "Feature Proposal",
    "question": "Developer/Product Question",
}


def posts_to(outbox: list[dict[str, Any]], hook: str) -> list[str]:
    return [
        e["body"]["text"] for e in outbox if e["service"] == "mattermost" and e["path"] == f"/hooks/{hook}"
    ]


def sections_of(text: str) -> dict[str, list[str]]:
    """Links under each ``#### heading`` of a message."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("#### "):
            current = (
                line[5:].split(" (")[0]
                if not line[5:].startswith("After the release")
                else "After the release"
            )
            sections.setdefault(current, [])
        elif current and line.startswith(("- [", "**[")):  # item lines, not their Related: lines
            sections[current] += LINK.findall(line)[:1]
    return sections


def run_daily(airflow: AirflowRunner, scenario: Path, sandbox: Sandbox, **conf: Any) -> Any:
    loaded = load_scenario(scenario)
    airflow.use_sandbox(sandbox.base_url, loaded.variables)
    now = loaded.now.isoformat()
    return airflow.dags_test(DAG_ID, now, {"as_of": now, **conf})


@pytest.fixture
def demo_run(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> tuple[Any, Sandbox, AirflowRunner]:
    """A daily run of the demo of the test's own, for a test that goes on to change its state."""
    running = sandbox(DEMO)
    return run_daily(airflow, DEMO, running), running, airflow


@pytest.fixture(scope="module")
def demo_result(
    airflow_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Sandbox, AirflowRunner]]:
    """One daily run of the demo that the tests which only read its outbox, requests, archive and
    sheet share (each run through Airflow takes a quarter of a minute); they must change nothing."""
    airflow = AirflowRunner(env=dict(airflow_env), workdir=tmp_path_factory.mktemp("demo-run"))
    running = Sandbox(DEMO).start()
    try:
        yield run_daily(airflow, DEMO, running), running, airflow
    finally:
        running.stop()


def test_demo_help_wanted_digest_matches_the_scenario_oracle(demo_result: Any) -> None:
    result, running, _ = demo_result
    assert result.state == "success", result.log[-5000:]
    expected = yaml.safe_load((DEMO / "expected.yaml").read_text())
    [digest] = posts_to(running.outbox, "help-channel-hook")
    first_line = digest.splitlines()[0]
    assert first_line.startswith(
        f"[Help Wanted] #forum #github @here @{expected['rotation_member']} These forum posts"
    )
    assert first_line.endswith("be part of creating a vibrant Mattermost community!")
    found = sections_of(digest)
    for key, title in SECTION_TITLES.items():
        want = expected["help_wanted"][key]
        if key == "waiting_for_first_response":
            assert found[title] == want  # oldest first
        else:
            assert sorted(found[title]) == sorted(want), title
    listed = set(LINK.findall(digest))
    assert not listed & set(expected["help_wanted"]["must_not_list"])
    check_help_wanted_lines(digest, expected, load_scenario(DEMO).variables)


STATE_WORDS = {
    "unanswered": "unanswered",
    "waiting_on_reporter": "waiting on the reporter",
    "waiting_on_us": "waiting on us",
    "answered": "answered",
}


def line_of(text: str, url: str) -> str:
    """The item's own line (its title links the URL), whole (bold) or one line."""
    return next(
        line
        for line in text.splitlines()
        if line.startswith(("**[", "- [")) and f"]({url})" in line.split(" · ")[0]
    )


def listed_in(text: str, url: str) -> bool:
    return any(
        line.startswith(("**[", "- [")) and f"]({url})" in line.split(" · ")[0] for line in text.splitlines()
    )


def check_help_wanted_lines(digest: str, expected: dict[str, Any], variables: dict[str, Any]) -> None:
    """Day numbers, states, the ladder's mentions and last calls, item by item (SPEC §4)."""
    oracle = expected["help_wanted"]
    rotation = "@" + expected["rotation_member"]
    contacts = variables["community_contacts"]
    contacts = json.loads(contacts) if isinstance(contacts, str) else contacts
    [escalated_heading] = [line for line in digest.splitlines() if line.startswith("#### Escalated")]
    assert escalated_heading.endswith("@" + contacts["cm_lead"])
    for url, day in oracle["day_on_list"].items():
        line = line_of(digest, url)
        assert f"· day {day}" in line, line
        assert (rotation in line) == (url in oracle["mention_rotation"] or day >= 7), line
        assert ("last call" in line) == (url in oracle["last_call"]), line
        state = expected["answer_states"].get(url)
        if state:
            assert f"· {STATE_WORDS[state]}" in line, line
    for url, owner in expected["routed"].items():
        if url in oracle["day_on_list"]:
            shown = url not in expected["routed_not_shown_in_help_wanted"]
            assert (f"→ {owner}" in line_of(digest, url)) == shown, url
    # Only configured names ping: the header's, the CM lead, the rotation, routed owners.
    allowed = {"@here", rotation, "@" + contacts["cm_lead"], *expected["routed"].values()}
    body = digest.split("\n", 1)[1]
    assert {m.group(0) for m in re.finditer(r"(?<![\w\u200b])@[A-Za-z0-9_.-]+", body)} <= allowed
    assert not re.search(r"<!(here|channel|all)", body)


def uservoice_created_in_interval(scenario: Path) -> set[str]:
    """The oracle for UserVoice triage items, straight from the scenario's files."""
    loaded = load_scenario(scenario)
    staff = {n.casefold() for n in loaded.variables.get("community_staff", {}).get("uservoice", [])}
    users = {u["id"]: u["name"] for u in json.loads((scenario / "uservoice" / "users.json").read_text())}
    start = loaded.now - timedelta(days=1)
    return {
        s["portal_url"]
        for s in json.loads((scenario / "uservoice" / "suggestions.json").read_text())
        if start < parse_time(s["created_at"]) <= loaded.now
        and users.get(s["links"]["created_by"], "").casefold() not in staff
    }


def test_demo_triage_list_matches_the_scenario_oracle(demo_result: Any) -> None:
    result, running, _ = demo_result
    assert result.state == "success", result.log[-5000:]
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())
    parts = posts_to(running.outbox, "cm-channel-hook")
    for index, part in enumerate(parts, start=1):
        assert part.startswith(f"[Triage] ({index}/{len(parts)})" if len(parts) > 1 else "[Triage] ")
        assert len(part) <= 16383
    triage = "\n".join(parts)
    found = sections_of(triage)
    uservoice = uservoice_created_in_interval(DEMO)
    assert uservoice  # the demo has new suggestions in the interval
    for post_type, heading in TRIAGE_HEADINGS.items():
        want = oracle["triage"].get(post_type, []) + oracle["triage_other_channels"].get(post_type, [])
        listed = [u for u in found.get(heading, []) if "uservoice.com" not in u]
        assert sorted(listed) == sorted(want), heading
    # Suggestions are typed by the same signals (most are feature proposals); every new one is listed.
    assert {u for urls in found.values() for u in urls if "uservoice.com" in u} == uservoice
    assert not set(LINK.findall(triage)) & set(oracle["triage"]["must_not_list"])
    # The first few of each type whole, with a draft; the others one line each (type and action).
    drafts = load_settings().digest.triage_drafts_per_section
    whole = sum(min(len(urls), drafts) for urls in found.values())
    one_line = sum(max(len(urls) - drafts, 0) for urls in found.values())
    assert one_line  # the demo has a type with more than that
    assert triage.count("Suggested action:") == triage.count("Reply draft:") == whole
    assert len(re.findall(r"^- \[.*\) · .*: ", triage, re.MULTILINE)) == one_line
    check_triage_findings(triage, oracle)


def item_block(text: str, url: str) -> str:
    """An item's lines in [Triage]: from its title line to the next blank line before a title."""
    start = text.index(f"]({url})**")
    end = text.find("\n**[", start)
    return text[text.rfind("\n", 0, start) + 1 : end if end > 0 else len(text)]


def check_triage_findings(triage: str, oracle: dict[str, Any]) -> None:
    """Answer states, routed owners, related items, the actions they decide, folded copies."""
    for url, state in oracle["answer_states"].items():
        if listed_in(triage, url):
            assert f"· {STATE_WORDS[state]}" in line_of(triage, url), url
    for url, owner in oracle["routed"].items():
        if listed_in(triage, url):
            line = line_of(triage, url)
            assert line.endswith(f"→ {owner}") or f"→ {owner} · " in line, url  # whole, or one line
    for url, related in oracle["related"].items():
        block = item_block(triage, url)
        [related_line] = [line for line in block.splitlines() if line.startswith("Related: ")]
        for key in related:
            assert key in related_line, (url, key)
    for url, decided in oracle["related_actions"].items():
        block = item_block(triage, url)
        if decided["action"] == "already_available":
            assert (
                f"Suggested action: Already available in {decided['version']} ({decided['ticket']})" in block
            )
            assert f"already available in Mattermost {decided['version']}" in block
        else:
            assert f"Suggested action: Tracked in {decided['ticket']}" in block
    for kept, copies in oracle["triage"]["also_posted"].items():
        block = item_block(triage, kept)
        for copy in copies:
            assert (
                f"]({copy}) by the same author" in block
                or f"]({copy})" in block.split("Also posted on", 1)[1]
            )
            assert f"]({copy})**" not in triage  # one item, not two
    # Only routed owners ping in [Triage], and only on their items' lines.
    mentions = [m for m in re.finditer(r"(?<![\w\u200b])@[A-Za-z0-9_.-]+", triage)]
    assert {m.group(0) for m in mentions} <= set(oracle["routed"].values())
    assert len(mentions) == len([u for u in oracle["routed"] if listed_in(triage, u)])
    assert not re.search(r"<!(here|channel|all)", triage)


def test_demo_uservoice_review_matches_the_scenario_oracle(demo_result: Any) -> None:
    result, running, _ = demo_result
    assert result.state == "success", result.log[-5000:]
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())["uservoice_review"]
    [review] = posts_to(running.outbox, "pm-channel-hook")
    contacts = load_scenario(DEMO).variables["community_contacts"]
    contacts = json.loads(contacts) if isinstance(contacts, str) else contacts
    # The community PM is mentioned in the header, and nobody else anywhere.
    assert review.startswith(f"[UserVoice Review] @{contacts['pm']} ")
    assert not LIVE_MENTION.search(review.split("\n", 1)[1])
    found = sections_of(review)
    drift_lines = [line for line in review.splitlines() if "→" in line]
    assert len(drift_lines) == len(oracle["status_drift"])
    for item in oracle["status_drift"]:
        [line] = [line for line in drift_lines if f"({item['url']})" in line]
        assert f"{item['current']} → **{item['proposed']}**" in line
        assert f"[{item['jira']}]" in line
    assert sorted(
        found["New, no Jira ticket and no admin response: PM may want to ask a question"]
    ) == sorted(oracle["new_without_ticket_or_admin_response"])
    assert sorted(found["Requester offers to build it"]) == sorted(oracle["offers_to_build"])
    # Every listed item shows its answer state (SPEC §4), the oracle's where it names one.
    states = yaml.safe_load((DEMO / "expected.yaml").read_text())["answer_states"]
    items = [line for line in review.splitlines() if line.startswith("- [")]
    assert items
    for line in items:
        assert any(f" · {words}" in line for words in STATE_WORDS.values()), line
        url = line.split("](", 1)[1].split(")", 1)[0]
        if url in states:
            assert f" · {STATE_WORDS[states[url]]}" in line, line
    # Applying statuses is off by default: nothing was written to UserVoice.
    assert [e for e in running.outbox if e["service"] == "uservoice" and "status_updates" in e["path"]] == []


def test_demo_requests_stay_per_page(demo_result: Any) -> None:
    result, running, _ = demo_result
    assert result.state == "success", result.log[-5000:]
    log = running.requests_log
    comment_calls = [r for r in log if r["path"].endswith("/issues/comments")]
    per_issue = [r for r in log if re.search(r"/issues/\d+(/comments)?$", r["path"])]
    assert per_issue == []  # never one call per issue
    assert len(comment_calls) == 2  # one page for each of the two repositories
    topic_calls = [r for r in log if re.search(r"/t/\d+", r["path"])]
    assert topic_calls == []  # never one call per forum topic


def test_second_run_posts_nothing_and_says_so(demo_run: Any) -> None:
    result, running, airflow = demo_run
    assert result.state == "success", result.log[-5000:]
    posted = len(running.outbox)
    assert posted == 4  # help wanted, triage in two parts, UserVoice review
    # An earlier run's intermediates, idle for 20 days: check_run removes them (retention 14 days).
    runs = airflow.workdir / "intermediate" / DAG_ID
    kept = sorted(p.name for p in runs.iterdir())
    idle = runs / "scheduled__2026-10-28T07_00_00_00_00"
    (idle / "channels").mkdir(parents=True)
    (idle / "channels" / "github.posts.jsonl").write_text("{}\n", encoding="utf-8")
    stamp = time.time() - 20 * 86400
    for path in (idle / "channels" / "github.posts.jsonl", idle / "channels", idle):
        os.utime(path, (stamp, stamp))
    again = run_daily(airflow, DEMO, running)
    assert again.state == "success", again.log[-5000:]
    assert len(running.outbox) == posted
    assert "was already posted" in again.log
    assert not idle.exists()
    assert "Removed the intermediates of 1 earlier run(s) idle for over 14 days" in again.log
    assert set(kept) <= {p.name for p in runs.iterdir()}


def test_backfill_style_digest_is_archived(demo_result: Any) -> None:
    result, _, airflow = demo_result
    assert result.state == "success"
    archived = sorted((airflow.workdir / "archive" / DAG_ID).glob("*/*.md"))
    assert [p.name for p in archived] == ["help_wanted.md", "triage.md", "uservoice_review.md"]
    assert archived[0].parent.name == "2026-11-18T090000Z"
    assert archived[0].read_text().startswith("[Help Wanted] #forum #github @here")


def test_tracking_sheet_keeps_rows_until_the_release(demo_result: Any) -> None:
    from community_monitoring.tracking_sheet import read_sheet

    result, _, airflow = demo_result
    assert result.state == "success", result.log[-5000:]
    rows = read_sheet(airflow.workdir / "tracking-sheet.xlsx")
    by_key = {(r["jira_key"], r["fix_version"]): r for r in rows}
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())["sheet_rows"]
    assert sorted((r["suggestion_id"], r["fix_version"]) for r in rows) == sorted(
        (str(suggestion), version) for suggestion, version in oracle
    )
    # Resolved Done and waiting for 11.2 (only a draft at T): a row, with the ticket's status.
    assert by_key[("MM-61505", "v11.2")]["jira_status"] == "Done"
    assert ("MM-61509", "v11.3") in by_key  # in progress for 11.3
    # 11.1 was released before T: neither the started MM-61508 nor the done MM-61501 is upcoming.
    assert not [k for k in by_key if k[0] in ("MM-61508", "MM-61501")]
    assert all(r["thanked_at"] == "" for r in rows)
    assert all(r["slipped_to"] == "" for r in rows)


def test_applying_statuses_writes_each_change_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> None:
    running = sandbox(DEMO)
    loaded = load_scenario(DEMO)
    airflow.use_sandbox(running.base_url, loaded.variables, {"uservoice": {"apply_status_updates": True}})
    now = loaded.now.isoformat()
    first = airflow.dags_test(DAG_ID, now, {"as_of": now})
    assert first.state == "success", first.log[-5000:]
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())["uservoice_review"]["status_drift"]
    writes = [e for e in running.outbox if e["service"] == "uservoice"]
    assert len(writes) == len(oracle)
    statuses = {s["name"]: s["id"] for s in json.loads((DEMO / "uservoice" / "statuses.json").read_text())}
    by_suggestion = {
        str(e["body"]["status_update"]["links"]["suggestion"]): e["body"]["status_update"]["links"]["status"]
        for e in writes
    }
    for item in oracle:
        suggestion_id = item["url"].rsplit("/", 1)[1].split("-", 1)[0]
        assert by_suggestion[suggestion_id] == statuses[item["proposed"]]
    # The sandbox applied them. Then someone changes the first one back by hand: the next day's run
    # finds that drift again, but does not fight them (the very same change was made), and says so;
    # the others now show no drift at all.
    reverted = oracle[0]
    reverted_id = reverted["url"].rsplit("/", 1)[1].split("-", 1)[0]
    by_hand = {
        "status_update": {"links": {"suggestion": int(reverted_id), "status": statuses[reverted["current"]]}}
    }
    request = urllib.request.Request(
        f"{running.base_url}/uservoice/api/v2/admin/status_updates",
        data=json.dumps(by_hand).encode(),
        headers={"Authorization": "Bearer sandbox-token-pm", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201)
    next_day = (loaded.now + timedelta(days=1)).isoformat()
    second = airflow.dags_test(DAG_ID, next_day, {"as_of": next_day})
    assert second.state == "success", second.log[-5000:]
    assert len([e for e in running.outbox if e["service"] == "uservoice"]) == len(oracle) + 1
    review = posts_to(running.outbox, "pm-channel-hook")[-1]
    [line] = [x for x in review.splitlines() if reverted_id in x]
    assert line.endswith("· changed back upstream: not made again"), review
    assert "someone changed them back since: they are not made again" in review


def test_reply_drafts_go_upstream_once_where_switched_on(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> None:
    running = sandbox(DEMO)
    loaded = load_scenario(DEMO)
    airflow.use_sandbox(running.base_url, loaded.variables, {"replies": {"post_upstream": {"github": True}}})
    now = loaded.now.isoformat()
    first = airflow.dags_test(DAG_ID, now, {"as_of": now})
    assert first.state == "success", first.log[-5000:]
    comments = [e for e in running.outbox if e["service"] == "github" and e["path"].endswith("/comments")]
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())["triage"]
    # New posts of the day: the listed ones and the copies folded into another channel's item.
    copies = [u for urls in oracle["also_posted"].values() for u in urls]
    triage_github = {
        u
        for urls in [*oracle.values(), copies]
        if isinstance(urls, list)
        for u in urls
        if u.startswith("https://github.com/")
    }
    commented = {
        "https://github.com/" + e["path"].removeprefix("/api/v3/repos/").removesuffix("/comments")
        for e in comments
    }
    assert comments
    assert commented <= triage_github  # only new posts of the day
    assert len(commented) == len(comments)  # one each
    assert all(e["body"]["body"].startswith("Hi ") for e in comments)
    # The draft [Triage] shows: a related ticket links it and decides what it says (SPEC §4).
    body_of = {
        "https://github.com/" + e["path"].removeprefix("/api/v3/repos/").removesuffix("/comments"): e["body"][
            "body"
        ]
        for e in comments
    }
    decided = yaml.safe_load((DEMO / "expected.yaml").read_text())["related_actions"]
    assert set(decided) <= set(body_of)
    for url, action in decided.items():
        assert re.search(rf"/browse/{action['ticket']}\b", body_of[url]), body_of[url]
        if action["action"] == "already_available":
            assert f"already available in Mattermost {action['version']}" in body_of[url]
        else:
            assert "We track this in" in body_of[url]
    assert not [e for e in running.outbox if e["service"] == "gitlab"]  # not switched on there
    second = airflow.dags_test(DAG_ID, now, {"as_of": now})
    assert second.state == "success", second.log[-5000:]
    assert len([e for e in running.outbox if e["service"] == "github"]) == len(comments)


def test_status_the_mapping_proposes_but_uservoice_lacks_is_named(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> None:
    running = sandbox(DEMO)
    loaded = load_scenario(DEMO)
    mapping = [
        {"when": {"resolution": ["Done"]}, "status": "Shipped"},
        {"when": {}, "status": "Under Review"},
    ]
    airflow.use_sandbox(running.base_url, loaded.variables, {"uservoice": {"status_mapping": mapping}})
    now = loaded.now.isoformat()
    result = airflow.dags_test(DAG_ID, now, {"as_of": now})
    assert result.state == "failed"
    assert "proposes statuses UserVoice does not have: ['Shipped']" in result.log
    assert posts_to(running.outbox, "pm-channel-hook") == []
