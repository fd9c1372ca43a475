"""``make bench``: the speed and scale figures of SPEC §9, printed (never asserted in tests).

For each size (posts a day across all six channels, ``--sizes``), on a synthetic scenario
(``community_sandbox.synth.write_scale_scenario``) served by the local sandbox:

1. The daily DAG as of T − 1 day on yesterday's state of the data (the first run: empty caches),
   then the daily DAG as of T and the weekly DAG as of T on today's state, each a whole
   ``airflow dags test`` process: wall time and peak RSS of its process tree (psutil, sampled).
2. Per endpoint, the requests each run made (the sandbox's request log) against the minimum:
   the pages the API's largest page size needs for what the run had to read. SPEC §9 allows the
   minimum + 1 per endpoint; ``requests_over_min`` adds up what goes beyond that. Endpoints with
   no batch form (GitLab notes, Jira remote links) are listed apart: their minimum is the items
   that changed since a run last read them (the run's window against what earlier runs read).
3. Side by side with Perceval's GitHub, Discourse and Stack Exchange backends on the same sandbox
   data and window (installed into ``.bench-perceval/``, a dev-only venv: GPL, never shipped;
   ``--perceval-max-size`` caps the sizes it runs at): our requests and fetch time as ratios to theirs.
4. The Community page's work per request on the state table the runs wrote: its data and its chart.

Then DAG parse times and classify + filter over 100,000 posts. The last line sums it up:
``bench: daily_100k_s=… weekly_100k_s=… peak_rss_mb=… requests_over_min=… perceval_request_ratio=…``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from community_devtools import PROJECT_AIRFLOW_CONFIG, PROJECT_ROOT
from community_devtools.demo import airflow_command
from community_devtools.local_airflow import free_port

DAILY = "community_daily_monitoring"
WEEKLY = "community_weekly_stale_review"
PERCEVAL_VENV = PROJECT_ROOT / ".bench-perceval"
# Each API's largest page size: the minimum number of requests is counted in these pages.
GITHUB_PAGE, GITLAB_PAGE, SE_PAGE, SE_IDS, UV_PAGE, JIRA_PAGE = 100, 100, 100, 100, 100, 100
FORUM_TOPICS_PAGE, FORUM_POSTS_PAGE = 30, 50  # Discourse's fixed pages
GITLAB_LABEL, SO_TAG, PRODUCT_REPO = "Mattermost", "mattermost", "mattermost/mattermost"


@dataclass(frozen=True)
class Windows:
    """The days back each run reads: the product's own answer for the rules file's defaults (the
    scale scenario sets no overrides), so the minimum is counted over what the run had to read."""

    daily: int
    weekly: int
    jira: int

    @classmethod
    def of_product(cls) -> Windows:
        from community_monitoring.pipeline.common import review_window_days
        from community_monitoring.settings import load_settings

        settings = load_settings()
        return cls(
            review_window_days(settings, "daily"),
            review_window_days(settings, "weekly"),
            settings.jira.lookback_days,
        )


# Endpoints without a batch form: one call per item, only for items changed since last read (SPEC §9).
PER_ITEM = {
    ("gitlab", "/projects/{project}/issues/{id}/notes"),
    ("jira", "/rest/api/3/issue/{key}/remotelink"),
}


# ----- helpers ------------------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    from community_sandbox.loading import parse_time

    return parse_time(value)


def _pages(count: int, size: int) -> int:
    """Requests to list ``count`` items ``size`` at a time: an empty list still takes one."""
    return max(math.ceil(count / size), 1)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def airflow_env(home: Path, sandbox_url: str) -> dict[str, str]:
    """The environment every Airflow process of one size runs in: its own home, our DAGs and plugins."""
    env = dict(os.environ)
    env.update(PROJECT_AIRFLOW_CONFIG)
    env.update(
        AIRFLOW_HOME=str(home),
        PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT)]),
        SANDBOX_URL=sandbox_url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


@dataclass
class ProcessFigures:
    seconds: float
    peak_rss_mb: float
    returncode: int
    state: str = ""
    first_task_s: float | None = None  # when the first task started (Airflow's own start-up before it)


_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \[info +\] Task started", re.MULTILINE)


def run_measured(cmd: list[str], env: dict[str, str], log_path: Path) -> ProcessFigures:
    """Run a whole process; its wall time and the peak of its process tree's summed RSS."""
    import psutil

    peak = 0
    started_at = datetime.now(UTC)
    start = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        root = psutil.Process(proc.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                total = 0
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    tree = []
                for member in tree:
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_info().rss
                peak = max(peak, total)
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    state = next((m.split("=", 1)[1] for m in ("state=failed", "state=success") if m in text), "")
    first = _LOG_TIME.search(text)
    first_task = (
        (datetime.fromisoformat(first.group(1)).replace(tzinfo=UTC) - started_at).total_seconds()
        if first
        else None
    )
    return ProcessFigures(seconds, peak / 1e6, code, state, first_task)


def new_rate_window(sandbox: Any) -> None:
    """A fresh rate-limit window (the hour, the day) for the next run, and an empty request log.

    The runs of one size are a day or a week apart in reality; the sandbox's counters are not.
    """
    for service in sandbox.services:
        if hasattr(service, "used"):
            service.used = 0
        if hasattr(service, "quota_remaining"):
            service.quota_remaining = getattr(sys.modules[type(service).__module__], "QUOTA_MAX", 10_000)
    sandbox.requests_log.clear()


# ----- requests against the minimum ---------------------------------------------------------------

_JIRA_KEY = re.compile(r"/[A-Z][A-Z0-9_]*-\d+(?=/|$)")
# Numeric ids (and Stack Exchange's id;id;... lists), never an API version such as /rest/api/3.
_IDS = re.compile(r"(?<!/api)/\d+(?:(?:;|%3B)\d+)*(?=/|$|\.json)", re.IGNORECASE)
_PREFIXES = {
    "github": "/api/v3",
    "gitlab": "/gitlab/api/v4",
    "discourse": "/discourse",
    "stackexchange": "/stackexchange",
    "uservoice": "/uservoice/api/v2",
    "jira": "/jira",
    "mattermost": "",
}


def endpoint_of(entry: dict[str, Any]) -> tuple[str, str]:
    """(service, endpoint): the path without the service's prefix, ids replaced by placeholders."""
    service, path = entry["service"], entry["path"]
    path = path[len(_PREFIXES.get(service, "")) :] or "/"
    if service == "gitlab":
        path = re.sub(r"^/projects/[^/]+", "/projects/{project}", path)
    if service == "jira":
        path = _JIRA_KEY.sub("/{key}", path)
    if service == "mattermost":
        path = re.sub(r"^/hooks/[^/]+", "/hooks/{id}", path)
    if service == "discourse":
        path = re.sub(r"^/t/(?:[^/]+/)?\d+", "/t/{id}", path)
    path = _IDS.sub(
        lambda m: "/{ids}" if (";" in m.group(0) or "%3b" in m.group(0).lower()) else "/{id}", path
    )
    return service, path


@dataclass
class Seen:
    """What earlier runs of one Airflow home read of the per-item endpoints (item → its updated time)."""

    gitlab: dict[int, str] = field(default_factory=dict)
    jira: dict[str, str] = field(default_factory=dict)


@dataclass
class EndpointRow:
    service: str
    endpoint: str
    made: int
    minimum: int
    per_item: bool = False
    items: str = ""  # what the minimum counts

    @property
    def over(self) -> int:
        allowed = self.minimum if self.per_item else self.minimum + 1
        return max(self.made - allowed, 0)


class Minimums:
    """The fewest requests per endpoint a run can make to read its window of the sandbox's data."""

    def __init__(self, data: dict[str, Any], jira_days: int) -> None:
        self.data = data
        self.jira_days = jira_days

    def github(self, since: datetime, until: datetime) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for name, files in (self.data.get("github") or {}).items():
            created = sum(1 for i in files.issues if since < _time(i["created_at"]) <= until)
            comments = sum(
                1 for c in files.comments if _time(c.get("updated_at") or c["created_at"]) >= since
            )
            base = f"/repos/{name}"
            found[f"{base}/issues"] = (
                _pages(created, GITHUB_PAGE),
                f"{created} issues created in the window",
            )
            found[f"{base}/issues/comments"] = (_pages(comments, GITHUB_PAGE), f"{comments} comments since")
            if name == PRODUCT_REPO:
                found[f"{base}/releases"] = (_pages(len(files.releases), GITHUB_PAGE), "releases")
        return found

    def gitlab_issues(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        issues = []
        for files in (self.data.get("gitlab") or {}).values():
            issues += [
                i
                for i in files.issues
                if GITLAB_LABEL in (i.get("labels") or []) and since <= _time(i["created_at"]) <= until
            ]
        return issues

    def gitlab(self, since: datetime, until: datetime) -> dict[str, tuple[int, str]]:
        count = len(self.gitlab_issues(since, until))
        return {"/projects/{project}/issues": (_pages(count, GITLAB_PAGE), f"{count} labelled issues")}

    def forum(self, since: datetime, until: datetime) -> dict[str, tuple[int, str]]:
        files = self.data.get("discourse")
        topics = files.topics if files else []
        posts = files.posts if files else []
        active = sum(
            1 for t in topics if t.get("pinned") or _time(t.get("bumped_at") or t["created_at"]) > since
        )
        recent = sum(1 for p in posts if _time(p["created_at"]) > since)
        return {
            "/categories.json": (1, "one list"),
            "/latest.json": (_pages(active, FORUM_TOPICS_PAGE), f"{active} topics active since"),
            "/posts.json": (_pages(recent, FORUM_POSTS_PAGE), f"{recent} posts since"),
        }

    def stackoverflow(self, since: datetime, until: datetime) -> dict[str, tuple[int, str]]:
        files = self.data.get("stackexchange")
        if files is None:
            return {}
        low, high = int(since.timestamp()), int(until.timestamp())
        tagged = [q for q in files.questions if SO_TAG in (q.get("tags") or [])]
        # The questions the API serves for creation dates from ``low`` to ``high`` (inclusive).
        served = [q for q in tagged if low <= q["creation_date"] <= high]
        window = sorted(q["question_id"] for q in served if low < q["creation_date"])
        answers_of: dict[int, list[int]] = defaultdict(list)
        for answer in files.answers:
            answers_of[answer["question_id"]].append(answer["answer_id"])
        q_comments = Counter(
            c["post_id"] for c in files.comments if c.get("post_type", "question") == "question"
        )
        a_comments = Counter(c["post_id"] for c in files.comments if c.get("post_type") == "answer")

        def batched(ids: list[int], per_id: Any) -> int:
            return sum(
                _pages(sum(per_id(i) for i in ids[k : k + SE_IDS]), SE_PAGE)
                for k in range(0, len(ids), SE_IDS)
            )

        answer_ids = sorted(a for q in window for a in answers_of.get(q, []))
        return {
            "/2.3/questions": (
                _pages(len(served), SE_PAGE),
                f"{len(served)} questions created in the window",
            ),
            "/2.3/questions/{ids}/answers": (
                batched(window, lambda q: len(answers_of.get(q, []))),
                f"{len(window)} questions, 100 ids a call",
            ),
            "/2.3/questions/{ids}/comments": (batched(window, lambda q: q_comments[q]), "100 ids a call"),
            "/2.3/answers/{ids}/comments": (batched(answer_ids, lambda a: a_comments[a]), "100 ids a call"),
            "/2.3/filters/create": (1, "one filter"),
        }

    def uservoice(self) -> dict[str, tuple[int, str]]:
        files = self.data.get("uservoice")
        sizes = {
            name: len(getattr(files, name)) if files else 0
            for name in ("suggestions", "comments", "users", "categories")
        }
        found = {f"/admin/{name}": (_pages(n, UV_PAGE), f"{n} {name}") for name, n in sizes.items()}
        found["/admin/statuses"] = (1, "one list")
        # Labels are read only when a suggestion links one (by id).
        labelled = files is not None and any((s.get("links") or {}).get("labels") for s in files.suggestions)
        if labelled:
            found["/admin/labels"] = (_pages(len(files.labels), UV_PAGE), f"{len(files.labels)} labels")
        found["/oauth/token"] = (1, "one token")
        return found

    def jira_tickets(self, until: datetime) -> list[dict[str, Any]]:
        files = self.data.get("jira")
        since = until - timedelta(days=self.jira_days)
        tickets = files.issues if files else []
        return [
            t
            for t in tickets
            if str(t["key"]).upper().startswith("MM-")
            and t["fields"].get("updated")
            and since <= _time(t["fields"]["updated"]) <= until
        ]

    def jira(self, until: datetime) -> dict[str, tuple[int, str]]:
        count = len(self.jira_tickets(until))
        return {
            "/rest/api/3/search/jql": (_pages(count, JIRA_PAGE), f"{count} tickets updated in the lookback")
        }


def analyse_requests(
    log: list[dict[str, Any]],
    data: dict[str, Any],
    as_of: datetime,
    days: int,
    channels: Iterable[str],
    seen: Seen,
    jira_days: int,
) -> list[EndpointRow]:
    """Requests per endpoint against the minimum; updates ``seen`` with what this run had to read."""
    since = as_of - timedelta(days=days)
    minimums = Minimums(data, jira_days)
    expected: dict[tuple[str, str], tuple[int, str]] = {}
    channels = set(channels)
    if "github" in channels:
        expected |= {("github", k): v for k, v in minimums.github(since, as_of).items()}
    if "gitlab" in channels:
        expected |= {("gitlab", k): v for k, v in minimums.gitlab(since, as_of).items()}
        issues = [i for i in minimums.gitlab_issues(since, as_of) if i.get("user_notes_count", 1)]
        changed = [i for i in issues if seen.gitlab.get(i["iid"]) != i.get("updated_at")]
        expected[("gitlab", "/projects/{project}/issues/{id}/notes")] = (
            len(changed),
            f"{len(changed)} of {len(issues)} issues with notes changed since last read",
        )
        seen.gitlab.update({i["iid"]: i.get("updated_at") for i in minimums.gitlab_issues(since, as_of)})
    if "forum" in channels:
        expected |= {("discourse", k): v for k, v in minimums.forum(since, as_of).items()}
    if "stackoverflow" in channels:
        expected |= {("stackexchange", k): v for k, v in minimums.stackoverflow(since, as_of).items()}
    if "uservoice" in channels:
        expected |= {("uservoice", k): v for k, v in minimums.uservoice().items()}
    if "jira" in channels:
        expected |= {("jira", k): v for k, v in minimums.jira(as_of).items()}
        tickets = minimums.jira_tickets(as_of)
        changed_keys = [t["key"] for t in tickets if seen.jira.get(t["key"]) != t["fields"]["updated"]]
        expected[("jira", "/rest/api/3/issue/{key}/remotelink")] = (
            len(changed_keys),
            f"{len(changed_keys)} of {len(tickets)} tickets changed since last read",
        )
        seen.jira.update({t["key"]: t["fields"]["updated"] for t in tickets})
    made = Counter(endpoint_of(e) for e in log if e["method"] == "GET")
    rows = []
    for key in sorted(set(made) | {k for k in expected if made.get(k) or k in PER_ITEM}):
        minimum, items = expected.get(key, (0, "not needed"))
        rows.append(EndpointRow(key[0], key[1], made.get(key, 0), minimum, key in PER_ITEM, items))
    return rows


# ----- the DAG runs of one size -------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    dag_id: str
    as_of: datetime
    figures: ProcessFigures
    rows: list[EndpointRow]
    writes: int
    log_path: Path
    intermediate_mb: float = 0.0  # what the run left in the run store (removed after the retention)

    @property
    def over(self) -> int:
        return sum(r.over for r in self.rows)


@dataclass
class SizeResult:
    size: int
    generate_seconds: float
    items: int
    runs: list[RunResult] = field(default_factory=list)
    perceval: list[PercevalRow] = field(default_factory=list)
    perceval_note: str = ""

    def run(self, label: str) -> RunResult | None:
        return next((r for r in self.runs if r.label == label), None)


def run_dag(
    label: str,
    dag_id: str,
    as_of: datetime,
    sandbox: Any,
    env: dict[str, str],
    logs: Path,
    days: int,
    channels: Iterable[str],
    seen: Seen,
    jira_days: int,
) -> RunResult:
    new_rate_window(sandbox)
    outbox_before = len(sandbox.outbox)
    stamp = as_of.isoformat()
    log_path = logs / f"{label.replace(' ', '-')}.log"
    cmd = [airflow_command(), "dags", "test", dag_id, stamp, "-c", json.dumps({"as_of": stamp})]
    intermediates = Path(env["AIRFLOW_HOME"]) / "community_monitoring" / "intermediate"
    before = folder_bytes(intermediates)
    figures = run_measured(cmd, env, log_path)
    left_mb = (folder_bytes(intermediates) - before) / 1e6
    rows = analyse_requests(
        list(sandbox.requests_log), sandbox.scenario.data, as_of, days, channels, seen, jira_days
    )
    writes = len(sandbox.outbox) - outbox_before
    return RunResult(label, dag_id, as_of, figures, rows, writes, log_path, left_mb)


def folder_bytes(folder: Path) -> int:
    """The size of every file below ``folder`` (0 when it does not exist yet)."""
    return sum(
        os.path.getsize(os.path.join(parent, name)) for parent, _, names in os.walk(folder) for name in names
    )


def print_run(result: RunResult) -> None:
    f = result.figures
    state = f.state or ("failed" if f.returncode else "done")
    print(
        f"  {result.label:<24} {f.seconds:7.1f} s wall (first task after {_fmt(f.first_task_s)} s)  "
        f"{f.peak_rss_mb:5.0f} MB peak RSS  run {state}, {result.writes} messages posted  (log: {result.log_path.name})"
    )
    print(f"      intermediates left in the run store: {result.intermediate_mb:.1f} MB")
    paged = [r for r in result.rows if not r.per_item]
    per_item = [r for r in result.rows if r.per_item]
    for row in paged:
        flag = f"  OVER by {row.over}" if row.over else ""
        print(
            f"      {row.service:<13} {row.endpoint:<42} {row.made:6d} made, minimum {row.minimum:6d} ({row.items}){flag}"
        )
    for row in per_item:
        flag = f"  {row.over} beyond the changed items" if row.over else ""
        print(
            f"      {row.service:<13} {row.endpoint:<42} {row.made:6d} made, changed items {row.minimum:6d} "
            f"({row.items}){flag}"
        )
    made = sum(r.made for r in paged)
    print(
        f"      paged endpoints: {made} requests, {sum(r.minimum for r in paged)} minimum, "
        f"{sum(r.over for r in paged)} beyond minimum + 1; changed-items calls: "
        f"{sum(r.made for r in per_item)} made for {sum(r.minimum for r in per_item)} changed items"
    )


def bench_size(size: int, *, perceval: bool, keep: Path | None) -> SizeResult:
    from community_sandbox import Sandbox
    from community_sandbox.synth import NOW, scale_plan, write_scale_scenario

    yesterday = NOW - timedelta(days=1)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=keep))
    try:
        start = time.perf_counter()
        write_scale_scenario(tmp / "yesterday", size, as_of=yesterday)
        counts = write_scale_scenario(tmp / "today", size)
        generated = time.perf_counter() - start
        result = SizeResult(size, generated, sum(counts.values()))
        plan = scale_plan(size)
        today_posts = sum(bands[0][0] for bands in plan.values())
        print(
            f"\n== {size:,} posts a day: {today_posts:,} created in the day across six channels, "
            f"{result.items:,} items in all (scenarios written in {generated:.1f}s: {tmp})"
        )
        port = free_port()
        env = airflow_env(tmp / "airflow", f"http://127.0.0.1:{port}")
        logs = tmp / "logs"
        logs.mkdir()
        if _quiet([airflow_command(), "db", "migrate"], env, logs / "db-migrate.log") != 0:
            raise SystemExit(f"error: airflow db migrate failed; see {logs / 'db-migrate.log'}")
        settings_cmd = [
            sys.executable,
            "-m",
            "community_devtools.settings_loader",
            str(PROJECT_ROOT / "airflow_settings.yaml"),
            "--scenario",
            str(tmp / "today"),
        ]
        if _quiet(settings_cmd, env, logs / "settings.log") != 0:
            raise SystemExit(f"error: applying airflow_settings.yaml failed; see {logs / 'settings.log'}")
        seen = Seen()
        windows = Windows.of_product()
        daily_channels = ("github", "gitlab", "forum", "stackoverflow", "uservoice", "jira")
        weekly_channels = ("github", "gitlab", "forum", "stackoverflow")
        with Sandbox(tmp / "yesterday", port=port) as sandbox:
            first = run_dag(
                "daily T-1d (first run)",
                DAILY,
                yesterday,
                sandbox,
                env,
                logs,
                windows.daily,
                daily_channels,
                seen,
                windows.jira,
            )
        print_run(first)
        result.runs.append(first)
        with Sandbox(tmp / "today", port=port) as sandbox:
            for label, dag_id, days, channels in (
                ("daily T", DAILY, windows.daily, daily_channels),
                ("weekly T", WEEKLY, windows.weekly, weekly_channels),
            ):
                run = run_dag(label, dag_id, NOW, sandbox, env, logs, days, channels, seen, windows.jira)
                print_run(run)
                result.runs.append(run)
            if perceval:
                result.perceval, result.perceval_note = bench_perceval(sandbox, env, tmp)
                print_perceval(result)
        bench_community_page(Path(env["AIRFLOW_HOME"]) / "community_monitoring" / "ledger.db")
        return result
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def bench_community_page(ledger: Path) -> None:
    """The Community page's work per request on the state table the runs above wrote (in process,
    as the api-server does it): the page's data and its chart, for every channel and type."""
    import sqlalchemy as sa

    from community_monitoring.web import app, page

    if not ledger.exists():
        print("  Community page: no state table was written")
        return
    engine = sa.create_engine(f"sqlite:///{ledger}")
    try:
        selection = page.select(page.PageQuery.parse(None, None, None, None, None, None))
        start = time.perf_counter()
        context = app.page_context(selection, engine)
        page_seconds = time.perf_counter() - start
        start = time.perf_counter()
        png = app.chart_png(selection, engine)
        chart_seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    print(
        f"  Community page at T: {page_seconds:.2f}s for its data ({context['tracked']:,} posts tracked, "
        f"{len(context['weekly'])} weekly rows), {chart_seconds:.2f}s for its chart ({len(png):,} bytes)"
    )


