"""The benchmark's six-channel scale scenario: the sandbox serves it and every channel reads it whole."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from community_devtools.settings_loader import load_settings_file
from community_monitoring.channels import channel
from community_monitoring.settings import load_settings
from community_monitoring.sources import FetchRequest
from community_sandbox import Sandbox, load_scenario
from community_sandbox.loading import parse_time
from community_sandbox.synth import NOW, REPOS, scale_plan, write_scale_scenario

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIZE = 200


def _read(root: Path, name: str) -> list | dict:
    return json.loads((root / name).read_text(encoding="utf-8"))


def expected_posts(root: Path) -> dict[str, int]:
    """Posts each daily extract must return, counted from the files (the product's windows)."""
    since = NOW - timedelta(days=30)

    def created_in_window(value: object) -> bool:
        return since < parse_time(value) <= NOW

    github = sum(
        created_in_window(i["created_at"])
        for repo in REPOS
        for i in _read(root, f"github/{repo}/issues.json")
    )
    gitlab = sum(
        created_in_window(i["created_at"]) and "Mattermost" in i["labels"]
        for i in _read(root, "gitlab/gitlab-org/omnibus-gitlab/issues.json")
    )
    forum = sum(created_in_window(t["created_at"]) for t in _read(root, "discourse/topics.json"))
    questions = _read(root, "stackexchange/questions.json")
    stackoverflow = sum(since.timestamp() < q["creation_date"] <= NOW.timestamp() for q in questions)
    uservoice = len(_read(root, "uservoice/suggestions.json"))
    lookback = NOW - timedelta(days=365)
    jira = sum(parse_time(t["fields"]["updated"]) >= lookback for t in _read(root, "jira/issues.json"))
    return {
        "github": github,
        "gitlab": gitlab,
        "forum": forum,
        "stackoverflow": stackoverflow,
        "uservoice": uservoice,
        "jira": jira,
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale") / "today"
    write_scale_scenario(root, SIZE)
    return root


def test_every_channel_reads_the_whole_window(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = expected_posts(scenario)
    assert all(count > 0 for count in expected.values()), expected
    with Sandbox(scenario) as sandbox:
        monkeypatch.setenv("SANDBOX_URL", sandbox.base_url)
        for conn in load_settings_file(PROJECT_ROOT / "airflow_settings.yaml").connections:
            uri = {
                "conn_type": conn["conn_type"],
                "host": conn.get("conn_host"),
                "login": conn.get("conn_login"),
                "password": conn.get("conn_password"),
                "extra": conn.get("conn_extra") or {},
            }
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn['conn_id'].upper()}", json.dumps(uri))
        settings = load_settings()
        request = FetchRequest(settings, NOW - timedelta(days=30), NOW)
        for key, count in expected.items():
            fetched = channel(key).fetcher()(request)
            items = list(fetched.tickets) if key == "jira" else list(fetched.posts)
            assert len(items) == count, key
            assert not fetched.problems, (key, fetched.problems[:3])
        github = [e for e in sandbox.requests_log if e["service"] == "github"]
        # Comments come from the repository-wide endpoint, never one call per issue.
        assert github
        assert all("/comments" not in e["path"] or "/issues/comments" in e["path"] for e in github)


def test_yesterdays_state_leaves_out_what_came_later(scenario: Path) -> None:
    yesterday = NOW - timedelta(days=1)
    root = scenario.parent / "yesterday"
    counts = write_scale_scenario(root, SIZE, as_of=yesterday)
    assert load_scenario(root).now == yesterday
    assert counts["discourse/topics.json"] < len(_read(scenario, "discourse/topics.json"))
    for name, stamp in (
        (f"github/{REPOS[0]}/issues.json", "updated_at"),
        (f"github/{REPOS[0]}/comments.json", "created_at"),
        ("discourse/posts.json", "created_at"),
        ("gitlab/gitlab-org/omnibus-gitlab/notes.json", "created_at"),
    ):
        assert all(parse_time(item[stamp]) <= yesterday for item in _read(root, name)), name
    # Today's items carry the days of posts the plan gives them, the day's share per channel first.
    day = NOW - timedelta(days=1)
    topics = _read(scenario, "discourse/topics.json")
    assert sum(parse_time(t["created_at"]) > day for t in topics) == scale_plan(SIZE)["forum"][0][0]
