"""Released fix versions and slipped tracking-sheet rows (SPEC §5), as tables, then on a real sheet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from builders import SETTINGS, T
from community_monitoring.outbox import Outbox
from community_monitoring.policy import decide_write_policy
from community_monitoring.records import JiraVersion, Release, SheetRow
from community_monitoring.sheet_plan import (
    ReleasesAt,
    daily_sheet_rows,
    dated_rows,
    is_released,
    released_versions,
    slipped_rows,
)
from community_monitoring.tracking_sheet import read_sheet, update_rows, upsert_rows
from community_monitoring.versions import version_numbers

RELEASED = ("11.0.0", "11.1.0")


@pytest.mark.parametrize(
    ("version", "numbers"),
    [
        ("11.2", (11, 2)),
        ("v11.2.0", (11, 2)),
        ("11.2.1", (11, 2, 1)),
        ("11.10", (11, 10)),
        (" V11.0 ", (11,)),
        ("11.2.0-rc1", None),
        ("Backlog", None),
        ("", None),
    ],
)
def test_version_numbers(version: str, numbers: tuple[int, ...] | None) -> None:
    assert version_numbers(version) == numbers


def test_released_versions_are_the_published_tags_at_t() -> None:
    releases = [
        Release(tag="v11.1.0", name="", published_at=T - timedelta(days=8)),
        Release(tag="v11.2.0", name="", published_at=T),
        Release(tag="v11.3.0", name="", published_at=T + timedelta(seconds=1)),
        Release(tag="v11.4.0", name="", published_at=T - timedelta(days=1), draft=True),
        Release(tag="v11.5.0", name="", published_at=T - timedelta(days=1), prerelease=True),
        Release(tag="v11.6.0", name="", published_at=None),
    ]
    assert released_versions(releases, T) == ("11.1.0", "11.2.0")


@pytest.mark.parametrize(
    ("case", "version", "released"),
    [
        ("X.Y is its X.Y.0 tag", "11.1", True),
        ("leading v ignored", "v11.1", True),
        ("X.Y.0 spelled out", "11.1.0", True),
        ("a later patch is another release", "11.1.1", False),
        ("a later minor", "11.2", False),
        ("between two releases", "11.0.5", False),
        ("older than every release known", "10.5", True),
        ("not a dotted number", "Backlog", False),
    ],
)
def test_is_released(case: str, version: str, released: bool) -> None:
    assert is_released(version, RELEASED) is released, case


def test_nothing_is_released_before_the_first_release() -> None:
    assert not is_released("1.0", ())


NO_OBJECT = None  # the source read no version object for it
OUT = {"released": True}  # released, no date
PLANNED: dict[str, object] = {}


def out_on(day: str, **fields: object) -> dict[str, object]:
    return {"released": True, "release_date": day, **fields}


# T is 2026-11-18 09:00 UTC; GitHub has released 11.0.0 and 11.1.0 by then.
@pytest.mark.parametrize(
    ("case", "version", "jira", "tags", "state"),
    [
        # The product's own server versions: its GitHub releases decide, whatever Jira's flag says.
        ("server: GitHub released it", "v11.1", PLANNED, RELEASED, "released"),
        ("server: Jira ahead of GitHub", "v11.2", out_on("2026-11-17"), RELEASED, "waiting"),
        ("server: planned", "v11.2", PLANNED, RELEASED, "waiting"),
        ("server: no version object read", "11.2", NO_OBJECT, RELEASED, "waiting"),
        ("server: archived unreleased", "v11.2", {"archived": True}, RELEASED, "abandoned"),
        ("server: no release read, Jira's", "v11.2", out_on("2026-11-17"), (), "released"),
        ("server: no release read, planned", "v11.2", PLANNED, (), "waiting"),
        # Other products' versions in the same project: Jira's released flag, dated by releaseDate.
        ("desktop: released before T", "Desktop v5.10", out_on("2026-11-02"), RELEASED, "released"),
        ("mobile: released before T", "Mobile v2.22.0", out_on("2026-10-01"), RELEASED, "released"),
        ("released on T's day", "Desktop v5.10", out_on("2026-11-18"), RELEASED, "released"),
        ("released after T (a backfill)", "Desktop v5.10", out_on("2026-11-19"), RELEASED, "waiting"),
        ("released, no date", "Desktop v5.10", OUT, RELEASED, "released"),
        ("planned", "Desktop v5.11", PLANNED, RELEASED, "waiting"),
        ("planned, its date passed", "Desktop v5.11", {"release_date": "2026-11-01"}, RELEASED, "waiting"),
        ("archived, released", "Desktop v5.1", out_on("2024-01-10", archived=True), RELEASED, "released"),
        ("archived, released after T", "Desktop v5.12", out_on("2026-12-01", archived=True), (), "waiting"),
        ("archived unreleased", "Desktop v5.9", {"archived": True}, RELEASED, "abandoned"),
        ("no version object read", "Desktop v5.10", NO_OBJECT, RELEASED, "waiting"),
    ],
)
def test_what_counts_as_released_at_t(
    case: str, version: str, jira: dict[str, Any] | None, tags: tuple[str, ...], state: str
) -> None:
    version_object = None if jira is None else JiraVersion(name=version, **jira)
    releases = ReleasesAt(T, tags)
    assert releases.state(version, version_object) == state, case
    assert releases.released(version, version_object) is (state == "released"), case


def row(version: str, sid: str = "100", **fields: str) -> SheetRow:
    return SheetRow(suggestion_id=sid, fix_version=version, **fields)


@pytest.mark.parametrize(
    ("case", "existing", "planned", "flags"),
    [
        ("moved 11.2 → 11.3", [row("11.2")], [row("11.3")], [("11.2", "11.3")]),
        ("the sheet's spelling is kept", [row("v11.2")], [row("v11.3")], [("v11.2", "v11.3")]),
        ("moved past several: the next one", [row("11.2")], [row("11.5"), row("11.3")], [("11.2", "11.3")]),
        ("released version never flagged", [row("11.1")], [row("11.3")], []),
        ("thanked row never flagged", [row("11.2", thanked_at="2026-11-01")], [row("11.3")], []),
        ("still planned for it too", [row("11.2")], [row("11.2"), row("11.3")], []),
        ("same version spelled otherwise", [row("11.2")], [row("v11.2.0")], []),
        ("moved to an earlier release", [row("11.3")], [row("11.2")], []),
        ("no longer planned at all", [row("11.2")], [], []),
        ("another suggestion's plan", [row("11.2")], [row("11.3", sid="200")], []),
        ("already flagged for the same", [row("11.2", slipped_to="11.3")], [row("11.3")], []),
        ("slipped again", [row("11.2", slipped_to="11.3")], [row("11.4")], [("11.2", "11.4")]),
        ("not a version to compare", [row("Backlog")], [row("11.3")], []),
        ("a row of hand notes", [row("11.2", sid=" ")], [row("11.3", sid=" ")], []),
    ],
)
def test_slipped_rows(
    case: str, existing: list[SheetRow], planned: list[SheetRow], flags: list[tuple[str, str]]
) -> None:
    found = slipped_rows(existing, planned, RELEASED)
    assert [(f.fix_version, f.slipped_to) for f in found] == flags, case
    # A flag carries the key and the new version only, so upserting it changes nothing else.
    assert all(f == SheetRow(f.suggestion_id, f.fix_version, slipped_to=f.slipped_to) for f in found)


@pytest.mark.parametrize(
    ("case", "existing", "planned", "named", "flags"),
    [
        # 11.1 shipped the day its ticket moved to 11.3: the row slipped, it did not ship.
        ("released, no ticket names it any more", [row("11.1")], [row("11.3")], [], [("11.1", "11.3")]),
        ("released, a ticket still names it", [row("11.1")], [row("11.3")], [("100", "11.1")], []),
        ("named as spelled otherwise", [row("v11.1.0")], [row("11.3")], [("100", "11.1")], []),
        ("another suggestion names it", [row("11.1")], [row("11.3")], [("200", "11.1")], [("11.1", "11.3")]),
        ("unreleased and no longer named", [row("11.2")], [row("11.3")], [], [("11.2", "11.3")]),
        ("thanked, no longer named", [row("11.1", thanked_at="2026-11-01")], [row("11.3")], [], []),
        ("no later plan", [row("11.1")], [], [], []),
    ],
)
def test_slipped_rows_by_what_the_tickets_name(
    case: str,
    existing: list[SheetRow],
    planned: list[SheetRow],
    named: list[tuple[str, str]],
    flags: list[tuple[str, str]],
) -> None:
    found = slipped_rows(existing, planned, RELEASED, named)
    assert [(f.fix_version, f.slipped_to) for f in found] == flags, case


def test_daily_rows_are_the_planned_rows_then_the_flags() -> None:
    planned = [row("11.3", title="Dark mode")]
    assert daily_sheet_rows([row("11.2")], planned, RELEASED) == [*planned, row("11.2", slipped_to="11.3")]


# --- on a sheet: what the daily DAG writes, day after day ---------------------------------------

DAY1 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)


def daily(sheet: Path, planned: list[SheetRow], now: datetime) -> tuple[int, int, int]:
    plan = partial(daily_sheet_rows, planned_rows=planned, released=RELEASED)
    result = update_rows(sheet, plan, now=now)
    return (result.inserted, result.updated, result.unchanged)


def by_key(sheet: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["suggestion_id"], r["fix_version"]): r for r in read_sheet(sheet)}


def test_a_slipped_row_is_flagged_once_and_its_successor_added(tmp_path: Path) -> None:
    sheet = tmp_path / "tracking.xlsx"
    assert daily(sheet, [row("11.2", title="Dark mode", jira_key="MM-1")], DAY1) == (1, 0, 0)

    # The ticket's fixVersion moved to 11.3 while 11.2 is still to ship.
    moved = [row("11.3", title="Dark mode", jira_key="MM-1")]
    assert daily(sheet, moved, DAY2) == (1, 1, 0)
    rows = by_key(sheet)
    assert (rows["100", "11.2"]["slipped_to"], rows["100", "11.2"]["updated_at"]) == (
        "11.3",
        "2026-11-17T09:00:00+00:00",
    )
    assert rows["100", "11.2"]["title"] == "Dark mode"  # the flag erased nothing
    assert (rows["100", "11.3"]["slipped_to"], rows["100", "11.3"]["jira_key"]) == ("", "MM-1")

    before = sheet.read_bytes()
    assert daily(sheet, moved, DAY3) == (0, 0, 1)  # the rerun: no second flag, no new stamp
    assert sheet.read_bytes() == before


def test_released_and_thanked_rows_are_never_flagged_on_the_sheet(tmp_path: Path) -> None:
    sheet = tmp_path / "tracking.xlsx"
    upsert_rows(sheet, [row("11.1", sid="100"), row("11.2", sid="200")], now=DAY1)
    # The closeout thanked 200's nominator for 11.2.
    upsert_rows(sheet, [row("11.2", sid="200", thanked_at="2026-11-16T12:00:00Z")], now=DAY1)

    assert daily(sheet, [row("11.3", sid="100"), row("11.3", sid="200")], DAY2) == (2, 0, 0)
    assert {key: r["slipped_to"] for key, r in by_key(sheet).items()} == {
        ("100", "11.1"): "",
        ("200", "11.2"): "",
        ("100", "11.3"): "",
        ("200", "11.3"): "",
    }


def sheet_outbox(tmp_path: Path) -> Outbox:
    """A scheduled daily run's outbox: it may update the sheet."""
    return Outbox(
        "community_daily_monitoring",
        T,
        SETTINGS,
        decide_write_policy("scheduled"),
        open_ledger=lambda: None,
        webhook=lambda conn_id, username: print,
        archive_root=lambda: tmp_path,
    )


