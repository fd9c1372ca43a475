"""The weekly stale review end to end through real Airflow against the demo scenario."""

from __future__ import annotations

import re
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
HEALTH_NUMBERS = (
    "New posts",
    "Median first response",
    "p90 first response",
    "Median first staff response",
    "p90 first staff response",
    "Answered within 2 days",
    "First responses by the community",
    "Open backlog (unanswered or waiting on us)",
    "Escalated in Help Wanted",
)


def test_weekly_review_matches_the_oracle_and_posts_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox]
) -> None:
    running = sandbox(DEMO)
    loaded = load_scenario(DEMO)
    airflow.use_sandbox(running.base_url, loaded.variables)
    now = loaded.now.isoformat()
    result = airflow.dags_test("community_weekly_stale_review", now, {"as_of": now})
    assert result.state == "success", result.log[-5000:]
    expected = yaml.safe_load((DEMO / "expected.yaml").read_text())
    oracle = expected["weekly_stale_review"]
    aged_out = [u for urls in expected["weekly"]["aged_out"].values() for u in urls]
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
    # Every channel's posts that aged out of [Help Wanted] unanswered, the forum's included, first.
    assert sorted(found["Aged out without an answer"]) == sorted(aged_out)
    assert next(iter(found)) == "Aged out without an answer"
    assert any("forum.mattermost.com" in u for u in aged_out)
    for channel, urls in oracle.items():
        # Every stale post under its channel, oldest activity first: one that also aged out is in both.
        assert found[HEADINGS[channel]] == urls, channel
    assert any(u in aged_out for urls in oracle.values() for u in urls)
    # SPEC §10: the review ends with its Community health section, the chart archived beside it.
    assert list(found)[-1] == "Community health"
    section, by_group = review.split("\n#### Community health\n", 1)[1].split(
        "\nBy channel and type (the same posts; each against the same group a week earlier):\n"
    )
    intro, *numbers = section.splitlines()
    assert intro.startswith(
        "Posts created in the 7 days before 2026-11-18 09:00 UTC on GitHub, GitLab, Forum and Stack Overflow"
    )
    # SPEC §10: the response times again per channel and type, each with its change.
    groups = by_group.splitlines()
    assert "- GitHub · Bug: " in by_group
    assert "- Forum · Troubleshooting: " in by_group
    assert all(
        re.fullmatch(r"- [\w ]+ · [\w/ ]+: \d+ new posts? \(.+\), \d+ with a response; first response .+", g)
        for g in groups
    ), groups
    assert [line.split(":", 1)[0] for line in numbers] == [f"- {name}" for name in HEALTH_NUMBERS]
    assert all(
        re.search(r" vs last week\)(; median age .*|; \d+ of them got a response)?$", line)
        for line in numbers
    )
    [chart] = (airflow.workdir / "archive" / "community_weekly_stale_review").glob(
        "*/weekly_review.community-health.png"
    )
    assert chart.read_bytes().startswith(b"\x89PNG")
    again = airflow.dags_test("community_weekly_stale_review", now, {"as_of": now})
    assert again.state == "success"
    assert len(posts_to(running.outbox, "help-channel-hook")) == 1