def _quiet(cmd: list[str], env: dict[str, str], log_path: Path) -> int:
    with log_path.open("w", encoding="utf-8") as log:
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode


# ----- Perceval, side by side ---------------------------------------------------------------------

# Run inside Perceval's own venv: fetches with one backend through Perceval's Python API and prints
# {"items", "seconds"}. Perceval's Stack Exchange client has a fixed base URL and API version: they
# are pointed at the sandbox (which emulates 2.3). The sandbox's wrapper carries ``total`` only
# for filters that ask for it; Perceval's baked-in filter does, so the wrapper adds it when absent.
PERCEVAL_RUNNER = r"""
import json, sys, time
from datetime import datetime

backend, base, since = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
items = 0
start = time.perf_counter()
if backend == "github":
    from perceval.backends.core.github import GitHub
    for full_name in sys.argv[4:]:
        owner, repo = full_name.split("/")
        for _ in GitHub(owner, repo, api_token=["bench"], base_url=base, sleep_for_rate=False).fetch(
            from_date=since
        ):
            items += 1
elif backend == "discourse":
    from perceval.backends.core.discourse import Discourse
    for _ in Discourse(base, api_username="system", api_token="bench").fetch(from_date=since):
        items += 1
else:
    from perceval.backends.core import stackexchange
    client = stackexchange.StackExchangeClient
    client.STACKEXCHANGE_API_URL = base
    client.VERSION_API = "2.3"
    fetch = client.fetch

    def fetch_with_total(self, *args, **kwargs):
        response = fetch(self, *args, **kwargs)
        data = response.json()
        data.setdefault("total", len(data.get("items", [])))
        response.json = lambda **_: data
        return response

    client.fetch = fetch_with_total
    for _ in stackexchange.StackExchange("stackoverflow", tagged=sys.argv[4], max_questions=100).fetch(
        from_date=since
    ):
        items += 1
print(json.dumps({"items": items, "seconds": time.perf_counter() - start}))
"""

