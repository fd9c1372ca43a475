"""The demo tool's own reporting (community_devtools.demo), without running Airflow."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from community_devtools import PROJECT_ROOT, demo
from scenario_files import write_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)


def test_invalid_settings_are_said_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The runs fail on invalid settings and their logs say why; the demo's own summaries (model
    card, tracking sheet) used to raise on them, so the demo died before saving the outbox."""
    scenario = write_scenario(tmp_path / "s", NOW)
    spec = yaml.safe_load((scenario / "scenario.yaml").read_text(encoding="utf-8"))
    spec.setdefault("variables", {})["community_settings"] = {"uservoice": {"apply_status_updates": "false"}}
    (scenario / "scenario.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")

    demo.print_model_card(scenario, {"AIRFLOW_HOME": str(tmp_path / "home")})
    demo.print_tracking_sheet(scenario, {"AIRFLOW_HOME": str(tmp_path / "home")})

    out = capsys.readouterr().out
    assert "No triage model card to show: the scenario's settings are invalid" in out
    assert "No tracking sheet to show" in out
    assert "key 'uservoice.apply_status_updates'" in out


def test_a_demo_that_stops_early_leaves_no_earlier_outbox(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "outbox.json").write_text("[]\n", encoding="utf-8")  # an earlier scenario's
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scenario.yaml").write_text("now: not a time\n", encoding="utf-8")

    assert demo.main(["--scenario", str(broken), "--output", str(output)]) == 2
    assert not (output / "outbox.json").exists()


def test_without_an_airflow_home_the_demo_takes_the_scenarios_own_not_the_operators() -> None:
    env = demo.demo_environment({"PATH": "/bin", "HOME": "/home/op"}, Path("/x/scenarios/held-out-7"))
    assert env["AIRFLOW_HOME"] == str(demo.scenario_home(Path("/x/scenarios/held-out-7")))
    assert Path(env["AIRFLOW_HOME"]).parent == PROJECT_ROOT / "airflow_home"
    assert Path(env["AIRFLOW_HOME"]).name.startswith("held-out-7-")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(PROJECT_ROOT / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)]
    assert env["PATH"] == "/bin"
    # A scenario whose upstream fails for good ends in minutes: its task retries wait seconds.
    assert env["COMMUNITY_RETRY_DELAY_SECONDS"] == str(demo.DEMO_RETRY_DELAY_SECONDS)
    # "… and N more" links the Community page of the local UI the demo tells how to start.
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8080"
    assert demo.demo_environment({"AIRFLOW_PORT": "9090"}, Path("/x/demo"))["AIRFLOW__API__BASE_URL"] == (
        "http://127.0.0.1:9090"
    )


def test_what_make_demo_sets_is_kept() -> None:
    given = {
        "AIRFLOW_HOME": "/tmp/h",
        "AIRFLOW__CORE__DAGS_FOLDER": "/d",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": "/p",
        "COMMUNITY_RETRY_DELAY_SECONDS": "60",
        "AIRFLOW__API__BASE_URL": "https://airflow.example",
    }
    env = demo.demo_environment(given, Path("/x/demo"))
    assert {k: env[k] for k in given} == given


DAG_TEST_LOG = """\
2026-12-01T19:52:26Z [info     ] [DAG TEST] starting task_id=check_run map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:34Z [info     ] Task instance state updated [execution_api] new_state=success rows_affected=1
2026-12-01T19:52:34Z [info     ] [DAG TEST] starting task_id=extract_forum map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:40Z [error    ] Task failed with exception     [task]
Traceback (most recent call last):
  File "plugins/community_monitoring/sources/http.py", line 489, in _status_failure
    raise error
community_monitoring.sources.http.UpstreamError: forum: GET /latest.json answered 403: bad key *** for system
2026-12-01T19:52:41Z [info     ] Task instance state updated [execution_api] new_state=up_for_retry rows_affected=1
2026-12-01T19:52:42Z [info     ] [DAG TEST] starting task_id=extract_github map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:43Z [error    ] Task failed with exception     [task]
ConnectionError: connection refused
2026-12-01T19:52:43Z [info     ] Task instance state updated [execution_api] new_state=up_for_retry rows_affected=1
2026-12-01T19:52:50Z [info     ] [DAG TEST] starting task_id=extract_github map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:51Z [info     ] Task instance state updated [execution_api] new_state=success rows_affected=1
2026-12-01T19:52:52Z [info     ] [DAG TEST] starting task_id=extract_forum map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:53Z [error    ] Task failed with exception     [task]
community_monitoring.sources.http.UpstreamError: forum: GET /latest.json answered 403: bad key *** for system
2026-12-01T19:52:53Z [info     ] Task instance state updated [execution_api] new_state=failed rows_affected=1
2026-12-01T19:52:54Z [info     ] [DAG TEST] starting task_id=post_review map_index=-1 [airflow.sdk.definitions.dag]
2026-12-01T19:52:55Z [info     ] Task instance state updated [execution_api] new_state=failed rows_affected=1
"""


