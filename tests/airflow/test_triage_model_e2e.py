"""The triage model DAG end to end (SPEC §12): real Airflow trains on the demo scenario's history, and
the loader the daily run uses falls back to the rules, with a warning, whenever the model is unusable."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import PROJECT_ROOT, AirflowRunner, DagRunResult

from community_monitoring.classify import PostClassifier
from community_monitoring.pipeline.triage_model import DAG_ID, load_latest_model, triage_classifier
from community_monitoring.records import Post
from community_monitoring.settings import Settings, load_settings
from community_monitoring.triage_model import ModelCard, ModelClassifier
from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario
from scenario_files import days, github_issue, write_scenario

pytestmark = pytest.mark.airflow

DEMO = PROJECT_ROOT / "include" / "scenarios" / "demo"


def run_model_dag(runner: AirflowRunner, scenario: Path, sandbox: Sandbox) -> DagRunResult:
    loaded = load_scenario(scenario)
    paths = {key: str(runner.workdir / key) for key in ("intermediate", "archive", "models")}
    runner.use_sandbox(sandbox.base_url, loaded.variables, {"paths": paths})
    now = loaded.now.isoformat()
    return runner.dags_test(DAG_ID, now, {"as_of": now})


def models_settings(models: Path, **triage: Any) -> Settings:
    overrides: dict[str, Any] = {"paths": {"models": str(models)}}
    if triage:
        overrides["triage_model"] = triage
    return load_settings(overrides)


@pytest.fixture(scope="module")
def demo_training(
    airflow_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DagRunResult, Path, Sandbox]]:
    runner = AirflowRunner(env=dict(airflow_env), workdir=tmp_path_factory.mktemp("triage-model"))
    with Sandbox(DEMO) as running:
        result = run_model_dag(runner, DEMO, running)
        yield result, runner.workdir / "models", running


def a_post(title: str, body: str = "", channel: str = "github") -> Post:
    return Post(
        channel, "x#1", "https://example.test/1", title, "someone", load_scenario(DEMO).now, body=body
    )


def test_the_model_dag_trains_on_the_demo_history(demo_training: Any) -> None:
    result, models, running = demo_training
    assert result.state == "success", result.log[-5000:]
    root = models / "triage"
    version = json.loads((root / "last-trained.json").read_text())["version"]
    assert json.loads((root / "latest.json").read_text())["version"] == version
    card = ModelCard.from_json((root / version / "card.json").read_text())
    assert (root / version / "model.json").stat().st_size > 100_000
    assert card.meets(load_settings().triage_model.minimums), card.shortfalls(
        load_settings().triage_model.minimums
    )
    assert set(card.counts_by_type) == {"bug", "troubleshooting", "feature_proposal", "question"}
    assert {
        "github label",
        "github redirect",
        "gitlab label",
        "forum category",
        "uservoice suggestion",
    } <= set(card.counts_by_source)
    assert {"stackoverflow question", "stackoverflow tag"} <= set(card.counts_by_source)
    assert card.as_of == "2026-11-18T09:00:00Z"
    assert version.startswith("20261118T090000Z-")
    assert "Triage model card (in use from now on" in result.log
    assert "5-fold stratified cross-validation" in result.log
    assert running.outbox == []  # the model DAG posts nothing


def test_the_daily_run_gets_the_promoted_model(demo_training: Any) -> None:
    _, models, _ = demo_training
    settings = models_settings(models)
    model = load_latest_model(settings)
    assert model is not None
    assert model.version == json.loads((models / "triage" / "latest.json").read_text())["version"]
    post_type, probability = model.predict(a_post("Please add an option to mute a thread for a day"))
    assert post_type == "feature_proposal"
    assert 0.25 < probability <= 1
    classifier = triage_classifier(settings)
    assert isinstance(classifier, ModelClassifier)
    assert classifier.threshold == settings.triage_model.threshold


def test_a_backfill_before_the_first_training_gets_no_model(
    demo_training: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, models, _ = demo_training
    settings = models_settings(models)
    caplog.set_level(logging.WARNING)
    assert load_latest_model(settings, as_of=load_scenario(DEMO).now - timedelta(days=1)) is None
    assert "No promoted triage model was trained on history up to" in caplog.text
    assert load_latest_model(settings, as_of=load_scenario(DEMO).now) is not None


def corrupt_copy(models: Path, tmp_path: Path, change: Any) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    version = json.loads((copy / "triage" / "latest.json").read_text())["version"]
    change(copy / "triage" / version)
    return copy


@pytest.mark.parametrize(
    ("name", "change", "warning"),
    [
        (
            "truncated model",
            lambda d: (d / "model.json").write_text((d / "model.json").read_text()[:5000]),
            "not valid JSON",
        ),
        (
            "missing model",
            lambda d: (d / "model.json").unlink(),
            "'s model.json cannot be read (FileNotFoundError",
        ),
        # A card that cannot be read shows nothing that meets the minimums: its version is passed
        # over (an older promoted one that meets them would be used; here there is none).
        (
            "corrupted card",
            lambda d: (d / "card.json").write_text("{}"),
            "'s card cannot be read (ModelFileError: not a triage model card)",
        ),
        (
            "wrong shape",
            lambda d: (d / "model.json").write_text(
                json.dumps({**json.loads((d / "model.json").read_text()), "classes": ["bug", "question"]})
            ),
            "linear.coef: shape",
        ),
    ],
)
def test_a_corrupted_model_falls_back_to_the_rules_with_a_warning(
    demo_training: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, change: Any, warning: str
) -> None:
    _, models, _ = demo_training
    settings = models_settings(corrupt_copy(models, tmp_path, change))
    caplog.set_level(logging.WARNING)
    assert load_latest_model(settings) is None, name
    assert "the rules decide" in caplog.text
    assert warning in caplog.text
    assert type(triage_classifier(settings)) is PostClassifier


def test_no_model_or_a_weak_card_means_the_rules_decide(
    demo_training: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, models, _ = demo_training
    caplog.set_level(logging.WARNING)
    assert load_latest_model(models_settings(tmp_path / "nothing-here")) is None
    assert "No triage model has been promoted yet" in caplog.text
    caplog.clear()
    stricter = models_settings(models, minimums={"examples": 100_000})
    assert load_latest_model(stricter) is None
    assert "misses the minimums (" in caplog.text
    assert "examples (minimum 100000)" in caplog.text
    assert load_latest_model(models_settings(models, enabled=False)) is None


def test_too_little_history_stores_a_model_but_never_uses_it(
    airflow: AirflowRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = load_scenario(DEMO).now
    repo = "mattermost/mattermost"
    labelled = [
        github_issue(
            repo, n, f"Crash {n} when opening a channel", "asker", now - days(20 + n), labels=["Bug"]
        )
        for n in range(1, 4)
    ] + [
        github_issue(
            repo,
            n,
            f"Please add option {n} to the sidebar",
            "asker",
            now - days(20 + n),
            labels=["Type/Enhancement"],
        )
        for n in range(4, 7)
    ]
    scenario = write_scenario(
        tmp_path / "little",
        now,
        github={repo: {"issues": labelled}, "mattermost/mattermost-mobile": {}},
        variables={
            "community_staff": {"github": [], "bots": []},
            "community_settings": {
                "channels": {"disabled": ["gitlab", "stackoverflow", "uservoice", "jira"]}
            },
        },
    )
    with Sandbox(scenario) as running:
        result = run_model_dag(airflow, scenario, running)
    assert result.state == "success", result.log[-5000:]
    assert "is stored in" in result.log
    assert "but not used: 6 examples (minimum 200)" in result.log
    models = airflow.workdir / "models" / "triage"
    assert (models / "last-trained.json").exists()
    assert not (models / "latest.json").exists()
    caplog.set_level(logging.WARNING)
    assert load_latest_model(models_settings(airflow.workdir / "models")) is None
    assert "No triage model has been promoted yet" in caplog.text


def test_a_channel_not_read_makes_the_training_run_red_and_says_what_it_did_without_it(
    airflow: AirflowRunner, tmp_path: Path
) -> None:
    """The model DAG sends no digests: its failure says it trained without the channel."""
    copy = tmp_path / "scenario"
    shutil.copytree(DEMO, copy)
    config = (copy / "scenario.yaml").read_text()
    down = '\nfaults:\n  - {service: discourse, path: "/latest\\\\.json", status: 404, body: "{\\"errors\\": [\\"gone\\"]}"}\n'
    (copy / "scenario.yaml").write_text(config.rstrip("\n") + down)
    with Sandbox(copy) as running:
        result = run_model_dag(airflow, copy, running)
    assert result.state == "failed"
    assert result.task_failed("verify_all_channels_read")
    assert "channel(s) not read in this run: forum; the model was trained without them" in result.log
    assert "the digests were sent without them" not in result.log


def test_an_item_not_read_while_training_is_named_on_the_card(airflow: AirflowRunner, tmp_path: Path) -> None:
    """The run is red and its alert names the item; the card, which lasts as long as the model is in
    use, says which decisions the model never saw."""
    copy = tmp_path / "scenario"
    shutil.copytree(DEMO, copy)
    issues_file = copy / "github" / "mattermost" / "mattermost" / "issues.json"
    issues = json.loads(issues_file.read_text())
    broken = next(i for i in issues if i["created_at"] < "2026-10-01" and i.get("pull_request") is None)
    broken["labels"] = "bug"  # neither a list of names nor of label objects
    issues_file.write_text(json.dumps(issues))
    with Sandbox(copy) as running:
        result = run_model_dag(airflow, copy, running)
    assert result.state == "failed"
    assert result.task_failed("verify_all_channels_read")
    root = airflow.workdir / "models" / "triage"
    version = json.loads((root / "last-trained.json").read_text())["version"]
    card = ModelCard.from_json((root / version / "card.json").read_text())
    assert card.items_not_read == (f"github mattermost/mattermost#{broken['number']}",)
    assert f"Not read, so not trained on: github mattermost/mattermost#{broken['number']}" in result.log


def test_the_daily_run_with_a_corrupted_model_says_so_in_its_triage_list(
    demo_training: Any, airflow: AirflowRunner, tmp_path: Path
) -> None:
    """The daily run goes on, green, with the rules; the CM reads in the [Triage] itself that the
    promoted model could not be used (not only in the log of a task that succeeded)."""
    _, models, _ = demo_training
    broken = corrupt_copy(
        models, tmp_path, lambda d: (d / "model.json").write_text((d / "model.json").read_text()[:5000])
    )
    loaded = load_scenario(DEMO)
    with Sandbox(DEMO) as running:
        airflow.use_sandbox(
            running.base_url,
            loaded.variables,
            {
                "paths": {
                    **{k: str(airflow.workdir / k) for k in ("intermediate", "archive")},
                    "models": str(broken),
                }
            },
        )
        now = loaded.now.isoformat()
        result = airflow.dags_test("community_daily_monitoring", now, {"as_of": now})
    assert result.state == "success", result.log[-5000:]
    triage = [
        e["body"]["text"]
        for e in running.outbox
        if e["service"] == "mattermost" and e["path"] == "/hooks/cm-channel-hook"
    ]
    assert triage
    assert triage[0].startswith("[Triage]")
    assert ":warning: Triage model not used: triage model " in triage[0]
    assert "'s model.json cannot be read \\(" in triage[0]
    assert "not valid JSON" in triage[0]
    assert "the rules decided every type" in triage[0]
    assert not any("(model 0." in text for text in triage)
