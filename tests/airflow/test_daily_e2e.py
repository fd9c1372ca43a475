"""The daily DAG end to end: real Airflow, real clients, the sandbox, the demo scenario's oracle."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import PROJECT_ROOT, AirflowRunner

from community_monitoring.sandbox import Sandbox
from community_monitoring.sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"
DAG_ID = "community_daily_monitoring"
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
LIVE_MENTION = re.compile(r"(?<![\w\u200b])@[A-Za-z0-9_.-]|<!(here|channel|all)")
SECTION_TITLES = {
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
        elif current:
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
    running = sandbox(DEMO)
    return run_daily(airflow, DEMO, running), running, airflow


def test_demo_help_wanted_digest_matches_the_scenario_oracle(demo_run: Any) -> None:
    result, running, _ = demo_run
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
    assert not LIVE_MENTION.search(digest.split("\n", 1)[1])


def test_demo_triage_list_matches_the_scenario_oracle(demo_run: Any) -> None:
    result, running, _ = demo_run
    assert result.state == "success", result.log[-5000:]
    expected = yaml.safe_load((DEMO / "expected.yaml").read_text())["triage"]
    [triage] = posts_to(running.outbox, "cm-channel-hook")
    assert triage.startswith("[Triage] ")
    found = sections_of(triage)
    for post_type, heading in TRIAGE_HEADINGS.items():
        want = [u for u in expected.get(post_type, []) if "github.com" in u or "forum." in u]
        assert sorted(found.get(heading, [])) == sorted(want), heading
    assert not set(LINK.findall(triage)) & set(expected["must_not_list"])
    assert triage.count("Suggested action:") == sum(len(v) for v in found.values())
    assert triage.count("Reply draft:") == sum(len(v) for v in found.values())
    assert not LIVE_MENTION.search(triage)


def test_demo_requests_stay_per_page(demo_run: Any) -> None:
    result, running, _ = demo_run
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
    assert posted == 2
    again = run_daily(airflow, DEMO, running)
    assert again.state == "success", again.log[-5000:]
    assert len(running.outbox) == posted
    assert "was already posted" in again.log


def test_backfill_style_digest_is_archived(demo_run: Any) -> None:
    result, _, airflow = demo_run
    assert result.state == "success"
    archived = sorted((airflow.workdir / "archive" / DAG_ID).glob("*/*.md"))
    assert [p.name for p in archived] == ["help_wanted.md", "triage.md"]
    assert archived[0].parent.name == "2026-11-18T090000Z"
    assert archived[0].read_text().startswith("[Help Wanted] #forum #github @here")
