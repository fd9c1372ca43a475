"""Each run removes the intermediates of the same DAG's earlier runs once they sat idle for
``paths.intermediate_retention_days``; nothing else (SPEC §9: at 100,000 posts a day a daily run
leaves about 120 MB)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fsspec
import pytest
from airflow.sdk import ObjectStoragePath

from community_monitoring.pipeline.common import remove_idle_intermediates
from community_monitoring.pipeline.store import RunStore, _modified_at

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=14)


def make_run(
    root: Path,
    dag: str,
    run: str,
    age: timedelta | None,
    files: tuple[str, ...] = ("channels/github.posts.jsonl",),
) -> Path:
    """A run's folder with ``files`` last written ``age`` before NOW (None: written now)."""
    store = RunStore(root / dag / run)
    for name in files:
        store.write_json(name, {"run": run})
    folder = root / dag / run
    if age is not None:
        stamp = (NOW - age).timestamp()
        for parent, _, names in os.walk(folder):
            for name in names:
                os.utime(os.path.join(parent, name), (stamp, stamp))
    return folder


def runs_left(root: Path, dag: str) -> list[str]:
    return sorted(os.listdir(root / dag))


@pytest.fixture(params=["pathlib", "object storage"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The same folder as a plain path and as an Airflow ObjectStoragePath (file://)."""
    return tmp_path if request.param == "pathlib" else ObjectStoragePath(f"file://{tmp_path}")


def test_only_the_same_dags_runs_idle_longer_than_the_retention_are_removed(
    root: Any, tmp_path: Path
) -> None:
    make_run(
        tmp_path,
        "daily",
        "scheduled__old",
        timedelta(days=20),
        ("channels.json", "channels/github.posts.jsonl"),
    )
    make_run(tmp_path, "daily", "scheduled__recent", timedelta(days=3))
    make_run(tmp_path, "daily", "scheduled__just_over", RETENTION + timedelta(minutes=1))
    make_run(tmp_path, "daily", "scheduled__just_under", RETENTION - timedelta(minutes=1))
    # Cleared and re-run lately: one file new, the rest as old as the run.
    rerun = make_run(tmp_path, "daily", "scheduled__rerun", timedelta(days=30), ("channels/a.json", "b.json"))
    os.utime(rerun / "b.json", (NOW.timestamp(), NOW.timestamp()))
    # Not a run store's folder (no channels/): an archive pointed at the same place, say.
    make_run(tmp_path, "daily", "2026-10-01T090000Z", timedelta(days=60), ("help_wanted.md", "triage.md"))
    # The run that is removing, however old its own files, and another DAG's old run.
    make_run(tmp_path, "daily", "manual__current", timedelta(days=40))
    make_run(tmp_path, "weekly", "scheduled__old", timedelta(days=40))

    removed = RunStore(root / "daily" / "manual__current").remove_idle_runs(RETENTION, NOW)

    assert sorted(r.name for r in removed) == ["scheduled__just_over", "scheduled__old"]
    old = next(r for r in removed if r.name == "scheduled__old")
    assert old.files == 2
    assert old.size == 2 * len(json.dumps({"run": "scheduled__old"}, indent=1).encode())
    assert old.last_change == datetime.fromtimestamp((NOW - timedelta(days=20)).timestamp(), UTC)
    assert runs_left(tmp_path, "daily") == [
        "2026-10-01T090000Z",
        "manual__current",
        "scheduled__just_under",
        "scheduled__recent",
        "scheduled__rerun",
    ]
    assert runs_left(tmp_path, "weekly") == ["scheduled__old"]


def test_the_first_run_of_a_dag_finds_nothing_to_remove(root: Any) -> None:
    assert RunStore(root / "daily" / "manual__first").remove_idle_runs(RETENTION, NOW) == []


def test_an_empty_folder_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "daily" / "empty_old").mkdir(parents=True)
    stamp = (NOW - timedelta(days=30)).timestamp()
    os.utime(tmp_path / "daily" / "empty_old", (stamp, stamp))
    assert RunStore(tmp_path / "daily" / "current").remove_idle_runs(RETENTION, NOW) == []
    assert runs_left(tmp_path, "daily") == ["empty_old"]


def test_a_folder_that_cannot_be_listed_does_not_stop_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_run(tmp_path, "daily", "a_locked", timedelta(days=30))
    make_run(tmp_path, "daily", "b_old", timedelta(days=30))
    fs = fsspec.filesystem("file")

    class LockedFs:
        def __getattr__(self, name: str) -> Any:
            return getattr(fs, name)

        def find(self, path: str, detail: bool = True) -> Any:
            if path.endswith("a_locked"):
                raise PermissionError(f"{path}: access denied")
            return fs.find(path, detail=detail)

    store = RunStore(_MemoryRoot(LockedFs(), str(tmp_path / "daily" / "current")))
    with caplog.at_level(logging.WARNING):
        removed = store.remove_idle_runs(RETENTION, NOW)
    assert [r.name for r in removed] == ["b_old"]
    assert "a_locked (left for the next run): " in caplog.text
    assert runs_left(tmp_path, "daily") == ["a_locked"]


class _MemoryRoot:
    """A run folder on fsspec's in-memory filesystem, as an ObjectStoragePath exposes one (fs, path)."""

    def __init__(self, fs: Any, path: str) -> None:
        self.fs, self.path = fs, path


def test_an_object_store_without_local_times_is_read_through_its_own_listing() -> None:
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    for run in ("old", "current"):
        fs.pipe(f"/bucket/intermediate/daily/{run}/channels/forum.posts.jsonl", b"{}")
    removed = RunStore(_MemoryRoot(fs, "/bucket/intermediate/daily/current")).remove_idle_runs(
        timedelta(days=0), datetime.now(UTC) + timedelta(minutes=1)
    )
    assert [r.name for r in removed] == ["old"]
    assert fs.find("/bucket") == ["/bucket/intermediate/daily/current/channels/forum.posts.jsonl"]


class _UndatedFs:
    """A filesystem whose listing gives no time for a file: such a folder is never removed."""

    def exists(self, path: str) -> bool:
        return True

    def ls(self, path: str, detail: bool = True) -> list[dict[str, Any]]:
        return [{"name": f"{path}/old", "type": "directory"}]

    def find(self, path: str, detail: bool = True) -> dict[str, dict[str, Any]]:
        name = f"{path}/channels/a.jsonl"
        return {name: {"name": name, "size": 2, "type": "file"}}

    def rm(self, path: str, recursive: bool = False) -> None:
        raise AssertionError(f"{path} was removed although its age is unknown")


def test_a_folder_whose_file_times_cannot_be_read_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    store = RunStore(_MemoryRoot(_UndatedFs(), "bucket/intermediate/daily/current"))
    with caplog.at_level(logging.WARNING):
        assert store.remove_idle_runs(timedelta(days=0), NOW) == []
    assert "Kept bucket/intermediate/daily/old" in caplog.text


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"mtime": 1_700_000_000.5}, datetime.fromtimestamp(1_700_000_000.5, UTC)),  # local, GCS
        (
            {"LastModified": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)},
            datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        ),  # S3
        (
            {"last_modified": datetime(2026, 1, 2, 3, 4)},
            datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        ),  # Azure, naive
        ({"updated": "2026-01-02T03:04:05.000Z"}, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ({"created": 1_700_000_000}, datetime.fromtimestamp(1_700_000_000, UTC)),  # memory
        ({"updated": "not a time"}, None),
        ({"mtime": True}, None),
        ({"size": 3}, None),
    ],
)
def test_the_time_a_file_was_written_is_read_from_each_stores_listing(
    info: dict[str, Any], expected: datetime | None
) -> None:
    assert _modified_at(info) == expected