def test_failed_tasks_names_each_task_that_failed_for_good_and_why() -> None:
    assert demo.failed_tasks(DAG_TEST_LOG) == [
        ("extract_forum", "UpstreamError: forum: GET /latest.json answered 403: bad key *** for system"),
        ("post_review", "see the log"),
    ]
    assert demo.failed_tasks("") == []


@pytest.mark.parametrize(
    ("closeout", "conf"),
    [
        pytest.param(None, {}, id="no closeout params: not run"),
        pytest.param(
            {"version": "11.2", "announcement_url": "https://example.org/a"},
            {"version": "11.2", "announcement_url": "https://example.org/a", "dry_run": False},
            id="dry_run left out: SPEC's default, false",
        ),
        pytest.param(
            {"version": "11.2", "dry_run": True},
            {"version": "11.2", "dry_run": True},
            id="dry_run given: kept",
        ),
    ],
)
def test_a_scenarios_closeout_params_take_specs_defaults(
    tmp_path: Path, closeout: dict[str, object] | None, conf: dict[str, object]
) -> None:
    """A scenario's closeout block follows SPEC §4, where dry_run is off: a scenario that leaves it
    out thanks for real."""
    scenario = write_scenario(tmp_path / "s", NOW)
    if closeout is not None:
        spec = yaml.safe_load((scenario / "scenario.yaml").read_text(encoding="utf-8"))
        spec["closeout"] = closeout
        (scenario / "scenario.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert demo.load_closeout(scenario) == conf


def test_the_printout_shows_no_webhook_id(capsys: pytest.CaptureFixture[str]) -> None:
    """A webhook id is a secret: the outbox file keeps the path (the acceptance interface), the
    printout of what was posted does not."""
    demo.print_message(
        {"service": "mattermost", "method": "POST", "path": "/hooks/cm-secret-id", "body": {"text": "hi"}}
    )
    printed = capsys.readouterr().out
    assert "cm-secret-id" not in printed
    assert printed.startswith("--- mattermost POST /hooks/… ---\nhi")


def test_a_card_not_promoted_names_what_the_daily_run_really_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model promoted earlier is used only while its card meets today's minimums (SPEC §12):
    with them raised above it, the daily [Triage] leaves it to the rules, as the DAG's log says."""
    from datetime import timedelta

    from community_monitoring.history import Example
    from community_monitoring.pipeline.triage_model import promote, save_model
    from community_monitoring.settings import load_settings
    from community_monitoring.triage_model import train

    models = tmp_path / "models"
    small = {"examples": 40, "per_type": 10, "cv_accuracy": 0.5, "recall": 0.4}
    trained_with = load_settings(
        {"paths": {"models": str(models)}, "triage_model": {"minimums": small, "cv_folds": 3}}
    )
    texts = {
        "bug": "Regression: the {n} view crashes since 11.2",
        "troubleshooting": "Our nginx proxy in front of server {n} gives 502",
        "feature_proposal": "Please add a setting to hide the {n} sidebar",
        "question": "How do I read channel {n} with the API?",
    }
    examples = [
        Example(text.format(n=n), post_type, "github", "label")
        for post_type, text in texts.items()
        for n in range(12)
    ]
    earlier, earlier_card = train(examples, trained_with, as_of=NOW - timedelta(days=14))
    save_model(trained_with, earlier, earlier_card)
    assert promote(trained_with, earlier_card)
    newer, newer_card = train(examples, trained_with, as_of=NOW - timedelta(days=7))
    save_model(trained_with, newer, newer_card)  # trained, not promoted

    scenario = write_scenario(tmp_path / "s", NOW)
    spec = yaml.safe_load((scenario / "scenario.yaml").read_text(encoding="utf-8"))
    raised = {**small, "examples": 100}
    spec.setdefault("variables", {})["community_settings"] = {
        "paths": {"models": str(models)},
        "triage_model": {"minimums": raised},
    }
    (scenario / "scenario.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")

    demo.print_model_card(scenario, {"AIRFLOW_HOME": str(tmp_path / "home")})

    out = capsys.readouterr().out
    assert (
        "Model card (not used: the rules decide (every model promoted earlier misses today's minimums)):"
        in out
    )


def test_no_training_yet_is_said_in_words_not_as_a_file_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Too little history (SPEC §12): the model DAG trains nothing, so there is no card. The demo
    says so, not "[Errno 2] No such file or directory: '<home>/.../last-trained.json'"."""
    scenario = write_scenario(tmp_path / "s", NOW)
    demo.print_model_card(scenario, {"AIRFLOW_HOME": str(tmp_path / "home")})
    out = capsys.readouterr().out
    assert "No triage model was trained (the community_triage_model log says why" in out
    assert "the daily [Triage] uses the rules" in out
    assert "Errno" not in out
    assert str(tmp_path) not in out


def test_two_scenario_folders_of_the_same_name_never_share_a_home(tmp_path: Path) -> None:
    """A held-out set laid out as ``case-1/scenario``, ``case-2/scenario``: one shared ledger would
    make the second scenario's digests read as sent already, and it would post nothing."""
    first, second = tmp_path / "case-1" / "scenario", tmp_path / "case-2" / "scenario"
    assert demo.scenario_home(first) != demo.scenario_home(second)
    assert demo.scenario_home(first) == demo.scenario_home(tmp_path / "case-1" / "." / "scenario")


@pytest.mark.parametrize(
    "scenario",
    [
        "include/scenarios/demo",
        "include/scenarios/demo/",
        "/x/case-1/scenario",
        "/x/case-2/scenario",
        "/x/case-0/../case-2/scenario",
        # A quote or a space in the path: the shell and make's word splitting must not cut it.
        "/x/it's/scenario",
        "/x/held out/scenario",
    ],
)
def test_make_demo_runs_in_the_home_the_demo_tool_derives(scenario: str) -> None:
    printed = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "print-home: ; @echo $(AIRFLOW_HOME)",
            "print-home",
            f"SCENARIO={scenario}",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k not in ("AIRFLOW_HOME", "DEMO_AIRFLOW_HOME")},
    )
    assert printed.stdout.strip() == str(
        demo.scenario_home(PROJECT_ROOT / scenario if not scenario.startswith("/") else Path(scenario))
    )


