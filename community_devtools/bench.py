"""``make bench``: the speed and scale figures of SPEC §9, printed (never asserted in tests).

1. DAG parse time per file, beyond importing Airflow.
2. API requests per extract against the minimum number of pages, on synthetic scenarios.
3. Classifying and filtering 100,000 posts: time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from community_devtools import PROJECT_ROOT

PARSE_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
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


def bench_parse() -> None:
    files = sorted(str(p) for p in (PROJECT_ROOT / "dags").glob("*.py"))
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, *files],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "plugins")},
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"DAG parse (Airflow import itself: {data['import_airflow_s'] * 1000:.0f} ms)")
    for path, figures in data["files"].items():
        print(
            f"  {Path(path).name:45s} first parse {figures['seconds'] * 1000:7.1f} ms, "
            f"re-parse {figures['reparse_seconds'] * 1000:6.1f} ms, dags={figures['dags']} errors={figures['errors']}"
        )


def bench_requests(sizes: list[int]) -> None:
    from github import Auth, Github

    from community_monitoring.sources.discourse import DiscourseClient, fetch_forum_topics
    from community_monitoring.sources.github import GithubIssuesClient, fetch_github_issues
    from community_monitoring.sources.http import ApiClient
    from community_sandbox import Sandbox
    from community_sandbox.synth import NOW, REPOS, write_synthetic_scenario

    print("API requests per extract (30-day window) vs the minimum pages needed")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            counts = write_synthetic_scenario(Path(tmp) / "s", issues=size, topics=size // 2)
            with Sandbox(Path(tmp) / "s") as sandbox:
                gh = Github(
                    base_url=f"{sandbox.base_url}/api/v3",
                    auth=Auth.Token("bench"),
                    per_page=100,
                    seconds_between_requests=None,
                    seconds_between_writes=None,
                    lazy=True,
                )
                since = NOW - timedelta(days=30)
                start = time.perf_counter()
                n_issues = sum(1 for _ in fetch_github_issues(GithubIssuesClient(gh), REPOS, since, NOW))
                gh_seconds = time.perf_counter() - start
                gh_requests = len(sandbox.requests_log)
                per_repo = [math.ceil(size / len(REPOS)), size // len(REPOS)]
                minimum = sum(max(math.ceil(n / 100), 1) + max(math.ceil(n * 2 / 100), 1) for n in per_repo)
                os.environ["AIRFLOW_CONN_BENCH_FORUM"] = json.dumps(
                    {
                        "conn_type": "http",
                        "host": f"{sandbox.base_url}/discourse",
                        "extra": {"Api-Key": "k", "Api-Username": "system"},
                    }
                )
                before = len(sandbox.requests_log)
                start = time.perf_counter()
                client = DiscourseClient(ApiClient("bench_forum", "forum"))
                n_topics = sum(1 for _ in fetch_forum_topics(client, since, NOW, "https://forum.example"))
                forum_seconds = time.perf_counter() - start
                forum_requests = len(sandbox.requests_log) - before
                forum_minimum = 1 + math.ceil(counts["topics"] / 30) + math.ceil(counts["posts"] / 50)
            print(
                f"  {size:6d} issues: GitHub {gh_requests:4d} requests (minimum {minimum:4d}) "
                f"for {n_issues} issues in {gh_seconds:5.2f}s; forum {forum_requests:4d} requests "
                f"(minimum {forum_minimum:4d}) for {n_topics} topics in {forum_seconds:5.2f}s"
            )


def _synthetic_posts(count: int) -> Iterator[object]:
    from community_monitoring.records import Post, Reply
    from community_sandbox.synth import NOW, TITLES

    for i in range(count):
        created = NOW - timedelta(minutes=(i * 37) % (40 * 24 * 60))
        replies = (
            (Reply(str(i), f"helper{i % 7}", created + timedelta(hours=1), body="Which version?"),)
            if i % 3
            else ()
        )
        yield Post(
            channel="forum" if i % 2 else "github",
            source_id=str(i),
            url=f"https://example.test/{i}",
            title=f"{TITLES[i % len(TITLES)]} {i}",
            body="Steps to reproduce\n1. open the app"
            if i % 4 == 0
            else "It crashes after upgrading to 11.1",
            author=f"user{i % 9000}",
            created_at=created,
            labels=("Bug",) if i % 10 == 0 else (),
            category="Troubleshooting" if i % 6 == 0 else "",
            replies=replies,
        )


def bench_rules(count: int) -> None:
    from community_monitoring.classify import PostClassifier
    from community_monitoring.roster import StaffRoster
    from community_monitoring.rules import find_help_wanted_sections, find_new_posts
    from community_monitoring.settings import load_settings
    from community_sandbox.synth import NOW

    config = load_settings()
    roster = StaffRoster.parse({"github": ["staff1"], "forum": ["helper1"], "bots": []})
    classifier = PostClassifier.from_settings(config)
    # Building the synthetic records costs time too; it is measured alone and left out of the figures.
    start = time.perf_counter()
    for _ in _synthetic_posts(count):
        pass
    build_seconds = time.perf_counter() - start
    start = time.perf_counter()
    types: dict[str, int] = {}
    for post in _synthetic_posts(count):
        decided = classifier.classify(post)  # type: ignore[arg-type]
        types[decided.post_type] = types.get(decided.post_type, 0) + 1
    classify_seconds = time.perf_counter() - start - build_seconds
    start = time.perf_counter()
    sections = find_help_wanted_sections(_synthetic_posts(count), roster, config, NOW)  # type: ignore[arg-type]
    new_posts = find_new_posts(_synthetic_posts(count), roster, config, NOW)  # type: ignore[arg-type]
    filter_seconds = time.perf_counter() - start - 2 * build_seconds
    # Memory in a pass of its own: tracing allocations slows everything down many times over.
    tracemalloc.start()
    find_help_wanted_sections(_synthetic_posts(count), roster, config, NOW)  # type: ignore[arg-type]
    find_new_posts(_synthetic_posts(count), roster, config, NOW)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"Rules over {count:,} posts (streamed; building the records took {build_seconds:.2f}s, not counted)"
    )
    print(f"  classify: {classify_seconds:6.2f}s  ({count / classify_seconds:,.0f} posts/s) {types}")
    print(
        f"  filter:   {filter_seconds:6.2f}s  for the three digest sections and the triage list "
        f"({sections.total} listed, {len(new_posts)} new)"
    )
    print(f"  peak traced memory: {peak / 1e6:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000,10000", help="synthetic scenario sizes (issues)")
    parser.add_argument("--posts", type=int, default=100_000, help="posts for the rules benchmark")
    args = parser.parse_args(argv)
    bench_parse()
    bench_requests([int(s) for s in args.sizes.split(",") if s])
    bench_rules(args.posts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
