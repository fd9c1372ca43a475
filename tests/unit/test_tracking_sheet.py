"""The tracking sheet keeps one row per (suggestion, version), respects hand edits, never corrupts."""

from __future__ import annotations

import os
import threading
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from community_monitoring.tracking_sheet import (
    KEY_COLUMNS,
    OWNED_COLUMNS,
    SheetRow,
    TrackingSheetError,
    read_sheet,
    sheet_key,
    upsert_rows,
)

T1 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)
T3 = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return tmp_path / "tracking.xlsx"


def _header(path: Path) -> list[str | None]:
    workbook = openpyxl.load_workbook(path)
    return [cell.value for cell in workbook["Tracking"][1]]


def _keys(path: Path) -> list[tuple[str, str]]:
    return [(row["suggestion_id"], row["fix_version"]) for row in read_sheet(path)]


def test_missing_file_is_created_with_a_bold_frozen_header(tmp_path: Path) -> None:
    path = tmp_path / "new" / "tracking.xlsx"
    result = upsert_rows(path, [SheetRow("101", "11.1", title="Dark mode")], now=T1)
    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 0)
    assert result.path == str(path)
    worksheet = openpyxl.load_workbook(path)["Tracking"]
    assert [cell.value for cell in worksheet[1]] == list(OWNED_COLUMNS)
    assert all(cell.font.bold for cell in worksheet[1])
    assert worksheet.freeze_panes == "A2"
    # The id is stored as text, not as a number Excel would reformat.
    assert (worksheet["A2"].value, worksheet["A2"].data_type) == ("101", "s")
    assert read_sheet(path)[0]["updated_at"] == "2026-05-01T08:00:00+00:00"


def test_insert_then_update_keeps_one_row_per_suggestion_and_version(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", jira_status="Open"), SheetRow("101", "11.2")], now=T1)
    result = upsert_rows(
        sheet,
        [SheetRow("202", "11.1"), SheetRow("101", "11.1", jira_status="Done"), SheetRow("101", "11.2")],
        now=T2,
    )
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    assert _keys(sheet) == [("101", "11.1"), ("101", "11.2"), ("202", "11.1")]
    assert read_sheet(sheet)[0]["jira_status"] == "Done"


def test_repeated_and_reordered_batches_never_duplicate_a_key(sheet: Path) -> None:
    batch = [SheetRow("1", "11.1"), SheetRow("2", "11.1"), SheetRow("1", "11.1", title="later wins")]
    upsert_rows(sheet, batch, now=T1)
    upsert_rows(sheet, list(reversed(batch)), now=T2)
    upsert_rows(sheet, batch, now=T3)
    assert _keys(sheet) == [("1", "11.1"), ("2", "11.1")]
    assert read_sheet(sheet)[0]["title"] == "later wins"


def test_leading_v_names_the_same_version(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "v11.1", jira_status="Open")], now=T1)
    result = upsert_rows(sheet, [SheetRow("101", "11.1", jira_status="Done")], now=T2)
    assert (result.inserted, result.updated) == (0, 1)
    rows = read_sheet(sheet)
    assert len(rows) == 1
    # The sheet keeps its own spelling so the two sources do not flip it back and forth.
    assert (rows[0]["fix_version"], rows[0]["jira_status"]) == ("v11.1", "Done")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("11.1", "11.1"),
        ("v11.1", "11.1"),
        ("V11.1", "11.1"),
        ("  v11.1 ", "11.1"),
        ("v2026.05", "2026.5"),
        ("11.1.0", "11.1"),  # the release tagged v11.1.0 is the one the team calls 11.1
        ("11.1.2", "11.1.2"),
        ("11.0", "11.0"),
        ("vNext", "vNext"),  # "v" is a prefix only before a number
        ("", ""),
    ],
)
def test_sheet_key_names_a_release_however_written(version: str, expected: str) -> None:
    assert sheet_key(" 101 ", version) == ("101", expected)