@pytest.mark.parametrize(
    ("settings", "files", "said"),
    [
        pytest.param(
            {}, {"github/acme/widget/issues.json": []}, ["github/acme/widget/"], id="repo not listed"
        ),
        pytest.param(
            {"github": {"repos": ["Acme/Widget"]}},
            {"github/acme/widget/issues.json": []},
            [],
            id="repo listed",
        ),
        pytest.param(
            {}, {"gitlab/team/sub/app/issues.json": []}, ["gitlab/team/sub/app/"], id="gitlab project"
        ),
        pytest.param(
            {},
            {
                "gitlab/gitlab-org/omnibus-gitlab/issues.json": [
                    {"labels": ["bug"]},
                    {"labels": ["mattermost"]},
                ]
            },
            ["gitlab/gitlab-org/omnibus-gitlab/issues.json: 1 issue(s) without the labels Mattermost"],
            id="gitlab labels",
        ),
        pytest.param(
            {"channels": {"disabled": ["stackoverflow"]}},
            {"stackexchange/questions.json": []},
            ["stackexchange/ (channel 'stackoverflow' is in channels.disabled)"],
            id="channel disabled",
        ),
        pytest.param(
            {},
            {"stackexchange/questions.json": [{"tags": ["other"]}, {"tags": ["Mattermost", "go"]}]},
            ["stackexchange/questions.json: 1 question(s) with none of the tags"],
            id="untagged questions",
        ),
    ],
)
def test_data_the_settings_never_read_is_named_before_the_runs(
    tmp_path: Path, settings: dict[str, object], files: dict[str, object], said: list[str]
) -> None:
    """A scenario written for a repository the settings do not list would otherwise pass for an
    empty day: its posts are left out, as a deployment would leave them."""
    scenario = write_scenario(tmp_path / "s", NOW, variables={"community_settings": settings})
    for name, content in files.items():
        (scenario / name).parent.mkdir(parents=True, exist_ok=True)
        (scenario / name).write_text(json.dumps(content), encoding="utf-8")
    from community_monitoring.settings import load_settings

    assert demo.unread_data(scenario, load_settings(settings)) == said