def test_the_outbox_flags_slipped_rows_only_when_given_the_released_versions(tmp_path: Path) -> None:
    sheet = tmp_path / "tracking.xlsx"
    outbox = sheet_outbox(tmp_path)
    outbox.update_sheet(str(sheet), [row("11.2")])
    outbox.update_sheet(str(sheet), [row("11.3")])  # a caller that knows no releases: no flag
    assert by_key(sheet)["100", "11.2"]["slipped_to"] == ""

    result = outbox.update_sheet(str(sheet), [row("11.3")], released_versions=list(RELEASED))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    assert by_key(sheet)["100", "11.2"]["slipped_to"] == "11.3"


def test_the_outbox_flags_a_row_whose_version_shipped_without_it(tmp_path: Path) -> None:
    """Day 1: planned for 11.1. Day 2: 11.1 is out, and the ticket moved to 11.3 that day."""
    sheet = tmp_path / "tracking.xlsx"
    outbox = sheet_outbox(tmp_path)
    outbox.update_sheet(str(sheet), [row("11.1"), row("11.1", sid="200")])
    outbox.update_sheet(
        str(sheet),
        [row("11.3")],
        released_versions=list(RELEASED),
        named_versions=[["200", "11.1"], ["100", "11.3"]],  # as the daily's JSON plan carries them
    )
    rows = by_key(sheet)
    assert (rows["100", "11.1"]["slipped_to"], rows["200", "11.1"]["slipped_to"]) == ("11.3", "")


