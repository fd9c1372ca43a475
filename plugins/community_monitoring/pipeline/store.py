"""The run store: the files one run's tasks hand to each other, under one object-storage folder.

Like an IO manager, it owns the file names and formats; tasks ask for "the forum's posts" or "the
triage message", never for a path. Every file is written to a temporary name and renamed, so a
reader never sees half a file. XCom carries only counts.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from community_monitoring.records import (
    Decode,
    JiraTicket,
    Post,
    PostAuthorship,
    Release,
    read_records,
    record_to_dict,
    release_from_dict,
    write_record_lines,
)
from community_monitoring.sources import Fetched

log = logging.getLogger(__name__)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


@dataclass(frozen=True)
class RemovedRun:
    """An earlier run's folder of intermediates, removed: its name, what it held, its last change."""

    name: str
    files: int
    size: int
    last_change: datetime


def _filesystem(path: Any) -> tuple[Any, str]:
    """The fsspec filesystem and the path in it: an ObjectStoragePath's own, or the local one."""
    fs = getattr(path, "fs", None)
    if fs is not None:
        return fs, path.path
    import fsspec

    return fsspec.filesystem("file"), str(path)


# Where each filesystem's listing says when a file was last written: local and GCS ``mtime``,
# S3 ``LastModified``, Azure ``last_modified``, the memory filesystem ``created``.
_MODIFIED_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created")


def _idle_run(fs: Any, folder: str, cutoff: datetime) -> RemovedRun | None:
    """The run folder ``folder`` if it is one (it holds ``channels/``) and no file in it changed
    after ``cutoff``; else None."""
    files = fs.find(folder, detail=True)
    if not any(name.startswith(folder + "/channels/") for name in files):
        return None
    times = [_modified_at(info) for info in files.values()]
    known = [t for t in times if t is not None]
    if len(known) < len(times):
        log.warning("Kept %s: the time its files were written cannot be read", folder)
        return None
    last_change = max(known)
    if last_change > cutoff:
        return None
    size = sum(int(info.get("size") or 0) for info in files.values())
    return RemovedRun(folder.rsplit("/", 1)[-1], len(files), size, last_change)


def _modified_at(info: Mapping[str, Any]) -> datetime | None:
    for key in _MODIFIED_KEYS:
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class _LineCount:
    """Counts the records (non-blank lines) of a stream as they pass, skipped or not."""

    def __init__(self) -> None:
        self.count = 0

    def of(self, stream: Iterable[bytes]) -> Iterator[bytes]:
        for line in stream:
            if line.strip():
                self.count += 1
            yield line