# Run in our venv: the product's own fetch for one channel over the same window, timed the same way.
OURS_RUNNER = r"""
import json, sys, time
from datetime import datetime
from community_monitoring.channels import channel
from community_monitoring.settings import load_settings
from community_monitoring.sources import FetchRequest

key, since, until = sys.argv[1], datetime.fromisoformat(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
# Imports and connection look-ups first (no request), as Perceval's side imports its backend first.
from airflow.sdk.bases.hook import BaseHook
fetcher, settings = channel(key).fetcher(), load_settings()
for conn_id in channel(key).connections:
    BaseHook.get_connection(conn_id)
start = time.perf_counter()
# As deployed: with the item cache of the daily runs above (the thread filter Stack Exchange makes
# once, as Perceval's is baked in; no compared backend reads items one by one).
from community_monitoring.item_cache import ItemCache
fetched = fetcher(FetchRequest(settings, since, until, cache=ItemCache.from_connection()))
items = sum(1 for _ in fetched.posts)
print(json.dumps({"items": items, "seconds": time.perf_counter() - start}))
"""


@dataclass
class Measured:
    items: int
    seconds: float
    requests: int


@dataclass
class PercevalRow:
    backend: str
    ours: Measured | None
    theirs: Measured | None
    error: str = ""

    @property
    def request_ratio(self) -> float | None:
        if not self.ours or not self.theirs or not self.theirs.requests:
            return None
        return self.ours.requests / self.theirs.requests

    @property
    def time_ratio(self) -> float | None:
        if not self.ours or not self.theirs or not self.theirs.seconds:
            return None
        return self.ours.seconds / self.theirs.seconds