DESKTOP_OUT = ("100", "Desktop v5.10", "2026-11-02")  # (suggestion id, release_key, day Jira released it)


@pytest.mark.parametrize(
    ("case", "existing", "days", "dated"),
    [
        (
            "Jira released its version",
            [row("Desktop v5.10")],
            [DESKTOP_OUT],
            [("Desktop v5.10", "2026-11-02")],
        ),
        ("already dated", [row("Desktop v5.10", release_date="2026-11-03")], [DESKTOP_OUT], []),
        ("thanked by hand", [row("Desktop v5.10", thanked_at="2026-11-04")], [DESKTOP_OUT], []),
        ("not released at T", [row("Desktop v5.10")], [], []),
        ("another suggestion's version", [row("Desktop v5.10", sid="200")], [DESKTOP_OUT], []),
        ("another version", [row("Desktop v5.11")], [DESKTOP_OUT], []),
        ("a row of hand notes", [row("Desktop v5.10", sid=" ")], [(" ", "Desktop v5.10", "2026-11-02")], []),
    ],
)
def test_dated_rows(
    case: str, existing: list[SheetRow], days: list[tuple[str, str, str]], dated: list[tuple[str, str]]
) -> None:
    found = dated_rows(existing, days)
    assert [(r.fix_version, r.release_date) for r in found] == dated, case
    # A date carries the key and the day only, so upserting it changes nothing else.
    assert all(r == SheetRow(r.suggestion_id, r.fix_version, release_date=r.release_date) for r in found)


def test_the_outbox_dates_a_row_once_jira_released_its_version(tmp_path: Path) -> None:
    """Day 1: the suggestion waits for Desktop v5.10. Day 2: Jira released it on 11-02, so the daily
    run no longer plans the row, and dates it; no closeout comes for another product's version."""
    sheet = tmp_path / "tracking.xlsx"
    outbox = sheet_outbox(tmp_path)
    outbox.update_sheet(
        str(sheet), [row("Desktop v5.10", title="Tray icon")], released_versions=list(RELEASED)
    )
    days = [list(DESKTOP_OUT)]  # as the daily's JSON plan carries them
    result = outbox.update_sheet(str(sheet), [], released_versions=list(RELEASED), release_days=days)
    assert (result.inserted, result.updated) == (0, 1)
    dated = by_key(sheet)["100", "Desktop v5.10"]
    assert (dated["release_date"], dated["title"], dated["thanked_at"]) == ("2026-11-02", "Tray icon", "")
    again = outbox.update_sheet(str(sheet), [], released_versions=list(RELEASED), release_days=days)
    assert (again.inserted, again.updated) == (0, 0)
