"""The `make demo` driver on a scenario it has never seen: sandbox, settings loader, real Airflow."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import PROJECT_ROOT, base_env

from scenario_files import days, forum_post, forum_topic, github_issue, write_scenario

pytestmark = pytest.mark.airflow

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


def run_demo(scenario: Path, home: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "community_devtools.demo",
            "--scenario",
            str(scenario),
            "--output",
            str(output),
        ],
        env=base_env(home),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        cwd=PROJECT_ROOT,
    )


def test_demo_posts_once_then_says_nothing_new(tmp_path: Path) -> None:
    posts = [forum_post(1, 5, 1, "newcomer", NOW - days(3), raw="Upgrade broke my install")]
    scenario = write_scenario(
        tmp_path / "other-team",
        NOW,
        github={
            "mattermost/mattermost": {
                "issues": [github_issue("mattermost/mattermost", 1, "Crash", "u1", NOW - days(4))]
            },
            "mattermost/mattermost-mobile": {},
        },
        topics=[forum_topic(5, "Install broken", NOW - days(3), posts)],
        posts=posts,
        variables={
            "community_settings": {"channels": {"disabled": ["gitlab", "stackoverflow", "uservoice", "jira"]}}
        },
    )
    home, output = tmp_path / "home", tmp_path / "out"
    first = run_demo(scenario, home, output)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Posted 3 message(s)" in first.stdout
    assert "community_release_closeout: not run (the scenario has no `closeout` params)" in first.stdout
    outbox = json.loads((output / "outbox.json").read_text())
    kinds = sorted(e["body"]["text"].split(" ", 1)[0] + " " + e["path"] for e in outbox)
    assert kinds == [
        "[Help /hooks/help-channel-hook",
        "[Triage] /hooks/cm-channel-hook",
        "[Weekly /hooks/help-channel-hook",
    ]
    digest = next(e["body"]["text"] for e in outbox if e["body"]["text"].startswith("[Help Wanted]"))
    # No variables in this scenario: airflow_settings.yaml's rotation roster applies.
    assert digest.startswith("[Help Wanted] #forum #github @here @dev.on.rotation ")
    assert "https://github.com/mattermost/mattermost/issues/1" in digest
    assert "/t/topic-5/5" in digest

    second = run_demo(scenario, home, output)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "Nothing new was posted" in second.stdout
    assert json.loads((output / "outbox.json").read_text()) == []


def test_demo_names_a_malformed_scenario_file(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path / "broken", NOW)
    (scenario / "discourse" / "posts.json").write_text("[{]")
    result = run_demo(scenario, tmp_path / "home", tmp_path / "out")
    assert result.returncode != 0
    assert "discourse/posts.json" in result.stdout + result.stderr