_perceval_ready: tuple[bool, str] | None = None


def ensure_perceval() -> tuple[bool, str]:
    """Create ``.bench-perceval`` with Perceval from PyPI once; (ready, why not)."""
    global _perceval_ready
    if _perceval_ready is not None:
        return _perceval_ready
    python = PERCEVAL_VENV / "bin" / "python"
    probe = [str(python), "-c", "import perceval.backends.core.github, perceval.backends.core.discourse"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        _perceval_ready = (True, "")
        return _perceval_ready
    print(f"  Installing Perceval into {PERCEVAL_VENV} (dev-only venv; GPL, never shipped) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(PERCEVAL_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--retries", "1", "--timeout", "20", "perceval"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False, timeout=900)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            _perceval_ready = (False, f"`{' '.join(step[-2:])}` failed: {tail[0]}")
            return _perceval_ready
    ok = subprocess.run(probe, capture_output=True, check=False).returncode == 0
    _perceval_ready = (ok, "" if ok else "perceval installed but does not import")
    return _perceval_ready


def _measure(cmd: list[str], env: dict[str, str], sandbox: Any, service: str) -> Measured:
    new_rate_window(sandbox)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=3600)
    requests = sum(1 for e in sandbox.requests_log if e["service"] == service)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"exit {done.returncode}: {' | '.join(tail)}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(int(figures["items"]), float(figures["seconds"]), requests)