def test_empty_incoming_value_never_clears_a_cell(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode", jira_status="Done")], now=T1)
    # The closeout DAG thanks the nominator...
    upsert_rows(sheet, [SheetRow("101", "11.1", thanked_at="2026-05-02T09:00:00Z")], now=T2)
    # ...and the next daily run, which knows nothing of thanks, must not erase it.
    result = upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode", jira_status="Done")], now=T3)
    assert (result.updated, result.unchanged) == (0, 1)
    row = read_sheet(sheet)[0]
    assert row["thanked_at"] == "2026-05-02T09:00:00Z"
    assert row["title"] == "Dark mode"
    assert row["jira_status"] == "Done"


def test_updated_at_moves_only_when_a_value_changes(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode")], now=T1)
    before = sheet.read_bytes()
    result = upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode")], now=T2)
    assert (result.updated, result.unchanged) == (0, 1)
    assert read_sheet(sheet)[0]["updated_at"] == "2026-05-01T08:00:00+00:00"
    assert sheet.read_bytes() == before  # nothing changed, nothing rewritten

    upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode for all")], now=T3)
    assert read_sheet(sheet)[0]["updated_at"] == "2026-05-03T08:00:00+00:00"


def test_hand_added_column_and_rows_survive_an_upsert(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode", url="https://uv/101")], now=T1)
    workbook = openpyxl.load_workbook(sheet)
    worksheet = workbook["Tracking"]
    worksheet.insert_cols(3)  # between title and url
    worksheet["C1"] = "Notes"
    worksheet["C2"] = "promised at the summit"
    worksheet.append(["999", "Hand row", "ask Anna", "https://uv/999", *[None] * 5, "12.0"])
    worksheet.append([None, "a remark on its own row", "keep me"])
    worksheet["P1"] = "Owner"  # after ours, with a gap
    worksheet["P2"] = "Kim"
    workbook.save(sheet)

    result = upsert_rows(
        sheet,
        [SheetRow("101", "11.1", title="Dark mode!", jira_key="MM-1"), SheetRow("303", "11.2")],
        now=T2,
    )
    assert (result.inserted, result.updated) == (1, 1)

    worksheet = openpyxl.load_workbook(sheet)["Tracking"]
    header = [cell.value for cell in worksheet[1]]
    assert header[:4] == ["suggestion_id", "title", "Notes", "url"]
    assert header[15] == "Owner"
    assert (worksheet["C2"].value, worksheet["P2"].value) == ("promised at the summit", "Kim")
    assert [worksheet.cell(row, 1).value for row in range(2, 6)] == ["101", "999", None, "303"]
    assert [worksheet.cell(4, column).value for column in (2, 3)] == ["a remark on its own row", "keep me"]
    assert worksheet["B3"].value == "Hand row"
    assert worksheet["D2"].value == "https://uv/101"

    rows = read_sheet(sheet)
    assert rows[0]["title"] == "Dark mode!"
    assert rows[0]["jira_key"] == "MM-1"
    assert rows[0]["Notes"] == "promised at the summit"
    assert rows[1]["fix_version"] == "12.0"


def test_missing_owned_columns_are_appended_at_the_end(sheet: Path) -> None:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = "Tracking"
    worksheet.append(["fix_version", "Notes", "suggestion_id", "title"])
    worksheet.append(["11.1", "keep", "101", "Dark mode"])
    workbook.save(sheet)

    upsert_rows(sheet, [SheetRow("101", "11.1", jira_key="MM-1")], now=T1)

    rest = [name for name in OWNED_COLUMNS if name not in {"fix_version", "suggestion_id", "title"}]
    assert _header(sheet) == ["fix_version", "Notes", "suggestion_id", "title", *rest]
    rows = read_sheet(sheet)
    assert len(rows) == 1
    assert (rows[0]["Notes"], rows[0]["title"], rows[0]["jira_key"]) == ("keep", "Dark mode", "MM-1")


def test_numeric_cells_read_back_as_their_text(sheet: Path) -> None:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.append(["suggestion_id", "fix_version", "release_date"])
    worksheet.append([43871022.0, 11.1, datetime(2026, 6, 1)])
    workbook.save(sheet)

    row = read_sheet(sheet)[0]
    assert (row["suggestion_id"], row["fix_version"], row["release_date"]) == (
        "43871022",
        "11.1",
        "2026-06-01",
    )
    # A number typed by hand still matches the same suggestion sent as text.
    result = upsert_rows(sheet, [SheetRow("43871022", "v11.1", jira_key="MM-7")], now=T1)
    assert (result.inserted, result.updated) == (0, 1)


def test_formula_like_text_is_stored_as_text(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", title='=HYPERLINK("http://evil")\x07')], now=T1)
    cell = openpyxl.load_workbook(sheet)["Tracking"]["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://evil")', "s")
    # The control character was dropped before comparing, so a rerun is not a change.
    result = upsert_rows(sheet, [SheetRow("101", "11.1", title='=HYPERLINK("http://evil")\x07')], now=T2)
    assert result.unchanged == 1


def test_excel_table_grows_to_cover_appended_rows(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1")], now=T1)
    workbook = openpyxl.load_workbook(sheet)
    worksheet = workbook["Tracking"]
    worksheet.add_table(Table(displayName="Tracking", ref="A1:N2"))  # our 14 columns
    workbook.save(sheet)

    upsert_rows(sheet, [SheetRow("202", "11.1"), SheetRow("303", "11.1")], now=T2)
    assert openpyxl.load_workbook(sheet)["Tracking"].tables["Tracking"].ref == "A1:N4"


def test_interrupted_write_leaves_the_previous_sheet_intact(
    sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1", title="Dark mode")], now=T1)
    before = sheet.read_bytes()

    def crash_midway(self: openpyxl.Workbook, filename: str) -> None:
        with open(filename, "wb") as partial:
            partial.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        upsert_rows(sheet, [SheetRow("202", "11.1")], now=T2)

    assert sheet.read_bytes() == before
    assert _keys(sheet) == [("101", "11.1")]
    assert sorted(os.listdir(sheet.parent)) == ["tracking.xlsx", "tracking.xlsx.lock"]


def test_stale_temp_file_from_a_killed_writer_is_removed(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1")], now=T1)
    stale = sheet.parent / ".tracking.xlsx.deadbeef.tmp"
    stale.write_bytes(b"garbage")
    upsert_rows(sheet, [SheetRow("202", "11.1")], now=T2)
    assert not stale.exists()


def test_concurrent_upserts_keep_every_row(sheet: Path) -> None:
    writers = 6
    rounds = 3
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for round_number in range(rounds):
                upsert_rows(sheet, [SheetRow(f"{number}-{round_number}", "11.1")], now=T1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = {
        (f"{number}-{round_number}", "11.1") for number in range(writers) for round_number in range(rounds)
    }
    keys = _keys(sheet)
    assert len(keys) == len(expected)
    assert set(keys) == expected


def test_a_file_that_is_not_a_spreadsheet_is_named_in_the_error(sheet: Path) -> None:
    sheet.write_text("suggestion_id,fix_version\n101,11.1\n")
    with pytest.raises(TrackingSheetError, match=r"not a readable \.xlsx") as read_error:
        read_sheet(sheet)
    assert str(sheet) in str(read_error.value)
    with pytest.raises(TrackingSheetError) as upsert_error:
        upsert_rows(sheet, [SheetRow("101", "11.1")])
    assert str(sheet) in str(upsert_error.value)
    assert sheet.read_text() == "suggestion_id,fix_version\n101,11.1\n"


@pytest.mark.parametrize(
    ("header", "data", "problem"),
    [
        (
            ["suggestion_id", "fix_version", "Notes", "notes"],
            ["1", "11.1", "a", "b"],
            "duplicate header 'notes'",
        ),
        (["title", "Notes"], ["Dark mode", "x"], "missing key columns suggestion_id, fix_version"),
        ([None, None], ["101", "11.1"], "row 1 has no headers"),
    ],
)
def test_sheets_that_cannot_be_matched_are_refused(
    sheet: Path, header: list[str | None], data: list[str], problem: str
) -> None:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.append(header)
    worksheet.append(data)
    workbook.save(sheet)
    before = sheet.read_bytes()
    with pytest.raises(TrackingSheetError, match=problem) as error:
        upsert_rows(sheet, [SheetRow("101", "11.1")])
    assert str(sheet) in str(error.value)
    assert sheet.read_bytes() == before


def test_a_key_held_by_two_hand_edited_rows_is_refused(sheet: Path) -> None:
    upsert_rows(sheet, [SheetRow("101", "11.1")], now=T1)
    workbook = openpyxl.load_workbook(sheet)
    workbook["Tracking"].append(["101", *[None] * 7, "v11.1"])
    workbook.save(sheet)
    with pytest.raises(TrackingSheetError, match="rows 2 and 3"):
        upsert_rows(sheet, [SheetRow("202", "11.1")], now=T2)


def test_unsupported_suffix_and_incomplete_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrackingSheetError, match=r"unsupported format \.csv"):
        upsert_rows(tmp_path / "tracking.csv", [SheetRow("101", "11.1")])
    with pytest.raises(ValueError, match="needs a suggestion_id and a fix_version"):
        upsert_rows(tmp_path / "tracking.xlsx", [SheetRow("101", " ")])
    assert not (tmp_path / "tracking.xlsx").exists()


def test_our_columns_are_the_fields_of_a_sheet_row() -> None:
    assert [f.name for f in fields(SheetRow)] == [
        *KEY_COLUMNS,
        *(name for name in OWNED_COLUMNS if name not in {*KEY_COLUMNS, "slipped_to"}),
        "slipped_to",
    ]
    assert OWNED_COLUMNS[-1] == "slipped_to"  # the newest column comes last


# The columns a sheet written before ``slipped_to`` existed has.
OLD_COLUMNS = [name for name in OWNED_COLUMNS if name != "slipped_to"]


def _old_sheet(path: Path) -> None:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = "Tracking"
    worksheet.append(OLD_COLUMNS)
    old = {"suggestion_id": "101", "fix_version": "11.2", "title": "Dark mode", "updated_at": "2026-04-01"}
    worksheet.append([old.get(name) for name in OLD_COLUMNS])
    table = Table(displayName="Tracking", ref="A1:M2")
    table._initialise_columns()
    worksheet.add_table(table)
    workbook.save(path)


def test_a_sheet_without_the_slipped_column_still_reads(sheet: Path) -> None:
    _old_sheet(sheet)
    [row] = read_sheet(sheet)
    assert (row["suggestion_id"], row["title"], row["slipped_to"]) == ("101", "Dark mode", "")


@pytest.mark.parametrize(
    ("case", "rows", "counts"),
    [
        ("nothing to write", [], (0, 0, 0)),
        ("the same row again", [SheetRow("101", "11.2", title="Dark mode")], (0, 0, 1)),
        ("a new row", [SheetRow("202", "11.3")], (1, 0, 0)),
        ("a slipped flag", [SheetRow("101", "11.2", slipped_to="11.3")], (0, 1, 0)),
    ],
)
def test_a_sheet_without_the_slipped_column_is_upgraded_in_place(
    sheet: Path, case: str, rows: list[SheetRow], counts: tuple[int, int, int]
) -> None:
    _old_sheet(sheet)
    result = upsert_rows(sheet, rows, now=T1)
    assert (result.inserted, result.updated, result.unchanged) == counts, case

    worksheet = openpyxl.load_workbook(sheet)["Tracking"]
    assert [cell.value for cell in worksheet[1]] == [*OLD_COLUMNS, "slipped_to"]
    # The hand user's table takes the new column in, down to the last row.
    assert worksheet.tables["Tracking"].ref == f"A1:N{1 + len(read_sheet(sheet))}"
    old = read_sheet(sheet)[0]
    assert (old["title"], old["fix_version"]) == ("Dark mode", "11.2")
    assert old["updated_at"] == ("2026-04-01" if counts[1] == 0 else "2026-05-01T08:00:00+00:00")
    # Written through a temporary file moved into place: nothing left beside the sheet.
    assert sorted(os.listdir(sheet.parent)) == ["tracking.xlsx", "tracking.xlsx.lock"]

    again = upsert_rows(sheet, rows, now=T2)
    assert (again.inserted, again.updated) == (0, 0)  # upgraded once; the rerun changes nothing


def test_a_crash_while_upgrading_leaves_the_old_sheet(sheet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _old_sheet(sheet)
    before = sheet.read_bytes()

    def crash(self: openpyxl.Workbook, filename: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        upsert_rows(sheet, [], now=T1)
    assert sheet.read_bytes() == before
    assert sorted(os.listdir(sheet.parent)) == ["tracking.xlsx", "tracking.xlsx.lock"]


def test_a_lock_held_too_long_is_named_not_waited_on_for_ever(
    sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sheet's lock was taken with a blocking flock: a writer that hung holding it (a stuck
    process, a lock on a network share that is never released) kept every later update waiting
    until Airflow's execution timeout killed the task, with an error that said nothing of the lock."""
    import fcntl

    from community_monitoring import tracking_sheet

    monkeypatch.setattr(tracking_sheet, "LOCK_WAIT_SECONDS", 0.3)
    upsert_rows(sheet, [SheetRow("1", "11.2")], now=T1)
    holder = os.open(sheet.with_name(f"{sheet.name}.lock"), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    raised: list[BaseException] = []

    def write() -> None:
        try:
            upsert_rows(sheet, [SheetRow("2", "11.2")], now=T2)
        except BaseException as exc:
            raised.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    try:
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "still waiting for the lock"
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
        writer.join(timeout=10)
    assert len(raised) == 1
    assert isinstance(raised[0], TrackingSheetError)
    assert f"{sheet.name}.lock" in str(raised[0])
    assert "0.3" in str(raised[0])
    assert _keys(sheet) == [("1", "11.2")]  # nothing written
