"""``make demo``: run the DAGs through real Airflow against a sandbox scenario and show what was posted.

Steps: migrate the project-local metadata DB, start the sandbox on a free loopback port, apply
``airflow_settings.yaml`` pointing at it (plus the scenario's Variables), run each DAG with
``airflow dags test`` as of the scenario's ``now`` (the triage model first, printing its card),
print every message the sandbox received, save the outbox to ``<output>/outbox.json`` and stop
the sandbox.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from community_devtools import PROJECT_AIRFLOW_CONFIG, PROJECT_ROOT
from community_devtools.local_airflow import free_port

# (dag_id, whether the scenario's `closeout` params are its conf) in the order SPEC §8 gives.
DEMO_DAGS: tuple[tuple[str, bool], ...] = (
    ("community_triage_model", False),
    ("community_daily_monitoring", False),
    ("community_weekly_stale_review", False),
    ("community_release_closeout", True),
)
# Seconds between a task's tries in the demo (a deployment waits COMMUNITY_RETRY_DELAY_SECONDS, 60).
DEMO_RETRY_DELAY_SECONDS = 5


def airflow_command() -> str:
    """The ``airflow`` next to this Python (the project's venv), else the one on PATH."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else shutil.which("airflow") or "airflow"


def _run(cmd: list[str], log_path: Path, env: dict[str, str]) -> int:
    with log_path.open("w", encoding="utf-8") as log:
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def start_sandbox(scenario: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "community_sandbox",
            "--scenario",
            str(scenario),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        rest = proc.stdout.read() if proc.poll() is not None else ""
        proc.kill()
        raise SystemExit(f"error: the sandbox did not start:\n{line}{rest}")
    return proc


def load_now(scenario: Path) -> str:
    from community_sandbox.scenario import load_scenario

    return load_scenario(scenario).now.isoformat()


# SPEC §4's defaults for the closeout params a scenario leaves out (`dry_run` off, as in the Trigger
# form): written into the conf so that the run's params say what the scenario ran with.
SCENARIO_CLOSEOUT_DEFAULTS: dict[str, Any] = {"dry_run": False}


def load_closeout(scenario: Path) -> dict[str, Any]:
    """The scenario's `closeout` params as the run's conf: {} when it has none."""
    from community_sandbox.scenario import load_scenario

    given = dict(load_scenario(scenario).closeout or {})
    return {**SCENARIO_CLOSEOUT_DEFAULTS, **given} if given else {}


def print_message(entry: dict[str, Any]) -> None:
    body = entry.get("body")
    text = body.get("text") if isinstance(body, dict) else body
    # A webhook id is a secret (SPEC §6): the outbox file keeps it (the acceptance interface), the
    # printout does not.
    path = re.sub(r"(/hooks/)[^/?#]+", r"\1…", str(entry["path"]))
    print(f"--- {entry['service']} {entry['method']} {path} ---")
    print(text if isinstance(text, str) else json.dumps(body, indent=1, ensure_ascii=False))
    print()


def scenario_home(scenario: Path) -> Path:
    """The Airflow home (metadata DB, ledger, archive) of one scenario folder: its name, then a hash
    of its absolute path, so two folders of the same name (``a/scenario``, ``b/scenario``) never
    share a ledger (one's sends would read as the other's, already made). The Makefile derives the
    same name (``sha1sum`` of make's ``abspath``)."""
    absolute = os.path.abspath(scenario)
    digest = hashlib.sha1(absolute.encode(), usedforsecurity=False).hexdigest()[:8]
    return PROJECT_ROOT / "airflow_home" / f"{os.path.basename(absolute)}-{digest}"


def demo_environment(environ: Mapping[str, str], scenario: Path) -> dict[str, str]:
    """The environment the DAGs run in: the caller's, with what `make demo` sets filled in.

    Run as a module without an ``AIRFLOW_HOME``, the demo would otherwise use ``~/airflow`` (the
    operator's own home: it writes sandbox connections into it) with Airflow's example DAGs and
    no plugins; it takes the Makefile's per-scenario home instead.
    """
    env = dict(environ)
    if not env.get("AIRFLOW_HOME"):
        env["AIRFLOW_HOME"] = str(scenario_home(scenario))
    for name, value in PROJECT_AIRFLOW_CONFIG.items():
        env.setdefault(name, value)
    # Task retries wait seconds, not the minute a deployment waits: a scenario whose upstream fails
    # for good still ends in minutes (each try keeps its own HTTP retries and timeouts).
    env.setdefault("COMMUNITY_RETRY_DELAY_SECONDS", str(DEMO_RETRY_DELAY_SECONDS))
    # "… and N more" links the Community page (SPEC §7, §10) where Airflow knows its own address:
    # the local UI the demo's last lines tell how to start on this home (same port).
    from community_devtools.local_airflow import DEFAULT_AIRFLOW_PORT

    port = env.get("AIRFLOW_PORT") or DEFAULT_AIRFLOW_PORT
    env.setdefault("AIRFLOW__API__BASE_URL", f"http://127.0.0.1:{port}")
    if not env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)])
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the community monitoring DAGs against a sandbox scenario."
    )
    parser.add_argument("--scenario", type=Path, default=PROJECT_ROOT / "include" / "scenarios" / "demo")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "demo-output")
    args = parser.parse_args(argv)
    scenario = args.scenario.resolve()
    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    # A run that ends early must not leave the previous scenario's outbox looking like its own.
    (output / "outbox.json").unlink(missing_ok=True)
    try:
        now = load_now(scenario)
        closeout = load_closeout(scenario)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    env = demo_environment(os.environ, scenario)
    airflow = airflow_command()
    port = free_port()
    env["SANDBOX_URL"] = f"http://127.0.0.1:{port}"
    print(f"Scenario {scenario} (T = {now}); Airflow home {env.get('AIRFLOW_HOME')}")
    print_unread_data(scenario)

    print("Migrating the Airflow metadata DB ...", flush=True)
    if _run([airflow, "db", "migrate"], output / "airflow-db-migrate.log", env) != 0:
        print(f"error: airflow db migrate failed; see {output / 'airflow-db-migrate.log'}", file=sys.stderr)
        return 1
    sandbox = start_sandbox(scenario, port, env)
    print(f"Sandbox on {env['SANDBOX_URL']}", flush=True)
    failed: list[str] = []
    try:
        settings = subprocess.run(
            [
                sys.executable,
                "-m",
                "community_devtools.settings_loader",
                str(PROJECT_ROOT / "airflow_settings.yaml"),
                "--scenario",
                str(scenario),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if settings.returncode != 0:
            print(settings.stdout + settings.stderr, file=sys.stderr)
            return 1
        print(settings.stdout.strip().splitlines()[-1])
        for dag_id, uses_closeout in DEMO_DAGS:
            if uses_closeout and not closeout:
                print(f"  {dag_id}: not run (the scenario has no `closeout` params)")
                continue
            conf = dict(closeout) if uses_closeout else {"as_of": now}
            log_path = output / f"{dag_id}.log"
            print(f"Running {dag_id} as of {now} (log: {log_path}) ...", flush=True)
            code = _run([airflow, "dags", "test", dag_id, now, "-c", json.dumps(conf)], log_path, env)
            state = _run_state(log_path)
            print(f"  {dag_id}: {state or ('failed' if code else 'done')}")
            if code != 0 or state == "failed":
                failed.append(dag_id)
                log_text = log_path.read_text(encoding="utf-8", errors="replace")
                for task_id, why in failed_tasks(log_text):
                    shown = why if len(why) <= 400 else why[:400] + " …"
                    print(f"    task {task_id} failed: {shown}")
            if dag_id == "community_triage_model":
                print_model_card(scenario, env)
        outbox = _get_json(f"{env['SANDBOX_URL']}/_sandbox/outbox")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    (output / "outbox.json").write_text(
        json.dumps(outbox, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print()
    if outbox:
        print(f"Posted {len(outbox)} message(s):\n")
        for entry in outbox:
            print_message(entry)
    elif failed:
        print("Nothing new was posted (a run failed: see above).")
    else:
        print("Nothing new was posted: the ledger shows every message for this T was already sent.")
        print("Run `make clean` to start over.")
    print_tracking_sheet(scenario, env)
    print(f"Outbox saved to {output / 'outbox.json'}")
    print_community_page(scenario, env)
    if failed:
        print(f"Runs that ended failed: {', '.join(failed)} (see their logs in {output})", file=sys.stderr)
        return 1
    return 0


def print_community_page(scenario: Path, env: dict[str, str]) -> None:
    """Where to see the daily run's post states (SPEC §10): the Community page of the local Airflow UI."""
    from community_devtools.local_airflow import DEFAULT_AIRFLOW_PORT

    home = Path(env.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow"))
    port = env.get("AIRFLOW_PORT") or DEFAULT_AIRFLOW_PORT
    print(
        f"""
Community page (queue, metrics, chart; SPEC §10): the daily run recorded its post states in this
home's ledger DB. To browse them in the Airflow UI, on this demo's home:
  .venv/bin/python -m community_devtools.local_airflow --scenario {_shown(scenario)} --home {_shown(home)}
and open http://127.0.0.1:{port}/community/ (or "Community" in the UI's navigation), signed in as
admin with the password it prints. `make airflow` starts the same UI on a home of its own
(airflow_home/ui-<scenario>), whose page shows the daily runs you trigger there.
"""
    )


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def scenario_settings(scenario: Path, showing: str) -> Any:
    """The settings the scenario's runs use; None, said so, when they are invalid (the runs then
    failed, and their logs name the Variable and key)."""
    from community_monitoring.errors import SettingsError
    from community_monitoring.settings import load_settings
    from community_sandbox.scenario import load_scenario

    try:
        return load_settings(load_scenario(scenario).variables.get("community_settings"))
    except SettingsError as exc:
        print(f"  No {showing} to show: the scenario's settings are invalid ({exc})")
        return None


# Scenario folder -> the channel key the settings enable or disable it by.
_SERVICE_CHANNELS = {
    "github": "github",
    "gitlab": "gitlab",
    "discourse": "forum",
    "stackexchange": "stackoverflow",
    "uservoice": "uservoice",
    "jira": "jira",
}


def unread_data(scenario: Path, settings: Any) -> list[str]:
    """What the scenario's files hold that its settings never read: a GitHub repository or GitLab
    project the settings do not list, GitLab issues without their project's required labels, a
    service whose channel is disabled, Stack Overflow questions with none of the configured tags.
    The runs leave those posts out, as a deployment would; said up front, a scenario written for
    other repositories does not pass for an empty day."""
    unread = []
    for service, channel_key in _SERVICE_CHANNELS.items():
        folder = scenario / service
        if not settings.is_enabled(channel_key) and folder.is_dir() and any(folder.rglob("*.json")):
            unread.append(f"{service}/ (channel {channel_key!r} is in channels.disabled)")
    if settings.is_enabled("github"):
        repos = {r.lower() for r in settings.github.repos}
        for folder in sorted({path.parent for path in (scenario / "github").glob("*/*/*.json")}):
            name = "/".join(folder.relative_to(scenario / "github").parts)
            if name.lower() not in repos:
                unread.append(f"github/{name}/")
    if settings.is_enabled("gitlab"):
        projects = {p.lower(): labels for p, labels in settings.gitlab.projects.items()}
        for issues in sorted((scenario / "gitlab").rglob("issues.json")):
            name = "/".join(issues.parent.relative_to(scenario / "gitlab").parts)
            if name.lower() not in projects:
                unread.append(f"gitlab/{name}/")
                continue
            required = {label.lower() for label in projects[name.lower()]}
            unlabelled = [
                issue
                for issue in _json_items(issues)
                if not required <= {str(label).lower() for label in issue.get("labels") or ()}
            ]
            if unlabelled:
                shown = ", ".join(sorted(projects[name.lower()]))
                unread.append(
                    f"gitlab/{name}/issues.json: {len(unlabelled)} issue(s) without the labels {shown}"
                )
    questions = scenario / "stackexchange" / "questions.json"
    if settings.is_enabled("stackoverflow") and questions.is_file():
        tags = {t.lower() for t in settings.stackoverflow.tags}
        untagged = [
            q for q in _json_items(questions) if not tags & {str(t).lower() for t in q.get("tags") or ()}
        ]
        if untagged:
            unread.append(f"stackexchange/questions.json: {len(untagged)} question(s) with none of the tags")
    return unread


def _json_items(path: Path) -> list[dict[str, Any]]:
    """The objects of a scenario's JSON array file; none when it is broken (the sandbox names it)."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def print_unread_data(scenario: Path) -> None:
    from community_monitoring.errors import SettingsError
    from community_monitoring.settings import load_settings
    from community_sandbox.scenario import ScenarioError, load_scenario

    try:
        settings = load_settings(load_scenario(scenario).variables.get("community_settings"))
    except (ScenarioError, SettingsError):
        return  # the sandbox names a bad file, the runs bad settings
    unread = unread_data(scenario, settings)
    if unread:
        print(
            "Note: the settings do not read part of this scenario's data (github.repos, gitlab.projects, "
            "stackoverflow.tags, channels.disabled; set them in the scenario's community_settings):"
        )
        for what in unread:
            print(f"  {what}")


def print_tracking_sheet(scenario: Path, env: dict[str, str]) -> None:
    """The tracking sheet's rows after the runs (SPEC §5): upcoming, waiting, slipped, thanked."""
    from community_monitoring.tracking_sheet import read_sheet

    settings = scenario_settings(scenario, "tracking sheet")
    if settings is None:
        return
    home = env.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    path = settings.paths.tracking_sheet.removeprefix("file://") or os.path.join(
        home, "community_monitoring", "tracking-sheet.xlsx"
    )
    rows = read_sheet(path)
    print(f"\nTracking sheet {path}: {len(rows)} row(s)")
    for row in rows:
        notes = [f"thanked {row['thanked_at']}" if row["thanked_at"] else "", row["jira_status"]]
        if row.get("slipped_to"):
            notes.append(f"slipped to {row['slipped_to']}")
        print(
            f"  {row['suggestion_id']:>9} {row['fix_version']:<7} {row['jira_key']:<9} "
            f"{row['title'][:60]:<60} {' · '.join(n for n in notes if n)}"
        )
    print()


def print_model_card(scenario: Path, env: dict[str, str]) -> None:
    """The card of the triage model the run just trained, from the models folder (SPEC §12)."""
    from community_monitoring.triage_model import ModelCard, ModelFileError, format_card

    settings = scenario_settings(scenario, "triage model card")
    if settings is None:
        return
    home = env.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    location = settings.paths.models or os.path.join(home, "community_monitoring", "models")
    if "://" in location and not location.startswith("file://"):
        print(f"  The model card is in {location}/triage (not a local folder)")
        return
    root = Path(location.removeprefix("file://")) / "triage"
    if not (root / "last-trained.json").exists():
        print(
            "  No triage model was trained (the community_triage_model log says why, e.g. too little"
            " history); the daily [Triage] uses the rules"
        )
        return
    try:
        version = json.loads((root / "last-trained.json").read_text(encoding="utf-8"))["version"]
        card = ModelCard.from_json((root / version / "card.json").read_text(encoding="utf-8"))
        latest = (
            json.loads((root / "latest.json").read_text(encoding="utf-8"))
            if (root / "latest.json").exists()
            else {}
        )
    except (OSError, ValueError, KeyError, ModelFileError) as exc:
        print(f"  No triage model card to show ({exc}); the daily [Triage] uses the rules")
        return
    used = latest.get("version") == version
    instead = "" if used else in_use_instead_of(settings, location, card.as_of)
    print(f"  Model card ({'used by the daily [Triage]' if used else f'not used: {instead}'}):")
    for line in format_card(card, settings.triage_model.minimums).splitlines():
        print(f"    {line}")


def in_use_instead_of(settings: Any, models: str, as_of: str) -> str:
    """What the daily [Triage] decides with instead of a card not promoted, as the DAG's log says
    it: an earlier promoted model only while its card meets today's minimums, else the rules."""
    from community_monitoring.pipeline.triage_model import in_use_instead
    from community_monitoring.timeutil import parse_time

    located = settings.model_copy(update={"paths": settings.paths.model_copy(update={"models": models})})
    return in_use_instead(located, parse_time(as_of))


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception|Timeout|Delivery|Write|Held)\w*): (.+)$"
)


def failed_tasks(log_text: str) -> list[tuple[str, str]]:
    """(task id, why) of each task an ``airflow dags test`` log shows failing for good (its last try
    ended ``failed``, not up for retry), why being the exception its task raised, as Python printed it."""
    failed: dict[str, str] = {}
    task, why = "", ""
    for line in log_text.splitlines():
        started = _TASK_START.search(line)
        if started:
            task, why = started.group(1), ""
            continue
        exception = _EXCEPTION_LINE.match(line.strip())
        if task and exception:
            why = f"{exception.group(1)}: {exception.group(2)}"
        elif task and "new_state=failed" in line:
            failed[task] = why or "see the log"
        elif task and "new_state=success" in line:
            failed.pop(task, None)
    return list(failed.items())


def _run_state(log_path: Path) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    for marker in ("state=failed", "state=success"):
        if marker in text:
            return marker.split("=", 1)[1]
    return ""


if __name__ == "__main__":
    raise SystemExit(main())