def _run(root: Path, days: int, **paths: str) -> Any:
    folders = {key: str(root / key) for key in ("intermediate", "archive", "models")} | paths
    settings = SimpleNamespace(paths=SimpleNamespace(intermediate_retention_days=days, **folders))
    return SimpleNamespace(settings=settings, store=RunStore(root / "daily" / "current"))


def test_check_run_housekeeping_logs_what_it_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_run(tmp_path, "daily", "old", timedelta(days=20), ("channels/a.jsonl", "b.json"))
    with caplog.at_level(logging.INFO):
        removed = remove_idle_intermediates(_run(tmp_path, 14), NOW)
    assert [r.name for r in removed] == ["old"]
    assert "Removed the intermediates of 1 earlier run(s) idle for over 14 days (2 files" in caplog.text
    assert runs_left(tmp_path, "daily") == []


def test_a_retention_of_zero_keeps_every_run(tmp_path: Path) -> None:
    make_run(tmp_path, "daily", "old", timedelta(days=400))
    assert remove_idle_intermediates(_run(tmp_path, 0), NOW) == []
    assert runs_left(tmp_path, "daily") == ["old"]


def test_housekeeping_that_fails_never_fails_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenStore:
        def remove_idle_runs(self, idle_for: timedelta, now: datetime) -> list[Any]:
            raise PermissionError("AccessDenied: s3:ListBucket")

    run = SimpleNamespace(settings=_run(tmp_path, 14).settings, store=BrokenStore())
    with caplog.at_level(logging.WARNING):
        assert remove_idle_intermediates(run, NOW) == []
    assert "Could not look for earlier runs' intermediates to remove" in caplog.text
    assert "AccessDenied" in caplog.text


def test_a_task_of_a_removed_run_says_what_happened(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="intermediate_retention_days: clear the whole run"):
        RunStore(tmp_path / "daily" / "gone").read_json("channels.json")


@pytest.mark.parametrize(
    ("paths", "key"),
    [
        ({"archive": "{root}/shared"}, "archive"),  # the same folder
        ({"intermediate": "{root}/shared/intermediate", "archive": "{root}/shared"}, "archive"),  # inside it
        ({"models": "{root}/shared/models"}, "models"),  # holding it
    ],
)
def test_intermediates_sharing_a_folder_with_what_is_kept_fail_the_run_at_once(
    tmp_path: Path, paths: dict[str, str], key: str
) -> None:
    from community_monitoring.errors import SettingsError

    folders = {"intermediate": f"{tmp_path}/shared", **{k: v.format(root=tmp_path) for k, v in paths.items()}}
    old = make_run(tmp_path, "daily", "old", timedelta(days=20))
    with pytest.raises(SettingsError, match=rf"paths.intermediate .* and paths.{key} .* overlap"):
        remove_idle_intermediates(_run(tmp_path, 14, **folders), NOW)
    assert old.exists()
    # With retention off nothing is refused (and nothing removed).
    assert remove_idle_intermediates(_run(tmp_path, 0, **folders), NOW) == []