class RunStore:
    def __init__(self, root: Any) -> None:
        # An ObjectStoragePath (file://, s3://, ...); anything with the pathlib-like API works.
        self.root = root

    def remove_idle_runs(self, idle_for: timedelta, now: datetime) -> list[RemovedRun]:
        """Delete the folders of the same DAG's other runs in which no task wrote for ``idle_for``.

        A run's intermediates matter only while its tasks may run again (a retry, a cleared task),
        and at 100,000 posts a day a daily run leaves about 120 MB. The age is the newest file's, so
        a run whose tasks wrote recently is kept whatever its T. Only what a run store writes is
        removed: a folder with no ``channels/`` (anything else kept there, an archive pointed at the
        same place) is left alone, as is one whose files' times cannot be read; a folder that cannot
        be listed or removed is logged and left for the next run.
        """
        fs, here = _filesystem(self.root)
        here = here.rstrip("/")
        dag_folder = posixpath.dirname(here)
        if not dag_folder or dag_folder == here or not fs.exists(dag_folder):
            return []
        removed = []
        for entry in fs.ls(dag_folder, detail=True):
            folder = entry["name"].rstrip("/")
            if entry.get("type") != "directory" or folder == here:
                continue
            try:
                idle = _idle_run(fs, folder, now - idle_for)
                if idle is not None:
                    fs.rm(folder, recursive=True)
                    removed.append(idle)
            except Exception as exc:  # any object store's error: left for the next run
                log.warning(
                    "Could not remove the intermediates of %s (left for the next run): %s", folder, exc
                )
        return removed

    def _path(self, name: str) -> Any:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _write_text(self, name: str, write: Any) -> Any:
        path = self._path(name)
        tmp = path.parent / (path.name + ".partial")
        with tmp.open("w", encoding="utf-8") as stream:
            result = write(stream)
        tmp.rename(path)
        return result

    def _write_bytes(self, name: str, write: Callable[[IO[bytes]], int]) -> int:
        path = self._path(name)
        tmp = path.parent / (path.name + ".partial")
        with tmp.open("wb") as stream:
            result = write(stream)
        tmp.rename(path)
        return result

    def write_json(self, name: str, value: Any) -> None:
        self._write_text(name, lambda s: json.dump(value, s, ensure_ascii=False, indent=1, default=str))

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.root / name
        if not path.exists():
            if default is not None:
                return default
            raise FileNotFoundError(
                f"{path} was not written by an earlier task of this run (or the run's intermediates were "
                "removed after paths.intermediate_retention_days: clear the whole run to read the channels again)"
            )
        try:
            with path.open("r", encoding="utf-8") as stream:
                return json.load(stream)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError: cut short or overwritten
            # json's own error names a line and column, not the file: the task failed naming nothing.
            raise ValueError(
                f"{path}: not whole JSON ({exc}): cut short or overwritten after an earlier task wrote it; "
                "clear the task that writes it"
            ) from None

    def _read_lines(
        self,
        channel: str,
        kind: str,
        decode: Decode,
        created_after: datetime | None = None,
        created_until: datetime | None = None,
    ) -> Iterator[Any]:
        """A channel's records of one kind (posts, tickets); none for a channel whose extract did not
        finish (the run names it missing). A file missing after its extract finished was lost
        (removed with idle runs, storage not shared): an error, never an empty channel."""
        path = self.root / f"channels/{channel}.{kind}.jsonl"
        if not path.exists():
            if self.channel_counts(channel) is not None:
                raise FileNotFoundError(
                    f"{path} is missing although the extract of {channel} finished in this run (its "
                    "intermediates were removed or are not on storage this worker reads): clear the whole run"
                )
            return
        written = self.channel_counts(channel)
        lines = _LineCount()
        # Bytes: msgspec decodes UTF-8 itself, so no text layer decodes every line first.
        with path.open("rb") as stream:
            try:
                yield from read_records(lines.of(stream), decode, created_after, created_until)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
        # A file cut at a line boundary has no bad line, only fewer: checked against what the
        # extract wrote (its done marker), or the posts past the cut were lost without a word.
        expected = written.get(kind) if written is not None else None
        if isinstance(expected, int) and lines.count != expected:
            raise ValueError(
                f"{path} holds {lines.count} records, but the extract of {channel} wrote {expected}: "
                "cut short or overwritten since; clear the whole run to read the channels again"
            )

    # -- what the extract tasks write --------------------------------------------------------

    def save_channel(self, channel: str, fetched: Fetched) -> dict[str, int]:
        """Stream one channel's records to the store; the ``done`` marker is written last."""
        counts = {
            "posts": self._write_bytes(
                f"channels/{channel}.posts.jsonl", lambda s: write_record_lines(fetched.posts, s)
            ),
            "tickets": self._write_bytes(
                f"channels/{channel}.tickets.jsonl", lambda s: write_record_lines(fetched.tickets, s)
            ),
        }
        if fetched.releases:
            self.write_json(
                f"channels/{channel}.releases.json", [record_to_dict(r) for r in fetched.releases]
            )
            counts["releases"] = len(fetched.releases)
        # Filled while the records above were read: only complete now.
        self.write_json(f"channels/{channel}.problems.json", [asdict(p) for p in fetched.problems])
        counts["problems"] = len(fetched.problems)
        if fetched.statuses:
            self.write_json(
                f"channels/{channel}.statuses.json", {str(k): v for k, v in fetched.statuses.items()}
            )
            counts["statuses"] = len(fetched.statuses)
        self.write_json(f"channels/{channel}.done.json", counts)
        return counts

    def problems(self, channel: str) -> list[dict[str, str]]:
        return list(self.read_json(f"channels/{channel}.problems.json", default=[]))

    def channel_counts(self, channel: str) -> Mapping[str, int] | None:
        """What an extract task wrote for ``channel``, or None when it never finished."""
        path = self.root / f"channels/{channel}.done.json"
        return self.read_json(f"channels/{channel}.done.json") if path.exists() else None

    # -- what the transform tasks read ---------------------------------------------------------

    def posts(
        self,
        channels: Iterable[str],
        created_after: datetime | None = None,
        created_until: datetime | None = None,
    ) -> Iterator[Post]:
        """Stream the posts of ``channels``: the rules keep only what they list, so memory stays bounded.

        ``created_after``: only posts created after it; the others are skipped unbuilt (the [Triage]
        list and the reply drafts need one day of posts out of the whole window); ``created_until``:
        and created at or before it (an earlier day's [Triage] needs none of the days after it).
        """
        for channel in channels:
            yield from self._read_lines(channel, "posts", Post, created_after, created_until)

    def post_authors(
        self,
        channels: Iterable[str],
        created_after: datetime | None = None,
        created_until: datetime | None = None,
    ) -> Iterator[PostAuthorship]:
        """Each post's channel and author alone (as ``posts``, without building the posts)."""
        for channel in channels:
            yield from self._read_lines(channel, "posts", PostAuthorship, created_after, created_until)

    def tickets(self, channel: str = "jira") -> list[JiraTicket]:
        return list(self._read_lines(channel, "tickets", JiraTicket))

    def releases(self, channel: str = "github") -> list[Release]:
        return [release_from_dict(r) for r in self.read_json(f"channels/{channel}.releases.json", default=[])]

    def statuses(self, channel: str = "uservoice") -> dict[int, str]:
        raw = self.read_json(f"channels/{channel}.statuses.json", default={})
        return {int(k): str(v) for k, v in raw.items()}

    # -- messages and plans --------------------------------------------------------------------

    def save_message(self, kind: str, parts: Iterable[str], items: int) -> None:
        self.write_json(f"messages/{kind}.json", {"kind": kind, "parts": list(parts), "items": items})

    def message(self, kind: str) -> dict[str, Any]:
        return self.read_json(f"messages/{kind}.json")

    def save_plan(self, name: str, value: Any) -> None:
        self.write_json(f"plans/{name}.json", value)

    def plan(self, name: str) -> Any:
        return self.read_json(f"plans/{name}.json")
