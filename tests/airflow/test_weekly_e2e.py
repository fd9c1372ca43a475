"""The weekly stale review end to end through real Airflow against the demo scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from harness import AirflowRunner
from test_daily_e2e import DEMO, LINK, LIVE_MENTION, posts_to

from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario

pytestmark = pytest.mark.airflow

HEADINGS = {"github": "GitHub", "gitlab": "GitLab", "stackoverflow": "Stack Overflow"}


def test_weekly_review_matches_the_oracle_and_posts_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> None:
    running = sandbox(DEMO)
    loaded = load_scenario(DEMO)
    airflow.use_sandbox(running.base_url, loaded.variables)
    now = loaded.now.isoformat()
    result = airflow.dags_test("community_weekly_stale_review", now, {"as_of": now})
    assert result.state == "success", result.log[-5000:]
    oracle = yaml.safe_load((DEMO / "expected.yaml").read_text())["weekly_stale_review"]
    [review] = posts_to(running.outbox, "help-channel-hook")
    assert review.startswith("[Weekly Review] ")
    assert not LIVE_MENTION.search(review)
    current = None
    found: dict[str, list[str]] = {}
    for line in review.splitlines():
        if line.startswith("#### "):
            current = line[5:].rsplit(" (", 1)[0]
            found[current] = []
        elif current and line.startswith("- ["):
            found[current] += LINK.findall(line)[:1]
            assert "last activity" in line
            assert " by " in line
    for channel, urls in oracle.items():
        assert found[HEADINGS[channel]] == urls, channel  # oldest activity first
    again = airflow.dags_test("community_weekly_stale_review", now, {"as_of": now})
    assert again.state == "success"
    assert len(posts_to(running.outbox, "help-channel-hook")) == 1