def bench_perceval(sandbox: Any, env: dict[str, str], tmp: Path) -> tuple[list[PercevalRow], str]:
    import community_sandbox.github as sandbox_github
    from community_sandbox.synth import NOW, REPOS

    ready, why = ensure_perceval()
    if not ready:
        return [], f"Perceval unavailable ({why}); no side-by-side figures"
    since = NOW - timedelta(days=Windows.of_product().daily)
    base = sandbox.base_url
    python = str(PERCEVAL_VENV / "bin" / "python")
    runner = tmp / "perceval_runner.py"
    runner.write_text(PERCEVAL_RUNNER, encoding="utf-8")
    ours_env = dict(env)
    ours_env.update(
        AIRFLOW_CONN_GITHUB_DEFAULT=json.dumps(
            {"conn_type": "github", "host": f"{base}/api/v3", "password": "sandbox-github-token"}
        ),
        AIRFLOW_CONN_DISCOURSE_DEFAULT=json.dumps(
            {
                "conn_type": "http",
                "host": f"{base}/discourse",
                "extra": {"Api-Key": "k", "Api-Username": "system"},
            }
        ),
        AIRFLOW_CONN_STACKEXCHANGE_DEFAULT=json.dumps(
            {"conn_type": "http", "host": f"{base}/stackexchange", "extra": {"site": "stackoverflow"}}
        ),
        # The ledger's database of the runs above (airflow_settings.yaml's community_monitoring_db),
        # for its item cache.
        AIRFLOW_CONN_COMMUNITY_MONITORING_DB=json.dumps(
            {"conn_type": "sqlite", "host": f"{env['AIRFLOW_HOME']}/community_monitoring/ledger.db"}
        ),
    )
    theirs_env = {k: v for k, v in env.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
    cases = (
        ("GitHub", "github", "github", f"{base}", list(REPOS)),
        ("Discourse", "forum", "discourse", f"{base}/discourse", []),
        ("Stack Exchange", "stackoverflow", "stackexchange", f"{base}/stackexchange", [SO_TAG]),
    )
    rows = []
    # Perceval reads each issue's comments and each author with calls of their own: past the
    # emulated 5,000-an-hour GitHub limit it would stop early, so the limit is lifted for both sides.
    limit = sandbox_github.RATE_LIMIT
    sandbox_github.RATE_LIMIT = 10**9
    try:
        for label, key, service, their_base, extra in cases:
            row = PercevalRow(label, None, None)
            try:
                ours_cmd = [sys.executable, "-c", OURS_RUNNER, key, since.isoformat(), NOW.isoformat()]
                row.ours = _measure(ours_cmd, ours_env, sandbox, service)
                perceval_backend = {"forum": "discourse"}.get(key, key)
                theirs_cmd = [python, str(runner), perceval_backend, their_base, since.isoformat(), *extra]
                row.theirs = _measure(theirs_cmd, theirs_env, sandbox, service)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                row.error = str(exc)[:300]
            rows.append(row)
    finally:
        sandbox_github.RATE_LIMIT = limit
    return rows, ""


def print_perceval(result: SizeResult) -> None:
    if result.perceval_note:
        print(f"  Perceval: {result.perceval_note}")
        return
    print(
        f"  Side by side with Perceval (window: {Windows.of_product().daily} days to T; fetch time inside each process):"
    )
    for row in result.perceval:
        if row.error or not row.ours or not row.theirs:
            print(f"      {row.backend:<15} not measured: {row.error}")
            continue
        print(
            f"      {row.backend:<15} ours {row.ours.requests:6d} requests {row.ours.seconds:7.2f}s "
            f"({row.ours.items} posts); Perceval {row.theirs.requests:6d} requests {row.theirs.seconds:7.2f}s "
            f"({row.theirs.items} items); ratio requests {_fmt(row.request_ratio, 3)}, time {_fmt(row.time_ratio, 2)}"
        )


# ----- DAG parse time and the rules ---------------------------------------------------------------

PARSE_PROBE = r"""
import gc, json, sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
# Airflow's lazily imported parts any DAG of this shape uses (the task and group decorators, Assets,
# Params): importing Airflow, not our work.
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, TaskGroup, dag, task, task_group
t1 = time.perf_counter()
# As Airflow's DAG processor does before it forks a parser (dag_processing/manager.py): what is
# loaded is frozen out of the cycle collector, whose full passes over Airflow's own objects would
# otherwise land on whichever file is being parsed.
gc.collect()
gc.freeze()
results = {"import_airflow_s": t1 - t0, "files": {}}
for path in sys.argv[1:]:
    start = time.perf_counter()
    bag = DagBag(dag_folder=path)
    results["files"][path] = {"seconds": time.perf_counter() - start, "dags": len(bag.dags),
                              "errors": len(bag.import_errors)}
# Parsing again shows the cost of the file alone, once our package is imported.
for path in sys.argv[1:]:
    start = time.perf_counter()
    DagBag(dag_folder=path)
    results["files"][path]["reparse_seconds"] = time.perf_counter() - start
print(json.dumps(results))
"""
PARSE_TARGET_MS = 50  # SPEC §9: each DAG file's own work beyond importing Airflow


def bench_parse() -> None:
    files = sorted(str(p) for p in (PROJECT_ROOT / "dags").glob("*.py"))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    # A deployment imports compiled modules (pip writes them; so does the first parse): a first
    # probe writes the bytecode, the second one is measured.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", PARSE_PROBE, *files], capture_output=True, env=env, check=True)
    # Each file in a process of its own, as the DAG processor parses it: none inherits the modules
    # another one imported.
    measured = {}
    for path in files:
        result = subprocess.run(
            [sys.executable, "-c", PARSE_PROBE, path], capture_output=True, text=True, env=env, check=True
        )
        data = json.loads(result.stdout.strip().splitlines()[-1])
        measured.update(data["files"])
    print(
        f"DAG parse, each file in its own process (Airflow import itself: {data['import_airflow_s'] * 1000:.0f} "
        f"ms; then, as the DAG processor does, bytecode cached and Airflow's objects frozen out of the "
        f"collector; target < {PARSE_TARGET_MS} ms a file)"
    )
    for path, figures in measured.items():
        print(
            f"  {Path(path).name:45s} first parse {figures['seconds'] * 1000:7.1f} ms (our package "
            f"imported), re-parse {figures['reparse_seconds'] * 1000:6.1f} ms, dags={figures['dags']} "
            f"errors={figures['errors']}"
        )


def synthetic_posts(count: int) -> list[Any]:
    """``count`` posts of the scale scenario's material (the day's first), as typed records."""
    from community_monitoring.records import Post, Reply
    from community_sandbox.synth import NOW, STAFF, _text, _universe

    channels = {"github": "github", "forum": "forum", "stackoverflow": "stackoverflow", "gitlab": "gitlab"}
    universe = _universe(count, NOW, 7)
    items = [(key, item) for key, items in universe.items() if key in channels for item in items]
    items.sort(key=lambda pair: -pair[1].created)
    posts = []
    for key, item in items[:count]:
        title, body = _text(item, item.flags)
        # Real posts never repeat: a unique title and body keep any cache from flattering the figure.
        title, body = f"{title} {item.key}", f"{body}\n\nSeen on host-{item.key}."
        created = datetime.fromtimestamp(item.created, UTC)
        staff = STAFF[key]
        replies = tuple(
            Reply(
                reply_id=f"{item.key}-{n}",
                author=staff[who % len(staff)] if is_staff else f"user{who}",
                created_at=datetime.fromtimestamp(at, UTC),
                body="Which version are you on?" if is_staff else "Same here.",
            )
            for n, (at, who, is_staff) in enumerate(item.replies)
        )
        posts.append(
            Post(
                channel=channels[key],
                source_id=f"{key}-{item.key}",
                url=f"https://example.test/{key}/{item.key}",
                title=title,
                body=body,
                author=f"user{item.author}",
                created_at=created,
                labels=("Bug",) if item.post_type == "bug" and item.flags % 4 == 0 else (),
                category="Troubleshooting" if key == "forum" and item.flags % 3 == 0 else "",
                replies=replies,
            )
        )
    return posts


def bench_rules(count: int) -> float:
    """Classify and filter ``count`` posts already in memory; returns the seconds of both."""
    from community_monitoring.classify import PostClassifier
    from community_monitoring.roster import StaffRoster
    from community_monitoring.rules import find_help_wanted_sections, find_new_posts
    from community_monitoring.settings import load_settings
    from community_sandbox.synth import NOW, STAFF

    config = load_settings()
    roster = StaffRoster.parse(STAFF)
    classifier = PostClassifier.from_settings(config)
    start = time.perf_counter()
    posts = synthetic_posts(count)
    built = time.perf_counter() - start
    start = time.perf_counter()
    types = Counter(classifier.classify(post).post_type for post in posts)
    classify_seconds = time.perf_counter() - start
    start = time.perf_counter()
    sections = find_help_wanted_sections(posts, roster, config, NOW)
    new_posts = find_new_posts(posts, roster, config, NOW)
    filter_seconds = time.perf_counter() - start
    # Memory in a pass of its own: tracing allocations slows everything down many times over.
    tracemalloc.start()
    find_help_wanted_sections(posts, roster, config, NOW)
    find_new_posts(posts, roster, config, NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = classify_seconds + filter_seconds
    print(f"\nRules over {len(posts):,} posts held in memory (built in {built:.2f}s, outside the timings)")
    print(
        f"  classify: {classify_seconds:6.2f}s  ({len(posts) / classify_seconds:,.0f} posts/s) {dict(types)}"
    )
    print(
        f"  filter:   {filter_seconds:6.2f}s  for the digest sections and the triage list "
        f"({sections.total} listed, {len(new_posts)} new); peak traced memory {peak / 1e6:.1f} MB"
    )
    print(f"  classify + filter: {total:.2f}s")
    return total


# ----- main ---------------------------------------------------------------------------------------


def summary_line(results: list[SizeResult]) -> str:
    by_size = {r.size: r for r in results}
    big = by_size.get(100_000)
    daily = big.run("daily T") if big else None
    weekly = big.run("weekly T") if big else None
    runs = [run for r in results for run in r.runs]
    peak = max((run.figures.peak_rss_mb for run in runs), default=None)
    over = sum(run.over for run in runs) if runs else None
    # How many times fewer requests than Perceval, on the backend where we gain least (the target
    # is >= 10 on every one), at the largest size it ran.
    ratios = None
    for r in sorted(results, key=lambda r: r.size, reverse=True):
        measured = [1 / row.request_ratio for row in r.perceval if row.request_ratio]
        if measured:
            ratios = min(measured)
            break
    return (
        f"bench: daily_100k_s={_fmt(daily.figures.seconds if daily else None)} "
        f"weekly_100k_s={_fmt(weekly.figures.seconds if weekly else None)} "
        f"peak_rss_mb={_fmt(peak, 0)} requests_over_min={over if over is not None else 'n/a'} "
        f"perceval_request_ratio={_fmt(ratios, 3)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="posts a day, comma-separated")
    parser.add_argument("--quick", action="store_true", help="1,000 posts a day only, without Perceval")
    parser.add_argument("--no-perceval", action="store_true", help="skip the side-by-side with Perceval")
    # At 100,000 posts a day Perceval's GitHub backend makes some 60,000 calls, each on a connection
    # of its own, and runs out of local ports before it ends (ConnectionError): 10,000 is its size.
    parser.add_argument(
        "--perceval-max-size",
        type=int,
        default=10_000,
        help="run Perceval only at sizes up to this one (0: every size)",
    )
    parser.add_argument("--rules-posts", type=int, default=100_000, help="posts for classify + filter")
    parser.add_argument("--keep", type=Path, default=None, help="keep scenarios, Airflow homes and logs here")
    args = parser.parse_args(argv)
    plugins = str(PROJECT_ROOT / "plugins")
    if plugins not in sys.path:
        sys.path.insert(0, plugins)  # the product package, as the Makefile's PYTHONPATH has it
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    with_perceval = not (args.quick or args.no_perceval)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    bench_parse()
    results = []
    for size in sizes:
        perceval = with_perceval and (not args.perceval_max_size or size <= args.perceval_max_size)
        results.append(bench_size(size, perceval=perceval, keep=args.keep))
    if not with_perceval:
        print("\nPerceval: not run (--quick or --no-perceval)")
    bench_rules(args.rules_posts)
    failed = [f"{r.size:,} {run.label}" for r in results for run in r.runs if run.figures.state != "success"]
    if failed:
        print(
            f"\nwarning: runs that did not succeed (their figures are not a product run's): {', '.join(failed)}"
        )
    print(summary_line(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
